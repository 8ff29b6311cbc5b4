// Realtime signals queue: every sigqueue while blocked is kept with its own value;
// sigwaitinfo/sigtimedwait dequeue the lowest signal number first and FIFO within one
// number, standard signals before realtime ones; standard signals coalesce; the order
// handlers observe on unblock; RLIMIT_SIGPENDING bounds sigqueue but not kill.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static char seen[1024];
static volatile int seen_len;
static void on_rt(int sig, siginfo_t* info, void* uc)
{
    (void)uc;
    seen_len += snprintf(seen + seen_len, sizeof seen - seen_len, " %d:%d", sig - SIGRTMIN, info->si_value.sival_int);
}
static void reset_seen(void)
{
    seen_len = 0;
    seen[0] = 0;
}

static sigset_t rt_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    for (int i = 0; i < 4; i++)
        sigaddset(&s, SIGRTMIN + i);
    return s;
}

static void install(const sigset_t* m)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    if (m)
        sa.sa_mask = *m;
    for (int i = 0; i < 4; i++)
        sigaction(SIGRTMIN + i, &sa, NULL);
}

// Queues the same pattern each time: signal offset and value.
static const int pattern[][2] = {{2, 1}, {0, 2}, {3, 3}, {0, 4}, {2, 5}, {1, 6}, {3, 7}, {0, 8}};
static void queue_pattern(void)
{
    for (size_t i = 0; i < sizeof pattern / sizeof pattern[0]; i++)
        if (sigqueue(getpid(), SIGRTMIN + pattern[i][0], (union sigval){.sival_int = pattern[i][1]}) != 0)
            printf("sigqueue: %s\n", strerrorname_np(errno));
}

static void print_pending(const char* what)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    printf("%s:", what);
    for (int i = 1; i < 65; i++)
        if (sigismember(&s, i)) {
            if (i >= SIGRTMIN)
                printf(" RTMIN+%d", i - SIGRTMIN);
            else
                printf(" %s", sigabbrev_np(i));
        }
    printf("\n");
}

static const char* name(int sig)
{
    static char buf[32];
    if (sig >= SIGRTMIN) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    return sigabbrev_np(sig);
}

// Raw rt_sigtimedwait: glibc folds SI_TKILL into SI_USER.
static int timedwait(const sigset_t* set, siginfo_t* info, const struct timespec* ts)
{
    return syscall(SYS_rt_sigtimedwait, set, info, ts, 8);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    sigset_t rts = rt_set();
    struct timespec zero = {0, 0};

    // Dequeue order with sigtimedwait.
    sigprocmask(SIG_BLOCK, &rts, NULL);
    queue_pattern();
    print_pending("pending after queueing 8");
    printf("sigtimedwait order:");
    siginfo_t info;
    int sig;
    while ((sig = timedwait(&rts, &info, &zero)) > 0)
        printf(" %d:%d", sig - SIGRTMIN, info.si_value.sival_int);
    printf(" then %s\n", strerrorname_np(errno));

    // sigwaitinfo on a subset leaves the others queued.
    queue_pattern();
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGRTMIN + 2);
    sig = sigwaitinfo(&only2, &info);
    printf("sigwaitinfo({RTMIN+2}): %s value=%d code=%d\n", name(sig), info.si_value.sival_int, info.si_code);
    sig = sigwaitinfo(&only2, &info);
    printf("sigwaitinfo({RTMIN+2}): %s value=%d\n", name(sig), info.si_value.sival_int);
    print_pending("pending");
    printf("rest:");
    while ((sig = timedwait(&rts, &info, &zero)) > 0)
        printf(" %d:%d", sig - SIGRTMIN, info.si_value.sival_int);
    printf("\n");

    // Handlers on unblock: empty sa_mask (frames nest), then sa_mask = all four.
    install(NULL);
    queue_pattern();
    reset_seen();
    sigprocmask(SIG_UNBLOCK, &rts, NULL);
    printf("handlers, empty sa_mask:%s\n", seen);
    install(&rts);
    sigprocmask(SIG_BLOCK, &rts, NULL);
    queue_pattern();
    reset_seen();
    sigprocmask(SIG_UNBLOCK, &rts, NULL);
    printf("handlers, sa_mask = RTMIN..RTMIN+3:%s\n", seen);

    // Mixed: standard before realtime, standard ones coalesce, the realtime ones don't.
    sigset_t mix = rts;
    sigaddset(&mix, SIGUSR1);
    sigaddset(&mix, SIGTERM);
    sigaddset(&mix, SIGHUP);
    sigprocmask(SIG_BLOCK, &mix, NULL);
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 10});
    raise(SIGTERM);
    raise(SIGRTMIN);
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 11});
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 12}); // coalesced: dropped
    raise(SIGHUP);
    kill(getpid(), SIGRTMIN + 1);
    raise(SIGTERM);
    printf("mixed order:");
    while ((sig = timedwait(&mix, &info, &zero)) > 0) {
        printf(" %s(code=%d", name(sig), info.si_code);
        if (info.si_code == SI_QUEUE)
            printf(",value=%d", info.si_value.sival_int);
        printf(")");
    }
    printf("\n");

    // Thread-directed (tgkill) and process-directed (kill) entries of one realtime signal.
    sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = 1});
    raise(SIGRTMIN + 3);
    sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = 2});
    raise(SIGRTMIN + 3);
    printf("RTMIN+3 from sigqueue/raise interleaved:");
    while ((sig = timedwait(&mix, &info, &zero)) > 0)
        printf(" %s", info.si_code == SI_QUEUE ? (info.si_value.sival_int == 1 ? "queue1" : "queue2") : "tkill");
    printf("\n");

    // sigtimedwait timeouts and errors.
    struct timespec t50 = {0, 50 * 1000 * 1000};
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    errno = 0;
    sig = timedwait(&mix, &info, &t50);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    printf("sigtimedwait(50 ms, nothing pending) = %d %s, waited >= 50 ms: %s\n", sig, strerrorname_np(errno),
           tf(ms >= 50));
    struct timespec bad = {0, 1000000000};
    errno = 0;
    sig = timedwait(&mix, &info, &bad);
    printf("sigtimedwait(tv_nsec=1e9) = %d %s\n", sig, strerrorname_np(errno));
    bad.tv_nsec = -1;
    errno = 0;
    sig = timedwait(&mix, &info, &bad);
    printf("sigtimedwait(tv_nsec=-1) = %d %s\n", sig, strerrorname_np(errno));
    errno = 0;
    sig = syscall(SYS_rt_sigtimedwait, &mix, &info, &zero, 4);
    printf("rt_sigtimedwait(sigsetsize=4) = %d %s\n", sig, strerrorname_np(errno));
    raise(SIGHUP);
    errno = 0;
    sig = timedwait(&mix, NULL, &zero); // info may be NULL
    printf("sigtimedwait(info=NULL) = %s\n", sig > 0 ? name(sig) : strerrorname_np(errno));
    // SIGKILL/SIGSTOP in the wait set are ignored (can't be waited for).
    sigset_t ks;
    sigemptyset(&ks);
    sigaddset(&ks, SIGKILL);
    sigaddset(&ks, SIGSTOP);
    errno = 0;
    sig = timedwait(&ks, &info, &zero);
    printf("sigtimedwait({KILL,STOP}, 0) = %d %s\n", sig, strerrorname_np(errno));

    // RLIMIT_SIGPENDING (counted per user, so the limit used is 0: nothing can be
    // allocated). A realtime signal beyond the limit: sigqueue and tgkill fail with
    // EAGAIN, kill() succeeds but queues no siginfo (one bare bit: SI_USER, pid 0);
    // a standard signal is always accepted, kill() even keeps its siginfo.
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct rlimit lim = {0, 0};
        if (setrlimit(RLIMIT_SIGPENDING, &lim) != 0)
            printf("setrlimit: %s\n", strerrorname_np(errno));
        sigset_t w = rts;
        sigaddset(&w, SIGUSR1);
        sigprocmask(SIG_BLOCK, &w, NULL);
        for (int i = 0; i < 2; i++) {
            errno = 0;
            int r = sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
            printf("limit 0: sigqueue(RTMIN) = %d %s\n", r, r ? strerrorname_np(errno) : "");
        }
        errno = 0;
        int r = raise(SIGRTMIN);
        printf("limit 0: raise(RTMIN) = %d %s\n", r, r ? strerrorname_np(errno) : "");
        int killed = 0;
        for (int i = 0; i < 3; i++)
            killed += kill(getpid(), SIGRTMIN) == 0;
        printf("limit 0: kill(RTMIN) x3 succeeded %d\n", killed);
        while ((sig = timedwait(&w, &info, &zero)) > 0)
            printf("  dequeued %s code=%d pid_is_self=%s\n", name(sig), info.si_code, tf(info.si_pid == getpid()));
        const char* how[] = {"raise", "kill", "sigqueue"};
        for (int k = 0; k < 3; k++) {
            errno = 0;
            r = k == 0 ? raise(SIGUSR1) : k == 1 ? kill(getpid(), SIGUSR1) : sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 5});
            memset(&info, 0, sizeof info);
            sig = timedwait(&w, &info, &zero);
            printf("limit 0: %s(USR1) = %d %s, dequeued %s code=%d pid_is_self=%s value=%d\n", how[k], r,
                   r ? strerrorname_np(errno) : "", sig > 0 ? name(sig) : "nothing", info.si_code,
                   tf(info.si_pid == getpid()), info.si_value.sival_int);
        }
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    return 0;
}
