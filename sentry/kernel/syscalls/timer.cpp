// Timers that raise signals: alarm, setitimer/getitimer (ITIMER_REAL) and POSIX
// timers (timer_create and friends) with SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE.

#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

using std::chrono::nanoseconds;
using Clock = IntervalTimer::Clock;

constexpr int k_sigev_signal = 0;
constexpr int k_sigev_none = 1;
constexpr int k_sigev_thread_id = 4;
constexpr int k_max_timers = 4096;

struct KernelSigevent {
    uint64_t value;
    int32_t signo;
    int32_t notify;
    int32_t tid;
    int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == 64);

nanoseconds from_timeval(const timeval& tv) { return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec); }
nanoseconds from_timespec(const timespec& ts) { return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec); }

timeval to_timeval(nanoseconds ns)
{
    // Round up to whole microseconds, as Linux does for a running timer.
    auto us = (ns.count() + 999) / 1000;
    return timeval{us / 1000000, us % 1000000};
}

timespec to_timespec(nanoseconds ns) { return timespec{ns.count() / 1000000000, ns.count() % 1000000000}; }

IntervalTimer& real_timer(Task& t)
{
    auto& g = t.group();
    if (!g.itimer_real) {
        std::weak_ptr<ThreadGroup> wg = t.group_ref();
        Kernel* k = &t.kernel();
        g.itimer_real = std::make_unique<IntervalTimer>([wg, k](uint64_t) {
            if (auto gp = wg.lock())
                (void)k->send_signal(*gp, signals::make_siginfo(SIGALRM, SI_KERNEL));
        });
    }
    return *g.itimer_real;
}

itimerval get_real(Task& t)
{
    itimerval v{};
    if (t.group().itimer_real) {
        v.it_value = to_timeval(t.group().itimer_real->remaining());
        v.it_interval = to_timeval(t.group().itimer_real->interval());
    }
    return v;
}

void set_real(Task& t, const itimerval& v)
{
    auto value = from_timeval(v.it_value);
    auto& timer = real_timer(t);
    if (value.count() == 0)
        timer.disarm(from_timeval(v.it_interval));
    else
        timer.arm(Clock::now() + value, from_timeval(v.it_interval));
}

// Steady-clock time of an expiry given on `clock` (absolute if `abstime`).
Result<Clock::time_point> expiry_on(clockid_t clock, const timespec& ts, bool abstime)
{
    auto d = from_timespec(ts);
    if (!abstime)
        return Clock::now() + d;
    timespec now{};
    if (clock_gettime(clock, &now) < 0)
        return Errno(EINVAL);
    auto left = d - from_timespec(now);
    // A time already past fires at once.
    return Clock::now() + std::max(left, nanoseconds(0));
}

bool valid_timespec(const timespec& ts) { return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L; }

} // namespace

SENTRY_SYSCALL(alarm)
{
    itimerval old = get_real(t);
    itimerval nv{};
    nv.it_value.tv_sec = static_cast<time_t>(args.as_uint(0));
    set_real(t, nv);
    // Compare Linux alarm_setitimer(): round to the nearest second, never report 0
    // for a timer that was still running.
    unsigned long secs = static_cast<unsigned long>(old.it_value.tv_sec);
    if ((!secs && old.it_value.tv_usec) || old.it_value.tv_usec >= 500000)
        ++secs;
    return static_cast<long>(secs);
}

// The guest's CPU clocks, read on the host (Linux MAKE_PROCESS_CPUCLOCK: PROF = user
// + system, VIRT = user only).
static std::chrono::nanoseconds process_cpu_time(pid_t host_pid, int which_clock)
{
    clockid_t id = static_cast<clockid_t>((~static_cast<unsigned>(host_pid) << 3) | static_cast<unsigned>(which_clock));
    timespec ts{};
    if (clock_gettime(id, &ts) < 0)
        return std::chrono::nanoseconds(0);
    return from_timespec(ts);
}

static std::unique_ptr<CpuIntervalTimer>& cpu_timer_slot(Task& t, int which)
{
    auto& g = t.group();
    auto& slot = which == ITIMER_VIRTUAL ? g.itimer_virtual : g.itimer_prof;
    if (!slot) {
        std::weak_ptr<ThreadGroup> wg = t.group_ref();
        Kernel* k = &t.kernel();
        pid_t host_pid = g.host_pid;
        int clock = which == ITIMER_VIRTUAL ? 1 /* CPUCLOCK_VIRT */ : 0 /* CPUCLOCK_PROF */;
        int sig = which == ITIMER_VIRTUAL ? SIGVTALRM : SIGPROF;
        slot = std::make_unique<CpuIntervalTimer>([host_pid, clock] { return process_cpu_time(host_pid, clock); },
            [wg, k, sig] {
                if (auto gp = wg.lock())
                    (void)k->send_signal(*gp, signals::make_siginfo(sig, SI_KERNEL));
            });
    }
    return slot;
}

static Result<itimerval> get_itimer(Task& t, int which)
{
    itimerval v{};
    switch (which) {
    case ITIMER_REAL:
        return get_real(t);
    case ITIMER_VIRTUAL:
    case ITIMER_PROF: {
        auto& slot = which == ITIMER_VIRTUAL ? t.group().itimer_virtual : t.group().itimer_prof;
        if (slot) {
            v.it_value = to_timeval(slot->remaining());
            v.it_interval = to_timeval(slot->interval());
        }
        return v;
    }
    default:
        return Errno(EINVAL);
    }
}

SENTRY_SYSCALL(getitimer)
{
    auto v = TRY(get_itimer(t, args.as_int(0)));
    TRY(t.copy_out(args.arg(1), v));
    return 0;
}

SENTRY_SYSCALL(setitimer)
{
    int which = args.as_int(0);
    auto old = TRY(get_itimer(t, which));
    itimerval nv{};
    if (args.arg(1)) {
        nv = TRY(t.copy_in<itimerval>(args.arg(1)));
        if (nv.it_value.tv_usec < 0 || nv.it_value.tv_usec >= 1000000 || nv.it_interval.tv_usec < 0 ||
            nv.it_interval.tv_usec >= 1000000)
            return Errno(EINVAL);
    }
    if (args.arg(2))
        TRY(t.copy_out(args.arg(2), old));
    if (which == ITIMER_REAL) {
        set_real(t, nv);
        return 0;
    }
    auto& slot = cpu_timer_slot(t, which);
    auto value = from_timeval(nv.it_value);
    if (value.count() == 0)
        slot->disarm(from_timeval(nv.it_interval));
    else
        slot->arm(value, from_timeval(nv.it_interval));
    return 0;
}

// Compare Linux kernel/time/posix-timers.c:do_timer_create().
SENTRY_SYSCALL(timer_create)
{
    clockid_t clock = args.as_int(0);
    // CPU clocks: CLOCK_PROCESS/THREAD_CPUTIME_ID, or as glibc passes them, Linux's
    // encoded ids: ~pid << 3 | type (0 PROF, 1 VIRT, 2 SCHED) | 4 for a thread.
    bool cpu = clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID || clock < 0;
    bool cpu_thread = clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4));
    int cpu_type = clock < 0 ? (clock & 3) : 2;
    Task* cpu_task = &t;
    if (clock < 0) {
        pid_t who = ~(clock >> 3);
        if (cpu_type == 3)
            return Errno(EINVAL);
        if (who != 0) {
            cpu_task = t.kernel().task_by_vtid(who);
            if (!cpu_task || (cpu_thread ? &cpu_task->group() != &t.group() : cpu_task->group().vpid != who))
                return Errno(EINVAL);
        }
    }
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME && clock != CLOCK_TAI && !cpu)
        return Errno(EINVAL);
    auto& g = t.group();
    if (g.posix_timers.size() >= k_max_timers)
        return Errno(EAGAIN);
    int id = 0;
    while (g.posix_timers.count(id))
        ++id;
    auto pt = std::make_unique<PosixTimer>();
    pt->id = id;
    pt->clock = clock;
    if (args.arg(1)) {
        auto ev = TRY(t.copy_in<KernelSigevent>(args.arg(1)));
        int notify = ev.notify & ~k_sigev_thread_id;
        bool thread_id = ev.notify & k_sigev_thread_id;
        if (ev.notify != k_sigev_none && notify != k_sigev_signal)
            return Errno(EINVAL);
        if (ev.notify != k_sigev_none && !signals::Signal::from_raw(ev.signo))
            return Errno(EINVAL);
        if (thread_id) {
            Task* target = t.kernel().task_by_vtid(ev.tid);
            if (!target || &target->group() != &g)
                return Errno(EINVAL);
        }
        pt->notify = ev.notify;
        pt->signo = ev.signo;
        pt->value = ev.value;
        pt->target_tid = ev.tid;
    } else {
        pt->notify = k_sigev_signal;
        pt->signo = SIGALRM;
        pt->value = static_cast<uint64_t>(id);
    }
    TRY(t.copy_out(args.arg(2), id));
    std::weak_ptr<ThreadGroup> wg = t.group_ref();
    Kernel* k = &t.kernel();
    PosixTimer* raw = pt.get();
    static uint32_t next_cookie = 0;
    pt->cookie = ++next_cookie;
    auto fire = [wg, k, raw](uint64_t overruns) {
        auto gp = wg.lock();
        if (!gp || raw->notify == k_sigev_none)
            return;
        // One siginfo per timer: while it is queued, expiries only count as
        // overruns (Linux posix_timer_queue_signal()).
        if (raw->pending) {
            raw->overrun += 1 + overruns;
            return;
        }
        raw->overrun += overruns;
        auto info = signals::make_siginfo(raw->signo, SI_TIMER);
        info.pad0 = static_cast<int32_t>(raw->cookie);
        info.u.timer.tid = raw->id;
        info.u.timer.value = raw->value;
        // Marked before sending: delivery may take the signal (and clear the mark)
        // before send_signal returns.
        raw->pending = !gp->sighand->ignores(raw->signo);
        bool queued = false;
        if (raw->notify & k_sigev_thread_id) {
            if (Task* target = k->task_by_vtid(raw->target_tid); target && &target->group() == gp.get())
                queued = k->send_signal(*target, info);
        } else {
            queued = k->send_signal(*gp, info);
        }
        if (!queued)
            raw->pending = false;
    };
    if (cpu) {
        // The guest's CPU clocks, kept by the host: the process's, or the creating
        // thread's (from its schedstat: threads of another process have no clock id
        // the sentry may read).
        pid_t host_pid = cpu_task->group().host_pid, host_tid = cpu_task->host_tid();
        CpuIntervalTimer::CpuClock cpu_clock;
        if (!cpu_thread)
            cpu_clock = [host_pid, cpu_type] { return process_cpu_time(host_pid, cpu_type); };
        else
            cpu_clock = [host_pid, host_tid] {
                unsigned long long ns = 0;
                if (FILE* f = fopen(fmt::format("/proc/{}/task/{}/schedstat", host_pid, host_tid).c_str(), "r")) {
                    if (fscanf(f, "%llu", &ns) != 1)
                        ns = 0;
                    fclose(f);
                }
                return nanoseconds(ns);
            };
        pt->cpu_timer = std::make_unique<CpuIntervalTimer>(cpu_clock, [fire] { fire(0); });
    } else {
        pt->timer = std::make_unique<IntervalTimer>(fire);
    }
    g.posix_timers[id] = std::move(pt);
    return 0;
}

static itimerspec current_setting(PosixTimer& pt)
{
    if (pt.cpu_timer)
        return {to_timespec(pt.cpu_timer->interval()), to_timespec(pt.cpu_timer->remaining())};
    return {to_timespec(pt.timer->interval()), to_timespec(pt.timer->remaining())};
}

static Result<PosixTimer*> find_timer(Task& t, int id)
{
    auto it = t.group().posix_timers.find(id);
    if (it == t.group().posix_timers.end())
        return Errno(EINVAL);
    return it->second.get();
}

SENTRY_SYSCALL(timer_settime)
{
    auto* pt = TRY(find_timer(t, args.as_int(0)));
    int flags = args.as_int(1);
    auto nv = TRY(t.copy_in<itimerspec>(args.arg(2)));
    if (!valid_timespec(nv.it_value) || !valid_timespec(nv.it_interval))
        return Errno(EINVAL);
    if (args.arg(3))
        TRY(t.copy_out(args.arg(3), current_setting(*pt)));
    if (nv.it_value.tv_sec == 0 && nv.it_value.tv_nsec == 0) {
        if (pt->cpu_timer)
            pt->cpu_timer->disarm(from_timespec(nv.it_interval));
        else
            pt->timer->disarm(from_timespec(nv.it_interval));
        return 0;
    }
    pt->overrun = 0;
    if (pt->cpu_timer) {
        auto value = from_timespec(nv.it_value);
        if (flags & TIMER_ABSTIME) {
            // Absolute on a CPU clock: what is left of it now.
            auto left = value - pt->cpu_timer->now();
            value = std::max(left, nanoseconds(1));
        }
        pt->cpu_timer->arm(value, from_timespec(nv.it_interval));
        return 0;
    }
    auto at = TRY(expiry_on(pt->clock, nv.it_value, flags & TIMER_ABSTIME));
    pt->timer->arm(at, from_timespec(nv.it_interval));
    return 0;
}

SENTRY_SYSCALL(timer_gettime)
{
    auto* pt = TRY(find_timer(t, args.as_int(0)));
    itimerspec cur = current_setting(*pt);
    TRY(t.copy_out(args.arg(1), cur));
    return 0;
}

SENTRY_SYSCALL(timer_getoverrun)
{
    auto* pt = TRY(find_timer(t, args.as_int(0)));
    return static_cast<long>(std::min<uint64_t>(pt->last_overrun, INT32_MAX));
}

SENTRY_SYSCALL(timer_delete)
{
    TRY(find_timer(t, args.as_int(0)));
    t.group().posix_timers.erase(args.as_int(0));
    return 0;
}

} // namespace sentry::kernel
