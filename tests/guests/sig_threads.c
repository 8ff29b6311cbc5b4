// Signals and threads: a process-directed signal goes to a thread that does not block
// it (the main thread first when it can take it); pthread_kill targets one thread, even
// one waiting in pthread_cond_wait; masks are per thread and inherited at creation;
// thread-directed pending signals are private; sigwaitinfo in a thread; a new thread
// has no alternate stack; a fatal signal sent to one thread kills the whole process.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static pthread_t main_thread;
static volatile pthread_t handler_thread;
static volatile int handler_code, handler_pid_ok;
static int done_pipe[2];

static void on_sig(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    (void)uc;
    handler_thread = pthread_self();
    handler_code = info->si_code;
    handler_pid_ok = info->si_pid == getpid();
    write(done_pipe[1], "h", 1);
}

static void wait_handler(void)
{
    char c;
    read(done_pipe[0], &c, 1);
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static void mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(how, &s, NULL);
}

static int pending(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    return sigismember(&s, sig);
}

// A thread that unblocks `sig`, says it is ready, then waits in read() on `wake`.
struct reader {
    int unblock;
    int ready[2];
    int wake[2];
    pthread_t id;
};
static void* reader_main(void* arg)
{
    struct reader* r = arg;
    if (r->unblock)
        mask(SIG_UNBLOCK, r->unblock);
    write(r->ready[1], "r", 1);
    char c;
    read(r->wake[0], &c, 1);
    return NULL;
}
static void start_reader(struct reader* r, int unblock)
{
    r->unblock = unblock;
    pipe(r->ready);
    pipe(r->wake);
    pthread_create(&r->id, NULL, reader_main, r);
    char c;
    read(r->ready[0], &c, 1);
}
static void stop_reader(struct reader* r)
{
    write(r->wake[1], "q", 1);
    pthread_join(r->id, NULL);
    close(r->ready[0]);
    close(r->ready[1]);
    close(r->wake[0]);
    close(r->wake[1]);
}

// pthread_cond_wait.
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int waiting, released;
static void* cond_main(void* arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    waiting = 1;
    while (!released)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

// Mask inheritance and private pending signals.
static struct {
    int inherited_hup;
    int pending_usr1_in_thread;
    int sig1, sig2;
    int code1, code2;
} t2;
static int t2_go[2], t2_back[2];
static void* masks_main(void* arg)
{
    (void)arg;
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    t2.inherited_hup = sigismember(&cur, SIGHUP);
    mask(SIG_BLOCK, SIGINT);
    write(t2_back[1], "1", 1);
    char c;
    read(t2_go[0], &c, 1); // main has sent a thread-directed and a process-directed SIGUSR1
    t2.pending_usr1_in_thread = pending(SIGUSR1);
    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGUSR1);
    siginfo_t info;
    struct timespec zero = {0, 0};
    t2.sig1 = syscall(SYS_rt_sigtimedwait, &w, &info, &zero, 8);
    t2.code1 = info.si_code;
    t2.sig2 = syscall(SYS_rt_sigtimedwait, &w, &info, &zero, 8);
    t2.code2 = info.si_code;
    write(t2_back[1], "2", 1);
    read(t2_go[0], &c, 1);
    return NULL;
}

static struct {
    int sig, code;
    int flags;
} w3;
static void* waiter_main(void* arg)
{
    int* ready = arg;
    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGUSR2);
    write(ready[1], "r", 1);
    siginfo_t info;
    w3.sig = sigwaitinfo(&w, &info);
    w3.code = info.si_code;
    return NULL;
}

static void* altstack_main(void* arg)
{
    stack_t* out = arg;
    sigaltstack(NULL, out);
    return NULL;
}

static void* spin_main(void* arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void* fault_main(void* arg)
{
    (void)arg;
    int* volatile bad = (int*)16;
    *bad = 1;
    return NULL;
}

static const char* describe(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by %s", sigabbrev_np(WTERMSIG(status)));
    else
        snprintf(buf, sizeof buf, "0x%x", status);
    return buf;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    main_thread = pthread_self();
    pipe(done_pipe);
    install(SIGUSR1);
    install(SIGUSR2);

    // 1. kill() while the main thread blocks SIGUSR1 and another thread doesn't.
    mask(SIG_BLOCK, SIGUSR1);
    struct reader r;
    start_reader(&r, SIGUSR1);
    kill(getpid(), SIGUSR1);
    wait_handler();
    printf("kill(), main blocks SIGUSR1: handler ran in the other thread: %s (main: %s), code SI_USER: %s\n",
           tf(pthread_equal(handler_thread, r.id)), tf(pthread_equal(handler_thread, main_thread)),
           tf(handler_code == SI_USER));
    stop_reader(&r);
    mask(SIG_UNBLOCK, SIGUSR1);

    // 2. Nobody blocks it: the main thread (the process's own thread) takes it.
    start_reader(&r, 0);
    struct reader r2;
    start_reader(&r2, 0);
    kill(getpid(), SIGUSR1);
    wait_handler();
    printf("kill(), nobody blocks SIGUSR1: handler ran in the main thread: %s\n",
           tf(pthread_equal(handler_thread, main_thread)));

    // 3. pthread_kill to a specific thread.
    pthread_kill(r2.id, SIGUSR2);
    wait_handler();
    printf("pthread_kill(thread B, SIGUSR2): ran in B: %s, code SI_TKILL: %s, si_pid is ours: %s\n",
           tf(pthread_equal(handler_thread, r2.id)), tf(handler_code == SI_TKILL), tf(handler_pid_ok));
    pthread_kill(r.id, SIGUSR2);
    wait_handler();
    printf("pthread_kill(thread A, SIGUSR2): ran in A: %s\n", tf(pthread_equal(handler_thread, r.id)));
    stop_reader(&r);
    stop_reader(&r2);

    // 4. A thread waiting in pthread_cond_wait runs the handler and keeps waiting.
    pthread_t c;
    pthread_create(&c, NULL, cond_main, NULL);
    for (;;) { // until the thread is inside pthread_cond_wait (it released the mutex)
        pthread_mutex_lock(&mu);
        int w = waiting;
        pthread_mutex_unlock(&mu);
        if (w)
            break;
        sched_yield();
    }
    pthread_kill(c, SIGUSR2);
    wait_handler();
    printf("pthread_kill(thread in pthread_cond_wait): ran there: %s\n", tf(pthread_equal(handler_thread, c)));
    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(c, NULL);
    printf("  the thread then woke on pthread_cond_signal and was joined\n");

    // 5. Per-thread masks, inheritance, private pending signals.
    pipe(t2_go);
    pipe(t2_back);
    mask(SIG_BLOCK, SIGHUP);
    mask(SIG_BLOCK, SIGUSR1);
    pthread_t m;
    pthread_create(&m, NULL, masks_main, NULL);
    char ch;
    read(t2_back[0], &ch, 1);
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    printf("new thread inherited SIGHUP blocked: %s; its SIGINT block leaves main's mask alone: %s\n",
           tf(t2.inherited_hup), tf(!sigismember(&cur, SIGINT)));
    pthread_kill(m, SIGUSR1);
    printf("pthread_kill(blocked thread, SIGUSR1): pending in main: %s\n", tf(pending(SIGUSR1)));
    kill(getpid(), SIGUSR1); // both block it: stays pending for the process
    printf("kill() while every thread blocks it: pending in main: %s\n", tf(pending(SIGUSR1)));
    write(t2_go[1], "g", 1);
    read(t2_back[0], &ch, 1);
    printf("thread saw SIGUSR1 pending: %s; its sigtimedwait got %s (code %d) then %s (code %d)\n",
           tf(t2.pending_usr1_in_thread), t2.sig1 > 0 ? sigabbrev_np(t2.sig1) : "nothing", t2.code1,
           t2.sig2 > 0 ? sigabbrev_np(t2.sig2) : "nothing", t2.code2);
    printf("  pending in main afterwards: %s\n", tf(pending(SIGUSR1)));
    // A thread-directed signal dies with its thread.
    pthread_kill(m, SIGUSR1);
    write(t2_go[1], "g", 1);
    pthread_join(m, NULL);
    printf("thread exited with SIGUSR1 pending for it: pending in main: %s\n", tf(pending(SIGUSR1)));
    mask(SIG_UNBLOCK, SIGHUP);
    mask(SIG_UNBLOCK, SIGUSR1);

    // 6. sigwaitinfo in a thread for a process-directed signal.
    mask(SIG_BLOCK, SIGUSR2); // inherited by the waiter
    int ready[2];
    pipe(ready);
    pthread_t w;
    pthread_create(&w, NULL, waiter_main, ready);
    read(ready[0], &ch, 1);
    kill(getpid(), SIGUSR2);
    pthread_join(w, NULL);
    printf("sigwaitinfo in a thread, kill() from main: got %s code SI_USER: %s\n",
           w3.sig > 0 ? sigabbrev_np(w3.sig) : "nothing", tf(w3.code == SI_USER));
    mask(SIG_UNBLOCK, SIGUSR2);

    // 7. A new thread starts without an alternate stack.
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    stack_t theirs;
    memset(&theirs, 0, sizeof theirs);
    pthread_t a;
    pthread_create(&a, NULL, altstack_main, &theirs);
    pthread_join(a, NULL);
    printf("new thread's sigaltstack: SS_DISABLE: %s\n", tf((theirs.ss_flags & SS_DISABLE) != 0));

    // 8. tgkill checks.
    errno = 0;
    long rr = syscall(SYS_tgkill, getpid(), 0, SIGUSR1);
    printf("tgkill(pid, 0) = %ld %s\n", rr, strerrorname_np(errno));
    errno = 0;
    rr = syscall(SYS_tgkill, 0, gettid(), SIGUSR1);
    printf("tgkill(0, tid) = %ld %s\n", rr, strerrorname_np(errno));
    errno = 0;
    rr = syscall(SYS_tgkill, getpid(), gettid(), 65);
    printf("tgkill(pid, tid, 65) = %ld %s\n", rr, strerrorname_np(errno));
    errno = 0;
    rr = syscall(SYS_tgkill, getpid(), gettid(), 0);
    printf("tgkill(pid, tid, 0) = %ld\n", rr);

    // 9. Fatal signals reach the whole process.
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        pthread_t s;
        pthread_create(&s, NULL, spin_main, NULL);
        pthread_kill(s, SIGTERM);
        for (;;)
            pause();
    }
    int status;
    waitpid(child, &status, 0);
    printf("pthread_kill(other thread, SIGTERM) with the default action -> %s\n", describe(status));
    fflush(stdout);
    child = fork();
    if (child == 0) {
        pthread_t s;
        pthread_create(&s, NULL, fault_main, NULL);
        for (;;)
            pause();
    }
    waitpid(child, &status, 0);
    printf("a thread faults with no handler -> %s\n", describe(status));
    fflush(stdout);
    child = fork();
    if (child == 0) {
        pthread_t s;
        pthread_create(&s, NULL, spin_main, NULL);
        for (;;)
            pause();
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    printf("kill(two-thread child, SIGKILL) -> %s\n", describe(status));
    return 0;
}
