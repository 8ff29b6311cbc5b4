// Timers on CPU time: ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF), POSIX timers
// on CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID, and RLIMIT_CPU's SIGXCPU.
// Each is armed for a few milliseconds of CPU and the program computes until it fires.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits[65];
static siginfo_t last;
static void on_sig(int sig, siginfo_t* info, void* uc)
{
    (void)uc;
    hits[sig]++;
    last = *info;
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

// Computes until `sig` has arrived (or 5 s of wall time have passed).
static volatile unsigned long sink;
static int burn_until(int sig)
{
    double end = wall() + 5;
    while (!hits[sig] && wall() < end)
        for (int i = 0; i < 10000; i++)
            sink += i * 3;
    return hits[sig] > 0;
}

static const char* code_name(int code)
{
    return code == SI_KERNEL ? "SI_KERNEL" : code == SI_TIMER ? "SI_TIMER" : code == SI_USER ? "SI_USER" : "other";
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);

    // Linux adds one scheduler tick to CPU itimers: getitimer may report up to 10 ms + 1 tick.
    struct itimerval ten_ms = {{0, 0}, {0, 10000}}, got;
    install(SIGVTALRM);
    int r = setitimer(ITIMER_VIRTUAL, &ten_ms, NULL);
    getitimer(ITIMER_VIRTUAL, &got);
    printf("setitimer(ITIMER_VIRTUAL, 10 ms) = %d, armed (0 < value <= 20 ms): %s\n", r,
           tf(got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 20000));
    int fired = burn_until(SIGVTALRM);
    printf("  SIGVTALRM after computing: %s, code %s\n", tf(fired), code_name(last.si_code));

    install(SIGPROF);
    r = setitimer(ITIMER_PROF, &ten_ms, NULL);
    getitimer(ITIMER_PROF, &got);
    printf("setitimer(ITIMER_PROF, 10 ms) = %d, armed (0 < value <= 20 ms): %s\n", r,
           tf(got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 20000));
    fired = burn_until(SIGPROF);
    printf("  SIGPROF after computing: %s, code %s\n", tf(fired), code_name(last.si_code));

    // Interval: three SIGVTALRMs, then disarmed.
    hits[SIGVTALRM] = 0;
    struct itimerval every = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &every, NULL);
    double end = wall() + 5;
    while (hits[SIGVTALRM] < 3 && wall() < end)
        for (int i = 0; i < 10000; i++)
            sink += i;
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    printf("ITIMER_VIRTUAL 5 ms interval: at least 3 deliveries: %s\n", tf(hits[SIGVTALRM] >= 3));

    int clocks[] = {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    const char* names[] = {"CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID"};
    for (int i = 0; i < 2; i++) {
        int sig = SIGRTMIN + i;
        install(sig);
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = sig;
        sev.sigev_value.sival_int = 100 + i;
        timer_t t;
        r = timer_create(clocks[i], &sev, &t);
        struct itimerspec its = {{0, 0}, {0, 10 * 1000000}}, g;
        timer_settime(t, 0, &its, NULL);
        timer_gettime(t, &g);
        printf("timer_create(%s) = %d, armed: %s\n", names[i], r,
               tf(g.it_value.tv_sec == 0 && g.it_value.tv_nsec > 0 && g.it_value.tv_nsec <= 10 * 1000000));
        fired = burn_until(sig);
        printf("  fired after computing: %s, code %s value %d\n", tf(fired), code_name(last.si_code),
               last.si_value.sival_int);
        timer_delete(t);
    }

    // RLIMIT_CPU: SIGXCPU at the soft limit (1 s of CPU), which kills by default.
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct rlimit cpu = {1, 3};
        if (setrlimit(RLIMIT_CPU, &cpu) != 0)
            printf("setrlimit(RLIMIT_CPU): %s\n", strerrorname_np(errno));
        fflush(stdout);
        burn_until(SIGXCPU);
        _exit(5);
    }
    int status;
    waitpid(child, &status, 0);
    printf("RLIMIT_CPU soft 1 s, computing -> %s %s\n", WIFSIGNALED(status) ? "killed by" : "exited",
           WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "(wrong)");
    return 0;
}
