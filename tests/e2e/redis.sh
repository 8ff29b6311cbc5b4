#!/usr/bin/env bash
# redis-server, redis-cli and redis-benchmark inside one sandbox:
#
#   redis.sh SENTRY_BINARY [REQUESTS]
#
# The guest (this script with --guest, run by bash) starts
# `redis-server --port PORT --save '' --appendonly no --daemonize no` in the
# background, waits until `redis-cli -p PORT ping` answers PONG, sets and reads back a
# key, runs `redis-benchmark -q -n REQUESTS -t set,get,incr,lpush,lpop` (50 clients
# at once, each over its own connection, on one epoll loop in each program) and
# requires one "requests per second" line for each of the five, then
# `redis-cli shutdown nosave`, after which the server must exit 0. It runs natively
# first (on a free port of the host: if that fails the test itself is wrong), then as
# `SENTRY run -- bash ...` on a port that the host holds meanwhile
# (net_real_lib.sh says why). Exit 0 when both pass, 1 when the sentry's run fails,
# 2 when the native one does.
#
# REQUESTS (default 10000 per command) bounds the sentry's run: natively the five
# commands make about 10 syscalls per request between the two programs (2.2 s for
# 20000 each here), and an emulated syscall costs the sentry about 25 us, so 10000
# each is about 15 s of stops.
#
#   redis.sh --guest DIR PORT REQUESTS     (what runs in the sandbox)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tests=(SET GET INCR LPUSH LPOP)

if [[ ${1:-} == --guest ]]; then
    dir=$2 port=$3 requests=$4
    fail=0
    # -::1: the IPv6 loopback too, where there is one.
    redis-server --port "$port" --bind 127.0.0.1 -::1 --save '' --appendonly no \
        --daemonize no --dir "$dir" >"$dir/server.log" 2>&1 </dev/null &
    server=$!
    server_log() { echo "server log (last 30 lines):"; tail -n 30 "$dir/server.log" | sed 's/^/    /'; }

    start=$SECONDS
    until [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; do
        if ! kill -0 "$server" 2>/dev/null; then
            wait "$server"
            echo "redis: FAIL: the server exited with status $? before answering PING"
            server_log
            exit 1
        fi
        if ((SECONDS - start > 60)); then
            echo "redis: FAIL: no PONG from 127.0.0.1:$port in 60 s"
            kill "$server"
            server_log
            exit 1
        fi
        sleep 0.1
    done
    echo "redis: PONG"

    got=$(redis-cli -p "$port" set greeting "hello from redis" 2>&1; redis-cli -p "$port" get greeting 2>&1)
    if [[ $got == $'OK\nhello from redis' ]]; then
        echo "redis-cli: set and get agree"
    else
        echo "redis-cli: FAIL: set + get printed '$got'"
        fail=1
    fi

    redis-benchmark -p "$port" -q -n "$requests" -t set,get,incr,lpush,lpop \
        >"$dir/bench.out" 2>"$dir/bench.err"
    status=$?
    # -q rewrites a progress line with \r; the final figure of each test ends in \n.
    tr '\r' '\n' <"$dir/bench.out" | grep 'requests per second' >"$dir/bench.lines"
    if [[ $status -ne 0 ]]; then
        echo "redis-benchmark: FAIL: exit status $status"
        fail=1
    fi
    for t in "${tests[@]}"; do
        if grep -q "^$t: [0-9.]* requests per second" "$dir/bench.lines"; then
            echo "redis-benchmark: $t: a requests-per-second figure"
        else
            echo "redis-benchmark: FAIL: no requests-per-second line for $t"
            fail=1
        fi
    done
    if [[ $fail -ne 0 ]]; then
        echo "redis-benchmark printed:"
        tr '\r' '\n' <"$dir/bench.out" | tail -n 20 | sed 's/^/    /'
        sed 's/^/    /' "$dir/bench.err"
    fi

    # The server closes the connection as it exits: redis-cli prints nothing then.
    got=$(redis-cli -p "$port" shutdown nosave 2>&1)
    [[ -z $got ]] || echo "redis-cli shutdown printed: $got"
    wait "$server"
    status=$?
    if [[ $status -eq 0 ]]; then
        echo "redis: shutdown nosave, server exited 0"
    else
        echo "redis: FAIL: after shutdown nosave the server exited with status $status"
        fail=1
    fi
    if [[ $fail -ne 0 ]]; then
        server_log
        echo "redis: FAIL"
        exit 1
    fi
    echo "redis: PASS"
    exit 0
fi

sentry=${1:?usage: $0 SENTRY_BINARY [REQUESTS]}
requests=${2:-10000}
python=/usr/bin/python3
[[ -x $python ]] || python=python3
work=$(mktemp -d "${TMPDIR:-/tmp}/redis.XXXXXX")
trap 'release_port; rm -rf "$work"' EXIT
# shellcheck source=net_real_lib.sh
source "$here/net_real_lib.sh"
mkdir "$work/native" "$work/sentry"

port=$(free_port) || exit 2
if ! run_guest native 60 bash "$0" --guest "$work/native" "$port" "$requests"; then
    echo "FAIL: the native run failed (port $port): the test itself is wrong"
    show_run native
    exit 2
fi
sed 's/^/native: /' "$work/native.out"
echo "native: $(tr '\n' ';' <"$work/native/bench.lines")"

hold_port || { echo "FAIL: could not hold a port on the host"; exit 2; }
run_guest sentry 120 "$sentry" run -- bash "$0" --guest "$work/sentry" "$held_port" "$requests"
sentry_ok=$?
release_port
if [[ $sentry_ok -ne 0 ]]; then
    echo "FAIL: under the sentry (port $held_port, held by the host meanwhile: a guest"
    echo "server that cannot bind it is using the host's network)"
    show_run sentry
    exit 1
fi
sed 's/^/sentry: /' "$work/sentry.out"
echo "sentry: $(tr '\n' ';' <"$work/sentry/bench.lines")"
echo PASS
