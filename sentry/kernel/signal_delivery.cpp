// Sending and delivering signals: the one delivery path (Linux kernel/signal.c
// get_signal(), arch/x86/kernel/signal.c handle_signal(), setup_rt_frame()) and
// rt_sigreturn. Every signal a guest sees goes through here; the host never
// delivers one on its own (host stops are suppressed or turned into emulated
// signals with their siginfo).

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "sentry/abi/x86_64/syscall_regs.h"
#include "sentry/common/event_loop.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signalfd.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/signals/frame_x86_64.h"

namespace sentry::kernel {

namespace {

class TaskMemory final : public signals::GuestMemoryAccess {
public:
    explicit TaskMemory(Task& t) : m_task(t) {}
    Result<void> read(uint64_t addr, void* buf, size_t len) override { return m_task.copy_in(addr, buf, len); }
    Result<void> write(uint64_t addr, const void* buf, size_t len) override
    {
        return m_task.copy_out(addr, buf, len);
    }

private:
    Task& m_task;
};

// The target's RLIMIT_SIGPENDING (PendingQueue::enqueue applies Linux's rules).
size_t rt_queue_limit(ThreadGroup& g, const abi::SigInfo&)
{
    auto lim = g.rlimits[RLIMIT_SIGPENDING].rlim_cur;
    return lim == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(lim);
}

bool is_restart_code(long v) { return v <= -k_ERESTARTSYS && v >= -k_ERESTART_RESTARTBLOCK; }

} // namespace

void Kernel::send_signal(Task& t, int sig) { (void)send_signal(t, signals::make_siginfo(sig, SI_USER, t.group().vpid, getuid())); }

bool Kernel::send_signal(ThreadGroup& g, const abi::SigInfo& info)
{
    int sig = info.si_signo;
    if (g.exiting || g.zombie)
        return true;
    if (sig == SIGKILL) {
        exit_group(g, SIGKILL);
        return true;
    }
    prepare_signal(g, sig);
    // An ignored signal is dropped at once unless a thread blocks it (it might be
    // waited for with sigtimedwait/signalfd). Compare Linux sig_ignored().
    bool any_blocks = false;
    for (Task* t : g.tasks)
        any_blocks |= t->m_blocked.has(sig);
    if (g.sighand->ignores(sig) && !any_blocks)
        return true;
    if (g.shared_pending.enqueue(info, rt_queue_limit(g, info)) == signals::PendingQueue::EnqueueResult::Overflow)
        return false;
    for (Task* t : g.tasks)
        t->m_signal_wq.notify(~0u);
    SignalFd::notify_all();
    // Compare Linux complete_signal(): wake one thread that does not block it,
    // the main thread first; prefer one that is not inside a native call.
    Task* chosen = nullptr;
    for (Task* t : g.tasks) {
        if (t->m_thread_exited || t->m_blocked.has(sig))
            continue;
        if (!chosen || (chosen->state() == Task::State::Injecting && t->state() != Task::State::Injecting))
            chosen = t;
    }
    if (chosen)
        signal_wake(*chosen);
    return true;
}

bool Kernel::send_signal(Task& t, const abi::SigInfo& info)
{
    int sig = info.si_signo;
    auto& g = t.group();
    if (g.exiting || g.zombie)
        return true;
    if (sig == SIGKILL) {
        exit_group(g, SIGKILL);
        return true;
    }
    prepare_signal(g, sig);
    if (g.sighand->ignores(sig) && !t.m_blocked.has(sig))
        return true;
    if (t.m_sigpending.enqueue(info, rt_queue_limit(g, info)) == signals::PendingQueue::EnqueueResult::Overflow)
        return false;
    t.m_signal_wq.notify(~0u);
    SignalFd::notify_all();
    if (!t.m_blocked.has(sig))
        signal_wake(t);
    return true;
}

namespace {

bool is_stop_signal(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

} // namespace

// Compare Linux kernel/signal.c:prepare_signal(): a stop signal discards a pending
// SIGCONT; SIGCONT discards pending stop signals and continues a stopped group at
// once, whatever its action or mask.
void Kernel::prepare_signal(ThreadGroup& g, int sig)
{
    if (is_stop_signal(sig)) {
        g.shared_pending.discard(SIGCONT);
        for (Task* t : g.tasks)
            t->m_sigpending.discard(SIGCONT);
        return;
    }
    if (sig != SIGCONT)
        return;
    for (int s : {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}) {
        g.shared_pending.discard(s);
        for (Task* t : g.tasks)
            t->m_sigpending.discard(s);
    }
    if (g.stopped)
        continue_group(g);
}

bool Kernel::signal_pgrp(pid_t pgid, const abi::SigInfo& info)
{
    std::vector<std::shared_ptr<ThreadGroup>> members;
    for (auto& [vpid, w] : m_groups)
        if (auto m = w.lock(); m && !m->zombie && m->pgid == pgid)
            members.push_back(m);
    for (auto& m : members)
        (void)send_signal(*m, info);
    return !members.empty();
}

void Kernel::notify_parent_cldstop(ThreadGroup& g, int why)
{
    if (&g == m_init.lock().get() && why == CLD_STOPPED && !m_done) {
        // The sandbox's init has its parent outside: the shell that started the
        // sentry. Stop the sentry too, so that the shell sees its job stopped; its
        // SIGCONT continues the init (on_host_signal).
        boost::asio::post(event_loop(), [] { kill(getpid(), SIGSTOP); });
        return;
    }
    auto parent = g.parent_ref();
    if (!parent || parent->exiting)
        return;
    parent->child_exit_wq.notify(1);
    const auto& act = parent->sighand->get(SIGCHLD);
    if (act.flags & SA_NOCLDSTOP)
        return;
    auto info = signals::make_siginfo(SIGCHLD, why, g.vpid, getuid());
    info.u.chld.status = why == CLD_STOPPED ? g.stop_sig : SIGCONT;
    (void)send_signal(*parent, info);
}

// A process group is orphaned when no member has a parent in another group of the
// same session (POSIX; Linux will_become_orphaned_pgrp()). The sandbox's init has
// its parent outside, in the session that started the sentry: not orphaned.
bool Kernel::pgrp_is_orphaned(pid_t pgid)
{
    for (auto& [vpid, w] : m_groups) {
        auto g = w.lock();
        if (!g || g->zombie || g->pgid != pgid)
            continue;
        auto p = g->parent_ref();
        if (!p)
            return false;
        if (p->pgid != pgid && p->sid == g->sid)
            return false;
    }
    return true;
}

// Compare Linux kernel/exit.c:kill_orphaned_pgrp(). `g`'s group may have just lost
// its last member with a parent in another group of the same session: `link` is
// that parent's process (the exit of `g` itself, its parent passed, or the exit of
// `link`, the former parent of a reparented `g`). POSIX wants a newly orphaned group
// with stopped members to get SIGHUP and then SIGCONT, so that it is not left
// stopped with nobody to continue it. Zombies are no members (the exiting one is
// one already).
void Kernel::kill_orphaned_pgrp(ThreadGroup& g, const ThreadGroup& link)
{
    if (link.pgid == g.pgid || link.sid != g.sid || !pgrp_is_orphaned(g.pgid))
        return;
    std::vector<std::shared_ptr<ThreadGroup>> members;
    bool any_stopped = false;
    for (auto& [vpid, w] : m_groups) {
        auto m = w.lock();
        if (!m || m->zombie || m->pgid != g.pgid)
            continue;
        any_stopped |= m->stopped;
        members.push_back(m);
    }
    if (!any_stopped)
        return;
    for (int sig : {SIGHUP, SIGCONT})
        for (auto& m : members)
            (void)send_signal(*m, signals::make_siginfo(sig, SI_KERNEL));
}

bool Kernel::do_signal_stop(Task& t, int sig)
{
    auto& g = t.group();
    // Terminal stop signals to an orphaned process group are discarded.
    if (sig != SIGSTOP && pgrp_is_orphaned(g.pgid))
        return false;
    if (g.stopped)
        return true;
    g.stopped = true;
    g.stop_sig = sig;
    g.stop_report = true;
    g.cont_report = false;
    for (Task* o : g.tasks)
        if (o != &t && o->state() == Task::State::Running && !o->m_interrupt_sent) {
            o->m_interrupt_sent = true;
            (void)ptrace::interrupt(o->host_tid());
        }
    notify_parent_cldstop(g, CLD_STOPPED);
    return true;
}

void Kernel::continue_group(ThreadGroup& g)
{
    g.stopped = false;
    g.stop_report = false;
    g.cont_report = true;
    for (Task* t : g.tasks) {
        if (t->state() != Task::State::Stopped)
            continue;
        // Its registers are already those to resume with; signals that came while
        // it was stopped are delivered first.
        t->set_state(Task::State::Handling);
        if (has_deliverable(*t) && ptrace::get_regs(t->host_tid(), t->regs()).is_ok()) {
            deliver_signals(*t, std::nullopt);
            if (t->state() == Task::State::Exiting)
                continue;
            (void)ptrace::set_regs(t->host_tid(), t->regs());
        }
        resume(*t, 0);
    }
    notify_parent_cldstop(g, CLD_CONTINUED);
}

bool Kernel::has_deliverable(Task& t)
{
    // Ignored signals still queued (blocked when sent, unblocked since) count too:
    // delivery discards them.
    return t.m_sigpending.next(t.m_blocked) || t.group().shared_pending.next(t.m_blocked);
}

// Bring `t` to a point where it can take its signals. Compare Linux
// signal_wake_up(): a sleeping task is woken out of its wait, a running one is
// kicked (here: PTRACE_INTERRUPT).
void Kernel::signal_wake(Task& t)
{
    auto& g = t.group();
    auto next = t.m_sigpending.next(t.m_blocked);
    if (!next)
        next = g.shared_pending.next(t.m_blocked);
    if (!next)
        return;
    int sig = *next;
    const auto& act = g.sighand->get(sig);
    (void)act;
    bool acts = !g.sighand->ignores(sig);
    if (!acts)
        return;
    switch (t.state()) {
    case Task::State::Running:
        if (!t.m_interrupt_sent) {
            t.m_interrupt_sent = true;
            (void)ptrace::interrupt(t.host_tid());
        }
        return;
    case Task::State::Parked: {
        unpark(t);
        t.set_state(Task::State::Handling);
        // A call whose condition is met by now completes (Linux checks it before
        // signal_pending(): a wait4 woken by the exit that also sent SIGCHLD
        // returns the child); only one that would sleep again is interrupted.
        const SyscallEntry* e = syscall_entry(t.syscall_args().nr);
        SyscallOutcome o = e && e->handler ? e->handler(t, t.syscall_args()) : SyscallOutcome(Errno(EINTR));
        if (o.kind() != SyscallOutcome::Kind::Block) {
            apply_outcome(t, std::move(o));
            return;
        }
        finish_syscall(t, t.interrupted_result());
        return;
    }
    case Task::State::Injecting:
        // A native call that blocks (futex wait) is interrupted like a parked one.
        if (!t.m_interrupt_sent) {
            t.m_interrupt_sent = true;
            (void)ptrace::interrupt(t.host_tid());
        }
        return;
    default:
        // Handling: delivered when the syscall finishes. New: at its first stop.
        return;
    }
}

bool Kernel::fixup_timer_info(Task& t, abi::SigInfo& info)
{
    // Only a POSIX timer's own siginfo (cookie != 0) is a timer's: one queued by
    // rt_sigqueueinfo with SI_TIMER is delivered as it is (Linux collect_signal()
    // checks SIGQUEUE_PREALLOC, not only the code).
    if (info.si_code != SI_TIMER || info.pad0 == 0)
        return true;
    uint32_t cookie = static_cast<uint32_t>(info.pad0);
    info.pad0 = 0;
    auto& timers = t.group().posix_timers;
    auto it = timers.find(info.u.timer.tid);
    if (it == timers.end() || it->second->cookie != cookie)
        return false; // deleted since: its signal is dropped (Linux posixtimer_deliver_signal())
    auto& pt = *it->second;
    pt.last_overrun = std::min<uint64_t>(pt.overrun, INT32_MAX);
    info.u.timer.overrun = static_cast<int32_t>(pt.last_overrun);
    pt.overrun = 0;
    pt.pending = false;
    return true;
}

std::optional<abi::SigInfo> Kernel::dequeue_signal(Task& t)
{
    return dequeue_signal_from(t, ~t.m_blocked);
}

std::optional<abi::SigInfo> Kernel::dequeue_signal_from(Task& t, signals::SigSet wanted)
{
    // The thread's own queue first, then the process's (Linux dequeue_signal()).
    signals::SigSet blocked = ~wanted;
    for (;;) {
        auto mine = t.m_sigpending.next(blocked);
        auto shared = t.group().shared_pending.next(blocked);
        std::optional<abi::SigInfo> info;
        if (mine) // the whole private queue before any shared signal
            info = t.m_sigpending.dequeue(blocked);
        else if (shared)
            info = t.group().shared_pending.dequeue(blocked);
        else
            return std::nullopt;
        if (fixup_timer_info(t, *info))
            return info;
    }
}

void Kernel::force_sigsegv(Task& t)
{
    // Compare Linux force_sigsegv(): the frame could not be built; the process dies.
    exit_group(t.group(), SIGSEGV | (t.group().rlimits[RLIMIT_CORE].rlim_cur ? 0x80 : 0));
}

bool Kernel::setup_frame(Task& t, const abi::SigInfo& info, std::vector<uint8_t>& xstate)
{
    auto& g = t.group();
    int sig = info.si_signo;
    signals::KernelSigaction act = g.sighand->get(sig);
    signals::FrameRequest req;
    req.sig = sig;
    req.info = info;
    req.action = act;
    req.saved_mask = (t.m_saved_mask ? *t.m_saved_mask : t.m_blocked).bits();
    req.altstack = t.m_altstack;
    if (t.m_fault) {
        req.trapno = t.m_fault->trapno;
        req.err = t.m_fault->err;
        req.cr2 = t.m_fault->cr2;
        t.m_fault.reset();
    }
    TaskMemory mem(t);
    auto r = signals::setup_rt_frame(mem, t.regs(), xstate, req, signals::XstateLayout::host());
    if (r.is_error())
        return false;
    ++m_stats.signals;
    if (m_opts.strace)
        strace_print_signal(t, info);
    t.m_saved_mask.reset();
    if (r->disarm_altstack)
        t.m_altstack = signals::AltStack{};
    // Compare Linux signal_delivered(): block sa_mask and, unless SA_NODEFER, the
    // signal itself; SA_RESETHAND restores the default action.
    signals::SigSet blocked = t.m_blocked | signals::SigSet(act.mask);
    if (!(act.flags & SA_NODEFER))
        blocked.add(sig);
    t.set_blocked(blocked);
    if (act.flags & SA_RESETHAND) {
        // Only the handler goes back to SIG_DFL; the flags stay (Linux signal_delivered()).
        signals::KernelSigaction reset = act;
        reset.handler = signals::k_sig_dfl;
        g.sighand->set(sig, reset);
    }
    return true;
}

void Kernel::deliver_signals(Task& t, std::optional<long> syscall_result)
{
    auto& g = t.group();
    auto& regs = t.regs();
    bool restart_pending = syscall_result && is_restart_code(*syscall_result);
    std::vector<uint8_t> xstate;
    bool have_xstate = false;
    while (!g.exiting) {
        auto info = dequeue_signal(t);
        if (!info)
            break;
        int sig = info->si_signo;
        const auto act = g.sighand->get(sig);
        if (act.handler == signals::k_sig_ign)
            continue;
        if (act.handler == signals::k_sig_dfl) {
            switch (signals::default_action(sig)) {
            case signals::DefaultAction::Terminate:
                exit_group(g, sig);
                return;
            case signals::DefaultAction::CoreDump:
                // The core flag says a core was written; with RLIMIT_CORE 0 none is.
                exit_group(g, sig | (g.rlimits[RLIMIT_CORE].rlim_cur ? 0x80 : 0));
                return;
            case signals::DefaultAction::Stop:
                if (do_signal_stop(t, sig))
                    goto stopped; // the rest waits until the group continues
                continue;
            default:
                continue; // ignore, continue (SIGCONT did its work when sent)
            }
        }
        if (restart_pending) {
            // Compare Linux arch/x86/kernel/signal.c:handle_signal().
            long code = -*syscall_result;
            bool restart = code == k_ERESTARTNOINTR || (code == k_ERESTARTSYS && (act.flags & SA_RESTART));
            if (restart) {
                regs.rax = regs.orig_rax;
                regs.rip -= 2;
            } else {
                regs.rax = static_cast<uint64_t>(-EINTR);
            }
            restart_pending = false;
        }
        if (!have_xstate) {
            if (ptrace::get_xstate(t.host_tid(), xstate).is_error()) {
                force_sigsegv(t);
                return;
            }
            have_xstate = true;
        }
        if (!setup_frame(t, *info, xstate)) {
            force_sigsegv(t);
            return;
        }
    }
stopped:
    if (g.exiting)
        return;
    if (restart_pending) {
        // No handler ran: the call starts again; ERESTART_RESTARTBLOCK goes through
        // restart_syscall and the task's restart block (EINTR if it has none).
        if (-*syscall_result == k_ERESTART_RESTARTBLOCK) {
            if (t.m_restart_block) {
                regs.rax = SYS_restart_syscall;
                regs.rip -= 2;
            } else {
                regs.rax = static_cast<uint64_t>(-EINTR);
            }
        } else {
            regs.rax = regs.orig_rax;
            regs.rip -= 2;
        }
    }
    if (t.m_saved_mask) {
        t.m_blocked = *t.m_saved_mask;
        t.m_saved_mask.reset();
    }
    if (have_xstate && ptrace::set_xstate(t.host_tid(), xstate).is_error())
        force_sigsegv(t);
}

// ptrace does not report the exception's trap number and error code, which
// Linux puts in sigcontext; rebuild them from the siginfo, the faulting
// instruction and the mapping (the page-fault "present" bit is inferred: a
// PROT_NONE or never-mapped page is not present).
Task::FaultRegs Kernel::fault_regs(Task& t, const abi::SigInfo& info)
{
    Task::FaultRegs f;
    int sig = info.si_signo, code = info.si_code;
    uint64_t addr = info.u.fault.addr;
    uint64_t rip = t.regs().rip;
    switch (sig) {
    case SIGSEGV:
    case SIGBUS: {
        if (code == SI_KERNEL) {
            f.trapno = 13; // general protection
            break;
        }
        if (sig == SIGBUS && code == 1 /* BUS_ADRALN */) {
            f.trapno = 17;
            break;
        }
        f.trapno = 14;
        f.cr2 = addr;
        uint64_t err = 4; // user mode
        bool fetch = addr == rip;
        if (fetch)
            err |= 0x10;
        else if (fault_is_write(t, rip))
            err |= 2;
        if (sig == SIGSEGV && code == 2 /* SEGV_ACCERR */ && !mapping_is_prot_none(t, addr))
            err |= 1; // the page was present: a protection violation
        f.err = err;
        break;
    }
    case SIGFPE: {
        if (code == 1 /* FPE_INTDIV */ || code == 2 /* FPE_INTOVF */) {
            f.trapno = code == 1 ? 0 : 4;
            break;
        }
        // x87 exceptions come as #MF (16), SSE ones as #XM (19): the x87 status
        // word says whether the x87 unit has one pending.
        std::vector<uint8_t> xs;
        uint16_t fsw = 0;
        if (ptrace::get_xstate(t.host_tid(), xs).is_ok() && xs.size() > 4)
            std::memcpy(&fsw, xs.data() + 2, sizeof fsw);
        f.trapno = (fsw & 0x80) ? 16 : 19;
        break;
    }
    case SIGILL:
        f.trapno = 6;
        break;
    case SIGTRAP:
        f.trapno = code == SI_KERNEL ? 3 : 1; // int3, else debug (single-step)
        break;
    default:
        break;
    }
    return f;
}

bool Kernel::mapping_is_prot_none(Task& t, uint64_t addr)
{
    FILE* maps = fopen(fmt::format("/proc/{}/maps", t.group().host_pid).c_str(), "r");
    if (!maps)
        return false;
    char line[512];
    bool none = false;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo = 0, hi = 0;
        char perms[8] = {};
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            none = perms[0] == '-' && perms[1] == '-' && perms[2] == '-';
            break;
        }
    }
    fclose(maps);
    return none;
}

// Whether the instruction at `rip` writes its memory operand: the common stores
// (mov, stos, the SSE/AVX moves to memory); anything else counts as a read.
bool Kernel::fault_is_write(Task& t, uint64_t rip)
{
    uint8_t code[16] = {};
    size_t n = ptrace::read_memory_partial(t.host_tid(), rip, code, sizeof code);
    size_t i = 0;
    auto is_prefix = [](uint8_t b) {
        return b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0xf0 || b == 0x2e || b == 0x36 ||
            b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
    };
    while (i < n && is_prefix(code[i]))
        ++i;
    if (i < n && (code[i] & 0xf0) == 0x40)
        ++i; // REX
    if (i >= n)
        return false;
    uint8_t op = code[i];
    if (op == 0x88 || op == 0x89 || op == 0xc6 || op == 0xc7 || op == 0xaa || op == 0xab || op == 0xa4 || op == 0xa5)
        return true;
    if (op <= 0x3f && (op & 7) <= 1 && op != 0x38 && op != 0x39)
        return true; // add/or/adc/sbb/and/sub/xor r/m, r: read-modify-write
    if ((op == 0xc5 || op == 0xc4) && i + 1 < n) {
        // VEX: the opcode follows the 2- or 3-byte prefix.
        size_t j = i + (op == 0xc5 ? 2 : 3);
        if (j < n) {
            uint8_t vop = code[j];
            return vop == 0x11 || vop == 0x29 || vop == 0x7f || vop == 0xe7 || vop == 0x2b;
        }
        return false;
    }
    if (op == 0x0f && i + 1 < n) {
        uint8_t op2 = code[i + 1];
        return op2 == 0x11 || op2 == 0x29 || op2 == 0x7f || op2 == 0xe7 || op2 == 0x2b || op2 == 0xd6 || op2 == 0x7e ||
            op2 == 0xc3;
    }
    return false;
}

void Kernel::on_fault_signal(Task& t, int sig)
{
    // A real fault in guest code (SIGSEGV, SIGBUS, ...), suppressed on the host and
    // raised in the emulated kernel with the host's siginfo. If the guest blocks
    // or ignores it, it cannot go on: the action becomes SIG_DFL (Linux
    // force_sig_info_to_task()).
    abi::SigInfo info{};
    if (ptrace::get_siginfo(t.host_tid(), &info).is_error())
        info = signals::make_siginfo(sig, 0x80 /* SI_KERNEL */);
    info.si_signo = sig;
    auto& g = t.group();
    const auto& act = g.sighand->get(sig);
    bool blocked = t.m_blocked.has(sig);
    if (blocked || act.handler == signals::k_sig_ign) {
        g.sighand->set(sig, signals::KernelSigaction{});
        t.m_blocked.remove(sig);
    }
    t.m_sigpending.enqueue(info, SIZE_MAX);
    t.set_state(Task::State::Handling);
    if (ptrace::get_regs(t.host_tid(), t.regs()).is_error())
        return;
    t.m_fault = fault_regs(t, info);
    deliver_signals(t, std::nullopt);
    if (t.state() == Task::State::Exiting)
        return;
    (void)ptrace::set_regs(t.host_tid(), t.regs());
    resume(t, 0);
}

SyscallOutcome Kernel::sigreturn(Task& t)
{
    std::vector<uint8_t> xstate;
    if (ptrace::get_xstate(t.host_tid(), xstate).is_error()) {
        force_sigsegv(t);
        return SyscallOutcome::no_return();
    }
    TaskMemory mem(t);
    auto r = signals::restore_rt_frame(mem, t.regs(), xstate, signals::XstateLayout::host());
    if (r.is_error() || ptrace::set_xstate(t.host_tid(), xstate).is_error()) {
        force_sigsegv(t);
        return SyscallOutcome::no_return();
    }
    t.set_blocked(signals::SigSet(r->mask));
    // restore_altstack(): like sigaltstack, errors other than EFAULT are ignored.
    const auto& ss = r->stack;
    bool on = t.m_altstack.on_stack(t.regs().rsp);
    if (!on) {
        int mode = ss.ss_flags & ~static_cast<int>(1u << 31);
        if (mode == SS_DISABLE) {
            t.m_altstack = signals::AltStack{};
        } else if ((mode == 0 || mode == SS_ONSTACK) && ss.ss_size >= 2048) {
            t.m_altstack.sp = ss.ss_sp;
            t.m_altstack.size = ss.ss_size;
            t.m_altstack.flags = ss.ss_flags & static_cast<int>(1u << 31);
        }
    }
    // The restored rax is the "return value"; signals unblocked by the restored
    // mask are delivered before the guest resumes.
    long value = static_cast<long>(t.regs().rax);
    if (m_opts.strace)
        strace_exit(t, value);
    deliver_signals(t, std::nullopt);
    if (t.state() == Task::State::Exiting)
        return SyscallOutcome::no_return();
    if (ptrace::set_regs(t.host_tid(), t.regs()).is_error())
        return SyscallOutcome::no_return();
    resume(t, 0);
    return SyscallOutcome::no_return();
}

} // namespace sentry::kernel
