#include <catch2/catch.hpp>
#include <signal.h>

#include <cstring>
#include <map>

#include "sentry/signals/frame_x86_64.h"
#include "sentry/signals/pending.h"

using namespace sentry;

namespace {

// Guest memory as a flat range [base, base+size).
class FakeMemory final : public signals::GuestMemoryAccess {
public:
    FakeMemory(uint64_t base, size_t size) : m_base(base), m_mem(size, 0xcc) {}
    Result<void> read(uint64_t addr, void* buf, size_t len) override
    {
        if (addr < m_base || addr + len > m_base + m_mem.size())
            return Errno(EFAULT);
        std::memcpy(buf, m_mem.data() + (addr - m_base), len);
        return {};
    }
    Result<void> write(uint64_t addr, const void* buf, size_t len) override
    {
        if (addr < m_base || addr + len > m_base + m_mem.size())
            return Errno(EFAULT);
        std::memcpy(m_mem.data() + (addr - m_base), buf, len);
        return {};
    }

private:
    uint64_t m_base;
    std::vector<uint8_t> m_mem;
};

signals::XstateLayout layout()
{
    signals::XstateLayout l;
    l.size = 2432;
    l.features = 0xe7;
    return l;
}

std::vector<uint8_t> some_xstate()
{
    std::vector<uint8_t> x(2432, 0);
    uint16_t fcw = 0x27f;
    std::memcpy(x.data(), &fcw, 2);
    uint32_t mxcsr = 0x1fa0;
    std::memcpy(x.data() + 24, &mxcsr, 4);
    for (int i = 0; i < 16; ++i)
        x[160 + i] = static_cast<uint8_t>(i + 1); // xmm0
    uint64_t bv = 0x7;
    std::memcpy(x.data() + 512, &bv, 8);
    return x;
}

} // namespace

TEST_CASE("frame: layout, alignment and handler entry registers match Linux")
{
    FakeMemory mem(0x10000, 0x10000);
    ptrace::Registers regs{};
    regs.rsp = 0x1fff3;
    regs.rip = 0x401234;
    regs.rax = 42;
    regs.eflags = 0x246 | 0x400; // DF set by the interrupted code
    regs.cs = 0x33;
    regs.ss = 0x2b;
    auto xs = some_xstate();
    signals::FrameRequest req;
    req.sig = SIGUSR1;
    req.info = signals::make_siginfo(SIGUSR1, SI_USER, 5, 0);
    req.action.handler = 0x405000;
    req.action.restorer = 0x406000;
    req.action.flags = SA_SIGINFO | 0x04000000;
    req.saved_mask = 0x1234;
    auto r = signals::setup_rt_frame(mem, regs, xs, req, layout());
    REQUIRE(!r.is_error());
    uint64_t frame = r->frame_addr;
    CHECK((frame + 8) % 16 == 0);
    CHECK(regs.rsp == frame);
    CHECK(regs.rip == 0x405000);
    CHECK(regs.rdi == SIGUSR1);
    CHECK(regs.rsi == frame + 312);
    CHECK(regs.rdx == frame + 8);
    CHECK(regs.rax == 0);
    CHECK(!(regs.eflags & 0x400));

    abi::RtSigframe f{};
    REQUIRE(!mem.read(frame, &f, sizeof f).is_error());
    CHECK(f.pretcode == 0x406000);
    CHECK(f.uc.uc_flags == 0x7);
    CHECK(f.uc.uc_sigmask == 0x1234);
    CHECK(f.uc.uc_mcontext.rip == 0x401234);
    CHECK(f.uc.uc_mcontext.rax == 42);
    CHECK(f.uc.uc_mcontext.rsp == 0x1fff3);
    CHECK(f.uc.uc_stack.ss_flags == SS_DISABLE);
    CHECK(f.info.si_signo == SIGUSR1);
    CHECK(f.info.u.kill.pid == 5);
    uint64_t fp = f.uc.uc_mcontext.fpstate;
    CHECK(fp % 64 == 0);
    CHECK(fp >= frame + sizeof f);
    CHECK(fp + 2432 + 4 <= 0x1fff3 - 128);
    abi::FpxSwBytes sw{};
    REQUIRE(!mem.read(fp + 464, &sw, sizeof sw).is_error());
    CHECK(sw.magic1 == abi::k_fp_xstate_magic1);
    CHECK(sw.extended_size == 2436);
    CHECK(sw.xstate_size == 2432);
    uint32_t magic2 = 0;
    REQUIRE(!mem.read(fp + 2432, &magic2, 4).is_error());
    CHECK(magic2 == abi::k_fp_xstate_magic2);
    // The handler starts with a clean FPU.
    uint32_t mxcsr = 0;
    std::memcpy(&mxcsr, xs.data() + 24, 4);
    CHECK(mxcsr == 0x1f80);
    CHECK(xs[160] == 0);

    SECTION("rt_sigreturn restores registers, mask and the xsave state")
    {
        // The handler returns: `ret` pops pretcode, so rsp = frame + 8.
        ptrace::Registers after = regs;
        after.rsp = frame + 8;
        after.rax = 999;
        std::vector<uint8_t> xs2(2432, 0);
        auto back = signals::restore_rt_frame(mem, after, xs2, layout());
        REQUIRE(!back.is_error());
        CHECK(back->mask == 0x1234);
        CHECK(after.rip == 0x401234);
        CHECK(after.rax == 42);
        CHECK(after.rsp == 0x1fff3);
        CHECK((after.eflags & 0x400) != 0);
        CHECK(after.orig_rax == static_cast<uint64_t>(-1));
        CHECK(xs2[160] == 1);
        uint32_t m = 0;
        std::memcpy(&m, xs2.data() + 24, 4);
        CHECK(m == 0x1fa0);
    }
}

TEST_CASE("frame: SA_ONSTACK switches to the alternate stack; overflow fails")
{
    FakeMemory mem(0x10000, 0x20000);
    ptrace::Registers regs{};
    regs.rsp = 0x2ff00;
    auto xs = some_xstate();
    signals::FrameRequest req;
    req.sig = SIGSEGV;
    req.action.handler = 0x405000;
    req.action.restorer = 0x406000;
    req.action.flags = SA_SIGINFO | SA_ONSTACK | 0x04000000;
    req.altstack.sp = 0x12000;
    req.altstack.size = 0x4000;
    req.altstack.flags = 0;
    auto r = signals::setup_rt_frame(mem, regs, xs, req, layout());
    REQUIRE(!r.is_error());
    CHECK(r->frame_addr > 0x12000);
    CHECK(r->frame_addr < 0x16000);
    abi::RtSigframe f{};
    REQUIRE(!mem.read(r->frame_addr, &f, sizeof f).is_error());
    CHECK(f.uc.uc_stack.ss_sp == 0x12000);
    CHECK(f.uc.uc_stack.ss_flags == 0);

    // A stack too small for the frame: Linux gives up (the caller forces SIGSEGV).
    ptrace::Registers regs2{};
    regs2.rsp = 0x2ff00;
    req.altstack.size = 2048;
    auto xs2 = some_xstate();
    CHECK(signals::setup_rt_frame(mem, regs2, xs2, req, layout()).is_error());
}

TEST_CASE("frame: no SA_RESTORER is refused on x86-64")
{
    FakeMemory mem(0x10000, 0x10000);
    ptrace::Registers regs{};
    regs.rsp = 0x1ff00;
    auto xs = some_xstate();
    signals::FrameRequest req;
    req.sig = SIGUSR1;
    req.action.handler = 0x405000;
    CHECK(signals::setup_rt_frame(mem, regs, xs, req, layout()).is_error());
}
