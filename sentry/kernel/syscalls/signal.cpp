// Signal syscalls: actions, masks, sending, the alternate stack.

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

constexpr size_t k_sigset_size = 8;
constexpr uint64_t k_uapi_sa_flags = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER |
    SA_RESETHAND | 0x800 /* SA_EXPOSE_TAGBITS */ | 0x04000000 /* SA_RESTORER */;
constexpr size_t k_minsigstksz = 2048; // Linux MINSIGSTKSZ on x86-64
constexpr int SS_AUTODISARM = 1 << 31; // Linux uapi/linux/signal.h

bool on_altstack(Task& t) { return t.m_altstack.on_stack(t.regs().rsp); }

abi::SigInfo user_info(Task& t, int sig, int code)
{
    return signals::make_siginfo(sig, code, t.group().vpid, getuid());
}

// Send to a process the way kill(2) addresses it; returns whether any was found.
// Compare Linux kernel/signal.c:kill_something_info().
SyscallOutcome kill_something(Task& t, pid_t pid, int sig)
{
    auto& k = t.kernel();
    if (pid > 0) {
        auto g = k.group_by_vpid(pid);
        if (!g)
            return Errno(ESRCH);
        // A zombie keeps its pid until reaped: the signal is accepted and lost.
        if (sig && !g->zombie)
            (void)k.send_signal(*g, user_info(t, sig, SI_USER));
        return 0;
    }
    pid_t pgid = pid == 0 ? t.group().pgid : -pid;
    std::vector<std::shared_ptr<ThreadGroup>> targets;
    for (auto& [vpid, w] : k.groups()) {
        auto g = w.lock();
        if (!g || g->zombie)
            continue;
        if (pid == -1) {
            if (g->vpid == 1 || g.get() == &t.group())
                continue;
        } else if (g->pgid != pgid) {
            continue;
        }
        targets.push_back(g);
    }
    if (targets.empty())
        return Errno(ESRCH);
    if (sig)
        for (auto& g : targets)
            (void)k.send_signal(*g, user_info(t, sig, SI_USER));
    return 0;
}

} // namespace

SENTRY_SYSCALL(rt_sigaction)
{
    int sig = args.as_int(0);
    uint64_t act_addr = args.arg(1), old_addr = args.arg(2);
    if (args.arg(3) != k_sigset_size)
        return Errno(EINVAL);
    auto s = signals::Signal::from_raw(sig);
    if (!s || (act_addr && (sig == SIGKILL || sig == SIGSTOP)))
        return Errno(EINVAL);
    signals::KernelSigaction act{};
    if (act_addr)
        act = TRY(t.copy_in<signals::KernelSigaction>(act_addr));
    auto& handlers = *t.group().sighand;
    signals::KernelSigaction old = handlers.get(sig);
    if (old_addr)
        TRY(t.copy_out(old_addr, old));
    if (act_addr) {
        act.mask = signals::SigSet(act.mask).without_unblockable().bits();
        // Unknown flag bits are cleared, so that programs can detect what the
        // kernel supports (Linux do_sigaction(), UAPI_SA_FLAGS).
        act.flags &= k_uapi_sa_flags;
        handlers.set(sig, act);
        // Setting an action that ignores the signal discards what is pending
        // (POSIX; Linux do_sigaction()).
        if (handlers.ignores(sig)) {
            t.group().shared_pending.discard(sig);
            for (Task* o : t.group().tasks)
                o->m_sigpending.discard(sig);
        }
    }
    return 0;
}

SENTRY_SYSCALL(rt_sigprocmask)
{
    int how = args.as_int(0);
    uint64_t set_addr = args.arg(1), old_addr = args.arg(2);
    if (args.arg(3) != k_sigset_size)
        return Errno(EINVAL);
    signals::SigSet old = t.m_blocked;
    signals::SigSet next = old;
    if (set_addr) {
        auto bits = TRY(t.copy_in<uint64_t>(set_addr));
        signals::SigSet set(bits);
        switch (how) {
        case SIG_BLOCK: next = old | set; break;
        case SIG_UNBLOCK: next = old & ~set; break;
        case SIG_SETMASK: next = set; break;
        default: return Errno(EINVAL);
        }
    }
    if (old_addr)
        TRY(t.copy_out(old_addr, old.bits()));
    // Signals this unblocks are delivered as the call returns.
    t.set_blocked(next);
    return 0;
}

SENTRY_SYSCALL(rt_sigpending)
{
    if (args.arg(1) > k_sigset_size)
        return Errno(EINVAL);
    signals::SigSet pending = (t.m_sigpending.set() | t.group().shared_pending.set()) & t.m_blocked;
    uint64_t bits = pending.bits();
    TRY(t.copy_out(args.arg(0), &bits, args.arg(1)));
    return 0;
}

SENTRY_SYSCALL(kill)
{
    int sig = args.as_int(1);
    if (sig != 0 && !signals::Signal::from_raw(sig))
        return Errno(EINVAL);
    return kill_something(t, args.as_int(0), sig);
}

static SyscallOutcome do_tkill(Task& t, pid_t tgid, pid_t tid, int sig)
{
    if (tid <= 0)
        return Errno(EINVAL);
    if (sig != 0 && !signals::Signal::from_raw(sig))
        return Errno(EINVAL);
    Task* target = t.kernel().task_by_vtid(tid);
    if (!target || target->m_thread_exited || (tgid > 0 && target->group().vpid != tgid))
        return Errno(ESRCH);
    if (sig && !t.kernel().send_signal(*target, user_info(t, sig, SI_TKILL)))
        return Errno(EAGAIN); // a realtime signal beyond RLIMIT_SIGPENDING
    return 0;
}

SENTRY_SYSCALL(tgkill)
{
    if (args.as_int(0) <= 0)
        return Errno(EINVAL);
    return do_tkill(t, args.as_int(0), args.as_int(1), args.as_int(2));
}

SENTRY_SYSCALL(tkill) { return do_tkill(t, -1, args.as_int(0), args.as_int(1)); }

// Compare Linux kernel/signal.c:do_sigaltstack().
SENTRY_SYSCALL(sigaltstack)
{
    uint64_t ss_addr = args.arg(0), old_addr = args.arg(1);
    bool onstack = on_altstack(t);
    auto& cur = t.m_altstack;
    if (old_addr) {
        stack_t old{};
        old.ss_sp = reinterpret_cast<void*>(cur.sp);
        old.ss_size = cur.size;
        old.ss_flags = cur.flags_for(t.regs().rsp) | (cur.flags & SS_AUTODISARM);
        TRY(t.copy_out(old_addr, old));
    }
    if (ss_addr) {
        auto ss = TRY(t.copy_in<stack_t>(ss_addr));
        if (onstack)
            return Errno(EPERM);
        int mode = ss.ss_flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
            return Errno(EINVAL);
        if (mode == SS_DISABLE) {
            cur = signals::AltStack{};
        } else {
            if (ss.ss_size < k_minsigstksz)
                return Errno(ENOMEM);
            cur.sp = reinterpret_cast<uint64_t>(ss.ss_sp);
            cur.size = ss.ss_size;
            cur.flags = ss.ss_flags & SS_AUTODISARM;
        }
    }
    return 0;
}

// Continue a call interrupted with ERESTART_RESTARTBLOCK (Linux do_restart_syscall()).
SENTRY_SYSCALL(restart_syscall)
{
    (void)args;
    auto fn = t.m_restart_block;
    if (!fn)
        return Errno(EINTR);
    auto o = fn(t);
    if (o.kind() != SyscallOutcome::Kind::Block)
        t.m_restart_block = nullptr;
    return o;
}

SENTRY_SYSCALL(rt_sigreturn)
{
    (void)args;
    return t.kernel().sigreturn(t);
}

SENTRY_SYSCALL(rt_sigsuspend)
{
    if (args.arg(1) != k_sigset_size)
        return Errno(EINVAL);
    auto& p = t.progress();
    if (!p.started) {
        auto bits = TRY(t.copy_in<uint64_t>(args.arg(0)));
        t.m_saved_mask = t.m_blocked;
        t.set_blocked(signals::SigSet(bits));
        p.started = true;
        p.restart_code = k_ERESTARTNOHAND;
    }
    // Sleeps until a signal is delivered; the frame saves the mask from before.
    if (t.kernel().has_deliverable(t))
        return Errno(k_ERESTARTNOHAND);
    return SyscallOutcome::block({});
}

SENTRY_SYSCALL(pause)
{
    (void)args;
    t.progress().restart_code = k_ERESTARTNOHAND;
    if (t.kernel().has_deliverable(t))
        return Errno(k_ERESTARTNOHAND);
    return SyscallOutcome::block({});
}

// Compare Linux kernel/signal.c:do_sigtimedwait().
SENTRY_SYSCALL(rt_sigtimedwait)
{
    uint64_t set_addr = args.arg(0), info_addr = args.arg(1), ts_addr = args.arg(2);
    if (args.arg(3) != k_sigset_size)
        return Errno(EINVAL);
    auto bits = TRY(t.copy_in<uint64_t>(set_addr));
    signals::SigSet wanted = signals::SigSet(bits).without_unblockable();
    auto& p = t.progress();
    if (!p.started) {
        p.started = true;
        if (ts_addr) {
            auto ts = TRY(t.copy_in<struct timespec>(ts_addr));
            if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L || ts.tv_sec < 0)
                return Errno(EINVAL);
            p.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ts.tv_sec) +
                std::chrono::nanoseconds(ts.tv_nsec);
        }
        p.on_interrupt = [](Task&) -> long { return -EINTR; };
    }
    auto info = t.kernel().dequeue_signal_from(t, wanted);
    if (info) {
        if (info_addr)
            TRY(t.copy_out(info_addr, *info));
        return info->si_signo;
    }
    if (p.deadline && (t.m_timed_out || std::chrono::steady_clock::now() >= *p.deadline))
        return Errno(EAGAIN);
    return SyscallOutcome::block({{&t.m_signal_wq, ~0u}}, p.deadline);
}

static SyscallOutcome queue_info(Task& t, pid_t tgid, pid_t tid, int sig, uint64_t uinfo)
{
    if (sig != 0 && !signals::Signal::from_raw(sig))
        return Errno(EINVAL);
    auto info = TRY(t.copy_in<abi::SigInfo>(uinfo));
    // Only the kernel may claim to be the kernel or kill(2) (Linux
    // do_rt_sigqueueinfo()), unless a process signals itself.
    bool self = tgid == t.group().vpid;
    if ((info.si_code >= 0 || info.si_code == SI_TKILL) && !self)
        return Errno(EPERM);
    info.si_signo = sig;
    info.pad0 = 0; // where the kernel's own timer signals carry their cookie
    auto& k = t.kernel();
    if (tid > 0) {
        Task* target = k.task_by_vtid(tid);
        if (!target || target->m_thread_exited || target->group().vpid != tgid)
            return Errno(ESRCH);
        if (sig == 0)
            return 0;
        return k.send_signal(*target, info) ? SyscallOutcome(0) : SyscallOutcome(Errno(EAGAIN));
    }
    auto g = k.group_by_vpid(tgid);
    if (!g)
        return Errno(ESRCH);
    if (sig == 0 || g->zombie)
        return 0;
    return k.send_signal(*g, info) ? SyscallOutcome(0) : SyscallOutcome(Errno(EAGAIN));
}

SENTRY_SYSCALL(rt_sigqueueinfo) { return queue_info(t, args.as_int(0), 0, args.as_int(1), args.arg(2)); }

SENTRY_SYSCALL(rt_tgsigqueueinfo)
{
    if (args.as_int(0) <= 0 || args.as_int(1) <= 0)
        return Errno(EINVAL);
    return queue_info(t, args.as_int(0), args.as_int(1), args.as_int(2), args.arg(3));
}

} // namespace sentry::kernel
