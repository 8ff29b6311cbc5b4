#!/usr/bin/env bash
# The cost of the sandbox's own network under the sentry against native, and against
# gVisor's runsc (ptrace platform) when it is installed, measured in the same run
# (bench/net_cost.c): TCP throughput over 127.0.0.1 and unix stream throughput over a
# socketpair (a writer process and a reader process, 64 KiB writes), and the rate of
# TCP connect + accept + close on 127.0.0.1.
#
#   bench/net_cost.sh [-r ROUNDS] [-m MIB] [-c CONNS] [-R] [SENTRY]
#
#   SENTRY      the sentry binary (default: $SENTRY, else build/sentry under the
#               repository root)
#   -r ROUNDS   rounds of every measurement (default 3); medians are reported
#   -m MIB      MiB written per stream measurement (default 128)
#   -c CONNS    connections per tcp_connect measurement (default 2000)
#   -R          leave runsc out even when it is installed
#
# runsc runs as `runsc --platform=ptrace --network=none do CMD` (root only; Debian's
# package `runsc`). --network=none keeps gVisor's own loopback, so the TCP workloads
# run in its user-space netstack as they do in the sentry's. Each round runs every
# measurement in an order that rotates from round to round, so that drift in the
# machine's speed spreads over all of them, and the script prints the medians (MB/s,
# conn/s), each sandbox's slowdown against native (native / sandbox, of the medians
# and per round) and the sentry's against runsc. The guest's own timing of its loop
# is used, so start-up is not included.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=3
MIB=128
CONNS=2000
USE_RUNSC=1

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "r:m:c:Rh" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        m) MIB=$OPTARG ;;
        c) CONNS=$OPTARG ;;
        R) USE_RUNSC=0 ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
SENTRY=${1:-${SENTRY:-$REPO/build/sentry}}

[[ -x $SENTRY ]] || { echo "net_cost: no sentry binary at $SENTRY" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/net_cost.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -o "$TMP/net_cost" "$HERE/net_cost.c" || exit 1

RUNSC=(runsc --platform=ptrace --network=none do)
SANDBOXES=(native sentry)
if [[ $USE_RUNSC -eq 0 ]]; then
    runsc_note="left out (-R)"
elif ! command -v runsc >/dev/null; then
    runsc_note="not installed (apt-get install runsc)"
elif [[ $(id -u) -ne 0 ]]; then
    runsc_note="installed, but it needs root"
elif ! "${RUNSC[@]}" /bin/true >"$TMP/err" 2>&1; then
    runsc_note="installed, but \`${RUNSC[*]} /bin/true\` fails: $(head -c 300 "$TMP/err")"
else
    runsc_note="$(runsc --version 2>/dev/null | head -n 1)"
    SANDBOXES+=(runsc)
fi
echo "net_cost: runsc: $runsc_note" >&2

# One measurement: prints its rate (MB/s or conn/s), or fails.
measure() {
    local sandbox=${1%%_*} mode=${1#*_} args out
    case $mode in
        tcp_stream | unix_stream) args=("$mode" "$MIB") ;;
        tcp_connect) args=(tcp_connect "$CONNS") ;;
    esac
    case $sandbox in
        native) out=$("$TMP/net_cost" "${args[@]}" 2>"$TMP/err") || return 1 ;;
        sentry) out=$("$SENTRY" run -- "$TMP/net_cost" "${args[@]}" 2>"$TMP/err") || return 1 ;;
        runsc) out=$("${RUNSC[@]}" "$TMP/net_cost" "${args[@]}" 2>"$TMP/err") || return 1 ;;
    esac
    # <mode> <rate> MB/s|conn/s ...
    awk -v m="$mode" '$1 == m && ($3 == "MB/s" || $3 == "conn/s") { print $2 }' <<<"$out"
}

WORKLOADS=(tcp_stream tcp_connect unix_stream)
KINDS=()
for w in "${WORKLOADS[@]}"; do
    for s in "${SANDBOXES[@]}"; do
        KINDS+=("${s}_$w")
    done
done
declare -A SAMPLES ROUND PAIRED
for ((r = 0; r < ROUNDS; r++)); do
    line="round $((r + 1))/$ROUNDS:"
    for ((k = 0; k < ${#KINDS[@]}; k++)); do
        what=${KINDS[$(((k + r) % ${#KINDS[@]}))]}
        if ! v=$(measure "$what") || [[ -z $v ]]; then
            echo "net_cost: $what failed:" >&2
            cat "$TMP/err" >&2
            exit 1
        fi
        SAMPLES[$what]+="$v "
        ROUND[$what]=$v
        line+=" $what=$v"
    done
    echo "$line" >&2
    # Slowdowns of this round: baseline rate / sandbox rate.
    for w in "${WORKLOADS[@]}"; do
        for s in "${SANDBOXES[@]}"; do
            [[ $s == native ]] && continue
            PAIRED[${s}_$w]+="$(awk -v a="${ROUND[native_$w]}" -v b="${ROUND[${s}_$w]}" 'BEGIN { print a / b }') "
        done
        if [[ -n ${ROUND[runsc_$w]:-} ]]; then
            PAIRED[sentry_vs_runsc_$w]+="$(awk -v a="${ROUND[runsc_$w]}" -v b="${ROUND[sentry_$w]}" 'BEGIN { print a / b }') "
        fi
    done
done

# The median, min and max of a list of numbers, printed with format $2 (default %.1f).
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v f="${2:-%.1f}" '
    { v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " " f " " f "\n", m, v[1], v[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
unit() { [[ $1 == tcp_connect ]] && echo conn/s || echo MB/s; }
label() {
    case $1 in
        tcp_stream) echo "TCP 127.0.0.1, 64 KiB writes " ;;
        tcp_connect) echo "TCP connect+accept+close    " ;;
        unix_stream) echo "unix socketpair, 64 KiB      " ;;
    esac
}

declare -A MED
echo
echo "Network: $SENTRY, $MIB MiB per stream, $CONNS connections x $ROUNDS rounds ($(nproc) CPUs, $(date -u +%F)); runsc: $runsc_note"
echo
echo "| measurement | median | min | max | unit |"
echo "|---|---:|---:|---:|---|"
for what in "${KINDS[@]}"; do
    read -r med lo hi < <(stats "${SAMPLES[$what]}")
    MED[$what]=$med
    echo "| $what | $med | $lo | $hi | $(unit "${what#*_}") |"
done
echo
echo "Slowdowns (rates: baseline / sandbox; above 1 is slower):"
for w in "${WORKLOADS[@]}"; do
    for s in "${SANDBOXES[@]}"; do
        [[ $s == native ]] && continue
        read -r p lo hi < <(stats "${PAIRED[${s}_$w]}" %.2f)
        echo "$(label "$w"): native / $s = $(ratio "${MED[native_$w]}" "${MED[${s}_$w]}")  (per round: median $p, min $lo, max $hi)"
    done
    if [[ -n ${PAIRED[sentry_vs_runsc_$w]:-} ]]; then
        read -r p lo hi < <(stats "${PAIRED[sentry_vs_runsc_$w]}" %.2f)
        echo "$(label "$w"): runsc / sentry = $(ratio "${MED[runsc_$w]}" "${MED[sentry_$w]}")  (per round: median $p, min $lo, max $hi)"
    fi
done
