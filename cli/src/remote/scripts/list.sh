# The runs on the workspace, newest first: one line each, its fields
# apart by tabs: id, state (done, running, lost, interrupted or timeout), status
# (or -), start time (epoch seconds, or -) and the command's first line.
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
[ -d "$b" ] || exit 0
cd "$b" || exit 0
for d in $(ls -t); do
  [ -d "$d" ] && [ ! -e "$d/void" ] || continue
  started=$(head -c 16 "$d/started" 2>/dev/null)
  cmd=$(head -c 200 "$d/cmd" 2>/dev/null | tr '\t\n' '  ')
  if [ -e "$d/interrupted" ]; then
    state="interrupted $(head -c 16 "$d/status" 2>/dev/null)"
  elif [ -e "$d/timedout" ]; then
    state="timeout $(head -c 16 "$d/status" 2>/dev/null)"
  elif [ -s "$d/status" ]; then
    state="done $(head -c 16 "$d/status")"
  elif kill -0 "$(head -c 16 "$d/pid" 2>/dev/null)" 2>/dev/null; then
    state="running -"
  else
    state="lost -"
  fi
  set -- $state
  printf '%s\t%s\t%s\t%s\t%s\n' "$d" "$1" "${2:--}" "${started:--}" "$cmd"
done
