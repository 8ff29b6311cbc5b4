#!/usr/bin/env bash
# python3's http.server and two real clients inside one sandbox:
#
#   python_http.sh SENTRY_BINARY [PYTHON3]
#
# The guest (this script with --guest, run by bash) starts
# `python3 -m http.server --bind 127.0.0.1 PORT` in the background on a directory
# holding a 5 MB random file, waits until the server accepts a connection, fetches the
# file with python3's urllib and with curl, checks both copies' sha256 against the
# original's, and kills the server. It runs natively first (on a free port of the
# host: if that fails the test itself is wrong), then as `SENTRY run -- bash ...` on a
# port that the host holds meanwhile (net_real_lib.sh says why). Exit 0 when both
# runs pass, 1 when the sentry's fails, 2 when the native one does.
#
#   python_http.sh --guest DIR PORT SHA256 PYTHON3     (what runs in the sandbox)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ ${1:-} == --guest ]]; then
    dir=$2 port=$3 want=$4 python=$5
    url=http://127.0.0.1:$port/data.bin
    fail=0
    "$python" -m http.server --bind 127.0.0.1 "$port" --directory "$dir/www" \
        >"$dir/server.log" 2>&1 </dev/null &
    server=$!
    server_log() { echo "server log:"; sed 's/^/    /' "$dir/server.log"; }

    # Wait until the server accepts (bash's /dev/tcp connects, then closes at once).
    start=$SECONDS
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$server" 2>/dev/null; then
            wait "$server"
            echo "http: FAIL: the server exited with status $? before accepting a connection"
            server_log
            exit 1
        fi
        if ((SECONDS - start > 60)); then
            echo "http: FAIL: no connection accepted on 127.0.0.1:$port in 60 s"
            kill "$server"
            server_log
            exit 1
        fi
        sleep 0.1
    done
    echo "http: server accepting"

    got=$("$python" -c '
import hashlib, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as r:
    data = r.read()
    print(r.status, len(data), hashlib.sha256(data).hexdigest())
' "$url" 2>"$dir/urllib.err")
    if [[ $got == "200 5000000 $want" ]]; then
        echo "urllib: 200, 5000000 bytes, sha256 matches"
    else
        echo "urllib: FAIL: got '$got', want '200 5000000 $want'"
        sed 's/^/    /' "$dir/urllib.err"
        fail=1
    fi

    if curl --silent --show-error --fail --max-time 60 -o "$dir/curl.bin" "$url" 2>"$dir/curl.err"; then
        got=$(sha256sum <"$dir/curl.bin")
        got="$(stat -c %s "$dir/curl.bin") ${got%% *}"
    else
        got="curl exited $?: $(cat "$dir/curl.err")"
    fi
    if [[ $got == "5000000 $want" ]]; then
        echo "curl: 5000000 bytes, sha256 matches"
    else
        echo "curl: FAIL: got '$got', want '5000000 $want'"
        fail=1
    fi

    kill "$server" 2>/dev/null
    wait "$server"
    status=$?
    # The server's log has one line per request, with the status code.
    answered=$(grep -c '"GET /data.bin HTTP/1.1" 200 ' "$dir/server.log")
    if [[ $status -eq $((128 + 15)) && $answered -eq 2 ]]; then
        echo "http: server answered 2 requests with 200, then died of SIGTERM"
    else
        echo "http: FAIL: the server answered $answered requests with 200 (want 2), exit status $status (want 143)"
        fail=1
    fi
    if [[ $fail -ne 0 ]]; then
        server_log
        echo "http: FAIL"
        exit 1
    fi
    echo "http: PASS"
    exit 0
fi

sentry=${1:?usage: $0 SENTRY_BINARY [PYTHON3]}
python=${2:-/usr/bin/python3}
[[ -x $python ]] || python=python3
work=$(mktemp -d "${TMPDIR:-/tmp}/python_http.XXXXXX")
trap 'release_port; rm -rf "$work"' EXIT
# shellcheck source=net_real_lib.sh
source "$here/net_real_lib.sh"

mkdir -p "$work/www" "$work/native" "$work/sentry"
head -c 5000000 /dev/urandom >"$work/www/data.bin"
sha=$(sha256sum <"$work/www/data.bin")
sha=${sha%% *}
for run in native sentry; do
    ln -s "$work/www" "$work/$run/www"
done

port=$(free_port) || exit 2
if ! run_guest native 60 bash "$0" --guest "$work/native" "$port" "$sha" "$python"; then
    echo "FAIL: the native run failed (port $port): the test itself is wrong"
    show_run native
    exit 2
fi
sed 's/^/native: /' "$work/native.out"

hold_port || { echo "FAIL: could not hold a port on the host"; exit 2; }
run_guest sentry 120 "$sentry" run -- bash "$0" --guest "$work/sentry" "$held_port" "$sha" "$python"
sentry_ok=$?
release_port
if [[ $sentry_ok -ne 0 ]]; then
    echo "FAIL: under the sentry (port $held_port, held by the host meanwhile: a guest"
    echo "server that cannot bind it is using the host's network)"
    show_run sentry
    exit 1
fi
sed 's/^/sentry: /' "$work/sentry.out"
echo PASS
