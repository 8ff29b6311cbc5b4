// Interrupted system calls: a handler without SA_RESTART makes a blocking read, write,
// wait4 fail with EINTR, with SA_RESTART they restart (a partial write returns its
// count either way); nanosleep, clock_nanosleep, poll, select and sigtimedwait are never
// restarted after a handler; pause and sigsuspend return EINTR, and sigsuspend puts
// the old mask back; ignored and blocked signals interrupt nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t alarms;
static int notify_fd = -1; // the handler writes one byte here when set

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
    if (notify_fd >= 0)
        write(notify_fd, "n", 1);
}

static void set_alarm_handler(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

static void arm_ms(int ms)
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static const char* res(long r, int err)
{
    static char buf[64];
    if (r < 0)
        snprintf(buf, sizeof buf, "-1 %s", strerrorname_np(err));
    else
        snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

// A child that waits for one byte on `go` and then writes "hello" to `out`.
static pid_t writer_after(int go_read, int out_write, int delay_ms)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char c;
        if (go_read >= 0)
            read(go_read, &c, 1);
        if (delay_ms) {
            struct timespec ts = {0, delay_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
        write(out_write, "hello", 5);
        _exit(0);
    }
    return child;
}

static void reap(pid_t child)
{
    int status;
    waitpid(child, &status, 0);
}

static void blocking_read(int flags)
{
    int data[2], go[2];
    pipe(data);
    pipe(go);
    set_alarm_handler(flags);
    pid_t child = flags & SA_RESTART ? writer_after(go[0], data[1], 0) : -1;
    notify_fd = go[1];
    alarms = 0;
    char buf[16];
    arm_ms(30);
    errno = 0;
    long r = read(data[0], buf, sizeof buf);
    int e = errno;
    notify_fd = -1;
    printf("read on an empty pipe, SIGALRM handler %s SA_RESTART: %s, handler ran %d\n",
           flags & SA_RESTART ? "with" : "without", res(r, e), (int)alarms);
    if (child > 0)
        reap(child);
    close(data[0]);
    close(data[1]);
    close(go[0]);
    close(go[1]);
}

static void blocking_write(int flags, int partial)
{
    int p[2];
    pipe(p);
    int size = fcntl(p[1], F_GETPIPE_SZ);
    if (!partial) { // fill it completely
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        while (write(p[1], chunk, sizeof chunk) > 0) {
        }
        fcntl(p[1], F_SETFL, 0);
    }
    set_alarm_handler(flags);
    alarms = 0;
    static char big[1 << 20];
    arm_ms(30);
    errno = 0;
    long r = write(p[1], big, partial ? (size_t)size * 2 : 1);
    int e = errno;
    printf("write to %s pipe, handler %s SA_RESTART: %s%s, handler ran %d\n", partial ? "an empty" : "a full",
           flags & SA_RESTART ? "with" : "without", partial && r == size ? "the pipe's capacity" : res(r, e),
           partial ? " (partial)" : "", (int)alarms);
    close(p[0]);
    close(p[1]);
}

static sigset_t uc_mask;
static volatile sig_atomic_t usr1_hits;
static void on_usr1(int sig, siginfo_t* info, void* ucv)
{
    (void)sig;
    (void)info;
    ucontext_t* uc = ucv;
    uc_mask = uc->uc_sigmask;
    usr1_hits++;
}

static void print_mask(const char* what)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    printf("%s:", what);
    int any = 0;
    for (int i = 1; i < 65; i++)
        if (sigismember(&s, i)) {
            printf(" %s", i < SIGRTMIN ? sigabbrev_np(i) : "RT");
            any = 1;
        }
    printf("%s\n", any ? "" : " (empty)");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    blocking_read(0);
    blocking_read(SA_RESTART);
    blocking_write(0, 0);
    blocking_write(SA_RESTART, 1);
    blocking_write(0, 1);

    // wait4 on a child that only exits once the handler has run.
    for (int restart = 0; restart <= 1; restart++) {
        int go[2];
        pipe(go);
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            char c;
            read(go[0], &c, 1);
            _exit(9);
        }
        set_alarm_handler(restart ? SA_RESTART : 0);
        notify_fd = go[1];
        alarms = 0;
        int status = 0;
        arm_ms(30);
        errno = 0;
        pid_t w = waitpid(child, &status, 0);
        int e = errno;
        notify_fd = -1;
        if (w < 0)
            w = waitpid(child, &status, 0);
        printf("waitpid, handler %s SA_RESTART: %s, handler ran %d, child exit code %d\n",
               restart ? "with" : "without", w == child && e == 0 ? "the child" : res(-1, e), (int)alarms,
               WEXITSTATUS(status));
        close(go[0]);
        close(go[1]);
    }

    // Sleeps are not restarted after a handler, even with SA_RESTART.
    set_alarm_handler(SA_RESTART);
    struct timespec req = {1, 0}, rem = {0, 0};
    alarms = 0;
    arm_ms(30);
    errno = 0;
    int r = nanosleep(&req, &rem);
    printf("nanosleep(1 s), handler with SA_RESTART: %s, 0 < remaining < 1 s: %s\n", res(r, errno),
           tf((rem.tv_sec > 0 || rem.tv_nsec > 0) && rem.tv_sec == 0));
    rem.tv_sec = rem.tv_nsec = 0;
    arm_ms(30);
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
    printf("clock_nanosleep(MONOTONIC, 1 s): returns %s, 0 < remaining < 1 s: %s\n", r ? strerrorname_np(r) : "0",
           tf((rem.tv_sec > 0 || rem.tv_nsec > 0) && rem.tv_sec == 0));
    struct timespec now, until;
    clock_gettime(CLOCK_MONOTONIC, &now);
    until = now;
    until.tv_sec += 1;
    rem.tv_sec = 77;
    arm_ms(30);
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem);
    printf("clock_nanosleep(TIMER_ABSTIME): returns %s, remaining untouched: %s\n", r ? strerrorname_np(r) : "0",
           tf(rem.tv_sec == 77));

    // poll, select and sigtimedwait: EINTR even with SA_RESTART.
    int p[2];
    pipe(p);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    arm_ms(30);
    errno = 0;
    r = poll(&pfd, 1, -1);
    printf("poll(-1), handler with SA_RESTART: %s\n", res(r, errno));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    arm_ms(30);
    errno = 0;
    r = select(p[0] + 1, &rs, NULL, NULL, NULL);
    printf("select(NULL timeout), handler with SA_RESTART: %s\n", res(r, errno));
    sigset_t wait_usr2, usr2;
    sigemptyset(&wait_usr2);
    sigaddset(&wait_usr2, SIGUSR2);
    usr2 = wait_usr2;
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    struct timespec two = {2, 0};
    arm_ms(30);
    errno = 0;
    r = sigtimedwait(&wait_usr2, NULL, &two);
    printf("sigtimedwait({USR2}, 2 s) interrupted by a handled SIGALRM: %s\n", res(r, errno));
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);

    // pause.
    alarms = 0;
    arm_ms(30);
    errno = 0;
    r = pause();
    printf("pause(): %s, handler ran %d\n", res(r, errno), (int)alarms);

    // sigsuspend: the pending signal is delivered inside, the old mask comes back.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, empty;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);
    errno = 0;
    r = sigsuspend(&empty);
    printf("sigsuspend(empty) with SIGUSR1 pending: %s, handler ran %d, uc_sigmask had SIGUSR1: %s\n",
           res(r, errno), (int)usr1_hits, tf(sigismember(&uc_mask, SIGUSR1)));
    print_mask("  mask after sigsuspend");
    // A temporary mask that still blocks the pending SIGUSR1: only SIGALRM wakes it.
    raise(SIGUSR1);
    usr1_hits = 0;
    alarms = 0;
    arm_ms(30);
    errno = 0;
    r = sigsuspend(&usr1);
    printf("sigsuspend({USR1}) with SIGUSR1 pending: %s, SIGALRM handler ran %d, SIGUSR1 handler ran %d\n",
           res(r, errno), (int)alarms, (int)usr1_hits);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("  after unblocking SIGUSR1: its handler ran %d\n", (int)usr1_hits);

    // An ignored signal interrupts nothing: the read waits for the child's data.
    signal(SIGALRM, SIG_IGN);
    int data[2];
    pipe(data);
    pid_t child = writer_after(-1, data[1], 100);
    arm_ms(20);
    char buf[16];
    errno = 0;
    long n = read(data[0], buf, sizeof buf);
    printf("read with SIGALRM ignored: %s\n", res(n, errno));
    reap(child);
    // Nor does a blocked one, until it is unblocked.
    set_alarm_handler(0);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    alarms = 0;
    child = writer_after(-1, data[1], 100);
    arm_ms(20);
    errno = 0;
    n = read(data[0], buf, sizeof buf);
    printf("read with SIGALRM blocked: %s, handler ran %d\n", res(n, errno), (int)alarms);
    reap(child);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    printf("  after unblocking: handler ran %d\n", (int)alarms);
    return 0;
}
