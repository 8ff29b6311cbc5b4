// waitid(WNOWAIT) leaves a zombie in place: it is seen twice with identical siginfo
// (si_pid, si_uid, si_status, si_code CLD_EXITED / CLD_KILLED) and then reaped by
// waitpid. waitid by process group (P_PGID, 0 for the caller's) and P_ALL; WNOHANG
// with nothing to report returns 0 with si_pid and si_signo cleared; wait4 with 0,
// -pgid and -1 picks children by process group.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static const char* cld(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    default: return "?";
    }
}

static const char* status_name(const siginfo_t* si)
{
    static char buf[32];
    if (si->si_code == CLD_EXITED)
        snprintf(buf, sizeof buf, "%d", si->si_status);
    else
        snprintf(buf, sizeof buf, "%s", sigabbrev_np(si->si_status));
    return buf;
}

// Every blocking wait runs under a 2 s guard (SIGALRM without SA_RESTART): a wait that
// is never satisfied reads as EINTR instead of a hang.
static void on_alarm(int sig) { (void)sig; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {on ? 2 : 0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static int do_waitid(idtype_t type, id_t id, siginfo_t* si, int options)
{
    memset(si, 0x55, sizeof *si);
    guard(!(options & WNOHANG));
    errno = 0;
    int r = waitid(type, id, si, options);
    int e = errno;
    guard(0);
    errno = e;
    return r;
}

// A child that blocks until its pipe is written to, then exits with `code`.
struct held {
    pid_t pid;
    int fd;
};
static struct held held_child(int code, int own_group)
{
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        if (own_group)
            setpgid(0, 0);
        close(p[1]);
        char ch;
        read(p[0], &ch, 1);
        _exit(code);
    }
    if (own_group)
        setpgid(c, c); // both sides, so it is done whoever runs first
    close(p[0]);
    struct held h = {c, p[1]};
    return h;
}
static void release(struct held h)
{
    write(h.fd, "x", 1); // later children hold copies of the pipe: closing is not enough
    close(h.fd);
}

// Look at a zombie twice with WNOWAIT, then reap it with waitpid.
static void nowait_twice(const char* what, pid_t child)
{
    siginfo_t a, b;
    int r1 = do_waitid(P_PID, child, &a, WEXITED | WNOWAIT);
    int r2 = do_waitid(P_PID, child, &b, WEXITED | WNOWAIT);
    printf("%s: waitid(WNOWAIT) twice = %d %d: signo %s, %s status %s, si_pid==child: %s, si_uid==getuid: %s\n", what,
           r1, r2, sigabbrev_np(a.si_signo), cld(a.si_code), status_name(&a), tf(a.si_pid == child),
           tf(a.si_uid == getuid()));
    printf("  identical: %s\n", tf(a.si_signo == b.si_signo && a.si_code == b.si_code && a.si_pid == b.si_pid &&
                                   a.si_uid == b.si_uid && a.si_status == b.si_status && a.si_errno == b.si_errno));
    int st = 0;
    guard(1);
    pid_t w = waitpid(child, &st, 0);
    guard(0);
    if (WIFEXITED(st))
        printf("  waitpid reaps it: %s, exited %d\n", tf(w == child), WEXITSTATUS(st));
    else
        printf("  waitpid reaps it: %s, killed by %s, core dumped: %s\n", tf(w == child), sigabbrev_np(WTERMSIG(st)),
               tf(WCOREDUMP(st)));
    errno = 0;
    w = waitpid(child, &st, WNOHANG);
    printf("  then waitpid = %d %s\n", (int)w, strerrorname_np(errno));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the wait
    sigaction(SIGALRM, &sa, NULL);

    // An exit code.
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(3);
    nowait_twice("exit(3)", child);

    // abort() with RLIMIT_CORE 0: killed by SIGABRT, no core.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        abort();
    }
    nowait_twice("abort() with RLIMIT_CORE 0", child);

    // SIGKILL from the parent.
    struct held h = held_child(0, 0);
    kill(h.pid, SIGKILL);
    nowait_twice("SIGKILL", h.pid);
    close(h.fd);

    // WNOHANG while the child runs: 0, and the siginfo's pid and signo are cleared.
    h = held_child(4, 0);
    siginfo_t si;
    int r = do_waitid(P_PID, h.pid, &si, WEXITED | WNOHANG);
    printf("waitid(WNOHANG) on a running child = %d, si_pid==0: %s, si_signo==0: %s\n", r, tf(si.si_pid == 0),
           tf(si.si_signo == 0));
    r = do_waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
    printf("waitid(P_ALL, WNOHANG|WNOWAIT) = %d, si_pid==0: %s\n", r, tf(si.si_pid == 0));
    release(h);
    r = do_waitid(P_ALL, 0, &si, WEXITED | WNOWAIT);
    printf("after it exits: waitid(P_ALL, WNOWAIT) = %d, si_pid==child: %s, %s status %s\n", r,
           tf(si.si_pid == h.pid), cld(si.si_code), status_name(&si));
    r = do_waitid(P_ALL, 0, &si, WEXITED);
    printf("  waitid(P_ALL) reaps it: %d, si_pid==child: %s\n", r, tf(si.si_pid == h.pid));
    r = do_waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    printf("  then waitid(P_ALL, WNOHANG) = %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");

    // Process groups: one child in ours, two in a group of their own.
    struct held same = held_child(5, 0);
    struct held g1 = held_child(6, 1);
    int other_group[2];
    pipe(other_group);
    fflush(stdout);
    pid_t g2 = fork();
    if (g2 == 0) {
        setpgid(0, g1.pid);
        close(other_group[1]);
        char ch;
        read(other_group[0], &ch, 1);
        _exit(7);
    }
    setpgid(g2, g1.pid);
    close(other_group[0]);
    printf("process groups: child in ours: %s, the other two share one: %s\n", tf(getpgid(same.pid) == getpgrp()),
           tf(getpgid(g1.pid) == g1.pid && getpgid(g2) == g1.pid));
    r = do_waitid(P_PGID, g1.pid, &si, WEXITED | WNOHANG);
    printf("  waitid(P_PGID, theirs, WNOHANG) before any exit = %d, si_pid==0: %s\n", r, tf(si.si_pid == 0));
    release(g1);
    write(other_group[1], "x", 1);
    close(other_group[1]);
    release(same);
    // wait4(0): only the child in our group.
    int st = 0;
    guard(1);
    pid_t w = wait4(0, &st, 0, NULL);
    guard(0);
    printf("  wait4(0) = the child in our group: %s, exit %d\n", tf(w == same.pid), WEXITSTATUS(st));
    errno = 0;
    w = wait4(0, &st, WNOHANG, NULL);
    printf("  wait4(0, WNOHANG) again = %d %s\n", (int)w, strerrorname_np(errno));
    r = do_waitid(P_PGID, 0, &si, WEXITED | WNOHANG);
    printf("  waitid(P_PGID, 0) = %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    // waitid(P_PGID) with WNOWAIT, then wait4(-pgid) reaps both.
    r = do_waitid(P_PGID, g1.pid, &si, WEXITED | WNOWAIT);
    printf("  waitid(P_PGID, theirs, WNOWAIT) = %d, one of them: %s\n", r, tf(si.si_pid == g1.pid || si.si_pid == g2));
    int sum = 0, n = 0;
    for (;;) {
        guard(1);
        errno = 0;
        w = wait4(-g1.pid, &st, 0, NULL);
        guard(0);
        if (w < 0)
            break;
        n++;
        sum += WEXITSTATUS(st);
    }
    printf("  wait4(-pgid) reaped %d with status sum %d, then %s\n", n, sum, strerrorname_np(errno));
    errno = 0;
    w = wait4(-1, &st, 0, NULL);
    printf("wait4(-1) with no children left = %d %s\n", (int)w, strerrorname_np(errno));
    return 0;
}
