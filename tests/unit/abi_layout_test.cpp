// The sentry's own ABI structs against the system headers: the frame a guest's libc
// reads must be laid out exactly as glibc expects it.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/ucontext.h>

#include <cstddef>

#include "sentry/abi/x86_64/signal_abi.h"
#include "sentry/signals/signal.h"

using namespace sentry;

static_assert(offsetof(ucontext_t, uc_flags) == offsetof(abi::UContext, uc_flags));
static_assert(offsetof(ucontext_t, uc_link) == offsetof(abi::UContext, uc_link));
static_assert(offsetof(ucontext_t, uc_stack) == offsetof(abi::UContext, uc_stack));
static_assert(offsetof(ucontext_t, uc_mcontext) == offsetof(abi::UContext, uc_mcontext));
static_assert(offsetof(ucontext_t, uc_sigmask) == offsetof(abi::UContext, uc_sigmask));
static_assert(sizeof(stack_t) == sizeof(abi::KernelStack));
static_assert(offsetof(stack_t, ss_flags) == offsetof(abi::KernelStack, ss_flags));
static_assert(offsetof(stack_t, ss_size) == offsetof(abi::KernelStack, ss_size));
static_assert(sizeof(siginfo_t) == sizeof(abi::SigInfo));
static_assert(offsetof(siginfo_t, si_code) == offsetof(abi::SigInfo, si_code));
static_assert(offsetof(siginfo_t, si_pid) == offsetof(abi::SigInfo, u.kill.pid));
static_assert(offsetof(siginfo_t, si_uid) == offsetof(abi::SigInfo, u.kill.uid));
static_assert(offsetof(siginfo_t, si_value) == offsetof(abi::SigInfo, u.rt.value));
static_assert(offsetof(siginfo_t, si_status) == offsetof(abi::SigInfo, u.chld.status));
static_assert(offsetof(siginfo_t, si_utime) == offsetof(abi::SigInfo, u.chld.utime));
static_assert(offsetof(siginfo_t, si_addr) == offsetof(abi::SigInfo, u.fault.addr));
static_assert(offsetof(siginfo_t, si_timerid) == offsetof(abi::SigInfo, u.timer.tid));
static_assert(offsetof(siginfo_t, si_overrun) == offsetof(abi::SigInfo, u.timer.overrun));

TEST_CASE("abi: sigcontext registers sit where glibc's gregs[] says")
{
    auto at = [](int reg) { return offsetof(abi::UContext, uc_mcontext) + static_cast<size_t>(reg) * 8; };
    CHECK(at(REG_R8) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, r8));
    CHECK(at(REG_RDI) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, rdi));
    CHECK(at(REG_RAX) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, rax));
    CHECK(at(REG_RSP) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, rsp));
    CHECK(at(REG_RIP) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, rip));
    CHECK(at(REG_EFL) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, eflags));
    CHECK(at(REG_CSGSFS) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, cs));
    CHECK(at(REG_ERR) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, err));
    CHECK(at(REG_TRAPNO) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, trapno));
    CHECK(at(REG_OLDMASK) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, oldmask));
    CHECK(at(REG_CR2) == offsetof(abi::UContext, uc_mcontext) + offsetof(abi::SigContext, cr2));
    CHECK(offsetof(mcontext_t, fpregs) == offsetof(abi::SigContext, fpstate));
    CHECK(sizeof(struct sigaction) >= sizeof(signals::KernelSigaction));
}
