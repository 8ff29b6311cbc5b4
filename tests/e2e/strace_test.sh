#!/usr/bin/env bash
# `sentry run --strace -- /bin/true` must exit 0 and trace at least execve and
# exit_group on stderr.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python (what setup.sh installs) starts fastest; any python3 >= 3.8 works.
python=/usr/bin/python3
[[ -x $python ]] || python=python3
sentry=${1:?usage: strace_test.sh SENTRY_BINARY}
work=$(mktemp -d "${TMPDIR:-/tmp}/strace_test.XXXXXX")
trap 'rm -rf "$work"' EXIT

status=$("$python" "$here/run_status.py" 20 "$work/out" "$work/err" -- "$sentry" run --strace -- /bin/true)
failed=0
if [[ $status != "exit 0" ]]; then
    echo "FAIL: status '$status', expected 'exit 0'"
    failed=1
fi
for name in execve exit_group; do
    if ! grep -q "$name" "$work/err"; then
        echo "FAIL: no '$name' in the --strace output"
        failed=1
    fi
done
if [[ $failed -ne 0 ]]; then
    echo "--- stdout:"; head -n 50 "$work/out"
    echo "--- stderr (first 100 lines):"; head -n 100 "$work/err"
    exit 1
fi
echo "PASS: exit 0, execve and exit_group traced"
