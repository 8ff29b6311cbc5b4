// pidfd_open, pidfd_send_signal, pidfd_getfd (Linux kernel/pid.c, kernel/signal.c).
// CLONE_PIDFD and waitid(P_PIDFD) are in process.cpp.

#include <fcntl.h>
#include <signal.h>

#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

constexpr unsigned k_pidfd_nonblock = O_NONBLOCK;
// pidfd_send_signal scopes (Linux 6.9 include/uapi/linux/pidfd.h).
constexpr unsigned k_signal_thread = 1u << 0;
constexpr unsigned k_signal_thread_group = 1u << 1;
constexpr unsigned k_signal_process_group = 1u << 2;

} // namespace

// The pidfd behind guest fd `fd`: EBADF if there is none or it is another kind of
// file (Linux pidfd_pid()).
Result<std::shared_ptr<ThreadGroup>> pidfd_target(Task& t, int fd, int* file_flags)
{
    if (!t.group().fds)
        return Errno(EBADF);
    auto f = TRY(t.group().fds->get(fd));
    auto* p = PidFd::from(*f);
    if (!p)
        return Errno(EBADF);
    if (file_flags)
        *file_flags = f->flags();
    return p->group();
}

SENTRY_SYSCALL(pidfd_open)
{
    pid_t pid = args.as_int(0);
    unsigned flags = static_cast<unsigned>(args.arg(1));
    // PIDFD_THREAD (Linux 6.9) is not offered: a pidfd names a process.
    if (flags & ~k_pidfd_nonblock)
        return Errno(EINVAL);
    if (pid <= 0)
        return Errno(EINVAL);
    auto g = t.kernel().group_by_vpid(pid);
    if (!g) {
        // A thread's tid names no process (Linux: ENOENT without PIDFD_THREAD).
        Task* thread = t.kernel().task_by_vtid(pid);
        return Errno(thread ? ENOENT : ESRCH);
    }
    return TRY(install_pidfd(t, g, flags & k_pidfd_nonblock));
}

// Compare Linux kernel/signal.c: pidfd_send_signal().
SENTRY_SYSCALL(pidfd_send_signal)
{
    int fd = args.as_int(0);
    int sig = args.as_int(1);
    uint64_t info_addr = args.arg(2);
    unsigned flags = static_cast<unsigned>(args.arg(3));
    unsigned scope = flags & (k_signal_thread | k_signal_thread_group | k_signal_process_group);
    if (flags & ~scope)
        return Errno(EINVAL);
    if (scope & (scope - 1))
        return Errno(EINVAL); // at most one scope
    auto g = TRY(pidfd_target(t, fd, nullptr));
    if (sig != 0 && !signals::Signal::from_raw(sig))
        return Errno(EINVAL);
    abi::SigInfo info;
    bool self = g.get() == &t.group();
    if (info_addr) {
        info = TRY(t.copy_in<abi::SigInfo>(info_addr));
        if (info.si_signo != sig)
            return Errno(EINVAL);
        info.pad0 = 0; // where the kernel's own timer signals carry their cookie
        // Only the kernel may claim to be the kernel or kill(2), unless a process
        // signals itself as a whole.
        if ((!self || scope == k_signal_thread || scope == k_signal_process_group) &&
            (info.si_code >= 0 || info.si_code == SI_TKILL))
            return Errno(EPERM);
    } else {
        info = signals::make_siginfo(sig, scope == k_signal_thread ? SI_TKILL : SI_USER, t.group().vpid, getuid());
    }
    auto& k = t.kernel();
    if (g->reaped)
        return Errno(ESRCH);
    if (scope == k_signal_process_group) {
        bool found = false;
        for (auto& [vpid, w] : k.groups()) {
            auto m = w.lock();
            if (!m || m->zombie || m->pgid != g->pgid)
                continue;
            found = true;
            if (sig)
                (void)k.send_signal(*m, info);
        }
        return found ? SyscallOutcome(0) : SyscallOutcome(Errno(ESRCH));
    }
    // A zombie still has its pid: the signal is accepted and goes nowhere.
    if (g->zombie || g->exiting || sig == 0)
        return 0;
    if (scope == k_signal_thread) {
        Task* leader = g->leader();
        if (!leader || leader->m_thread_exited)
            return Errno(ESRCH);
        return k.send_signal(*leader, info) ? SyscallOutcome(0) : SyscallOutcome(Errno(EAGAIN));
    }
    return k.send_signal(*g, info) ? SyscallOutcome(0) : SyscallOutcome(Errno(EAGAIN));
}

// Compare Linux kernel/pid.c: pidfd_getfd(). Every guest of the sandbox may reach
// every other (they share one user), as ptrace_may_access() would allow.
SENTRY_SYSCALL(pidfd_getfd)
{
    int fd = args.as_int(0);
    int target_fd = args.as_int(1);
    if (args.arg(2) != 0)
        return Errno(EINVAL);
    auto g = TRY(pidfd_target(t, fd, nullptr));
    if (g->reaped || g->zombie || g->exiting || !g->fds)
        return Errno(ESRCH);
    auto f = TRY(g->fds->get(target_fd));
    return TRY(t.group().fds->install(f, true, 0, t.group().rlimits[RLIMIT_NOFILE].rlim_cur));
}

} // namespace sentry::kernel
