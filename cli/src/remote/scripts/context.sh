# What `runcode context` shows: run in the project folder $1 (the home
# folder when that is gone), it prints `key=value` lines and gives each
# tool /dev/null as stdin so nothing waits for input.
# Each value is one line of at most 1024 bytes: a newline inside one (a
# crafted git remote, say) can never start a line of its own.
kv() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n\r' '  ' | head -c 1024)"; }
cd "$1" 2>/dev/null || cd
kv cwd "$(pwd)"
kv os "$(uname -s)"
kv arch "$(uname -m)"
kv kernel "$(uname -r)"
if [ -r /etc/os-release ]; then kv distro "$(. /etc/os-release; echo "${PRETTY_NAME:-$NAME}")"; fi
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1 </dev/null; then
  kv git.branch "$(git rev-parse --abbrev-ref HEAD 2>/dev/null </dev/null)"
  if [ -n "$(git status --porcelain 2>/dev/null </dev/null | head -n 1)" ]; then kv git.dirty yes; else kv git.dirty no; fi
  kv git.remote "$(git remote get-url origin 2>/dev/null </dev/null)"
  kv git.head "$(git log -1 --format='%h %s' 2>/dev/null </dev/null)"
fi
for f in package.json pyproject.toml requirements.txt go.mod Cargo.toml pom.xml build.gradle Gemfile composer.json Makefile Dockerfile docker-compose.yml; do [ -e "$f" ] && kv marker "$f"; done
for t in python3 node go rustc java ruby docker git pnpm npm make; do
  command -v "$t" >/dev/null 2>&1 || continue
  case $t in
    go) v=$(go version </dev/null 2>&1) ;;
    java) v=$(java -version </dev/null 2>&1) ;;
    *) v=$("$t" --version </dev/null 2>&1) ;;
  esac
  kv "tool.$t" "$(printf '%s\n' "$v" | head -n 1)"
done
kv disk "$(df -hP . 2>/dev/null | awk 'NR==2 {print $4 " free of " $2}')"
