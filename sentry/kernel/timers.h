#pragma once
// Interval timers of the emulated kernel: ITIMER_REAL/alarm and POSIX timers
// (timer_create). Each arms an Asio timer on the event loop; expiry calls back into
// the kernel, which queues the signal (Linux kernel/time/itimer.c, posix-timers.c).

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>

namespace sentry::kernel {

class IntervalTimer {
public:
    using Clock = std::chrono::steady_clock;
    using Fire = std::function<void(uint64_t overruns)>;

    explicit IntervalTimer(Fire fire);
    ~IntervalTimer();
    IntervalTimer(const IntervalTimer&) = delete;
    IntervalTimer& operator=(const IntervalTimer&) = delete;

    // value == 0 disarms. The first expiry is at `at`; then every `interval`.
    void arm(Clock::time_point at, std::chrono::nanoseconds interval);
    void disarm();
    bool armed() const { return m_armed; }
    // Time to the next expiry (0 if disarmed) and the interval.
    std::chrono::nanoseconds remaining() const;
    std::chrono::nanoseconds interval() const { return m_interval; }

private:
    void wait();

    Fire m_fire;
    boost::asio::steady_timer m_timer;
    Clock::time_point m_expiry{};
    std::chrono::nanoseconds m_interval{0};
    bool m_armed = false;
    uint64_t m_generation = 0;
};

} // namespace sentry::kernel
