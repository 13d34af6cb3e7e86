# Sends $1: a folder as `D` and a tar stream of its contents, a file as
# `F<size>` and a newline, then its bytes. Anything else: exit 2.
d=$1
if [ -d "$d" ]; then
  printf D
  cd -- "$d" && exec tar -cf - .
elif [ -r "$d" ] && [ ! -d "$d" ]; then
  printf 'F%s\n' "$(wc -c < "$d" | tr -d ' ')"
  exec cat -- "$d"
else
  # runcode says so itself: one message per failure.
  exit 2
fi
