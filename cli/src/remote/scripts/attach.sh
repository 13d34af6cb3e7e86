# Sends run $1's stdout from byte $2 and its stderr from byte $3 (the first
# byte is 0), following both until the run ends, or for $4 seconds at most
# when $4 is given (`attach --wait`). Everything goes to stdout as frames
# that say where their bytes belong (remote/runs.rs reads them):
#   `o <offset> <length>` or `e <offset> <length>`, a newline, the bytes;
#   `x <status> <how>` once the run has ended (how: exit, timeout,
#   interrupted).
# A stream is kept as 8 MiB pieces (wrap.sh); bytes from pieces already
# removed are skipped, which the next frame's offset shows.
d=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$1
[ -d "$d" ] || exit 0
o=$2
e=$3
c=8388608
[ -z "$4" ] || until=$(($(date +%s) + $4))
i=0
while [ ! -s "$d/pid" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
p=$(head -c 16 "$d/pid")
# Sends stream $1 (file prefix) as frames of letter $2 from byte $at to its
# current end, leaving $at at that end.
send() {
  while :; do
    k=$((at / c))
    f=$d/$1.$(printf %06d $k)
    n=$(stat -c %s "$f" 2>/dev/null)
    if [ -z "$n" ]; then
      # Not there: not written yet, or removed (the first piece kept says).
      first=$(ls "$d" | sed -n "s/^$1\.\([0-9]\{6\}\)\$/\1/p" | head -n 1)
      [ -n "$first" ] || return 0
      first=$(expr "$first" + 0)
      [ "$first" -gt $k ] || return 0
      at=$((first * c))
      continue
    fi
    from=$((at - k * c))
    if [ "$n" -gt "$from" ]; then
      # The piece is opened once: removed meanwhile, it is still read whole.
      (exec 4< "$f" || exit 1
        printf '%s %s %s\n' "$2" "$at" $((n - from))
        tail -c "+$((from + 1))" <&4 | head -c $((n - from))) || return 0
      at=$((at + n - from))
    fi
    [ "$n" -ge $c ] || return 0
  done
}
while :; do
  ended=
  [ ! -s "$d/status" ] && kill -0 "$p" 2>/dev/null || ended=1
  at=$o
  send out o
  o=$at
  at=$e
  send err e
  e=$at
  if [ -n "$ended" ]; then
    s=$(head -c 16 "$d/status" 2>/dev/null)
    how=exit
    [ ! -e "$d/timedout" ] || how=timeout
    [ ! -e "$d/interrupted" ] || how=interrupted
    [ -z "$s" ] || printf 'x %s %s\n' "$s" "$how"
    exit 0
  fi
  [ -z "$4" ] || [ "$(date +%s)" -lt "$until" ] || exit 0
  sleep 0.2
done
