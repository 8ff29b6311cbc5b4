#pragma once
// Declarations of every syscall handler. Handlers live in one file per family
// (process.cpp, mm.cpp, fd.cpp, file.cpp, read_write.cpp, ...); their names are
// sys_<linux name>. A handler decodes and validates, then calls into the layer that
// owns the mechanism (vfs/, signals/, netstack/).

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/syscall_args.h"
#include "sentry/kernel/task.h"

namespace sentry::netstack {
class Socket;
struct Address;
struct Cred;
}

namespace sentry::kernel {

#define SENTRY_SYSCALL(name) SyscallOutcome sys_##name(Task& t, const SyscallArgs& args)

// process.cpp
SENTRY_SYSCALL(getpid);
SENTRY_SYSCALL(getppid);
SENTRY_SYSCALL(gettid);
SENTRY_SYSCALL(set_tid_address);
SENTRY_SYSCALL(clone);
SENTRY_SYSCALL(clone3);
SENTRY_SYSCALL(fork);
SENTRY_SYSCALL(vfork);
SENTRY_SYSCALL(execve);
SENTRY_SYSCALL(execveat);
SENTRY_SYSCALL(exit);
SENTRY_SYSCALL(exit_group);
SENTRY_SYSCALL(wait4);
SENTRY_SYSCALL(waitid);
SENTRY_SYSCALL(getpgrp);
SENTRY_SYSCALL(getpgid);
SENTRY_SYSCALL(setpgid);
SENTRY_SYSCALL(getsid);
SENTRY_SYSCALL(setsid);
SENTRY_SYSCALL(uname);
SENTRY_SYSCALL(prctl);
SENTRY_SYSCALL(arch_prctl);

// pidfd.cpp
SENTRY_SYSCALL(pidfd_open);
SENTRY_SYSCALL(pidfd_send_signal);
SENTRY_SYSCALL(pidfd_getfd);

// signal.cpp
SENTRY_SYSCALL(rt_sigaction);
SENTRY_SYSCALL(rt_sigprocmask);
SENTRY_SYSCALL(rt_sigpending);
SENTRY_SYSCALL(kill);
SENTRY_SYSCALL(tgkill);
SENTRY_SYSCALL(tkill);
SENTRY_SYSCALL(sigaltstack);
SENTRY_SYSCALL(rt_sigreturn);
SENTRY_SYSCALL(restart_syscall);
SENTRY_SYSCALL(rt_sigsuspend);
SENTRY_SYSCALL(pause);
SENTRY_SYSCALL(rt_sigtimedwait);
SENTRY_SYSCALL(rt_sigqueueinfo);
SENTRY_SYSCALL(rt_tgsigqueueinfo);

// timer.cpp
SENTRY_SYSCALL(alarm);
SENTRY_SYSCALL(getitimer);
SENTRY_SYSCALL(setitimer);
SENTRY_SYSCALL(timer_create);
SENTRY_SYSCALL(timer_settime);
SENTRY_SYSCALL(timer_gettime);
SENTRY_SYSCALL(timer_getoverrun);
SENTRY_SYSCALL(timer_delete);

// mm.cpp
SENTRY_SYSCALL(brk);
SENTRY_SYSCALL(mmap);
SENTRY_SYSCALL(munmap);
SENTRY_SYSCALL(mprotect);
SENTRY_SYSCALL(mremap);
SENTRY_SYSCALL(madvise);
SENTRY_SYSCALL(mm_passthrough); // msync, mincore, mlock family: validated, injected
SENTRY_SYSCALL(futex);
SENTRY_SYSCALL(set_robust_list);
SENTRY_SYSCALL(get_robust_list);
SENTRY_SYSCALL(rseq);

// fd.cpp
SENTRY_SYSCALL(close);
SENTRY_SYSCALL(close_range);
SENTRY_SYSCALL(dup);
SENTRY_SYSCALL(dup2);
SENTRY_SYSCALL(dup3);
SENTRY_SYSCALL(fcntl);
SENTRY_SYSCALL(pipe);
SENTRY_SYSCALL(pipe2);
SENTRY_SYSCALL(ioctl);

// read_write.cpp
SENTRY_SYSCALL(read);
SENTRY_SYSCALL(write);
SENTRY_SYSCALL(pread64);
SENTRY_SYSCALL(pwrite64);
SENTRY_SYSCALL(readv);
SENTRY_SYSCALL(writev);
SENTRY_SYSCALL(preadv);
SENTRY_SYSCALL(pwritev);
SENTRY_SYSCALL(preadv2);
SENTRY_SYSCALL(pwritev2);
SENTRY_SYSCALL(lseek);

// file.cpp
SENTRY_SYSCALL(open);
SENTRY_SYSCALL(openat);
SENTRY_SYSCALL(creat);
SENTRY_SYSCALL(stat);
SENTRY_SYSCALL(lstat);
SENTRY_SYSCALL(fstat);
SENTRY_SYSCALL(newfstatat);
SENTRY_SYSCALL(statx);
SENTRY_SYSCALL(access);
SENTRY_SYSCALL(faccessat);
SENTRY_SYSCALL(faccessat2);
SENTRY_SYSCALL(readlink);
SENTRY_SYSCALL(readlinkat);
SENTRY_SYSCALL(getdents64);
SENTRY_SYSCALL(getcwd);
SENTRY_SYSCALL(chdir);
SENTRY_SYSCALL(fchdir);
SENTRY_SYSCALL(umask);
SENTRY_SYSCALL(mkdir);
SENTRY_SYSCALL(mkdirat);
SENTRY_SYSCALL(unlink);
SENTRY_SYSCALL(unlinkat);
SENTRY_SYSCALL(rmdir);
SENTRY_SYSCALL(rename);
SENTRY_SYSCALL(renameat);
SENTRY_SYSCALL(renameat2);
SENTRY_SYSCALL(link);
SENTRY_SYSCALL(linkat);
SENTRY_SYSCALL(symlink);
SENTRY_SYSCALL(symlinkat);
SENTRY_SYSCALL(chmod);
SENTRY_SYSCALL(fchmod);
SENTRY_SYSCALL(fchmodat);
SENTRY_SYSCALL(fchmodat2);
SENTRY_SYSCALL(chown);
SENTRY_SYSCALL(fchown);
SENTRY_SYSCALL(lchown);
SENTRY_SYSCALL(fchownat);
SENTRY_SYSCALL(truncate);
SENTRY_SYSCALL(ftruncate);
SENTRY_SYSCALL(fsync);
SENTRY_SYSCALL(fdatasync);
SENTRY_SYSCALL(syncfs);
SENTRY_SYSCALL(sync);
SENTRY_SYSCALL(statfs);
SENTRY_SYSCALL(fstatfs);
SENTRY_SYSCALL(utimensat);
SENTRY_SYSCALL(utime);
SENTRY_SYSCALL(utimes);
SENTRY_SYSCALL(futimesat);
SENTRY_SYSCALL(fallocate);
SENTRY_SYSCALL(fadvise64);
SENTRY_SYSCALL(flock);
SENTRY_SYSCALL(getxattr);
SENTRY_SYSCALL(lgetxattr);
SENTRY_SYSCALL(fgetxattr);
SENTRY_SYSCALL(listxattr);
SENTRY_SYSCALL(llistxattr);
SENTRY_SYSCALL(flistxattr);
SENTRY_SYSCALL(setxattr);
SENTRY_SYSCALL(lsetxattr);
SENTRY_SYSCALL(fsetxattr);
SENTRY_SYSCALL(removexattr);
SENTRY_SYSCALL(lremovexattr);
SENTRY_SYSCALL(fremovexattr);
SENTRY_SYSCALL(mknod);
SENTRY_SYSCALL(mknodat);

// splice.cpp
SENTRY_SYSCALL(sendfile);
SENTRY_SYSCALL(copy_file_range);

// poll.cpp
SENTRY_SYSCALL(poll);
SENTRY_SYSCALL(ppoll);
SENTRY_SYSCALL(select);
SENTRY_SYSCALL(pselect6);
SENTRY_SYSCALL(epoll_create);
SENTRY_SYSCALL(epoll_create1);
SENTRY_SYSCALL(epoll_ctl);
SENTRY_SYSCALL(epoll_wait);
SENTRY_SYSCALL(epoll_pwait);
SENTRY_SYSCALL(epoll_pwait2);

// event_files.cpp
SENTRY_SYSCALL(eventfd);
SENTRY_SYSCALL(eventfd2);
SENTRY_SYSCALL(signalfd);
SENTRY_SYSCALL(signalfd4);
SENTRY_SYSCALL(timerfd_create);
SENTRY_SYSCALL(timerfd_settime);
SENTRY_SYSCALL(timerfd_gettime);

// identity.cpp
SENTRY_SYSCALL(getuid);
SENTRY_SYSCALL(geteuid);
SENTRY_SYSCALL(getgid);
SENTRY_SYSCALL(getegid);
SENTRY_SYSCALL(getresuid);
SENTRY_SYSCALL(getresgid);
SENTRY_SYSCALL(getgroups);
SENTRY_SYSCALL(setuid);
SENTRY_SYSCALL(setgid);
SENTRY_SYSCALL(setreuid);
SENTRY_SYSCALL(setregid);
SENTRY_SYSCALL(setresuid);
SENTRY_SYSCALL(setresgid);
SENTRY_SYSCALL(setfsuid);
SENTRY_SYSCALL(setfsgid);
SENTRY_SYSCALL(setgroups);

// time.cpp
SENTRY_SYSCALL(clock_gettime);
SENTRY_SYSCALL(clock_getres);
SENTRY_SYSCALL(gettimeofday);
SENTRY_SYSCALL(time);
SENTRY_SYSCALL(nanosleep);
SENTRY_SYSCALL(clock_nanosleep);
SENTRY_SYSCALL(times);
SENTRY_SYSCALL(getrusage);
SENTRY_SYSCALL(sysinfo);

// misc.cpp
SENTRY_SYSCALL(getrandom);
SENTRY_SYSCALL(prlimit64);
SENTRY_SYSCALL(getrlimit);
SENTRY_SYSCALL(setrlimit);
SENTRY_SYSCALL(sched_getaffinity);
SENTRY_SYSCALL(sched_setaffinity);
SENTRY_SYSCALL(sched_yield);
SENTRY_SYSCALL(sched_getscheduler);
SENTRY_SYSCALL(sched_getparam);
SENTRY_SYSCALL(sched_setscheduler);
SENTRY_SYSCALL(sched_setparam);
SENTRY_SYSCALL(sched_get_priority_max);
SENTRY_SYSCALL(sched_get_priority_min);
SENTRY_SYSCALL(sched_rr_get_interval);
SENTRY_SYSCALL(getpriority);
SENTRY_SYSCALL(setpriority);
SENTRY_SYSCALL(getcpu);

// socket.cpp, and send/recv in read_write.cpp
// The socket behind guest fd `fd` (kept alive in `hold`): EBADF, or ENOTSOCK.
Result<netstack::Socket*> socket_of(Task& t, int fd, vfs::FileRef& hold);
// Who calls, as a socket records it (SO_PEERCRED, SCM_CREDENTIALS).
netstack::Cred socket_cred(Task& t);
// A socket address argument (Linux move_addr_to_kernel()).
Result<netstack::Address> copy_sockaddr(Task& t, uint64_t addr, int64_t len);
// An AF_UNIX pathname peer for connect/sendto: fills in the socket node it names.
Result<void> resolve_unix_peer(Task& t, netstack::Socket& s, netstack::Address& a);
// Park a blocking socket call, bounded by SO_RCVTIMEO/SO_SNDTIMEO `timeo` (0:
// forever, negative: no wait): once it passes the call returns `timed_out`.
SyscallOutcome park_socket(Task& t, std::chrono::nanoseconds timeo,
    std::vector<std::pair<vfs::WaitQueue*, uint32_t>> queues, long timed_out);
// A name back to the guest (Linux move_addr_to_user()): cut to its buffer, full length returned.
Result<void> put_sockaddr(Task& t, const netstack::Address& a, uint64_t addr, uint64_t len_addr);
SENTRY_SYSCALL(socket);
SENTRY_SYSCALL(socketpair);
SENTRY_SYSCALL(bind);
SENTRY_SYSCALL(listen);
SENTRY_SYSCALL(accept);
SENTRY_SYSCALL(accept4);
SENTRY_SYSCALL(connect);
SENTRY_SYSCALL(shutdown);
SENTRY_SYSCALL(getsockopt);
SENTRY_SYSCALL(setsockopt);
SENTRY_SYSCALL(getsockname);
SENTRY_SYSCALL(getpeername);
SENTRY_SYSCALL(sendto);
SENTRY_SYSCALL(recvfrom);
SENTRY_SYSCALL(sendmsg);
SENTRY_SYSCALL(recvmsg);
SENTRY_SYSCALL(sendmmsg);
SENTRY_SYSCALL(recvmmsg);

} // namespace sentry::kernel
