#include "sentry/kernel/kernel.h"
#include "sentry/netstack/inet.h"
#include "sentry/policy/policy.h"
#include "sentry/netstack/unix.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ptrace.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstring>
#include <fmt/format.h>

#include "sentry/abi/x86_64/syscall_regs.h"
#include "sentry/common/event_loop.h"
#include "sentry/common/self_confine.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/terminal.h"
#include "sentry/vfs/host_file.h"

namespace sentry::kernel {

namespace {

// Signals the sentry itself listens to, besides SIGCHLD: requests to stop (from a
// user or the terminal) and the terminal's job-control signals, which it routes to
// the guests.
// SIGALRM is the limits' watchdog (limits.cpp), not a request to stop.
constexpr int k_host_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGCONT, SIGALRM};

// Recorded by the handler of those signals when one interrupts a blocking waitpid
// (the handler consumes it, so the signalfd never sees it); si_code tells the
// terminal (SI_KERNEL) from kill(2).
struct CaughtSignal {
    int sig, code;
};
CaughtSignal g_caught[32];
volatile sig_atomic_t g_ncaught = 0;

void on_caught_signal(int sig, siginfo_t* si, void*)
{
    if (g_ncaught < static_cast<sig_atomic_t>(std::size(g_caught))) {
        g_caught[g_ncaught] = {sig, si->si_code};
        g_ncaught = g_ncaught + 1;
    }
}

bool is_fault_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

} // namespace

Kernel::Kernel(KernelOptions opts)
    : m_opts(std::move(opts))
    , m_sentry_pid(getpid())
    , m_unix_names(std::make_shared<netstack::UnixNamespace>())
    , m_inet(std::make_unique<netstack::InetStack>(m_opts.network))
{
    m_unix_names->pid_exists = [this](pid_t pid) { return group_by_vpid(pid) != nullptr; };
    if (m_opts.policy)
        m_mandatory_mask = signals::SigSet(m_opts.policy->signals.mandatory_mask).without_unblockable();
}

Kernel::~Kernel()
{
    if (m_sigfd >= 0)
        close(m_sigfd);
    if (m_audit)
        fclose(m_audit);
}

// Compare Linux drivers/tty: the terminal's special characters signal its
// foreground group; a hangup signals it and continues it. Everything else that a
// user sends the sentry asks it to end the sandbox.
void Kernel::on_host_signal(int sig, int code)
{
    pid_t fg = m_terminal ? m_terminal->fg_pgrp : 1;
    bool from_tty = code == SI_KERNEL;
    switch (sig) {
    case SIGINT:
    case SIGQUIT:
        if (from_tty) {
            (void)signal_pgrp(fg, signals::make_siginfo(sig, SI_KERNEL));
            return;
        }
        break;
    case SIGHUP:
        if (from_tty) {
            for (int s : {SIGHUP, SIGCONT})
                (void)signal_pgrp(fg, signals::make_siginfo(s, SI_KERNEL));
            if (auto init = m_init.lock(); init && init->pgid != fg && !init->zombie)
                for (int s : {SIGHUP, SIGCONT})
                    (void)send_signal(*init, signals::make_siginfo(s, SI_KERNEL));
            return;
        }
        break;
    case SIGTSTP:
    case SIGWINCH:
        (void)signal_pgrp(fg, signals::make_siginfo(sig, SI_KERNEL));
        return;
    case SIGCONT:
        // The sentry was stopped with its init (see notify_parent_cldstop) and is
        // continued, as a shell's `fg` or `bg` does: so is the init's group.
        if (auto init = m_init.lock(); init && init->stopped)
            (void)signal_pgrp(init->pgid, signals::make_siginfo(SIGCONT, SI_USER, 0, getuid()));
        return;
    case SIGTERM:
        break;
    case SIGALRM:
        check_limits();
        return;
    default:
        return; // SIGTTIN/SIGTTOU: the sentry's own background use of the terminal
    }
    if (!m_done) {
        // The sentry was asked to stop: end the guests, report as a shell would.
        m_exit_status = 128 + sig;
        shutdown_all();
    }
}

void Kernel::debug(const std::string& msg)
{
    if (m_opts.debug)
        fmt::print(stderr, "sentry: {}\n", msg);
}

void Kernel::log_unsupported(long nr)
{
    if (!m_logged_unsupported.insert(nr).second)
        return;
    const SyscallEntry* e = syscall_entry(nr);
    fmt::print(stderr, "sentry: unsupported syscall {} ({}): returning ENOSYS\n",
        e ? e->name : std::string_view("unknown"), nr);
}

Task* Kernel::create_task(pid_t host_tid, std::shared_ptr<ThreadGroup> g, pid_t vtid)
{
    auto t = std::make_unique<Task>(*this, host_tid, vtid, g);
    Task* raw = t.get();
    g->tasks.push_back(raw);
    m_tasks[host_tid] = std::move(t);
    m_vtids[vtid] = raw;
    return raw;
}

void Kernel::destroy_task(Task* t)
{
    unpark(*t);
    release_scratch(*t);
    auto& g = t->group();
    g.tasks.remove(t);
    m_vtids.erase(t->vtid());
    m_pending_clone.erase(t->host_tid());
    m_pending_exec.erase(t->host_tid());
    m_tasks.erase(t->host_tid());
}

Task* Kernel::task_by_host_tid(pid_t tid)
{
    auto it = m_tasks.find(tid);
    return it == m_tasks.end() ? nullptr : it->second.get();
}

Task* Kernel::task_by_vtid(pid_t vtid)
{
    auto it = m_vtids.find(vtid);
    // A thread that called exit(2) is gone for the guests even before the host
    // reports its end: a joiner may already have returned and name its tid.
    if (it == m_vtids.end() || it->second->m_thread_exited)
        return nullptr;
    return it->second;
}

std::shared_ptr<ThreadGroup> Kernel::group_by_vpid(pid_t vpid)
{
    auto it = m_groups.find(vpid);
    return it == m_groups.end() ? nullptr : it->second.lock();
}

std::shared_ptr<ThreadGroup> Kernel::group_of_pgid_member(pid_t pgid)
{
    for (auto& [vpid, w] : m_groups)
        if (auto g = w.lock(); g && !g->zombie && g->pgid == pgid)
            return g;
    return nullptr;
}

int Kernel::run(const std::string& path, const std::vector<std::string>& argv,
                const std::vector<std::string>& envp, std::string& why)
{
    // The sentry hears about its guests and about the signals sent to it through
    // one signalfd; SIGPIPE must never kill the sentry (a guest's reader may go away).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (int s : k_host_signals)
        sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction wake {};
    wake.sa_sigaction = on_caught_signal;
    wake.sa_flags = SA_SIGINFO;
    sigfillset(&wake.sa_mask);
    for (int s : k_host_signals)
        sigaction(s, &wake, nullptr);
    m_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m_sigfd < 0) {
        why = fmt::format("signalfd: {}", strerror(errno));
        return 125;
    }
    m_terminal = Terminal::from_stdio();

    // The first process's world: fds 0-2 are the sentry's own stdio.
    auto g = std::make_shared<ThreadGroup>();
    g->fds = std::make_shared<FdTable>();
    for (int fd = 0; fd <= 2; ++fd) {
        auto f = vfs::HostFile::from_inherited(fd);
        if (f.is_error())
            continue;
        g->fds->install_at(fd, f.value(), false);
        if (fd > 0)
            m_output_files.push_back(f.value().get()); // the output limit counts these
    }
    g->fs = std::make_shared<FsContext>();
    g->fs->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    mode_t um = umask(0);
    umask(um);
    g->fs->umask = um;
    g->sighand = std::make_shared<signals::SignalHandlers>();
    for (int r = 0; r < RLIM_NLIMITS; ++r)
        getrlimit(static_cast<__rlimit_resource>(r), &g->rlimits[static_cast<size_t>(r)]);
    if (auto n = m_opts.limits.open_files)
        g->rlimits[RLIMIT_NOFILE] = {static_cast<rlim_t>(*n), static_cast<rlim_t>(*n)};
    if (auto n = m_opts.limits.file_size)
        g->rlimits[RLIMIT_FSIZE] = {static_cast<rlim_t>(*n), static_cast<rlim_t>(*n)};
    m_started = std::chrono::steady_clock::now();

    auto child = ptrace::spawn_seized(path, argv, envp, why);
    if (child.is_error())
        return 125;
    pid_t vpid = m_next_pid++;
    g->vpid = vpid;
    g->host_pid = child.value();
    // Like the init of a new pid namespace started by a shell: the leader of its own
    // process group, in a session whose leader is outside the sandbox (getsid: 0).
    g->pgid = vpid;
    g->sid = 0;
    g->has_ctty = m_terminal != nullptr;
    m_groups[vpid] = g;
    m_init = g;
    m_init_hold = g;
    Task* t = create_task(child.value(), g, vpid);
    t->set_blocked({});
    t->set_state(Task::State::New);
    // From here on the sentry forks and execs nothing: confine it (self_confine.h).
    if (!self_confine(why)) {
        why = "cannot confine the sentry: " + why + " (SENTRY_NO_SELF_CONFINE=1 runs without)";
        return 125;
    }

    start_watchdog();
    auto& io = event_loop();
    boost::asio::posix::stream_descriptor sigs(io, dup(m_sigfd));
    bool sig_armed = false;
    auto on_signals = [&] {
        for (sig_atomic_t i = 0; i < g_ncaught; ++i)
            on_host_signal(g_caught[i].sig, g_caught[i].code);
        g_ncaught = 0;
        signalfd_siginfo si[8];
        ssize_t n;
        while ((n = read(m_sigfd, si, sizeof si)) > 0)
            for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof si[0]); ++i)
                if (si[i].ssi_signo != SIGCHLD)
                    on_host_signal(static_cast<int>(si[i].ssi_signo), si[i].ssi_code);
        drain_waits();
    };
    std::function<void()> arm = [&] {
        sig_armed = true;
        sigs.async_wait(boost::asio::posix::descriptor_base::wait_read, [&](boost::system::error_code ec) {
            sig_armed = false;
            if (!ec)
                on_signals();
        });
    };
    drain_waits();
    // The loop. While no timer or host fd wait is outstanding, the only thing that
    // can happen is a ptrace stop (or a signal to the sentry), so wait for it in a
    // blocking waitpid() -- the cheapest wake-up, as in the bare SYSEMU floor.
    // Otherwise wait in the reactor, where SIGCHLD arrives through the signalfd.
    while (!(m_done && m_tasks.empty())) {
        if (io.stopped())
            io.restart();
        io.poll();
        if (m_done && m_tasks.empty())
            break;
        if (io_idle() && !m_done) {
            sigset_t waitset;
            sigemptyset(&waitset);
            for (int s : k_host_signals)
                sigaddset(&waitset, s);
            // Let the sentry's own signals interrupt the wait (their handler only
            // records them for on_signals).
            sigprocmask(SIG_UNBLOCK, &waitset, nullptr);
            ptrace::Stop stop;
            pid_t tid = ptrace::wait_any(stop, false);
            int e = errno;
            sigprocmask(SIG_BLOCK, &waitset, nullptr);
            if (tid > 0) {
                on_host_stop(stop);
                continue;
            }
            if (e == EINTR) {
                on_signals();
                continue;
            }
            if (e == ECHILD)
                break;
            continue;
        }
        if (!sig_armed)
            arm();
        io.run_one();
    }
    stop_watchdog();
    m_run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    write_census();
    if (const char* st = getenv("SENTRY_STATS"); st && *st)
        // The netstack's live objects once every guest is gone: unix sockets must be
        // 0; inet endpoints may only be TIME_WAIT entries still cooling down (60 s).
        fmt::print(stderr, "sentry: stats: stops={} syscalls={} injections={} signals={} unix_sockets={} inet_endpoints={}\n",
            m_stats.stops, m_stats.syscalls, m_stats.injections, m_stats.signals, m_unix_names->live_sockets,
            m_inet->live_endpoints());
    return m_exit_status;
}

// With SENTRY_CENSUS_DIR set, record the names of the syscalls guests made, one
// file per sentry run (scripts/status.py maps tests to the syscalls they exercise).
void Kernel::write_census()
{
    const char* dir = getenv("SENTRY_CENSUS_DIR");
    if (!dir || !*dir)
        return;
    std::string path = fmt::format("{}/census.{}", dir, getpid());
    FILE* f = fopen(path.c_str(), "w");
    if (!f)
        return;
    for (size_t nr = 0; nr < m_census.size(); ++nr) {
        if (!m_census.test(nr))
            continue;
        const SyscallEntry* e = syscall_entry(static_cast<long>(nr));
        fmt::print(f, "{}\n", e && !e->name.empty() ? std::string(e->name) : fmt::format("syscall_{}", nr));
    }
    fclose(f);
}

void Kernel::drain_waits()
{
    for (;;) {
        ptrace::Stop stop;
        if (ptrace::wait_any(stop, true) <= 0)
            break;
        on_host_stop(stop);
    }
}

void Kernel::shutdown_all()
{
    m_done = true;
    for (auto& [tid, t] : m_tasks) {
        t->set_state(Task::State::Exiting);
        kill(tid, SIGKILL);
    }
}

void Kernel::resume(Task& t, int sig)
{
    if (t.group().stopped && !t.group().exiting) {
        // Held until SIGCONT (the thread stays at its ptrace stop).
        t.set_state(Task::State::Stopped);
        return;
    }
    t.set_state(Task::State::Running);
    auto r = ptrace::resume_sysemu(t.host_tid(), sig);
    if (r.is_error())
        debug(fmt::format("resume {}: {}", t.host_tid(), r.error().name()));
}

void Kernel::on_host_stop(const ptrace::Stop& stop)
{
    ++m_stats.stops;
    if (m_opts.debug)
        debug(ptrace::describe(stop));
    if (stop.kind == ptrace::StopKind::Exited || stop.kind == ptrace::StopKind::Killed) {
        on_task_gone(stop.tid, stop);
        return;
    }
    Task* t = task_by_host_tid(stop.tid);
    if (stop.kind == ptrace::StopKind::Event && stop.event == PTRACE_EVENT_EXEC) {
        // The exec'ing thread reports under the leader's tid; if it was another
        // thread, the event message names it (its former tid).
        auto former = ptrace::get_event_msg(stop.tid);
        if (former.is_ok())
            if (Task* execer = task_by_host_tid(static_cast<pid_t>(former.value())))
                t = execer;
    }
    if (!t) {
        // A child's first stop can come before its parent's clone event.
        m_early_stops[stop.tid] = 1;
        return;
    }
    if (t->state() == Task::State::Exiting) {
        // SIGKILL is on its way; let it land.
        (void)ptrace::resume_cont(t->host_tid(), 0);
        return;
    }
    switch (t->state()) {
    case Task::State::New:
        if (stop.kind == ptrace::StopKind::GroupStop || stop.kind == ptrace::StopKind::SignalDelivery)
            start_child(*t);
        else
            debug(fmt::format("unexpected first stop: {}", ptrace::describe(stop)));
        return;
    case Task::State::Injecting:
        on_inject_stop(*t, stop);
        return;
    case Task::State::Running:
        break;
    default:
        debug(fmt::format("stop in state {}: {}", static_cast<int>(t->state()), ptrace::describe(stop)));
        return;
    }
    switch (stop.kind) {
    case ptrace::StopKind::SyscallEntry:
        t->m_stale_step_trap = false;
        // Any signal an interrupt was sent for is delivered as this call ends; a
        // trap still owed by the host only costs a harmless extra stop later.
        t->m_interrupt_sent = false;
        handle_syscall(*t);
        return;
    case ptrace::StopKind::SignalDelivery:
        if (stop.signo == SIGTRAP && t->m_stale_step_trap) {
            t->m_stale_step_trap = false;
            resume(*t, 0);
            return;
        }
        if (is_fault_signal(stop.signo)) {
            on_fault_signal(*t, stop.signo);
            return;
        }
        if (stop.signo == SIGXCPU) {
            // RLIMIT_CPU is enforced by the host on the guest's process: its soft
            // limit signal is the guest's (the hard limit is a host SIGKILL).
            (void)send_signal(t->group(), signals::make_siginfo(SIGXCPU, SI_KERNEL));
            if (t->state() == Task::State::Running)
                resume(*t, 0);
            return;
        }
        // Host signals never reach a guest on their own; the sentry decides.
        resume(*t, 0);
        return;
    case ptrace::StopKind::GroupStop:
        // Our own PTRACE_INTERRUPT (or a host group-stop): a chance to deliver.
        t->m_interrupt_sent = false;
        if (has_deliverable(*t) && !ptrace::get_regs(t->host_tid(), t->regs()).is_error()) {
            t->set_state(Task::State::Handling);
            deliver_signals(*t, std::nullopt);
            if (t->state() == Task::State::Exiting)
                return;
            (void)ptrace::set_regs(t->host_tid(), t->regs());
        }
        resume(*t, 0);
        return;
    case ptrace::StopKind::Event:
        resume(*t, 0);
        return;
    default:
        return;
    }
}

void Kernel::start_child(Task& t)
{
    // The child was created in the middle of an injected single-step: it must not
    // inherit the trap flag.
    if (ptrace::get_regs(t.host_tid(), t.regs()).is_ok() && (t.regs().eflags & 0x100)) {
        t.regs().eflags &= ~0x100ULL;
        (void)ptrace::set_regs(t.host_tid(), t.regs());
    }
    if (t.m_child_settid_addr) {
        pid_t v = t.vtid();
        (void)t.copy_out(t.m_child_settid_addr, v);
    }
    if (has_deliverable(t)) {
        t.set_state(Task::State::Handling);
        deliver_signals(t, std::nullopt);
        if (t.state() == Task::State::Exiting)
            return;
        (void)ptrace::set_regs(t.host_tid(), t.regs());
    }
    resume(t, 0);
}

void Kernel::handle_syscall(Task& t)
{
    t.set_state(Task::State::Handling);
    if (ptrace::get_regs(t.host_tid(), t.regs()).is_error()) {
        // The thread vanished under us (killed); its exit will be reported.
        return;
    }
    t.set_syscall_args(abi::syscall_args_from(t.regs()));
    t.reset_progress();
    t.m_timed_out = false;
    if (m_opts.strace)
        strace_enter(t);
    long nr = t.syscall_args().nr;
    ++m_stats.syscalls;
    if (nr >= 0 && nr < static_cast<long>(m_census.size())) {
        m_census.set(static_cast<size_t>(nr));
        ++m_syscall_counts[static_cast<size_t>(nr)];
    }
    if (m_opts.policy && apply_syscall_policy(t, nr))
        return;
    run_handler(t);
}

// Runs the handler (again, for a call that parked and was woken).
void Kernel::run_handler(Task& t)
{
    const SyscallArgs& args = t.syscall_args();
    const SyscallEntry* e = syscall_entry(args.nr);
    if (!e || !e->handler) {
        log_unsupported(args.nr);
        finish_syscall(t, -ENOSYS);
        return;
    }
    m_current = &t;
    auto outcome = e->handler(t, args);
    m_current = nullptr;
    apply_outcome(t, std::move(outcome));
}

void Kernel::apply_outcome(Task& t, SyscallOutcome o)
{
    if (t.state() == Task::State::Exiting)
        return;
    switch (o.kind()) {
    case SyscallOutcome::Kind::Return:
        finish_syscall(t, o.value());
        return;
    case SyscallOutcome::Kind::Block:
        if (has_deliverable(t)) {
            // Linux checks signal_pending() before it sleeps: a signal that came
            // first (its PTRACE_INTERRUPT lost to this syscall stop) interrupts now.
            finish_syscall(t, t.interrupted_result());
            return;
        }
        park(t, o);
        return;
    case SyscallOutcome::Kind::Inject:
        start_inject(t, o.inject_nr(), o.inject_args(), std::move(o.then()));
        return;
    case SyscallOutcome::Kind::NoReturn:
        return;
    }
}

void Kernel::release_scratch(Task& t)
{
    auto& g = t.group();
    if (g.scratch_owner == &t) {
        g.scratch_owner = nullptr;
        g.scratch_wq.notify(~0u);
    }
}

void Kernel::finish_syscall(Task& t, long value)
{
    release_scratch(t);
    t.progress().file.reset();
    if (m_opts.strace)
        strace_exit(t, value);
    abi::set_syscall_return(t.regs(), value);
    deliver_signals(t, value);
    if (t.state() == Task::State::Exiting)
        return;
    if (ptrace::set_regs(t.host_tid(), t.regs()).is_error())
        return;
    resume(t, 0);
}

void Kernel::park(Task& t, SyscallOutcome& o)
{
    t.set_state(Task::State::Parked);
    // Each park has its own generation: a timer or a wake-up posted for an earlier
    // one never touches this one.
    uint64_t gen = ++t.m_park_gen;
    for (auto& [q, mask] : o.queues()) {
        q->add(&t, mask);
        t.m_waiting_on.push_back(q);
    }
    if (o.deadline()) {
        if (!t.m_timer)
            t.m_timer = std::make_unique<boost::asio::steady_timer>(event_loop());
        t.m_timer->expires_at(*o.deadline());
        pid_t tid = t.host_tid();
        io_started();
        t.m_timer->async_wait([this, tid, gen](boost::system::error_code ec) {
            io_finished();
            if (ec)
                return;
            Task* tp = task_by_host_tid(tid);
            if (!tp || tp->m_park_gen != gen || tp->state() != Task::State::Parked)
                return;
            tp->m_timed_out = true;
            schedule(*tp);
        });
    }
}

void Kernel::unpark(Task& t)
{
    for (auto* q : t.m_waiting_on)
        q->remove(&t);
    t.m_waiting_on.clear();
    if (t.m_timer)
        t.m_timer->cancel();
}

void Kernel::schedule(Task& t)
{
    if (t.state() != Task::State::Parked || t.m_wake_gen == t.m_park_gen)
        return;
    uint64_t gen = t.m_wake_gen = t.m_park_gen;
    pid_t tid = t.host_tid();
    boost::asio::post(event_loop(), [this, tid, gen] {
        Task* tp = task_by_host_tid(tid);
        if (!tp || tp->m_park_gen != gen || tp->state() != Task::State::Parked)
            return;
        unpark(*tp);
        tp->set_state(Task::State::Handling);
        run_handler(*tp);
    });
}

void Kernel::start_inject(Task& t, long nr, const std::array<uint64_t, 6>& args, InjectContinuation then)
{
    ++m_stats.injections;
    t.m_saved_regs = t.regs();
    t.m_inject_then = std::move(then);
    t.m_inject_nr = nr;
    t.m_inject_args = args;
    t.m_inject_step = 0;
    ptrace::Registers r = t.regs();
    abi::prepare_injection(r, nr, args);
    t.set_state(Task::State::Injecting);
    if (ptrace::set_regs(t.host_tid(), r).is_error() || ptrace::resume_singlestep(t.host_tid(), 0).is_error())
        debug(fmt::format("injection into {} failed", t.host_tid()));
}

void Kernel::on_inject_stop(Task& t, const ptrace::Stop& stop)
{
    switch (stop.kind) {
    case ptrace::StopKind::SignalDelivery:
        if (stop.signo == SIGTRAP) {
            if (t.m_inject_step == 0) {
                // This trap only reports the end of the skipped syscall; the next
                // step runs the real one.
                t.m_inject_step = 1;
                (void)ptrace::resume_singlestep(t.host_tid(), 0);
                return;
            }
            ptrace::Registers after{};
            if (ptrace::get_regs(t.host_tid(), after).is_error())
                return;
            long result = static_cast<long>(after.rax);
            t.regs() = t.m_saved_regs;
            t.set_state(Task::State::Handling);
            auto then = std::move(t.m_inject_then);
            t.m_inject_then = nullptr;
            apply_outcome(t, then(t, result));
            return;
        }
        if (is_fault_signal(stop.signo)) {
            on_fault_signal(t, stop.signo);
            return;
        }
        (void)ptrace::resume_singlestep(t.host_tid(), 0);
        return;
    case ptrace::StopKind::Event:
        if (stop.event == PTRACE_EVENT_CLONE || stop.event == PTRACE_EVENT_FORK || stop.event == PTRACE_EVENT_VFORK) {
            auto child = ptrace::get_event_msg(t.host_tid());
            if (!child.is_error())
                on_clone_event(t, static_cast<pid_t>(child.value()));
        } else if (stop.event == PTRACE_EVENT_EXEC) {
            on_exec_event(t, stop);
            return;
        }
        (void)ptrace::resume_singlestep(t.host_tid(), 0);
        return;
    case ptrace::StopKind::GroupStop: {
        // Our PTRACE_INTERRUPT: if it cut a native call short (the host left a
        // restart code in rax), the emulated syscall ends with that code, so that
        // signal delivery decides between EINTR and a restart, as for any
        // blocking call. Otherwise the injection simply goes on.
        t.m_interrupt_sent = false;
        ptrace::Registers now{};
        if (ptrace::get_regs(t.host_tid(), now).is_ok()) {
            long rax = static_cast<long>(now.rax);
            if (rax <= -k_ERESTARTSYS && rax >= -k_ERESTART_RESTARTBLOCK && has_deliverable(t)) {
                // The host may still report the single-step it owes us as a
                // SIGTRAP once the thread runs again: that one is ours, not the guest's.
                t.m_stale_step_trap = true;
                t.regs() = t.m_saved_regs;
                t.m_inject_then = nullptr;
                t.set_state(Task::State::Handling);
                finish_syscall(t, rax);
                return;
            }
        }
        (void)ptrace::resume_singlestep(t.host_tid(), 0);
        // The interrupt came before the native call started (or after it ended):
        // ask again, so that a call about to block is cut short once it does. A
        // killable-only wait (vfork) is not woken by it, so this cannot spin.
        if (has_deliverable(t)) {
            t.m_interrupt_sent = true;
            (void)ptrace::interrupt(t.host_tid());
        }
        return;
    }
    case ptrace::StopKind::SyscallEntry:
        (void)ptrace::resume_singlestep(t.host_tid(), 0);
        return;
    default:
        return;
    }
}

void Kernel::on_clone_event(Task& parent, pid_t child_tid)
{
    CloneRequest req;
    if (auto it = m_pending_clone.find(parent.host_tid()); it != m_pending_clone.end())
        req = it->second;
    auto& pg = parent.group();
    pid_t vtid = m_next_pid++;
    std::shared_ptr<ThreadGroup> g;
    if (req.flags & CLONE_THREAD) {
        g = parent.group_ref();
    } else {
        g = std::make_shared<ThreadGroup>();
        g->vpid = vtid;
        g->host_pid = child_tid;
        auto real_parent = (req.flags & CLONE_PARENT) ? pg.parent_ref() : parent.group_ref();
        if (!real_parent)
            real_parent = parent.group_ref();
        g->parent = real_parent;
        real_parent->children.push_back(g);
        g->pgid = pg.pgid;
        g->sid = pg.sid;
        g->has_ctty = pg.has_ctty;
        g->fds = (req.flags & CLONE_FILES) ? pg.fds : (pg.fds ? pg.fds->clone() : std::make_shared<FdTable>());
        g->fs = (req.flags & CLONE_FS) ? pg.fs : std::make_shared<FsContext>(*pg.fs);
        g->sighand = (req.flags & CLONE_SIGHAND) ? pg.sighand
                                                 : std::make_shared<signals::SignalHandlers>(*pg.sighand);
        if (req.flags & 0x100000000ULL) // CLONE_CLEAR_SIGHAND: handled signals back to SIG_DFL
            g->sighand->reset_for_exec();
        g->rlimits = pg.rlimits;
        g->exe = pg.exe;
        g->scratch = pg.scratch;
        g->exit_signal = static_cast<int>(req.flags & 0xff);
        m_groups[vtid] = g;
    }
    Task* child = create_task(child_tid, g, vtid);
    child->m_blocked = parent.m_blocked;
    // fork keeps the alternate stack; a thread or vm-sharing child gets none
    // (Linux copy_process()).
    if (!(req.flags & CLONE_VM) || (req.flags & CLONE_VFORK))
        child->m_altstack = parent.m_altstack;
    if (req.flags & CLONE_CHILD_SETTID)
        child->m_child_settid_addr = req.child_tid;
    if (req.flags & CLONE_CHILD_CLEARTID)
        child->m_clear_child_tid = req.child_tid;
    parent.m_new_children.push_back(child_tid);
    parent.m_forking = false;
    parent.m_last_child_vtid = vtid;
    child->set_state(Task::State::New);
    if (m_early_stops.erase(child_tid))
        start_child(*child);
}

void Kernel::set_pending_exec(Task& t, std::string host_path) { m_pending_exec[t.host_tid()] = std::move(host_path); }

void Kernel::on_exec_event(Task& t, const ptrace::Stop& stop)
{
    auto& g = t.group();
    // Every other thread of the group is gone (Linux de_thread()); forget them.
    std::vector<Task*> others;
    for (Task* o : g.tasks)
        if (o != &t)
            others.push_back(o);
    // They are already dead on the host: never touch their tids again (the
    // leader's tid now belongs to the exec'ing thread).
    for (Task* o : others)
        destroy_task(o);
    std::string exe;
    if (auto it = m_pending_exec.find(t.host_tid()); it != m_pending_exec.end()) {
        exe = it->second;
        m_pending_exec.erase(it);
    }
    if (t.host_tid() != stop.tid) {
        // The exec'ing thread takes the leader's tid.
        auto node = m_tasks.extract(t.host_tid());
        t.set_host_tid(stop.tid);
        node.key() = stop.tid;
        m_tasks.insert(std::move(node));
    }
    if (t.vtid() != g.vpid) {
        // And the leader's virtual tid: after execve, gettid() == getpid() (Linux
        // de_thread() exchanges the pids); its own tid is free again.
        m_vtids.erase(t.vtid());
        t.set_vtid(g.vpid);
        m_vtids[g.vpid] = &t;
    }
    if (g.fds && g.fds.use_count() > 1)
        g.fds = g.fds->clone();
    if (g.fds)
        g.fds->close_on_exec();
    g.sighand = std::make_shared<signals::SignalHandlers>(*g.sighand);
    g.sighand->reset_for_exec();
    g.exe = exe;
    g.did_exec = true;
    release_scratch(t);
    g.scratch = 0;
    g.posix_timers.clear(); // POSIX timers do not survive execve; itimers do
    t.m_altstack = signals::AltStack{};
    t.m_inject_then = nullptr;
    if (m_opts.strace)
        strace_exit(t, 0);
    resume(t, 0);
}

void Kernel::exit_group(ThreadGroup& g, int wait_status)
{
    if (g.exiting)
        return;
    g.exiting = true;
    g.wait_status = wait_status;
    if (m_opts.strace)
        strace_print_exit_status(g.vpid, wait_status);
    g.itimer_real.reset();
    g.itimer_virtual.reset();
    g.itimer_prof.reset();
    g.posix_timers.clear();
    // Files go first, as in Linux do_exit(): a parent woken by the exit sees the
    // pipes closed.
    g.fds.reset();
    for (Task* t : g.tasks) {
        unpark(*t);
        t->set_state(Task::State::Exiting);
    }
    if (g.host_pid > 0)
        kill(g.host_pid, SIGKILL);
    for (Task* t : g.tasks)
        kill(t->host_tid(), SIGKILL);
}

void Kernel::on_task_gone(pid_t tid, const ptrace::Stop& stop)
{
    m_early_stops.erase(tid);
    Task* t = task_by_host_tid(tid);
    if (!t)
        return;
    auto g = t->group_ref();
    rusage_merge_report(g->self_usage, stop.usage);
    destroy_task(t);
    if (!g->tasks.empty())
        return;
    account_gone(*g); // its usage is final
    if (!g->exiting) {
        // Died without the emulated kernel deciding it (exit of the last thread, or
        // killed from outside).
        g->exiting = true;
        g->wait_status = stop.kind == ptrace::StopKind::Exited ? (stop.exit_code << 8)
                                                                : (stop.signo | (stop.core ? 0x80 : 0));
        g->fds.reset();
        g->itimer_real.reset();
        g->itimer_virtual.reset();
        g->itimer_prof.reset();
        g->posix_timers.clear();
    }
    become_zombie(g);
}

void Kernel::become_zombie(std::shared_ptr<ThreadGroup> g)
{
    g->zombie = true;
    g->fs.reset();
    if (g->vpid == g->sid && g->has_ctty)
        release_terminal(*this, g->sid, true); // a session leader's exit hangs up its terminal
    g->pidfd_wq.notify(POLLIN); // Linux do_notify_pidfd()
    auto init = m_init.lock();
    if (g == init) {
        int st = g->wait_status;
        m_init_status = st;
        m_init_status_known = true;
        if (!m_done)
            m_exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        m_init_hold.reset();
        // Like the init of a pid namespace: its death ends every other process.
        shutdown_all();
        m_groups.erase(g->vpid);
        g->reaped = true;
        return;
    }
    // Orphans go to the nearest living ancestor that is a child subreaper, else to
    // init (Linux forget_original_parent(), find_new_reaper()); those that asked
    // for a parent-death signal get it (approximated at the exit of the whole
    // parent process rather than of the creating thread).
    std::shared_ptr<ThreadGroup> reaper = init;
    for (auto a = g->parent_ref(); a; a = a->parent_ref()) {
        if (a->child_subreaper && !a->exiting && !a->zombie) {
            reaper = a;
            break;
        }
    }
    // An adopted child exits with SIGCHLD from now on, and one that is a zombie
    // already is announced to its new parent, which may reap it at once (Linux
    // reparent_leader()).
    bool any_zombie = false;
    std::vector<std::shared_ptr<ThreadGroup>> autoreaped;
    for (auto& c : g->children) {
        c->parent = reaper;
        c->exit_signal = SIGCHLD;
        if (reaper) {
            reaper->children.push_back(c);
            if (c->zombie && do_notify_parent(*c, *reaper))
                autoreaped.push_back(c);
        }
        any_zombie |= c->zombie;
        for (Task* ct : std::vector<Task*>(c->tasks.begin(), c->tasks.end()))
            if (ct->m_pdeathsig && !c->exiting)
                (void)send_signal(*ct, signals::make_siginfo(ct->m_pdeathsig, SI_USER, g->vpid, getuid()));
    }
    for (auto& c : autoreaped)
        release_zombie(*reaper, c);
    if (reaper && any_zombie)
        reaper->child_exit_wq.notify(1);
    // Groups this exit orphans: a child's group that had its link outside through
    // us, and our own group through our parent (Linux exit_notify()).
    for (auto& c : g->children)
        kill_orphaned_pgrp(*c, *g);
    g->children.clear();
    auto parent = g->parent_ref();
    if (parent)
        kill_orphaned_pgrp(*g, *parent);
    if (!parent) {
        m_groups.erase(g->vpid);
        g->reaped = true;
        g->pidfd_wq.notify(POLLIN | POLLHUP);
        return;
    }
    if (do_notify_parent(*g, *parent))
        release_zombie(*parent, g);
    parent->child_exit_wq.notify(1);
}

// Send the zombie `g`'s exit signal to `parent`; true if `parent` does not want the
// zombie (it is to be reaped at once). Only a SIGCHLD exit reaps itself when the
// parent ignores SIGCHLD or set SA_NOCLDWAIT; with SIG_IGN not even the signal is
// sent, with SA_NOCLDWAIT it still is (a clone child with another exit signal, or
// none, is left a zombie). Compare Linux kernel/signal.c:do_notify_parent().
bool Kernel::do_notify_parent(ThreadGroup& g, ThreadGroup& parent)
{
    const auto& act = parent.sighand->get(SIGCHLD);
    bool autoreap = g.exit_signal == SIGCHLD && (act.handler == signals::k_sig_ign || (act.flags & SA_NOCLDWAIT));
    if (g.exit_signal > 0 && !(autoreap && act.handler == signals::k_sig_ign)) {
        int st = g.wait_status;
        auto info = signals::make_siginfo(g.exit_signal, WIFEXITED(st) ? CLD_EXITED : (WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED),
            g.vpid, getuid());
        info.u.chld.status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
        (void)send_signal(parent, info);
    }
    return autoreap;
}

void Kernel::release_zombie(ThreadGroup& parent, const std::shared_ptr<ThreadGroup>& child)
{
    std::erase(parent.children, child);
    m_groups.erase(child->vpid);
    child->reaped = true;
    child->pidfd_wq.notify(POLLIN | POLLHUP);
}

SyscallOutcome Kernel::with_scratch(Task& t, std::string data, std::function<SyscallOutcome(Task&, uint64_t)> then)
{
    if (data.size() > k_scratch_size)
        return Errno(E2BIG);
    auto& g = t.group();
    if (g.scratch_owner && g.scratch_owner != &t)
        return SyscallOutcome::block({{&g.scratch_wq, ~0u}});
    g.scratch_owner = &t; // released when this syscall finishes
    auto write_and_go = [data = std::move(data), then = std::move(then)](Task& task) -> SyscallOutcome {
        uint64_t addr = task.group().scratch;
        if (ptrace::poke_memory(task.host_tid(), addr, data.data(), data.size()).is_error())
            return Errno(EFAULT);
        return then(task, addr);
    };
    if (t.group().scratch)
        return write_and_go(t);
    // The scratch page is read-only for the guest, so another guest thread cannot
    // change a path between the sentry's check and the injected call.
    return SyscallOutcome::inject(SYS_mmap,
        {0, k_scratch_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0},
        [write_and_go = std::move(write_and_go)](Task& task, long r) -> SyscallOutcome {
            if (r < 0 && r > -4096)
                return Errno(static_cast<int>(-r));
            task.group().scratch = static_cast<uint64_t>(r);
            return write_and_go(task);
        });
}

void Kernel::strace_enter(Task& t)
{
    if (!m_opts.strace_only.empty() && !m_opts.strace_only.count(t.syscall_args().nr))
        return;
    t.m_strace_pending = true;
    strace_print_entry(t);
}

void Kernel::strace_exit(Task& t, long value)
{
    if (!t.m_strace_pending)
        return;
    t.m_strace_pending = false;
    strace_print_exit(t, value);
}

// --- Task ---

FsContext::FsContext(const FsContext& o)
    : cwd_fd(o.cwd_fd >= 0 ? fcntl(o.cwd_fd, F_DUPFD_CLOEXEC, 3) : -1)
    , umask(o.umask)
{
}

FsContext::~FsContext()
{
    if (cwd_fd >= 0)
        close(cwd_fd);
}

Task::Task(Kernel& k, pid_t host_tid, pid_t vtid, std::shared_ptr<ThreadGroup> tg)
    : m_kernel(k)
    , m_host_tid(host_tid)
    , m_vtid(vtid)
    , m_group(std::move(tg))
{
}

Task::~Task() = default;

void Task::wake(uint32_t) { m_kernel.schedule(*this); }

void Task::set_blocked(signals::SigSet s) { m_blocked = s.without_unblockable() | m_kernel.mandatory_mask(); }

Result<void> Task::copy_in(uint64_t addr, void* buf, size_t len)
{
    auto n = ptrace::read_memory(m_host_tid, addr, buf, len);
    if (n.is_error() || n.value() != len)
        return Errno(EFAULT);
    return {};
}

Result<void> Task::copy_out(uint64_t addr, const void* buf, size_t len)
{
    auto n = ptrace::write_memory(m_host_tid, addr, buf, len);
    if (n.is_error() || n.value() != len)
        return Errno(EFAULT);
    return {};
}

size_t Task::copy_in_partial(uint64_t addr, void* buf, size_t len)
{
    return ptrace::read_memory_partial(m_host_tid, addr, buf, len);
}

size_t Task::copy_out_partial(uint64_t addr, const void* buf, size_t len)
{
    return ptrace::write_memory_partial(m_host_tid, addr, buf, len);
}

Result<std::string> Task::copy_string(uint64_t addr, size_t max)
{
    std::string out;
    char chunk[256];
    while (out.size() < max) {
        // Never read across a page boundary in one go: the next page may be unmapped.
        size_t to_page = 4096 - (addr & 4095);
        size_t want = std::min({sizeof chunk, to_page, max - out.size()});
        auto n = ptrace::read_memory(m_host_tid, addr, chunk, want);
        if (n.is_error() || n.value() == 0)
            return Errno(EFAULT);
        size_t got = n.value();
        auto* nul = static_cast<char*>(memchr(chunk, 0, got));
        if (nul) {
            out.append(chunk, static_cast<size_t>(nul - chunk));
            return out;
        }
        out.append(chunk, got);
        addr += got;
    }
    return Errno(ENAMETOOLONG);
}

} // namespace sentry::kernel
