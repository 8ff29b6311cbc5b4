#!/usr/bin/env bash
# When the sandbox's pid 1 exits, every other guest process is killed, as in a pid
# namespace. Linux is the oracle: `unshare --pid --fork CMD` natively and
# `sentry run -- CMD`, where CMD leaves a background job that would write a file after
# 1 s and then exits. 2 s later the file must exist in neither run. A control run of
# CMD without a pid namespace must write it (so that the test can fail at all).
#
#   pid1_exit.sh SENTRY_BINARY
set -uo pipefail
sentry=${1:?usage: $0 SENTRY_BINARY}
work=$(mktemp -d "${TMPDIR:-/tmp}/pid1_exit.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/control" "$work/native" "$work/sentry"
# The background job outlives pid 1 unless something kills it.
cmd='(sleep 1; echo alive > "$DIR/f") & echo started; exit 0'
fail=0

DIR=$work/control /bin/sh -c "$cmd" >"$work/control.out" </dev/null
have_unshare=1
if ! unshare --pid --fork /bin/true 2>/dev/null; then
    # Without the privilege for a pid namespace the native side cannot run; the
    # sentry still has to honour the rule on its own.
    echo "note: unshare --pid is not permitted here; checking the sentry alone"
    have_unshare=0
fi
if [[ $have_unshare -eq 1 ]]; then
    DIR=$work/native timeout 20 unshare --pid --fork /bin/sh -c "$cmd" >"$work/native.out" </dev/null
    native_status=$?
fi
DIR=$work/sentry timeout 20 "$sentry" run -- /bin/sh -c "$cmd" >"$work/sentry.out" </dev/null
sentry_status=$?

sleep 2

if [[ ! -e $work/control/f ]]; then
    echo "FAIL: the control run (no pid namespace) did not write its file: the test itself is wrong"
    exit 2
fi
if [[ $have_unshare -eq 1 ]]; then
    if [[ -e $work/native/f ]]; then
        echo "FAIL: natively, the background job outlived pid 1: the test itself is wrong"
        exit 2
    fi
    if [[ $sentry_status -ne $native_status ]]; then
        echo "FAIL: exit status: sentry $sentry_status, native $native_status"
        fail=1
    fi
    if ! cmp -s "$work/native.out" "$work/sentry.out"; then
        echo "FAIL: stdout differs:"
        diff -u --label native --label sentry "$work/native.out" "$work/sentry.out"
        fail=1
    fi
elif [[ $sentry_status -ne 0 ]]; then
    echo "FAIL: the sentry exited $sentry_status, want 0"
    fail=1
fi
if [[ -e $work/sentry/f ]]; then
    echo "FAIL: under the sentry, the background job outlived pid 1"
    fail=1
fi
if [[ $fail -ne 0 ]]; then
    echo FAIL
    exit 1
fi
echo PASS
