#!/usr/bin/env bash
# RLIMIT_NPROC under the sentry (sentry-only: Linux exempts root from it, the
# sandbox does not; docs/design-notes.md).
#
#   forkbomb.sh SENTRY_BINARY FORKBOMB_GUEST
#
# 1. tests/guests/forkbomb.c: fork fails with EAGAIN at the limit (64), a thread is
#    refused, zombies count until reaped, fork works again afterwards. (Natively, as
#    an unprivileged user, it prints the same.)
# 2. A real shell fork bomb limited by `ulimit -u 100`, whose init lives on: the
#    sentry must end normally when the init does.
# 3. The same bomb stopped by timeout(1) while it rages: the sentry must end (124
#    from timeout) and leave no guest process behind.
# The sentry must never crash (a status of 128+N from the sentry itself, a core).
set -uo pipefail
sentry=${1:?usage: $0 SENTRY_BINARY FORKBOMB_GUEST}
guest=${2:?usage: $0 SENTRY_BINARY FORKBOMB_GUEST}
tag="sentry-forkbomb-test-$$"
fail=0

leftovers() { pgrep -f "$tag" | grep -vx "$$" | wc -l; }
check_leftovers() {
    sleep 0.3
    if [[ $(leftovers) -ne 0 ]]; then
        echo "FAIL: $1: guest processes outlived the sentry:"
        pgrep -af "$tag" | head
        pkill -9 -f "$tag"
        fail=1
    fi
}

want="EAGAIN after N<=64 forks: 1
a thread beyond the limit: EAGAIN: 1
zombies count until reaped: fork fails: 1
every child reaped: 1
fork works again after reaping: 1"
out=$(timeout 20 "$sentry" run -- "$guest" 2>&1)
status=$?
if [[ $status -ne 0 || $out != "$want" ]]; then
    echo "FAIL: forkbomb guest: status $status, output:"
    echo "$out"
    diff <(echo "$want") <(echo "$out")
    fail=1
fi

bomb='ulimit -u 100; b() { b | b & }; b; sleep '
# The init outlives the bomb for 5 s, then exits: its death ends every process.
timeout 20 "$sentry" run -- /bin/bash -c "${bomb}5" "$tag" </dev/null >/dev/null 2>&1
status=$?
if [[ $status -ne 0 ]]; then
    echo "FAIL: fork bomb with a living init: sentry exited $status, want 0"
    fail=1
fi
check_leftovers "fork bomb with a living init"

# Stopped from outside while the bomb is at its limit.
timeout 6 "$sentry" run -- /bin/bash -c "${bomb}100" "$tag" </dev/null >/dev/null 2>&1
status=$?
if [[ $status -ne 124 ]]; then
    echo "FAIL: fork bomb stopped by timeout: status $status, want 124"
    fail=1
fi
check_leftovers "fork bomb stopped by timeout"

[[ $fail -eq 0 ]] && echo "ok: RLIMIT_NPROC stops fork bombs; the sentry survives them and leaves nothing behind"
exit $fail
