// sigaltstack: an SA_ONSTACK handler runs on the alternate stack and sees SS_ONSTACK;
// changing the stack while on it is EPERM; sizes below MINSIGSTKSZ are ENOMEM; bad
// flags EINVAL; SS_DISABLE; SS_AUTODISARM; uc_stack in the frame; the stack survives
// fork; a stack overflow caught on the alternate stack; a frame that can't fit kills
// the process with SIGSEGV.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define KERNEL_MINSIGSTKSZ 2048 // glibc's MINSIGSTKSZ may be sysconf(); the kernel's is 2048

static const char* tf(int b) { return b ? "true" : "false"; }

#define ALT_SIZE (64 * 1024)
static char alt[ALT_SIZE] __attribute__((aligned(64)));

static struct {
    int ran;
    int on_alt;
    int query_rc;
    stack_t query;
    int change_rc, change_errno;
    int disable_rc, disable_errno;
    stack_t uc_stack;
} h;

static int inside(const void* p, const void* base, size_t size)
{
    return (uintptr_t)p >= (uintptr_t)base && (uintptr_t)p < (uintptr_t)base + size;
}

static void on_sig(int sig, siginfo_t* info, void* ucv)
{
    (void)sig;
    (void)info;
    ucontext_t* uc = ucv;
    volatile char local;
    h.ran++;
    h.on_alt = inside((const void*)&local, alt, ALT_SIZE);
    h.query_rc = sigaltstack(NULL, &h.query);
    stack_t other = {.ss_sp = alt, .ss_size = ALT_SIZE / 2, .ss_flags = 0};
    errno = 0;
    h.change_rc = sigaltstack(&other, NULL);
    h.change_errno = errno;
    stack_t off = {.ss_flags = SS_DISABLE};
    errno = 0;
    h.disable_rc = sigaltstack(&off, NULL);
    h.disable_errno = errno;
    h.uc_stack = uc->uc_stack;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}

static const char* flags_str(int f)
{
    static char buf[64];
    buf[0] = 0;
    if (f & SS_ONSTACK)
        strcat(buf, "SS_ONSTACK|");
    if (f & SS_DISABLE)
        strcat(buf, "SS_DISABLE|");
    if (f & SS_AUTODISARM)
        strcat(buf, "SS_AUTODISARM|");
    if (!buf[0])
        return "0";
    buf[strlen(buf) - 1] = 0;
    return buf;
}

static void report(const char* what)
{
    printf("%s: ran=%d on_alt=%s\n", what, h.ran, tf(h.on_alt));
    printf("  sigaltstack(NULL, &old) in handler = %d: flags=%s sp_is_alt=%s size_ok=%s\n", h.query_rc,
           flags_str(h.query.ss_flags), tf(h.query.ss_sp == alt), tf(h.query.ss_size == ALT_SIZE));
    printf("  change in handler = %d %s; disable in handler = %d %s\n", h.change_rc,
           h.change_rc ? strerrorname_np(h.change_errno) : "", h.disable_rc,
           h.disable_rc ? strerrorname_np(h.disable_errno) : "");
    printf("  uc_stack: sp_is_alt=%s size_ok=%s flags=%s\n", tf(h.uc_stack.ss_sp == alt),
           tf(h.uc_stack.ss_size == ALT_SIZE), flags_str(h.uc_stack.ss_flags));
    memset(&h, 0, sizeof h);
}

static void query(const char* what)
{
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    int r = sigaltstack(NULL, &cur);
    printf("%s: sigaltstack = %d flags=%s", what, r, flags_str(cur.ss_flags));
    if (!(cur.ss_flags & SS_DISABLE))
        printf(" sp_is_alt=%s size_ok=%s", tf(cur.ss_sp == alt), tf(cur.ss_size == ALT_SIZE));
    printf("\n");
}

static int set_alt(void* sp, size_t size, int flags)
{
    stack_t ss = {.ss_sp = sp, .ss_size = size, .ss_flags = flags};
    errno = 0;
    return sigaltstack(&ss, NULL);
}

// Stack overflow in a child, caught by a SIGSEGV handler on the alternate stack.
static volatile int depth_sink;
static int recurse(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    depth_sink += pad[0];
    if (depth_sink == -12345) // never: keeps the compiler from seeing an endless recursion
        return 0;
    return recurse(n + 1) + pad[0];
}
static void on_overflow(int sig, siginfo_t* info, void* uc)
{
    (void)uc;
    volatile char local;
    char msg[96];
    int n = snprintf(msg, sizeof msg, "  child: caught %s on the alternate stack: %s, code is SEGV_*: %s\n",
                     sigabbrev_np(sig), tf(inside((const void*)&local, alt, ALT_SIZE)),
                     tf(info->si_code == SEGV_MAPERR || info->si_code == SEGV_ACCERR));
    write(1, msg, n);
    _exit(0);
}

static void on_big_frame(int sig)
{
    (void)sig;
    write(1, "  child: handler ran (wrong)\n", 29);
}

static void on_deep(int sig)
{
    (void)sig;
    volatile char big[16384]; // far more than the 8 KiB alternate stack
    for (size_t i = 0; i < sizeof big; i += 512)
        big[i] = 1;
    write(1, "  child: deep handler returned (wrong)\n", 39);
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

    query("initially");
    int r = set_alt(alt, 1024, 0);
    printf("size 1024: %d %s\n", r, strerrorname_np(errno));
    r = set_alt(alt, KERNEL_MINSIGSTKSZ - 1, 0);
    printf("size 2047: %d %s\n", r, strerrorname_np(errno));
    r = set_alt(alt, KERNEL_MINSIGSTKSZ, 0);
    printf("size 2048: %d\n", r);
    r = set_alt(alt, ALT_SIZE, 0x1234);
    printf("flags 0x1234: %d %s\n", r, strerrorname_np(errno));
    r = set_alt(alt, ALT_SIZE, SS_DISABLE | 0x40);
    printf("flags SS_DISABLE|0x40: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = sigaltstack((const stack_t*)8, NULL);
    printf("bad pointer: %d %s\n", r, strerrorname_np(errno));
    query("after the failures");
    r = set_alt(alt, ALT_SIZE, SS_ONSTACK); // accepted and treated as 0
    printf("flags SS_ONSTACK: %d\n", r);
    query("set");
    stack_t old;
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    sigaltstack(&ss, &old);
    printf("old stack returned by a set: flags=%s sp_is_alt=%s\n", flags_str(old.ss_flags), tf(old.ss_sp == alt));

    install(SIGUSR1, SA_ONSTACK);
    raise(SIGUSR1);
    report("SA_ONSTACK handler");
    query("after the handler");

    install(SIGUSR2, 0);
    raise(SIGUSR2);
    report("handler without SA_ONSTACK");

    // A nested SA_ONSTACK handler keeps going down the same alternate stack.
    set_alt(alt, ALT_SIZE, SS_DISABLE);
    query("SS_DISABLE");
    raise(SIGUSR1);
    report("SA_ONSTACK handler, stack disabled");
    r = set_alt(alt, 1024, SS_DISABLE); // size is not checked when disabling
    printf("SS_DISABLE with size 1024: %d\n", r);

    // SS_AUTODISARM: disarmed while the handler runs, re-armed by sigreturn.
    r = set_alt(alt, ALT_SIZE, SS_AUTODISARM);
    printf("SS_AUTODISARM: %d\n", r);
    query("armed");
    raise(SIGUSR1);
    report("SA_ONSTACK handler with SS_AUTODISARM");
    query("after it");

    // The alternate stack is inherited by fork.
    set_alt(alt, ALT_SIZE, 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        query("child after fork");
        raise(SIGUSR1);
        report("child: SA_ONSTACK handler");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);

    // Stack overflow caught on the alternate stack.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_overflow;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigaction(SIGSEGV, &sa, NULL);
        recurse(0);
        _exit(3);
    }
    waitpid(child, &status, 0);
    printf("stack overflow with an SA_ONSTACK SIGSEGV handler -> %s\n", describe(status));

    // A 2048-byte alternate stack cannot hold a frame with this CPU's xsave area when
    // the area is large (AVX-512); the kernel then forces SIGSEGV.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        static char tiny[KERNEL_MINSIGSTKSZ] __attribute__((aligned(64)));
        stack_t t = {.ss_sp = tiny, .ss_size = sizeof tiny, .ss_flags = 0};
        sigaltstack(&t, NULL);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_big_frame;
        sa.sa_flags = SA_ONSTACK;
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        _exit(3);
    }
    waitpid(child, &status, 0);
    printf("frame larger than a 2048-byte alternate stack -> %s\n", describe(status));

    // A handler whose locals overflow an 8 KiB alternate stack placed above a guard page.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        char* region = mmap(NULL, 3 * 4096 + 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect(region, 3 * 4096, PROT_NONE);
        stack_t t = {.ss_sp = region + 3 * 4096, .ss_size = 8192, .ss_flags = 0};
        sigaltstack(&t, NULL);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_deep;
        sa.sa_flags = SA_ONSTACK;
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGSEGV, &sa, NULL); // its frame can't be written either
        raise(SIGUSR1);
        _exit(3);
    }
    waitpid(child, &status, 0);
    printf("handler overflowing an 8 KiB alternate stack into a guard page -> %s\n", describe(status));
    return 0;
}
