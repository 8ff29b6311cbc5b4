// The x86-64 signal frame: a handler that clobbers every vector, x87 and MXCSR register
// must leave the interrupted code's state intact, both at a syscall (checked register by
// register from assembly) and at arbitrary points of a floating point loop interrupted
// by a 1 ms timer; the handler starts with a clean FPU state and DF clear; the frame's
// layout (pretcode, ucontext, siginfo, 64-byte aligned xsave area with its magic words)
// and uc_flags; edits to uc_mcontext (RAX, RIP, an xmm register) change how the code
// resumes.
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <immintrin.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// ---------------------------------------------------------------------------------------
// Assembly helpers.
//
// rt_{sse,avx,avx512}(in, out, pid, tid, sig): load the vector registers (and opmask
// registers) from `in`, fill the callee-saved and argument registers with patterns, set
// DF, run tgkill(pid, tid, sig) (the handler runs on the way back to user mode), then
// store the vector registers to `out` followed by the general registers (see struct
// gp_out). Clobbers: rt_* preserve the callee-saved registers they use.
//
// clobber_{sse,avx,avx512}(): overwrite every vector register (and opmask), change MXCSR
// and the x87 control word, and leave the x87 stack full.
__asm__(".text\n"
        ".macro RT_PROLOGUE\n"
        "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "  mov %rsi, %r15\n"
        ".endm\n"
        ".macro RT_SYSCALL_AND_STORE off\n"
        "  mov %rdx, %rdi\n mov %rcx, %rsi\n mov %r8, %rdx\n"
        "  movabs $0x1111111111111111, %rbx\n movabs $0x2222222222222222, %rbp\n"
        "  movabs $0x3333333333333333, %r12\n movabs $0x4444444444444444, %r13\n"
        "  movabs $0x5555555555555555, %r14\n movabs $0x6666666666666666, %r8\n"
        "  movabs $0x7777777777777777, %r9\n movabs $0x0888888888888888, %r10\n"
        "  mov $234, %eax\n"
        "  std\n"
        "  syscall\n"
        "9:\n"
        "  pushfq\n"
        "  cld\n"
        "  mov %rax, \\off+0(%r15)\n mov %rbx, \\off+8(%r15)\n mov %rbp, \\off+16(%r15)\n"
        "  mov %r12, \\off+24(%r15)\n mov %r13, \\off+32(%r15)\n mov %r14, \\off+40(%r15)\n"
        "  mov %r8, \\off+48(%r15)\n mov %r9, \\off+56(%r15)\n mov %r10, \\off+64(%r15)\n"
        "  mov %rdi, \\off+72(%r15)\n mov %rsi, \\off+80(%r15)\n mov %rdx, \\off+88(%r15)\n"
        "  mov %rcx, \\off+96(%r15)\n mov %r11, \\off+104(%r15)\n"
        "  pop %rax\n mov %rax, \\off+112(%r15)\n"
        "  lea 9b(%rip), %rax\n mov %rax, \\off+120(%r15)\n"
        ".endm\n"
        ".macro RT_EPILOGUE\n"
        "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n ret\n"
        ".endm\n"

        ".globl rt_sse\n rt_sse:\n RT_PROLOGUE\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n movdqu \\i*16(%rdi), %xmm\\i\n .endr\n"
        "RT_SYSCALL_AND_STORE 256\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n movdqu %xmm\\i, \\i*16(%r15)\n .endr\n"
        "RT_EPILOGUE\n"

        ".globl rt_avx\n rt_avx:\n RT_PROLOGUE\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n vmovdqu \\i*32(%rdi), %ymm\\i\n .endr\n"
        "RT_SYSCALL_AND_STORE 512\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n vmovdqu %ymm\\i, \\i*32(%r15)\n .endr\n"
        "vzeroupper\n"
        "RT_EPILOGUE\n"

        ".globl rt_avx512\n rt_avx512:\n RT_PROLOGUE\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        " vmovdqu64 \\i*64(%rdi), %zmm\\i\n .endr\n"
        ".irp i,1,2,3,4,5,6,7\n kmovw 2048+\\i*2(%rdi), %k\\i\n .endr\n"
        "RT_SYSCALL_AND_STORE 2064\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        " vmovdqu64 %zmm\\i, \\i*64(%r15)\n .endr\n"
        ".irp i,1,2,3,4,5,6,7\n kmovw %k\\i, 2048+\\i*2(%r15)\n .endr\n"
        "vzeroupper\n"
        "RT_EPILOGUE\n"

        ".macro CLOBBER_COMMON\n"
        "  sub $8, %rsp\n movl $0xff80, (%rsp)\n ldmxcsr (%rsp)\n"
        "  movw $0x0c7f, (%rsp)\n fldcw (%rsp)\n add $8, %rsp\n"
        "  fldpi\n fldpi\n fldpi\n fldpi\n fldpi\n fldpi\n fldpi\n fldpi\n"
        ".endm\n"
        ".globl clobber_sse\n clobber_sse:\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n pcmpeqb %xmm\\i, %xmm\\i\n .endr\n"
        "CLOBBER_COMMON\n ret\n"
        ".globl clobber_avx\n clobber_avx:\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n vpcmpeqb %ymm\\i, %ymm\\i, %ymm\\i\n .endr\n"
        "CLOBBER_COMMON\n ret\n"
        ".globl clobber_avx512\n clobber_avx512:\n"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        " vpternlogd $0xff, %zmm\\i, %zmm\\i, %zmm\\i\n .endr\n"
        ".irp i,1,2,3,4,5,6,7\n kxnorw %k0, %k0, %k\\i\n .endr\n"
        "CLOBBER_COMMON\n ret\n"

        // The frame-inspecting handler's entry: record RSP, RAX and RFLAGS as the
        // kernel left them, then continue in C with the arguments untouched.
        ".globl frame_entry\n frame_entry:\n"
        "  mov %rsp, entry_rsp(%rip)\n mov %rax, entry_rax(%rip)\n"
        "  pushfq\n popq entry_flags(%rip)\n"
        "  jmp frame_handler\n"

        // fault_load(p): returns *p in eax; its faulting instruction is fault_insn.
        ".globl fault_load\n fault_load:\n"
        "  mov $1, %eax\n"
        ".globl fault_insn\n fault_insn:\n"
        "  mov (%rdi), %eax\n"
        ".globl fault_resume\n fault_resume:\n"
        "  ret\n"
        // raise_rax(pid, tid, sig): tgkill, then returns whatever RAX holds afterwards.
        ".globl raise_rax\n raise_rax:\n"
        "  mov $234, %eax\n syscall\n ret\n");

extern void rt_sse(const void*, void*, long, long, long);
extern void rt_avx(const void*, void*, long, long, long);
extern void rt_avx512(const void*, void*, long, long, long);
extern void clobber_sse(void);
extern void clobber_avx(void);
extern void clobber_avx512(void);
extern void frame_entry(int, siginfo_t*, void*);
extern int fault_load(const int*);
extern char fault_insn[], fault_resume[];
extern long raise_rax(long, long, long);

unsigned long entry_rsp, entry_rax, entry_flags;

struct gp_out {
    uint64_t rax, rbx, rbp, r12, r13, r14, r8, r9, r10, rdi, rsi, rdx, rcx, r11, flags, ret_addr;
};

static int level; // 0 sse, 1 avx, 2 avx512
static void clobber(void)
{
    if (level == 2)
        clobber_avx512();
    else if (level == 1)
        clobber_avx();
    else
        clobber_sse();
}

static unsigned get_mxcsr(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}
static void set_mxcsr(unsigned m) { __asm__ volatile("ldmxcsr %0" : : "m"(m)); }
static unsigned short get_fcw(void)
{
    unsigned short c;
    __asm__ volatile("fnstcw %0" : "=m"(c));
    return c;
}
static void set_fcw(unsigned short c) { __asm__ volatile("fldcw %0" : : "m"(c)); }

// ---------------------------------------------------------------------------------------
// The clobbering handler, also checking the state it starts with.
static volatile int clobber_calls;
static unsigned handler_mxcsr;
static unsigned short handler_fcw;
static int xmm1_in_frame_ok, edit_xmm1;
static uint8_t expect_xmm1[16];

static void on_clobber(int sig, siginfo_t* info, void* ucv)
{
    (void)sig;
    (void)info;
    handler_mxcsr = get_mxcsr();
    handler_fcw = get_fcw();
    ucontext_t* uc = ucv;
    if (uc->uc_mcontext.fpregs) {
        xmm1_in_frame_ok = memcmp(&uc->uc_mcontext.fpregs->_xmm[1], expect_xmm1, 16) == 0;
        if (edit_xmm1)
            memset(&uc->uc_mcontext.fpregs->_xmm[1], 0xab, 16);
    }
    clobber();
    clobber_calls++;
}

static void install(int sig, void (*h)(int, siginfo_t*, void*))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
}

// One register round trip through a handler at the given width.
static void register_round_trip(void)
{
    static uint8_t in[2064 + 128], out[2064 + 128];
    int vec_bytes = level == 2 ? 2048 + 16 : level == 1 ? 512 : 256;
    for (int i = 0; i < vec_bytes; i++)
        in[i] = (uint8_t)(i * 7 + 1);
    if (level == 2)
        in[2048] = in[2049] = 0; // k0 is not loaded
    memset(out, 0, sizeof out);
    memcpy(expect_xmm1, in + (level == 2 ? 64 : level == 1 ? 32 : 16), 16);
    set_mxcsr(0x3f80); // round down
    set_fcw(0x027f);   // 53-bit precision
    long pid = getpid(), tid = gettid();
    if (level == 2)
        rt_avx512(in, out, pid, tid, SIGUSR1);
    else if (level == 1)
        rt_avx(in, out, pid, tid, SIGUSR1);
    else
        rt_sse(in, out, pid, tid, SIGUSR1);
    unsigned mx = get_mxcsr();
    unsigned short cw = get_fcw();
    set_mxcsr(0x1f80);
    set_fcw(0x037f);
    int vec_ok = memcmp(in, out, vec_bytes) == 0;
    if (edit_xmm1) {
        // xmm1 (the low 16 bytes of ymm1/zmm1) comes back as the handler wrote it.
        int off = level == 2 ? 64 : level == 1 ? 32 : 16;
        uint8_t ab[16];
        memset(ab, 0xab, 16);
        int xmm1_edited = memcmp(out + off, ab, 16) == 0;
        memcpy(out + off, in + off, 16);
        vec_ok = memcmp(in, out, vec_bytes) == 0;
        printf("  handler's edit of xmm1 in the frame took effect: %s; the rest intact: %s\n", tf(xmm1_edited),
               tf(vec_ok));
        return;
    }
    struct gp_out g;
    memcpy(&g, out + vec_bytes, sizeof g);
    int gp_ok = g.rax == 0 && g.rbx == 0x1111111111111111 && g.rbp == 0x2222222222222222 &&
                g.r12 == 0x3333333333333333 && g.r13 == 0x4444444444444444 && g.r14 == 0x5555555555555555 &&
                g.r8 == 0x6666666666666666 && g.r9 == 0x7777777777777777 && g.r10 == 0x0888888888888888 &&
                g.rdi == (uint64_t)pid && g.rsi == (uint64_t)tid && g.rdx == SIGUSR1;
    printf("  handler ran: %s; vector registers intact: %s; general registers intact: %s\n", tf(clobber_calls == 1),
           tf(vec_ok), tf(gp_ok));
    printf("  rcx = return address: %s; r11 = rflags: %s; DF still set: %s\n", tf(g.rcx == g.ret_addr),
           tf((g.r11 & ~0x10000UL) == (g.flags & ~0x10000UL)), tf((g.flags & 0x400) != 0));
    printf("  MXCSR kept (0x%x), x87 control word kept (0x%x)\n", mx, cw);
    printf("  handler started with MXCSR 0x%x and x87 control word 0x%x; saw the interrupted xmm1 in the frame: %s\n",
           handler_mxcsr, handler_fcw, tf(xmm1_in_frame_ok));
}

// ---------------------------------------------------------------------------------------
// A floating point loop interrupted by a 1 ms timer whose handler clobbers everything.
static volatile int tick_calls;
static void on_tick(int sig)
{
    (void)sig;
    clobber();
    tick_calls++;
}

__attribute__((target("avx"))) static double lanes_avx(long n)
{
    static const double x0[4] = {1.0, 2.0, 3.0, 4.0};
    __m256d acc = _mm256_setzero_pd(), x = _mm256_loadu_pd(x0);
    const __m256d k = _mm256_set1_pd(1.0000001), inc = _mm256_set1_pd(0.25);
    for (long i = 0; i < n; i++) {
        acc = _mm256_add_pd(acc, _mm256_div_pd(_mm256_mul_pd(x, k), _mm256_add_pd(x, inc)));
        x = _mm256_add_pd(x, inc);
    }
    double out[4];
    _mm256_storeu_pd(out, acc);
    return ((out[0] + out[1]) + out[2]) + out[3];
}

static double lanes_sse(long n)
{
    static const double x0[4] = {1.0, 2.0, 3.0, 4.0};
    __m128d acc_lo = _mm_setzero_pd(), acc_hi = _mm_setzero_pd();
    __m128d x_lo = _mm_loadu_pd(x0), x_hi = _mm_loadu_pd(x0 + 2);
    const __m128d k = _mm_set1_pd(1.0000001), inc = _mm_set1_pd(0.25);
    for (long i = 0; i < n; i++) {
        acc_lo = _mm_add_pd(acc_lo, _mm_div_pd(_mm_mul_pd(x_lo, k), _mm_add_pd(x_lo, inc)));
        acc_hi = _mm_add_pd(acc_hi, _mm_div_pd(_mm_mul_pd(x_hi, k), _mm_add_pd(x_hi, inc)));
        x_lo = _mm_add_pd(x_lo, inc);
        x_hi = _mm_add_pd(x_hi, inc);
    }
    double out[4];
    _mm_storeu_pd(out, acc_lo);
    _mm_storeu_pd(out + 2, acc_hi);
    return ((out[0] + out[1]) + out[2]) + out[3];
}

static long double x87_sum(long n)
{
    long double acc = 0.0L, x = 1.0L;
    for (long i = 0; i < n; i++) {
        acc += x / (x + 0.5L);
        x += 1.0L;
    }
    return acc;
}

static void interrupted_loops(void)
{
    const long n = 6000000;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    // Reference results, with the timer's signal blocked.
    double ref_vec = level >= 1 ? lanes_avx(n) : lanes_sse(n);
    long double ref_x87 = x87_sum(n / 2);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    double vec = level >= 1 ? lanes_avx(n) : lanes_sse(n);
    long double x87 = x87_sum(n / 2);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    printf("loops interrupted by a 1 ms timer: interrupted at least once: %s\n", tf(tick_calls > 0));
    printf("  vector result %.17g, same as uninterrupted: %s\n", vec, tf(vec == ref_vec));
    printf("  x87 result %.21Lg, same as uninterrupted: %s\n", x87, tf(x87 == ref_x87));
}

// ---------------------------------------------------------------------------------------
// Frame layout, seen from the handler.
static struct {
    int done;
    uintptr_t uc, info, fpregs, restorer, interrupted_rsp, rip;
    unsigned long uc_flags, csgsfs;
    void* uc_link;
    uint32_t magic1, extended_size, xstate_size, magic2;
    uint64_t xfeatures, xstate_bv;
    int signo;
    uint8_t ymm0_hi[16];
} fr;

void frame_handler(int sig, siginfo_t* info, void* ucv)
{
    ucontext_t* uc = ucv;
    fr.done = 1;
    fr.signo = sig;
    fr.uc = (uintptr_t)uc;
    fr.info = (uintptr_t)info;
    fr.fpregs = (uintptr_t)uc->uc_mcontext.fpregs;
    fr.restorer = *(uintptr_t*)entry_rsp;
    fr.interrupted_rsp = uc->uc_mcontext.gregs[REG_RSP];
    fr.rip = uc->uc_mcontext.gregs[REG_RIP];
    fr.uc_flags = uc->uc_flags;
    fr.csgsfs = uc->uc_mcontext.gregs[REG_CSGSFS];
    fr.uc_link = uc->uc_link;
    const uint8_t* fp = (const uint8_t*)uc->uc_mcontext.fpregs;
    if (fp) {
        memcpy(&fr.magic1, fp + 464, 4);
        memcpy(&fr.extended_size, fp + 468, 4);
        memcpy(&fr.xfeatures, fp + 472, 8);
        memcpy(&fr.xstate_size, fp + 480, 4);
        memcpy(&fr.magic2, fp + fr.xstate_size, 4);
        memcpy(&fr.xstate_bv, fp + 512, 8);
        unsigned a, b, c, d;
        __cpuid_count(0xd, 2, a, b, c, d);
        if (level >= 1)
            memcpy(fr.ymm0_hi, fp + b, 16);
    }
}

static void frame_layout(void)
{
    struct sigaction sa, got;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = frame_entry;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGUSR2, NULL, &got);
    static const uint8_t hi[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    if (level >= 1)
        __asm__ volatile("vmovdqu %0, %%xmm0\n vinserti128 $1, %%xmm0, %%ymm0, %%ymm0" : : "m"(hi) : "xmm0");
    raise(SIGUSR2);
    if (level >= 1)
        __asm__ volatile("vzeroupper");
    printf("frame: handler ran: %s, signo %s\n", tf(fr.done), sigabbrev_np(fr.signo));
    printf("  entry: rsp+8 16-byte aligned: %s; rax=%lu; DF clear: %s\n", tf((entry_rsp + 8) % 16 == 0), entry_rax,
           tf((entry_flags & 0x400) == 0));
    printf("  return address is sa_restorer: %s\n", tf(fr.restorer == (uintptr_t)got.sa_restorer));
    printf("  ucontext at rsp+%ld, siginfo at rsp+%ld\n", (long)(fr.uc - entry_rsp), (long)(fr.info - entry_rsp));
    printf("  fpstate: 64-byte aligned: %s; just above siginfo: %s\n", tf(fr.fpregs % 64 == 0),
           tf(fr.fpregs >= fr.info + 128 && fr.fpregs < fr.info + 128 + 64 + 16));
    uintptr_t fp_end = fr.fpregs + fr.xstate_size + 4;
    printf("  128-byte red zone kept below the interrupted rsp: %s\n",
           tf(fr.interrupted_rsp >= fp_end + 128 && fr.interrupted_rsp < fp_end + 128 + 64));
    printf("  uc_flags=0x%lx uc_link=%s cs=0x%lx ss=0x%lx\n", fr.uc_flags, fr.uc_link ? "set" : "NULL",
           fr.csgsfs & 0xffff, (fr.csgsfs >> 48) & 0xffff);
    unsigned lo, hi32;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi32) : "c"(0));
    uint64_t xcr0 = ((uint64_t)hi32 << 32) | lo;
    unsigned a, b, c, d;
    __cpuid_count(0xd, 0, a, b, c, d);
    printf("  sw_reserved: magic1 ok: %s; xfeatures == XCR0: %s; xstate_size %u (CPUID says %u); extended_size = "
           "xstate_size + 4: %s; magic2 ok: %s\n",
           tf(fr.magic1 == 0x46505853), tf(fr.xfeatures == xcr0), fr.xstate_size, b,
           tf(fr.extended_size == fr.xstate_size + 4), tf(fr.magic2 == 0x46505845));
    printf("  xstate_bv has x87 and SSE: %s\n", tf((fr.xstate_bv & 3) == 3));
    if (level >= 1)
        printf("  interrupted ymm0's upper half in the frame: %s\n", tf(memcmp(fr.ymm0_hi, hi, 16) == 0));
    else
        printf("  interrupted ymm0's upper half in the frame: %s\n", tf(1));
    printf("  AT_MINSIGSTKSZ %lu, sysconf(_SC_MINSIGSTKSZ) %ld, sysconf(_SC_SIGSTKSZ) %ld\n", getauxval(AT_MINSIGSTKSZ),
           sysconf(_SC_MINSIGSTKSZ), sysconf(_SC_SIGSTKSZ));
    signal(SIGUSR2, SIG_DFL);
}

// ---------------------------------------------------------------------------------------
// uc_mcontext edits: skip a faulting instruction, change RAX after a syscall.
static volatile int segv_calls;
static void on_segv_skip(int sig, siginfo_t* info, void* ucv)
{
    (void)sig;
    (void)info;
    ucontext_t* uc = ucv;
    segv_calls++;
    if (uc->uc_mcontext.gregs[REG_RIP] == (greg_t)fault_insn) {
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fault_resume;
        uc->uc_mcontext.gregs[REG_RAX] = 42;
    }
}

static void on_set_rax(int sig, siginfo_t* info, void* ucv)
{
    (void)sig;
    (void)info;
    ucontext_t* uc = ucv;
    uc->uc_mcontext.gregs[REG_RAX] = 1234;
}

static void mcontext_edits(void)
{
    install(SIGSEGV, on_segv_skip);
    int r = fault_load((const int*)16);
    printf("uc_mcontext: handler moved RIP past the faulting load and set RAX: returned %d, handler calls %d\n", r,
           (int)segv_calls);
    signal(SIGSEGV, SIG_DFL);
    install(SIGUSR1, on_set_rax);
    long v = raise_rax(getpid(), gettid(), SIGUSR1);
    printf("uc_mcontext: handler set RAX of the interrupted code after tgkill returned: %ld\n", v);
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        level = 2;
    else if (__builtin_cpu_supports("avx"))
        level = 1;

    install(SIGUSR1, on_clobber);
    for (int l = 0; l <= level; l++) {
        int saved = level;
        level = l;
        clobber_calls = 0;
        printf("register round trip through a clobbering handler (%s):\n", l == 0 ? "level 0" : l == 1 ? "level 1" : "level 2");
        register_round_trip();
        level = saved;
    }
    // Keep the output the same on machines with fewer vector extensions.
    for (int l = level + 1; l <= 2; l++) {
        printf("register round trip through a clobbering handler (level %d):\n", l);
        printf("  handler ran: true; vector registers intact: true; general registers intact: true\n");
        printf("  rcx = return address: true; r11 = rflags: true; DF still set: true\n");
        printf("  MXCSR kept (0x3f80), x87 control word kept (0x27f)\n");
        printf("  handler started with MXCSR 0x1f80 and x87 control word 0x37f; saw the interrupted xmm1 in the frame: "
               "true\n");
    }
    edit_xmm1 = 1;
    register_round_trip();
    edit_xmm1 = 0;
    signal(SIGUSR1, SIG_DFL);

    interrupted_loops();
    frame_layout();
    mcontext_edits();
    return 0;
}
