#include "sentry/kernel/timers.h"

#include <unistd.h>

#include <algorithm>

#include "sentry/common/event_loop.h"

namespace sentry::kernel {

IntervalTimer::IntervalTimer(Fire fire)
    : m_fire(std::move(fire))
    , m_timer(event_loop())
{
}

IntervalTimer::~IntervalTimer() { m_timer.cancel(); }

void IntervalTimer::arm(Clock::time_point at, std::chrono::nanoseconds interval)
{
    m_expiry = at;
    m_interval = interval;
    m_armed = true;
    ++m_generation;
    wait();
}

void IntervalTimer::disarm(std::chrono::nanoseconds interval)
{
    m_armed = false;
    m_interval = interval;
    ++m_generation;
    m_timer.cancel();
}

std::chrono::nanoseconds IntervalTimer::remaining() const
{
    if (!m_armed)
        return std::chrono::nanoseconds(0);
    auto left = m_expiry - Clock::now();
    // An armed timer never reports zero left (Linux reports at least 1 ns).
    return std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(left), std::chrono::nanoseconds(1));
}

void IntervalTimer::wait()
{
    m_timer.expires_at(m_expiry);
    uint64_t gen = m_generation;
    io_started();
    std::weak_ptr<char> alive = m_alive;
    m_timer.async_wait([this, gen, alive](boost::system::error_code ec) {
        io_finished();
        if (ec || alive.expired() || gen != m_generation || !m_armed)
            return;
        uint64_t overruns = 0;
        if (m_interval.count() > 0) {
            auto now = Clock::now();
            m_expiry += m_interval;
            while (m_expiry <= now) {
                m_expiry += m_interval;
                ++overruns;
            }
            wait();
        } else {
            m_armed = false;
        }
        auto fire = m_fire; // firing may destroy this timer (exit_group)
        fire(overruns);
    });
}

CpuIntervalTimer::CpuIntervalTimer(CpuClock clock, Fire fire)
    : m_clock(std::move(clock))
    , m_fire(std::move(fire))
    , m_timer(event_loop())
{
}

CpuIntervalTimer::~CpuIntervalTimer() { m_timer.cancel(); }

void CpuIntervalTimer::arm(std::chrono::nanoseconds value, std::chrono::nanoseconds interval)
{
    m_target = m_clock() + value;
    m_interval = interval;
    m_armed = true;
    ++m_generation;
    schedule(value);
}

void CpuIntervalTimer::disarm(std::chrono::nanoseconds interval)
{
    m_armed = false;
    m_interval = interval;
    ++m_generation;
    m_timer.cancel();
}

std::chrono::nanoseconds CpuIntervalTimer::remaining() const
{
    if (!m_armed)
        return std::chrono::nanoseconds(0);
    return std::max(m_target - m_clock(), std::chrono::nanoseconds(1));
}

void CpuIntervalTimer::schedule(std::chrono::nanoseconds cpu_left)
{
    static const long ncpu = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    auto wait = std::max(cpu_left / ncpu, std::chrono::nanoseconds(std::chrono::milliseconds(1)));
    m_timer.expires_after(wait);
    uint64_t gen = m_generation;
    io_started();
    std::weak_ptr<char> alive = m_alive;
    m_timer.async_wait([this, gen, alive](boost::system::error_code ec) {
        io_finished();
        if (ec || alive.expired() || gen != m_generation || !m_armed)
            return;
        auto now = m_clock();
        if (now < m_target) {
            schedule(m_target - now);
            return;
        }
        if (m_interval.count() > 0) {
            while (m_target <= now)
                m_target += m_interval;
            schedule(m_target - now);
        } else {
            m_armed = false;
        }
        auto fire = m_fire; // firing may destroy this timer (exit_group)
        fire();
    });
}

} // namespace sentry::kernel
