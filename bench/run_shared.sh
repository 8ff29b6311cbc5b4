#!/usr/bin/env bash
# Runs the shared side-by-side benchmark (../shared/bench/run.sh) on native, runsc
# (ptrace platform; only if runsc is installed) and this repository's sentry, and
# keeps the report and the raw figures in bench/results/<UTC time>/ (not committed).
#
#   bench/run_shared.sh [run.sh options...]      e.g. -r 5, -w 'getppid|pipe', -s 0.2
#
# Environment: SENTRY (default build/sentry under the repository root),
#              SHARED_BENCH (default ../shared/bench next to the repository),
#              BENCH_DIR (run.sh's build/output dir; default a fresh temporary one).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SENTRY=${SENTRY:-$REPO/build/sentry}
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}

[[ -x $SENTRY ]] || { echo "run_shared: no sentry binary at $SENTRY (set SENTRY=)" >&2; exit 1; }
[[ -x $SHARED_BENCH/run.sh ]] || { echo "run_shared: no $SHARED_BENCH/run.sh" >&2; exit 1; }
SENTRY=$(cd "$(dirname "$SENTRY")" && pwd)/$(basename "$SENTRY")

prefixes=(native)
# The first sandbox prefix is the yardstick of the ratio columns: runsc when present.
if command -v runsc >/dev/null; then
    prefixes+=("runsc=runsc --platform=ptrace --network=none do")
else
    echo "run_shared: runsc not installed; comparing native and sentry only" >&2
fi
prefixes+=("sentry=$SENTRY run --")

out=$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
if [[ -z ${BENCH_DIR:-} ]]; then
    BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sentry-bench.XXXXXX")
    trap 'rm -rf "$BENCH_DIR"' EXIT
fi
export BENCH_DIR

{
    echo "sentry: $SENTRY ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "args: $*"
} >"$out/meta.txt"
"$SHARED_BENCH/run.sh" -o "$out/report.md" "$@" "${prefixes[@]}"
status=$?
cp "$BENCH_DIR"/*.tsv "$out/" 2>/dev/null
cp -r "$BENCH_DIR/logs" "$out/" 2>/dev/null
echo "run_shared: report and raw figures in $out" >&2
exit $status
