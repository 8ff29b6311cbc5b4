// Timers that send signals: alarm, setitimer(ITIMER_REAL) with an interval, POSIX
// timers (SIGEV_SIGNAL with a value, the default sigevent, SIGEV_THREAD_ID, SIGEV_NONE,
// absolute times), timer_gettime/getitimer while armed, overruns, timer_delete and the
// argument checks; fork does not inherit them.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits;
static siginfo_t last;
static volatile pthread_t handler_thread;
static int done_pipe[2] = {-1, -1};

static void on_sig(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    (void)uc;
    last = *info;
    handler_thread = pthread_self();
    hits++;
    if (done_pipe[1] >= 0)
        write(done_pipe[1], "h", 1);
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static const char* code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_TIMER: return "SI_TIMER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    default: return "other";
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long ns(const struct timespec* t) { return t->tv_sec * 1000000000L + t->tv_nsec; }

static void wait_hits(int n)
{
    while (hits < n)
        pause();
}

// A thread that says its tid and then waits in read().
static int thr_ready[2], thr_wake[2];
static pid_t thr_tid;
static void* reader_main(void* arg)
{
    (void)arg;
    thr_tid = gettid();
    write(thr_ready[1], "r", 1);
    char c;
    read(thr_wake[0], &c, 1);
    return NULL;
}

static void* nothing_main(void* arg)
{
    (void)arg;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    install(SIGALRM);

    long rr;

    // alarm: return values and one delivery.
    printf("alarm(5) = %u\n", alarm(5));
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    printf("getitimer after alarm(5): value in (4 s, 5 s]: %s, interval 0: %s\n",
           tf(it.it_value.tv_sec == 4 || (it.it_value.tv_sec == 5 && it.it_value.tv_usec == 0)),
           tf(it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 0));
    printf("alarm(1) = %u\n", alarm(1));
    printf("alarm(0) = %u\n", alarm(0));
    double t0 = now_s();
    alarm(1);
    int r = pause();
    double dt = now_s() - t0;
    printf("alarm(1) + pause(): pause = %d %s, handler ran %d, code %s, waited ~1 s: %s\n", r, strerrorname_np(errno),
           (int)hits, code_name(last.si_code), tf(dt > 0.9 && dt < 1.9));
    hits = 0;

    // setitimer with an interval: three deliveries, then disarmed.
    struct itimerval every = {{0, 30000}, {0, 30000}}, old;
    setitimer(ITIMER_REAL, &every, NULL);
    getitimer(ITIMER_REAL, &it);
    printf("getitimer while armed: value in (0, 30 ms]: %s, interval 30 ms: %s\n",
           tf((it.it_value.tv_sec == 0 && it.it_value.tv_usec > 0 && it.it_value.tv_usec <= 30000)),
           tf(it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 30000));
    wait_hits(3);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &old);
    printf("ITIMER_REAL 30 ms interval: %d deliveries, code %s; setitimer returned the old interval: %s\n", (int)hits,
           code_name(last.si_code), tf(old.it_interval.tv_usec == 30000));
    getitimer(ITIMER_REAL, &it);
    printf("after disarming: value 0: %s\n", tf(it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0));
    hits = 0;
    errno = 0;
    r = setitimer(99, &every, NULL);
    printf("setitimer(99) = %d %s\n", r, strerrorname_np(errno));
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    errno = 0;
    r = setitimer(ITIMER_REAL, &bad, NULL);
    printf("setitimer(tv_usec = 1e6) = %d %s\n", r, strerrorname_np(errno));
    // A tiny value still fires; usec rounding is by the timer's own resolution.
    struct itimerval tiny = {{0, 0}, {0, 1}};
    setitimer(ITIMER_REAL, &tiny, NULL);
    wait_hits(1);
    printf("setitimer(1 us): fired %d\n", (int)hits);
    hits = 0;

    // POSIX timer, SIGEV_SIGNAL with a value.
    install(SIGRTMIN);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_value.sival_int = 77;
    timer_t tid;
    r = timer_create(CLOCK_MONOTONIC, &sev, &tid);
    printf("timer_create(MONOTONIC, SIGEV_SIGNAL) = %d\n", r);
    struct itimerspec its = {{0, 0}, {0, 30 * 1000000}}, ogot, got;
    timer_settime(tid, 0, &its, NULL);
    wait_hits(1);
    printf("fired: signo RTMIN: %s code %s value %d overrun %d timerid matches: %s\n",
           tf(last.si_signo == SIGRTMIN), code_name(last.si_code), last.si_value.sival_int, last.si_overrun,
           tf(last.si_timerid == (int)(intptr_t)tid));
    hits = 0;
    timer_gettime(tid, &got);
    printf("timer_gettime after a one-shot fired: all zero: %s\n",
           tf(ns(&got.it_value) == 0 && ns(&got.it_interval) == 0));
    // Armed: value counts down, interval is exact; settime returns the old setting.
    struct itimerspec slow = {{0, 250 * 1000000}, {1, 0}};
    timer_settime(tid, 0, &slow, NULL);
    timer_gettime(tid, &got);
    printf("timer_gettime while armed: value in (0, 1 s]: %s, interval 250 ms: %s\n",
           tf(ns(&got.it_value) > 0 && ns(&got.it_value) <= 1000000000L), tf(ns(&got.it_interval) == 250000000L));
    struct itimerspec zero_its = {{0, 0}, {0, 0}};
    timer_settime(tid, 0, &zero_its, &ogot);
    printf("disarm: old value in (0, 1 s]: %s, old interval 250 ms: %s, overrun %d\n",
           tf(ns(&ogot.it_value) > 0 && ns(&ogot.it_value) <= 1000000000L), tf(ns(&ogot.it_interval) == 250000000L),
           timer_getoverrun(tid));
    // Absolute time in the past: fires at once.
    struct itimerspec past = {{0, 0}, {1, 0}};
    timer_settime(tid, TIMER_ABSTIME, &past, NULL);
    wait_hits(1);
    printf("TIMER_ABSTIME in the past: fired %d\n", (int)hits);
    hits = 0;
    // Bad values.
    struct itimerspec badts = {{0, 0}, {0, 1000000000}};
    errno = 0;
    r = timer_settime(tid, 0, &badts, NULL);
    printf("timer_settime(tv_nsec = 1e9) = %d %s\n", r, strerrorname_np(errno));
    r = timer_delete(tid);
    printf("timer_delete = %d\n", r);
    errno = 0;
    r = timer_gettime(tid, &got);
    printf("timer_gettime after delete = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timer_delete(tid);
    printf("timer_delete again = %d %s\n", r, strerrorname_np(errno));

    // The kernel's default sigevent (the raw call: glibc passes its own): SIGALRM
    // carrying the timer id.
    int dkid = -1;
    rr = syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &dkid);
    its.it_value.tv_nsec = 20 * 1000000;
    syscall(SYS_timer_settime, dkid, 0, &its, NULL);
    wait_hits(1);
    printf("timer_create(REALTIME, NULL) = %ld: signo %s code %s value is the timer id: %s, si_timerid too: %s\n", rr,
           sigabbrev_np(last.si_signo), code_name(last.si_code), tf(last.si_value.sival_int == dkid),
           tf(last.si_timerid == dkid));
    hits = 0;
    syscall(SYS_timer_delete, dkid);

    // SIGEV_NONE: no signal, but the timer runs.
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    struct itimerspec ten = {{0, 0}, {10, 0}};
    timer_settime(tid, 0, &ten, NULL);
    timer_gettime(tid, &got);
    printf("SIGEV_NONE: counting down: %s\n", tf(ns(&got.it_value) > 0 && ns(&got.it_value) <= 10000000000L));
    timer_delete(tid);

    // Overruns: a periodic timer whose signal is blocked queues one signal and counts
    // the expirations it could not queue.
    int rt1 = SIGRTMIN + 1;
    sigset_t b;
    sigemptyset(&b);
    sigaddset(&b, rt1);
    sigprocmask(SIG_BLOCK, &b, NULL);
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = rt1;
    sev.sigev_value.sival_int = 5;
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    struct itimerspec fast = {{0, 2000000}, {0, 2000000}};
    timer_settime(tid, 0, &fast, NULL);
    struct timespec sl = {0, 60 * 1000000};
    while (nanosleep(&sl, &sl) != 0) {
    }
    siginfo_t info;
    struct timespec zero = {0, 0};
    int s = sigtimedwait(&b, &info, &zero);
    printf("periodic 2 ms timer, signal blocked for 60 ms: dequeued %s, overrun > 5: %s, getoverrun matches: %s\n",
           s == rt1 ? "RTMIN+1" : "?", tf(info.si_overrun > 5), tf(timer_getoverrun(tid) == info.si_overrun));
    timer_delete(tid);
    s = sigtimedwait(&b, &info, &zero);
    printf("after timer_delete: another one queued: %s\n", tf(s == rt1));
    // A deleted timer's pending signal.
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    struct itimerspec once = {{0, 0}, {0, 1000000}};
    timer_settime(tid, 0, &once, NULL);
    sigset_t p;
    do {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        sigpending(&p);
    } while (!sigismember(&p, rt1));
    timer_delete(tid);
    sigpending(&p);
    s = sigtimedwait(&b, &info, &zero);
    printf("timer deleted while its signal is pending: still pending: %s, dequeued: %s\n", tf(sigismember(&p, rt1)),
           tf(s == rt1));
    sigprocmask(SIG_UNBLOCK, &b, NULL);

    // SIGEV_THREAD_ID: the signal goes to the named thread.
    pipe(done_pipe);
    pipe(thr_ready);
    pipe(thr_wake);
    pthread_t th;
    pthread_create(&th, NULL, reader_main, NULL);
    char c;
    read(thr_ready[0], &c, 1);
    install(SIGUSR1);
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 9;
    sev._sigev_un._tid = thr_tid;
    int kid = -1;
    rr = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
    struct itimerspec soon = {{0, 0}, {0, 20 * 1000000}};
    syscall(SYS_timer_settime, kid, 0, &soon, NULL);
    read(done_pipe[0], &c, 1);
    printf("SIGEV_THREAD_ID: timer_create = %ld, handler ran in that thread: %s, code %s value %d\n", rr,
           tf(pthread_equal(handler_thread, th)), code_name(last.si_code), last.si_value.sival_int);
    syscall(SYS_timer_delete, kid);
    write(thr_wake[1], "q", 1);
    pthread_join(th, NULL);
    close(done_pipe[1]);
    done_pipe[1] = -1;
    hits = 0;
    // A thread that has exited, or no thread: EINVAL.
    pthread_create(&th, NULL, nothing_main, NULL);
    pthread_join(th, NULL);
    sev._sigev_un._tid = thr_tid; // joined above
    errno = 0;
    rr = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
    printf("SIGEV_THREAD_ID naming an exited thread: %ld %s\n", rr, strerrorname_np(errno));

    // Argument checks.
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    errno = 0;
    rr = syscall(SYS_timer_create, 99, &sev, &kid);
    printf("timer_create(clock 99) = %ld %s\n", rr, strerrorname_np(errno));
    sev.sigev_signo = 0;
    errno = 0;
    rr = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
    printf("timer_create(signal 0) = %ld %s\n", rr, strerrorname_np(errno));
    sev.sigev_signo = 65;
    errno = 0;
    rr = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
    printf("timer_create(signal 65) = %ld %s\n", rr, strerrorname_np(errno));
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_notify = 99;
    errno = 0;
    rr = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
    printf("timer_create(sigev_notify 99) = %ld %s\n", rr, strerrorname_np(errno));
    errno = 0;
    rr = syscall(SYS_timer_settime, 12345, 0, &soon, NULL);
    printf("timer_settime(unknown id) = %ld %s\n", rr, strerrorname_np(errno));

    // fork: the child has no alarm, no ITIMER_REAL, no POSIX timers.
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    timer_settime(tid, 0, &ten, NULL);
    alarm(10);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct itimerval cit;
        getitimer(ITIMER_REAL, &cit);
        unsigned a = alarm(0);
        errno = 0;
        int g = timer_gettime(tid, &got);
        printf("child after fork: alarm(0) = %u, ITIMER_REAL zero: %s, parent's timer: %d %s\n", a,
               tf(cit.it_value.tv_sec == 0 && cit.it_value.tv_usec == 0), g, strerrorname_np(errno));
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("parent still has its alarm: %s\n", tf(alarm(0) > 0));
    timer_delete(tid);
    return 0;
}
