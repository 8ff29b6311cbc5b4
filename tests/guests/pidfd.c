// pidfds: pidfd_open, CLONE_PIDFD, poll readiness on exit, waitid(P_PIDFD) (also
// non-blocking), pidfd_send_signal with and without siginfo, pidfd_getfd, and the
// errors each gives for bad input. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t* info, unsigned flags)
{
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
static int pidfd_getfd(int fd, int target, unsigned flags) { return (int)syscall(SYS_pidfd_getfd, fd, target, flags); }

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static short poll_now(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    return n == 1 ? p.revents : 0;
}

static volatile sig_atomic_t got_sig, got_code, got_value;
static void on_usr(int sig, siginfo_t* si, void* uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
}

// A child that waits for one byte on `in`, then exits with `code`.
static pid_t child_waiting(int in, int code)
{
    pid_t p = fork();
    if (p == 0) {
        char c;
        while (read(in, &c, 1) < 0 && errno == EINTR) {
        }
        _exit(code);
    }
    return p;
}

static void test_open_poll_wait(void)
{
    int go[2];
    pipe(go);
    pid_t p = child_waiting(go[0], 7);
    int fd = pidfd_open(p, 0);
    printf("pidfd_open child: %s, cloexec: %d\n", err(fd), (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    printf("running: poll readable: %d\n", (poll_now(fd, 0) & POLLIN) != 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG);
    printf("running: waitid(P_PIDFD, WNOHANG) = %d, si_pid set: %d\n", r, si.si_pid != 0);
    int nb = pidfd_open(p, PIDFD_NONBLOCK);
    printf("nonblocking pidfd: O_NONBLOCK %d, waitid without WNOHANG: %s\n",
           (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0, err(waitid(P_PIDFD, nb, &si, WEXITED)));
    write(go[1], "x", 1);
    short ev = poll_now(fd, 5000);
    printf("exited: poll POLLIN %d\n", (ev & POLLIN) != 0);
    printf("zombie: kill(pid, 0) = %s, pidfd_send_signal(0) = %s\n", err(kill(p, 0)),
           err(pidfd_send_signal(fd, 0, NULL, 0)));
    memset(&si, 0, sizeof si);
    r = waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: %d si_pid==child %d code CLD_EXITED %d status %d\n", r, si.si_pid == p,
           si.si_code == CLD_EXITED, si.si_status);
    memset(&si, 0, sizeof si);
    r = waitid(P_PIDFD, nb, &si, WEXITED);
    printf("waitid on the nonblocking pidfd: %d si_pid==child %d status %d\n", r, si.si_pid == p, si.si_status);
    printf("reaped: poll POLLIN %d\n", (poll_now(fd, 0) & POLLIN) != 0);
    printf("reaped: waitid again: %s\n", err(waitid(P_PIDFD, fd, &si, WEXITED)));
    printf("reaped: pidfd_send_signal: %s\n", err(pidfd_send_signal(fd, SIGTERM, NULL, 0)));
    printf("reaped: pidfd_getfd: %s\n", err(pidfd_getfd(fd, 0, 0)));
    close(fd);
    close(nb);
    close(go[0]);
    close(go[1]);
}

static void test_poll_blocks_until_exit(void)
{
    int go[2];
    pipe(go);
    pid_t p = child_waiting(go[0], 0);
    int fd = pidfd_open(p, 0);
    pid_t killer = fork();
    if (killer == 0) {
        usleep(50 * 1000);
        write(go[1], "x", 1);
        _exit(0);
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int n = poll(&pf, 1, 10000);
    printf("poll blocked until exit: n=%d POLLIN %d\n", n, (pf.revents & POLLIN) != 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    n = waitid(P_PIDFD, fd, &si, WEXITED);
    printf("waitid P_PIDFD: %d status %d\n", n, si.si_status);
    waitpid(killer, NULL, 0);
    close(fd);
    close(go[0]);
    close(go[1]);
}

static void test_clone_pidfd(void)
{
    int pidfd = -1;
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    long p = syscall(SYS_clone3, &ca, sizeof ca);
    if (p == 0)
        _exit(5);
    printf("clone3 CLONE_PIDFD: %s, pidfd >= 0: %d, cloexec: %d\n", err(p), pidfd >= 0,
           (fcntl(pidfd, F_GETFD) & FD_CLOEXEC) != 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PIDFD, pidfd, &si, WEXITED);
    printf("waitid P_PIDFD: %d si_pid==child %d status %d\n", r, si.si_pid == p, si.si_status);
    close(pidfd);

    // Legacy clone: the pidfd pointer is the parent_tid argument.
    pidfd = -1;
    p = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (p == 0)
        _exit(6);
    printf("clone CLONE_PIDFD: %s, pidfd >= 0: %d\n", err(p), pidfd >= 0);
    memset(&si, 0, sizeof si);
    r = waitid(P_PIDFD, pidfd, &si, WEXITED);
    printf("waitid P_PIDFD: %d status %d\n", r, si.si_status);
    close(pidfd);

    printf("clone CLONE_PIDFD|CLONE_PARENT_SETTID: %s\n",
           err(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0)));
    ca.pidfd = 8; // not a mapped address
    printf("clone3 CLONE_PIDFD to a bad pointer: %s\n", err(syscall(SYS_clone3, &ca, sizeof ca)));
    printf("no child was created: %s\n", err(waitpid(-1, NULL, WNOHANG)));
}

static void test_send_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);

    // To itself: the handler runs with the siginfo given.
    int self = pidfd_open(getpid(), 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGUSR1;
    info.si_code = SI_QUEUE;
    info.si_value.sival_int = 42;
    printf("send to self with SI_QUEUE info: %s\n", err(pidfd_send_signal(self, SIGUSR1, &info, 0)));
    printf("handler: sig %d code SI_QUEUE %d value %d\n", (int)got_sig, got_code == SI_QUEUE, (int)got_value);
    got_sig = 0;
    const char* e = err(pidfd_send_signal(self, SIGUSR1, NULL, 0));
    printf("send to self without info: %s, code SI_USER %d\n", e, got_code == SI_USER);
    info.si_code = SI_USER;
    printf("send to self claiming SI_USER: %s\n", err(pidfd_send_signal(self, SIGUSR1, &info, 0)));
    printf("si_signo mismatch: %s\n", err(pidfd_send_signal(self, SIGUSR2, &info, 0)));
    printf("bad flags: %s\n", err(pidfd_send_signal(self, SIGUSR1, NULL, 0x100)));
    printf("bad signal: %s\n", err(pidfd_send_signal(self, 200, NULL, 0)));
    printf("waitid on own pidfd: %s\n", err(waitid(P_PIDFD, self, &info, WEXITED)));
    close(self);

    // To a child: a signal to a child sleeping in read ends it by default action.
    int go[2];
    pipe(go);
    pid_t p = child_waiting(go[0], 0);
    int fd = pidfd_open(p, 0);
    info.si_code = SI_USER;
    info.si_signo = SIGTERM;
    printf("another process, claiming SI_USER: %s\n", err(pidfd_send_signal(fd, SIGTERM, &info, 0)));
    printf("SIGTERM to child: %s\n", err(pidfd_send_signal(fd, SIGTERM, NULL, 0)));
    int st = 0;
    waitpid(p, &st, 0);
    printf("child killed by SIGTERM: %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    close(fd);
    close(go[0]);
    close(go[1]);
}

static void test_getfd(void)
{
    int report[2], go[2];
    pipe(report);
    pipe(go);
    pid_t p = fork();
    if (p == 0) {
        int data[2];
        pipe(data);
        write(data[1], "from the child", 14);
        write(report[1], &data[0], sizeof data[0]);
        char c;
        read(go[0], &c, 1);
        _exit(0);
    }
    int child_fd = -1;
    read(report[0], &child_fd, sizeof child_fd);
    int fd = pidfd_open(p, 0);
    int got = pidfd_getfd(fd, child_fd, 0);
    char buf[32] = {0};
    printf("pidfd_getfd: %s, cloexec %d\n", err(got), (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
    printf("read through it: '%.*s'\n", (int)read(got, buf, sizeof buf), buf);
    printf("bad target fd: %s\n", err(pidfd_getfd(fd, 999, 0)));
    printf("bad flags: %s\n", err(pidfd_getfd(fd, child_fd, 1)));
    printf("not a pidfd: %s\n", err(pidfd_getfd(report[0], child_fd, 0)));
    printf("closed fd: %s\n", err(pidfd_getfd(777, child_fd, 0)));
    write(go[1], "x", 1);
    waitpid(p, NULL, 0);
    close(got);
    close(fd);
}

static void test_bad_input(void)
{
    siginfo_t si;
    printf("pidfd_open(0): %s\n", err(pidfd_open(0, 0)));
    printf("pidfd_open(-5): %s\n", err(pidfd_open(-5, 0)));
    printf("pidfd_open bad flags: %s\n", err(pidfd_open(getpid(), 0x1)));
    printf("pidfd_open of no process: %s\n", err(pidfd_open(4000000, 0)));
    printf("waitid P_PIDFD on a pipe: %s\n", err(waitid(P_PIDFD, 0, &si, WEXITED)));
    printf("waitid P_PIDFD on a closed fd: %s\n", err(waitid(P_PIDFD, 555, &si, WEXITED)));
    printf("waitid P_PIDFD negative fd: %s\n", err(waitid(P_PIDFD, -1, &si, WEXITED)));
    printf("pidfd_send_signal on a closed fd: %s\n", err(pidfd_send_signal(555, SIGUSR1, NULL, 0)));
    printf("pidfd_send_signal on a pipe: %s\n", err(pidfd_send_signal(0, SIGUSR1, NULL, 0)));
    int fd = pidfd_open(getpid(), 0);
    char b[8];
    printf("read from a pidfd: %s\n", err(read(fd, b, sizeof b)));
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_open_poll_wait();
    test_poll_blocks_until_exit();
    test_clone_pidfd();
    test_send_signal();
    test_getfd();
    test_bad_input();
    return 0;
}
