// Memory management. The guest's address space is the host process's own, so these
// calls are validated and then injected: the guest thread runs them natively.
// File mappings need a host fd inside the guest process: the sentry has the guest
// open its own fd through /proc/<sentry>/fd/N (a path only the sentry writes, in the
// read-only scratch page), maps it and closes it again.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <fmt/format.h>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

bool is_error_return(long r) { return r < 0 && r > -4096; }

SyscallOutcome inject_same(Task& t, const SyscallArgs& args)
{
    (void)t;
    return SyscallOutcome::inject(args.nr, args.a, [](Task&, long r) -> SyscallOutcome { return r; });
}

// The sentry's scratch page must stay as it is: the guest may not unmap, remap or
// reprotect it.
bool overlaps_scratch(Task& t, uint64_t addr, uint64_t len)
{
    uint64_t s = t.group().scratch;
    if (!s)
        return false;
    uint64_t end = addr + len;
    if (end < addr)
        return true;
    return addr < s + Kernel::k_scratch_size && s < end;
}

} // namespace

SENTRY_SYSCALL(brk) { return inject_same(t, args); }

SENTRY_SYSCALL(mmap)
{
    uint64_t addr = args.arg(0), len = args.arg(1), prot = args.arg(2), flags = args.arg(3);
    int fd = args.as_int(4);
    uint64_t off = args.arg(5);
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && overlaps_scratch(t, addr, len))
        return Errno(ENOMEM);
    if (flags & MAP_ANONYMOUS)
        return SyscallOutcome::inject(SYS_mmap, {addr, len, prot, flags, static_cast<uint64_t>(-1), off},
            [](Task&, long r) -> SyscallOutcome { return r; });
    if (!t.group().fds)
        return Errno(EBADF);
    auto file = TRY(t.group().fds->get(fd));
    int hfd = file->host_fd();
    if (hfd < 0)
        return Errno(ENODEV);
    // Reopen with the guest's access mode so the host enforces PROT_WRITE/MAP_SHARED
    // rules as it would for the guest's own open file description.
    int mode = file->flags() & O_ACCMODE;
    if (file->flags() & O_PATH)
        return Errno(EBADF);
    std::string path = fmt::format("/proc/{}/fd/{}", t.kernel().sentry_pid(), hfd);
    path.push_back('\0');
    return t.kernel().with_scratch(t, path, [=](Task&, uint64_t path_addr) -> SyscallOutcome {
        return SyscallOutcome::inject(SYS_openat,
            {static_cast<uint64_t>(AT_FDCWD), path_addr, static_cast<uint64_t>(mode | O_CLOEXEC), 0, 0, 0},
            [=](Task&, long guest_fd) -> SyscallOutcome {
                if (is_error_return(guest_fd))
                    return Errno(guest_fd == -EACCES ? EACCES : ENODEV);
                return SyscallOutcome::inject(SYS_mmap, {addr, len, prot, flags, static_cast<uint64_t>(guest_fd), off},
                    [guest_fd](Task&, long mapped) -> SyscallOutcome {
                        return SyscallOutcome::inject(SYS_close, {static_cast<uint64_t>(guest_fd), 0, 0, 0, 0, 0},
                            [mapped](Task&, long) -> SyscallOutcome { return mapped; });
                    });
            });
    });
}

SENTRY_SYSCALL(munmap)
{
    if (overlaps_scratch(t, args.arg(0), args.arg(1)))
        return Errno(EINVAL);
    return inject_same(t, args);
}

SENTRY_SYSCALL(mprotect)
{
    if (overlaps_scratch(t, args.arg(0), args.arg(1)))
        return Errno(EACCES);
    return inject_same(t, args);
}

SENTRY_SYSCALL(mremap)
{
    if (overlaps_scratch(t, args.arg(0), args.arg(1)))
        return Errno(EINVAL);
    if ((args.arg(3) & MREMAP_FIXED) && overlaps_scratch(t, args.arg(4), args.arg(2)))
        return Errno(EINVAL);
    return inject_same(t, args);
}

SENTRY_SYSCALL(madvise)
{
    if (overlaps_scratch(t, args.arg(0), args.arg(1)))
        return Errno(EINVAL);
    return inject_same(t, args);
}

SENTRY_SYSCALL(mm_passthrough) { return inject_same(t, args); }

SENTRY_SYSCALL(futex)
{
    // Futexes live in the guest's own memory; the host implements them. A blocking
    // wait blocks the guest thread, never the sentry (injection is asynchronous).
    return inject_same(t, args);
}

SENTRY_SYSCALL(set_robust_list) { return inject_same(t, args); }

SENTRY_SYSCALL(get_robust_list)
{
    if (args.as_int(0) != 0 && args.as_int(0) != t.vtid())
        return Errno(EPERM);
    return SyscallOutcome::inject(args.nr, {0, args.arg(1), args.arg(2), 0, 0, 0},
        [](Task&, long r) -> SyscallOutcome { return r; });
}

SENTRY_SYSCALL(rseq) { return inject_same(t, args); }

} // namespace sentry::kernel
