// epoll on pipes: level- against edge-triggered reports, EPOLLONESHOT (disabled after
// one report, re-armed by EPOLL_CTL_MOD), EPOLLHUP on a read end whose writer closed,
// EPOLLERR on a write end whose reader closed, EPOLLRDHUP accepted, an epoll inside an
// epoll, the open-file-description rule (a registration lives while its file does,
// whatever happens to the fd it was made through), timeouts, EINTR even under
// SA_RESTART, the atomic mask of epoll_pwait, epoll_pwait2's timespec, maxevents and
// the round-robin of level-triggered items, a host FIFO, and the errors of bad input
// (character devices without a poll method and /proc files are EPERM, like regular
// files).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static const char* evname(uint32_t e)
{
    static char buf[128];
    buf[0] = 0;
    static const struct {
        uint32_t bit;
        const char* name;
    } names[] = {{EPOLLIN, "IN"}, {EPOLLOUT, "OUT"}, {EPOLLPRI, "PRI"}, {EPOLLERR, "ERR"}, {EPOLLHUP, "HUP"},
        {EPOLLRDHUP, "RDHUP"}, {EPOLLRDNORM, "RDNORM"}, {EPOLLWRNORM, "WRNORM"}, {EPOLLRDBAND, "RDBAND"},
        {EPOLLWRBAND, "WRBAND"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (e & names[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, names[i].name);
            e &= ~names[i].bit;
        }
    if (e)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s0x%x", buf[0] ? "|" : "", e);
    return buf[0] ? buf : "0";
}

// One epoll_wait, printed: the count (or errno) and each (data, events).
static int show(const char* what, int ep, int max, int timeout)
{
    struct epoll_event ev[16];
    errno = 0;
    int n = epoll_wait(ep, ev, max, timeout);
    printf("%s: %d", what, n);
    if (n < 0)
        printf(" %s", strerrorname_np(errno));
    for (int i = 0; i < n; i++)
        printf(" [%llu %s]", (unsigned long long)ev[i].data.u64, evname(ev[i].events));
    printf("\n");
    return n;
}

static void err(const char* what, int r)
{
    printf("%s: %d %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void drain(int fd)
{
    char buf[256];
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while (read(fd, buf, sizeof buf) > 0) {
    }
    fcntl(fd, F_SETFL, fl);
}

static volatile int g_alarms, g_usr1;
static void on_alarm(int sig) { (void)sig; g_alarms++; }
static void on_usr1(int sig) { (void)sig; g_usr1++; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void level_and_edge(void)
{
    int lt[2], et[2];
    pipe(lt);
    pipe(et);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1(EPOLL_CLOEXEC): fd %s cloexec %s\n", tf(ep >= 0), tf(fcntl(ep, F_GETFD) & FD_CLOEXEC));
    add(ep, lt[0], EPOLLIN, 1);
    add(ep, et[0], EPOLLIN | EPOLLET, 2);
    show("nothing written", ep, 8, 0);
    write(lt[1], "x", 1);
    write(et[1], "x", 1);
    show("both written", ep, 8, 0);
    show("again: level stays, edge gone", ep, 8, 0);
    write(et[1], "y", 1);
    show("edge written again (pipe not empty)", ep, 8, 0);
    drain(lt[0]);
    show("level drained", ep, 8, 0);
    drain(et[0]);
    write(et[1], "z", 1);
    show("edge drained and written", ep, 8, 0);
    // A writer's edge: the pipe has room from the start.
    int wr = epoll_create1(0);
    add(wr, lt[1], EPOLLOUT | EPOLLET, 3);
    show("write end, edge", wr, 8, 0);
    show("write end, edge again", wr, 8, 0);
    close(wr);

    // EPOLLONESHOT: one report, then nothing until EPOLL_CTL_MOD.
    int os = epoll_create1(0);
    add(os, lt[0], EPOLLIN | EPOLLONESHOT, 4);
    write(lt[1], "a", 1);
    show("oneshot", os, 8, 0);
    show("oneshot again", os, 8, 0);
    write(lt[1], "b", 1);
    show("oneshot after more data", os, 8, 0);
    err("oneshot: EPOLL_CTL_ADD again", add(os, lt[0], EPOLLIN, 4));
    err("oneshot: EPOLL_CTL_MOD re-arms", mod(os, lt[0], EPOLLIN | EPOLLONESHOT, 5));
    show("oneshot re-armed", os, 8, 0);
    show("oneshot re-armed, again", os, 8, 0);
    err("oneshot: EPOLL_CTL_DEL of a disabled item", epoll_ctl(os, EPOLL_CTL_DEL, lt[0], NULL));
    close(os);
    drain(lt[0]);

    // poll() on the epoll fd itself.
    struct pollfd p = {.fd = ep, .events = POLLIN};
    printf("poll(epfd) with nothing ready: %d\n", poll(&p, 1, 0));
    write(lt[1], "c", 1);
    p.revents = 0;
    int pr = poll(&p, 1, 0);
    printf("poll(epfd) with an item ready: %d revents %s\n", pr, evname(p.revents));
    drain(lt[0]);
    close(ep);
    close(lt[0]);
    close(lt[1]);
    close(et[0]);
    close(et[1]);
}

static void hangups(void)
{
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    err("EPOLLRDHUP accepted", add(ep, p[0], EPOLLIN | EPOLLRDHUP, 1));
    write(p[1], "x", 1);
    close(p[1]);
    show("read end, data then writer closed", ep, 8, 0);
    drain(p[0]);
    show("read end, writer closed, drained", ep, 8, 0);
    show("read end, hang-up is level-triggered", ep, 8, 0);
    close(p[0]);

    int q[2];
    pipe(q);
    int ep2 = epoll_create1(0);
    add(ep2, q[1], EPOLLOUT, 2);
    show("write end, reader open", ep2, 8, 0);
    close(q[0]);
    show("write end, reader closed", ep2, 8, 0);
    mod(ep2, q[1], 0, 3);
    show("write end, no events asked: errors still reported", ep2, 8, 0);
    close(q[1]);
    close(ep);
    close(ep2);

    // Nothing asked and nothing wrong: never reported.
    int r[2];
    pipe(r);
    int ep3 = epoll_create1(0);
    add(ep3, r[0], 0, 4);
    write(r[1], "x", 1);
    show("events 0 with data", ep3, 8, 0);
    close(r[0]);
    close(r[1]);
    close(ep3);
}

static void nested(void)
{
    int p[2];
    pipe(p);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    add(inner, p[0], EPOLLIN, 7);
    err("outer adds inner", add(outer, inner, EPOLLIN, 8));
    show("outer, inner idle", outer, 8, 0);
    write(p[1], "x", 1);
    show("outer, inner ready", outer, 8, 0);
    show("inner", inner, 8, 0);
    drain(p[0]);
    show("outer, inner drained", outer, 8, 0);
    // A blocking wait on the outer one is woken by a write.
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        write(p[1], "y", 1);
        _exit(0);
    }
    show("outer, blocking until a child writes", outer, 8, 5000);
    waitpid(child, NULL, 0);
    drain(p[0]);
    int ep3 = epoll_create1(0);
    err("third level adds outer", add(ep3, outer, EPOLLIN, 9));
    write(p[1], "z", 1);
    show("third level, inner ready", ep3, 8, 0);
    // Cycles.
    err("inner adds ep3 (cycle)", add(inner, ep3, EPOLLIN, 10));
    err("inner adds outer (cycle)", add(inner, outer, EPOLLIN, 10));
    int a = epoll_create1(0), b = epoll_create1(0);
    err("a adds b", add(a, b, EPOLLIN, 1));
    err("b adds a (cycle)", add(b, a, EPOLLIN, 1));
    close(a);
    close(b);
    close(ep3);
    close(outer);
    close(inner);
    close(p[0]);
    close(p[1]);
}

static void file_descriptions(void)
{
    int p[2];
    pipe(p);
    int a = p[0];
    int b = dup(a);
    int ep = epoll_create1(0);
    add(ep, a, EPOLLIN, 11);
    err("add the dup too (another fd, same file)", add(ep, b, EPOLLIN, 12));
    err("del the dup", epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL));
    close(a);
    write(p[1], "x", 1);
    show("registered fd closed, dup open", ep, 8, 0);
    err("del through the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL));
    err("del through the dup (never registered by it)", epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL));
    close(b);
    show("every fd of the file closed", ep, 8, 0);
    // The fd number reused by a new file: a new registration.
    int c = dup2(p[1], a);
    printf("reused fd number: %s\n", tf(c == a));
    err("add the reused number", add(ep, a, EPOLLOUT, 13));
    show("the new file", ep, 8, 0);
    close(a);
    close(p[1]);
    close(ep);

    // The registration survives in a forked child, and a close in the child does not
    // remove it for the parent.
    int q[2];
    pipe(q);
    int ep2 = epoll_create1(0);
    add(ep2, q[0], EPOLLIN, 21);
    pid_t child = fork();
    if (child == 0) {
        close(q[0]);
        write(q[1], "x", 1);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    show("after a child closed its copy and wrote", ep2, 8, 0);
    close(ep2);
    close(q[0]);
    close(q[1]);
}

// A FIFO is a host file under the sentry (its readiness comes from the host).
static void fifo(void)
{
    char path[] = "/tmp/epoll_basic_fifo_XXXXXX";
    int tmp = mkstemp(path);
    close(tmp);
    unlink(path);
    mkfifo(path, 0600);
    int r = open(path, O_RDONLY | O_NONBLOCK);
    int w = open(path, O_WRONLY | O_NONBLOCK);
    unlink(path);
    int ep = epoll_create1(0);
    add(ep, r, EPOLLIN, 31);
    add(ep, w, EPOLLOUT | EPOLLET, 32);
    show("fifo: idle (the writer's edge)", ep, 8, 0);
    show("fifo: idle again", ep, 8, 0);
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        write(w, "x", 1);
        _exit(0);
    }
    show("fifo: blocking until a child writes", ep, 8, 5000);
    waitpid(child, NULL, 0);
    drain(r);
    show("fifo: drained", ep, 8, 0);
    close(w);
    show("fifo: writer closed", ep, 8, 0);
    close(r);
    close(ep);
}

static void timeouts_and_signals(void)
{
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    add(ep, p[0], EPOLLIN, 1);
    show("timeout 0", ep, 8, 0);
    double t0 = now_ms();
    show("timeout 50 ms", ep, 8, 50);
    printf("  waited at least 45 ms: %s\n", tf(now_ms() - t0 >= 45));

    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    show("epoll_wait(-1) with an SA_RESTART alarm", ep, 8, -1);
    printf("  alarms: %d\n", g_alarms);

    // epoll_pwait: the mask is swapped in for the wait only.
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none, cur;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);
    struct epoll_event ev[4];
    errno = 0;
    int n = epoll_pwait(ep, ev, 4, 0, &usr1);
    printf("epoll_pwait with USR1 pending and still masked: %d usr1 handled %d\n", n, g_usr1);
    // Something ready: events are reported first and the signal stays pending.
    write(p[1], "x", 1);
    errno = 0;
    n = epoll_pwait(ep, ev, 4, 1000, &none);
    sigpending(&cur);
    printf("epoll_pwait unmasking USR1 with an event ready: %d usr1 handled %d pending %s\n", n, g_usr1,
           tf(sigismember(&cur, SIGUSR1)));
    drain(p[0]);
    errno = 0;
    n = epoll_pwait(ep, ev, 4, 1000, &none);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("epoll_pwait unmasking USR1, nothing ready: %d %s usr1 handled %d, USR1 blocked after: %s\n", n,
           strerrorname_np(errno), g_usr1, tf(sigismember(&cur, SIGUSR1)));
    errno = 0;
    n = syscall(SYS_epoll_pwait, ep, ev, 4, 0, &none, 4);
    printf("epoll_pwait with sigsetsize 4: %d %s\n", n, strerrorname_np(errno));
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);

    // epoll_pwait2: a timespec.
    struct timespec ts = {0, 50 * 1000 * 1000};
    t0 = now_ms();
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, &ts, NULL, 8);
    printf("epoll_pwait2 50 ms: %d, waited at least 45 ms: %s\n", n, tf(now_ms() - t0 >= 45));
    ts.tv_nsec = 0;
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, &ts, NULL, 8);
    printf("epoll_pwait2 zero: %d\n", n);
    write(p[1], "x", 1);
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, NULL, NULL, 8);
    printf("epoll_pwait2 no timeout, data ready: %d data %llu\n", n, (unsigned long long)ev[0].data.u64);
    ts.tv_nsec = 1000000000;
    errno = 0;
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, &ts, NULL, 8);
    printf("epoll_pwait2 tv_nsec 1e9: %d %s\n", n, strerrorname_np(errno));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void round_robin(void)
{
    int p[3][2];
    int ep = epoll_create1(0);
    for (int i = 0; i < 3; i++) {
        pipe(p[i]);
        write(p[i][1], "x", 1);
        add(ep, p[i][0], EPOLLIN, 100 + i);
    }
    for (int i = 0; i < 4; i++)
        show("maxevents 2", ep, 2, 0);
    show("maxevents 1", ep, 1, 0);
    show("maxevents 8", ep, 8, 0);
    // An edge-triggered item left unreported by maxevents stays ready.
    int q[2][2];
    int e2 = epoll_create1(0);
    for (int i = 0; i < 2; i++) {
        pipe(q[i]);
        add(e2, q[i][0], EPOLLIN | EPOLLET, 200 + i);
        write(q[i][1], "x", 1);
    }
    show("edge, maxevents 1", e2, 1, 0);
    show("edge, maxevents 1 again", e2, 1, 0);
    show("edge, nothing left", e2, 1, 0);
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    for (int i = 0; i < 2; i++) {
        close(q[i][0]);
        close(q[i][1]);
    }
    close(ep);
    close(e2);
}

// Pointers the compiler must not reason about.
static void* volatile g_unmapped = (void*)8;
static void* volatile g_kernel = (void*)0xffff800000000000ULL;
static volatile int g_minus_one = -1;

static void bad_input(void)
{
    int p[2];
    pipe(p);
    errno = 0;
    err("epoll_create1(EPOLL_CLOEXEC<<1)", epoll_create1(EPOLL_CLOEXEC << 1));
    err("epoll_create1(1)", epoll_create1(1));
    err("epoll_create(0)", epoll_create(0));
    err("epoll_create(-1)", epoll_create(-1));
    int ep = epoll_create(1);
    printf("epoll_create(1): %s\n", tf(ep >= 0));
    int reg = open("/etc/os-release", O_RDONLY);
    err("epoll_ctl on a regular file", add(ep, reg, EPOLLIN, 0));
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    err("epoll_ctl on a directory", add(ep, dir, EPOLLIN, 0));
    // Character devices without a poll method, and /proc files.
    int dn = open("/dev/null", O_RDWR), dz = open("/dev/zero", O_RDONLY), ps = open("/proc/self/stat", O_RDONLY);
    err("epoll_ctl on /dev/null", add(ep, dn, EPOLLIN, 0));
    err("epoll_ctl on /dev/zero", add(ep, dz, EPOLLIN, 0));
    err("epoll_ctl on /proc/self/stat", add(ep, ps, EPOLLIN, 0));
    struct pollfd pf[3] = {{.fd = dn, .events = POLLIN | POLLOUT}, {.fd = dz, .events = POLLIN | POLLOUT},
        {.fd = ps, .events = POLLIN | POLLOUT}};
    int pn = poll(pf, 3, 0);
    printf("poll on them: %d %s, %s, %s\n", pn, evname(pf[0].revents), evname(pf[1].revents), evname(pf[2].revents));
    close(dn);
    close(dz);
    close(ps);
    err("epoll_ctl on itself", add(ep, ep, EPOLLIN, 0));
    err("epoll_ctl with a pipe as epfd", add(p[0], p[1], EPOLLIN, 0));
    err("epoll_ctl with a bad epfd", add(999, p[0], EPOLLIN, 0));
    err("epoll_ctl with a bad fd", add(ep, 999, EPOLLIN, 0));
    err("add", add(ep, p[0], EPOLLIN, 0));
    err("add again", add(ep, p[0], EPOLLIN, 0));
    err("mod unregistered", mod(ep, p[1], EPOLLOUT, 0));
    err("del unregistered", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    struct epoll_event e = {.events = EPOLLIN};
    err("bad op", epoll_ctl(ep, 42, p[0], &e));
    err("bad op, NULL event", epoll_ctl(ep, 42, p[0], NULL));
    err("add with a NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], NULL));
    err("add with a bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], g_unmapped));
    err("mod with EPOLLEXCLUSIVE", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
    err("add with EPOLLEXCLUSIVE|EPOLLONESHOT", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 0));
    int inner = epoll_create1(0);
    err("add an epoll with EPOLLEXCLUSIVE", add(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 0));
    err("add with EPOLLEXCLUSIVE", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 0));
    err("mod of an EPOLLEXCLUSIVE item", mod(ep, p[1], EPOLLOUT, 0));
    err("del of an EPOLLEXCLUSIVE item", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    struct epoll_event ev[2];
    errno = 0;
    err("epoll_wait maxevents 0", epoll_wait(ep, ev, 0, 0));
    err("epoll_wait maxevents -1", epoll_wait(ep, ev, g_minus_one, 0));
    err("epoll_wait on a pipe", epoll_wait(p[0], ev, 2, 0));
    err("epoll_wait on a bad fd", epoll_wait(999, ev, 2, 0));
    err("epoll_wait with a kernel address", epoll_wait(ep, g_kernel, 2, 0));
    err("epoll_wait with an unmapped buffer, nothing ready", epoll_wait(ep, g_unmapped, 2, 0));
    write(p[1], "x", 1);
    err("epoll_wait with an unmapped buffer, one ready", epoll_wait(ep, g_unmapped, 2, 0));
    mod(ep, p[0], EPOLLIN | EPOLLET, 5);
    err("edge item: unmapped buffer", epoll_wait(ep, g_unmapped, 2, 0));
    show("edge item: still reported afterwards", ep, 2, 0);
    close(inner);
    close(reg);
    close(dir);
    close(ep);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    level_and_edge();
    hangups();
    nested();
    file_descriptions();
    fifo();
    timeouts_and_signals();
    round_robin();
    bad_input();
    return 0;
}
