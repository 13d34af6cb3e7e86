# What the workspace knows of run $1, as one line: `unknown`, `running`,
# `lost` or `done <status>`. A run with no record gets one that says it
# never ran (`void`) in the same step, so a request for it still on its
# way (a link that came back) finds the record taken and never starts.
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
d=$b/$1
if mkdir -p "$b" && mkdir "$d" 2>/dev/null; then
  : > "$d/void"
  echo unknown
elif [ -e "$d/void" ]; then
  echo unknown
elif [ -s "$d/status" ]; then
  echo "done $(cat "$d/status")"
elif [ ! -s "$d/pid" ] || kill -0 "$(cat "$d/pid")" 2>/dev/null; then
  echo running
else
  echo lost
fi
