// Synchronous faults: the signal, si_code and si_addr Linux reports for each kind of
// fault, with the trap number and error code in the frame's sigcontext; recovery with
// siglongjmp (and what it does to the mask); faults while the signal is blocked,
// ignored, or already being handled kill the process.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// int3_here(): executes int3 at the label int3_insn and returns.
// ud2_here(): ud2 at ud2_insn. hlt_here(): a privileged instruction.
// noncanonical_load(): loads from a non-canonical address.
// x87_divzero(): 1/0 with the x87 zero-divide exception unmasked.
// sse_divzero(): divsd by zero with MXCSR's zero-divide exception unmasked.
// single_step(): sets TF; the next instruction traps.
__asm__(".text\n"
        ".globl int3_here\n int3_here:\n"
        ".globl int3_insn\n int3_insn:\n int3\n"
        ".globl int3_after\n int3_after:\n ret\n"
        ".globl ud2_here\n ud2_here:\n"
        ".globl ud2_insn\n ud2_insn:\n ud2\n ret\n"
        ".globl hlt_here\n hlt_here:\n"
        ".globl hlt_insn\n hlt_insn:\n hlt\n ret\n"
        ".globl noncanonical_load\n noncanonical_load:\n"
        "  movabs $0x8000000000001000, %rax\n"
        ".globl noncanonical_insn\n noncanonical_insn:\n mov (%rax), %eax\n ret\n"
        ".globl x87_divzero\n x87_divzero:\n"
        "  sub $8, %rsp\n movw $0x037b, (%rsp)\n fldcw (%rsp)\n add $8, %rsp\n"
        "  fld1\n fldz\n fdivrp\n"
        ".globl x87_wait_insn\n x87_wait_insn:\n fwait\n ret\n"
        ".globl sse_divzero\n sse_divzero:\n"
        "  sub $8, %rsp\n movl $0x1d80, (%rsp)\n ldmxcsr (%rsp)\n add $8, %rsp\n"
        "  mov $1, %eax\n cvtsi2sd %eax, %xmm0\n xorpd %xmm1, %xmm1\n"
        ".globl sse_div_insn\n sse_div_insn:\n divsd %xmm1, %xmm0\n ret\n"
        ".globl single_step\n single_step:\n"
        "  pushfq\n orq $0x100, (%rsp)\n popfq\n"
        ".globl step_first\n step_first:\n nop\n"
        ".globl step_second\n step_second:\n nop\n ret\n");
extern void int3_here(void), ud2_here(void), hlt_here(void), noncanonical_load(void), x87_divzero(void),
    sse_divzero(void), single_step(void);
extern char int3_insn[], int3_after[], ud2_insn[], hlt_insn[], noncanonical_insn[], x87_wait_insn[], sse_div_insn[],
    step_first[], step_second[];

static sigjmp_buf env;
static struct {
    int signo, code, errno_;
    uintptr_t addr, rip, trapno, err, cr2;
    int calls;
} f;

static void on_fault(int sig, siginfo_t* info, void* ucv)
{
    ucontext_t* uc = ucv;
    f.calls++;
    f.signo = sig;
    f.code = info->si_code;
    f.errno_ = info->si_errno;
    f.addr = (uintptr_t)info->si_addr;
    f.rip = uc->uc_mcontext.gregs[REG_RIP];
    f.trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    f.err = uc->uc_mcontext.gregs[REG_ERR];
    f.cr2 = uc->uc_mcontext.gregs[REG_CR2];
    siglongjmp(env, 1);
}

static void install(int sig, void (*h)(int, siginfo_t*, void*), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}

static const char* code_name(int sig, int code)
{
    if (code == SI_KERNEL)
        return "SI_KERNEL";
    if (code == SI_USER)
        return "SI_USER";
    switch (sig) {
    case SIGSEGV: return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "SEGV_?";
    case SIGBUS: return code == BUS_ADRALN ? "BUS_ADRALN" : code == BUS_ADRERR ? "BUS_ADRERR" : code == BUS_OBJERR ? "BUS_OBJERR" : "BUS_?";
    case SIGFPE: return code == FPE_INTDIV ? "FPE_INTDIV" : code == FPE_INTOVF ? "FPE_INTOVF" : code == FPE_FLTDIV ? "FPE_FLTDIV" : "FPE_?";
    case SIGILL: return code == ILL_ILLOPC ? "ILL_ILLOPC" : code == ILL_ILLOPN ? "ILL_ILLOPN" : code == ILL_PRVOPC ? "ILL_PRVOPC" : "ILL_?";
    case SIGTRAP: return code == TRAP_BRKPT ? "TRAP_BRKPT" : code == TRAP_TRACE ? "TRAP_TRACE" : "TRAP_?";
    }
    return "?";
}

// Print what the last fault reported. `addr`/`rip` are the expected si_addr and RIP
// (0: don't check); page faults (page_fault 1) also print CR2; page_fault -1: no trap.
static void report(const char* what, uintptr_t addr, uintptr_t rip, int page_fault)
{
    printf("%-34s %s %s errno=%d", what, f.calls ? sigabbrev_np(f.signo) : "none", code_name(f.signo, f.code), f.errno_);
    printf(" si_addr_ok=%s", tf(f.addr == addr));
    if (rip)
        printf(" rip_ok=%s", tf(f.rip == rip));
    if (page_fault >= 0) // a signal that is not a trap: the frame's trapno/err mean nothing
        printf(" trapno=%lu err=0x%lx", (unsigned long)f.trapno, (unsigned long)f.err);
    if (page_fault > 0)
        printf(" cr2_ok=%s", tf(f.cr2 == addr));
    printf("\n");
    memset(&f, 0, sizeof f);
}

#define TRY(what, body, addr, rip, pf)                                                                                 \
    do {                                                                                                               \
        if (sigsetjmp(env, 1) == 0) {                                                                                  \
            body;                                                                                                      \
            printf("%-34s no fault (wrong)\n", what);                                                                  \
        } else {                                                                                                       \
            report(what, (uintptr_t)(addr), (uintptr_t)(rip), pf);                                                     \
        }                                                                                                              \
    } while (0)

static unsigned get_mxcsr(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
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

static volatile int nest_depth;
static void on_fault_again(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    (void)info;
    (void)uc;
    nest_depth++;
    if (nest_depth == 1) {
        int* volatile bad = (int*)32;
        *bad = 1; // a second fault inside the handler
    }
    _exit(10 + nest_depth);
}

// Children that fault in a way that must kill them.
static void fault_in_child(const char* what, int setup)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        sigset_t s;
        sigemptyset(&s);
        switch (setup) {
        case 0: // SIGSEGV blocked, no handler
        case 1: // SIGSEGV blocked, with a handler
            if (setup == 1)
                install(SIGSEGV, on_fault, 0);
            sigaddset(&s, SIGSEGV);
            sigprocmask(SIG_BLOCK, &s, NULL);
            break;
        case 2: // SIGSEGV ignored
            signal(SIGSEGV, SIG_IGN);
            break;
        case 3: // fault inside the handler
            install(SIGSEGV, on_fault_again, 0);
            break;
        case 4: // fault inside the handler, SA_NODEFER
            install(SIGSEGV, on_fault_again, SA_NODEFER);
            break;
        case 5: // SIGFPE blocked
            install(SIGFPE, on_fault, 0);
            sigaddset(&s, SIGFPE);
            sigprocmask(SIG_BLOCK, &s, NULL);
            break;
        case 6: // SIGILL ignored
            signal(SIGILL, SIG_IGN);
            break;
        case 7: // SIGTRAP blocked
            sigaddset(&s, SIGTRAP);
            sigprocmask(SIG_BLOCK, &s, NULL);
            break;
        }
        if (setup == 5) {
            volatile int a = 1, b = 0;
            a = a / b;
        } else if (setup == 6) {
            ud2_here();
        } else if (setup == 7) {
            int3_here();
        } else {
            int* volatile bad = (int*)16;
            *bad = 1;
        }
        _exit(3);
    }
    int status;
    waitpid(child, &status, 0);
    printf("%-44s -> %s\n", what, describe(status));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    install(SIGSEGV, on_fault, 0);
    install(SIGBUS, on_fault, 0);
    install(SIGFPE, on_fault, 0);
    install(SIGILL, on_fault, 0);
    install(SIGTRAP, on_fault, 0);
    long page = sysconf(_SC_PAGESIZE);

    volatile int* volatile null16 = (int*)16;
    TRY("write to address 16:", *null16 = 1, 16, 0, 1);
    TRY("read from address 16:", (void)*null16, 16, 0, 1);
    int* volatile far = (int*)0xdead0000;
    TRY("write to unmapped 0xdead0000:", *far = 1, 0xdead0000, 0, 1);

    char* ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile char sink = ro[0]; // faulted in: present
    (void)sink;
    TRY("write to a PROT_READ page:", ((volatile char*)ro)[8] = 1, ro + 8, 0, 1);
    TRY("execute a PROT_READ page:", ((void (*)(void))ro)(), ro, ro, 1);
    char* none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TRY("read a PROT_NONE page:", (void)((volatile char*)none)[100], none + 100, 0, 1);
    TRY("write to our own code:", *(volatile char*)(void*)report = 0, (char*)(void*)report, 0, 1);

    // SIGBUS: a shared file mapping past the end of the file.
    char path[] = "/tmp/sig_faults.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    ftruncate(fd, page);
    char* fm = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fm == MAP_FAILED) {
        printf("mmap of the file: %s\n", strerrorname_np(errno));
    } else {
        fm[0] = 'a';
        TRY("read the page past EOF:", (void)((volatile char*)fm)[page + 4], fm + page + 4, 0, 0);
        ftruncate(fd, 0);
        TRY("read after ftruncate to 0:", (void)((volatile char*)fm)[1], fm + 1, 0, 0);
        TRY("write after ftruncate to 0:", ((volatile char*)fm)[2] = 1, fm + 2, 0, 0);
        munmap(fm, 2 * page);
    }
    close(fd);

    // Arithmetic.
    volatile int one = 1, zero = 0, minus_one = -1, int_min = INT_MIN;
    TRY("integer 1/0:", one = one / zero, f.rip, 0, 0);
    one = 1;
    TRY("INT_MIN / -1:", int_min = int_min / minus_one, f.rip, 0, 0);
    TRY("x87 1/0, zero-divide unmasked:", x87_divzero(), x87_wait_insn, x87_wait_insn, 0);
    TRY("SSE 1/0, zero-divide unmasked:", sse_divzero(), sse_div_insn, sse_div_insn, 0);
    printf("MXCSR after siglongjmp out of the SIGFPE handler: 0x%x\n", get_mxcsr());
    unsigned m = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(m));

    // Instructions.
    TRY("ud2:", ud2_here(), ud2_insn, ud2_insn, 0);
    TRY("hlt (privileged):", hlt_here(), 0, hlt_insn, 0);
    TRY("load from a non-canonical address:", noncanonical_load(), 0, noncanonical_insn, 0);
    TRY("int3:", int3_here(), 0, int3_after, 0); // RIP after the int3
    TRY("single step (TF set by popf):", single_step(), step_second, step_second, 0);

    // A signal sent with kill() is not a fault.
    TRY("kill(getpid(), SIGSEGV):", kill(getpid(), SIGSEGV), f.addr, 0, -1);

    // siglongjmp and the mask: savemask restores it, otherwise the handler's mask stays.
    if (sigsetjmp(env, 0) == 0)
        *null16 = 1;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after siglongjmp to sigsetjmp(env, 0): SIGSEGV blocked: %s\n", tf(sigismember(&cur, SIGSEGV)));
    sigprocmask(SIG_UNBLOCK, &cur, NULL);
    if (sigsetjmp(env, 1) == 0)
        *null16 = 1;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after siglongjmp to sigsetjmp(env, 1): SIGSEGV blocked: %s\n", tf(sigismember(&cur, SIGSEGV)));
    memset(&f, 0, sizeof f);

    // Deadly cases.
    fault_in_child("NULL write, SIGSEGV blocked:", 0);
    fault_in_child("NULL write, SIGSEGV blocked with a handler:", 1);
    fault_in_child("NULL write, SIGSEGV ignored:", 2);
    fault_in_child("fault inside the SIGSEGV handler:", 3);
    fault_in_child("fault inside the SIGSEGV handler, NODEFER:", 4);
    fault_in_child("1/0, SIGFPE blocked with a handler:", 5);
    fault_in_child("ud2, SIGILL ignored:", 6);
    fault_in_child("int3, SIGTRAP blocked:", 7);
    return 0;
}
