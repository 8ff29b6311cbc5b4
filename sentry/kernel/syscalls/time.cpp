// Clocks, sleeps and resource usage. System clocks are the host's (the sandbox shares
// its time); CPU-time clocks and usage figures are those of the guest's own host
// process and threads, which the host kernel accounts. Sleeps never block the loop:
// they park the task with a deadline on the sentry's steady clock (CLOCK_MONOTONIC)
// and, when run again, compare the sleep's own clock with its target.

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "sentry/kernel/rusage.h"
#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

constexpr int64_t k_nsec_per_sec = 1000000000;
constexpr int k_max_clocks = 16; // Linux MAX_CLOCKS

// Linux include/linux/posix-timers.h: CPU clock ids of other processes and threads.
constexpr int k_cpuclock_sched = 2;
constexpr int k_cpuclock_max = 3;
constexpr int k_cpuclock_perthread = 4;
constexpr int k_clockfd = 3;
constexpr int k_clockfd_mask = 7;

constexpr clockid_t make_cpu_clock(pid_t host_id, bool thread, int which)
{
    return static_cast<clockid_t>((~static_cast<unsigned>(host_id) << 3) | (thread ? k_cpuclock_perthread : 0) |
        static_cast<unsigned>(which));
}

bool is_cpu_clock(clockid_t id) { return id < 0 || id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID; }

// Fields of /proc/<pid>/stat (or task/<tid>/stat), counted from 1 as proc(5) does.
Result<std::vector<std::string>> proc_stat(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
        return Errno(ESRCH);
    auto close = line.rfind(')');
    if (close == std::string::npos)
        return Errno(ESRCH);
    std::vector<std::string> f{"", line.substr(0, line.find(' ')), line.substr(line.find('(') + 1)};
    std::istringstream rest(line.substr(close + 2));
    std::string w;
    while (rest >> w)
        f.push_back(w);
    return f;
}

long field(const std::vector<std::string>& f, size_t i) { return i < f.size() ? std::stol(f[i]) : 0; }

int64_t ticks_to_ns(long ticks) { return ticks * (k_nsec_per_sec / sysconf(_SC_CLK_TCK)); }

// Where a guest clock's time comes from: a host clock the sentry reads itself, or
// the CPU time of one guest thread. The host lets a process read the CPU clocks of
// other processes but only of its own threads (Linux pid_for_clock() requires
// same_thread_group()), so a guest thread's clock comes from /proc: its runtime in
// schedstat is exact while the thread is stopped in its syscall.
struct ClockSource {
    ClockSource(clockid_t id) : host(id) {}
    ClockSource(pid_t pid, pid_t tid, int which) : host(CLOCK_THREAD_CPUTIME_ID), pid(pid), tid(tid), which(which) {}
    clockid_t host;
    pid_t pid = 0, tid = 0; // tid != 0: a guest thread's CPU clock
    int which = k_cpuclock_sched;
};

// The source of the guest's clock `id`: the same clock for system clocks, the
// guest's host process or thread for CPU-time clocks. Compare Linux
// kernel/time/posix-timers.c:clockid_to_kclock() and
// kernel/time/posix-cpu-timers.c:pid_for_clock().
Result<ClockSource> clock_source(Task& t, clockid_t id, bool gettime)
{
    pid_t host_pid = t.group().host_pid;
    if (id == CLOCK_PROCESS_CPUTIME_ID)
        return ClockSource(make_cpu_clock(host_pid, false, k_cpuclock_sched));
    if (id == CLOCK_THREAD_CPUTIME_ID)
        return ClockSource(host_pid, t.host_tid(), k_cpuclock_sched);
    if (id >= 0)
        return id < k_max_clocks ? Result<ClockSource>(ClockSource(id)) : Result<ClockSource>(Errno(EINVAL));
    if ((id & k_clockfd_mask) == k_clockfd)
        return Errno(EINVAL); // dynamic POSIX clocks (PTP devices) are not emulated
    int which = id & 3;
    bool thread = id & k_cpuclock_perthread;
    pid_t pid = static_cast<pid_t>(~(id >> 3));
    if (which >= k_cpuclock_max)
        return Errno(EINVAL);
    if (pid == 0)
        return thread ? ClockSource(host_pid, t.host_tid(), which) : ClockSource(make_cpu_clock(host_pid, false, which));
    if (thread) {
        Task* target = t.kernel().task_by_vtid(pid);
        if (!target || &target->group() != &t.group())
            return Errno(EINVAL);
        return ClockSource(host_pid, target->host_tid(), which);
    }
    if (gettime && pid == t.vtid())
        return ClockSource(make_cpu_clock(host_pid, false, which));
    auto g = t.kernel().group_by_vpid(pid);
    if (!g || g->zombie)
        return Errno(EINVAL);
    return ClockSource(make_cpu_clock(g->host_pid, false, which));
}

struct timespec from_ns(int64_t ns);

Result<struct timespec> read_clock(const ClockSource& c)
{
    if (c.tid) {
        std::string task = fmt::format("/proc/{}/task/{}", c.pid, c.tid);
        if (c.which == k_cpuclock_sched) {
            std::ifstream in(task + "/schedstat");
            int64_t runtime = 0;
            if (!(in >> runtime))
                return Errno(EINVAL);
            return from_ns(runtime);
        }
        // PROF (user + system) and VIRT (user) tick counts.
        auto f = TRY(proc_stat(task + "/stat"));
        long ticks = field(f, 14) + (c.which == 0 ? field(f, 15) : 0);
        return from_ns(ticks_to_ns(ticks));
    }
    struct timespec ts {};
    if (::clock_gettime(c.host, &ts) < 0)
        return Errno(errno);
    return ts;
}

// Nanoseconds of a timespec; seconds saturate at 200 years (a sleep that long is
// forever, and the sum must not overflow).
int64_t to_ns(const struct timespec& ts)
{
    constexpr int64_t k_max_sec = 200LL * 365 * 86400;
    return std::min<int64_t>(ts.tv_sec, k_max_sec) * k_nsec_per_sec + ts.tv_nsec;
}

struct timespec from_ns(int64_t ns)
{
    return {static_cast<time_t>(ns / k_nsec_per_sec), static_cast<long>(ns % k_nsec_per_sec)};
}

// Linux include/linux/time64.h:timespec64_valid().
bool timespec_valid(const struct timespec& ts)
{
    return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < k_nsec_per_sec;
}

Deadline steady_after(int64_t ns)
{
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(std::max<int64_t>(ns, 0));
}

// Park until `clock` reads at least `target` ns. A steady-clock deadline is only a
// guess for other clocks (REALTIME can be set, CPU clocks run at their own pace):
// the call is run again and compares the clock itself.
SyscallOutcome sleep_until(Task& t, const ClockSource& clock, int64_t target, bool cpu_clock)
{
    auto now = TRY(read_clock(clock));
    int64_t left = target - to_ns(now);
    if (left <= 0)
        return 0;
    if (cpu_clock) {
        // A process's CPU time advances at most one second per second per CPU.
        long cpus = std::max(sysconf(_SC_NPROCESSORS_ONLN), 1L);
        left = std::max<int64_t>(left / cpus, 1000000);
    }
    t.progress().deadline = steady_after(left);
    return SyscallOutcome::block({}, t.progress().deadline);
}

// The remaining time of an interrupted relative sleep goes to `rmtp`, and the call
// ends with ERESTART_RESTARTBLOCK. Compare Linux kernel/time/hrtimer.c:do_nanosleep().
void on_interrupt_write_rem(Task& t, const ClockSource& clock, int64_t target, uint64_t rmtp, bool cpu = false)
{
    t.progress().on_interrupt = [clock, target, rmtp, cpu](Task& task) -> long {
        // Without a handler (a stop and continue), restart_syscall sleeps on to the
        // same target (Linux hrtimer_nanosleep_restart()).
        task.m_restart_block = [clock, target, cpu](Task& again) -> SyscallOutcome {
            return sleep_until(again, clock, target, cpu);
        };
        if (rmtp) {
            auto now = read_clock(clock);
            int64_t left = now.is_error() ? 0 : target - to_ns(now.value());
            if (left <= 0)
                return 0;
            if (task.copy_out(rmtp, from_ns(left)).is_error())
                return -EFAULT;
        }
        return -k_ERESTART_RESTARTBLOCK;
    };
}

// Compare Linux kernel/time/posix-timers.c: clock_nanosleep, common_nsleep(),
// kernel/time/alarmtimer.c:alarm_timer_nsleep() and
// kernel/time/posix-cpu-timers.c:posix_cpu_nsleep().
SyscallOutcome do_clock_nanosleep(Task& t, clockid_t id, int flags, uint64_t rqtp, uint64_t rmtp)
{
    // Which clocks exist, and which of them can be slept on.
    bool cpu = is_cpu_clock(id);
    if (id < 0) {
        if ((id & k_clockfd_mask) == k_clockfd)
            return Errno(EOPNOTSUPP); // dynamic POSIX clocks have no nsleep
    } else {
        switch (id) {
        case CLOCK_REALTIME:
        case CLOCK_MONOTONIC:
        case CLOCK_BOOTTIME:
        case CLOCK_TAI:
        case CLOCK_REALTIME_ALARM:
        case CLOCK_BOOTTIME_ALARM:
        case CLOCK_PROCESS_CPUTIME_ID:
            break;
        case CLOCK_THREAD_CPUTIME_ID:
        case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE:
        case CLOCK_MONOTONIC_COARSE:
            return Errno(EOPNOTSUPP);
        default:
            return Errno(EINVAL);
        }
    }
    auto req = TRY(t.copy_in<struct timespec>(rqtp));
    if (!timespec_valid(req))
        return Errno(EINVAL);
    bool abs = flags & TIMER_ABSTIME;
    ClockSource clock(id);
    if (id == CLOCK_REALTIME_ALARM || id == CLOCK_BOOTTIME_ALARM) {
        // Alarm clocks need an RTC on the host; then they sleep like their base clock.
        if (read_clock(id).is_error())
            return Errno(EOPNOTSUPP);
        if (flags & ~TIMER_ABSTIME)
            return Errno(EINVAL);
        clock = id == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
    } else if (cpu) {
        pid_t pid = static_cast<pid_t>(~(id >> 3));
        if (id < 0 && (id & k_cpuclock_perthread) && (pid == 0 || pid == t.vtid()))
            return Errno(EINVAL);
        clock = TRY(clock_source(t, id, false));
    }
    // Relative REALTIME sleeps run on MONOTONIC (Linux hrtimer_init()).
    if (!abs && (clock.host == CLOCK_REALTIME || clock.host == CLOCK_TAI))
        clock = ClockSource(CLOCK_MONOTONIC);
    auto& p = t.progress();
    if (!p.started) {
        p.started = true;
        int64_t target = to_ns(req);
        if (!abs)
            target += to_ns(TRY(read_clock(clock)));
        p.done = static_cast<size_t>(target);
    }
    int64_t target = static_cast<int64_t>(p.done);
    if (abs)
        p.on_interrupt = [](Task&) -> long { return -k_ERESTARTNOHAND; };
    else
        on_interrupt_write_rem(t, clock, target, rmtp, cpu);
    return sleep_until(t, clock, target, cpu);
}

// A "Key:  value" line of /proc/<pid>/status.
long status_value(const std::string& path, std::string_view key)
{
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':')
            return std::atol(line.c_str() + key.size() + 1);
    return 0;
}

clock_t timeval_to_ticks(const struct timeval& tv)
{
    long hz = sysconf(_SC_CLK_TCK);
    return static_cast<clock_t>(tv.tv_sec * hz + tv.tv_usec / (1000000 / hz));
}

struct timeval ns_to_timeval(int64_t ns)
{
    return {static_cast<time_t>(ns / k_nsec_per_sec), static_cast<suseconds_t>((ns % k_nsec_per_sec) / 1000)};
}

} // namespace

// Usage of the guest's host process (or one of its threads). The host's precise
// runtime is split between user and system time in the ratio of the tick counts,
// as Linux kernel/sched/cputime.c:cputime_adjust() does.
Result<struct rusage> host_rusage(ThreadGroup& g, Task* thread)
{
    std::string dir = thread ? fmt::format("/proc/{}/task/{}", g.host_pid, thread->host_tid())
                             : fmt::format("/proc/{}", g.host_pid);
    auto f = TRY(proc_stat(dir + "/stat"));
    struct rusage ru {};
    long uticks = field(f, 14), sticks = field(f, 15);
    auto total = read_clock(thread ? ClockSource(g.host_pid, thread->host_tid(), k_cpuclock_sched)
                                   : ClockSource(make_cpu_clock(g.host_pid, false, k_cpuclock_sched)));
    int64_t rtime = total.is_error() ? ticks_to_ns(uticks + sticks) : to_ns(total.value());
    int64_t stime = 0, utime = rtime;
    if (uticks + sticks > 0) {
        stime = static_cast<int64_t>(static_cast<__int128>(rtime) * sticks / (uticks + sticks));
        utime = rtime - stime;
    }
    ru.ru_utime = ns_to_timeval(utime);
    ru.ru_stime = ns_to_timeval(stime);
    ru.ru_minflt = field(f, 10);
    ru.ru_majflt = field(f, 12);
    ru.ru_maxrss = status_value(fmt::format("/proc/{}/status", g.host_pid), "VmHWM");
    if (thread) {
        ru.ru_nvcsw = status_value(dir + "/status", "voluntary_ctxt_switches");
        ru.ru_nivcsw = status_value(dir + "/status", "nonvoluntary_ctxt_switches");
    } else {
        for (Task* o : g.tasks) {
            auto st = fmt::format("/proc/{}/task/{}/status", g.host_pid, o->host_tid());
            ru.ru_nvcsw += status_value(st, "voluntary_ctxt_switches");
            ru.ru_nivcsw += status_value(st, "nonvoluntary_ctxt_switches");
        }
        // What the host reported at the exits of its threads so far: the switches
        // of threads that are gone, the peak of an address space replaced by execve.
        rusage_merge_report(ru, g.self_usage);
    }
    return ru;
}

// Compare Linux kernel/time/posix-timers.c: clock_gettime.
SENTRY_SYSCALL(clock_gettime)
{
    auto clock = TRY(clock_source(t, args.as_int(0), true));
    auto ts = TRY(read_clock(clock));
    TRY(t.copy_out(args.arg(1), ts));
    return 0;
}

SENTRY_SYSCALL(clock_getres)
{
    auto clock = TRY(clock_source(t, args.as_int(0), false));
    struct timespec ts {};
    // A thread's CPU clock has the resolution of the sentry's own.
    if (::clock_getres(clock.host, &ts) < 0)
        return Errno(errno);
    if (args.arg(1))
        TRY(t.copy_out(args.arg(1), ts));
    return 0;
}

// Compare Linux kernel/time/time.c: gettimeofday.
SENTRY_SYSCALL(gettimeofday)
{
    struct timeval tv {};
    struct timezone tz {};
    ::gettimeofday(&tv, &tz);
    if (args.arg(0))
        TRY(t.copy_out(args.arg(0), tv));
    if (args.arg(1))
        TRY(t.copy_out(args.arg(1), tz));
    return 0;
}

SENTRY_SYSCALL(time)
{
    time_t now = ::time(nullptr);
    if (args.arg(0))
        TRY(t.copy_out(args.arg(0), now));
    return now;
}

// Compare Linux kernel/time/hrtimer.c: nanosleep (a relative CLOCK_MONOTONIC sleep).
SENTRY_SYSCALL(nanosleep)
{
    auto req = TRY(t.copy_in<struct timespec>(args.arg(0)));
    if (!timespec_valid(req))
        return Errno(EINVAL);
    auto& p = t.progress();
    if (!p.started) {
        p.started = true;
        p.done = static_cast<size_t>(to_ns(TRY(read_clock(CLOCK_MONOTONIC))) + to_ns(req));
    }
    int64_t target = static_cast<int64_t>(p.done);
    on_interrupt_write_rem(t, CLOCK_MONOTONIC, target, args.arg(1));
    return sleep_until(t, CLOCK_MONOTONIC, target, false);
}

SENTRY_SYSCALL(clock_nanosleep)
{
    return do_clock_nanosleep(t, args.as_int(0), args.as_int(1), args.arg(2), args.arg(3));
}

// Compare Linux kernel/sys.c: times. The return value is the host's clock ticks
// since boot (jiffies-based, as Linux reports it).
SENTRY_SYSCALL(times)
{
    if (args.arg(0)) {
        auto& g = t.group();
        auto f = TRY(proc_stat(fmt::format("/proc/{}/stat", g.host_pid)));
        struct tms tms {};
        tms.tms_utime = field(f, 14);
        tms.tms_stime = field(f, 15);
        // The host never sees the guest's waits: its children's times are ours.
        tms.tms_cutime = timeval_to_ticks(g.children_usage.ru_utime);
        tms.tms_cstime = timeval_to_ticks(g.children_usage.ru_stime);
        TRY(t.copy_out(args.arg(0), tms));
    }
    return syscall(SYS_times, nullptr);
}

// Compare Linux kernel/sys.c: getrusage.
SENTRY_SYSCALL(getrusage)
{
    int who = args.as_int(0);
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return Errno(EINVAL);
    struct rusage ru {};
    if (who == RUSAGE_CHILDREN)
        ru = t.group().children_usage;
    else
        ru = TRY(host_rusage(t.group(), who == RUSAGE_THREAD ? &t : nullptr));
    TRY(t.copy_out(args.arg(1), ru));
    return 0;
}

SENTRY_SYSCALL(sysinfo)
{
    struct sysinfo si {};
    if (::sysinfo(&si) < 0)
        return Errno(errno);
    // The guest counts its own sandbox's tasks, not the host's.
    unsigned n = 0;
    for (auto& [vpid, w] : t.kernel().groups())
        if (auto g = w.lock())
            n += static_cast<unsigned>(g->tasks.size());
    si.procs = static_cast<unsigned short>(n);
    TRY(t.copy_out(args.arg(0), si));
    return 0;
}

} // namespace sentry::kernel
