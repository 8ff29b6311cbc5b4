// The sandbox's limits and the run's report. Wall time, CPU time and memory are
// sampled ten times a second by a host POSIX timer whose SIGALRM interrupts the
// loop's blocking waitpid() like the sentry's other signals (no Asio timer is kept
// outstanding, so syscalls keep the cheap wake-up path). Tasks are checked at each
// clone, output at each write to the sentry's stdout/stderr. A limit ends the run:
// every guest is killed and the sentry exits with k_exit_limit.

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"
#include "sentry/policy/policy.h"
#include "sentry/signals/signal.h"

namespace sentry::kernel {

namespace {

constexpr long k_watchdog_ns = 100'000'000; // 10 Hz

double seconds(const struct timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// Resident bytes of a host process (/proc/PID/statm, second field).
uint64_t resident_bytes(pid_t pid)
{
    FILE* f = fopen(fmt::format("/proc/{}/statm", pid).c_str(), "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

} // namespace

void Kernel::start_watchdog()
{
    auto& l = m_opts.limits;
    if (!l.wall_time && !l.cpu_time && !l.memory && !m_opts.sample_usage)
        return;
    struct sigevent ev {};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    if (timer_create(CLOCK_MONOTONIC, &ev, &m_watchdog) != 0) {
        fmt::print(stderr, "sentry: cannot watch the sandbox's limits: {}\n", strerror(errno));
        return;
    }
    struct itimerspec its {};
    its.it_value.tv_nsec = k_watchdog_ns;
    its.it_interval.tv_nsec = k_watchdog_ns;
    timer_settime(m_watchdog, 0, &its, nullptr);
    m_watchdog_on = true;
}

void Kernel::stop_watchdog()
{
    if (!m_watchdog_on)
        return;
    timer_delete(m_watchdog);
    m_watchdog_on = false;
}

void Kernel::account_gone(const ThreadGroup& g)
{
    m_gone_user += seconds(g.self_usage.ru_utime);
    m_gone_sys += seconds(g.self_usage.ru_stime);
    m_peak_rss = std::max(m_peak_rss, static_cast<uint64_t>(g.self_usage.ru_maxrss) * 1024);
}

Kernel::CpuMem Kernel::measure()
{
    CpuMem m;
    m.cpu = m_gone_user + m_gone_sys;
    for (auto& [vpid, weak] : m_groups) {
        auto g = weak.lock();
        if (!g || g->tasks.empty())
            continue; // a process whose last thread is gone is in the m_gone_* totals
        if (auto ru = host_rusage(*g); ru.is_ok())
            m.cpu += seconds(ru.value().ru_utime) + seconds(ru.value().ru_stime);
        m.rss += resident_bytes(g->host_pid);
    }
    return m;
}

void Kernel::check_limits()
{
    if (m_done)
        return;
    auto& l = m_opts.limits;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    if (l.wall_time && wall >= *l.wall_time)
        return end_by_limit("wall_time");
    if (!l.cpu_time && !l.memory && !m_opts.sample_usage)
        return;
    auto m = measure();
    m_peak_rss = std::max(m_peak_rss, m.rss);
    if (l.cpu_time && m.cpu >= *l.cpu_time)
        return end_by_limit("cpu_time");
    if (l.memory && m.rss > *l.memory)
        return end_by_limit("memory");
}

void Kernel::end_by_limit(const char* which)
{
    if (m_done || !m_limit_hit.empty())
        return;
    m_limit_hit = which;
    m_exit_status = k_exit_limit;
    debug(fmt::format("the sandbox crossed its {} limit: ending it", which));
    shutdown_all();
}

bool Kernel::task_limit_reached()
{
    auto& l = m_opts.limits;
    if (!l.tasks || m_tasks.size() < *l.tasks)
        return false;
    end_by_limit("tasks");
    return true;
}

void Kernel::count_output(const vfs::File& f, size_t n)
{
    if (std::find(m_output_files.begin(), m_output_files.end(), &f) == m_output_files.end())
        return;
    m_output_bytes += n;
    if (m_opts.limits.output && m_output_bytes > *m_opts.limits.output)
        end_by_limit("output");
}

// The policy's syscall rules (a policy's `syscalls`): allow, log (allow and record),
// errno:NAME (fail without running it), kill (the process dies of SIGSYS, as
// SECCOMP_RET_KILL_PROCESS). In learning mode nothing is denied; what would have
// been is recorded. Records go to the audit log (JSON Lines) and to the report.
bool Kernel::apply_syscall_policy(Task& t, long nr)
{
    const auto& pol = *m_opts.policy;
    auto a = pol.syscalls.action_for(static_cast<int>(nr));
    if (a.kind == policy::ActionKind::allow)
        return false;
    const SyscallEntry* e = syscall_entry(nr);
    nlohmann::json rec = {
        {"time", std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count()},
        {"pid", t.group().vpid},
        {"tid", t.vtid()},
        {"syscall", e && !e->name.empty() ? std::string(e->name) : fmt::format("syscall_{}", nr)},
    };
    switch (a.kind) {
    case policy::ActionKind::log: rec["action"] = "log"; break;
    case policy::ActionKind::error: rec["action"] = fmt::format("errno:{}", strerrorname_np(a.error)); break;
    default: rec["action"] = "kill"; break;
    }
    if (a.kind == policy::ActionKind::log) {
        rec["decision"] = "allowed";
        audit(std::move(rec));
        return false;
    }
    bool learning = pol.audit.learning;
    rec["decision"] = learning ? "would deny" : "denied";
    if (++m_denial_count <= 1000)
        m_denials.push_back(rec);
    audit(std::move(rec));
    if (learning)
        return false;
    if (a.kind == policy::ActionKind::error) {
        finish_syscall(t, -a.error);
        return true;
    }
    exit_group(t.group(), SIGSYS | 0x80); // killed by SIGSYS, core dumped
    return true;
}

void Kernel::audit(nlohmann::json record)
{
    const auto& pol = *m_opts.policy;
    if (!pol.audit.log)
        return;
    if (!m_audit) {
        m_audit = fopen(pol.audit.log->c_str(), "ae");
        if (!m_audit)
            return;
    }
    fmt::print(m_audit, "{}\n", record.dump());
    fflush(m_audit);
}

nlohmann::json Kernel::report() const
{
    nlohmann::json r;
    r["status"] = m_exit_status;
    bool ended = m_init_status_known;
    r["exit_code"] = ended && WIFEXITED(m_init_status) ? nlohmann::json(WEXITSTATUS(m_init_status)) : nlohmann::json();
    r["signal"] = ended && WIFSIGNALED(m_init_status) ? nlohmann::json(signals::signal_name(WTERMSIG(m_init_status)))
                                                      : nlohmann::json();
    r["limit"] = m_limit_hit.empty() ? nlohmann::json() : nlohmann::json(m_limit_hit);
    r["wall_time"] = m_run_seconds;
    r["cpu_time"] = {{"user", m_gone_user}, {"system", m_gone_sys}, {"total", m_gone_user + m_gone_sys}};
    r["peak_memory"] = m_peak_rss;
    r["output_bytes"] = m_output_bytes;
    nlohmann::json counts = nlohmann::json::object();
    for (size_t nr = 0; nr < m_syscall_counts.size(); ++nr) {
        if (!m_syscall_counts[nr])
            continue;
        const SyscallEntry* e = syscall_entry(static_cast<long>(nr));
        counts[e && !e->name.empty() ? std::string(e->name) : fmt::format("syscall_{}", nr)] = m_syscall_counts[nr];
    }
    r["syscalls"] = counts;
    r["denials"] = m_denials; // the first 1000
    r["denial_count"] = m_denial_count;
    return r;
}

} // namespace sentry::kernel
