# Sourced by the real-program network tests (python_http.sh, redis.sh). Each test runs
# one script of its own twice, natively and under the sentry, with a port number:
#
#   * natively, on a port of 127.0.0.1 in 20000-30000 that is free on the host;
#   * under the sentry, on a port that a listener of the host holds for the whole run.
#     The sandbox's network is its own (README.md), so its server must bind that port
#     all the same; a sentry that let the guest's sockets reach the host would fail
#     there with EADDRINUSE.
#
# Needs $work (a temporary directory) and $python set by the caller.

# Prints a port of 127.0.0.1 in 20000-30000 that nothing on the host has bound.
free_port() {
    "$python" - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 30000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("no free port in 20000-30000")
PY
}

# Starts a host listener on a free port and sets held_port and held_pid; it holds
# the port until release_port (or the caller's exit trap) kills it, and answers every
# connection with a line that says whose it is.
hold_port() {
    held_port= held_pid=
    "$python" - "$work/held_port" <<'PY' &
import os, random, socket, sys, time
for _ in range(200):
    port = random.randint(20000, 30000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        break
    except OSError:
        s.close()
else:
    raise SystemExit("no free port in 20000-30000")
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{port}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
# Anyone who connects gets told at once, rather than waiting for a server that is not
# there (the line also reads as an HTTP error status).
while True:
    conn, _ = s.accept()
    conn.sendall(b"HTTP/1.0 503 host listener\r\n\r\nthe host's listener on this port "
                 b"answered: the guest's sockets reached the host's network\n")
    conn.close()
PY
    held_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $work/held_port ]] && break
        sleep 0.1
    done
    held_port=$(<"$work/held_port") || return 1
}

release_port() {
    if [[ -n ${held_pid:-} ]]; then
        kill "$held_pid" 2>/dev/null
        wait "$held_pid" 2>/dev/null
        held_pid=
    fi
}

# run_guest NAME TIMEOUT COMMAND...: runs COMMAND through run_status.py (stdin from
# /dev/null, default signal actions, its process group killed at the end), fills
# $work/NAME.{out,err,status} and returns 0 when it exited 0.
run_guest() {
    local name=$1 limit=$2
    shift 2
    "$python" "$here/run_status.py" "$limit" "$work/$name.out" "$work/$name.err" -- "$@" \
        >"$work/$name.status"
    [[ $(<"$work/$name.status") == "exit 0" ]]
}

# show_run NAME: what a run printed and how it ended, for a failure report.
show_run() {
    local name=$1
    echo "--- $name: $(<"$work/$name.status")"
    echo "--- $name: stdout"
    cat "$work/$name.out"
    echo "--- $name: stderr (last 60 lines)"
    tail -n 60 "$work/$name.err"
}
