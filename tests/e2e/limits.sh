#!/usr/bin/env bash
# Issue 7: a policy's limits end a run, the report names the limit, and no guest
# process is left; the syscall rules deny (errno), kill (SIGSYS) or only log, and
# learning mode denies nothing; the mandatory signal mask cannot be lifted. Every case runs `sentry run --config C --report R`.
#
#   limits.sh SENTRY
set -u -o pipefail
SENTRY=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
marker="sentry-limits-$$"

config() { # config NAME JSON-BODY (the members after "version")
    printf '{ "version": 1, %s }\n' "$2" > "$dir/$1.json"
}
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(r.get(sys.argv[2])))" "$1" "$2"; }
leftover() { pgrep -f "$marker" > /dev/null; }

check() { # check NAME WANT_STATUS WANT_LIMIT -- COMMAND...
    local name=$1 want_status=$2 want_limit=$3
    shift 4
    local t0=$SECONDS
    timeout 60 "$SENTRY" run --config "$dir/$name.json" --report "$dir/$name.report" -- "$@" > "$dir/$name.out" 2> "$dir/$name.err"
    local st=$?
    local limit
    limit=$(field "$dir/$name.report" limit 2>/dev/null)
    if [ "$st" != "$want_status" ] || [ "$limit" != "$want_limit" ]; then
        echo "FAIL $name: status $st (want $want_status), limit $limit (want $want_limit) after $((SECONDS - t0)) s"
        head -5 "$dir/$name.err"
        fails=$((fails + 1))
        return
    fi
    sleep 0.2
    if leftover; then
        echo "FAIL $name: a guest process outlived the sandbox"; pgrep -af "$marker"
        pkill -9 -f "$marker"
        fails=$((fails + 1))
        return
    fi
    echo "ok   $name: status $st, limit $limit ($((SECONDS - t0)) s)"
}

config wall '"limits": { "wall_time": 1 }'
check wall 124 '"wall_time"' -- /bin/sh -c "sleep 30 # $marker"
config cpu '"limits": { "cpu_time": 1 }'
check cpu 124 '"cpu_time"' -- /bin/sh -c "while :; do :; done # $marker"
config memory '"limits": { "memory": 67108864 }'
check memory 124 '"memory"' -- python3 -c "
# $marker
import time
hog = []
while True:
    hog.append(bytearray(8 << 20))
    time.sleep(0.01)"
config tasks '"limits": { "tasks": 16 }'
check tasks 124 '"tasks"' -- /bin/bash -c "for i in \$(seq 100); do sleep 20 & done; wait # $marker"
config output '"limits": { "output": 100000 }'
check output 124 '"output"' -- /bin/sh -c "yes $marker"
config fine '"limits": { "wall_time": 30, "output": 100000 }'
check fine 3 null -- /bin/sh -c "echo within the limits; exit 3 # $marker"
if [ "$(field "$dir/fine.report" exit_code)" != 3 ] || ! grep -q '"execve"' "$dir/fine.report"; then
    echo "FAIL fine: the report lacks the exit code or the syscall counts"; cat "$dir/fine.report"; fails=$((fails + 1))
fi

# Syscall rules: mkdir is refused with EACCES, setsid kills with SIGSYS, uname is logged.
rules='"syscalls": { "default_action": "allow", "rules": [
    { "names": ["mkdir", "mkdirat"], "action": "errno:EACCES" },
    { "names": ["setsid"], "action": "kill" },
    { "names": ["uname"], "action": "log" } ] }'
config deny "$rules, \"audit\": { \"log\": \"$dir/deny.audit\" }"
check deny 1 null -- /bin/sh -c "uname > /dev/null; mkdir $dir/made 2> /dev/null || exit 1 # $marker"
if [ -e "$dir/made" ] || ! grep -q '"syscall":"mkdir' "$dir/deny.audit" || ! grep -q '"decision":"denied"' "$dir/deny.audit" \
    || ! grep '"syscall":"uname"' "$dir/deny.audit" | grep -q '"decision":"allowed"'; then
    echo "FAIL deny: the directory was made or the audit log lacks the records"; cat "$dir/deny.audit"; fails=$((fails + 1))
fi
if [ "$(field "$dir/deny.report" denial_count)" -lt 1 ]; then
    echo "FAIL deny: the report lists no denial"; fails=$((fails + 1))
fi
config kill "$rules"
check kill 159 null -- python3 -c "import os; os.setsid() # $marker"
if [ "$(field "$dir/kill.report" signal)" != '"SIGSYS"' ]; then
    echo "FAIL kill: the report does not say SIGSYS"; fails=$((fails + 1))
fi
config learn "$rules, \"audit\": { \"log\": \"$dir/learn.audit\", \"learning\": true }"
check learn 0 null -- /bin/sh -c "mkdir $dir/learned # $marker"
if [ ! -d "$dir/learned" ] || ! grep -q '"decision":"would deny"' "$dir/learn.audit"; then
    echo "FAIL learn: learning mode denied, or logged nothing"; cat "$dir/learn.audit"; fails=$((fails + 1))
fi

# A mandatory signal mask the guest cannot lift: SIGPIPE stays blocked, so a write
# to a closed socket is EPIPE and the process lives (it would die of SIGPIPE).
config mask '"signals": { "mandatory_mask": ["SIGPIPE"] }'
check mask 0 null -- python3 -c "
import signal, socket  # $marker
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGPIPE])
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
print('still blocked:', signal.SIGPIPE in signal.pthread_sigmask(signal.SIG_BLOCK, []))
a, b = socket.socketpair(); b.close()
try: a.send(b'x')
except BrokenPipeError: print('EPIPE, alive')"
if [ "$(cat "$dir/mask.out")" != "$(printf 'still blocked: True\nEPIPE, alive')" ]; then
    echo "FAIL mask: $(cat "$dir/mask.out")"; fails=$((fails + 1))
fi

# limits.file_size is the guests' RLIMIT_FSIZE: a write stops at it.
config fsize '"limits": { "file_size": 1000 }'
check fsize 0 null -- python3 -c "
import os, signal  # $marker
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
fd = os.open('$dir/big', os.O_WRONLY | os.O_CREAT)
print(os.write(fd, b'x' * 5000))
try: os.write(fd, b'x')
except OSError as e: print(e.errno)"
if [ "$(cat "$dir/fsize.out")" != "$(printf '1000\n27')" ]; then
    echo "FAIL fsize: $(cat "$dir/fsize.out")"; fails=$((fails + 1))
fi

# The hostname the guests see.
config host '"hostname": "box-7"'
check host 0 null -- /bin/sh -c "uname -n # $marker"
if [ "$(cat "$dir/host.out")" != box-7 ]; then
    echo "FAIL host: uname -n says $(cat "$dir/host.out")"; fails=$((fails + 1))
fi

# A bad policy starts nothing.
echo '{ "version": 1, "limits": { "wall_tme": 3 } }' > "$dir/bad.json"
"$SENTRY" run --config "$dir/bad.json" -- /bin/sh -c "touch $dir/started" 2> "$dir/bad.err"
st=$?
if [ "$st" != 125 ] || [ -e "$dir/started" ] || ! grep -q 'wall_tme' "$dir/bad.err"; then
    echo "FAIL bad: status $st, started: $([ -e "$dir/started" ] && echo yes || echo no)"; cat "$dir/bad.err"; fails=$((fails + 1))
else
    echo "ok   bad: refused: $(cat "$dir/bad.err")"
fi
[ "$fails" = 0 ] && echo PASS || { echo "FAIL: $fails case(s)"; exit 1; }
