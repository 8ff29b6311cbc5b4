// signalfd: blocked signals read as signalfd_siginfo records (signo, code, pid, value),
// which dequeues them; empty non-blocking reads give EAGAIN; poll readiness; realtime
// order; a short buffer is EINVAL; the mask can be changed on the same fd; a blocking
// read is woken by a signal sent later; after fork the fd reads the reader's signals.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static const char* name(int sig)
{
    static char buf[32];
    if (sig >= SIGRTMIN) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    return sigabbrev_np(sig);
}

static int pending(int sig)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig);
}

static void read_all(int fd, const char* what)
{
    struct signalfd_siginfo si[8];
    errno = 0;
    ssize_t n = read(fd, si, sizeof si);
    printf("%s: read = %zd", what, n < 0 ? (ssize_t)-1 : n / (ssize_t)sizeof si[0]);
    if (n < 0)
        printf(" %s", strerrorname_np(errno));
    for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf(" [%s code=%d pid_ok=%s uid_ok=%s int=%d]", name(si[i].ssi_signo), si[i].ssi_code,
               tf(si[i].ssi_pid == (uint32_t)getpid()), tf(si[i].ssi_uid == getuid()), si[i].ssi_int);
    printf("\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGRTMIN);
    sigaddset(&s, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd = fd: %s, FD_CLOEXEC: %s, O_NONBLOCK: %s\n", tf(fd >= 0), tf(fcntl(fd, F_GETFD) & FD_CLOEXEC),
           tf(fcntl(fd, F_GETFL) & O_NONBLOCK));

    read_all(fd, "nothing pending");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    printf("poll with nothing pending: %d\n", poll(&p, 1, 0));
    raise(SIGUSR1);
    kill(getpid(), SIGUSR2);
    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 7});
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 8});
    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 9});
    p.revents = 0;
    int pr = poll(&p, 1, 0);
    printf("poll with signals pending: %d revents POLLIN: %s\n", pr, tf(p.revents & POLLIN));
    char small[64];
    errno = 0;
    ssize_t n = read(fd, small, sizeof small);
    printf("read with a 64-byte buffer: %zd %s\n", n, strerrorname_np(errno));
    read_all(fd, "five pending");
    printf("pending afterwards: USR1 %s USR2 %s RTMIN+1 %s\n", tf(pending(SIGUSR1)), tf(pending(SIGUSR2)),
           tf(pending(SIGRTMIN + 1)));

    // A signal not in the fd's mask stays pending.
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hup, NULL);
    raise(SIGHUP);
    read_all(fd, "SIGHUP pending, not in the mask");
    // Change the mask of the same fd.
    sigset_t s2 = s;
    sigaddset(&s2, SIGHUP);
    int fd2 = signalfd(fd, &s2, 0);
    printf("signalfd(fd, new mask) returns the same fd: %s\n", tf(fd2 == fd));
    read_all(fd, "after adding SIGHUP");
    errno = 0;
    int r = signalfd(-1, &s, 0x1);
    printf("signalfd(bad flags) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = signalfd(0, &s, 0);
    printf("signalfd(not a signalfd) = %d %s\n", r, strerrorname_np(errno));

    // A blocking read woken by a signal sent later by a child.
    int bfd = signalfd(-1, &s, 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        sigqueue(getppid(), SIGUSR2, (union sigval){.sival_int = 3});
        _exit(0);
    }
    struct signalfd_siginfo si;
    memset(&si, 0, sizeof si);
    errno = 0;
    n = read(bfd, &si, sizeof si);
    if (n == (ssize_t)sizeof si)
        printf("blocking read: %zd bytes, %s code %d from the child: %s int %d\n", n, name(si.ssi_signo), si.ssi_code,
               tf(si.ssi_pid == (uint32_t)child), si.ssi_int);
    else
        printf("blocking read: %zd %s\n", n, strerrorname_np(errno));
    int status;
    waitpid(child, &status, 0);

    // After fork, the child reads its own pending signals, not the parent's.
    raise(SIGUSR1);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        read_all(fd, "child, parent has SIGUSR1 pending");
        raise(SIGUSR2);
        read_all(fd, "child after raising SIGUSR2");
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, &status, 0);
    read_all(fd, "parent");
    close(bfd);
    close(fd);
    return 0;
}
