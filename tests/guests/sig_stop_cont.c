// Job control signals: SIGSTOP/SIGTSTP/SIGTTIN stop a process (seen by waitpid with
// WUNTRACED, once, and by SIGCHLD with CLD_STOPPED), SIGCONT resumes it (WCONTINUED,
// CLD_CONTINUED) and runs its handler; signals sent to a stopped process wait for
// SIGCONT unless fatal; a stop signal discards a pending SIGCONT and vice versa; in an
// orphaned process group SIGTSTP's default action does nothing while SIGSTOP still stops.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits[65];
static void on_sig(int sig) { hits[sig]++; }

static const char* describe(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by %s", sigabbrev_np(WTERMSIG(status)));
    else if (WIFSTOPPED(status))
        snprintf(buf, sizeof buf, "stopped by %s", sigabbrev_np(WSTOPSIG(status)));
    else if (WIFCONTINUED(status))
        snprintf(buf, sizeof buf, "continued");
    else
        snprintf(buf, sizeof buf, "0x%x", status);
    return buf;
}

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

// SIGCHLD stays blocked in the parent: each notification is taken with sigtimedwait.
static void take_sigchld(const char* what)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(&s, &info, &zero);
    if (sig == SIGCHLD)
        printf("  SIGCHLD after %s: %s status %s\n", what, cld(info.si_code),
               info.si_code == CLD_EXITED ? "(code)" : sigabbrev_np(info.si_status));
    else
        printf("  SIGCHLD after %s: none\n", what);
}

// Every blocking wait runs under a 1 s guard (SIGALRM without SA_RESTART): natively
// it never fires; an implementation that never reports the state gets a line saying so
// instead of a hang, and the child is killed so that the rest still runs.
static void on_guard(int sig) { (void)sig; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {on ? 1 : 0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}
static void give_up(pid_t child)
{
    printf("  (nothing reported within 1 s: child killed)\n");
    kill(child, SIGKILL);
    waitpid(child, NULL, __WALL);
}

static void show(const char* what, pid_t child, int options)
{
    int status = 0;
    guard(!(options & WNOHANG));
    errno = 0;
    pid_t w = waitpid(child, &status, options);
    int e = errno;
    guard(0);
    printf("%s: %s\n", what, w == child ? describe(status) : w == 0 ? "nothing to report" : strerrorname_np(e));
    if (w < 0 && e == EINTR)
        give_up(child);
}

static int guarded_waitid(pid_t child, siginfo_t* info, int options)
{
    memset(info, 0, sizeof *info);
    guard(1);
    errno = 0;
    int r = waitid(P_PID, child, info, options);
    int e = errno;
    guard(0);
    if (r < 0 && e == EINTR)
        give_up(child);
    errno = e;
    return r;
}

// A child in its own process group (not orphaned: its parent is in another group of
// the same session) that installs handlers for SIGCONT and SIGUSR1, raises `stop`, and
// once resumed waits for release() before it exits with
// 10 * SIGCONT handler runs + SIGUSR1 handler runs (so that the parent can look at the
// continued child before it is gone).
static int go_pipe[2] = {-1, -1};
static pid_t stopping_child(int stop)
{
    if (go_pipe[0] >= 0) {
        close(go_pipe[0]);
        close(go_pipe[1]);
    }
    pipe(go_pipe);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sig;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGCONT, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close(go_pipe[1]);
        raise(stop);
        char c;
        read(go_pipe[0], &c, 1);
        _exit(10 * hits[SIGCONT] + hits[SIGUSR1]);
    }
    return child;
}

static void release(void) { write(go_pipe[1], "g", 1); }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    struct sigaction ga;
    memset(&ga, 0, sizeof ga);
    ga.sa_handler = on_guard; // no SA_RESTART: the guard interrupts the wait
    sigaction(SIGALRM, &ga, NULL);

    // SIGSTOP, reported once; SIGUSR1 sent while stopped waits; SIGCONT resumes.
    pid_t child = stopping_child(SIGSTOP);
    show("raise(SIGSTOP), waitpid(WUNTRACED)", child, WUNTRACED);
    take_sigchld("the stop");
    show("  again with WNOHANG|WUNTRACED", child, WNOHANG | WUNTRACED);
    kill(child, SIGUSR1);
    show("  SIGUSR1 sent while stopped, waitpid(WNOHANG)", child, WNOHANG);
    kill(child, SIGCONT);
    show("  after SIGCONT, waitpid(WCONTINUED)", child, WCONTINUED);
    release();
    show("  finally", child, 0);
    // The child itself reports CLD_CONTINUED when it runs again; the exit's SIGCHLD
    // then coalesces with it (SIGCHLD is blocked here).
    take_sigchld("the continue and the exit");
    take_sigchld("that");

    // waitid sees the same.
    child = stopping_child(SIGSTOP);
    siginfo_t info;
    int r = guarded_waitid(child, &info, WSTOPPED);
    printf("waitid(WSTOPPED) = %d: %s status %s pid ok %s\n", r, cld(info.si_code), sigabbrev_np(info.si_status),
           tf(info.si_pid == child));
    take_sigchld("the stop");
    kill(child, SIGCONT);
    r = guarded_waitid(child, &info, WCONTINUED);
    printf("waitid(WCONTINUED) = %d: %s status %s\n", r, cld(info.si_code), sigabbrev_np(info.si_status));
    release();
    r = guarded_waitid(child, &info, WEXITED);
    printf("waitid(WEXITED) = %d: %s status %d\n", r, cld(info.si_code), info.si_status);
    take_sigchld("the continue and the exit");

    // SIGTSTP, SIGTTIN, SIGTTOU stop too (the group is not orphaned).
    int stops[] = {SIGTSTP, SIGTTIN, SIGTTOU};
    for (int i = 0; i < 3; i++) {
        child = stopping_child(stops[i]);
        char what[64];
        snprintf(what, sizeof what, "raise(%s) in its own group", sigabbrev_np(stops[i]));
        show(what, child, WUNTRACED);
        kill(child, SIGCONT);
        release();
        show("  after SIGCONT", child, 0);
        take_sigchld("those");
    }

    // A stopped process: SIGTERM (default action) waits for SIGCONT, SIGKILL does not.
    child = stopping_child(SIGSTOP);
    show("stopped", child, WUNTRACED);
    kill(child, SIGTERM);
    show("stopped child sent SIGTERM, waitpid(WNOHANG)", child, WNOHANG);
    kill(child, SIGCONT);
    release(); // (a child that survived SIGTERM would exit 10)
    show("  after SIGCONT", child, 0);
    child = stopping_child(SIGSTOP);
    show("stopped", child, WUNTRACED);
    kill(child, SIGKILL);
    show("stopped child sent SIGKILL", child, 0);
    take_sigchld("those");

    // Orphaned process group: a child that made its own session.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        setsid();
        raise(SIGTSTP); // discarded: orphaned group
        raise(SIGTTIN);
        raise(SIGTTOU);
        _exit(7);
    }
    show("setsid child raising SIGTSTP, SIGTTIN, SIGTTOU", child, WUNTRACED);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        setsid();
        raise(SIGSTOP);
        _exit(8);
    }
    show("setsid child raising SIGSTOP", child, WUNTRACED);
    kill(child, SIGCONT);
    show("  after SIGCONT", child, 0);
    take_sigchld("those");

    // Pending stop and continue signals cancel each other (handlers, blocked).
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGTSTP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
    sigaction(SIGTTIN, &sa, NULL);
    sigset_t jc;
    sigemptyset(&jc);
    sigaddset(&jc, SIGTSTP);
    sigaddset(&jc, SIGCONT);
    sigaddset(&jc, SIGTTIN);
    sigprocmask(SIG_BLOCK, &jc, NULL);
    raise(SIGTSTP);
    raise(SIGTTIN);
    sigset_t p;
    sigpending(&p);
    printf("pending after TSTP, TTIN: TSTP %s TTIN %s CONT %s\n", tf(sigismember(&p, SIGTSTP)),
           tf(sigismember(&p, SIGTTIN)), tf(sigismember(&p, SIGCONT)));
    raise(SIGCONT);
    sigpending(&p);
    printf("after raise(SIGCONT): TSTP %s TTIN %s CONT %s\n", tf(sigismember(&p, SIGTSTP)),
           tf(sigismember(&p, SIGTTIN)), tf(sigismember(&p, SIGCONT)));
    kill(getpid(), SIGTSTP);
    sigpending(&p);
    printf("after kill(SIGTSTP): TSTP %s TTIN %s CONT %s\n", tf(sigismember(&p, SIGTSTP)), tf(sigismember(&p, SIGTTIN)),
           tf(sigismember(&p, SIGCONT)));
    sigprocmask(SIG_UNBLOCK, &jc, NULL);
    printf("handlers after unblocking: TSTP %d TTIN %d CONT %d\n", (int)hits[SIGTSTP], (int)hits[SIGTTIN],
           (int)hits[SIGCONT]);
    // SIGCONT to a process that is not stopped just runs its handler.
    raise(SIGCONT);
    printf("raise(SIGCONT) while running: handler ran %d\n", (int)hits[SIGCONT]);
    return 0;
}
