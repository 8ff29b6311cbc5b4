#!/usr/bin/env bash
# A stand-in for the sentry, used only by selftest.sh to check difftest.sh itself:
#   fake_sentry.sh MODE run -- COMMAND [ARGS...]
# MODE: exact      run COMMAND natively; exit with its status, 128+N if signal N killed it
#       noise      like exact, plus "sentry: unsupported syscall" lines on stderr
#       extra      like exact, plus one more line on stdout
#       crash      the "sentry" dies of SIGSEGV
#       exitcode   exit 1 more than COMMAND did
mode=$1
[[ $2 == run && $3 == -- ]] || { echo "fake_sentry: bad usage" >&2; exit 125; }
shift 3
case $mode in
crash) kill -SEGV $$ ;;
noise) echo "sentry: unsupported syscall 999 (made_up): returning ENOSYS" >&2 ;;
esac
"$@" &                # in the background, so that bash's "Killed" notice can be
wait $! 2>/dev/null   # silenced without silencing the command's own stderr
status=$?
case $mode in
extra) echo "an extra line" ;;
exitcode) status=$((status + 1)) ;;
esac
exit "$status"
