// Children that reap themselves: with SIGCHLD ignored (SIG_IGN) or SA_NOCLDWAIT, an
// exiting child leaves no zombie, and a blocking wait sleeps until the last child is
// gone, then fails with ECHILD. What counts is the parent's action when the child
// exits: zombies made before SIG_IGN stay, a child gone under SIG_IGN stays gone after
// SIG_DFL is back, and children exit as zombies again under SIG_DFL. Only SIGCHLD
// exits reap themselves (a clone child with another exit signal, or none, stays a
// zombie), stops are still reported, and an ignored SIGCHLD is not even left pending
// when blocked.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static void on_alarm(int sig) { (void)sig; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {on ? 2 : 0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void set_chld(void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(SIGCHLD, &sa, NULL);
}

static int chld_pending(void)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, SIGCHLD);
}

// Until kill(pid, 0) fails: the process is gone, not even a zombie (at most 2 s).
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

// Two children: one exits at once, the other 50 ms later after writing to `mark`.
// A wait that returns ECHILD must come after that write.
static void two_children(int mark_fd)
{
    fflush(stdout);
    if (fork() == 0)
        _exit(1);
    if (fork() == 0) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        write(mark_fd, "m", 1);
        _exit(2);
    }
}

static int marked(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 1)
        return 0;
    char c;
    return read(fd, &c, 1) == 1;
}

static void blocking_waits(const char* what)
{
    int mark[2];
    pipe(mark);
    two_children(mark[1]);
    guard(1);
    errno = 0;
    pid_t w = wait(NULL);
    int e = errno;
    guard(0);
    printf("%s: wait() = %d %s, after the last child's exit: %s\n", what, (int)w, strerrorname_np(e),
           tf(marked(mark[0])));
    two_children(mark[1]);
    siginfo_t si;
    guard(1);
    errno = 0;
    int r = waitid(P_ALL, 0, &si, WEXITED);
    e = errno;
    guard(0);
    printf("  waitid(P_ALL) = %d %s, after the last child's exit: %s\n", r, strerrorname_np(e), tf(marked(mark[0])));
    close(mark[0]);
    close(mark[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the wait
    sigaction(SIGALRM, &sa, NULL);

    // A zombie made under SIG_DFL survives the switch to SIG_IGN.
    fflush(stdout);
    pid_t old = fork();
    if (old == 0)
        _exit(9);
    siginfo_t si;
    waitid(P_PID, old, &si, WEXITED | WNOWAIT);
    set_chld(SIG_IGN, 0);
    int st = 0;
    pid_t w = waitpid(old, &st, WNOHANG);
    printf("zombie from before SIG_IGN: still reaped by waitpid: %s, exit %d\n", tf(w == old), WEXITSTATUS(st));

    blocking_waits("SIG_IGN");

    // SIG_IGN with SIGCHLD blocked: no signal is left pending.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    printf("SIG_IGN, SIGCHLD blocked: child gone by itself: %s, SIGCHLD pending: %s\n", tf(gone(c)),
           tf(chld_pending()));
    sigprocmask(SIG_UNBLOCK, &chld, NULL);

    // A stopped child is still reported under SIG_IGN; its exit is not.
    fflush(stdout);
    c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        _exit(3);
    }
    guard(1);
    w = waitpid(c, &st, WUNTRACED);
    guard(0);
    printf("SIG_IGN: stop reported: %s\n", tf(w == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP));
    kill(c, SIGCONT);
    guard(1);
    errno = 0;
    w = waitpid(c, &st, 0);
    int e = errno;
    guard(0);
    printf("  after SIGCONT: waitpid = %d %s\n", (int)w, strerrorname_np(e));

    // Only exits that signal SIGCHLD reap themselves.
    signal(SIGUSR1, SIG_IGN);
    fflush(stdout);
    long cl = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
    if (cl == 0)
        _exit(4);
    guard(1);
    w = waitpid((pid_t)cl, &st, __WALL);
    guard(0);
    printf("SIG_IGN, clone child with exit signal SIGUSR1: left a zombie, reaped: %s exit %d\n", tf(w == cl),
           w == cl ? WEXITSTATUS(st) : -1);
    fflush(stdout);
    cl = syscall(SYS_clone, 0, 0, 0, 0, 0);
    if (cl == 0)
        _exit(5);
    guard(1);
    w = waitpid((pid_t)cl, &st, __WALL);
    guard(0);
    printf("SIG_IGN, clone child with no exit signal: left a zombie, reaped: %s exit %d\n", tf(w == cl),
           w == cl ? WEXITSTATUS(st) : -1);
    signal(SIGUSR1, SIG_DFL);

    // A child gone under SIG_IGN stays gone once SIG_DFL is back.
    fflush(stdout);
    c = fork();
    if (c == 0)
        _exit(6);
    int was_gone = gone(c);
    set_chld(SIG_DFL, 0);
    errno = 0;
    w = waitpid(c, &st, WNOHANG);
    printf("child gone under SIG_IGN, then SIG_DFL: gone: %s, waitpid = %d %s\n", tf(was_gone), (int)w,
           strerrorname_np(errno));

    // SA_NOCLDWAIT with the default action: the same reaping.
    set_chld(SIG_DFL, SA_NOCLDWAIT);
    blocking_waits("SIG_DFL with SA_NOCLDWAIT");
    fflush(stdout);
    c = fork();
    if (c == 0)
        _exit(7);
    printf("  a child exits: gone by itself: %s\n", tf(gone(c)));

    // SIG_DFL again: zombies again.
    set_chld(SIG_DFL, 0);
    fflush(stdout);
    c = fork();
    if (c == 0)
        _exit(8);
    memset(&si, 0, sizeof si);
    guard(1);
    int r = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    guard(0);
    printf("SIG_DFL: the exited child is a zombie: %s, still there for kill(0): %s\n",
           tf(r == 0 && si.si_pid == c && si.si_status == 8), tf(kill(c, 0) == 0));
    w = waitpid(c, &st, 0);
    printf("  waitpid reaps it: %s exit %d\n", tf(w == c), WEXITSTATUS(st));
    return 0;
}
