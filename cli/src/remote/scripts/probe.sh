# What the workspace knows of run $1, as one line: `unknown` (no record:
# this probe has just made one that says it never ran, `void`, in the same
# step, so a request for it still on its way finds the record taken and
# never starts), `void` (an earlier probe's mark), `running`, `lost` or
# `done <status>`.
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
d=$b/$1
if mkdir -p "$b" && mkdir "$d" 2>/dev/null; then
  : > "$d/void"
  echo unknown
elif [ -e "$d/void" ]; then
  echo void
elif [ -s "$d/status" ]; then
  echo "done $(head -c 16 "$d/status")"
elif [ ! -s "$d/pid" ] || kill -0 "$(head -c 16 "$d/pid")" 2>/dev/null; then
  echo running
else
  echo lost
fi
