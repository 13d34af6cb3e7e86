# Writes stdin to $1 (to $1/$2 when $1 is a folder and $2 is given)
# through a temporary file, then prints the final path. A folder is never
# replaced by the file unless $5 is given: exit 4. A stream shorter than $3 bytes (the
# client died half way) is refused instead of renamed into place. With $4,
# the POSIX `cksum` line of what the file held when it was read, the
# temporary file starts as a copy of the file (`cp -p` keeps its mode and
# owner) and the rename happens only while the file still holds exactly
# that: else exit 3.
d=$1
if [ -d "$d" ] && [ -n "$2" ]; then d=$d/$2; fi
if [ -d "$d" ] && [ -z "$5" ]; then
  exit 4
fi
mkdir -p -- "$(dirname -- "$d")" || exit 1
t=$d.runcode-tmp.$$
trap 'rm -f -- "$t"' EXIT HUP INT TERM
if [ -n "$4" ]; then cp -p -- "$d" "$t" || exit 1; fi
cat > "$t" || exit 1
[ "$(wc -c < "$t" | tr -d ' ')" = "$3" ] || exit 1
if [ -n "$4" ]; then [ "$(cksum < "$d")" = "$4" ] || exit 3; fi
if [ -d "$d" ]; then rm -rf -- "$d" || exit 1; fi
mv -f -- "$t" "$d" || exit 1
trap - EXIT
printf '%s' "$d"
