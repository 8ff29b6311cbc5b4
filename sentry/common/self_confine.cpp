#include "sentry/common/self_confine.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>
#include <fmt/format.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

namespace sentry {

namespace {

#define ALLOW(name) ConfineSyscall{#name, SYS_##name}

// What the sentry does on the host once its first guest runs, grouped by who needs
// it. Found by tracing the sentry over the whole test suite (strace without -f, so
// the guests stay the sentry's own tracees: every call after the filter's load) and
// by reading what the tests do not reach: each host call in sentry/ (the handlers'
// host file, xattr, scheduling and socket paths), plus what glibc (malloc, stdio,
// abort) and Boost.Asio's epoll reactor (epoll, timerfd, eventfd) make on their
// behalf. See docs/design-notes.md, "Self-confinement". To give the sentry a new
// host call, add it here: the refusal names it on stderr.
//
// Not here on purpose: execve/execveat, fork/vfork/clone/clone3 (guests clone and
// exec themselves, by injection), mount and the new mount API, unshare/setns,
// pivot_root/chroot, bpf, perf_event_open, init/finit/delete_module, kexec_*,
// reboot, swapon, open_by_handle_at, userfaultfd, io_uring_*, keyctl/add_key,
// process_madvise, kcmp, the set*id family, capset, prctl, seccomp,
// settimeofday/clock_settime, sethostname, iopl/ioperm, personality; and the legacy
// path calls (open, stat, mkdir, rename ...) that glibc no longer makes on x86-64.
constexpr ConfineSyscall k_allowed[] = {
    // The ptrace platform: stops, registers, guest memory, signals to guests
    // (tgkill: abort() of the sentry itself).
    ALLOW(ptrace), ALLOW(wait4), ALLOW(waitid), ALLOW(process_vm_readv), ALLOW(process_vm_writev),
    ALLOW(kill), ALLOW(tgkill),
    // Scheduling, priorities and limits applied to guests' host threads (misc.cpp),
    // usage of finished guests (rusage.h).
    ALLOW(sched_setaffinity), ALLOW(sched_getaffinity), ALLOW(sched_setscheduler),
    ALLOW(sched_getscheduler), ALLOW(sched_setparam), ALLOW(sched_getparam),
    ALLOW(sched_rr_get_interval), ALLOW(setpriority), ALLOW(getpriority), ALLOW(prlimit64),
    ALLOW(getrusage), ALLOW(times),
    // Identity and system facts (identity.cpp, the VFS's permission checks, uname).
    ALLOW(getpid), ALLOW(getuid), ALLOW(getgid), ALLOW(getresuid),
    ALLOW(getresgid), ALLOW(getgroups), ALLOW(capget), ALLOW(uname), ALLOW(sysinfo),
    ALLOW(getrandom),
    // The sentry's own signals (its handlers, the watchdog's SIGALRM).
    ALLOW(rt_sigaction), ALLOW(rt_sigprocmask), ALLOW(rt_sigreturn), ALLOW(restart_syscall),
    // Memory: malloc, and memfd-backed tmpfs files that guests map.
    ALLOW(brk), ALLOW(mmap), ALLOW(munmap), ALLOW(mremap), ALLOW(mprotect), ALLOW(madvise),
    ALLOW(memfd_create), ALLOW(futex),
    // Time, the limits' watchdog and the event loop.
    ALLOW(clock_gettime), ALLOW(clock_getres), ALLOW(gettimeofday), ALLOW(time),
    ALLOW(timer_create), ALLOW(timer_settime), ALLOW(timer_delete), ALLOW(timerfd_create),
    ALLOW(timerfd_settime), ALLOW(eventfd2), ALLOW(epoll_create1), ALLOW(epoll_ctl),
    ALLOW(epoll_wait), ALLOW(poll),
    // File descriptors and I/O on host files, pipes and the terminal.
    ALLOW(read), ALLOW(write), ALLOW(pread64), ALLOW(pwrite64), ALLOW(writev), ALLOW(lseek),
    ALLOW(close), ALLOW(dup), ALLOW(pipe2), ALLOW(fcntl), ALLOW(ioctl), ALLOW(flock), ALLOW(fsync),
    ALLOW(fdatasync), ALLOW(syncfs), ALLOW(fadvise64), ALLOW(ftruncate), ALLOW(fallocate),
    ALLOW(copy_file_range),
    // The VFS on host files: opens, path walks and metadata, relative to a mount's
    // directory fd (openat2: RESOLVE_BENEATH walks).
    ALLOW(openat), ALLOW(openat2), ALLOW(newfstatat), ALLOW(statx), ALLOW(statfs), ALLOW(fstatfs),
    ALLOW(getdents64), ALLOW(readlink), ALLOW(readlinkat), ALLOW(access), ALLOW(faccessat2),
    ALLOW(mkdirat), ALLOW(unlinkat), ALLOW(renameat2), ALLOW(linkat), ALLOW(symlinkat),
    ALLOW(mknodat), ALLOW(fchmod), ALLOW(fchmodat), ALLOW(fchmodat2), ALLOW(fchown),
    ALLOW(fchownat), ALLOW(utimensat), ALLOW(truncate), ALLOW(umask), ALLOW(getcwd),
    ALLOW(getxattr), ALLOW(lgetxattr), ALLOW(fgetxattr), ALLOW(listxattr), ALLOW(llistxattr),
    ALLOW(flistxattr), ALLOW(setxattr), ALLOW(lsetxattr), ALLOW(fsetxattr), ALLOW(removexattr),
    ALLOW(lremovexattr), ALLOW(fremovexattr),
    // Host sockets: --network host, and the policy's port forwards (bind, listen,
    // accept4). socket() itself is limited to k_socket_domains below.
    ALLOW(socket), ALLOW(connect), ALLOW(bind), ALLOW(listen), ALLOW(accept4), ALLOW(sendto),
    ALLOW(recvfrom), ALLOW(sendmsg), ALLOW(recvmsg), ALLOW(getsockopt), ALLOW(setsockopt),
    ALLOW(getsockname), ALLOW(getpeername), ALLOW(shutdown),
    // Leaving.
    ALLOW(exit), ALLOW(exit_group),
};

#undef ALLOW

// Host socket families the sentry opens: unix (socketpair, host-side helpers) and
// IPv4/IPv6 for the host network. No packet, netlink, vsock or other families.
constexpr int k_socket_domains[] = {AF_UNIX, AF_INET, AF_INET6};

// ioctl requests refused although ioctl is allowed: pushing input into the host
// terminal (TIOCSTI) and the Linux console's multiplexer (TIOCLINUX).
constexpr unsigned k_denied_ioctls[] = {TIOCSTI, TIOCLINUX};

constexpr int k_max_nr = 512;

// Names of every syscall number, resolved before the filter is loaded: the SIGSYS
// handler may not allocate.
char g_names[k_max_nr][32];
volatile sig_atomic_t g_reported[k_max_nr];

void put(char*& p, const char* s)
{
    while (*s)
        *p++ = *s++;
}

// The default action (SECCOMP_RET_TRAP) lands here, in the thread that made the
// refused syscall, which the kernel skipped: say so once per syscall and make it
// return -EPERM, as SCMP_ACT_ERRNO(EPERM) would. Async-signal-safe: write(2) only.
void on_sigsys(int, siginfo_t* si, void* ctx)
{
    auto* uc = static_cast<ucontext_t*>(ctx);
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
    int nr = si->si_syscall;
    if (nr >= 0 && nr < k_max_nr) {
        if (g_reported[nr])
            return;
        g_reported[nr] = 1;
    }
    char buf[128];
    char* p = buf;
    put(p, "sentry: self-confinement refused host syscall ");
    if (nr >= 0 && nr < k_max_nr && g_names[nr][0]) {
        put(p, g_names[nr]);
    } else {
        char digits[16];
        int n = 0;
        unsigned v = static_cast<unsigned>(nr);
        do
            digits[n++] = static_cast<char>('0' + v % 10);
        while ((v /= 10) && n < 15);
        while (n)
            *p++ = digits[--n];
    }
    put(p, " (EPERM)\n");
    int saved = errno;
    (void)!::write(STDERR_FILENO, buf, static_cast<size_t>(p - buf));
    errno = saved;
}

bool env_set(const char* name)
{
    const char* v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

int count_threads()
{
    int n = 0;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.')
                ++n;
        closedir(d);
    }
    return n;
}

// SENTRY_SELF_CONFINE_PROBE: calls the filter must refuse, chosen so that each is
// harmless and answers something other than EPERM if it ran unconfined (as root or
// not), plus one allowed call as a control.
void probe()
{
    auto report = [](const char* what, long r) {
        fmt::print(stderr, "sentry: self-confinement probe: {} -> {}\n", what,
            r < 0 ? strerrorname_np(errno) ? strerrorname_np(errno) : "E?" : "ok");
    };
    report("getpid", syscall(SYS_getpid));
    report("unshare", syscall(SYS_unshare, 0));
    char* const argv[] = {const_cast<char*>("/nonexistent/sentry-probe"), nullptr};
    report("execve", syscall(SYS_execve, argv[0], argv, nullptr));
    report("mount", syscall(SYS_mount, "none", "/nonexistent/sentry-probe", "tmpfs", 0UL, nullptr));
    long fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
    report("socket(AF_NETLINK)", fd);
    if (fd >= 0)
        close(static_cast<int>(fd));
}

// ioctl: every request but k_denied_ioctls. The kernel reads the request as an
// unsigned int, so the rules must not let junk in the upper half of the register
// turn a refused request into an allowed one; and libseccomp takes one comparison
// per argument and rule. So each run of allowed 32-bit requests between refused
// ones becomes aligned power-of-two blocks, one masked comparison each, whose mask
// also covers the upper half (which must be 0). A request with junk up there is
// refused as a whole, which no ioctl the sentry makes has.
int allow_ioctls(scmp_filter_ctx ctx)
{
    auto allow_range = [&](uint64_t first, uint64_t last) {
        while (first <= last) {
            uint64_t size = first ? first & -first : uint64_t{1} << 32;
            while (first + size - 1 > last)
                size >>= 1;
            int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SYS_ioctl, 1, SCMP_A1_64(SCMP_CMP_MASKED_EQ, ~(size - 1), first));
            if (rc < 0)
                return rc;
            first += size;
        }
        return 0;
    };
    std::vector<uint64_t> denied(std::begin(k_denied_ioctls), std::end(k_denied_ioctls));
    std::ranges::sort(denied);
    uint64_t next = 0;
    for (uint64_t d : denied) {
        if (d > next)
            if (int rc = allow_range(next, d - 1); rc < 0)
                return rc;
        next = d + 1;
    }
    return allow_range(next, 0xffffffffULL);
}

} // namespace

std::span<const ConfineSyscall> self_confine_allowed() { return k_allowed; }

void* self_confine_build(std::string& why)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        why = "seccomp_init failed";
        return nullptr;
    }
    auto fail = [&](const std::string& what, int rc) -> void* {
        why = fmt::format("{}: {}", what, strerror(-rc));
        seccomp_release(ctx);
        return nullptr;
    };
    // Every thread of the sentry, or none (Asio's reactor makes none today, but a
    // resolver or a library could).
    if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc < 0)
        return fail("seccomp_attr_set(TSYNC)", rc);
    // A binary tree over syscall numbers rather than a linear scan: the filter runs on
    // every host syscall of the sentry, several per guest syscall.
    if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
        return fail("seccomp_attr_set(OPTIMIZE)", rc);
    for (const auto& s : k_allowed) {
        int rc;
        if (s.nr == SYS_socket) {
            for (int domain : k_socket_domains)
                if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s.nr, 1, SCMP_A0_32(SCMP_CMP_EQ, domain))) < 0)
                    return fail(fmt::format("seccomp_rule_add(socket, {})", domain), rc);
            continue;
        }
        if (s.nr == SYS_ioctl) {
            if ((rc = allow_ioctls(ctx)) < 0)
                return fail("seccomp_rule_add(ioctl)", rc);
            continue;
        }
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s.nr, 0);
        if (rc < 0)
            return fail(fmt::format("seccomp_rule_add({})", s.name), rc);
    }
    return ctx;
}

bool self_confine(std::string& why)
{
    if (env_set("SENTRY_NO_SELF_CONFINE"))
        return true;
    for (int nr = 0; nr < k_max_nr; ++nr) {
        if (char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr)) {
            snprintf(g_names[nr], sizeof g_names[nr], "%s", name);
            free(name);
        }
    }
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, nullptr);
    // The trap must reach on_sigsys: a blocked SIGSYS from seccomp kills instead.
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    sigprocmask(SIG_UNBLOCK, &sys, nullptr);

    int threads = count_threads();
    auto* ctx = static_cast<scmp_filter_ctx>(self_confine_build(why));
    if (!ctx)
        return false;
    int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        why = fmt::format("seccomp_load: {}", rc < 0 ? strerror(-rc) : "a thread could not be synchronized");
        return false;
    }
    if (env_set("SENTRY_SELF_CONFINE_PROBE")) {
        fmt::print(stderr, "sentry: self-confinement: {} syscalls allowed, {} thread(s) confined\n",
            std::size(k_allowed), threads);
        probe();
    }
    return true;
}

} // namespace sentry
