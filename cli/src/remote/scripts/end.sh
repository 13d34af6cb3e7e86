# Ends run $1 on the workspace: the shell that ran its command line (it
# names the run id; sshd made it a process group leader, so its group goes
# too) and every process whose environment carries the run id. Twice, a
# second apart, so a process started during the first pass goes too.
m=RUNCODE_RUN_ID=$1
# Its record says it was interrupted, before its status says anything
# (`touch`, not a redirection: a failed one would end this script).
touch "${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$1/interrupted" 2>/dev/null
end() {
  p=$({
    grep -lzxF -- "$m" /proc/[0-9]*/environ
    grep -lF -- "$m;" /proc/[0-9]*/cmdline
  } 2>/dev/null | cut -d/ -f3 | grep -vx "$$")
  for i in $p; do
    kill -"$1" "-$i" 2>/dev/null
    kill -"$1" "$i" 2>/dev/null
  done
}
end TERM
sleep 1
end KILL
exit 0
