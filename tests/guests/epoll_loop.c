// One event loop over a signalfd, a timerfd, an eventfd and a pipe, as servers write
// them: a scripted sequence of events is fed to it, first with every fd level-
// triggered, then edge-triggered, and the loop prints what each epoll_wait returned
// and what its handlers read, in order. The handlers read the pipe two bytes at a
// time and the signalfd one record at a time, so that the two modes differ: level-
// triggered items come back while data is left, edge-triggered ones only on news.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { SIG = 1, TIMER, EVENT, PIPE };
static const char* names[] = {"", "signalfd", "timerfd", "eventfd", "pipe"};

static int g_ep, g_sfd, g_tfd, g_efd, g_pipe[2];
static uint32_t g_mode;

static void handle(uint32_t which, uint32_t events)
{
    printf("    %s%s%s:", names[which], (events & EPOLLIN) ? " IN" : "", (events & EPOLLHUP) ? " HUP" : "");
    switch (which) {
    case SIG: {
        struct signalfd_siginfo si;
        ssize_t n = read(g_sfd, &si, sizeof si);
        printf(" %s", n > 0 ? sigabbrev_np(si.ssi_signo) : strerrorname_np(errno));
        break;
    }
    case TIMER: {
        uint64_t v = 0;
        ssize_t n = read(g_tfd, &v, sizeof v);
        printf(" %s", n > 0 ? (v >= 1 ? "expired" : "zero?") : strerrorname_np(errno));
        break;
    }
    case EVENT: {
        uint64_t v = 0;
        ssize_t n = read(g_efd, &v, sizeof v);
        if (n > 0)
            printf(" %llu", (unsigned long long)v);
        else
            printf(" %s", strerrorname_np(errno));
        break;
    }
    case PIPE: {
        char buf[3] = {0};
        ssize_t n = read(g_pipe[0], buf, 2);
        if (n > 0)
            printf(" \"%s\"", buf);
        else if (n == 0) {
            printf(" EOF, removed");
            epoll_ctl(g_ep, EPOLL_CTL_DEL, g_pipe[0], NULL);
        } else
            printf(" %s", strerrorname_np(errno));
        break;
    }
    }
    printf("\n");
}

// Wait (the first time up to `first_ms`), handle, and go on with zero timeouts until
// a wait returns nothing.
static void run(const char* step, int first_ms)
{
    printf("%s\n", step);
    struct epoll_event ev[8];
    for (int round = 1; round <= 6; round++) {
        int n = epoll_wait(g_ep, ev, 8, round == 1 ? first_ms : 0);
        printf("  wait %d: %d\n", round, n);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++)
            handle((uint32_t)ev[i].data.u32, ev[i].events);
    }
    printf("  (still busy after 6 rounds)\n");
}

static void reg(int op, int fd, uint32_t which)
{
    struct epoll_event e = {.events = EPOLLIN | g_mode, .data.u32 = which};
    if (epoll_ctl(g_ep, op, fd, &e) != 0)
        printf("epoll_ctl %s: %s\n", names[which], strerrorname_np(errno));
}

static void script(void)
{
    uint64_t v;
    write(g_pipe[1], "hello", 5);
    run("the pipe gets \"hello\"", 0);
    write(g_pipe[1], "!", 1);
    run("the pipe gets \"!\"", 0);
    v = 3;
    write(g_efd, &v, sizeof v);
    v = 4;
    write(g_efd, &v, sizeof v);
    run("the eventfd gets 3 and 4", 0);
    raise(SIGUSR1);
    raise(SIGUSR2);
    run("SIGUSR1 and SIGUSR2", 0);
    raise(SIGTERM);
    run("SIGTERM", 0);
    struct itimerspec t = {.it_value = {0, 30000000}};
    timerfd_settime(g_tfd, 0, &t, NULL);
    run("the timer is armed for 30 ms", 5000);
    v = 1;
    write(g_efd, &v, sizeof v);
    write(g_pipe[1], "xy", 2);
    kill(getpid(), SIGUSR1);
    run("the eventfd, the pipe and the signalfd, in that order", 0);
    close(g_pipe[1]);
    run("the pipe's writer closes", 0);
    run("nothing more", 50);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    g_sfd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
    g_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    g_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    for (int pass = 0; pass < 2; pass++) {
        g_mode = pass ? EPOLLET : 0;
        printf("=== %s-triggered ===\n", pass ? "edge" : "level");
        pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC);
        int op = pass ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        reg(op, g_sfd, SIG);
        reg(op, g_tfd, TIMER);
        reg(op, g_efd, EVENT);
        reg(EPOLL_CTL_ADD, g_pipe[0], PIPE);
        script();
        // Leave nothing behind for the next pass.
        char buf[64];
        while (read(g_pipe[0], buf, sizeof buf) > 0) {
        }
        struct signalfd_siginfo si;
        while (read(g_sfd, &si, sizeof si) > 0)
            printf("  left pending: %s\n", sigabbrev_np(si.ssi_signo));
        close(g_pipe[0]);
    }
    return 0;
}
