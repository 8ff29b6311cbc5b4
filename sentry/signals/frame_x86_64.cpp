#include "sentry/signals/frame_x86_64.h"

#include <cpuid.h>
#include <signal.h>

#include <algorithm>
#include <cstring>

namespace sentry::signals {

namespace {

constexpr uint64_t k_eflags_tf = 0x100;
constexpr uint64_t k_eflags_df = 0x400;
constexpr uint64_t k_eflags_rf = 0x10000;
constexpr uint64_t k_xfeature_fpsse = 0x3;
constexpr int k_ss_onstack = 1;
constexpr int k_ss_disable = 2;
constexpr uint64_t k_sa_restorer = 0x04000000; // Linux uapi asm/signal.h

uint64_t round_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

// The FPU state a handler starts with (Linux fpu__clear_user_states()).
void init_fpu_state(std::vector<uint8_t>& xstate)
{
    if (xstate.size() < abi::k_fxsave_size + 64)
        xstate.resize(abi::k_fxsave_size + 64);
    std::memset(xstate.data(), 0, abi::k_fxsave_size);
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    std::memcpy(xstate.data() + 0, &fcw, sizeof fcw);
    std::memcpy(xstate.data() + 24, &mxcsr, sizeof mxcsr);
    // Only x87/SSE present (zeroed); every other component in its init state.
    uint64_t bv = k_xfeature_fpsse;
    std::memcpy(xstate.data() + abi::k_xstate_bv_offset, &bv, sizeof bv);
    std::memset(xstate.data() + abi::k_xstate_bv_offset + 8, 0, 56);
}

} // namespace

const XstateLayout& XstateLayout::host()
{
    static XstateLayout l = [] {
        XstateLayout x;
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx)) {
            x.size = ebx;
            uint32_t lo = 0, hi = 0;
            asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            x.features = (static_cast<uint64_t>(hi) << 32) | lo;
        }
        if (x.size < abi::k_fxsave_size + 64)
            x.size = abi::k_fxsave_size + 64;
        return x;
    }();
    return l;
}

bool AltStack::on_stack(uint64_t rsp) const
{
    if (flags & k_ss_disable)
        return false;
    return rsp > sp && rsp - sp <= size;
}

int AltStack::flags_for(uint64_t rsp) const
{
    if ((flags & k_ss_disable) || size == 0)
        return k_ss_disable;
    return on_stack(rsp) ? k_ss_onstack : 0;
}

Result<FrameResult> setup_rt_frame(GuestMemoryAccess& mem, ptrace::Registers& regs, std::vector<uint8_t>& xstate,
                                   const FrameRequest& req, const XstateLayout& layout)
{
    // x86-64 always uses SA_RESTORER (Linux x64_setup_rt_frame()).
    if (!(req.action.flags & k_sa_restorer))
        return Errno(EFAULT);

    // Compare Linux arch/x86/kernel/signal.c:get_sigframe().
    uint64_t sp = regs.rsp;
    bool nested_altstack = req.altstack.on_stack(sp);
    bool entering_altstack = false;
    sp -= 128; // red zone
    if ((req.action.flags & SA_ONSTACK) && req.altstack.flags_for(sp) == 0) {
        sp = req.altstack.sp + req.altstack.size;
        entering_altstack = true;
    }
    size_t math_size = layout.size + 4; // + FP_XSTATE_MAGIC2
    uint64_t buf_fx = round_down(sp - math_size, 64);
    sp = buf_fx - sizeof(abi::RtSigframe);
    sp = round_down(sp, 16) - 8;
    if ((nested_altstack || entering_altstack) && !req.altstack.on_stack(sp))
        return Errno(EFAULT);

    // The xsave area, as the XSAVE instruction would write it in user mode, marked
    // with the software bytes and MAGIC2 (Linux save_xstate_epilog()).
    if (layout.size < abi::k_fxsave_size + 64)
        return Errno(EFAULT);
    std::vector<uint8_t> fp(layout.size + 4, 0);
    std::copy_n(xstate.begin(), std::min(xstate.size(), layout.size), fp.begin());
    abi::FpxSwBytes sw{};
    sw.magic1 = abi::k_fp_xstate_magic1;
    sw.extended_size = static_cast<uint32_t>(layout.size + 4);
    sw.xfeatures = layout.features;
    sw.xstate_size = static_cast<uint32_t>(layout.size);
    std::memcpy(fp.data() + abi::k_sw_bytes_offset, &sw, sizeof sw);
    uint64_t bv = 0;
    std::memcpy(&bv, fp.data() + abi::k_xstate_bv_offset, sizeof bv);
    bv |= k_xfeature_fpsse;
    std::memcpy(fp.data() + abi::k_xstate_bv_offset, &bv, sizeof bv);
    uint32_t magic2 = abi::k_fp_xstate_magic2;
    std::memcpy(fp.data() + layout.size, &magic2, sizeof magic2);

    abi::RtSigframe frame{};
    frame.pretcode = req.action.restorer;
    auto& uc = frame.uc;
    uc.uc_flags = abi::k_uc_fp_xstate | abi::k_uc_sigcontext_ss | abi::k_uc_strict_restore_ss;
    uc.uc_link = 0;
    uc.uc_stack.ss_sp = req.altstack.sp;
    // The task's stored flags, as Linux's save_altstack writes them (SS_DISABLE,
    // SS_AUTODISARM or 0), not the on-stack state.
    uc.uc_stack.ss_flags = (req.altstack.flags & k_ss_disable) || req.altstack.size == 0 ? k_ss_disable
                                                                                        : req.altstack.flags;
    uc.uc_stack.ss_size = req.altstack.size;
    if (uc.uc_stack.ss_flags == k_ss_disable) {
        uc.uc_stack.ss_sp = 0;
        uc.uc_stack.ss_size = 0;
    }
    auto& sc = uc.uc_mcontext;
    sc.r8 = regs.r8; sc.r9 = regs.r9; sc.r10 = regs.r10; sc.r11 = regs.r11;
    sc.r12 = regs.r12; sc.r13 = regs.r13; sc.r14 = regs.r14; sc.r15 = regs.r15;
    sc.rdi = regs.rdi; sc.rsi = regs.rsi; sc.rbp = regs.rbp; sc.rbx = regs.rbx;
    sc.rdx = regs.rdx; sc.rax = regs.rax; sc.rcx = regs.rcx; sc.rsp = regs.rsp;
    sc.rip = regs.rip;
    sc.eflags = regs.eflags;
    sc.cs = static_cast<uint16_t>(regs.cs);
    sc.gs = 0;
    sc.fs = 0;
    sc.ss = static_cast<uint16_t>(regs.ss);
    sc.trapno = req.trapno;
    sc.err = req.err;
    sc.cr2 = req.cr2;
    sc.oldmask = req.saved_mask;
    sc.fpstate = buf_fx;
    uc.uc_sigmask = req.saved_mask;
    frame.info = req.info;

    TRY(mem.write(buf_fx, fp.data(), fp.size()));
    TRY(mem.write(sp, &frame, sizeof frame));

    regs.rdi = static_cast<uint64_t>(req.sig);
    regs.rsi = sp + offsetof(abi::RtSigframe, info);
    regs.rdx = sp + offsetof(abi::RtSigframe, uc);
    regs.rax = 0;
    regs.rsp = sp;
    regs.rip = req.action.handler;
    regs.cs = abi::k_user_cs;
    regs.ss = abi::k_user_ds;
    regs.eflags &= ~(k_eflags_df | k_eflags_rf | k_eflags_tf);
    regs.orig_rax = static_cast<uint64_t>(-1);
    init_fpu_state(xstate);

    FrameResult res;
    res.frame_addr = sp;
    res.disarm_altstack = (req.altstack.flags & static_cast<int>(1u << 31)) != 0; // SS_AUTODISARM
    return res;
}

Result<SigreturnResult> restore_rt_frame(GuestMemoryAccess& mem, ptrace::Registers& regs,
                                         std::vector<uint8_t>& xstate, const XstateLayout& layout)
{
    uint64_t frame_addr = regs.rsp - 8;
    abi::RtSigframe frame{};
    TRY(mem.read(frame_addr, &frame, sizeof frame));
    const auto& sc = frame.uc.uc_mcontext;

    // Compare Linux arch/x86/kernel/signal_64.c:restore_sigcontext().
    regs.r8 = sc.r8; regs.r9 = sc.r9; regs.r10 = sc.r10; regs.r11 = sc.r11;
    regs.r12 = sc.r12; regs.r13 = sc.r13; regs.r14 = sc.r14; regs.r15 = sc.r15;
    regs.rdi = sc.rdi; regs.rsi = sc.rsi; regs.rbp = sc.rbp; regs.rbx = sc.rbx;
    regs.rdx = sc.rdx; regs.rax = sc.rax; regs.rcx = sc.rcx; regs.rsp = sc.rsp;
    regs.rip = sc.rip;
    regs.eflags = (regs.eflags & ~abi::k_fix_eflags) | (sc.eflags & abi::k_fix_eflags);
    regs.cs = abi::k_user_cs; // 64-bit code only
    regs.ss = abi::k_user_ds;
    regs.orig_rax = static_cast<uint64_t>(-1); // no syscall restart after sigreturn

    if (sc.fpstate == 0) {
        init_fpu_state(xstate);
    } else {
        std::vector<uint8_t> fx(abi::k_fxsave_size);
        TRY(mem.read(sc.fpstate, fx.data(), fx.size()));
        abi::FpxSwBytes sw{};
        std::memcpy(&sw, fx.data() + abi::k_sw_bytes_offset, sizeof sw);
        bool full = false;
        if ((frame.uc.uc_flags & abi::k_uc_fp_xstate) && sw.magic1 == abi::k_fp_xstate_magic1 &&
            sw.xstate_size >= abi::k_fxsave_size + 64 && sw.xstate_size <= layout.size &&
            sw.extended_size == sw.xstate_size + 4) {
            uint32_t magic2 = 0;
            TRY(mem.read(sc.fpstate + sw.xstate_size, &magic2, sizeof magic2));
            full = magic2 == abi::k_fp_xstate_magic2;
        }
        if (full) {
            std::vector<uint8_t> xs(sw.xstate_size);
            TRY(mem.read(sc.fpstate, xs.data(), xs.size()));
            std::memset(xs.data() + abi::k_sw_bytes_offset, 0, sizeof sw);
            // Only the features the frame says it carries; the rest go to init.
            uint64_t bv = 0;
            std::memcpy(&bv, xs.data() + abi::k_xstate_bv_offset, sizeof bv);
            bv &= sw.xfeatures & layout.features;
            std::memcpy(xs.data() + abi::k_xstate_bv_offset, &bv, sizeof bv);
            xstate.assign(xs.begin(), xs.end());
            if (xstate.size() < layout.size)
                xstate.resize(layout.size, 0);
        } else {
            // A legacy FXSAVE frame: x87/SSE only.
            init_fpu_state(xstate);
            std::memcpy(xstate.data(), fx.data(), abi::k_fxsave_size);
            std::memset(xstate.data() + abi::k_sw_bytes_offset, 0, sizeof sw);
        }
    }
    SigreturnResult r;
    r.mask = frame.uc.uc_sigmask;
    r.stack = frame.uc.uc_stack;
    return r;
}

} // namespace sentry::signals
