#!/usr/bin/env bash
# Network mode "host": guests reach servers outside the sandbox through host sockets.
#
#   host_network.sh SENTRY_BINARY [PYTHON3]
#
# Needs no internet: the servers run natively on this machine, bound to its first
# non-loopback IPv4 address (outside the sandbox's loopback, so a guest can only
# reach them through a real host socket). Without such an address the test prints
# SKIP and exits 0. The servers (started by this script): an HTTP server with a
# 2 MB random file, a TCP listener that closes each connection at once, a UDP echo
# server, and a port on which nothing listens.
#
# Checks, each case run natively first (a case that fails natively is a wrong test),
# then under the sentry with the same expected output:
#   fetch     urllib and curl fetch the file (--network host): status, size, sha256,
#             and the socket's names (peer = the server, local address = ours)
#   async     asyncio (nonblocking connect, EINPROGRESS, epoll) fetches it too
#   refused   blocking and nonblocking connects to the closed port: ECONNREFUSED
#   epipe     writes to the closing listener: the peer's EOF, then EPIPE
#             (BrokenPipeError) once its RST is back; with MSG_NOSIGNAL the same
#   sigpipe   the same writes with SIGPIPE at its default: killed, exit 141
#   udp       datagrams to the echo server, connected and with sendto
# and only under the sentry:
#   loopback  --network loopback: connect fails with ENETUNREACH
#   none      --network none: socket() fails with EAFNOSUPPORT
#   inside    --network host keeps 127.0.0.1 inside the sandbox: a guest binds the
#             port that a host listener holds on 127.0.0.1 and talks to itself
# Exit 0 when all pass (or SKIP), 1 when the sentry fails one, 2 when native fails.
set -uo pipefail

sentry=${1:?usage: host_network.sh SENTRY_BINARY [PYTHON3]}
python=${2:-python3}

addr=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')
if [[ -z $addr ]]; then
    addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -1)
fi
if [[ -z $addr ]]; then
    echo "SKIP: this machine has no non-loopback IPv4 address for a host-side server"
    exit 0
fi
echo "host-side servers on $addr"

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www"
head -c 2000000 /dev/urandom >"$work/www/data.bin"
sha=$(sha256sum "$work/www/data.bin" | cut -d' ' -f1)

# The servers. They write their ports to $work/ports once they listen.
cat >"$work/servers.py" <<'PY'
import functools, http.server, os, socket, sys, threading
addr, work = sys.argv[1], sys.argv[2]

handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.join(work, "www"))
class Quiet(handler.func):
    def log_message(self, *a): pass
http_srv = http.server.ThreadingHTTPServer((addr, 0), functools.partial(Quiet, directory=os.path.join(work, "www")))
threading.Thread(target=http_srv.serve_forever, daemon=True).start()

closer = socket.socket()
closer.bind((addr, 0))
closer.listen(16)
def close_each():
    while True:
        c, _ = closer.accept()
        c.close()
threading.Thread(target=close_each, daemon=True).start()

echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.bind((addr, 0))
def echo_each():
    while True:
        data, peer = echo.recvfrom(65536)
        echo.sendto(b"echo:" + data, peer)
threading.Thread(target=echo_each, daemon=True).start()

# A port that nobody listens on: bound, never listening (connects are refused).
dead = socket.socket()
dead.bind((addr, 0))

# A host listener on 127.0.0.1 whose port the sandbox must not see.
held = socket.socket()
held.bind(("127.0.0.1", 0))
held.listen(1)

ports = [http_srv.server_address[1], closer.getsockname()[1], echo.getsockname()[1],
         dead.getsockname()[1], held.getsockname()[1]]
with open(os.path.join(work, "ports.tmp"), "w") as f:
    f.write(" ".join(map(str, ports)) + "\n")
os.rename(os.path.join(work, "ports.tmp"), os.path.join(work, "ports"))
threading.Event().wait()
PY
"$python" "$work/servers.py" "$addr" "$work" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/ports ]] && break; sleep 0.1; done
if [[ ! -s $work/ports ]]; then
    echo "FAIL: the host-side servers did not start"
    exit 2
fi
read -r http_port closer_port echo_port dead_port held_port <"$work/ports"

# The guest: one case per call, output that is the same natively and in the sandbox.
cat >"$work/guest.py" <<'PY'
import asyncio, errno, hashlib, os, signal, socket, sys, time, urllib.request
case, addr, port, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def err(e):
    return f"{type(e).__name__} {errno.errorcode.get(e.errno, e.errno)}"

if case == "fetch":
    with urllib.request.urlopen(f"http://{addr}:{port}/data.bin", timeout=30) as r:
        data = r.read()
        print("urllib", r.status, len(data), hashlib.sha256(data).hexdigest() == want)
    s = socket.create_connection((addr, port), timeout=30)
    print("peer", s.getpeername() == (addr, port), "local", s.getsockname()[0] == addr)
    s.close()
elif case == "async":
    async def main():
        r, w = await asyncio.open_connection(addr, port)
        w.write(f"GET /data.bin HTTP/1.0\r\nHost: {addr}\r\n\r\n".encode())
        data = await r.read()
        w.close()
        head, _, body = data.partition(b"\r\n\r\n")
        print("asyncio", head.split(b"\r\n")[0].decode(), len(body), hashlib.sha256(body).hexdigest() == want)
    asyncio.run(main())
elif case == "refused":
    s = socket.socket()
    try:
        s.connect((addr, port))
        print("blocking: connected?")
    except OSError as e:
        print("blocking:", err(e))
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((addr, port))
    except OSError as e:
        print("nonblocking:", err(e))
    import select
    select.select([], [s], [], 10)
    print("SO_ERROR:", errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
elif case in ("epipe", "nosignal", "sigpipe"):
    if case == "sigpipe":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    s = socket.create_connection((addr, port), timeout=30)
    print("eof", s.recv(10) == b"")
    sys.stdout.flush()
    flags = socket.MSG_NOSIGNAL if case == "nosignal" else 0
    for n in range(1, 21):
        try:
            s.send(b"x" * 100, flags)
        except OSError as e:
            print(f"write {n}:" if n > 1 else "write 1:", err(e))
            break
        time.sleep(0.1)  # the peer's RST comes back long before this
    else:
        print("20 writes succeeded")
elif case == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(b"one", (addr, port))
    data, peer = s.recvfrom(100)
    print("sendto", data, peer == (addr, port))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(10)
    c.connect((addr, port))
    c.send(b"two")
    print("connected", c.recv(100), c.getpeername() == (addr, port), c.getsockname()[0] == addr)
elif case == "unreachable":
    try:
        socket.create_connection((addr, port), timeout=10)
        print("connected?")
    except OSError as e:
        print("connect:", err(e))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (addr, port))
        print("sendto: ok?")
    except OSError as e:
        print("sendto:", err(e))
elif case == "none":
    try:
        socket.socket()
        print("socket: ok?")
    except OSError as e:
        print("socket:", err(e))
elif case == "inside":
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    c.sendall(b"ping")
    print("inside", a.recv(10))
PY

fail=0
native_fail=0

# run NAME EXPECTED_STATUS MODE ARGS...: natively (unless MODE starts with '!'), then
# under the sentry; both must print the same and exit with EXPECTED_STATUS.
run() {
    local name=$1 want_status=$2 mode=$3
    shift 3
    local native_only_sentry=0
    if [[ $mode == !* ]]; then
        native_only_sentry=1
        mode=${mode#!}
    fi
    local expect=""
    if ((!native_only_sentry)); then
        expect=$(timeout 60 "$python" "$work/guest.py" "$@" 2>"$work/native.err")
        local st=$?
        if ((st != want_status)); then
            echo "$name: native run exited $st, want $want_status (a wrong test):"
            echo "$expect" | sed 's/^/    /'
            sed 's/^/    /' "$work/native.err"
            native_fail=1
            return
        fi
    else
        expect=$EXPECT
    fi
    local got
    got=$(timeout 120 "$sentry" run --network "$mode" -- "$python" "$work/guest.py" "$@" 2>"$work/sentry.err")
    local st=$?
    if [[ $got == "$expect" && $st == "$want_status" ]]; then
        echo "$name: ok ($(echo "$got" | tr '\n' ';' | cut -c1-150))"
    else
        echo "$name: FAIL under --network $mode: exit $st (want $want_status)"
        echo "  want:"; echo "$expect" | sed 's/^/    /'
        echo "  got:"; echo "$got" | sed 's/^/    /'
        tail -20 "$work/sentry.err" | sed 's/^/    stderr: /'
        fail=1
    fi
}

run fetch 0 host fetch "$addr" "$http_port" "$sha"
if command -v curl >/dev/null; then
    got=$(timeout 120 "$sentry" run --network host -- curl -sS "http://$addr:$http_port/data.bin" 2>"$work/curl.err" | sha256sum | cut -d' ' -f1)
    if [[ $got == "$sha" ]]; then
        echo "curl: ok (sha256 matches)"
    else
        echo "curl: FAIL: sha256 $got, want $sha"
        sed 's/^/    /' "$work/curl.err"
        fail=1
    fi
fi
run async 0 host async "$addr" "$http_port" "$sha"
run refused 0 host refused "$addr" "$dead_port" -
run epipe 0 host epipe "$addr" "$closer_port" -
run nosignal 0 host nosignal "$addr" "$closer_port" -
run sigpipe 141 host sigpipe "$addr" "$closer_port" -
run udp 0 host udp "$addr" "$echo_port" -
EXPECT=$'connect: OSError ENETUNREACH\nsendto: OSError ENETUNREACH' \
    run loopback 0 '!loopback' unreachable "$addr" "$http_port" -
EXPECT='socket: OSError EAFNOSUPPORT' run none 0 '!none' none "$addr" 0 -
EXPECT="inside b'ping'" run inside 0 '!host' inside "$addr" "$held_port" -

if ((native_fail)); then
    exit 2
fi
exit $fail
