#!/usr/bin/env bash
# Issue 6: 10,000 TCP and 10,000 unix connections opened and closed (guest
# net_many) leave nothing behind in the sentry: once the guest is gone, no unix
# socket is alive and the only inet endpoints left are TIME_WAIT entries of the
# connections the guest closed first (at most one per connection; they expire
# after 60 s). The sentry reports its live objects at exit with SENTRY_STATS.
#
#   net_leaks.sh SENTRY GUEST
set -u -o pipefail
SENTRY=$1
GUEST=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if ! SENTRY_STATS=1 timeout 120 "$SENTRY" run -- "$GUEST" > /dev/null 2> "$err"; then
    echo "FAIL: the guest failed under the sentry:"; cat "$err"; exit 1
fi
line=$(grep 'sentry: stats:' "$err") || { echo "FAIL: no stats line"; cat "$err"; exit 1; }
echo "$line"
unix=$(sed -n 's/.*unix_sockets=\([0-9]*\).*/\1/p' <<< "$line")
inet=$(sed -n 's/.*inet_endpoints=\([0-9]*\).*/\1/p' <<< "$line")
if [ "$unix" != 0 ]; then
    echo "FAIL: $unix unix sockets still alive after the guest exited"; exit 1
fi
if [ -z "$inet" ] || [ "$inet" -gt 10000 ]; then
    echo "FAIL: $inet inet endpoints alive after the guest exited (10,000 TIME_WAIT entries at most)"; exit 1
fi
echo "PASS: no unix socket left, $inet inet endpoints (TIME_WAIT) left"
