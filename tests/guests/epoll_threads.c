// epoll across threads and processes: a thread blocked in epoll_wait on a signalfd is
// woken by a signal sent to the process by another thread or another process; one
// blocked on an eventfd is woken by another thread's write; one blocked on an empty
// epoll is woken when another thread adds a ready fd, and one whose epoll another
// thread closes keeps waiting on it. A signalfd's readiness is that
// of the thread that waits: a signal sent to one thread does not make the signalfd
// ready for another (and, as on Linux, the wake-up that other thread consumed leaves
// the item off the ready list until it is polled again).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_ep, g_sfd, g_efd;
static pid_t g_main_tid;

struct result {
    int n;
    uint32_t events;
    uint64_t data;
    int err;
};

static void* waiter(void* arg)
{
    struct result* r = arg;
    struct epoll_event ev;
    errno = 0;
    r->n = epoll_wait(g_ep, &ev, 1, (int)r->data);
    r->err = errno;
    if (r->n == 1) {
        r->events = ev.events;
        r->data = ev.data.u64;
    }
    return NULL;
}

static void report(const char* what, const struct result* r)
{
    printf("%s: %d", what, r->n);
    if (r->n < 0)
        printf(" %s", strerrorname_np(r->err));
    if (r->n == 1)
        printf(" data %llu%s", (unsigned long long)r->data, (r->events & EPOLLIN) ? " IN" : "");
    printf("\n");
}

static void start(pthread_t* th, struct result* r, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->data = (uint64_t)timeout_ms;
    pthread_create(th, NULL, waiter, r);
    usleep(50000); // let it block
}

static void read_sig(const char* what)
{
    struct signalfd_siginfo si;
    ssize_t n = read(g_sfd, &si, sizeof si);
    printf("  %s: read %zd %s\n", what, n, n > 0 ? sigabbrev_np(si.ssi_signo) : strerrorname_np(errno));
}

static void* kill_later(void* arg)
{
    usleep(20000);
    kill(getpid(), (int)(intptr_t)arg);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_main_tid = gettid();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, NULL);
    g_sfd = signalfd(-1, &s, SFD_NONBLOCK);
    g_efd = eventfd(0, EFD_NONBLOCK);
    g_ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1};
    epoll_ctl(g_ep, EPOLL_CTL_ADD, g_sfd, &e);
    e.data.u64 = 2;
    epoll_ctl(g_ep, EPOLL_CTL_ADD, g_efd, &e);

    pthread_t th;
    struct result r;

    // kill() from the main thread while another waits.
    start(&th, &r, 5000);
    kill(getpid(), SIGUSR1);
    pthread_join(th, NULL);
    report("waiting thread, the main thread kill()s the process", &r);
    read_sig("main thread reads it");

    // kill() from a third thread.
    start(&th, &r, 5000);
    pthread_t killer;
    pthread_create(&killer, NULL, kill_later, (void*)(intptr_t)SIGUSR2);
    pthread_join(killer, NULL);
    pthread_join(th, NULL);
    report("waiting thread, another thread kill()s the process", &r);
    read_sig("main thread reads it");

    // kill() from another process.
    start(&th, &r, 5000);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    pthread_join(th, NULL);
    waitpid(child, NULL, 0);
    report("waiting thread, a child process kill()s the parent", &r);
    read_sig("main thread reads it");

    // An eventfd written by another thread.
    start(&th, &r, 5000);
    uint64_t one = 1;
    write(g_efd, &one, sizeof one);
    pthread_join(th, NULL);
    report("waiting thread, the main thread writes the eventfd", &r);
    uint64_t v;
    read(g_efd, &v, sizeof v);

    // A signal to the main thread only: not ready for the waiting thread.
    start(&th, &r, 200);
    syscall(SYS_tgkill, getpid(), g_main_tid, SIGUSR2);
    pthread_join(th, NULL);
    report("waiting thread, a signal to the main thread only", &r);
    struct epoll_event ev;
    int n = epoll_wait(g_ep, &ev, 1, 0);
    printf("main thread, epoll_wait(0) after the other consumed the wake-up: %d\n", n);
    e.data.u64 = 1;
    epoll_ctl(g_ep, EPOLL_CTL_MOD, g_sfd, &e);
    n = epoll_wait(g_ep, &ev, 1, 0);
    printf("main thread, after EPOLL_CTL_MOD polls it again: %d data %llu\n", n, (unsigned long long)ev.data.u64);
    struct pollfd p = {.fd = g_sfd, .events = POLLIN};
    printf("main thread, poll(): %d\n", poll(&p, 1, 0));
    read_sig("main thread reads it");

    // An fd added to the epoll while a thread waits on it.
    int ep2 = epoll_create1(0);
    int saved = g_ep;
    g_ep = ep2;
    start(&th, &r, 5000);
    write(g_efd, &one, sizeof one);
    e.data.u64 = 9;
    epoll_ctl(ep2, EPOLL_CTL_ADD, g_efd, &e);
    pthread_join(th, NULL);
    report("waiting thread, the main thread adds a ready eventfd", &r);
    read(g_efd, &v, sizeof v);
    g_ep = saved;

    // The epoll closed by another thread while one waits on it: the wait holds it,
    // and an eventfd it watches still wakes it.
    int ep3 = epoll_create1(0);
    e.data.u64 = 33;
    epoll_ctl(ep3, EPOLL_CTL_ADD, g_efd, &e);
    g_ep = ep3;
    start(&th, &r, 5000);
    close(ep3);
    usleep(20000);
    write(g_efd, &one, sizeof one);
    pthread_join(th, NULL);
    report("waiting thread, its epoll closed by the main thread, then the eventfd written", &r);
    read(g_efd, &v, sizeof v);
    g_ep = saved;

    // A blocking signalfd read in a thread, woken by a child's kill().
    int bfd = signalfd(-1, &s, 0);
    child = fork();
    if (child == 0) {
        usleep(50000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    struct signalfd_siginfo si;
    n = (int)read(bfd, &si, sizeof si);
    waitpid(child, NULL, 0);
    printf("blocking signalfd read, a child kill()s: %d %s pid is the child %s\n", n, sigabbrev_np(si.ssi_signo),
           si.ssi_pid == (uint32_t)child ? "true" : "false");
    return 0;
}
