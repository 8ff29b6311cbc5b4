// The signal mask: blocked signals stay pending and are delivered as soon as they are
// unblocked (before sigprocmask returns); SIGKILL/SIGSTOP are silently left out of the
// mask; rt_sigprocmask/rt_sigpending argument checks; the order in which several
// pending signals reach their handlers; the mask saved in the frame (uc_sigmask) is
// what rt_sigreturn restores, including a handler's edits to it.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits[65];
static char order[256];
static volatile int order_len;

static void on_sig(int sig)
{
    hits[sig]++;
    order_len += snprintf(order + order_len, sizeof order - order_len, " %d", sig);
}

static sigset_t uc_mask_seen;
static int edit_uc_mask;
static void on_info(int sig, siginfo_t* info, void* ucv)
{
    (void)info;
    ucontext_t* uc = ucv;
    hits[sig]++;
    uc_mask_seen = uc->uc_sigmask;
    if (edit_uc_mask == 1) {
        sigaddset(&uc->uc_sigmask, SIGUSR2); // blocked after sigreturn
        sigaddset(&uc->uc_sigmask, SIGKILL); // never blockable: dropped by sigreturn
    } else if (edit_uc_mask == 2) {
        sigdelset(&uc->uc_sigmask, SIGHUP); // unblocked by sigreturn
    } else if (edit_uc_mask == 3) {
        sigset_t s; // a mask change made with sigprocmask is undone by sigreturn
        sigemptyset(&s);
        sigaddset(&s, SIGWINCH);
        sigprocmask(SIG_BLOCK, &s, NULL);
    }
}

static void set(int sig, void (*h)(int), const sigset_t* m)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    if (m)
        sa.sa_mask = *m;
    sigaction(sig, &sa, NULL);
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

static void print_pending(const char* what)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    print_set(what, &s);
}

static void print_mask(const char* what)
{
    sigset_t s;
    sigprocmask(SIG_SETMASK, NULL, &s);
    print_set(what, &s);
}

static sigset_t set_of(const int* sigs)
{
    sigset_t s;
    sigemptyset(&s);
    for (; *sigs; sigs++)
        sigaddset(&s, *sigs);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    // Blocked: stays pending; unblock delivers before sigprocmask returns.
    set(SIGUSR1, on_sig, NULL);
    static const int usr1[] = {SIGUSR1, 0};
    sigset_t s = set_of(usr1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    raise(SIGUSR1);
    raise(SIGUSR1);
    printf("blocked: hits=%d\n", (int)hits[SIGUSR1]);
    print_pending("pending");
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("two raise() then unblock: hits=%d\n", (int)hits[SIGUSR1]);
    print_pending("pending");
    hits[SIGUSR1] = 0;
    sigprocmask(SIG_BLOCK, &s, NULL);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("two kill() then unblock: hits=%d\n", (int)hits[SIGUSR1]);
    // A thread-directed (raise) and a process-directed (kill) SIGUSR1 sit in two
    // different queues: each coalesces on its own, so two deliveries.
    hits[SIGUSR1] = 0;
    sigprocmask(SIG_BLOCK, &s, NULL);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("raise, kill, raise, kill then unblock: hits=%d\n", (int)hits[SIGUSR1]);
    hits[SIGUSR1] = 0;

    // SIGKILL and SIGSTOP are silently dropped from the mask.
    sigset_t all;
    sigfillset(&all);
    int r = sigprocmask(SIG_SETMASK, &all, NULL);
    sigset_t got;
    sigprocmask(SIG_SETMASK, NULL, &got);
    printf("block everything: %d, SIGKILL blocked=%s SIGSTOP blocked=%s SIGTERM blocked=%s SIGRTMAX blocked=%s\n", r,
           tf(sigismember(&got, SIGKILL)), tf(sigismember(&got, SIGSTOP)), tf(sigismember(&got, SIGTERM)),
           tf(sigismember(&got, SIGRTMAX)));
    // The raw mask (glibc's sigfillset leaves out its two internal signals, 32 and 33).
    unsigned long raw = ~0UL, raw_old = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &raw, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &raw_old, 8);
    printf("raw mask after setting ~0: 0x%016lx\n", raw_old);
    raw = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &raw, NULL, 8);

    // The three ways to change it.
    static const int a[] = {SIGHUP, SIGINT, 0}, b[] = {SIGINT, SIGQUIT, 0};
    sigset_t sa = set_of(a), sb = set_of(b), old;
    sigprocmask(SIG_BLOCK, &sa, NULL);
    sigprocmask(SIG_BLOCK, &sb, &old);
    print_set("old mask returned by the second SIG_BLOCK", &old);
    print_mask("after SIG_BLOCK {HUP,INT} then {INT,QUIT}");
    sigprocmask(SIG_UNBLOCK, &sa, NULL);
    print_mask("after SIG_UNBLOCK {HUP,INT}");
    sigprocmask(SIG_SETMASK, &sa, NULL);
    print_mask("after SIG_SETMASK {HUP,INT}");
    errno = 0;
    r = sigprocmask(3, &sb, NULL);
    printf("sigprocmask(how=3) = %d %s\n", r, strerrorname_np(errno));
    print_mask("unchanged");
    errno = 0;
    r = sigprocmask(3, NULL, &old); // how is not checked when there is no new set
    printf("sigprocmask(how=3, NULL set) = %d %s\n", r, r ? strerrorname_np(errno) : "");
    sigemptyset(&s);
    sigprocmask(SIG_SETMASK, &s, NULL);

    // rt_sigprocmask and rt_sigpending sizes and pointers.
    unsigned long set8 = 0;
    for (int size = 0; size <= 16; size += 4) {
        errno = 0;
        long rr = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set8, NULL, size);
        printf("rt_sigprocmask(sigsetsize=%d) = %ld %s\n", size, rr, rr ? strerrorname_np(errno) : "");
    }
    errno = 0;
    long rr = syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8);
    printf("rt_sigprocmask(NULL, NULL) = %ld\n", rr);
    errno = 0;
    rr = syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void*)8, NULL, 8);
    printf("rt_sigprocmask(bad set) = %ld %s\n", rr, rr ? strerrorname_np(errno) : "");
    errno = 0;
    rr = syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void*)8, 8);
    printf("rt_sigprocmask(bad oldset) = %ld %s\n", rr, rr ? strerrorname_np(errno) : "");
    raise(SIGUSR1); // not blocked: any mask change above would show here
    printf("still deliverable: hits=%d\n", (int)hits[SIGUSR1]);
    unsigned long pend = 0;
    for (int size = 0; size <= 16; size += 4) {
        errno = 0;
        rr = syscall(SYS_rt_sigpending, &pend, size);
        printf("rt_sigpending(sigsetsize=%d) = %ld %s\n", size, rr, rr ? strerrorname_np(errno) : "");
    }
    errno = 0;
    rr = syscall(SYS_rt_sigpending, (void*)8, 8);
    printf("rt_sigpending(bad pointer) = %ld %s\n", rr, rr ? strerrorname_np(errno) : "");

    // Several pending signals unblocked at once. With empty sa_masks every handler's
    // frame is set up before returning to user mode (so they nest); with sa_masks that
    // block the others, one is delivered at a time.
    static const int batch[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH, 0};
    sigset_t bs = set_of(batch);
    for (int i = 0; batch[i]; i++)
        set(batch[i], on_sig, NULL);
    sigprocmask(SIG_BLOCK, &bs, NULL);
    raise(SIGTERM);
    raise(SIGWINCH);
    raise(SIGUSR2);
    raise(SIGHUP);
    raise(SIGUSR1);
    order_len = 0;
    order[0] = 0;
    sigprocmask(SIG_UNBLOCK, &bs, NULL);
    printf("handler order, empty sa_mask:%s\n", order);
    for (int i = 0; batch[i]; i++)
        set(batch[i], on_sig, &bs);
    sigprocmask(SIG_BLOCK, &bs, NULL);
    raise(SIGTERM);
    raise(SIGWINCH);
    raise(SIGUSR2);
    raise(SIGHUP);
    raise(SIGUSR1);
    order_len = 0;
    order[0] = 0;
    sigprocmask(SIG_UNBLOCK, &bs, NULL);
    printf("handler order, sa_mask blocking the others:%s\n", order);
    // Unblocking one at a time.
    sigprocmask(SIG_BLOCK, &bs, NULL);
    raise(SIGUSR2);
    raise(SIGHUP);
    order_len = 0;
    order[0] = 0;
    static const int only_usr2[] = {SIGUSR2, 0};
    sigset_t s2 = set_of(only_usr2);
    sigprocmask(SIG_UNBLOCK, &s2, NULL);
    printf("unblock SIGUSR2 only:%s\n", order);
    print_pending("  still pending");
    sigprocmask(SIG_UNBLOCK, &bs, NULL);
    printf("unblock the rest:%s\n", order);

    // uc_sigmask: the mask before the handler; sigreturn restores it, with edits.
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_info;
    act.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &act, NULL);
    static const int hup[] = {SIGHUP, 0};
    sigset_t hs = set_of(hup);
    sigprocmask(SIG_SETMASK, &hs, NULL);
    edit_uc_mask = 0;
    raise(SIGUSR1);
    print_set("uc_sigmask seen by the handler (SIGHUP blocked before)", &uc_mask_seen);
    edit_uc_mask = 1;
    raise(SIGUSR1);
    print_mask("after a handler added SIGUSR2 and SIGKILL to uc_sigmask");
    edit_uc_mask = 2;
    set(SIGHUP, on_sig, NULL);
    raise(SIGHUP); // pending until the sigreturn below unblocks it
    order_len = 0;
    order[0] = 0;
    raise(SIGUSR1);
    print_mask("after a handler removed SIGHUP from uc_sigmask");
    printf("SIGHUP delivered by sigreturn's unblocking:%s\n", order);
    edit_uc_mask = 3;
    raise(SIGUSR1);
    print_mask("after a handler blocked SIGWINCH with sigprocmask");
    return 0;
}
