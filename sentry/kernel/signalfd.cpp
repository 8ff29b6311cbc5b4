#include "sentry/kernel/signalfd.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

namespace {
std::vector<SignalFd*> g_signalfds; // every live one (the kernel runs on one thread)
} // namespace

SignalFd::SignalFd(Kernel& k, signals::SigSet mask, int flags) : File(flags), m_kernel(k), m_mask(mask.without_unblockable())
{
    g_signalfds.push_back(this);
}

SignalFd::~SignalFd() { std::erase(g_signalfds, this); }

void SignalFd::notify_all()
{
    for (SignalFd* s : std::vector<SignalFd*>(g_signalfds))
        s->m_wq.notify(POLLIN);
}

uint32_t SignalFd::poll_events()
{
    Task* t = m_kernel.current();
    if (!t)
        return 0;
    signals::SigSet pending = t->m_sigpending.set() | t->group().shared_pending.set();
    return (pending & m_mask).empty() ? 0 : POLLIN;
}

Result<struct stat> SignalFd::stat() { return vfs::anon_inode_stat(); }

// Which union member of the siginfo is meaningful (Linux kernel/signal.c
// siginfo_layout()). A positive si_code below SI_KERNEL is specific to the signal
// only up to that signal's number of codes (NSIGSEGV, ...); past it, a code that
// could be a SIGPOLL one is read as SIGPOLL's, anything else as kill()'s.
namespace {
enum class Layout { Kill, Timer, Poll, Fault, FaultMceErr, Chld, Rt, Sys };

// Linux sig_sicodes[]: the signals with codes of their own, and how many.
struct SpecificCodes {
    int sig;
    int limit;
    Layout layout;
};
constexpr SpecificCodes k_specific_codes[] = {
    {SIGILL, 11, Layout::Fault},  // NSIGILL
    {SIGFPE, 15, Layout::Fault},  // NSIGFPE
    {SIGSEGV, 10, Layout::Fault}, // NSIGSEGV (SEGV_CPERR, Linux >= 6.6)
    {SIGBUS, 5, Layout::Fault},   // NSIGBUS
    {SIGTRAP, 6, Layout::Fault},  // NSIGTRAP
    {SIGCHLD, 6, Layout::Chld},   // NSIGCHLD
    {SIGPOLL, 6, Layout::Poll},   // NSIGPOLL
    {SIGSYS, 2, Layout::Sys},     // NSIGSYS
};
constexpr int k_nsigpoll = 6;
constexpr int k_bus_mceerr_ar = 4, k_bus_mceerr_ao = 5;

Layout layout_of(int sig, int code)
{
    if (code > SI_USER && code < SI_KERNEL) {
        for (const auto& c : k_specific_codes) {
            if (c.sig != sig || code > c.limit)
                continue;
            if (sig == SIGBUS && code >= k_bus_mceerr_ar && code <= k_bus_mceerr_ao)
                return Layout::FaultMceErr;
            return c.layout;
        }
        return code <= k_nsigpoll ? Layout::Poll : Layout::Kill;
    }
    if (code == SI_TIMER)
        return Layout::Timer;
    if (code == SI_SIGIO)
        return Layout::Poll;
    if (code < 0)
        return Layout::Rt;
    return Layout::Kill;
}

template<typename T>
T raw_at(const abi::SigInfo& info, size_t off)
{
    T v;
    std::memcpy(&v, info.u.raw + off, sizeof v);
    return v;
}
} // namespace

// Compare Linux fs/signalfd.c:signalfd_copyinfo(). The kernel's siginfo union on
// x86-64: _sigfault {addr; short addr_lsb at +8}, _sigsys {call_addr; int syscall
// at +8; unsigned arch at +12}.
struct signalfd_siginfo to_signalfd_siginfo(const abi::SigInfo& info)
{
    struct signalfd_siginfo s {};
    s.ssi_signo = static_cast<uint32_t>(info.si_signo);
    s.ssi_errno = info.si_errno;
    s.ssi_code = info.si_code;
    switch (layout_of(info.si_signo, info.si_code)) {
    case Layout::Kill:
        s.ssi_pid = static_cast<uint32_t>(info.u.kill.pid);
        s.ssi_uid = info.u.kill.uid;
        break;
    case Layout::Timer:
        s.ssi_tid = static_cast<uint32_t>(info.u.timer.tid);
        s.ssi_overrun = static_cast<uint32_t>(info.u.timer.overrun);
        s.ssi_ptr = info.u.timer.value;
        s.ssi_int = static_cast<int32_t>(info.u.timer.value);
        break;
    case Layout::Poll:
        s.ssi_band = static_cast<uint32_t>(info.u.poll.band);
        s.ssi_fd = info.u.poll.fd;
        break;
    case Layout::Fault:
        s.ssi_addr = info.u.fault.addr;
        break;
    case Layout::FaultMceErr:
        s.ssi_addr = info.u.fault.addr;
        s.ssi_addr_lsb = static_cast<uint16_t>(raw_at<int16_t>(info, 8));
        break;
    case Layout::Chld:
        s.ssi_pid = static_cast<uint32_t>(info.u.chld.pid);
        s.ssi_uid = info.u.chld.uid;
        s.ssi_status = info.u.chld.status;
        s.ssi_utime = static_cast<uint64_t>(info.u.chld.utime);
        s.ssi_stime = static_cast<uint64_t>(info.u.chld.stime);
        break;
    case Layout::Rt:
        s.ssi_pid = static_cast<uint32_t>(info.u.rt.pid);
        s.ssi_uid = info.u.rt.uid;
        s.ssi_ptr = info.u.rt.value;
        s.ssi_int = static_cast<int32_t>(info.u.rt.value);
        break;
    case Layout::Sys:
        s.ssi_call_addr = raw_at<uint64_t>(info, 0);
        s.ssi_syscall = raw_at<int32_t>(info, 8);
        s.ssi_arch = raw_at<uint32_t>(info, 12);
        break;
    }
    return s;
}

} // namespace sentry::kernel
