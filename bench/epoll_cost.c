/* The cost of readiness and signal files: epoll_wait over many pipes with one
 * ready, and signals read through a signalfd.
 *
 *   epoll_cost epoll N [PIPES]  N times: epoll_wait(maxevents 64, timeout 0) on an
 *                               epoll watching the read ends of PIPES pipes (default
 *                               1000), one of which holds a byte (level-triggered:
 *                               every call returns that one)
 *   epoll_cost signalfd N       N times: tgkill(self, SIGUSR1), blocked, then
 *                               read(signalfd) of that one record (two syscalls)
 *   epoll_cost getppid N        N times: getppid(), the cheapest syscall, for scale
 *
 * Prints one line: <mode> <nanoseconds per operation> ns/op n=<N> secs=<total>.
 * Built and run by bench/epoll_cost.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_epoll(long n, int pipes)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)(2 * pipes + 64);
    if (rl.rlim_max < rl.rlim_cur || setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "epoll_cost: RLIMIT_NOFILE too low for %d pipes\n", pipes);
        return 1;
    }
    int ep = epoll_create1(0);
    int active = -1;
    for (int i = 0; i < pipes; i++) {
        int p[2];
        if (pipe(p) != 0) {
            fprintf(stderr, "epoll_cost: pipe: %s\n", strerror(errno));
            return 1;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e);
        if (i == pipes / 2) {
            write(p[1], "x", 1);
            active = i;
        }
    }
    struct epoll_event ev[64];
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int r = epoll_wait(ep, ev, 64, 0);
        if (r != 1 || ev[0].data.u32 != (uint32_t)active) {
            fprintf(stderr, "epoll_cost: epoll_wait returned %d\n", r);
            return 1;
        }
    }
    double secs = now() - t0;
    printf("epoll %.1f ns/op n=%ld secs=%.3f\n", secs * 1e9 / (double)n, n, secs);
    return 0;
}

static int bench_signalfd(long n)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    pid_t pid = getpid(), tid = gettid();
    struct signalfd_siginfo si;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        syscall(SYS_tgkill, pid, tid, SIGUSR1);
        if (read(fd, &si, sizeof si) != sizeof si || si.ssi_signo != SIGUSR1) {
            fprintf(stderr, "epoll_cost: signalfd read failed\n");
            return 1;
        }
    }
    double secs = now() - t0;
    printf("signalfd %.1f ns/op n=%ld secs=%.3f\n", secs * 1e9 / (double)n, n, secs);
    return 0;
}

static int bench_getppid(long n)
{
    double t0 = now();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    double secs = now() - t0;
    printf("getppid %.1f ns/op n=%ld secs=%.3f\n", secs * 1e9 / (double)n, n, secs);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc < 3 || (strcmp(argv[1], "epoll") && strcmp(argv[1], "signalfd") && strcmp(argv[1], "getppid")) ||
        atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: %s epoll N [PIPES] | signalfd N | getppid N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    if (!strcmp(argv[1], "epoll"))
        return bench_epoll(n, argc > 3 ? atoi(argv[3]) : 1000);
    if (!strcmp(argv[1], "signalfd"))
        return bench_signalfd(n);
    return bench_getppid(n);
}
