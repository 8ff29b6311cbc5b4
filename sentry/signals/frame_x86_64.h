#pragma once
// Signal frames on x86-64, built and restored by the sentry exactly as Linux does
// in arch/x86/kernel/signal.c and signal_64.c: get_sigframe() chooses the place
// (red zone skipped, alternate stack, 64-byte aligned xsave area, frame aligned to
// 16 minus 8), x64_setup_rt_frame() writes pretcode, ucontext and siginfo, and
// restore_sigcontext() undoes it at rt_sigreturn. Guest memory is reached through
// an interface so that the layout can be unit-tested without ptrace.

#include <cstdint>
#include <span>
#include <vector>

#include "sentry/abi/x86_64/signal_abi.h"
#include "sentry/common/errno.h"
#include "sentry/ptrace/platform.h"
#include "sentry/signals/signal.h"

namespace sentry::signals {

class GuestMemoryAccess {
public:
    virtual ~GuestMemoryAccess() = default;
    virtual Result<void> read(uint64_t addr, void* buf, size_t len) = 0;
    virtual Result<void> write(uint64_t addr, const void* buf, size_t len) = 0;
};

// The FPU/xsave geometry of this machine: the size of the xsave area in a signal
// frame (CPUID leaf 0xd for the features enabled in XCR0) and those features.
struct XstateLayout {
    size_t size = 0;
    uint64_t features = 0;
    static const XstateLayout& host();
};

struct AltStack {
    uint64_t sp = 0;
    uint64_t size = 0;
    int flags = 2; // SS_DISABLE
    bool on_stack(uint64_t rsp) const;
    // sas_ss_flags(): SS_DISABLE, SS_ONSTACK or 0.
    int flags_for(uint64_t rsp) const;
};

struct FrameRequest {
    int sig = 0;
    abi::SigInfo info{};
    KernelSigaction action{};
    uint64_t saved_mask = 0; // the mask to restore at sigreturn
    AltStack altstack{};
    // The hardware exception behind a synchronous fault (sigcontext trapno, err,
    // cr2), as Linux keeps them in the thread; zero for other signals.
    uint64_t trapno = 0, err = 0, cr2 = 0;
};

struct FrameResult {
    uint64_t frame_addr = 0;
    bool disarm_altstack = false; // SS_AUTODISARM: the task's altstack is now reset
};

// Build the frame for `req` below the interrupted state in `regs`/`xstate` and set
// the registers and FPU state to enter the handler. On failure (frame unwritable,
// would overflow the alternate stack, no SA_RESTORER) nothing guest-visible is
// promised: the caller forces SIGSEGV, as Linux does.
Result<FrameResult> setup_rt_frame(GuestMemoryAccess& mem, ptrace::Registers& regs, std::vector<uint8_t>& xstate,
                                   const FrameRequest& req, const XstateLayout& layout);

struct SigreturnResult {
    uint64_t mask = 0;
    abi::KernelStack stack{};
};

// rt_sigreturn: restore registers and FPU state from the frame at regs.rsp - 8.
Result<SigreturnResult> restore_rt_frame(GuestMemoryAccess& mem, ptrace::Registers& regs,
                                         std::vector<uint8_t>& xstate, const XstateLayout& layout);

} // namespace sentry::signals
