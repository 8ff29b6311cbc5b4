// What adoption changes (Linux reparent_leader()), seen from a child subreaper: an
// adopted clone child exits with SIGCHLD instead of its own exit signal (so a wait
// without __WALL finds it); a child that is already a zombie when adopted is
// announced to its new parent with SIGCHLD, and is reaped at once if that parent
// ignores SIGCHLD.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// Children report a pid through this pipe; the top reads under a 2 s guard.
static int report_pipe[2];
static int go_pipe[2];
static void on_alarm(int sig) { (void)sig; }
static pid_t next_pid(void)
{
    struct itimerval it = {{0, 0}, {2, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    pid_t p = 0;
    ssize_t n = read(report_pipe[0], &p, sizeof p);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (n != sizeof p)
        printf("  (no report within 2 s)\n");
    return p;
}

// One SIGCHLD taken with sigtimedwait (SIGCHLD is blocked): its pid and status.
static int take_sigchld(pid_t* pid, int* status)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct timespec two = {2, 0};
    if (sigtimedwait(&s, &si, &two) != SIGCHLD)
        return 0;
    *pid = si.si_pid;
    *status = si.si_status;
    return 1;
}
static void drain_sigchld(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) == SIGCHLD)
        ;
}

// Until kill(pid, 0) fails: gone, not even a zombie (at most 2 s).
static int gone(pid_t pid)
{
    for (int i = 0; i < 2000; i++) {
        if (kill(pid, 0) < 0 && errno == ESRCH)
            return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

// A middle process whose child is already a zombie (exit `code`) when it exits.
// Returns the middle process; the zombie's pid comes through the report pipe.
static pid_t zombie_under_mid(int code)
{
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        signal(SIGCHLD, SIG_DFL); // its own child must stay a zombie
        pid_t z = fork();
        if (z == 0)
            _exit(code);
        siginfo_t si;
        waitid(P_PID, z, &si, WEXITED | WNOWAIT); // now surely a zombie
        write(report_pipe[1], &z, sizeof z);
        _exit(code + 1);
    }
    return mid;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the read
    sigaction(SIGALRM, &sa, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1); // orphans come here natively and sandboxed alike
    pipe(report_pipe);
    pipe(go_pipe);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGCHLD);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    // A clone child with exit signal SIGUSR1, adopted: it now exits with SIGCHLD.
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        long x = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
        if (x == 0) {
            char c;
            read(go_pipe[0], &c, 1);
            _exit(31);
        }
        pid_t xp = (pid_t)x;
        write(report_pipe[1], &xp, sizeof xp);
        _exit(30);
    }
    pid_t x = next_pid();
    waitpid(mid, NULL, 0); // the adoption is done once its parent is reaped
    drain_sigchld();
    write(go_pipe[1], "x", 1);
    pid_t who = 0;
    int status = 0;
    int got = take_sigchld(&who, &status);
    printf("adopted clone child (exit signal SIGUSR1) exits: SIGCHLD about it: %s, status %d\n", tf(got && who == x),
           got ? status : -1);
    sigset_t pend;
    sigpending(&pend);
    printf("  SIGUSR1 pending: %s\n", tf(sigismember(&pend, SIGUSR1)));
    int st = 0;
    errno = 0;
    pid_t w = waitpid(x, &st, WNOHANG);
    printf("  waitpid without __WALL: %s\n", w == x ? "found it" : strerrorname_np(errno));
    if (w != x)
        waitpid(x, &st, __WALL);
    // Take back a SIGUSR1 that should not be there before unblocking it.
    struct timespec zero = {0, 0};
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigtimedwait(&usr1, NULL, &zero);

    // A zombie orphan is announced to its new parent: the first SIGCHLD (the middle
    // process's own exit's coalesces with it) is about the zombie.
    mid = zombie_under_mid(32);
    pid_t z = next_pid();
    waitpid(mid, NULL, 0);
    got = take_sigchld(&who, &status);
    printf("zombie orphan adopted: one SIGCHLD, about the zombie: %s, status %d\n", tf(got && who == z),
           got ? status : -1);
    drain_sigchld();
    w = waitpid(z, &st, WNOHANG);
    printf("  reaped by its new parent: %s, exit %d\n", tf(w == z), w == z ? WEXITSTATUS(st) : -1);
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);

    // With SIGCHLD ignored, the adopted zombie is reaped at once.
    signal(SIGCHLD, SIG_IGN);
    mid = zombie_under_mid(34);
    z = next_pid();
    int mid_gone = gone(mid); // it reaped itself: its child's adoption came before
    errno = 0;
    w = waitpid(z, &st, WNOHANG);
    printf("SIGCHLD ignored: the middle process reaped itself: %s; the adopted zombie too: waitpid = %d %s\n",
           tf(mid_gone), (int)w, strerrorname_np(errno));
    signal(SIGCHLD, SIG_DFL);

    // SA_NOCLDWAIT with a handler: reaped at once too, and announced.
    struct sigaction nocldwait;
    memset(&nocldwait, 0, sizeof nocldwait);
    nocldwait.sa_handler = on_alarm;
    nocldwait.sa_flags = SA_NOCLDWAIT | SA_RESTART;
    sigaction(SIGCHLD, &nocldwait, NULL);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    mid = zombie_under_mid(36);
    z = next_pid();
    mid_gone = gone(mid);
    got = take_sigchld(&who, &status);
    errno = 0;
    w = waitpid(z, &st, WNOHANG);
    printf("SA_NOCLDWAIT: the adopted zombie announced: %s, reaped at once: waitpid = %d %s\n", tf(got && who == z),
           (int)w, strerrorname_np(errno));
    drain_sigchld();
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    signal(SIGCHLD, SIG_DFL);
    return 0;
}
