# Starts a recorded run in the background and returns once it is recorded
# (`exec --detach`): $1 is the wrapper (wrap.sh's text), $2 the run id, $3
# the command line. The run reads nothing and writes only to its files;
# `runcode attach` follows it. Not recorded within 10 s: exit 125.
w=$1
shift
d=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$1
sh -c "$w" sh "$@" < /dev/null > /dev/null 2>&1 &
i=0
while [ ! -s "$d/pid" ] && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -s "$d/pid" ] || exit 125
