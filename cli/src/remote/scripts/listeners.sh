# The workspace's TCP listener tables, for `forward --auto`.
cat /proc/net/tcp /proc/net/tcp6 2>/dev/null
