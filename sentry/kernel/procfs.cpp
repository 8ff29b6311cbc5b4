#include "sentry/kernel/procfs.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

namespace {

struct ProcTarget {
    Task* task = nullptr;         // the thread the path names (its group's leader for /proc/PID)
    std::string rest;             // what follows /proc/<pid>[/task/<tid>]
};

std::optional<pid_t> parse_pid(std::string_view s)
{
    pid_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        return std::nullopt;
    return v;
}

// Split "/proc/<who>/..." into the guest task it names and the rest. Returns
// nullopt for paths that are not under a process directory, ENOENT for a pid the
// sandbox does not have.
std::optional<Result<ProcTarget>> parse(Task& caller, const std::string& path)
{
    if (path.compare(0, 6, "/proc/") != 0)
        return std::nullopt;
    std::string_view rest = std::string_view(path).substr(6);
    size_t slash = rest.find('/');
    std::string_view who = rest.substr(0, slash);
    std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    ProcTarget t;
    auto& k = caller.kernel();
    if (who == "self") {
        t.task = caller.group().leader() ? caller.group().leader() : &caller;
    } else if (who == "thread-self") {
        t.task = &caller;
    } else if (auto pid = parse_pid(who)) {
        auto g = k.group_by_vpid(*pid);
        Task* task = k.task_by_vtid(*pid);
        if (!task || g == nullptr || g->zombie)
            return Result<ProcTarget>(Errno(ENOENT)); // not a process of this sandbox
        t.task = task;
    } else {
        return std::nullopt;
    }
    // /proc/<pid>/task/<tid>/...
    if (tail.compare(0, 6, "/task/") == 0) {
        std::string_view r2 = tail.substr(6);
        size_t s2 = r2.find('/');
        if (auto tid = parse_pid(r2.substr(0, s2))) {
            Task* task = k.task_by_vtid(*tid);
            if (!task || &task->group() != &t.task->group())
                return Result<ProcTarget>(Errno(ENOENT));
            t.task = task;
            tail = s2 == std::string_view::npos ? std::string_view() : r2.substr(s2);
        }
    }
    t.rest = std::string(tail);
    return Result<ProcTarget>(t);
}

std::string hex_set(uint64_t bits) { return fmt::format("{:016x}", bits); }

std::string status_of(Task& task)
{
    auto& g = task.group();
    std::ifstream in(fmt::format("/proc/{}/task/{}/status", g.host_pid, task.host_tid()));
    std::stringstream host;
    host << in.rdbuf();
    uint64_t ignored = 0, caught = 0;
    for (int sig = 1; sig <= signals::k_nsig; ++sig) {
        const auto& act = g.sighand->get(sig);
        if (act.handler == signals::k_sig_ign)
            ignored |= 1ULL << (sig - 1);
        else if (act.handler != signals::k_sig_dfl)
            caught |= 1ULL << (sig - 1);
    }
    auto parent = g.parent_ref();
    pid_t ppid = parent ? parent->vpid : 0;
    auto lim = g.rlimits[RLIMIT_SIGPENDING].rlim_cur;
    std::string out, line;
    while (std::getline(host, line)) {
        auto key = line.substr(0, line.find(':'));
        if (key == "Tgid" || key == "NStgid")
            line = fmt::format("{}:\t{}", key, g.vpid);
        else if (key == "Pid" || key == "NSpid")
            line = fmt::format("{}:\t{}", key, task.vtid());
        else if (key == "PPid")
            line = fmt::format("PPid:\t{}", ppid);
        else if (key == "NSpgid")
            line = fmt::format("NSpgid:\t{}", g.pgid);
        else if (key == "NSsid")
            line = fmt::format("NSsid:\t{}", g.sid);
        else if (key == "TracerPid")
            line = "TracerPid:\t0"; // the sentry is not the guest's business
        else if (key == "SigQ")
            line = fmt::format("SigQ:\t{}/{}", task.m_sigpending.queued() + g.shared_pending.queued(),
                lim == RLIM_INFINITY ? std::string("unlimited") : fmt::format("{}", lim));
        else if (key == "SigPnd")
            line = "SigPnd:\t" + hex_set(task.m_sigpending.set().bits());
        else if (key == "ShdPnd")
            line = "ShdPnd:\t" + hex_set(g.shared_pending.set().bits());
        else if (key == "SigBlk")
            line = "SigBlk:\t" + hex_set(task.m_blocked.bits());
        else if (key == "SigIgn")
            line = "SigIgn:\t" + hex_set(ignored);
        else if (key == "SigCgt")
            line = "SigCgt:\t" + hex_set(caught);
        out += line;
        out += '\n';
    }
    return out;
}

} // namespace

std::optional<Result<std::string>> synthesize_proc_file(Task& caller, const std::string& path)
{
    auto target = parse(caller, path);
    if (!target)
        return std::nullopt;
    if (target->is_error())
        return Result<std::string>(target->error());
    auto& t = target->value();
    if (t.rest == "/status")
        return Result<std::string>(status_of(*t.task));
    return std::nullopt;
}

Result<std::string> rewrite_proc_path(Task& caller, const std::string& path)
{
    auto target = parse(caller, path);
    if (!target)
        return path;
    if (target->is_error())
        return target->error();
    auto& t = target->value();
    auto& g = t.task->group();
    bool thread = path.compare(0, 17, "/proc/thread-self") == 0 || t.task != g.leader();
    if (thread)
        return fmt::format("/proc/{}/task/{}{}", g.host_pid, t.task->host_tid(), t.rest);
    return fmt::format("/proc/{}{}", g.host_pid, t.rest);
}

} // namespace sentry::kernel
