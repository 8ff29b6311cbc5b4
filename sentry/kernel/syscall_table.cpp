#include "sentry/kernel/syscall_table.h"

#include <seccomp.h>
#include <sys/syscall.h>

#include <mutex>
#include <vector>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

std::string_view support_name(Support s)
{
    switch (s) {
    case Support::Emulated: return "emulated";
    case Support::Injected: return "injected";
    case Support::Partial: return "partial";
    case Support::Denied: return "denied";
    case Support::Missing: return "missing";
    }
    return "?";
}

namespace {

struct Row {
    long nr;
    SyscallHandler handler;
    Support support;
    std::string_view note;
};

using S = Support;

// Every syscall the sentry answers. Numbers not listed here are missing (-ENOSYS).
const Row k_rows[] = {
    // process.cpp
    {SYS_getpid, sys_getpid, S::Emulated, "virtual pid"},
    {SYS_getppid, sys_getppid, S::Emulated, "virtual pid; 0 for the sandbox's init"},
    {SYS_gettid, sys_gettid, S::Emulated, "virtual tid"},
    {SYS_set_tid_address, sys_set_tid_address, S::Injected, "runs natively for clear_child_tid; returns the virtual tid"},
    {SYS_clone, sys_clone, S::Injected, "namespaces: EPERM; CLONE_PIDFD gives a sentry pidfd (not with CLONE_THREAD); tids rewritten to virtual"},
    {SYS_clone3, sys_clone3, S::Injected, "as clone; set_tid and CLONE_INTO_CGROUP: EPERM; struct passed through the scratch page"},
    {SYS_fork, sys_fork, S::Injected, ""},
    {SYS_vfork, sys_vfork, S::Injected, ""},
    {SYS_execve, sys_execve, S::Injected, "path resolved by the sentry, written to a read-only scratch page"},
    {SYS_execveat, sys_execveat, S::Injected, "as execve; AT_EMPTY_PATH runs the file behind the fd (also memfds)"},
    {SYS_exit, sys_exit, S::Emulated, "last thread: exit_group; else runs natively"},
    {SYS_exit_group, sys_exit_group, S::Emulated, ""},
    {SYS_wait4, sys_wait4, S::Partial, "exited children; no stopped/continued reports; rusage zeroed"},
    {SYS_waitid, sys_waitid, S::Emulated, "P_PID, P_PGID, P_ALL, P_PIDFD"},
    {SYS_getpgrp, sys_getpgrp, S::Emulated, ""},
    {SYS_getpgid, sys_getpgid, S::Emulated, ""},
    {SYS_setpgid, sys_setpgid, S::Emulated, ""},
    {SYS_getsid, sys_getsid, S::Emulated, ""},
    {SYS_setsid, sys_setsid, S::Emulated, ""},
    {SYS_uname, sys_uname, S::Emulated, "host's utsname"},
    {SYS_prctl, sys_prctl, S::Partial, "NAME, PDEATHSIG, DUMPABLE, NO_NEW_PRIVS, CHILD_SUBREAPER, CAPBSET_READ"},
    {SYS_arch_prctl, sys_arch_prctl, S::Emulated, "FS/GS base through registers"},
    // pidfd.cpp
    {SYS_pidfd_open, sys_pidfd_open, S::Emulated, "PIDFD_NONBLOCK; PIDFD_THREAD: EINVAL"},
    {SYS_pidfd_send_signal, sys_pidfd_send_signal, S::Emulated, "with the PIDFD_SIGNAL_* scopes"},
    {SYS_pidfd_getfd, sys_pidfd_getfd, S::Emulated, "any process of the sandbox"},
    // signal.cpp
    {SYS_rt_sigaction, sys_rt_sigaction, S::Emulated, ""},
    {SYS_rt_sigprocmask, sys_rt_sigprocmask, S::Emulated, ""},
    {SYS_rt_sigpending, sys_rt_sigpending, S::Emulated, ""},
    {SYS_kill, sys_kill, S::Partial, "stop/continue default actions not yet"},
    {SYS_tgkill, sys_tgkill, S::Emulated, ""},
    {SYS_tkill, sys_tkill, S::Emulated, ""},
    {SYS_sigaltstack, sys_sigaltstack, S::Emulated, ""},
    {SYS_rt_sigreturn, sys_rt_sigreturn, S::Emulated, "frame validated; xstate restored"},
    {SYS_restart_syscall, sys_restart_syscall, S::Emulated, "nanosleep/clock_nanosleep restart blocks"},
    {SYS_rt_sigsuspend, sys_rt_sigsuspend, S::Emulated, ""},
    {SYS_pause, sys_pause, S::Emulated, ""},
    {SYS_rt_sigtimedwait, sys_rt_sigtimedwait, S::Emulated, ""},
    {SYS_rt_sigqueueinfo, sys_rt_sigqueueinfo, S::Emulated, ""},
    {SYS_rt_tgsigqueueinfo, sys_rt_tgsigqueueinfo, S::Emulated, ""},
    // timer.cpp
    {SYS_alarm, sys_alarm, S::Emulated, ""},
    {SYS_getitimer, sys_getitimer, S::Emulated, "VIRTUAL/PROF count the guest process's host CPU clocks"},
    {SYS_setitimer, sys_setitimer, S::Emulated, "VIRTUAL/PROF count the guest process's host CPU clocks"},
    {SYS_timer_create, sys_timer_create, S::Partial, "CPU clocks checked against the host's; thread CPU clocks count scheduler time whatever their type"},
    {SYS_timer_settime, sys_timer_settime, S::Emulated, ""},
    {SYS_timer_gettime, sys_timer_gettime, S::Emulated, ""},
    {SYS_timer_getoverrun, sys_timer_getoverrun, S::Emulated, ""},
    {SYS_timer_delete, sys_timer_delete, S::Emulated, ""},
    // mm.cpp
    {SYS_brk, sys_brk, S::Injected, ""},
    {SYS_mmap, sys_mmap, S::Injected, "file mappings reopen the sentry's fd inside the guest"},
    {SYS_munmap, sys_munmap, S::Injected, "the sentry's scratch page is protected"},
    {SYS_mprotect, sys_mprotect, S::Injected, "the sentry's scratch page is protected"},
    {SYS_mremap, sys_mremap, S::Injected, "the sentry's scratch page is protected"},
    {SYS_madvise, sys_madvise, S::Injected, ""},
    {SYS_msync, sys_mm_passthrough, S::Injected, ""},
    {SYS_mincore, sys_mm_passthrough, S::Injected, ""},
    {SYS_mlock, sys_mm_passthrough, S::Injected, ""},
    {SYS_munlock, sys_mm_passthrough, S::Injected, ""},
    {SYS_mlockall, sys_mm_passthrough, S::Injected, ""},
    {SYS_munlockall, sys_mm_passthrough, S::Injected, ""},
    {SYS_mlock2, sys_mm_passthrough, S::Injected, ""},
    {SYS_futex, sys_futex, S::Injected, "on the guest's own memory"},
    {SYS_set_robust_list, sys_set_robust_list, S::Injected, ""},
    {SYS_get_robust_list, sys_get_robust_list, S::Injected, "own thread only"},
    {SYS_rseq, sys_rseq, S::Injected, ""},
    // fd.cpp
    {SYS_close, sys_close, S::Emulated, ""},
    {SYS_close_range, sys_close_range, S::Emulated, ""},
    {SYS_dup, sys_dup, S::Emulated, ""},
    {SYS_dup2, sys_dup2, S::Emulated, ""},
    {SYS_dup3, sys_dup3, S::Emulated, ""},
    {SYS_fcntl, sys_fcntl, S::Partial, "F_SETLKW waits by retrying every 10 ms; F_NOTIFY, leases: EINVAL"},
    {SYS_pipe, sys_pipe, S::Emulated, ""},
    {SYS_pipe2, sys_pipe2, S::Emulated, ""},
    {SYS_ioctl, sys_ioctl, S::Partial, "FIONREAD, FIONBIO, FIOCLEX, terminal ioctls on host ttys"},
    // read_write.cpp
    {SYS_read, sys_read, S::Emulated, ""},
    {SYS_write, sys_write, S::Emulated, ""},
    {SYS_pread64, sys_pread64, S::Emulated, ""},
    {SYS_pwrite64, sys_pwrite64, S::Emulated, ""},
    {SYS_readv, sys_readv, S::Emulated, ""},
    {SYS_writev, sys_writev, S::Emulated, ""},
    {SYS_preadv, sys_preadv, S::Emulated, ""},
    {SYS_pwritev, sys_pwritev, S::Emulated, ""},
    {SYS_preadv2, sys_preadv2, S::Partial, "RWF_* flags accepted and ignored"},
    {SYS_pwritev2, sys_pwritev2, S::Partial, "RWF_* flags accepted and ignored"},
    {SYS_lseek, sys_lseek, S::Emulated, ""},
    // file.cpp
    {SYS_open, sys_open, S::Emulated, ""},
    {SYS_openat, sys_openat, S::Emulated, ""},
    {SYS_creat, sys_creat, S::Emulated, ""},
    {SYS_stat, sys_stat, S::Emulated, ""},
    {SYS_lstat, sys_lstat, S::Emulated, ""},
    {SYS_fstat, sys_fstat, S::Emulated, ""},
    {SYS_newfstatat, sys_newfstatat, S::Emulated, ""},
    {SYS_statx, sys_statx, S::Emulated, ""},
    {SYS_access, sys_access, S::Emulated, ""},
    {SYS_faccessat, sys_faccessat, S::Emulated, ""},
    {SYS_faccessat2, sys_faccessat2, S::Emulated, ""},
    {SYS_readlink, sys_readlink, S::Emulated, "/proc/self/exe and /proc/self/fd/N are the guest's"},
    {SYS_readlinkat, sys_readlinkat, S::Emulated, "/proc/self/exe and /proc/self/fd/N are the guest's"},
    {SYS_getdents64, sys_getdents64, S::Emulated, ""},
    {SYS_getcwd, sys_getcwd, S::Emulated, ""},
    {SYS_chdir, sys_chdir, S::Emulated, ""},
    {SYS_fchdir, sys_fchdir, S::Emulated, ""},
    {SYS_umask, sys_umask, S::Emulated, ""},
    {SYS_mkdir, sys_mkdir, S::Emulated, ""},
    {SYS_mkdirat, sys_mkdirat, S::Emulated, ""},
    {SYS_unlink, sys_unlink, S::Emulated, ""},
    {SYS_unlinkat, sys_unlinkat, S::Emulated, ""},
    {SYS_rmdir, sys_rmdir, S::Emulated, ""},
    {SYS_rename, sys_rename, S::Emulated, ""},
    {SYS_renameat, sys_renameat, S::Emulated, ""},
    {SYS_renameat2, sys_renameat2, S::Emulated, ""},
    {SYS_link, sys_link, S::Emulated, ""},
    {SYS_linkat, sys_linkat, S::Emulated, ""},
    {SYS_symlink, sys_symlink, S::Emulated, ""},
    {SYS_symlinkat, sys_symlinkat, S::Emulated, ""},
    {SYS_chmod, sys_chmod, S::Emulated, ""},
    {SYS_fchmod, sys_fchmod, S::Partial, "pipes: accepted, mode not kept"},
    {SYS_fchmodat, sys_fchmodat, S::Emulated, ""},
    {452 /* fchmodat2 */, sys_fchmodat2, S::Emulated, ""},
    {SYS_chown, sys_chown, S::Emulated, ""},
    {SYS_fchown, sys_fchown, S::Partial, "pipes: accepted, owner not kept"},
    {SYS_lchown, sys_lchown, S::Emulated, ""},
    {SYS_fchownat, sys_fchownat, S::Emulated, ""},
    {SYS_truncate, sys_truncate, S::Emulated, ""},
    {SYS_ftruncate, sys_ftruncate, S::Emulated, ""},
    {SYS_fsync, sys_fsync, S::Emulated, "host fsync in the sentry (holds the loop while it writes back)"},
    {SYS_fdatasync, sys_fdatasync, S::Emulated, "host fdatasync in the sentry (holds the loop while it writes back)"},
    {SYS_syncfs, sys_syncfs, S::Emulated, "host syncfs in the sentry (holds the loop while it writes back)"},
    {SYS_sync, sys_sync, S::Injected, ""},
    {SYS_statfs, sys_statfs, S::Emulated, ""},
    {SYS_fstatfs, sys_fstatfs, S::Emulated, "pipes: the host's pipefs figures"},
    {SYS_utimensat, sys_utimensat, S::Partial, "pipes: accepted, times not kept"},
    {SYS_utime, sys_utime, S::Emulated, ""},
    {SYS_utimes, sys_utimes, S::Emulated, ""},
    {SYS_futimesat, sys_futimesat, S::Emulated, ""},
    {SYS_fallocate, sys_fallocate, S::Emulated, ""},
    {SYS_fadvise64, sys_fadvise64, S::Emulated, ""},
    {SYS_flock, sys_flock, S::Partial, "a blocking lock is retried every 10 ms; pipes: accepted, not kept"},
    {SYS_getxattr, sys_getxattr, S::Emulated, ""},
    {SYS_lgetxattr, sys_lgetxattr, S::Emulated, ""},
    {SYS_fgetxattr, sys_fgetxattr, S::Emulated, ""},
    {SYS_listxattr, sys_listxattr, S::Emulated, ""},
    {SYS_llistxattr, sys_llistxattr, S::Emulated, ""},
    {SYS_flistxattr, sys_flistxattr, S::Emulated, ""},
    {SYS_setxattr, sys_setxattr, S::Emulated, ""},
    {SYS_lsetxattr, sys_lsetxattr, S::Emulated, ""},
    {SYS_fsetxattr, sys_fsetxattr, S::Emulated, ""},
    {SYS_removexattr, sys_removexattr, S::Emulated, ""},
    {SYS_lremovexattr, sys_lremovexattr, S::Emulated, ""},
    {SYS_fremovexattr, sys_fremovexattr, S::Emulated, ""},
    {SYS_mknod, sys_mknod, S::Partial, "FIFOs, sockets, regular files; device nodes: EPERM (no CAP_MKNOD in the sandbox)"},
    {SYS_mknodat, sys_mknodat, S::Partial, "FIFOs, sockets, regular files; device nodes: EPERM (no CAP_MKNOD in the sandbox)"},
    // splice.cpp
    {SYS_sendfile, sys_sendfile, S::Partial, "source must be seekable (sockets, ttys: EINVAL); at most 64 MiB per call"},
    {SYS_copy_file_range, sys_copy_file_range, S::Partial, "host copy_file_range between host files; at most 64 MiB per call"},
    // poll.cpp
    {SYS_poll, sys_poll, S::Emulated, "interrupted: EINTR (no restart block)"},
    {SYS_ppoll, sys_ppoll, S::Emulated, ""},
    {SYS_select, sys_select, S::Emulated, "nfds clamped to an estimate of the fd table's size"},
    {SYS_pselect6, sys_pselect6, S::Emulated, "nfds clamped to an estimate of the fd table's size"},
    {SYS_epoll_create, sys_epoll_create, S::Emulated, ""},
    {SYS_epoll_create1, sys_epoll_create1, S::Emulated, ""},
    {SYS_epoll_ctl, sys_epoll_ctl, S::Emulated, "host streams: edge-triggered re-arms like level-triggered"},
    {SYS_epoll_wait, sys_epoll_wait, S::Emulated, ""},
    {SYS_epoll_pwait, sys_epoll_pwait, S::Emulated, ""},
    {SYS_epoll_pwait2, sys_epoll_pwait2, S::Emulated, ""},
    // socket.cpp and read_write.cpp: the netstack (AF_UNIX; AF_INET/AF_INET6 in the sandbox)
    {SYS_socket, sys_socket, S::Partial, "AF_UNIX, AF_INET, AF_INET6 (TCP, UDP); other families EAFNOSUPPORT"},
    {SYS_socketpair, sys_socketpair, S::Partial, "AF_UNIX: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET"},
    {SYS_bind, sys_bind, S::Emulated, ""},
    {SYS_listen, sys_listen, S::Emulated, ""},
    {SYS_accept, sys_accept, S::Emulated, ""},
    {SYS_accept4, sys_accept4, S::Emulated, ""},
    {SYS_connect, sys_connect, S::Emulated, ""},
    {SYS_shutdown, sys_shutdown, S::Emulated, ""},
    {SYS_getsockopt, sys_getsockopt, S::Partial, "SOL_SOCKET common options and SO_PEERCRED; SO_RCVTIMEO/SNDTIMEO not enforced"},
    {SYS_setsockopt, sys_setsockopt, S::Partial, "SOL_SOCKET common options; SO_RCVTIMEO/SNDTIMEO accepted, not enforced"},
    {SYS_getsockname, sys_getsockname, S::Emulated, ""},
    {SYS_getpeername, sys_getpeername, S::Emulated, ""},
    {SYS_sendto, sys_sendto, S::Partial, "no MSG_OOB"},
    {SYS_recvfrom, sys_recvfrom, S::Partial, "no MSG_OOB, no SO_PEEK_OFF"},
    {SYS_sendmsg, sys_sendmsg, S::Partial, "SCM_RIGHTS, SCM_CREDENTIALS; no MSG_OOB"},
    {SYS_recvmsg, sys_recvmsg, S::Partial, "SCM_RIGHTS, SCM_CREDENTIALS; no MSG_OOB"},
    {SYS_sendmmsg, sys_sendmmsg, S::Partial, "only the first message may wait"},
    {SYS_recvmmsg, sys_recvmmsg, S::Partial, "only the first message may wait (as MSG_WAITFORONE); the timeout is not used"},
    // event_files.cpp
    {SYS_eventfd, sys_eventfd, S::Emulated, ""},
    {SYS_eventfd2, sys_eventfd2, S::Emulated, ""},
    {SYS_signalfd, sys_signalfd, S::Emulated, ""},
    {SYS_signalfd4, sys_signalfd4, S::Emulated, ""},
    {SYS_timerfd_create, sys_timerfd_create, S::Emulated, "all clocks on the steady clock; CANCEL_ON_SET never cancels"},
    {SYS_timerfd_settime, sys_timerfd_settime, S::Emulated, ""},
    {SYS_timerfd_gettime, sys_timerfd_gettime, S::Emulated, ""},
    // identity.cpp
    {SYS_getuid, sys_getuid, S::Emulated, "the sentry's credentials"},
    {SYS_geteuid, sys_geteuid, S::Emulated, "the sentry's credentials"},
    {SYS_getgid, sys_getgid, S::Emulated, "the sentry's credentials"},
    {SYS_getegid, sys_getegid, S::Emulated, "the sentry's credentials"},
    {SYS_getresuid, sys_getresuid, S::Emulated, "the sentry's credentials"},
    {SYS_getresgid, sys_getresgid, S::Emulated, "the sentry's credentials"},
    {SYS_getgroups, sys_getgroups, S::Emulated, "the sentry's credentials"},
    {SYS_setuid, sys_setuid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setgid, sys_setgid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setreuid, sys_setreuid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setregid, sys_setregid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setresuid, sys_setresuid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setresgid, sys_setresgid, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    {SYS_setfsuid, sys_setfsuid, S::Partial, "returns the fsuid, never changes it"},
    {SYS_setfsgid, sys_setfsgid, S::Partial, "returns the fsgid, never changes it"},
    {SYS_setgroups, sys_setgroups, S::Partial, "no emulated credentials: succeeds only if nothing changes, else EPERM"},
    // time.cpp
    {SYS_clock_gettime, sys_clock_gettime, S::Emulated, "CPU clocks: the guest's host process/threads; no PTP clock fds"},
    {SYS_clock_getres, sys_clock_getres, S::Emulated, "CPU clocks: the guest's host process/threads; no PTP clock fds"},
    {SYS_gettimeofday, sys_gettimeofday, S::Emulated, ""},
    {SYS_time, sys_time, S::Emulated, ""},
    {SYS_nanosleep, sys_nanosleep, S::Emulated, "interrupted: EINTR with the time left (no restart block)"},
    {SYS_clock_nanosleep, sys_clock_nanosleep, S::Emulated, "CPU clocks polled; interrupted: EINTR (no restart block)"},
    {SYS_times, sys_times, S::Partial, "children's times as the host counts them (the sentry reaps them: 0)"},
    {SYS_getrusage, sys_getrusage, S::Partial, "RUSAGE_CHILDREN all zero; no block I/O counts"},
    {SYS_sysinfo, sys_sysinfo, S::Emulated, "host figures; procs counts the sandbox's tasks"},
    // misc.cpp
    {SYS_getrandom, sys_getrandom, S::Emulated, ""},
    {SYS_prlimit64, sys_prlimit64, S::Emulated, "AS/DATA/STACK/MEMLOCK/CORE/CPU also set on the host process"},
    {SYS_getrlimit, sys_getrlimit, S::Emulated, ""},
    {SYS_setrlimit, sys_setrlimit, S::Emulated, "AS/DATA/STACK/MEMLOCK/CORE/CPU also set on the host process"},
    {SYS_sched_getaffinity, sys_sched_getaffinity, S::Emulated, "the guest thread's host mask"},
    {SYS_sched_setaffinity, sys_sched_setaffinity, S::Emulated, "applied to the guest's host thread"},
    {SYS_sched_yield, sys_sched_yield, S::Emulated, ""},
    {SYS_sched_getscheduler, sys_sched_getscheduler, S::Emulated, ""},
    {SYS_sched_getparam, sys_sched_getparam, S::Emulated, ""},
    {SYS_sched_setscheduler, sys_sched_setscheduler, S::Partial, "SCHED_FIFO/RR: EPERM; others applied to the host thread"},
    {SYS_sched_setparam, sys_sched_setparam, S::Partial, "applied to the host thread (never real-time)"},
    {SYS_sched_get_priority_max, sys_sched_get_priority_max, S::Emulated, ""},
    {SYS_sched_get_priority_min, sys_sched_get_priority_min, S::Emulated, ""},
    {SYS_sched_rr_get_interval, sys_sched_rr_get_interval, S::Emulated, ""},
    {SYS_getpriority, sys_getpriority, S::Emulated, "nice values of the guest's host threads"},
    {SYS_setpriority, sys_setpriority, S::Emulated, "applied to the guest's host threads"},
    {SYS_getcpu, sys_getcpu, S::Injected, ""},
};

struct Table {
    std::vector<SyscallEntry> entries;
    std::vector<std::string> names;
};

const Table& table()
{
    static Table t = [] {
        Table tb;
        tb.names.resize(k_max_syscall);
        tb.entries.resize(k_max_syscall);
        for (long nr = 0; nr < k_max_syscall; ++nr) {
            char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr));
            tb.names[static_cast<size_t>(nr)] = name ? name : "";
            free(name);
        }
        for (long nr = 0; nr < k_max_syscall; ++nr)
            tb.entries[static_cast<size_t>(nr)] =
                SyscallEntry{nr, tb.names[static_cast<size_t>(nr)], nullptr, Support::Missing, ""};
        for (const Row& r : k_rows)
            tb.entries[static_cast<size_t>(r.nr)] =
                SyscallEntry{r.nr, tb.names[static_cast<size_t>(r.nr)], r.handler, r.support, r.note};
        return tb;
    }();
    return t;
}

} // namespace

const SyscallEntry* syscall_entry(long nr)
{
    if (nr < 0 || nr >= k_max_syscall)
        return nullptr;
    return &table().entries[static_cast<size_t>(nr)];
}

std::span<const SyscallEntry> syscall_table() { return table().entries; }

long syscall_number(std::string_view name)
{
    for (const auto& e : table().entries)
        if (e.name == name)
            return e.nr;
    return -1;
}

} // namespace sentry::kernel
