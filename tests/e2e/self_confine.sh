#!/usr/bin/env bash
# Self-confinement (sentry/common/self_confine.h): once its first guest runs, the
# sentry is under a seccomp filter of its own.
#
#   self_confine.sh SENTRY_BINARY PYTHON3 GUESTS_DIR
#
#  1. The probe (SENTRY_SELF_CONFINE_PROBE=1): right after confining, the sentry
#     tries calls that the filter must refuse and that would answer otherwise if it
#     ran unconfined (unshare(0) succeeds, execve of a missing file is ENOENT,
#     socket(AF_NETLINK) opens); each must be EPERM, and named on stderr. An allowed
#     call (getpid) is the control.
#  2. The kernel's view, independent of the sentry's word: /proc/PID/status of a
#     running sentry says Seccomp: 2 (filter mode) and NoNewPrivs: 1.
#  3. SENTRY_NO_SELF_CONFINE=1 turns it off: Seccomp: 0, no probe.
#  4. Real workloads still behave as natively under the filter (difftest.sh, which
#     also compares stderr, where a refused call would be named): a bash pipeline,
#     a fork/exec-heavy shell loop, python3 with threads and sockets and files, and
#     a few guests of the test suite (threads, execve, TCP, SCM_RIGHTS).
set -uo pipefail
sentry=${1:?usage: $0 SENTRY_BINARY PYTHON3 GUESTS_DIR}
python=${2:?usage: $0 SENTRY_BINARY PYTHON3 GUESTS_DIR}
guests=${3:?usage: $0 SENTRY_BINARY PYTHON3 GUESTS_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/self_confine.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}

# --- 1. the probe
unset SENTRY_NO_SELF_CONFINE
SENTRY_SELF_CONFINE_PROBE=1 timeout 20 "$sentry" run -- /bin/true >"$work/probe.out" 2>"$work/probe.err"
status=$?
cat "$work/probe.err"
[[ $status -eq 0 ]] || bad "probe run: status $status, expected 0"
grep -qx 'sentry: self-confinement probe: getpid -> ok' "$work/probe.err" || bad "the control call (getpid) failed"
for call in unshare execve mount 'socket(AF_NETLINK)'; do
    grep -qxF "sentry: self-confinement probe: $call -> EPERM" "$work/probe.err" || bad "$call was not refused with EPERM"
done
for name in unshare execve mount socket; do
    grep -qxF "sentry: self-confinement refused host syscall $name (EPERM)" "$work/probe.err" ||
        bad "the refusal of $name was not named on stderr"
done

# --- 2 and 3. what the kernel says about a running sentry
# Prints the Seccomp and NoNewPrivs lines of a sentry while its guest sleeps.
status_of_running_sentry() {
    "$sentry" run -- /bin/sleep 3 </dev/null &
    local pid=$!
    pids+=("$pid")
    local s=""
    # Confined once the guest is spawned: wait for the child, then a little more.
    for _ in $(seq 50); do
        sleep 0.1
        [[ -n $(cat "/proc/$pid/task/$pid/children" 2>/dev/null) ]] && break
    done
    sleep 0.5
    s=$(grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" 2>/dev/null | tr -s '\t ' ' ')
    wait "$pid"
    echo "$s"
}
s=$(status_of_running_sentry)
echo "running sentry: $(echo $s)"
[[ $s == *"Seccomp: 2"* ]] || bad "a running sentry is not in seccomp filter mode: $s"
[[ $s == *"NoNewPrivs: 1"* ]] || bad "a running sentry lacks no_new_privs: $s"
s=$(SENTRY_NO_SELF_CONFINE=1 status_of_running_sentry)
echo "with SENTRY_NO_SELF_CONFINE=1: $(echo $s)"
[[ $s == *"Seccomp: 0"* ]] || bad "SENTRY_NO_SELF_CONFINE=1 did not turn confinement off: $s"
SENTRY_NO_SELF_CONFINE=1 SENTRY_SELF_CONFINE_PROBE=1 timeout 20 "$sentry" run -- /bin/true 2>"$work/off.err"
if grep -q 'self-confinement' "$work/off.err"; then
    bad "SENTRY_NO_SELF_CONFINE=1 still probed"
fi

# --- 4. workloads under the filter, against Linux
cat >"$work/threads_sockets.py" <<'EOF'
import os, socket, subprocess, tempfile, threading

# TCP on loopback between threads, a unix socketpair, files, a child process.
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
port = srv.getsockname()[1]
got = []

def serve():
    for _ in range(4):
        c, _ = srv.accept()
        with c:
            data = b""
            while not data.endswith(b"\n"):
                data += c.recv(100)
            c.sendall(data.upper())

t = threading.Thread(target=serve)
t.start()
def client(i):
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"hello %d\n" % i)
        got.append(c.makefile().readline().strip())
clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
for c in clients: c.start()
for c in clients: c.join()
t.join()
print(sorted(got))

a, b = socket.socketpair()
a.sendall(b"over a socketpair")
print(b.recv(100).decode())

with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "f")
    with open(p, "w") as f:
        f.write("x" * 100000)
    os.rename(p, p + "2")
    print(os.path.getsize(p + "2"), sorted(os.listdir(d)))
print(subprocess.run(["/bin/echo", "child"], capture_output=True, text=True).stdout.strip())
EOF
run_diff() {
    local name=$1
    shift
    if bash "$here/difftest.sh" "$sentry" -- "$@" >"$work/$name.diff" 2>&1; then
        echo "ok: $name"
    else
        cat "$work/$name.diff"
        bad "$name differs from Linux under the confined sentry"
    fi
}
run_diff bash_pipeline /bin/bash -c 'seq 1 20000 | sort -rn | uniq | awk "{s+=\$1} END {print s}" | tr 0-9 a-j; ls -la / | wc -l'
run_diff fork_exec_loop /bin/bash -c 'for i in $(seq 1 60); do /bin/echo -n "$i " | /usr/bin/wc -c >/dev/null; x=$(/bin/true; echo $i); done; echo done $x'
run_diff python_threads_sockets "$python" "$work/threads_sockets.py"
for g in threads8 execve net_tcp_basic net_unix_scm sig_threads epoll_threads; do
    if [[ -x $guests/$g ]]; then
        run_diff "guest_$g" "$guests/$g"
    else
        bad "guest $guests/$g is missing"
    fi
done

if [[ $fail -eq 0 ]]; then
    echo PASS
fi
exit $fail
