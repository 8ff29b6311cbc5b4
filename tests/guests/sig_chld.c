// SIGCHLD and its flags: SA_NOCLDSTOP silences stop/continue notifications;
// SA_NOCLDWAIT and SIG_IGN make children reap themselves (wait ends with ECHILD), with
// SA_NOCLDWAIT still sending SIGCHLD to a handler; reaping does not take back a pending
// SIGCHLD; a child created by clone() with another exit signal notifies with that
// signal and is only found by waitpid with __WALL or __WCLONE.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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

static void set(int sig, int flags, int ignore)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (ignore)
        sa.sa_handler = SIG_IGN;
    else
        sa.sa_sigaction = on_sig;
    sa.sa_flags = flags | (ignore ? 0 : SA_SIGINFO);
    sigaction(sig, &sa, NULL);
}

static void mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

static const char* cld(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    default: return "?";
    }
}

static int pending(int sig)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    // SA_NOCLDSTOP: stop and continue send nothing, the exit does.
    set(SIGCHLD, SA_NOCLDSTOP, 0);
    mask(SIG_BLOCK, SIGCHLD);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(4);
    }
    int status;
    waitpid(child, &status, WUNTRACED);
    printf("SA_NOCLDSTOP: child stopped: %s, SIGCHLD pending: %s\n", tf(WIFSTOPPED(status)), tf(pending(SIGCHLD)));
    kill(child, SIGCONT);
    waitpid(child, &status, 0);
    printf("  after continue and exit %d: SIGCHLD pending: %s\n", WEXITSTATUS(status), tf(pending(SIGCHLD)));
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("  handler: %d call, %s\n", (int)hits[SIGCHLD], cld(last.si_code));
    hits[SIGCHLD] = 0;

    pid_t w;

    // A pending SIGCHLD outlives the reaping of its child.
    mask(SIG_BLOCK, SIGCHLD);
    fflush(stdout);
    child = fork();
    if (child == 0)
        _exit(1);
    waitpid(child, &status, 0);
    printf("after waitpid reaped the child: SIGCHLD still pending: %s\n", tf(pending(SIGCHLD)));
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("  handler: %d call, %s status %d\n", (int)hits[SIGCHLD], cld(last.si_code), last.si_status);
    hits[SIGCHLD] = 0;

    // A blocking waitpid and the child's own SIGCHLD, whose handler has no SA_RESTART:
    // the exit makes the child reapable before the signal can interrupt the wait, so
    // waitpid returns the child (and the handler runs after it).
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct timespec ts = {0, 20 * 1000000}; // let the parent block in waitpid
        nanosleep(&ts, NULL);
        _exit(8);
    }
    errno = 0;
    w = waitpid(child, &status, 0);
    printf("blocking waitpid, SIGCHLD handler without SA_RESTART: returned the child: %s %s, exit %d, handler %d call\n",
           tf(w == child), w == child ? "" : strerrorname_np(errno), w == child ? WEXITSTATUS(status) : -1,
           (int)hits[SIGCHLD]);
    if (w != child)
        waitpid(child, &status, 0);
    hits[SIGCHLD] = 0;

    // SA_NOCLDWAIT with a handler: the child is not left for wait, SIGCHLD still comes.
    set(SIGCHLD, SA_NOCLDWAIT, 0);
    mask(SIG_BLOCK, SIGCHLD);
    fflush(stdout);
    child = fork();
    if (child == 0)
        _exit(2);
    errno = 0;
    w = wait(&status); // waits until the child is gone, then ECHILD
    printf("SA_NOCLDWAIT: wait() = %d %s, SIGCHLD pending: %s\n", (int)w, strerrorname_np(errno), tf(pending(SIGCHLD)));
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("  handler: %d call, %s status %d pid ok %s\n", (int)hits[SIGCHLD], cld(last.si_code), last.si_status,
           tf(last.si_pid == child));
    hits[SIGCHLD] = 0;
    errno = 0;
    w = waitpid(child, &status, WNOHANG);
    printf("  waitpid(child) afterwards = %d %s\n", (int)w, strerrorname_np(errno));

    // SIG_IGN: same reaping, no signal.
    set(SIGCHLD, 0, 1);
    fflush(stdout);
    for (int i = 0; i < 3; i++) {
        child = fork();
        if (child == 0)
            _exit(3);
    }
    errno = 0;
    w = wait(&status);
    printf("SIGCHLD ignored, three children: wait() = %d %s, SIGCHLD pending: %s\n", (int)w, strerrorname_np(errno),
           tf(pending(SIGCHLD)));
    // waitid(WNOWAIT) for a child that exits while SIGCHLD is ignored: it reaps itself,
    // so the wait ends with ECHILD.
    fflush(stdout);
    child = fork();
    if (child == 0)
        _exit(3);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    errno = 0;
    int r = waitid(P_PID, child, &info, WEXITED | WNOWAIT);
    printf("  waitid(WNOWAIT) on it = %d %s\n", r, strerrorname_np(errno));
    // Back to SIG_DFL: a stopped child is reported to wait again.
    signal(SIGCHLD, SIG_DFL);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(6);
    }
    w = waitpid(child, &status, WUNTRACED);
    printf("SIG_DFL: stopped child reported: %s\n", tf(w == child && WIFSTOPPED(status)));
    kill(child, SIGCONT);
    waitpid(child, &status, 0);
    printf("  and reaped after SIGCONT: exit %d\n", WEXITSTATUS(status));

    // clone() with SIGUSR1 as the exit signal.
    set(SIGUSR1, 0, 0);
    mask(SIG_BLOCK, SIGUSR1);
    fflush(stdout);
    long c = syscall(SYS_clone, SIGUSR1, NULL, NULL, NULL, NULL);
    if (c == 0)
        _exit(9);
    child = (pid_t)c;
    errno = 0;
    w = waitpid(child, &status, 0);
    printf("clone(exit signal SIGUSR1): waitpid without __WALL = %d %s\n", (int)w, strerrorname_np(errno));
    w = waitpid(child, &status, __WALL);
    printf("  waitpid(__WALL) = child: %s, exit %d\n", tf(w == child), WEXITSTATUS(status));
    mask(SIG_UNBLOCK, SIGUSR1);
    printf("  SIGUSR1 handler: %d call, %s status %d pid ok %s\n", (int)hits[SIGUSR1], cld(last.si_code),
           last.si_status, tf(last.si_pid == child));
    printf("  SIGCHLD handler calls: %d\n", (int)hits[SIGCHLD]);
    fflush(stdout);
    c = syscall(SYS_clone, SIGUSR1, NULL, NULL, NULL, NULL);
    if (c == 0)
        _exit(10);
    w = waitpid((pid_t)c, &status, __WCLONE);
    printf("  waitpid(__WCLONE) = child: %s, exit %d\n", tf(w == (pid_t)c), WEXITSTATUS(status));
    // Exit signal 0: no notification at all.
    hits[SIGUSR1] = 0;
    hits[SIGCHLD] = 0;
    set(SIGCHLD, 0, 0);
    fflush(stdout);
    c = syscall(SYS_clone, 0, NULL, NULL, NULL, NULL);
    if (c == 0)
        _exit(11);
    w = waitpid((pid_t)c, &status, __WALL);
    printf("clone(exit signal 0): reaped: %s exit %d, SIGCHLD calls %d, SIGUSR1 calls %d\n", tf(w == (pid_t)c),
           WEXITSTATUS(status), (int)hits[SIGCHLD], (int)hits[SIGUSR1]);
    return 0;
}
