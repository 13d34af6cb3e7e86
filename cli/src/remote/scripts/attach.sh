# Continues run $1's stdout from byte $2 and its stderr from byte $3 (the
# first byte is 1, as for tail), following both until the run ends, or for
# $4 seconds at most when $4 is given (`attach --wait`).
d=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$1
[ -d "$d" ] || exit 0
i=0
while [ ! -s "$d/pid" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
if [ -s "$d/status" ]; then
  tail -c "+$2" "$d/out" &
  tail -c "+$3" "$d/err" >&2 &
else
  p=$(head -c 16 "$d/pid")
  t=
  if [ -n "$4" ]; then t="timeout $4"; fi
  $t tail -c "+$2" -f -s 0.2 --pid="$p" "$d/out" &
  $t tail -c "+$3" -f -s 0.2 --pid="$p" "$d/err" >&2 &
fi
wait
exit 0
