// Stop and continue as the waits report them: waitid(WSTOPPED|WCONTINUED) with and
// without WNOWAIT (si_code CLD_STOPPED/CLD_CONTINUED, si_status the signal, each report
// consumed once), wait4(WUNTRACED|WCONTINUED) raw statuses, a stop followed by a
// continue before anyone waited (only the continue is left), a stopped process with
// several threads, WNOHANG among several children, and a stopped process group that
// becomes orphaned (SIGHUP then SIGCONT, as POSIX requires).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

static const char* describe(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by %s", sigabbrev_np(WTERMSIG(status)));
    else if (WIFSTOPPED(status))
        snprintf(buf, sizeof buf, "stopped by %s (status 0x%x)", sigabbrev_np(WSTOPSIG(status)), status);
    else if (WIFCONTINUED(status))
        snprintf(buf, sizeof buf, "continued (status 0x%x)", status);
    else
        snprintf(buf, sizeof buf, "0x%x", status);
    return buf;
}

// Each blocking wait runs under a 2 s guard (SIGALRM without SA_RESTART).
static void on_alarm(int sig) { (void)sig; }
static volatile sig_atomic_t got_hup;
static void on_hup(int sig) { got_hup = sig; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {on ? 2 : 0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void show_waitid(const char* what, pid_t child, int options)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    guard(!(options & WNOHANG));
    errno = 0;
    int r = waitid(P_PID, child, &si, options);
    int e = errno;
    guard(0);
    if (r < 0)
        printf("%s: %s\n", what, strerrorname_np(e));
    else if (si.si_pid == 0)
        printf("%s: nothing to report\n", what);
    else
        printf("%s: %s %s, si_pid==child: %s, si_uid==getuid: %s\n", what, cld(si.si_code),
               si.si_code == CLD_EXITED ? "(exit code)" : sigabbrev_np(si.si_status), tf(si.si_pid == child),
               tf(si.si_uid == getuid()));
}

static void show_wait4(const char* what, pid_t pid, int options)
{
    int st = 0;
    guard(!(options & WNOHANG));
    errno = 0;
    pid_t w = wait4(pid, &st, options, NULL);
    int e = errno;
    guard(0);
    if (w < 0)
        printf("%s: %s\n", what, strerrorname_np(e));
    else if (w == 0)
        printf("%s: nothing to report\n", what);
    else
        printf("%s: %s\n", what, describe(st));
}

// A child that stops itself with `sig` in its own process group (not orphaned: we
// are its parent, in another group of the same session), then exits 0 once resumed
// and its pipe is written to.
static int go_pipe[2] = {-1, -1};
static void new_go_pipe(void)
{
    if (go_pipe[0] >= 0) {
        close(go_pipe[0]);
        close(go_pipe[1]);
    }
    pipe(go_pipe);
}
static pid_t stopping_child(int sig)
{
    new_go_pipe();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        close(go_pipe[1]);
        if (sig)
            raise(sig);
        char ch;
        read(go_pipe[0], &ch, 1);
        _exit(0);
    }
    return c;
}
static void release(void) { write(go_pipe[1], "g", 1); }

// Wait (without consuming anything) until `child` has stopped.
static void until_stopped(pid_t child)
{
    siginfo_t si;
    guard(1);
    waitid(P_PID, child, &si, WSTOPPED | WNOWAIT);
    guard(0);
}

static void* sleeper(void* arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the wait
    sigaction(SIGALRM, &sa, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1); // orphans come back here natively and sandboxed alike

    // WNOWAIT leaves the stop and the continue in place; without it each is taken once.
    pid_t child = stopping_child(SIGSTOP);
    show_waitid("raise(SIGSTOP): waitid(WSTOPPED|WNOWAIT)", child, WSTOPPED | WNOWAIT);
    show_waitid("  again, WSTOPPED|WCONTINUED|WNOWAIT", child, WSTOPPED | WCONTINUED | WNOWAIT);
    show_waitid("  WEXITED|WNOHANG only", child, WEXITED | WNOHANG);
    show_waitid("  WSTOPPED|WEXITED", child, WSTOPPED | WEXITED);
    show_waitid("  WSTOPPED|WNOHANG after that", child, WSTOPPED | WNOHANG);
    kill(child, SIGCONT);
    show_waitid("SIGCONT: waitid(WCONTINUED|WNOWAIT)", child, WCONTINUED | WNOWAIT);
    show_waitid("  WSTOPPED|WNOHANG", child, WSTOPPED | WNOHANG);
    show_waitid("  WSTOPPED|WCONTINUED", child, WSTOPPED | WCONTINUED);
    show_waitid("  WCONTINUED|WNOHANG after that", child, WCONTINUED | WNOHANG);
    release();
    show_waitid("released: WEXITED", child, WEXITED);

    // wait4's raw statuses; WUNTRACED does not report continues, WCONTINUED not stops.
    child = stopping_child(SIGTSTP);
    show_wait4("raise(SIGTSTP): wait4(WCONTINUED|WNOHANG)", child, WCONTINUED | WNOHANG);
    show_wait4("  wait4(WUNTRACED|WCONTINUED)", child, WUNTRACED | WCONTINUED);
    kill(child, SIGCONT);
    // The continue is recorded when SIGCONT is sent: no wait needed before looking.
    show_wait4("SIGCONT: wait4(WUNTRACED|WNOHANG)", child, WUNTRACED | WNOHANG);
    show_wait4("  wait4(WUNTRACED|WCONTINUED)", child, WUNTRACED | WCONTINUED);
    kill(child, SIGTTIN);
    show_wait4("SIGTTIN from the parent: wait4(WUNTRACED)", child, WUNTRACED);
    kill(child, SIGKILL);
    show_wait4("  SIGKILL while stopped: wait4(WUNTRACED|WCONTINUED)", child, WUNTRACED | WCONTINUED);

    // Stopped and continued before the parent looked: only the continue is reported.
    child = stopping_child(SIGSTOP);
    until_stopped(child);
    kill(child, SIGCONT);
    show_waitid("stopped and continued before any wait: waitid(WSTOPPED|WNOHANG)", child, WSTOPPED | WNOHANG);
    show_waitid("  waitid(WSTOPPED|WCONTINUED)", child, WSTOPPED | WCONTINUED);
    // Stopped again: the new stop is reported, once.
    kill(child, SIGSTOP);
    show_wait4("  SIGSTOP again: wait4(WUNTRACED)", child, WUNTRACED);
    show_wait4("  wait4(WUNTRACED|WNOHANG)", child, WUNTRACED | WNOHANG);
    kill(child, SIGCONT);
    release();
    show_wait4("  released: wait4(0)", child, 0);

    // A process with three threads, all blocked, stops and continues as one; a read
    // whose data comes while the process is stopped returns only after SIGCONT.
    int ready[2];
    pipe(ready);
    new_go_pipe();
    fflush(stdout);
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, sleeper, NULL);
        write(ready[1], "r", 1);
        char c;
        read(go_pipe[0], &c, 1);
        write(ready[1], "r", 1);
        read(go_pipe[0], &c, 1);
        _exit(3);
    }
    char ch;
    read(ready[0], &ch, 1);
    kill(child, SIGSTOP);
    show_waitid("three threads, SIGSTOP: waitid(WSTOPPED)", child, WSTOPPED);
    show_waitid("  waitid(WSTOPPED|WNOHANG)", child, WSTOPPED | WNOHANG);
    release();
    struct pollfd pfd = {ready[0], POLLIN, 0};
    printf("  written to while stopped: its read returned within 100 ms: %s\n", tf(poll(&pfd, 1, 100) == 1));
    kill(child, SIGCONT);
    show_waitid("  SIGCONT: waitid(WCONTINUED)", child, WCONTINUED);
    guard(1);
    printf("  then its read returned: %s\n", tf(read(ready[0], &ch, 1) == 1));
    guard(0);
    release();
    show_waitid("  waitid(WEXITED)", child, WEXITED);

    // Several children: wait4(-1, WUNTRACED|WNOHANG) finds the stopped one.
    pid_t running = stopping_child(0);
    int running_fd = dup(go_pipe[1]);
    go_pipe[0] = go_pipe[1] = -1;
    child = stopping_child(SIGSTOP);
    until_stopped(child);
    int st = 0;
    pid_t w = wait4(-1, &st, WUNTRACED | WNOHANG, NULL);
    printf("two children, one stopped: wait4(-1, WUNTRACED|WNOHANG) = the stopped one: %s, %s\n", tf(w == child),
           describe(st));
    w = wait4(-1, &st, WUNTRACED | WNOHANG, NULL);
    printf("  again: %d\n", (int)w);
    kill(child, SIGKILL);
    wait4(child, &st, 0, NULL);
    write(running_fd, "g", 1);
    w = wait4(-1, &st, 0, NULL);
    printf("  the running one: %s, %s\n", tf(w == running), describe(st));

    // A stopped process group orphaned by the exit of a process whose parent (in
    // the same session) was its only link outside: every member gets SIGHUP, then
    // SIGCONT. Here: P (its own session) -> X (its own group) -> C (stopped, in X's
    // group). C goes to us, the subreaper, in another session, so X's exit orphans
    // the group (Linux kill_orphaned_pgrp()).
    int report[2], p_go[2];
    pipe(report);
    pipe(p_go);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        setsid();
        pid_t x = fork();
        if (x == 0) {
            setpgid(0, 0);
            pid_t c = fork();
            if (c == 0) {
                struct sigaction h;
                memset(&h, 0, sizeof h);
                h.sa_handler = on_hup; // survives SIGHUP
                sigaction(SIGHUP, &h, NULL);
                raise(SIGSTOP);
                // Here after SIGCONT; SIGHUP came first, so its handler has run.
                write(report[1], got_hup ? "h" : "c", 1);
                _exit(4);
            }
            until_stopped(c);
            write(report[1], &c, sizeof c);
            _exit(0);
        }
        waitpid(x, NULL, 0);
        read(p_go[0], &ch, 1);
        _exit(0);
    }
    pid_t member = 0;
    read(report[0], &member, sizeof member);
    guard(1);
    ssize_t n = read(report[0], &ch, 1);
    guard(0);
    printf("orphaned stopped process group: the member was resumed: %s, after SIGHUP: %s\n", tf(n == 1),
           tf(n == 1 && ch == 'h'));
    if (n != 1)
        kill(member, SIGKILL);
    show_waitid("  its new parent: waitid(WEXITED)", member, WEXITED);
    write(p_go[1], "g", 1);
    waitpid(p, &st, 0);

    // The same without a stopped member: nothing is sent.
    fflush(stdout);
    p = fork();
    if (p == 0) {
        setsid();
        pid_t x = fork();
        if (x == 0) {
            setpgid(0, 0);
            pid_t c = fork();
            if (c == 0) {
                struct sigaction h;
                memset(&h, 0, sizeof h);
                h.sa_handler = on_hup;
                sigaction(SIGHUP, &h, NULL);
                sigaction(SIGCONT, &h, NULL);
                read(p_go[0], &ch, 1);
                write(report[1], got_hup ? "h" : "n", 1);
                _exit(5);
            }
            write(report[1], &c, sizeof c);
            _exit(0);
        }
        waitpid(x, NULL, 0);
        write(report[1], "x", 1);
        read(p_go[0], &ch, 1);
        _exit(0);
    }
    read(report[0], &member, sizeof member);
    read(report[0], &ch, 1); // X is gone
    write(p_go[1], "gg", 2);
    guard(1);
    n = read(report[0], &ch, 1);
    guard(0);
    printf("orphaned process group without stopped members: signalled: %s\n", tf(n != 1 || ch != 'n'));
    show_waitid("  its new parent: waitid(WEXITED)", member, WEXITED);
    waitpid(p, &st, 0);
    return 0;
}
