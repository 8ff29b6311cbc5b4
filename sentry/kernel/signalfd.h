#pragma once
// signalfd (Linux fs/signalfd.c): an fd that reads, instead of a handler, the
// pending signals of a mask. What it reads and whether it is ready depend on who
// asks, as on Linux: the calling thread's own pending signals and its process's.
// A reader takes only as many signals as its buffer holds; the rest stay pending.

#include <poll.h>
#include <sys/signalfd.h>

#include <vector>

#include "sentry/abi/x86_64/signal_abi.h"
#include "sentry/signals/signal.h"
#include "sentry/vfs/file.h"

namespace sentry::kernel {

class Kernel;
class Task;

class SignalFd final : public vfs::File {
public:
    SignalFd(Kernel& k, signals::SigSet mask, int flags);
    ~SignalFd() override;
    // A signal was queued somewhere: every signalfd's waiters look again (who can
    // read it depends on the reader, so they check for themselves).
    static void notify_all();

    static SignalFd* from(vfs::File& f) { return dynamic_cast<SignalFd*>(&f); }

    signals::SigSet mask() const { return m_mask; }
    // SIGKILL and SIGSTOP are never read through a signalfd (silently dropped).
    void set_mask(signals::SigSet m)
    {
        m_mask = m.without_unblockable();
        m_wq.notify(POLLIN); // a waiter may now find a signal of the new mask
    }

    // Readiness is that of the task now making a syscall (poll, select,
    // epoll_ctl/epoll_wait, read).
    uint32_t poll_events() override;
    vfs::WaitQueue* wait_queue() override { return &m_wq; }
    // noop_llseek: the position stays 0 and every seek "succeeds".
    Result<off_t> lseek(off_t, int) override { return 0; }
    Result<struct stat> stat() override;
    std::string description() const override { return "anon_inode:[signalfd]"; }

private:
    Kernel& m_kernel;
    signals::SigSet m_mask;
    vfs::WaitQueue m_wq;
};

// One record as signalfd(2) returns it for `info` (Linux signalfd_copyinfo()).
struct signalfd_siginfo to_signalfd_siginfo(const abi::SigInfo& info);

} // namespace sentry::kernel
