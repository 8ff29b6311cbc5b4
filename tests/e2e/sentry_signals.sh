#!/usr/bin/env bash
# SIGINT/SIGTERM to the sentry end every guest process and the sentry exits with
# 128+N; killing the sentry with SIGKILL leaves no guest behind (PTRACE_O_EXITKILL).
#
#   sentry_signals.sh SENTRY_BINARY
set -uo pipefail
sentry=${1:?usage: $0 SENTRY_BINARY}
tag="sentry-signals-test-$$"
fail=0

# A guest with two processes that would sleep forever; $tag marks them for pgrep.
start() {
    "$sentry" run -- /bin/sh -c "sleep 1000 & exec sleep 1001 # $tag" </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        [[ $(pgrep -fc "$tag") -ge 2 ]] && break
        sleep 0.1
    done
}

leftovers() { pgrep -f "$tag" | grep -vx "$$" | wc -l; }

for sig in INT TERM; do
    start
    kill -s "$sig" "$pid"
    wait "$pid"
    status=$?
    want=$((128 + $(kill -l "$sig")))
    if [[ $status -ne $want ]]; then
        echo "FAIL: SIG$sig: sentry exited $status, want $want"
        fail=1
    fi
    sleep 0.2
    if [[ $(leftovers) -ne 0 ]]; then
        echo "FAIL: SIG$sig: guest processes outlived the sentry:"; pgrep -af "$tag"
        pkill -9 -f "$tag"
        fail=1
    fi
done

start
kill -9 "$pid"
wait "$pid" 2>/dev/null
sleep 0.3
if [[ $(leftovers) -ne 0 ]]; then
    echo "FAIL: SIGKILL: guest processes outlived the sentry:"; pgrep -af "$tag"
    pkill -9 -f "$tag"
    fail=1
fi
[[ $fail -eq 0 ]] && echo "ok: SIGINT -> 130, SIGTERM -> 143, no guest outlives the sentry"
exit $fail
