# Lines matching the extended regular expression $2 under $1, as
# `path:line:text`, binary files and .git skipped, at most $3 of them. $4
# non-empty ignores case; $5 non-empty keeps only file names matching that
# glob. No match is not an error; a path that is not there: exit 66.
p=$1
case $p in -*) p=./$p ;; esac
[ -e "$p" ] || { echo "no such file or directory: $1" >&2; exit 66; }
grep -rnIE --exclude-dir=.git ${4:+-i} ${5:+"--include=$5"} -e "$2" -- "$p" | head -n "$3"
exit 0
