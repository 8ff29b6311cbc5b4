// sigaction flags and the mask while a handler runs: sa_mask and the signal itself are
// blocked during the handler and unblocked after it; SA_NODEFER lets the same signal
// nest; SA_RESETHAND restores SIG_DFL after one delivery; a handler raising another
// signal runs that handler nested; what sigaction reports back; its EINVAL cases.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// An event log written by handlers, printed later.
static char log_buf[512];
static volatile int log_len;
static void log_event(const char* s)
{
    while (*s && log_len < (int)sizeof log_buf - 2)
        log_buf[log_len++] = *s++;
    log_buf[log_len++] = ' ';
    log_buf[log_len] = 0;
}
static void print_log(const char* what)
{
    printf("%s: %s\n", what, log_buf);
    log_len = 0;
    log_buf[0] = 0;
}

static sigset_t mask_in_handler;
static void on_record_mask(int sig)
{
    (void)sig;
    sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static volatile int depth, max_depth, calls;
static void on_nest(int sig)
{
    int me = ++calls;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    log_event(me == 1 ? "enter1" : "enter2");
    if (me == 1)
        raise(sig);
    log_event(me == 1 ? "leave1" : "leave2");
    depth--;
}

static void on_usr1_raises_usr2(int sig)
{
    (void)sig;
    log_event("usr1-begin");
    raise(SIGUSR2);
    log_event("usr1-end");
}
static void on_usr2(int sig)
{
    (void)sig;
    log_event("usr2");
}

static volatile sig_atomic_t reset_hits;
static sigset_t reset_mask;
static void on_reset(int sig)
{
    (void)sig;
    sigprocmask(SIG_BLOCK, NULL, &reset_mask);
    reset_hits++;
}

static void set(int sig, void (*h)(int), int flags, const int* masked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    for (; masked && *masked; masked++)
        sigaddset(&sa.sa_mask, *masked);
    if (sigaction(sig, &sa, NULL) != 0)
        printf("sigaction(%d): %s\n", sig, strerrorname_np(errno));
}

static void print_set(const char* what, const sigset_t* s)
{
    printf("%s:", what);
    int any = 0;
    for (int i = 1; i < 65; i++)
        if (sigismember(s, i)) {
            printf(" %d", i);
            any = 1;
        }
    printf("%s\n", any ? "" : " (empty)");
}

static void current_mask(const char* what)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    print_set(what, &s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    // sa_mask plus the signal itself are blocked while the handler runs.
    static const int usr2_term[] = {SIGUSR2, SIGTERM, 0};
    set(SIGUSR1, on_record_mask, 0, usr2_term);
    raise(SIGUSR1);
    print_set("mask inside SIGUSR1 handler (sa_mask USR2,TERM)", &mask_in_handler);
    current_mask("mask after the handler");

    // SA_NODEFER: only sa_mask.
    set(SIGUSR1, on_record_mask, SA_NODEFER, usr2_term);
    raise(SIGUSR1);
    print_set("mask inside SA_NODEFER handler", &mask_in_handler);

    // The mask in the handler adds to what was already blocked, and is restored.
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hup, NULL);
    set(SIGUSR1, on_record_mask, 0, NULL);
    raise(SIGUSR1);
    print_set("mask inside handler with SIGHUP blocked before", &mask_in_handler);
    sigprocmask(SIG_UNBLOCK, &hup, NULL);
    current_mask("mask after");

    // Same signal raised inside its own handler: deferred without SA_NODEFER, nested with.
    set(SIGUSR1, on_nest, 0, NULL);
    max_depth = calls = 0;
    raise(SIGUSR1);
    print_log("raise in own handler, default");
    printf("  max depth %d\n", max_depth);
    set(SIGUSR1, on_nest, SA_NODEFER, NULL);
    max_depth = calls = 0;
    raise(SIGUSR1);
    print_log("raise in own handler, SA_NODEFER");
    printf("  max depth %d\n", max_depth);

    // A handler raising another signal: nested unless sa_mask holds it.
    set(SIGUSR1, on_usr1_raises_usr2, 0, NULL);
    set(SIGUSR2, on_usr2, 0, NULL);
    raise(SIGUSR1);
    print_log("SIGUSR1 handler raises SIGUSR2");
    static const int usr2[] = {SIGUSR2, 0};
    set(SIGUSR1, on_usr1_raises_usr2, 0, usr2);
    raise(SIGUSR1);
    print_log("same with SIGUSR2 in sa_mask");

    // SA_RESETHAND: one delivery, then SIG_DFL.
    set(SIGUSR2, on_reset, SA_RESETHAND, NULL);
    raise(SIGUSR2);
    struct sigaction old;
    memset(&old, 0, sizeof old);
    sigaction(SIGUSR2, NULL, &old);
    printf("SA_RESETHAND: hits=%d, handler now SIG_DFL=%s, flags keep SA_RESETHAND=%s, SIGUSR2 blocked inside=%s\n",
           (int)reset_hits, tf(old.sa_handler == SIG_DFL), tf((old.sa_flags & SA_RESETHAND) != 0),
           tf(sigismember(&reset_mask, SIGUSR2)));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        reset_hits = 0;
        set(SIGUSR2, on_reset, SA_RESETHAND, NULL);
        raise(SIGUSR2);
        if (reset_hits == 1)
            write(1, "  child: first SIGUSR2 handled\n", 31);
        raise(SIGUSR2);
        write(1, "  child: survived the second SIGUSR2 (wrong)\n", 45);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("SA_RESETHAND child after the second raise: signaled=%d sig=%s\n", WIFSIGNALED(status),
           WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "-");

    // What sigaction reports back.
    static const int hup_int[] = {SIGHUP, SIGINT, 0};
    set(SIGTERM, on_usr2, SA_RESTART | SA_NODEFER | SA_ONSTACK, hup_int);
    memset(&old, 0, sizeof old);
    sigaction(SIGTERM, NULL, &old);
    printf("read back: handler same=%s flags=0x%x\n", tf(old.sa_handler == on_usr2), old.sa_flags);
    print_set("  sa_mask", &old.sa_mask);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    memset(&old, 0, sizeof old);
    sigaction(SIGTERM, &sa, &old); // old comes back while the new one is set
    int old_same = old.sa_handler == on_usr2;
    sigaction(SIGTERM, NULL, &old);
    printf("swap: old handler same=%s, now SIG_DFL=%s\n", tf(old_same), tf(old.sa_handler == SIG_DFL));
    // Unknown flag bits are cleared in what is reported (Linux >= 5.11: SA_UNSUPPORTED).
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_SIGINFO | 0x400 /* SA_UNSUPPORTED */ | 0x00100000;
    int r = sigaction(SIGTERM, &sa, NULL);
    memset(&old, 0, sizeof old);
    sigaction(SIGTERM, NULL, &old);
    printf("unknown flags: set=%d read back flags=0x%x\n", r, old.sa_flags);
    // SIGKILL and SIGSTOP can't be in sa_mask; sa_mask is stored with them removed.
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaddset(&sa.sa_mask, SIGKILL);
    sigaddset(&sa.sa_mask, SIGSTOP);
    sigaddset(&sa.sa_mask, SIGQUIT);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGTERM, NULL, &old);
    print_set("sa_mask set with KILL,STOP,QUIT reads back", &old.sa_mask);
    signal(SIGTERM, SIG_DFL);
    // signal() is BSD-style in glibc: SA_RESTART.
    signal(SIGHUP, on_usr2);
    sigaction(SIGHUP, NULL, &old);
    printf("signal(): flags has SA_RESTART=%s SA_RESETHAND=%s SA_NODEFER=%s\n", tf((old.sa_flags & SA_RESTART) != 0),
           tf((old.sa_flags & SA_RESETHAND) != 0), tf((old.sa_flags & SA_NODEFER) != 0));
    signal(SIGHUP, SIG_DFL);

    // EINVAL cases.
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    static const struct {
        int sig;
        int with_act;
        const char* what;
    } cases[] = {
        {0, 1, "signal 0"},           {65, 1, "signal 65"},         {-1, 1, "signal -1"},
        {SIGKILL, 1, "SIGKILL, set"}, {SIGSTOP, 1, "SIGSTOP, set"}, {SIGKILL, 0, "SIGKILL, query only"},
        {SIGSTOP, 0, "SIGSTOP, query only"}, {64, 1, "signal 64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&old, 0xff, sizeof old);
        errno = 0;
        r = sigaction(cases[i].sig, cases[i].with_act ? &sa : NULL, &old);
        printf("sigaction(%s) = %d %s", cases[i].what, r, r ? strerrorname_np(errno) : "");
        if (r == 0)
            printf(" old handler SIG_DFL=%s", tf(old.sa_handler == SIG_DFL));
        printf("\n");
    }
    signal(64, SIG_DFL);
    // The raw call with a wrong sigsetsize.
    struct {
        void* handler;
        unsigned long flags;
        void* restorer;
        unsigned long mask;
    } kact = {(void*)SIG_DFL, 0, NULL, 0};
    for (int size = 4; size <= 16; size += 4) {
        errno = 0;
        long rr = syscall(SYS_rt_sigaction, SIGUSR1, &kact, NULL, size);
        printf("rt_sigaction(sigsetsize=%d) = %ld %s\n", size, rr, rr ? strerrorname_np(errno) : "");
    }
    errno = 0;
    long rr = syscall(SYS_rt_sigaction, SIGUSR1, (void*)8, NULL, 8);
    printf("rt_sigaction(bad act pointer) = %ld %s\n", rr, rr ? strerrorname_np(errno) : "");
    errno = 0;
    rr = syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void*)8, 8);
    printf("rt_sigaction(bad oldact pointer) = %ld %s\n", rr, rr ? strerrorname_np(errno) : "");
    return 0;
}
