#include "sentry/kernel/timerfd.h"

#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>

namespace sentry::kernel {

namespace {

using std::chrono::nanoseconds;

nanoseconds to_ns(const struct timespec& ts) { return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec); }

struct timespec to_timespec(nanoseconds ns)
{
    struct timespec ts {};
    if (ns.count() <= 0)
        return ts;
    ts.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(ns.count() % 1000000000);
    return ts;
}

} // namespace

TimerFd::TimerFd(clockid_t clock, int flags)
    : File(flags)
    , m_clock(clock)
    , m_timer([this](uint64_t overruns) {
        m_ticks += 1 + overruns;
        m_wq.notify(POLLIN);
    })
{
}

bool TimerFd::valid_clock(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME || c == CLOCK_REALTIME_ALARM ||
        c == CLOCK_BOOTTIME_ALARM;
}

struct itimerspec TimerFd::set(int flags, const struct itimerspec& value)
{
    struct itimerspec old = get();
    // Setting the timer forgets expirations not yet read (Linux timerfd_setup()).
    m_ticks = 0;
    nanoseconds first = to_ns(value.it_value), interval = to_ns(value.it_interval);
    if (first.count() == 0) {
        m_timer.disarm(interval);
        return old;
    }
    auto now = IntervalTimer::Clock::now();
    IntervalTimer::Clock::time_point at;
    if (flags & TFD_TIMER_ABSTIME) {
        struct timespec clock_now {};
        clock_gettime(m_clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME
                          : m_clock == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME
                                                            : m_clock,
            &clock_now);
        nanoseconds left = first - to_ns(clock_now);
        at = now + std::max(left, nanoseconds(0));
    } else {
        at = now + first;
    }
    m_timer.arm(at, interval);
    return old;
}

struct itimerspec TimerFd::get() const
{
    struct itimerspec cur {};
    if (m_timer.armed()) {
        nanoseconds left = m_timer.remaining();
        // An armed timer due now still shows as armed (Linux rounds up to 1 ns).
        cur.it_value = to_timespec(std::max(left, nanoseconds(1)));
    }
    cur.it_interval = to_timespec(m_timer.interval());
    return cur;
}

Result<size_t> TimerFd::read(std::span<char> buf)
{
    if (buf.size() < sizeof(uint64_t))
        return Errno(EINVAL);
    if (m_ticks == 0)
        return Errno(EAGAIN);
    uint64_t v = m_ticks;
    m_ticks = 0;
    std::memcpy(buf.data(), &v, sizeof v);
    return sizeof v;
}

Result<size_t> TimerFd::read_to(const Sink& sink, size_t max)
{
    if (max < sizeof(uint64_t))
        return Errno(EINVAL);
    if (m_ticks == 0)
        return Errno(EAGAIN);
    uint64_t v = m_ticks;
    if (sink({reinterpret_cast<const char*>(&v), sizeof v}) != sizeof v)
        return Errno(EFAULT);
    m_ticks = 0;
    return sizeof v;
}

uint32_t TimerFd::poll_events() { return m_ticks ? POLLIN : 0; }

Result<struct stat> TimerFd::stat() { return vfs::anon_inode_stat(); }

} // namespace sentry::kernel
