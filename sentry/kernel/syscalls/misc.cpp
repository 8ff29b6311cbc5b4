// Randomness, resource limits and scheduling. Limits live in the emulated thread
// group (the sentry enforces those it implements: RLIMIT_NOFILE ...); the ones only
// the host can enforce on the guest's address space and CPU time are also set on the
// guest's host process, by injecting prlimit64. Scheduling calls act on the guest's
// own host threads, which the host schedules.

#include <linux/capability.h>
#include <linux/random.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <string>
#include <vector>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

bool is_error_return(long r) { return r < 0 && r > -4096; }

// Linux caps one transfer at MAX_RW_COUNT (INT_MAX rounded down to a page).
constexpr size_t k_max_rw = INT_MAX & ~4095UL;
constexpr size_t k_random_chunk = 1 << 16;

// Whether the sentry (whose credentials the guest has) holds `cap` in its
// effective set.
bool capable(int cap)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    return data[cap / 32].effective & (1u << (cap % 32));
}

long read_long_file(const char* path, long fallback)
{
    std::ifstream in(path);
    long v = fallback;
    if (in)
        in >> v;
    return v;
}

// Limits the host must enforce on the guest's host process: address space, stack,
// locked memory and core size are the host's mm's business, CPU time its scheduler's.
bool host_enforced(unsigned resource)
{
    switch (resource) {
    case RLIMIT_AS:
    case RLIMIT_DATA:
    case RLIMIT_STACK:
    case RLIMIT_MEMLOCK:
    case RLIMIT_CORE:
    case RLIMIT_CPU:
        return true;
    default:
        return false;
    }
}

// Compare Linux kernel/sys.c:do_prlimit(). `target` is the thread group whose limit
// is read and/or set; the old value is written to `old_addr` after the new one is set,
// as Linux does (an EFAULT there leaves the new limit in place).
SyscallOutcome do_prlimit(Task& t, std::shared_ptr<ThreadGroup> target, unsigned resource,
                          std::optional<struct rlimit> new_lim, uint64_t old_addr)
{
    if (resource >= RLIM_NLIMITS)
        return Errno(EINVAL);
    if (new_lim) {
        if (new_lim->rlim_cur > new_lim->rlim_max)
            return Errno(EINVAL);
        if (resource == RLIMIT_NOFILE &&
            new_lim->rlim_max > static_cast<rlim_t>(read_long_file("/proc/sys/fs/nr_open", 1048576)))
            return Errno(EPERM);
        if (new_lim->rlim_max > target->rlimits[resource].rlim_max && !capable(CAP_SYS_RESOURCE))
            return Errno(EPERM);
    }
    auto finish = [target, resource, new_lim, old_addr](Task& task) -> SyscallOutcome {
        struct rlimit old = target->rlimits[resource];
        if (new_lim)
            target->rlimits[resource] = *new_lim;
        if (old_addr)
            TRY(task.copy_out(old_addr, old));
        return 0;
    };
    if (!new_lim || !host_enforced(resource) || target->zombie || target->exiting)
        return finish(t);
    // The host's own limit on the guest's host process, set by the guest thread.
    uint64_t host_pid = target.get() == &t.group() ? 0 : static_cast<uint64_t>(target->host_pid);
    std::string data(reinterpret_cast<const char*>(&*new_lim), sizeof(struct rlimit));
    return t.kernel().with_scratch(t, data, [=](Task&, uint64_t addr) -> SyscallOutcome {
        return SyscallOutcome::inject(SYS_prlimit64, {host_pid, resource, addr, 0, 0, 0},
            [finish](Task& task, long r) -> SyscallOutcome {
                if (is_error_return(r))
                    return r;
                return finish(task);
            });
    });
}

// The guest task a scheduling call names (0: the caller). Compare Linux
// kernel/sched/syscalls.c:find_process_by_pid(): any thread id.
Task* find_task(Task& t, pid_t pid) { return pid == 0 ? &t : t.kernel().task_by_vtid(pid); }

// nr_cpu_ids of the host: one more than the highest possible CPU.
unsigned nr_cpu_ids()
{
    static unsigned n = [] {
        std::ifstream in("/sys/devices/system/cpu/possible");
        std::string s;
        unsigned hi = 0;
        if (in >> s) {
            auto pos = s.find_last_of("-,");
            hi = static_cast<unsigned>(std::stoul(pos == std::string::npos ? s : s.substr(pos + 1)));
        }
        return hi + 1;
    }();
    return n;
}

// Linux include/uapi/linux/sched.h.
constexpr int k_sched_deadline = 6;
constexpr int k_sched_ext = 7;

bool rt_policy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

// Which host threads a getpriority/setpriority (which, who) names. Compare Linux
// kernel/sys.c: setpriority.
std::vector<pid_t> priority_targets(Task& t, int which, int who)
{
    std::vector<pid_t> out;
    auto& k = t.kernel();
    switch (which) {
    case PRIO_PROCESS:
        if (Task* p = find_task(t, who))
            out.push_back(p->host_tid());
        break;
    case PRIO_PGRP: {
        pid_t pgid = who ? who : t.group().pgid;
        for (auto& [vpid, w] : k.groups())
            if (auto g = w.lock(); g && !g->zombie && g->pgid == pgid)
                for (Task* p : g->tasks)
                    out.push_back(p->host_tid());
        break;
    }
    case PRIO_USER:
        // Every guest runs as the sentry's user.
        if (who == 0 || static_cast<uid_t>(who) == getuid())
            for (auto& [vpid, w] : k.groups())
                if (auto g = w.lock(); g && !g->zombie)
                    for (Task* p : g->tasks)
                        out.push_back(p->host_tid());
        break;
    }
    return out;
}

} // namespace

// Compare Linux drivers/char/random.c: getrandom.
SENTRY_SYSCALL(getrandom)
{
    uint64_t buf = args.arg(0);
    size_t len = std::min<size_t>(args.arg(1), k_max_rw);
    unsigned flags = args.as_uint(2);
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return Errno(EINVAL);
    if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM))
        return Errno(EINVAL);
    std::vector<char> chunk(std::min(len, k_random_chunk));
    size_t done = 0;
    while (done < len) {
        size_t n = std::min(len - done, chunk.size());
        // The host's pool is initialized long before the sandbox runs: never blocks.
        ssize_t got = ::getrandom(chunk.data(), n, (flags & GRND_INSECURE) | GRND_NONBLOCK);
        if (got < 0)
            return done ? SyscallOutcome(done) : SyscallOutcome(Errno(errno));
        if (t.copy_out(buf + done, chunk.data(), static_cast<size_t>(got)).is_error())
            return done ? SyscallOutcome(done) : SyscallOutcome(Errno(EFAULT));
        done += static_cast<size_t>(got);
    }
    return done;
}

// Compare Linux kernel/sys.c: prlimit64.
SENTRY_SYSCALL(prlimit64)
{
    pid_t pid = args.as_int(0);
    unsigned resource = args.as_uint(1);
    std::optional<struct rlimit> new_lim;
    if (args.arg(2))
        new_lim = TRY(t.copy_in<struct rlimit>(args.arg(2)));
    std::shared_ptr<ThreadGroup> target;
    if (pid == 0) {
        target = t.group_ref();
    } else {
        Task* p = t.kernel().task_by_vtid(pid);
        if (!p)
            return Errno(ESRCH);
        target = p->group_ref();
    }
    return do_prlimit(t, target, resource, new_lim, args.arg(3));
}

// Compare Linux kernel/sys.c: getrlimit.
SENTRY_SYSCALL(getrlimit)
{
    unsigned resource = args.as_uint(0);
    if (resource >= RLIM_NLIMITS)
        return Errno(EINVAL);
    TRY(t.copy_out(args.arg(1), t.group().rlimits[resource]));
    return 0;
}

// Compare Linux kernel/sys.c: setrlimit.
SENTRY_SYSCALL(setrlimit)
{
    auto lim = TRY(t.copy_in<struct rlimit>(args.arg(1)));
    return do_prlimit(t, t.group_ref(), args.as_uint(0), lim, 0);
}

// Compare Linux kernel/sched/syscalls.c: sched_getaffinity. The mask is the guest
// thread's own on the host.
SENTRY_SYSCALL(sched_getaffinity)
{
    pid_t pid = args.as_int(0);
    unsigned len = args.as_uint(1);
    if (static_cast<unsigned>(len * 8u) < nr_cpu_ids())
        return Errno(EINVAL);
    if (len & (sizeof(long) - 1))
        return Errno(EINVAL);
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    // cpumask_size() is far below this; the host reports how much it filled.
    std::vector<char> mask(std::min<size_t>(len, 8192));
    long n = syscall(SYS_sched_getaffinity, target->host_tid(), mask.size(), mask.data());
    if (n < 0)
        return Errno(errno);
    TRY(t.copy_out(args.arg(2), mask.data(), static_cast<size_t>(n)));
    return n;
}

// Compare Linux kernel/sched/syscalls.c: sched_setaffinity: applied to the guest's
// host thread.
SENTRY_SYSCALL(sched_setaffinity)
{
    pid_t pid = args.as_int(0);
    size_t len = args.as_uint(1);
    size_t mask_size = (nr_cpu_ids() + 63) / 64 * sizeof(long);
    std::vector<char> mask(mask_size, 0);
    TRY(t.copy_in(args.arg(2), mask.data(), std::min(len, mask_size)));
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    if (syscall(SYS_sched_setaffinity, target->host_tid(), mask.size(), mask.data()) < 0)
        return Errno(errno);
    return 0;
}

SENTRY_SYSCALL(sched_yield)
{
    (void)t, (void)args;
    return 0;
}

// Compare Linux kernel/sched/syscalls.c: sched_getscheduler.
SENTRY_SYSCALL(sched_getscheduler)
{
    pid_t pid = args.as_int(0);
    if (pid < 0)
        return Errno(EINVAL);
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    long r = syscall(SYS_sched_getscheduler, target->host_tid());
    return r < 0 ? SyscallOutcome(Errno(errno)) : SyscallOutcome(r);
}

SENTRY_SYSCALL(sched_getparam)
{
    pid_t pid = args.as_int(0);
    if (!args.arg(1) || pid < 0)
        return Errno(EINVAL);
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    struct sched_param sp {};
    if (syscall(SYS_sched_getparam, target->host_tid(), &sp) < 0)
        return Errno(errno);
    TRY(t.copy_out(args.arg(1), sp));
    return 0;
}

// Compare Linux kernel/sched/syscalls.c:do_sched_setscheduler() and
// __sched_setscheduler(). Real-time policies are refused as for a process without
// CAP_SYS_NICE and RLIMIT_RTPRIO; the others are applied to the guest's host thread.
static SyscallOutcome do_sched_setscheduler(Task& t, pid_t pid, int policy, uint64_t param_addr)
{
    if (!param_addr || pid < 0)
        return Errno(EINVAL);
    auto sp = TRY(t.copy_in<struct sched_param>(param_addr));
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    if (policy >= 0) {
        int p = policy & ~SCHED_RESET_ON_FORK;
        if (p != SCHED_OTHER && p != SCHED_FIFO && p != SCHED_RR && p != SCHED_BATCH && p != SCHED_IDLE &&
            p != k_sched_deadline && p != k_sched_ext)
            return Errno(EINVAL);
        if (sp.sched_priority < 0 || sp.sched_priority > 99)
            return Errno(EINVAL);
        if (p == k_sched_deadline || rt_policy(p) != (sp.sched_priority != 0))
            return Errno(EINVAL);
        if (rt_policy(p))
            return Errno(EPERM);
        if (syscall(SYS_sched_setscheduler, target->host_tid(), policy, &sp) < 0)
            return Errno(errno);
        return 0;
    }
    if (syscall(SYS_sched_setparam, target->host_tid(), &sp) < 0)
        return Errno(errno);
    return 0;
}

SENTRY_SYSCALL(sched_setscheduler)
{
    return do_sched_setscheduler(t, args.as_int(0), args.as_int(1), args.arg(2));
}

SENTRY_SYSCALL(sched_setparam) { return do_sched_setscheduler(t, args.as_int(0), -1, args.arg(1)); }

// Compare Linux kernel/sched/syscalls.c: sched_get_priority_max/min.
SENTRY_SYSCALL(sched_get_priority_max)
{
    (void)t;
    switch (args.as_int(0)) {
    case SCHED_FIFO:
    case SCHED_RR: return 99;
    case SCHED_OTHER:
    case SCHED_BATCH:
    case SCHED_IDLE:
    case k_sched_deadline:
    case k_sched_ext: return 0;
    default: return Errno(EINVAL);
    }
}

SENTRY_SYSCALL(sched_get_priority_min)
{
    (void)t;
    switch (args.as_int(0)) {
    case SCHED_FIFO:
    case SCHED_RR: return 1;
    case SCHED_OTHER:
    case SCHED_BATCH:
    case SCHED_IDLE:
    case k_sched_deadline:
    case k_sched_ext: return 0;
    default: return Errno(EINVAL);
    }
}

SENTRY_SYSCALL(sched_rr_get_interval)
{
    pid_t pid = args.as_int(0);
    if (pid < 0)
        return Errno(EINVAL);
    Task* target = find_task(t, pid);
    if (!target)
        return Errno(ESRCH);
    struct timespec ts {};
    if (syscall(SYS_sched_rr_get_interval, target->host_tid(), &ts) < 0)
        return Errno(errno);
    TRY(t.copy_out(args.arg(1), ts));
    return 0;
}

// Compare Linux kernel/sys.c: getpriority. Returns 20 - nice of the highest-priority
// named thread, so that it is never negative.
SENTRY_SYSCALL(getpriority)
{
    int which = args.as_int(0), who = args.as_int(1);
    if (which > PRIO_USER || which < PRIO_PROCESS)
        return Errno(EINVAL);
    long best = -ESRCH;
    for (pid_t tid : priority_targets(t, which, who)) {
        long r = syscall(SYS_getpriority, PRIO_PROCESS, tid);
        if (r >= 0)
            best = std::max(best, r);
    }
    return best;
}

// Compare Linux kernel/sys.c: setpriority: applied to the named guest threads on the
// host.
SENTRY_SYSCALL(setpriority)
{
    int which = args.as_int(0), who = args.as_int(1);
    int niceval = std::clamp(args.as_int(2), -20, 19);
    if (which > PRIO_USER || which < PRIO_PROCESS)
        return Errno(EINVAL);
    auto targets = priority_targets(t, which, who);
    if (targets.empty())
        return Errno(ESRCH);
    long error = 0;
    for (pid_t tid : targets)
        if (syscall(SYS_setpriority, PRIO_PROCESS, tid, niceval) < 0)
            error = -errno;
    return error;
}

// The CPU the guest thread runs on is the host's business: run it natively.
SENTRY_SYSCALL(getcpu)
{
    (void)t;
    return SyscallOutcome::inject(SYS_getcpu, {args.arg(0), args.arg(1), args.arg(2), 0, 0, 0},
        [](Task&, long r) -> SyscallOutcome { return r; });
}

} // namespace sentry::kernel
