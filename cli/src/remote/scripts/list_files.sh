# The paths under $1 down to $2 levels, folders ending in `/`, .git and
# node_modules not entered, sorted, at most $3. A path that is not there:
# exit 66.
p=$1
case $p in -*) p=./$p ;; esac
[ -e "$p" ] || { echo "no such file or directory: $1" >&2; exit 66; }
{
  find "$p" -mindepth 1 -maxdepth "$2" \( -name .git -o -name node_modules \) -prune -o -type d -print | sed 's|$|/|'
  find "$p" -mindepth 1 -maxdepth "$2" \( -name .git -o -name node_modules \) -prune -o ! -type d -print
} | LC_ALL=C sort | head -n "$3"
