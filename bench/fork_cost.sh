#!/usr/bin/env bash
# The cost of making a process under the sentry against native, measured in the
# same run: fork + _exit + waitpid, and fork + execve(/bin/true) + waitpid
# (bench/fork_cost.c).
#
#   bench/fork_cost.sh [-r ROUNDS] [-n FORKS] [-e EXECS] [SENTRY]
#
#   SENTRY     the sentry binary (default: $SENTRY, else build/sentry under the
#              repository root)
#   -r ROUNDS  rounds of the four measurements (default 3); medians are reported
#   -n FORKS   fork + _exit operations per measurement (default 300)
#   -e EXECS   fork + execve operations per measurement (default 100)
#
# Each round runs native and sentry for both operations, in an order that rotates
# from round to round so that drift in the machine's speed spreads over all of
# them, and prints the medians in microseconds per operation and the ratio
# sentry / native (of the medians and per round). The guest's own timing of its
# loop is used, so the sentry's start-up is not included.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=3
FORKS=300
EXECS=100

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "r:n:e:h" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        n) FORKS=$OPTARG ;;
        e) EXECS=$OPTARG ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
SENTRY=${1:-${SENTRY:-$REPO/build/sentry}}

[[ -x $SENTRY ]] || { echo "fork_cost: no sentry binary at $SENTRY" >&2; exit 1; }
[[ -x /bin/true ]] || { echo "fork_cost: no /bin/true" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fork_cost.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -o "$TMP/fork_cost" "$HERE/fork_cost.c" || exit 1

# One measurement: prints its microseconds per operation, or fails.
measure() {
    local what=$1 mode n out
    case $what in
        *_exit) mode=exit n=$FORKS ;;
        *_exec) mode=exec n=$EXECS ;;
    esac
    case $what in
        native_*) out=$("$TMP/fork_cost" "$mode" "$n" 2>"$TMP/err") || return 1 ;;
        sentry_*) out=$("$SENTRY" run -- "$TMP/fork_cost" "$mode" "$n" 2>"$TMP/err") || return 1 ;;
    esac
    # fork_<mode> <us> us/op n= secs=
    awk -v m="fork_$mode" '$1 == m && $3 == "us/op" { print $2 }' <<<"$out"
}

KINDS=(native_exit sentry_exit native_exec sentry_exec)
declare -A SAMPLES ROUND
PAIRED_EXIT="" PAIRED_EXEC=""
for ((r = 0; r < ROUNDS; r++)); do
    line="round $((r + 1))/$ROUNDS:"
    for ((k = 0; k < ${#KINDS[@]}; k++)); do
        what=${KINDS[$(((k + r) % ${#KINDS[@]}))]}
        if ! v=$(measure "$what") || [[ -z $v ]]; then
            echo "fork_cost: $what failed:" >&2
            cat "$TMP/err" >&2
            exit 1
        fi
        SAMPLES[$what]+="$v "
        ROUND[$what]=$v
        line+=" $what=$v"
    done
    echo "$line" >&2
    PAIRED_EXIT+="$(awk -v a="${ROUND[sentry_exit]}" -v b="${ROUND[native_exit]}" 'BEGIN { print a / b }') "
    PAIRED_EXEC+="$(awk -v a="${ROUND[sentry_exec]}" -v b="${ROUND[native_exec]}" 'BEGIN { print a / b }') "
done

# The median, min and max of a list of numbers, printed with format $2 (default %.1f).
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v f="${2:-%.1f}" '
    { v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " " f " " f "\n", m, v[1], v[NR] }'; }

declare -A MED
echo
echo "Making a process: $SENTRY, $FORKS forks / $EXECS execs x $ROUNDS rounds ($(nproc) CPUs, $(date -u +%F))"
echo
echo "| measurement | median us/op | min | max |"
echo "|---|---:|---:|---:|"
for what in "${KINDS[@]}"; do
    read -r med lo hi < <(stats "${SAMPLES[$what]}")
    MED[$what]=$med
    echo "| $what | $med | $lo | $hi |"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
read -r p_exit p_exit_lo p_exit_hi < <(stats "$PAIRED_EXIT" %.2f)
read -r p_exec p_exec_lo p_exec_hi < <(stats "$PAIRED_EXEC" %.2f)
echo "fork+_exit+waitpid:  sentry / native = $(ratio "${MED[sentry_exit]}" "${MED[native_exit]}")  (per round: median $p_exit, min $p_exit_lo, max $p_exit_hi)"
echo "fork+execve+waitpid: sentry / native = $(ratio "${MED[sentry_exec]}" "${MED[native_exec]}")  (per round: median $p_exec, min $p_exec_lo, max $p_exec_hi)"
