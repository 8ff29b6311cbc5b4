// Process and thread lifecycle: ids, clone/fork/vfork, execve, exit, wait4/waitid,
// process groups and sessions, uname, prctl, arch_prctl.

#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <vector>
#include <fmt/format.h>

#include "sentry/policy/policy.h"
#include "sentry/kernel/path.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

bool is_error_return(long r) { return r < 0 && r > -4096; }

constexpr uint64_t k_namespace_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
    CLONE_NEWNET | CLONE_NEWCGROUP | 0x00000080 /* CLONE_NEWTIME */;

// The flag combinations copy_process() refuses, in its order, then the namespaces
// the sandbox does not create (EPERM, as for a caller without CAP_SYS_ADMIN).
// Compare Linux kernel/fork.c:copy_process().
Result<void> check_clone_flags(Task& t, uint64_t flags)
{
    if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
        return Errno(EINVAL);
    if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
        return Errno(EINVAL);
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return Errno(EINVAL);
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return Errno(EINVAL);
    // The init of a pid namespace has no parent to share (SIGNAL_UNKILLABLE).
    if ((flags & CLONE_PARENT) && &t.group() == t.kernel().init_group().get())
        return Errno(EINVAL);
    if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
        return Errno(EINVAL);
    if (flags & k_namespace_flags)
        return Errno(EPERM);
    return {};
}

// CLONE_PIDFD's own rules, checked before any child exists (Linux copy_process():
// no pidfd for a thread; the pidfd is stored before the child runs, so a bad
// pointer fails the whole clone with EFAULT).
Result<void> check_pidfd_request(Task& t, uint64_t flags, uint64_t addr)
{
    if (flags & CLONE_THREAD)
        return Errno(EINVAL);
    return t.copy_out(addr, int{0});
}

// Whether one more task would exceed the caller's RLIMIT_NPROC (Linux
// copy_process(): EAGAIN once the user's task count, the new one included, is
// above the soft limit). Linux counts the tasks of the caller's real uid and
// exempts root and CAP_SYS_RESOURCE/CAP_SYS_ADMIN; the sandbox counts its own
// tasks whatever the uid, since the limit is the whole sandbox's: every live
// thread, every zombie not yet reaped (Linux releases the count in
// release_task()) and every clone on its way (docs/design-notes.md).
bool over_nproc_limit(Task& t)
{
    rlim_t limit = t.group().rlimits[RLIMIT_NPROC].rlim_cur;
    if (limit == RLIM_INFINITY)
        return false;
    rlim_t tasks = 0;
    for (auto& [vpid, weak] : t.kernel().groups()) {
        auto g = weak.lock();
        if (!g)
            continue;
        if (g->zombie) {
            ++tasks;
            continue;
        }
        for (Task* o : g->tasks)
            tasks += (o->m_forking && o->state() == Task::State::Injecting) ? 2 : 1;
    }
    return tasks + 1 > limit;
}

// Start an injected clone-family call and turn the host tid it returns into the
// child's virtual tid.
SyscallOutcome inject_clone(Task& t, long nr, std::array<uint64_t, 6> args, Kernel::CloneRequest req)
{
    if (over_nproc_limit(t) || t.kernel().task_limit_reached())
        return Errno(EAGAIN);
    t.kernel().set_pending_clone(t, req);
    t.m_forking = true;
    return SyscallOutcome::inject(nr, args, [req](Task& task, long r) -> SyscallOutcome {
        task.m_forking = false;
        if (is_error_return(r))
            return r;
        // The child may already be gone (it can run and die before this trap): its
        // virtual tid was recorded at the clone event.
        Task* child = task.kernel().task_by_host_tid(static_cast<pid_t>(r));
        pid_t vtid = child ? child->vtid() : task.m_last_child_vtid;
        if (vtid <= 0)
            return Errno(EAGAIN);
        if (req.flags & CLONE_PARENT_SETTID)
            (void)task.copy_out(req.parent_tid, vtid);
        if (req.flags & CLONE_PIDFD) {
            // The child is a process of its own (CLONE_THREAD was refused).
            if (auto g = task.kernel().group_by_vpid(vtid)) {
                auto fd = install_pidfd(task, g, false);
                if (fd.is_ok())
                    (void)task.copy_out(req.pidfd, fd.value());
            }
        }
        return vtid;
    });
}

// Status as wait(2) reports it and siginfo si_code for waitid.
int cld_code(int wait_status)
{
    if (WIFEXITED(wait_status))
        return CLD_EXITED;
    return WCOREDUMP(wait_status) ? CLD_DUMPED : CLD_KILLED;
}

// Which children a wait call with (pid, options) may report. Compare Linux
// kernel/exit.c:eligible_child().
bool eligible(const ThreadGroup& waiter, const ThreadGroup& child, pid_t pid, int options)
{
    if (pid > 0 && child.vpid != pid)
        return false;
    if (pid == 0 && child.pgid != waiter.pgid)
        return false;
    if (pid < -1 && child.pgid != -pid)
        return false;
    if (!(options & __WALL)) {
        bool is_clone_child = child.exit_signal != SIGCHLD;
        if (is_clone_child != bool(options & __WCLONE))
            return false;
    }
    return true;
}

enum class WaitWhat { Exited, Stopped, Continued };

struct WaitResult {
    std::shared_ptr<ThreadGroup> child; // null: nothing to report yet
    WaitWhat what = WaitWhat::Exited;
    bool any_eligible = false;
};

// The first child with something to report, as Linux's wait_consider_task() looks
// at each: an exit (if `exited`), a stop (if `stopped`), a continue (if `continued`).
WaitResult find_child(ThreadGroup& g, pid_t pid, int options, bool exited, bool stopped, bool continued)
{
    WaitResult r;
    for (auto& c : g.children) {
        if (!eligible(g, *c, pid, options))
            continue;
        r.any_eligible = true;
        if (c->zombie) {
            if (exited) {
                r.child = c;
                r.what = WaitWhat::Exited;
                return r;
            }
            continue;
        }
        if (stopped && c->stop_report && c->stopped) {
            r.child = c;
            r.what = WaitWhat::Stopped;
            return r;
        }
        if (continued && c->cont_report) {
            r.child = c;
            r.what = WaitWhat::Continued;
            return r;
        }
    }
    return r;
}

// What a wait reports as the child's usage: its own and its reaped children's
// (Linux getrusage(p, RUSAGE_BOTH)); a live child's own is the host's figure now.
struct rusage wait_rusage(ThreadGroup& child)
{
    struct rusage self = child.self_usage;
    if (!child.zombie)
        if (auto live = host_rusage(child); live.is_ok())
            self = live.value();
    return rusage_both(self, child.children_usage);
}

// A wait reaps the zombie `child`: its usage and its reaped children's are added
// to the waiter's children usage, then it is released (Linux wait_task_zombie();
// an automatically reaped child adds nothing).
void reap_zombie(Task& t, const std::shared_ptr<ThreadGroup>& child)
{
    rusage_add(t.group().children_usage, rusage_both(child->self_usage, child->children_usage));
    t.kernel().release_zombie(t.group(), child);
}

} // namespace

SENTRY_SYSCALL(getpid)
{
    (void)args;
    return t.group().vpid;
}

SENTRY_SYSCALL(gettid)
{
    (void)args;
    return t.vtid();
}

SENTRY_SYSCALL(getppid)
{
    (void)args;
    auto p = t.group().parent_ref();
    return p ? p->vpid : 0;
}

SENTRY_SYSCALL(set_tid_address)
{
    // Run natively so that the host clears and wakes the address when the thread
    // exits (pthread_join waits on it); the guest sees its virtual tid.
    t.m_clear_child_tid = args.arg(0);
    return SyscallOutcome::inject(SYS_set_tid_address, {args.arg(0), 0, 0, 0, 0, 0},
        [](Task& task, long) -> SyscallOutcome { return task.vtid(); });
}

SENTRY_SYSCALL(clone)
{
    uint64_t flags = args.arg(0);
    TRY(check_clone_flags(t, flags));
    Kernel::CloneRequest req{flags, args.arg(2), args.arg(3)};
    if (flags & CLONE_PIDFD) {
        // clone() passes the pidfd pointer in parent_tid (Linux kernel_clone()).
        if (flags & (CLONE_PARENT_SETTID | CLONE_DETACHED))
            return Errno(EINVAL);
        TRY(check_pidfd_request(t, flags, args.arg(2)));
        req.pidfd = args.arg(2);
    }
    // The sentry is the only tracer and every child is traced from birth; pidfds
    // are the sentry's own files, never host ones.
    flags &= ~static_cast<uint64_t>(CLONE_UNTRACED | CLONE_PTRACE | CLONE_PIDFD);
    return inject_clone(t, SYS_clone, {flags, args.arg(1), args.arg(2), args.arg(3), args.arg(4), args.arg(5)}, req);
}

struct CloneArgs {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
static_assert(sizeof(CloneArgs) == 88);
constexpr uint64_t k_clone_args_size_ver0 = 64;
constexpr uint64_t k_clone_clear_sighand = 0x100000000ULL;
constexpr uint64_t k_clone_into_cgroup = 0x200000000ULL;

// Compare Linux kernel/fork.c:copy_clone_args_from_user() and clone3_args_valid().
SENTRY_SYSCALL(clone3)
{
    uint64_t addr = args.arg(0), size = args.arg(1);
    if (size > 4096)
        return Errno(E2BIG);
    if (size < k_clone_args_size_ver0)
        return Errno(EINVAL);
    std::vector<uint8_t> raw(size);
    TRY(t.copy_in(addr, raw.data(), raw.size()));
    for (size_t i = sizeof(CloneArgs); i < raw.size(); ++i)
        if (raw[i])
            return Errno(E2BIG);
    CloneArgs ca{};
    std::memcpy(&ca, raw.data(), std::min<size_t>(raw.size(), sizeof ca));
    if (ca.set_tid_size > 32 || (!ca.set_tid && ca.set_tid_size) || (ca.set_tid && !ca.set_tid_size))
        return Errno(EINVAL);
    if (ca.exit_signal & ~static_cast<uint64_t>(CSIGNAL))
        return Errno(EINVAL);
    if ((ca.flags & k_clone_into_cgroup) && ca.cgroup > INT_MAX)
        return Errno(EINVAL);
    if ((ca.flags & (CLONE_SIGHAND | k_clone_clear_sighand)) == (CLONE_SIGHAND | k_clone_clear_sighand))
        return Errno(EINVAL);
    if (ca.flags & (CLONE_DETACHED | (CSIGNAL & ~0x80ULL /* CLONE_NEWTIME */)))
        return Errno(EINVAL); // the exit signal has its own field
    TRY(check_clone_flags(t, ca.flags));
    if (ca.set_tid_size || (ca.flags & k_clone_into_cgroup))
        return Errno(EPERM); // the sandbox does not choose pids or cgroups
    Kernel::CloneRequest req{ca.flags | ca.exit_signal, ca.parent_tid, ca.child_tid};
    if (ca.flags & CLONE_PIDFD) {
        TRY(check_pidfd_request(t, ca.flags, ca.pidfd));
        req.pidfd = ca.pidfd;
    }
    ca.flags &= ~static_cast<uint64_t>(CLONE_UNTRACED | CLONE_PTRACE | CLONE_PIDFD);
    std::string blob(reinterpret_cast<const char*>(&ca), sizeof ca);
    std::array<uint64_t, 6> regs = args.a;
    return t.kernel().with_scratch(t, blob, [req, regs](Task& task, uint64_t scratch) -> SyscallOutcome {
        auto a = regs;
        a[0] = scratch;
        a[1] = sizeof(CloneArgs);
        return inject_clone(task, SYS_clone3, a, req);
    });
}

// fork and vfork run with the guest's own argument registers: the child starts
// from the injected register state, and code such as glibc's vfork() keeps its
// return address in rdi across the call.
SENTRY_SYSCALL(fork) { return inject_clone(t, SYS_fork, args.a, Kernel::CloneRequest{SIGCHLD, 0, 0}); }

SENTRY_SYSCALL(vfork)
{
    return inject_clone(t, SYS_vfork, args.a, Kernel::CloneRequest{CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0});
}

// execve and execveat: the guest's process runs the real execve with an absolute
// host path that the sentry resolved (or, for a program named by an fd, the
// sentry's own /proc/<pid>/fd link to it); the sentry checks what it can before
// the process is replaced. Compare Linux fs/exec.c do_execveat_common().
static SyscallOutcome do_execve(Task& t, int dirfd, uint64_t path_addr, uint64_t argv, uint64_t envp, int flags)
{
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    std::string host_path, exe_path;
    if (path.empty()) {
        // fexecve(): the program is the file behind `dirfd`.
        if (!t.group().fds)
            return Errno(EBADF);
        auto f = TRY(t.group().fds->get(dirfd));
        int hfd = f->host_fd();
        if (hfd < 0)
            return Errno(EACCES);
        host_path = fmt::format("/proc/{}/fd/{}", t.kernel().sentry_pid(), hfd);
        char link[PATH_MAX];
        ssize_t n = readlink(fmt::format("/proc/self/fd/{}", hfd).c_str(), link, sizeof link - 1);
        exe_path = n > 0 ? std::string(link, static_cast<size_t>(n)) : host_path;
    } else {
        auto at = TRY(resolve_at(t, dirfd, path));
        if (flags & AT_SYMLINK_NOFOLLOW) {
            struct stat lst {};
            if (fstatat(at.dirfd, at.path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
                return Errno(ELOOP);
        }
        host_path = at.path;
        if (at.dirfd != AT_FDCWD) {
            char link[64], dir[PATH_MAX];
            snprintf(link, sizeof link, "/proc/self/fd/%d", at.dirfd);
            ssize_t n = readlink(link, dir, sizeof dir - 1);
            if (n < 0)
                return Errno(ENOENT);
            host_path = std::string(dir, static_cast<size_t>(n)) + "/" + at.path;
        }
        exe_path = host_path;
    }
    struct stat st {};
    if (::stat(host_path.c_str(), &st) < 0)
        return Errno(errno);
    if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode))
        return Errno(EACCES);
    if (access(host_path.c_str(), X_OK) < 0)
        return Errno(errno);
    t.kernel().set_pending_exec(t, exe_path);
    host_path.push_back('\0');
    return t.kernel().with_scratch(t, host_path, [argv, envp](Task&, uint64_t addr) -> SyscallOutcome {
        return SyscallOutcome::inject(SYS_execve, {addr, argv, envp, 0, 0, 0},
            // Only reached when execve failed: success replaces the process.
            [](Task&, long r) -> SyscallOutcome { return r; });
    });
}

SENTRY_SYSCALL(execve) { return do_execve(t, AT_FDCWD, args.arg(0), args.arg(1), args.arg(2), 0); }

SENTRY_SYSCALL(execveat)
{
    return do_execve(t, args.as_int(0), args.arg(1), args.arg(2), args.arg(3), args.as_int(4));
}

SENTRY_SYSCALL(exit)
{
    auto& g = t.group();
    int code = args.as_int(0) & 0xff;
    size_t live = 0;
    for (Task* o : g.tasks)
        if (!o->m_thread_exited)
            ++live;
    if (live <= 1) {
        t.kernel().exit_group(g, code << 8);
        return SyscallOutcome::no_return();
    }
    // Other threads go on: this one really exits, so the host clears its
    // clear_child_tid and wakes joiners.
    t.m_thread_exited = true;
    return SyscallOutcome::inject(SYS_exit, {static_cast<uint64_t>(code), 0, 0, 0, 0, 0},
        [](Task&, long r) -> SyscallOutcome { return r; });
}

SENTRY_SYSCALL(exit_group)
{
    t.kernel().exit_group(t.group(), (args.as_int(0) & 0xff) << 8);
    return SyscallOutcome::no_return();
}

SENTRY_SYSCALL(wait4)
{
    pid_t pid = args.as_int(0);
    uint64_t status_addr = args.arg(1);
    int options = args.as_int(2);
    uint64_t rusage_addr = args.arg(3);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Errno(EINVAL);
    if (pid == INT_MIN)
        return Errno(ESRCH);
    auto& g = t.group();
    auto r = find_child(g, pid, options, true, options & WUNTRACED, options & WCONTINUED);
    if (!r.any_eligible)
        return Errno(ECHILD);
    if (!r.child) {
        if (options & WNOHANG)
            return 0;
        return SyscallOutcome::block({{&g.child_exit_wq, ~0u}});
    }
    // Linux kernel_wait4(): the child is reaped (or its report consumed) before the
    // status and the usage are stored, so a bad pointer costs the report.
    struct rusage ru {};
    if (rusage_addr)
        ru = wait_rusage(*r.child);
    int status;
    pid_t vpid = r.child->vpid;
    if (r.what == WaitWhat::Exited) {
        status = r.child->wait_status;
        reap_zombie(t, r.child);
    } else {
        status = r.what == WaitWhat::Stopped ? ((r.child->stop_sig << 8) | 0x7f) : 0xffff;
        (r.what == WaitWhat::Stopped ? r.child->stop_report : r.child->cont_report) = false;
    }
    if (status_addr)
        TRY(t.copy_out(status_addr, status));
    if (rusage_addr)
        TRY(t.copy_out(rusage_addr, ru));
    return vpid;
}

SENTRY_SYSCALL(waitid)
{
    int idtype = args.as_int(0);
    pid_t id = args.as_int(1);
    uint64_t info_addr = args.arg(2);
    int options = args.as_int(3);
    uint64_t rusage_addr = args.arg(4);
    if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Errno(EINVAL);
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return Errno(EINVAL);
    pid_t pid;
    bool nonblock_pidfd = false;
    switch (idtype) {
    case P_ALL: pid = -1; break;
    case P_PID:
        if (id <= 0)
            return Errno(EINVAL);
        pid = id;
        break;
    case P_PGID:
        if (id < 0)
            return Errno(EINVAL);
        pid = id == 0 ? 0 : -id;
        break;
    case P_PIDFD: {
        if (id < 0)
            return Errno(EINVAL);
        int file_flags = 0;
        auto target = TRY(pidfd_target(t, id, &file_flags));
        // A reaped process's pid names nothing (and may name another process now).
        pid = target->reaped ? INT_MAX : target->vpid;
        // A non-blocking pidfd makes the wait non-blocking: EAGAIN where a blocking
        // wait would sleep (Linux kernel_waitid()).
        if ((file_flags & O_NONBLOCK) && !(options & WNOHANG)) {
            options |= WNOHANG;
            nonblock_pidfd = true;
        }
        break;
    }
    default: return Errno(EINVAL);
    }
    auto& g = t.group();
    WaitResult r = find_child(g, pid, options, options & WEXITED, options & WSTOPPED, options & WCONTINUED);
    if (!r.any_eligible)
        return Errno(ECHILD);
    if (!r.child) {
        if (nonblock_pidfd)
            return Errno(EAGAIN);
        if (options & WNOHANG) {
            if (info_addr) {
                siginfo_t si {};
                TRY(t.copy_out(info_addr, si));
            }
            return 0;
        }
        return SyscallOutcome::block({{&g.child_exit_wq, ~0u}});
    }
    // Linux kernel_waitid(): the report is consumed first, then the usage and
    // the siginfo are stored.
    int st = r.child->wait_status;
    struct rusage ru {};
    if (rusage_addr)
        ru = wait_rusage(*r.child);
    siginfo_t si {};
    si.si_signo = SIGCHLD;
    si.si_pid = r.child->vpid;
    si.si_uid = getuid();
    if (r.what == WaitWhat::Exited) {
        si.si_code = cld_code(st);
        si.si_status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
    } else if (r.what == WaitWhat::Stopped) {
        si.si_code = CLD_STOPPED;
        si.si_status = r.child->stop_sig;
    } else {
        si.si_code = CLD_CONTINUED;
        si.si_status = SIGCONT;
    }
    if (!(options & WNOWAIT)) {
        if (r.what == WaitWhat::Exited)
            reap_zombie(t, r.child);
        else
            (r.what == WaitWhat::Stopped ? r.child->stop_report : r.child->cont_report) = false;
    }
    if (rusage_addr)
        TRY(t.copy_out(rusage_addr, ru));
    if (info_addr)
        TRY(t.copy_out(info_addr, si));
    return 0;
}

SENTRY_SYSCALL(getpgrp)
{
    (void)args;
    return t.group().pgid;
}

SENTRY_SYSCALL(getpgid)
{
    pid_t pid = args.as_int(0);
    if (pid == 0)
        return t.group().pgid;
    auto g = t.kernel().group_by_vpid(pid);
    if (!g || g->zombie)
        return Errno(ESRCH);
    return g->pgid;
}

SENTRY_SYSCALL(getsid)
{
    pid_t pid = args.as_int(0);
    if (pid == 0)
        return t.group().sid;
    auto g = t.kernel().group_by_vpid(pid);
    if (!g || g->zombie)
        return Errno(ESRCH);
    return g->sid;
}

// Compare Linux kernel/sys.c:setpgid().
SENTRY_SYSCALL(setpgid)
{
    pid_t pid = args.as_int(0);
    pid_t pgid = args.as_int(1);
    auto& self = t.group();
    if (pid == 0)
        pid = self.vpid;
    if (pgid == 0)
        pgid = pid;
    if (pgid < 0)
        return Errno(EINVAL);
    auto target = t.kernel().group_by_vpid(pid);
    if (!target || target->zombie)
        return Errno(ESRCH);
    bool is_self = target.get() == &self;
    bool is_child = target->parent_ref().get() == &self;
    if (!is_self && !is_child)
        return Errno(ESRCH);
    if (is_child && target->sid != self.sid)
        return Errno(EPERM);
    if (is_child && target->did_exec)
        return Errno(EACCES); // POSIX: not once the child has run a new program
    if (target->sid == target->vpid)
        return Errno(EPERM); // a session leader cannot move
    if (pgid != target->vpid) {
        auto member = t.kernel().group_of_pgid_member(pgid);
        if (!member || member->sid != self.sid)
            return Errno(EPERM);
    }
    target->pgid = pgid;
    return 0;
}

SENTRY_SYSCALL(setsid)
{
    (void)args;
    auto& g = t.group();
    if (t.kernel().group_of_pgid_member(g.vpid))
        return Errno(EPERM); // already a process group leader (or its id is in use)
    g.sid = g.vpid;
    g.pgid = g.vpid;
    g.has_ctty = false; // a new session starts without a controlling terminal
    return g.vpid;
}

SENTRY_SYSCALL(uname)
{
    struct utsname u {};
    ::uname(&u);
    // A policy's `hostname` is the sandbox's UTS name (gethostname(), uname -n).
    if (auto& pol = t.kernel().options().policy; pol && pol->hostname) {
        std::memset(u.nodename, 0, sizeof u.nodename);
        pol->hostname->copy(u.nodename, sizeof u.nodename - 1);
    }
    TRY(t.copy_out(args.arg(0), u));
    return 0;
}

SENTRY_SYSCALL(prctl)
{
    int option = args.as_int(0);
    switch (option) {
    case PR_SET_NAME:
    case PR_GET_NAME:
        // Only touches the calling thread's own name: run natively.
        return SyscallOutcome::inject(SYS_prctl, {args.arg(0), args.arg(1), 0, 0, 0, 0},
            [](Task&, long r) -> SyscallOutcome { return r; });
    case PR_SET_PDEATHSIG: {
        if (args.arg(1) > 64)
            return Errno(EINVAL);
        t.m_pdeathsig = args.as_int(1);
        return 0;
    }
    case PR_GET_PDEATHSIG:
        TRY(t.copy_out(args.arg(1), t.m_pdeathsig));
        return 0;
    case PR_GET_DUMPABLE:
        return 1;
    case PR_SET_DUMPABLE:
        if (args.arg(1) > 1)
            return Errno(EINVAL);
        return 0;
    case PR_SET_NO_NEW_PRIVS:
        if (args.arg(1) != 1 || args.arg(2) || args.arg(3) || args.arg(4))
            return Errno(EINVAL);
        t.group().no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        return t.group().no_new_privs ? 1 : 0;
    case PR_SET_CHILD_SUBREAPER:
        t.group().child_subreaper = args.arg(1) != 0;
        return 0;
    case PR_GET_CHILD_SUBREAPER:
        TRY(t.copy_out(args.arg(1), static_cast<int>(t.group().child_subreaper)));
        return 0;
    case PR_CAPBSET_READ:
        if (args.arg(1) > 63)
            return Errno(EINVAL);
        return 1;
    default:
        return Errno(EINVAL);
    }
}

SENTRY_SYSCALL(arch_prctl)
{
    // FS/GS bases are plain registers to ptrace: set them without running anything.
    auto& r = t.regs();
    switch (args.as_int(0)) {
    case ARCH_SET_FS:
        if (args.arg(1) >= 0x800000000000ULL)
            return Errno(EPERM);
        r.fs_base = args.arg(1);
        return 0;
    case ARCH_SET_GS:
        if (args.arg(1) >= 0x800000000000ULL)
            return Errno(EPERM);
        r.gs_base = args.arg(1);
        return 0;
    case ARCH_GET_FS:
        TRY(t.copy_out(args.arg(1), static_cast<uint64_t>(r.fs_base)));
        return 0;
    case ARCH_GET_GS:
        TRY(t.copy_out(args.arg(1), static_cast<uint64_t>(r.gs_base)));
        return 0;
    default:
        return Errno(EINVAL);
    }
}

} // namespace sentry::kernel
