#!/usr/bin/env bash
# The cost of readiness and signal files under the sentry against native, measured
# in the same run (bench/epoll_cost.c): epoll_wait over 1000 pipes with one ready,
# and a signal sent to oneself and read back through a signalfd; getppid gives the
# cost of a bare emulated syscall for scale.
#
#   bench/epoll_cost.sh [-r ROUNDS] [-n CALLS] [-s SIGNALS] [-p PIPES] [SENTRY]
#
#   SENTRY      the sentry binary (default: $SENTRY, else build/sentry under the
#               repository root)
#   -r ROUNDS   rounds of the six measurements (default 3); medians are reported
#   -n CALLS    epoll_wait and getppid calls per measurement (default 20000)
#   -s SIGNALS  tgkill + signalfd read pairs per measurement (default 10000)
#   -p PIPES    pipes the epoll watches (default 1000)
#
# Each round runs native and sentry for the three workloads, in an order that
# rotates from round to round so that drift in the machine's speed spreads over all
# of them, and prints the medians in nanoseconds per operation, the ratio sentry /
# native (of the medians and per round), and what each operation costs the sentry
# above a bare emulated getppid. The guest's own timing of its loop is used, so the
# sentry's start-up and the setup of the pipes are not included.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=3
CALLS=20000
SIGNALS=10000
PIPES=1000

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "r:n:s:p:h" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        n) CALLS=$OPTARG ;;
        s) SIGNALS=$OPTARG ;;
        p) PIPES=$OPTARG ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
SENTRY=${1:-${SENTRY:-$REPO/build/sentry}}

[[ -x $SENTRY ]] || { echo "epoll_cost: no sentry binary at $SENTRY" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/epoll_cost.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -o "$TMP/epoll_cost" "$HERE/epoll_cost.c" || exit 1

# One measurement: prints its nanoseconds per operation, or fails.
measure() {
    local what=$1 mode args out
    mode=${what#*_}
    case $mode in
        epoll) args=(epoll "$CALLS" "$PIPES") ;;
        signalfd) args=(signalfd "$SIGNALS") ;;
        getppid) args=(getppid "$CALLS") ;;
    esac
    case $what in
        native_*) out=$("$TMP/epoll_cost" "${args[@]}" 2>"$TMP/err") || return 1 ;;
        sentry_*) out=$("$SENTRY" run -- "$TMP/epoll_cost" "${args[@]}" 2>"$TMP/err") || return 1 ;;
    esac
    # <mode> <ns> ns/op n= secs=
    awk -v m="$mode" '$1 == m && $3 == "ns/op" { print $2 }' <<<"$out"
}

KINDS=(native_epoll sentry_epoll native_signalfd sentry_signalfd native_getppid sentry_getppid)
WORKLOADS=(epoll signalfd getppid)
declare -A SAMPLES ROUND PAIRED
for ((r = 0; r < ROUNDS; r++)); do
    line="round $((r + 1))/$ROUNDS:"
    for ((k = 0; k < ${#KINDS[@]}; k++)); do
        what=${KINDS[$(((k + r) % ${#KINDS[@]}))]}
        if ! v=$(measure "$what") || [[ -z $v ]]; then
            echo "epoll_cost: $what failed:" >&2
            cat "$TMP/err" >&2
            exit 1
        fi
        SAMPLES[$what]+="$v "
        ROUND[$what]=$v
        line+=" $what=$v"
    done
    echo "$line" >&2
    for w in "${WORKLOADS[@]}"; do
        PAIRED[$w]+="$(awk -v a="${ROUND[sentry_$w]}" -v b="${ROUND[native_$w]}" 'BEGIN { print a / b }') "
    done
done

# The median, min and max of a list of numbers, printed with format $2 (default %.1f).
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v f="${2:-%.1f}" '
    { v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " " f " " f "\n", m, v[1], v[NR] }'; }

declare -A MED
echo
echo "Readiness and signal files: $SENTRY, $CALLS epoll_wait over $PIPES pipes, $SIGNALS signals x $ROUNDS rounds ($(nproc) CPUs, $(date -u +%F))"
echo
echo "| measurement | median ns/op | min | max |"
echo "|---|---:|---:|---:|"
for what in "${KINDS[@]}"; do
    read -r med lo hi < <(stats "${SAMPLES[$what]}")
    MED[$what]=$med
    echo "| $what | $med | $lo | $hi |"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
above() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN { printf "%.0f", a - k * b }'; }
label() {
    case $1 in
        epoll) echo "epoll_wait, 1 of $PIPES ready  " ;;
        signalfd) echo "tgkill + signalfd read      " ;;
        getppid) echo "getppid                     " ;;
    esac
}
for w in "${WORKLOADS[@]}"; do
    read -r p lo hi < <(stats "${PAIRED[$w]}" %.2f)
    echo "$(label "$w"): sentry / native = $(ratio "${MED[sentry_$w]}" "${MED[native_$w]}")  (per round: median $p, min $lo, max $hi)"
done
echo
# What the sentry adds to an operation beyond the syscall stops it costs anyway.
echo "sentry epoll_wait - sentry getppid          = $(above "${MED[sentry_epoll]}" "${MED[sentry_getppid]}" 1) ns"
echo "sentry (tgkill + read) - 2 x sentry getppid = $(above "${MED[sentry_signalfd]}" "${MED[sentry_getppid]}" 2) ns"
