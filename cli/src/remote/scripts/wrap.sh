# A recorded run (remote/runs.rs). $1 is the run id, $2 the command line
# (its first line, cut at 200 bytes, is kept as `cmd`, and the start time
# as `started`, for `runcode runs`), which runs in the user's own shell as
# ssh would run it; $3, when not empty, is the seconds after which
# `timeout` ends it (status 124, and a `timedout` mark). $4... are finished
# runs whose client holds all their output: they, and runs that ended a
# day ago or more, are removed in the background afterwards.
#
# Each stream goes on to ssh through `tee -p`, which keeps writing the
# record when the link is gone, and into the record through `split`: pieces
# of 8 MiB, `out.000000`, `out.000001`... (`err.` likewise); starting a
# piece removes the one eight before it, so a stream keeps its last 56 to
# 64 MiB and a command that prints without end cannot fill the disk.
#
# With RUNCODE_SECRETS=1 in its environment, stdin starts with the
# secrets the command is given: a line `NAME=<base64 of the value>` each,
# then a line `.`. They are read before anything else, one byte at a time
# (`read` on a pipe takes no more than its line), decoded by a builtin
# `printf` into `base64 -d`'s stdin (no value in any argv), and exported;
# the command then reads the rest of stdin.
if [ "${RUNCODE_SECRETS:-}" = 1 ]; then
  unset RUNCODE_SECRETS
  while IFS= read -r l && [ "$l" != . ]; do
    n=${l%%=*}
    case $n in '' | [0-9]* | *[!A-Za-z0-9_]*)
      echo "runcode: a secret's name is not a variable name" >&2
      exit 125
      ;;
    esac
    v=$(printf '%s' "${l#*=}" | base64 -d && echo x)
    case $v in *x) ;; *)
      echo "runcode: the secret $n could not be read" >&2
      exit 125
      ;;
    esac
    export "$n=${v%x}"
  done
  unset l n v
fi
id=$1
line=$2
t=$3
shift 3
b=${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs
d=$b/$id
{ mkdir "$d" 2>/dev/null || { mkdir -p "$b" && mkdir "$d"; }; } &&
  echo $$ > "$d/pid" && mkfifo "$d/o" "$d/e" "$d/O" "$d/E" &&
  printf '%s\n' "$line" | head -n 1 | head -c 200 > "$d/cmd" && date +%s > "$d/started" || {
  echo "runcode: cannot record run $id in $b on the workspace (run with --no-resume to go without)" >&2
  exit 125
}
k='n=$(expr "${FILE##*.}" + 0); [ "$n" -lt 8 ] || rm -f "${FILE%.*}.$(printf %06d $((n - 8)))"; exec cat > "$FILE"'
SHELL=/bin/sh split -b 8388608 -d -a 6 --filter="$k" - "$d/out." < "$d/O" &
SHELL=/bin/sh split -b 8388608 -d -a 6 --filter="$k" - "$d/err." < "$d/E" &
tee -p "$d/O" < "$d/o" &
tee -p "$d/E" < "$d/e" >&2 &
if [ -n "$t" ]; then
  timeout -k 10 "$t" "${SHELL:-/bin/sh}" -c "$line" > "$d/o" 2> "$d/e"
  s=$?
  [ $s -ne 124 ] || : > "$d/timedout"
else
  "${SHELL:-/bin/sh}" -c "$line" > "$d/o" 2> "$d/e"
  s=$?
fi
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
