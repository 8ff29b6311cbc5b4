#!/usr/bin/env bash
# The cost of one emulated syscall under the sentry, against the bare PTRACE_SYSEMU
# stop measured in the same run (../shared/bench/floor/sysemu_floor.c).
#
#   bench/syscall_cost.sh [-r ROUNDS] [-n CALLS]
#
#   -r ROUNDS  rounds of the four measurements (default 5); medians are reported
#   -n CALLS   getppid calls per measurement (default 20000)
#
# Environment: SENTRY (default build/sentry under the repository root),
#              SHARED_BENCH (default ../shared/bench next to the repository).
#
# Each round runs, in an order that rotates from round to round so that drift in the
# machine's speed spreads over all of them:
#   floor_sysemu          the tracer of sysemu_floor: one PTRACE_SYSEMU stop, GETREGS
#                         and SETREGS per getppid (the design's floor)
#   floor_sysemu_samecpu  the same with tracer and tracee pinned to one CPU
#   native                workloads/getppid.c on the host
#   sentry                `$SENTRY run -- getppid N`
# and prints the medians and the ratio sentry / floor_sysemu (target: at most 1.3), both
# of the medians and per round (the round's sentry over the same round's floor).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SENTRY=${SENTRY:-$REPO/build/sentry}
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
ROUNDS=5
CALLS=20000
TARGET=1.3

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "r:n:h" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        n) CALLS=$OPTARG ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done

[[ -x $SENTRY ]] || { echo "syscall_cost: no sentry binary at $SENTRY (set SENTRY=)" >&2; exit 1; }
[[ -f $SHARED_BENCH/floor/sysemu_floor.c ]] || { echo "syscall_cost: no $SHARED_BENCH/floor/sysemu_floor.c" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/syscall_cost.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -o "$TMP/sysemu_floor" "$SHARED_BENCH/floor/sysemu_floor.c" || exit 1
gcc -O2 -o "$TMP/getppid" "$SHARED_BENCH/workloads/getppid.c" || exit 1

# One measurement: prints its ns per syscall (ns/stop for the floor), or fails.
measure() {
    local what=$1 out
    case $what in
        floor_sysemu | floor_sysemu_samecpu)
            out=$("$TMP/sysemu_floor" "$CALLS" "${what#floor_}" 2>"$TMP/err") || return 1
            # floor_<variant> <ns> ns/syscall n= stops= ns/stop=<x> ok=<0|1> secs=
            grep -q ' ok=1 ' <<<"$out" || return 1
            sed -n 's/.* ns\/stop=\([0-9.]*\) .*/\1/p' <<<"$out"
            ;;
        native)
            out=$("$TMP/getppid" "$CALLS" 2>"$TMP/err") || return 1
            awk '$1 == "getppid" && $3 == "ns/op" { print $2 }' <<<"$out"
            ;;
        sentry)
            out=$("$SENTRY" run -- "$TMP/getppid" "$CALLS" 2>"$TMP/err") || return 1
            awk '$1 == "getppid" && $3 == "ns/op" { print $2 }' <<<"$out"
            ;;
    esac
}

KINDS=(floor_sysemu floor_sysemu_samecpu native sentry)
declare -A SAMPLES ROUND
PAIRED=""
for ((r = 0; r < ROUNDS; r++)); do
    line="round $((r + 1))/$ROUNDS:"
    for ((k = 0; k < ${#KINDS[@]}; k++)); do
        what=${KINDS[$(((k + r) % ${#KINDS[@]}))]}
        if ! v=$(measure "$what") || [[ -z $v ]]; then
            echo "syscall_cost: $what failed:" >&2
            cat "$TMP/err" >&2
            exit 1
        fi
        SAMPLES[$what]+="$v "
        ROUND[$what]=$v
        line+=" $what=$v"
    done
    echo "$line" >&2
    # Paired per round: drift between rounds cancels out of these.
    PAIRED+="$(awk -v a="${ROUND[sentry]}" -v b="${ROUND[floor_sysemu]}" 'BEGIN { print a / b }') "
done

# The median, min and max of a list of numbers, printed with format $2 (default %.1f).
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v f="${2:-%.1f}" '
    { v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " " f " " f "\n", m, v[1], v[NR] }'; }

declare -A MED
echo
echo "One emulated getppid: $SENTRY, $CALLS calls x $ROUNDS rounds ($(nproc) CPUs, $(date -u +%F))"
echo
echo "| measurement | median ns/syscall | min | max |"
echo "|---|---:|---:|---:|"
for what in "${KINDS[@]}"; do
    read -r med lo hi < <(stats "${SAMPLES[$what]}")
    MED[$what]=$med
    echo "| $what | $med | $lo | $hi |"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
r_sysemu=$(ratio "${MED[sentry]}" "${MED[floor_sysemu]}")
r_same=$(ratio "${MED[sentry]}" "${MED[floor_sysemu_samecpu]}")
above=$(awk -v a="${MED[sentry]}" -v b="${MED[floor_sysemu]}" 'BEGIN { printf "%.0f", a - b }')
verdict=$(awk -v r="$r_sysemu" -v t="$TARGET" 'BEGIN { print (r <= t ? "within" : "above") }')
read -r r_paired r_plo r_phi < <(stats "$PAIRED" %.2f)
echo "sentry / floor_sysemu         = $r_sysemu  ($verdict the ${TARGET}x target)"
echo "  the same ratio per round     = median $r_paired, min $r_plo, max $r_phi"
echo "sentry / floor_sysemu_samecpu = $r_same"
echo "sentry - floor_sysemu         = $above ns of the sentry's own work per syscall"
