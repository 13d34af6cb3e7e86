# Lines $2 to $3 of the file $1, numbered as `cat -n` numbers them, each
# cut at $4 characters; the file's line count last, on stderr. Not a
# regular file: exit 66.
f=$1
# A relative name gets `./`, so that neither a leading `-` nor a `name=`
# is read as an option or an awk assignment.
case $f in /*) ;; *) f=./$f ;; esac
if [ ! -f "$f" ]; then
  if [ -e "$f" ]; then echo "$1 is not a regular file" >&2; else echo "no such file: $1" >&2; fi
  exit 66
fi
awk -v s="$2" -v e="$3" -v cut="$4" '
  NR >= s && NR <= e {
    if (length($0) > cut) $0 = substr($0, 1, cut) " [line cut at " cut " characters]"
    printf "%6d\t%s\n", NR, $0
  }
  END { printf "%d\n", NR > "/dev/stderr" }' "$f"
