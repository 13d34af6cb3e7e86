# Unpacks the tar stream on stdin (one folder, `tree`) as $1 (as $1/$2
# when $1 is a folder), replacing what was there only once the whole tree
# has arrived, then prints the final path. A file is never replaced by the
# folder unless $3 is given: exit 4.
d=$1
if [ -d "$d" ]; then d=$d/$2; fi
if [ -e "$d" ] && [ ! -d "$d" ] && [ -z "$3" ]; then
  exit 4
fi
mkdir -p -- "$(dirname -- "$d")" || exit 1
t=$d.runcode-tmp.$$
mkdir -- "$t" || exit 1
trap 'rm -rf -- "$t"' EXIT HUP INT TERM
tar -xof - -C "$t" || exit 1
rm -rf -- "$d" && mv -- "$t/tree" "$d" || exit 1
printf '%s' "$d"
