# The runs on the workspace, newest first: one `<id> <state> <status>`
# line each, where state is done, running or lost.
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
[ -d "$b" ] || exit 0
cd "$b" || exit 0
for d in $(ls -t); do
  [ -d "$d" ] && [ ! -e "$d/void" ] || continue
  if [ -s "$d/status" ]; then
    echo "$d done $(head -c 16 "$d/status")"
  elif kill -0 "$(head -c 16 "$d/pid" 2>/dev/null)" 2>/dev/null; then
    echo "$d running -"
  else
    echo "$d lost -"
  fi
done
