# Stops run $1 (`runs --stop`, the MCP `run_stop`) with end.sh, whose text
# is $2, and prints `done <status>` once it has ended (143, as for SIGTERM,
# when its wrapper went with it), or `done <status> already` when it had
# ended before. No such run: exit 66.
d=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$1
[ -d "$d" ] && [ ! -e "$d/void" ] || exit 66
if [ -s "$d/status" ]; then
  echo "done $(head -c 16 "$d/status") already"
  exit 0
fi
sh -c "$2" sh "$1"
i=0
while [ ! -s "$d/status" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -s "$d/status" ] || echo 143 > "$d/status"
echo "done $(head -c 16 "$d/status")"
