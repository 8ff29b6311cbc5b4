#!/usr/bin/env bash
# Signal round trip under the sentry: kill(getpid(), SIGUSR1) to an SA_SIGINFO
# handler that returns (../shared/bench/workloads/signal_kill.c, which checks the
# siginfo itself). Reports the rate against native in the same run, and the number
# of ptrace stops per delivered signal (SENTRY_STATS counters, measured as the
# difference between two runs so that start-up does not count). Target: <= 3 stops.
#
#   bench/signal_cost.sh [N]        (default N = 4000)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sentry=${SENTRY:-$root/build/sentry}
shared=${SHARED_BENCH:-$root/../shared/bench}
n=${1:-4000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -I"$shared/workloads" -o "$tmp/signal_kill" "$shared/workloads/signal_kill.c"

rate() { awk '{print $2}' <<<"$1"; }
stat_of() { sed -n 's/.*stops=\([0-9]*\).*signals=\([0-9]*\).*/\1 \2/p' <<<"$1"; }

native=$("$tmp/signal_kill" "$n")
small=$(SENTRY_STATS=1 "$sentry" run -- "$tmp/signal_kill" $((n / 2)) 2>&1)
full=$(SENTRY_STATS=1 "$sentry" run -- "$tmp/signal_kill" "$n" 2>&1)
read -r stops_small sig_small < <(stat_of "$small")
read -r stops_full sig_full < <(stat_of "$full")
per_signal=$(awk -v a="$stops_full" -v b="$stops_small" -v x="$sig_full" -v y="$sig_small" 'BEGIN{printf "%.2f", (a-b)/(x-y)}')
native_rate=$(rate "$native")
sentry_rate=$(rate "$(grep '^signal_kill' <<<"$full")")
echo "signal round trip, n=$n"
echo "  native: $native_rate sig/s"
echo "  sentry: $sentry_rate sig/s  (slowdown $(awk -v a="$native_rate" -v b="$sentry_rate" 'BEGIN{printf "%.1f", a/b}')x)"
echo "  ptrace stops per delivered signal: $per_signal (target <= 3)"
