#pragma once
// The x86-64 signal frame ABI, field for field (Linux arch/x86/include/uapi/asm/
// sigcontext.h, ucontext.h, arch/x86/include/asm/sigframe.h, uapi/asm-generic/
// siginfo.h). Each struct is followed by static_asserts on its size and offsets.

#include <cstddef>
#include <cstdint>

namespace sentry::abi {

struct KernelStack { // stack_t
    uint64_t ss_sp;
    int32_t ss_flags;
    uint32_t pad;
    uint64_t ss_size;
};
static_assert(sizeof(KernelStack) == 24);

struct SigContext { // struct sigcontext (64-bit)
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
    uint64_t rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;
    uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);
static_assert(offsetof(SigContext, rip) == 128);
static_assert(offsetof(SigContext, cs) == 144);
static_assert(offsetof(SigContext, fpstate) == 184);

inline constexpr uint64_t k_uc_fp_xstate = 0x1;
inline constexpr uint64_t k_uc_sigcontext_ss = 0x2;
inline constexpr uint64_t k_uc_strict_restore_ss = 0x4;

struct UContext {
    uint64_t uc_flags;
    uint64_t uc_link;
    KernelStack uc_stack;
    SigContext uc_mcontext;
    uint64_t uc_sigmask;
};
static_assert(sizeof(UContext) == 304);
static_assert(offsetof(UContext, uc_stack) == 16);
static_assert(offsetof(UContext, uc_mcontext) == 40);
static_assert(offsetof(UContext, uc_sigmask) == 296);

// siginfo_t: 128 bytes; the union starts at offset 16.
struct SigInfo {
    int32_t si_signo;
    int32_t si_errno;
    int32_t si_code;
    int32_t pad0;
    union {
        uint8_t raw[112];
        struct { int32_t pid; uint32_t uid; } kill;                       // SI_USER, SI_TKILL
        struct { int32_t tid; int32_t overrun; uint64_t value; } timer;    // SI_TIMER
        struct { int32_t pid; uint32_t uid; uint64_t value; } rt;          // SI_QUEUE
        struct { int32_t pid; uint32_t uid; int32_t status; int32_t pad; int64_t utime; int64_t stime; } chld;
        struct { uint64_t addr; } fault;                                   // SIGSEGV, SIGBUS, ...
        struct { int64_t band; int32_t fd; } poll;
    } u;
};
static_assert(sizeof(SigInfo) == 128);
static_assert(offsetof(SigInfo, u) == 16);

struct RtSigframe {
    uint64_t pretcode;
    UContext uc;
    SigInfo info;
};
static_assert(sizeof(RtSigframe) == 440);
static_assert(offsetof(RtSigframe, info) == 312);

// Software-reserved bytes at offset 464 of the FXSAVE area that mark an XSAVE frame.
struct FpxSwBytes {
    uint32_t magic1;
    uint32_t extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size;
    uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);
inline constexpr uint32_t k_fp_xstate_magic1 = 0x46505853;
inline constexpr uint32_t k_fp_xstate_magic2 = 0x46505845;
inline constexpr size_t k_fxsave_size = 512;
inline constexpr size_t k_sw_bytes_offset = 464;
inline constexpr size_t k_xstate_bv_offset = 512; // XSAVE header: xstate_bv first

inline constexpr uint16_t k_user_cs = 0x33;
inline constexpr uint16_t k_user_ds = 0x2b;

// EFLAGS bits a signal handler may change through sigreturn (Linux FIX_EFLAGS).
inline constexpr uint64_t k_fix_eflags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

} // namespace sentry::abi
