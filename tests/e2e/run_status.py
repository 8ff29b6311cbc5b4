#!/usr/bin/env python3
"""Run one command the same way every time and say how it ended.

usage: run_status.py TIMEOUT_SECONDS STDOUT_FILE STDERR_FILE -- COMMAND [ARGS...]

The command gets stdin from /dev/null, stdout and stderr into the two files, every
signal at its default action and an empty signal mask (so the result does not depend
on what the CI runner or ctest left ignored or blocked), and its own process group.
When it ends, whatever is left of that process group is killed.

Prints exactly one line on stdout:
    exit N      the command exited with status N
    signal N    the command was killed by signal N
    timeout     it ran longer than TIMEOUT_SECONDS and was killed

bash's $? can't tell "killed by SIGKILL" from "exit(137)"; difftest.sh needs the
difference, because a sentry that dies of a signal has crashed, whereas a guest that
dies of signal N must make the sentry exit with 128+N.
"""

import os
import signal
import subprocess
import sys


def reset_signals():
    # Runs in the child between fork and exec.
    os.setpgid(0, 0)
    for sig in range(1, signal.NSIG):
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # numbers that are not signals, or reserved by libc
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv):
    if len(argv) < 6 or argv[4] != "--":
        sys.stderr.write(__doc__)
        return 2
    timeout = float(argv[1])
    cmd = argv[5:]
    with open(argv[2], "wb") as out, open(argv[3], "wb") as err:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    preexec_fn=reset_signals)
        except FileNotFoundError:
            print("exit 127")
            return 0
        except PermissionError:
            print("exit 126")
            return 0
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
            print("timeout")
            return 0
        kill_group(proc.pid)  # stragglers (e.g. a background child of a shell)
    if status < 0:
        print(f"signal {-status}")
    else:
        print(f"exit {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
