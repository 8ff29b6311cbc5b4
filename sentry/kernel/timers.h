#pragma once
// Interval timers of the emulated kernel: ITIMER_REAL/alarm and POSIX timers
// (timer_create). Each arms an Asio timer on the event loop; expiry calls back into
// the kernel, which queues the signal (Linux kernel/time/itimer.c, posix-timers.c).

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

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
    // Stop it; the interval reported afterwards is `interval` (Linux keeps the
    // increment a disarming setitimer passes).
    void disarm(std::chrono::nanoseconds interval = std::chrono::nanoseconds(0));
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
    std::shared_ptr<char> m_alive = std::make_shared<char>(0);
};

// An interval timer that counts a process's CPU time (ITIMER_VIRTUAL: user time,
// ITIMER_PROF: user + system). The host keeps the guest's CPU clocks; the sentry
// checks them no earlier than the CPU time left could possibly have been used
// (wall time left divided by the number of CPUs) and fires once it has.
class CpuIntervalTimer {
public:
    using Fire = std::function<void()>;
    using CpuClock = std::function<std::chrono::nanoseconds()>;

    CpuIntervalTimer(CpuClock clock, Fire fire);
    ~CpuIntervalTimer();
    CpuIntervalTimer(const CpuIntervalTimer&) = delete;
    CpuIntervalTimer& operator=(const CpuIntervalTimer&) = delete;

    void arm(std::chrono::nanoseconds value, std::chrono::nanoseconds interval);
    void disarm(std::chrono::nanoseconds interval = std::chrono::nanoseconds(0));
    std::chrono::nanoseconds remaining() const;
    std::chrono::nanoseconds interval() const { return m_interval; }

    std::chrono::nanoseconds now() const { return m_clock(); }

private:
    void schedule(std::chrono::nanoseconds cpu_left);

    CpuClock m_clock;
    Fire m_fire;
    boost::asio::steady_timer m_timer;
    std::chrono::nanoseconds m_target{0};
    std::chrono::nanoseconds m_interval{0};
    bool m_armed = false;
    uint64_t m_generation = 0;
    // Completions already queued when the timer is destroyed see this expire.
    std::shared_ptr<char> m_alive = std::make_shared<char>(0);
};

} // namespace sentry::kernel
