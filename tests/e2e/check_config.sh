#!/usr/bin/env bash
# `sentry check-config` on the shipped policies and on known-bad ones.
#   check_config.sh SENTRY CONFIGS_DIR BAD_DIR
# Every CONFIGS_DIR/*.json must print "FILE: ok" and exit 0. Every BAD_DIR/NAME.json must
# exit 2 and print on stderr exactly the line in BAD_DIR/NAME.expected (the file is
# named relative to BAD_DIR, so the line reads "NAME.json: $.path: reason").
set -uo pipefail
sentry=$(realpath "${1:?usage: check_config.sh SENTRY CONFIGS_DIR BAD_DIR}")
configs=${2:?usage: check_config.sh SENTRY CONFIGS_DIR BAD_DIR}
bad=${3:?usage: check_config.sh SENTRY CONFIGS_DIR BAD_DIR}
failed=0
checked=0

fail() {
    echo "FAIL: $*"
    failed=1
}

for f in "$configs"/*.json; do
    out=$("$sentry" check-config "$f" 2>&1)
    status=$?
    checked=$((checked + 1))
    [[ $status -eq 0 && $out == "$f: ok" ]] || fail "$f: exit $status, output: $out"
done

cd "$bad" || exit 1
for f in *.json; do
    expected_file=${f%.json}.expected
    if [[ ! -f $expected_file ]]; then
        fail "$f has no $expected_file"
        continue
    fi
    err=$("$sentry" check-config "$f" 2>&1 >/dev/null)
    status=$?
    checked=$((checked + 1))
    [[ $status -eq 2 ]] || fail "$f: exit $status, expected 2"
    [[ $err == "$(cat "$expected_file")" ]] || fail "$f: got      '$err'
      expected '$(cat "$expected_file")'"
done

# A file that cannot be read is refused the same way.
err=$("$sentry" check-config does-not-exist.json 2>&1 >/dev/null)
status=$?
checked=$((checked + 1))
[[ $status -eq 2 && $err == "does-not-exist.json: No such file or directory" ]] ||
    fail "missing file: exit $status, stderr '$err'"

if [[ $checked -lt 4 ]]; then
    fail "only $checked files checked: wrong directories?"
fi
[[ $failed -eq 0 ]] && echo "PASS: $checked policy files give the expected verdict"
exit $failed
