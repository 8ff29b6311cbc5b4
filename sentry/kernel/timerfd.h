#pragma once
// timerfd (Linux fs/timerfd.c): a timer whose expirations are read as a count.
// Every clock runs on the event loop's steady clock; an absolute CLOCK_REALTIME or
// CLOCK_BOOTTIME time is turned into a steady deadline when the timer is set (a
// later change of the wall clock does not move it; TFD_TIMER_CANCEL_ON_SET is
// accepted and never cancels).

#include <time.h>

#include <memory>

#include "sentry/kernel/timers.h"
#include "sentry/vfs/file.h"

namespace sentry::kernel {

class TimerFd final : public vfs::File {
public:
    TimerFd(clockid_t clock, int flags);

    static TimerFd* from(vfs::File& f) { return dynamic_cast<TimerFd*>(&f); }
    static bool valid_clock(clockid_t c);

    // timerfd_settime: arm (or disarm with a zero value) and return the old setting.
    struct itimerspec set(int flags, const struct itimerspec& value);
    struct itimerspec get() const;

    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    uint32_t poll_events() override;
    bool reads_records() const override { return true; }
    vfs::WaitQueue* wait_queue() override { return &m_wq; }
    // noop_llseek: the position stays 0 and every seek "succeeds".
    Result<off_t> lseek(off_t, int) override { return 0; }
    Result<struct stat> stat() override;
    std::string description() const override { return "anon_inode:[timerfd]"; }

private:
    clockid_t m_clock;
    uint64_t m_ticks = 0; // expirations not yet read
    vfs::WaitQueue m_wq;
    IntervalTimer m_timer;
};

} // namespace sentry::kernel
