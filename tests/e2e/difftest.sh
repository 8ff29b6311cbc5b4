#!/usr/bin/env bash
# Differential test: Linux is the oracle.
#
#   difftest.sh [--timeout SECONDS] SENTRY_BINARY -- COMMAND [ARGS...]
#
# Runs COMMAND natively, then as `SENTRY_BINARY run -- COMMAND [ARGS...]`, each from the
# same working directory and environment, with stdin from /dev/null, default signal
# dispositions and a time limit (default 20 s each). The test passes (exit 0) when
# stdout, stderr and the exit status are identical; otherwise it prints a unified diff
# of what differs and exits 1. Exit 2 is a usage error or a wrong test (the native run
# itself timed out).
#
# Two rules make "identical" precise:
#   * Exit status: a command killed by signal N natively must make the sentry *exit*
#     with status 128+N (that is the sentry's contract, see README.md). A sentry that is
#     itself killed by a signal has crashed, and never matches anything.
#   * TEMPORARY: lines that begin with "sentry: unsupported syscall" are removed from the
#     sentry's stderr before comparing (they are listed as a note instead). The sentry
#     prints one for each syscall it does not implement yet. This filter hides nothing
#     else, and it should be deleted once the syscall table is complete; a guest whose
#     output changes because a call returned ENOSYS still fails on that output.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python (what setup.sh installs) starts fastest; any python3 >= 3.8 works.
python=/usr/bin/python3
[[ -x $python ]] || python=python3
timeout=20
max_diff_lines=200

usage() {
    echo "usage: $0 [--timeout SECONDS] SENTRY_BINARY -- COMMAND [ARGS...]" >&2
    exit 2
}

while [[ $# -gt 0 && $1 == --* && $1 != -- ]]; do
    case $1 in
    --timeout) timeout=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done
[[ $# -ge 3 && $2 == -- ]] || usage
sentry=$1
shift 2

work=$(mktemp -d "${TMPDIR:-/tmp}/difftest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# runs NAME COMMAND...: fills $work/NAME.{out,err,status}
run() {
    local name=$1
    shift
    "$python" "$here/run_status.py" "$timeout" "$work/$name.out" "$work/$name.err" -- "$@" \
        >"$work/$name.status"
}

run native "$@"
run sentry "$sentry" run -- "$@"

unsupported_re='^sentry: unsupported syscall'
grep -E "$unsupported_re" "$work/sentry.err" >"$work/unsupported" || true
grep -vE "$unsupported_re" "$work/sentry.err" >"$work/sentry.err.filtered" || true

native_status=$(<"$work/native.status")
sentry_status=$(<"$work/sentry.status")

printf 'command:'
printf ' %q' "$@"
printf '\nnative:  %s\nsentry:  %s\n' "$native_status" "$sentry_status"

if [[ -s $work/unsupported ]]; then
    echo "note: the sentry reported unsupported syscalls (filtered out of stderr):"
    sed 's/^/    /' "$work/unsupported"
fi

if [[ $native_status == timeout ]]; then
    echo "FAIL: the native run timed out after ${timeout}s: the test itself is wrong"
    exit 2
fi

# What the sentry must report for this native ending.
expected=$native_status
if [[ $native_status == signal\ * ]]; then
    expected="exit $((128 + ${native_status#signal }))"
fi

failed=0
show_diff() { # show_diff WHAT NATIVE_FILE SENTRY_FILE
    if ! cmp -s "$2" "$3"; then
        failed=1
        echo "--- $1 differs (native vs sentry):"
        diff -a -u --label "native/$1" --label "sentry/$1" "$2" "$3" | head -n "$max_diff_lines"
    fi
}

show_diff stdout "$work/native.out" "$work/sentry.out"
show_diff stderr "$work/native.err" "$work/sentry.err.filtered"

if [[ $sentry_status != "$expected" ]]; then
    failed=1
    case $sentry_status in
    timeout) echo "--- status: the sentry run timed out after ${timeout}s; expected '$expected'" ;;
    signal\ *) echo "--- status: the sentry itself was killed by signal ${sentry_status#signal } (crash); expected '$expected'" ;;
    *) echo "--- status: sentry '$sentry_status', expected '$expected'" ;;
    esac
fi

if [[ $failed -ne 0 ]]; then
    echo "FAIL"
    exit 1
fi
echo "PASS"
exit 0
