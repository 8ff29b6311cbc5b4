#!/usr/bin/env bash
# Checks that difftest.sh passes what must pass and fails what must fail, using
# fake_sentry.sh instead of the sentry, so that a broken harness can't hide a broken
# sentry (or report one that isn't).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0

# expect WANT_STATUS MODE COMMAND...
expect() {
    local want=$1 mode=$2
    shift 2
    local fake=$work/fake-$mode
    printf '#!/bin/sh\nexec bash %q %q "$@"\n' "$here/fake_sentry.sh" "$mode" >"$fake"
    chmod +x "$fake"
    bash "$here/difftest.sh" --timeout "${timeout:-10}" "$fake" -- "$@" >"$work/log" 2>&1
    local got=$?
    if [[ $got -ne $want ]]; then
        echo "selftest: mode=$mode command=$* : difftest exited $got, expected $want"
        sed 's/^/    | /' "$work/log"
        failures=$((failures + 1))
    else
        echo "ok: mode=$mode $* -> $got"
    fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT

expect 0 exact /bin/true
expect 0 exact /bin/false
expect 0 exact /bin/sh -c 'echo out; echo err >&2; exit 42'
expect 0 exact /bin/sh -c 'kill -9 $$'      # killed by 9 natively == exit 137
expect 0 exact /bin/sh -c 'exit 137'        # (bash can't tell these apart either)
expect 0 noise /bin/sh -c 'echo err >&2'    # the temporary unsupported-syscall filter
expect 1 extra /bin/true
expect 1 exitcode /bin/false
expect 1 crash /bin/true                    # a sentry killed by a signal never matches
expect 1 crash /bin/sh -c 'kill -SEGV $$'   # ... not even a guest killed by that signal
timeout=1 expect 2 exact /bin/sleep 30      # the native run timing out is a wrong test

if [[ $failures -ne 0 ]]; then
    echo "selftest: $failures case(s) wrong"
    exit 1
fi
echo "selftest: all cases right"
