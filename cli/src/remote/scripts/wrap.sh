# A recorded run (remote/runs.rs). $1 is the run id, $2 the command line
# (its first line, cut at 200 bytes, is kept as `cmd`, and the start time
# as `started`, for `runcode runs`),
# which runs in the user's own shell as ssh would run it; its output goes
# to the run's files and on to ssh through `tee -p`, which keeps writing
# the files when the link is gone. $3... are finished runs whose client
# holds all their output: they, and runs that ended a day ago or more, are
# removed in the background afterwards.
id=$1
line=$2
shift 2
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
d=$b/$id
{ mkdir "$d" 2>/dev/null || { mkdir -p "$b" && mkdir "$d"; }; } &&
  echo $$ > "$d/pid" && mkfifo "$d/o" "$d/e" &&
  printf '%s\n' "$line" | head -n 1 | head -c 200 > "$d/cmd" && date +%s > "$d/started" || {
  echo "runcode: cannot record run $id in $b on the workspace (run with --no-resume to go without)" >&2
  exit 125
}
tee -p "$d/out" < "$d/o" &
tee -p "$d/err" < "$d/e" >&2 &
"${SHELL:-/bin/sh}" -c "$line" > "$d/o" 2> "$d/e"
s=$?
wait
echo $s > "$d/status"
if [ $# -gt 0 ]; then
  (
    # One rm for them all; a name that is not a plain run id is dropped.
    for a in "$@"; do
      shift
      case $a in '' | *[!0-9-]*) continue ;; esac
      set -- "$@" "$b/$a"
    done
    rm -rf "$@"
    find "$b" -mindepth 2 -maxdepth 2 \( -name status -o -name void \) -mmin +1440 2>/dev/null |
      while read -r f; do rm -rf "${f%/*}"; done
  ) < /dev/null > /dev/null 2>&1 &
fi
exit $s
