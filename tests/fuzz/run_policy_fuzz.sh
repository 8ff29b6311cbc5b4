#!/usr/bin/env bash
# Builds the policy parser's libFuzzer target with clang and runs it.
#   run_policy_fuzz.sh SECONDS [BUILD_DIR]
# Seeds: configs/*.json and tests/policy/bad/*.json (read only; what the fuzzer finds
# goes to BUILD_DIR/corpus). Exits non-zero on a crash, a leak, a sanitizer report or a
# broken invariant; the input that did it is left in BUILD_DIR/ as crash-*/leak-*/...
# The build is redone only when a source is newer than the binary.
set -euo pipefail
seconds=${1:?usage: run_policy_fuzz.sh SECONDS [BUILD_DIR]}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${2:-${TMPDIR:-/tmp}/sentry-policy-fuzz}
clangxx=${CLANGXX:-clang++}
mkdir -p "$build/corpus"

sources=("$root/tests/fuzz/policy_fuzz.cpp" "$root/sentry/policy/policy.cpp")
binary=$build/policy_fuzz
rebuild=0
[[ -x $binary ]] || rebuild=1
for s in "${sources[@]}" "$root/sentry/policy/policy.h"; do
    [[ $s -nt $binary ]] && rebuild=1
done
if [[ $rebuild -eq 1 ]]; then
    echo "run_policy_fuzz.sh: building $binary"
    "$clangxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I"$root" "${sources[@]}" -lseccomp -o "$binary"
fi

# -timeout: no single input may take a second; -rss_limit_mb: nor eat the machine.
cd "$build"
"$binary" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -max_len=16384 \
    -dict="$root/tests/fuzz/policy.dict" -artifact_prefix="$build/" -print_final_stats=1 \
    "$build/corpus" "$root/configs" "$root/tests/policy/bad"
echo "run_policy_fuzz.sh: no crash in $seconds s"
