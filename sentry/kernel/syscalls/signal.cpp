// Signal syscalls: actions, masks, sending, the alternate stack.

#include <signal.h>
#include <sys/syscall.h>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

constexpr size_t k_sigset_size = 8;
constexpr size_t k_minsigstksz = 2048; // Linux MINSIGSTKSZ on x86-64
constexpr int SS_AUTODISARM = 1 << 31; // Linux uapi/linux/signal.h

bool on_altstack(Task& t)
{
    const stack_t& ss = t.m_altstack;
    if (ss.ss_flags & SS_DISABLE)
        return false;
    uint64_t sp = t.regs().rsp;
    uint64_t base = reinterpret_cast<uint64_t>(ss.ss_sp);
    return sp > base && sp - base <= ss.ss_size;
}

// Send to a process the way kill(2) addresses it; returns whether any was found.
// Compare Linux kernel/signal.c:kill_something_info().
SyscallOutcome kill_something(Task& t, pid_t pid, int sig)
{
    auto& k = t.kernel();
    if (pid > 0) {
        auto g = k.group_by_vpid(pid);
        if (!g || g->zombie)
            return Errno(ESRCH);
        if (sig)
            k.send_signal(*g, sig);
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
            k.send_signal(*g, sig);
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
        handlers.set(sig, act);
        // Setting an action that ignores the signal discards what is pending
        // (POSIX; Linux do_sigaction()).
        if (handlers.ignores(sig)) {
            t.group().pending.remove(sig);
            for (Task* o : t.group().tasks)
                o->m_pending.remove(sig);
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
    t.m_blocked = next.without_unblockable();
    if (set_addr)
        t.kernel().recheck_pending(t);
    return 0;
}

SENTRY_SYSCALL(rt_sigpending)
{
    if (args.arg(1) > k_sigset_size)
        return Errno(EINVAL);
    signals::SigSet pending = (t.m_pending | t.group().pending) & t.m_blocked;
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
    if (sig)
        t.kernel().send_signal(*target, sig);
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
    if (old_addr) {
        stack_t old = t.m_altstack;
        if (onstack)
            old.ss_flags = SS_ONSTACK | (old.ss_flags & SS_AUTODISARM);
        else if (old.ss_flags & SS_DISABLE)
            old = stack_t{nullptr, SS_DISABLE, 0};
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
            t.m_altstack = stack_t{nullptr, SS_DISABLE, 0};
        } else {
            if (ss.ss_size < k_minsigstksz)
                return Errno(ENOMEM);
            ss.ss_flags &= SS_AUTODISARM;
            t.m_altstack = ss;
        }
    }
    return 0;
}

} // namespace sentry::kernel
