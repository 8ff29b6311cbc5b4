// Bad input to the wait family, kill, setpgid and setsid, with the errors Linux gives:
// invalid idtypes, ids and option bits (EINVAL), pids that are no children (ECHILD),
// pids that name nothing (ESRCH), waits interrupted by a handler without SA_RESTART
// (EINTR) and restarted with it, waitid(P_PIDFD) on fds that are no pidfds, and
// process groups and sessions (EPERM, EACCES after execve, ESRCH).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char* tf(int b) { return b ? "true" : "false"; }

static void result(const char* what, long r)
{
    if (r < 0)
        printf("%s: %ld %s\n", what, r, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

static long raw_waitid(int idtype, long id, int options)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    errno = 0;
    return syscall(SYS_waitid, idtype, id, &si, options, NULL);
}

static long raw_wait4(long pid, int options)
{
    int st;
    errno = 0;
    return syscall(SYS_wait4, pid, &st, options, NULL);
}

static volatile sig_atomic_t hits;
static void on_usr1(int sig)
{
    (void)sig;
    hits++;
}

// A child that sends SIGUSR1 to its parent every 20 ms (the first may come before
// the parent is blocked in its wait; a later one interrupts it), `count` times or
// forever (count 0), then exits 0.
static pid_t nagging_child(int count)
{
    pid_t parent = getpid();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        for (int i = 0; count == 0 || i < count; i++) {
            kill(parent, SIGUSR1);
            struct timespec ts = {0, 20 * 1000000};
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    return c;
}

static void set_usr1(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigaction(SIGUSR1, &sa, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    pid_t me = getpid();

    // No children at all.
    result("waitid(P_ALL) with no children", raw_waitid(P_ALL, 0, WEXITED));
    result("waitid(P_ALL, WNOHANG) with no children", raw_waitid(P_ALL, 0, WEXITED | WNOHANG));
    result("wait4(-1) with no children", raw_wait4(-1, 0));

    // Invalid arguments, with a child around so that ECHILD cannot hide them.
    int hold[2];
    pipe(hold);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(hold[1]);
        char c;
        read(hold[0], &c, 1);
        _exit(0);
    }
    close(hold[0]);
    result("waitid(idtype 42)", raw_waitid(42, child, WEXITED));
    result("waitid(idtype -1)", raw_waitid(-1, child, WEXITED));
    result("waitid(options 0)", raw_waitid(P_PID, child, 0));
    result("waitid(WNOHANG only)", raw_waitid(P_PID, child, WNOHANG));
    result("waitid(unknown option bit 0x100)", raw_waitid(P_PID, child, WEXITED | 0x100));
    result("waitid(unknown option bit 0x10000)", raw_waitid(P_PID, child, WEXITED | 0x10000));
    result("waitid(idtype 42, options 0)", raw_waitid(42, child, 0));
    result("waitid(P_PID, 0)", raw_waitid(P_PID, 0, WEXITED | WNOHANG));
    result("waitid(P_PID, -1)", raw_waitid(P_PID, -1, WEXITED | WNOHANG));
    result("waitid(P_PGID, -1)", raw_waitid(P_PGID, -1, WEXITED | WNOHANG));
    result("waitid(P_PIDFD, -1)", raw_waitid(P_PIDFD, -1, WEXITED | WNOHANG));
    result("wait4(WEXITED)", raw_wait4(child, WEXITED | WNOHANG));
    result("wait4(WNOWAIT)", raw_wait4(child, WNOWAIT | WNOHANG));
    result("wait4(unknown option bit 0x100)", raw_wait4(child, 0x100 | WNOHANG));
    result("wait4(INT_MIN)", raw_wait4(INT_MIN, WNOHANG));
    result("wait4(__WALL|__WCLONE|__WNOTHREAD|WNOHANG)", raw_wait4(child, __WALL | __WCLONE | __WNOTHREAD | WNOHANG));

    // Pids that are not our children, from a child of ours (whose parent, unlike
    // ours, is inside the sandbox too).
    fflush(stdout);
    pid_t sub = fork();
    if (sub == 0) {
        result("waitpid(99999)", raw_wait4(99999, WNOHANG));
        result("waitpid(our parent)", raw_wait4(getppid(), WNOHANG));
        result("waitpid(ourselves)", raw_wait4(getpid(), WNOHANG));
        result("waitpid(our sibling)", raw_wait4(child, WNOHANG));
        result("waitid(P_PID, 99999)", raw_waitid(P_PID, 99999, WEXITED | WNOHANG));
        result("waitid(P_PID, our parent)", raw_waitid(P_PID, getppid(), WEXITED | WNOHANG));
        result("waitid(P_PGID, 99999)", raw_waitid(P_PGID, 99999, WEXITED | WNOHANG));
        result("wait4(-99999)", raw_wait4(-99999, WNOHANG));
        errno = 0;
        result("setpgid(our parent, 0)", setpgid(getppid(), 0));
        errno = 0;
        result("setpgid(our sibling, 0)", setpgid(child, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(sub, NULL, 0);

    // waitid(P_PIDFD) on fds that are not pidfds.
    result("waitid(P_PIDFD, a pipe)", raw_waitid(P_PIDFD, hold[1], WEXITED | WNOHANG));
    int closed = dup(hold[1]);
    close(closed);
    result("waitid(P_PIDFD, a closed fd)", raw_waitid(P_PIDFD, closed, WEXITED | WNOHANG));
    result("waitid(P_PIDFD, 100000)", raw_waitid(P_PIDFD, 100000, WEXITED | WNOHANG));

    write(hold[1], "x", 1);
    close(hold[1]);
    waitpid(child, NULL, 0);

    // Nothing there.
    errno = 0;
    result("kill(4000000, 0)", kill(4000000, 0));
    errno = 0;
    result("kill(4000000, SIGTERM)", kill(4000000, SIGTERM));
    errno = 0;
    result("kill(-4000000, SIGTERM)", kill(-4000000, SIGTERM));
    errno = 0;
    result("kill(INT_MIN, SIGTERM)", kill(INT_MIN, SIGTERM));
    errno = 0;
    result("kill(99999, 0)", kill(99999, 0));
    errno = 0;
    result("kill(self, 65)", kill(me, 65));
    errno = 0;
    result("kill(self, -1)", kill(me, -1));
    errno = 0;
    result("getpgid(99999)", getpgid(99999));
    errno = 0;
    result("getsid(99999)", getsid(99999));

    // A blocking wait and a signal with a handler: EINTR without SA_RESTART...
    set_usr1(0);
    child = nagging_child(0);
    hits = 0;
    errno = 0;
    pid_t w = waitpid(child, NULL, 0);
    printf("waitpid, handler without SA_RESTART: %d %s, handler ran: %s\n", (int)w, strerrorname_np(errno),
           tf(hits > 0));
    siginfo_t si;
    errno = 0;
    int r = waitid(P_PID, child, &si, WEXITED);
    printf("waitid, handler without SA_RESTART: %d %s\n", r, strerrorname_np(errno));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    // ... restarted with it: the wait returns the child once it exits.
    set_usr1(SA_RESTART);
    child = nagging_child(3);
    hits = 0;
    w = waitpid(child, NULL, 0);
    printf("waitpid, handler with SA_RESTART: returned the child: %s, handler ran: %s\n", tf(w == child),
           tf(hits > 0));
    signal(SIGUSR1, SIG_DFL);

    // Process groups and sessions.
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        pid_t s = setsid();
        char c = s == getpid() ? 'y' : 'n';
        write(ready[1], &c, 1);
        pid_t again = setsid(); // now a group leader
        c = again < 0 && errno == EPERM ? 'y' : 'n';
        write(ready[1], &c, 1);
        read(go[0], &c, 1);
        _exit(0);
    }
    char c1 = 0, c2 = 0;
    read(ready[0], &c1, 1);
    read(ready[0], &c2, 1);
    printf("child's setsid() returned its pid: %s; setsid() again: EPERM: %s\n", tf(c1 == 'y'), tf(c2 == 'y'));
    errno = 0;
    result("setpgid(0, the other session's group)", setpgid(0, child));
    errno = 0;
    result("setpgid(child in another session, itself)", setpgid(child, child));
    errno = 0;
    result("setpgid(child in another session, our group)", setpgid(child, getpgrp()));
    errno = 0;
    result("setpgid(0, -1)", setpgid(0, -1));
    errno = 0;
    result("setpgid(99999, 0)", setpgid(99999, 0));
    errno = 0;
    result("setpgid(0, 99999)", setpgid(0, 99999));
    write(go[1], "g", 1);
    waitpid(child, NULL, 0);

    // A group leader cannot start a session.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        setpgid(0, 0);
        errno = 0;
        pid_t s = setsid();
        _exit(s < 0 && errno == EPERM ? 0 : 1);
    }
    int st = 0;
    waitpid(child, &st, 0);
    printf("setsid() in a process group leader: EPERM: %s\n", tf(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    // After its execve, a child's group can no longer be changed by its parent.
    int execd[2], in[2];
    pipe2(execd, O_CLOEXEC);
    pipe(in);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        close(execd[0]);
        dup2(in[0], 0);
        close(in[0]);
        close(in[1]);
        char* argv[] = {"cat", NULL};
        execv("/bin/cat", argv);
        _exit(127);
    }
    close(execd[1]);
    close(in[0]);
    char c;
    read(execd[0], &c, 1); // EOF once the child has exec'd
    errno = 0;
    result("setpgid(child after its execve, itself)", setpgid(child, child));
    close(in[1]);
    waitpid(child, &st, 0);
    printf("  cat exited %d\n", WEXITSTATUS(st));
    return 0;
}
