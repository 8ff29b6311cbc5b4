// timerfd: CLOCK_MONOTONIC, CLOCK_REALTIME and CLOCK_BOOTTIME timers, relative and
// TFD_TIMER_ABSTIME (also in the past: expired at once), periodic timers whose
// expirations accumulate until read, timerfd_gettime of disarmed, armed, expired and
// periodic timers, the old value from timerfd_settime, EAGAIN when nothing expired,
// a blocking read (EINTR without SA_RESTART, restarted with it), poll/select/epoll
// readiness, and EINVAL for bad clocks, flags and timespecs and for other files.
// Only comparisons of times are printed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static int64_t ns(const struct timespec* ts) { return ts->tv_sec * 1000000000LL + ts->tv_nsec; }

static struct timespec ms(int64_t m)
{
    struct timespec ts = {m / 1000, (m % 1000) * 1000000};
    return ts;
}

static void rd(int fd, const char* what)
{
    uint64_t v = 0;
    errno = 0;
    ssize_t n = read(fd, &v, sizeof v);
    if (n < 0)
        printf("%s: read -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: read %zd expirations %llu\n", what, n, (unsigned long long)v);
}

static int arm(int fd, int flags, int64_t first_ms, int64_t interval_ms, struct itimerspec* old)
{
    struct itimerspec v = {.it_value = ms(first_ms), .it_interval = ms(interval_ms)};
    return timerfd_settime(fd, flags, &v, old);
}

static void show_get(int fd, const char* what, int64_t max_ms)
{
    struct itimerspec cur;
    memset(&cur, 0x55, sizeof cur);
    int r = timerfd_gettime(fd, &cur);
    printf("%s: gettime %d value>0 %s value<=%lldms %s interval %lld ms\n", what, r, tf(ns(&cur.it_value) > 0),
           (long long)max_ms, tf(ns(&cur.it_value) <= max_ms * 1000000LL),
           (long long)(ns(&cur.it_interval) / 1000000));
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    int n = poll(&p, 1, 0);
    return n == 1 && p.revents == POLLIN;
}

static volatile int g_alarms;
static void on_alarm(int sig) { (void)sig; g_alarms++; }

static void clocks(void)
{
    static const struct {
        clockid_t id;
        const char* name;
    } clocks[] = {{CLOCK_MONOTONIC, "MONOTONIC"}, {CLOCK_REALTIME, "REALTIME"}, {CLOCK_BOOTTIME, "BOOTTIME"}};
    for (int i = 0; i < 3; i++) {
        int fd = timerfd_create(clocks[i].id, TFD_NONBLOCK);
        printf("%s: created %s\n", clocks[i].name, tf(fd >= 0));
        show_get(fd, "  disarmed", 0);
        rd(fd, "  disarmed");
        arm(fd, 0, 40, 0, NULL);
        show_get(fd, "  armed for 40 ms", 40);
        printf("  readable before: %s\n", tf(readable(fd)));
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 5000);
        printf("  poll: %d POLLIN %s\n", n, tf(p.revents & POLLIN));
        rd(fd, "  relative 40 ms");
        rd(fd, "  again");
        show_get(fd, "  expired one-shot", 0);
        // Absolute: 40 ms from this clock's now.
        struct timespec now;
        clock_gettime(clocks[i].id, &now);
        struct itimerspec v = {.it_value = {now.tv_sec, now.tv_nsec + 40000000}};
        if (v.it_value.tv_nsec >= 1000000000) {
            v.it_value.tv_sec++;
            v.it_value.tv_nsec -= 1000000000;
        }
        int r = timerfd_settime(fd, TFD_TIMER_ABSTIME, &v, NULL);
        show_get(fd, "  absolute now+40 ms", 40);
        p.revents = 0;
        n = poll(&p, 1, 5000);
        printf("  settime %d, poll %d\n", r, n);
        rd(fd, "  absolute now+40 ms");
        // Absolute in the past: expired at once.
        v.it_value.tv_sec = now.tv_sec - 10;
        r = timerfd_settime(fd, TFD_TIMER_ABSTIME, &v, NULL);
        p.revents = 0;
        n = poll(&p, 1, 1000);
        printf("  absolute in the past: settime %d poll %d\n", r, n);
        rd(fd, "  absolute in the past");
        close(fd);
    }
}

static void periodic(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    printf("periodic: O_NONBLOCK %s cloexec %s\n", tf(fcntl(fd, F_GETFL) & O_NONBLOCK), tf(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    arm(fd, 0, 20, 20, NULL);
    show_get(fd, "  armed 20/20", 20);
    usleep(70000);
    uint64_t v = 0;
    ssize_t n = read(fd, &v, sizeof v);
    printf("  read after 3.5 intervals: %zd expirations>=3 %s\n", n, tf(v >= 3));
    show_get(fd, "  periodic after expirations", 20);
    rd(fd, "  right after reading");
    struct itimerspec old;
    memset(&old, 0x55, sizeof old);
    int r = arm(fd, 0, 1000, 0, &old);
    printf("  settime returns the old value: %d value>0 %s value<=20ms %s interval %lld ms\n", r,
           tf(ns(&old.it_value) > 0), tf(ns(&old.it_value) <= 20000000), (long long)(ns(&old.it_interval) / 1000000));
    memset(&old, 0x55, sizeof old);
    r = arm(fd, 0, 0, 0, &old);
    printf("  disarm: %d old value>0 %s value<=1000ms %s interval %lld ms\n", r, tf(ns(&old.it_value) > 0),
           tf(ns(&old.it_value) <= 1000000000LL), (long long)(ns(&old.it_interval) / 1000000));
    show_get(fd, "  disarmed", 0);
    // Expirations not read are forgotten when the timer is set again.
    arm(fd, 0, 1, 1, NULL);
    usleep(20000);
    printf("  expired before reset: %s\n", tf(readable(fd)));
    arm(fd, 0, 0, 5000, NULL);
    printf("  readable after a disarm: %s\n", tf(readable(fd)));
    show_get(fd, "  disarmed with an interval", 0);
    rd(fd, "  disarmed with an interval");
    close(fd);
}

static void blocking(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    arm(fd, 0, 50, 0, NULL);
    rd(fd, "blocking read, 50 ms");
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {0, 30000}};
    arm(fd, 0, 2000, 0, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    rd(fd, "blocking read, a handler without SA_RESTART runs");
    printf("  alarms %d\n", g_alarms);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    arm(fd, 0, 150, 0, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    rd(fd, "blocking read, an SA_RESTART handler runs");
    printf("  alarms %d\n", g_alarms);
    char small[4];
    errno = 0;
    ssize_t n = read(fd, small, sizeof small);
    printf("4-byte read: %zd %s\n", n, strerrorname_np(errno));
    close(fd);

    // select and epoll.
    fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.u32 = 7};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    arm(fd, 0, 30, 30, NULL);
    struct epoll_event out[2];
    int k = epoll_wait(ep, out, 2, 5000);
    printf("epoll on a 30/30 timer: %d data %u IN %s\n", k, out[0].data.u32, tf(out[0].events & EPOLLIN));
    usleep(100000);
    uint64_t v = 0;
    read(fd, &v, sizeof v);
    printf("  expirations >= 3: %s\n", tf(v >= 3));
    k = epoll_wait(ep, out, 2, 5000);
    printf("  edge-triggered: reported again after the next expiration: %d\n", k);
    read(fd, &v, sizeof v);
    arm(fd, 0, 0, 0, NULL);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    struct timeval tv = {0, 20000};
    k = select(fd + 1, &rs, NULL, NULL, &tv);
    printf("select on a disarmed timer: %d\n", k);
    arm(fd, 0, 10, 0, NULL);
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    tv.tv_sec = 5;
    k = select(fd + 1, &rs, NULL, NULL, &tv);
    printf("select on a 10 ms timer: %d set %s\n", k, tf(FD_ISSET(fd, &rs)));
    close(ep);
    close(fd);
}

static void bad_input(void)
{
    errno = 0;
    int r = timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0);
    printf("CLOCK_PROCESS_CPUTIME_ID: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(CLOCK_THREAD_CPUTIME_ID, 0);
    printf("CLOCK_THREAD_CPUTIME_ID: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(CLOCK_MONOTONIC_RAW, 0);
    printf("CLOCK_MONOTONIC_RAW: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(42, 0);
    printf("clock 42: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(-1, 0);
    printf("clock -1: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(CLOCK_MONOTONIC, TFD_TIMER_ABSTIME);
    printf("create with TFD_TIMER_ABSTIME: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_create(CLOCK_MONOTONIC, 0x10);
    printf("create with flags 0x10: %d %s\n", r, strerrorname_np(errno));
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    errno = 0;
    long long off = lseek(fd, 10, SEEK_SET);
    printf("lseek: %lld %s\n", off, strerrorname_np(errno));
    struct itimerspec v = {.it_value = {0, 1000000000}};
    errno = 0;
    r = timerfd_settime(fd, 0, &v, NULL);
    printf("tv_nsec 1e9: %d %s\n", r, strerrorname_np(errno));
    v.it_value = (struct timespec){-1, 0};
    errno = 0;
    r = timerfd_settime(fd, 0, &v, NULL);
    printf("tv_sec -1: %d %s\n", r, strerrorname_np(errno));
    v.it_value = (struct timespec){1, 0};
    v.it_interval = (struct timespec){0, -1};
    errno = 0;
    r = timerfd_settime(fd, 0, &v, NULL);
    printf("interval tv_nsec -1: %d %s\n", r, strerrorname_np(errno));
    v.it_interval = (struct timespec){0, 0};
    errno = 0;
    r = timerfd_settime(fd, 4, &v, NULL);
    printf("settime flags 4: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &v, NULL);
    printf("settime TFD_TIMER_CANCEL_ON_SET alone: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_timerfd_settime, fd, 0, NULL, NULL);
    printf("settime NULL value: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_timerfd_settime, fd, 0, &v, (void*)8);
    printf("settime bad old-value pointer: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_timerfd_gettime, fd, NULL);
    printf("gettime NULL: %d %s\n", r, strerrorname_np(errno));
    int efd = eventfd(0, 0);
    errno = 0;
    r = timerfd_settime(efd, 0, &v, NULL);
    printf("settime on an eventfd: %d %s\n", r, strerrorname_np(errno));
    struct itimerspec cur;
    errno = 0;
    r = timerfd_gettime(efd, &cur);
    printf("gettime on an eventfd: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_settime(999, 0, &v, NULL);
    printf("settime on a bad fd: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = timerfd_gettime(999, &cur);
    printf("gettime on a bad fd: %d %s\n", r, strerrorname_np(errno));
    // Bad flags are checked before the fd.
    errno = 0;
    r = timerfd_settime(efd, 4, &v, NULL);
    printf("bad flags on an eventfd: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    uint64_t x = 1;
    ssize_t n = write(fd, &x, sizeof x);
    printf("write: %zd %s\n", n, strerrorname_np(errno));
    close(efd);
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    clocks();
    periodic();
    blocking();
    bad_input();
    return 0;
}
