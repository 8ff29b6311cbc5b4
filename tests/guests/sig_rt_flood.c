// 100,000 realtime signals queued to a process that blocks them: the queue stops
// at RLIMIT_SIGPENDING with EAGAIN (nothing is lost silently, nothing grows without
// bound), and every queued one is then received in order.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct rlimit lim = {1000, 1000};
    setrlimit(RLIMIT_SIGPENDING, &lim);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    long ok = 0, eagain = 0, other = 0;
    for (int i = 0; i < 100000; i++) {
        if (sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i}) == 0)
            ok++;
        else if (errno == EAGAIN)
            eagain++;
        else
            other++;
    }
    printf("queued within the limit: %s, EAGAIN for the rest: %s, other errors: %ld\n", ok > 0 && ok <= 1000 ? "true" : "false",
        ok + eagain == 100000 ? "true" : "false", other);
    struct timespec zero = {0, 0};
    siginfo_t info;
    // In order means increasing values: natively the limit is per user, so
    // another root process's pending signals can refuse one in the middle.
    long got = 0, in_order = 1, last = -1;
    while (sigtimedwait(&set, &info, &zero) == SIGRTMIN) {
        if (info.si_value.sival_int <= last)
            in_order = 0;
        last = info.si_value.sival_int;
        got++;
    }
    printf("received all queued: %s, in order: %s\n", got == ok ? "true" : "false", in_order ? "true" : "false");
    return 0;
}
