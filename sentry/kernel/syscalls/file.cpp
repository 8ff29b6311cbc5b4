// Files by path: open, stat, access, readlink, directories and the cwd. Paths are
// resolved by kernel/path.cpp into a host (dirfd, path) pair and the sentry makes
// the host call itself; the guest never names a host path the sentry did not check.

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>

#include "sentry/kernel/path.h"
#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/vfs/host_file.h"
#include "sentry/vfs/pipe.h"

namespace sentry::kernel {

namespace {

// Flags that stay with the open file description (what F_GETFL reports).
constexpr int k_file_status_flags = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_PATH | O_SYNC |
    O_DSYNC | O_ASYNC | O_DIRECTORY | O_NOFOLLOW;

std::string host_fd_path(int fd)
{
    char link[64], buf[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0)
        return {};
    return std::string(buf, static_cast<size_t>(n));
}

Result<vfs::FileRef> file_for(Task& t, int fd)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds->get(fd);
}

// Open one of the guest's own fds again by name (/proc/self/fd/N, /dev/stdin, ...).
Result<vfs::FileRef> reopen_guest_fd(Task& t, int fd, int flags)
{
    auto f = TRY(file_for(t, fd));
    if (auto* p = dynamic_cast<vfs::PipeEnd*>(f.get())) {
        (void)p;
        auto pipe_end = std::static_pointer_cast<vfs::PipeEnd>(f);
        bool write_end = (flags & O_ACCMODE) == O_WRONLY;
        auto shared = std::shared_ptr<vfs::Pipe>(f, &pipe_end->pipe());
        return vfs::FileRef(std::make_shared<vfs::PipeEnd>(shared, write_end, flags));
    }
    int hfd = f->host_fd();
    if (hfd < 0)
        return Errno(ENXIO);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", hfd);
    int nfd = ::open(link, (flags & ~O_CREAT) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (nfd < 0)
        return Errno(errno);
    return vfs::FileRef(std::make_shared<vfs::HostFile>(nfd, (flags & k_file_status_flags) | O_LARGEFILE, ""));
}

SyscallOutcome do_openat(Task& t, int dirfd, uint64_t path_addr, int flags, mode_t mode)
{
    auto path = TRY(copy_path(t, path_addr));
    auto& g = t.group();
    if (!g.fds)
        return Errno(EBADF);
    if ((flags & O_TMPFILE) == O_TMPFILE && (flags & O_ACCMODE) == O_RDONLY)
        return Errno(EINVAL);
    vfs::FileRef file;
    if (auto gfd = guest_fd_path(path)) {
        file = TRY(reopen_guest_fd(t, *gfd, flags));
    } else {
        auto at = TRY(resolve_at(t, dirfd, path));
        // The host never blocks the sentry on a FIFO open, and never hands it a
        // controlling terminal; the guest's umask is applied here (the sentry's own is 0).
        int host_flags = (flags & ~O_CLOEXEC) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        mode_t eff_mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode & 07777 & ~g.fs->umask) : 0;
        int hfd = ::openat(at.dirfd, at.path.c_str(), host_flags, eff_mode);
        if (hfd < 0)
            return Errno(errno);
        file = std::make_shared<vfs::HostFile>(hfd, (flags & k_file_status_flags) | O_LARGEFILE, "");
    }
    return g.fds->install(file, flags & O_CLOEXEC, 0, g.rlimits[RLIMIT_NOFILE].rlim_cur);
}

Result<void> copy_out_stat(Task& t, uint64_t addr, const struct stat& st) { return t.copy_out(addr, st); }

SyscallOutcome do_fstatat(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    struct stat st {};
    if (path.empty()) {
        if (dirfd == AT_FDCWD) {
            if (::fstat(t.group().fs->cwd_fd, &st) < 0)
                return Errno(errno);
        } else {
            auto f = TRY(file_for(t, dirfd));
            st = TRY(f->stat());
        }
    } else if (auto gfd = guest_fd_path(path); gfd && !(flags & AT_SYMLINK_NOFOLLOW)) {
        auto f = TRY(file_for(t, *gfd));
        st = TRY(f->stat());
    } else {
        auto at = TRY(resolve_at(t, dirfd, path));
        if (::fstatat(at.dirfd, at.path.c_str(), &st, flags & AT_SYMLINK_NOFOLLOW) < 0)
            return Errno(errno);
    }
    TRY(copy_out_stat(t, buf, st));
    return 0;
}

SyscallOutcome do_faccessat(Task& t, int dirfd, uint64_t path_addr, int mode, int flags)
{
    if (mode & ~(R_OK | W_OK | X_OK))
        return Errno(EINVAL);
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    if (path.empty()) {
        auto f = TRY(file_for(t, dirfd));
        if (f->host_fd() < 0)
            return 0;
        if (syscall(SYS_faccessat2, f->host_fd(), "", mode, flags) < 0)
            return Errno(errno);
        return 0;
    }
    auto at = TRY(resolve_at(t, dirfd, path));
    if (syscall(SYS_faccessat2, at.dirfd, at.path.c_str(), mode, flags) < 0)
        return Errno(errno);
    return 0;
}

SyscallOutcome do_readlinkat(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int bufsiz)
{
    if (bufsiz <= 0)
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, true));
    std::string target;
    auto& g = t.group();
    if (path == "/proc/self/exe" || path == "/proc/thread-self/exe") {
        target = g.exe;
    } else if (path == "/proc/self/cwd") {
        target = host_fd_path(g.fs->cwd_fd);
    } else if (auto gfd = guest_fd_path(path); gfd && path.compare(0, 5, "/dev/") != 0) {
        auto f = TRY(file_for(t, *gfd));
        target = f->description();
    } else {
        if (path.empty()) {
            auto f = TRY(file_for(t, dirfd));
            if (f->host_fd() < 0)
                return Errno(ENOENT);
            char out[PATH_MAX];
            ssize_t n = ::readlinkat(f->host_fd(), "", out, sizeof out);
            if (n < 0)
                return Errno(errno);
            target.assign(out, static_cast<size_t>(n));
        } else {
            auto at = TRY(resolve_at(t, dirfd, path));
            char out[PATH_MAX];
            ssize_t n = ::readlinkat(at.dirfd, at.path.c_str(), out, sizeof out);
            if (n < 0)
                return Errno(errno);
            target.assign(out, static_cast<size_t>(n));
        }
    }
    size_t n = std::min(target.size(), static_cast<size_t>(bufsiz));
    TRY(t.copy_out(buf, target.data(), n));
    return n;
}

} // namespace

SENTRY_SYSCALL(open) { return do_openat(t, AT_FDCWD, args.arg(0), args.as_int(1), static_cast<mode_t>(args.arg(2))); }

SENTRY_SYSCALL(openat)
{
    return do_openat(t, args.as_int(0), args.arg(1), args.as_int(2), static_cast<mode_t>(args.arg(3)));
}

SENTRY_SYSCALL(creat)
{
    return do_openat(t, AT_FDCWD, args.arg(0), O_CREAT | O_WRONLY | O_TRUNC, static_cast<mode_t>(args.arg(1)));
}

SENTRY_SYSCALL(stat) { return do_fstatat(t, AT_FDCWD, args.arg(0), args.arg(1), 0); }
SENTRY_SYSCALL(lstat) { return do_fstatat(t, AT_FDCWD, args.arg(0), args.arg(1), AT_SYMLINK_NOFOLLOW); }

SENTRY_SYSCALL(newfstatat)
{
    return do_fstatat(t, args.as_int(0), args.arg(1), args.arg(2), args.as_int(3));
}

SENTRY_SYSCALL(fstat)
{
    auto f = TRY(file_for(t, args.as_int(0)));
    auto st = TRY(f->stat());
    TRY(copy_out_stat(t, args.arg(1), st));
    return 0;
}

SENTRY_SYSCALL(statx)
{
    int dirfd = args.as_int(0);
    int flags = args.as_int(2);
    unsigned mask = args.as_uint(3);
    uint64_t buf = args.arg(4);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
        return Errno(EINVAL);
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return Errno(EINVAL);
    if (mask & STATX__RESERVED)
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, args.arg(1), flags & AT_EMPTY_PATH));
    struct statx sx {};
    if (path.empty() || guest_fd_path(path)) {
        vfs::FileRef f;
        if (path.empty() && dirfd == AT_FDCWD) {
            if (::statx(t.group().fs->cwd_fd, "", flags | AT_EMPTY_PATH, mask, &sx) < 0)
                return Errno(errno);
            TRY(t.copy_out(buf, sx));
            return 0;
        }
        f = TRY(file_for(t, path.empty() ? dirfd : *guest_fd_path(path)));
        if (f->host_fd() >= 0) {
            if (::statx(f->host_fd(), "", flags | AT_EMPTY_PATH, mask, &sx) < 0)
                return Errno(errno);
        } else {
            auto st = TRY(f->stat());
            sx.stx_mask = STATX_BASIC_STATS;
            sx.stx_blksize = static_cast<uint32_t>(st.st_blksize);
            sx.stx_nlink = static_cast<uint32_t>(st.st_nlink);
            sx.stx_uid = st.st_uid;
            sx.stx_gid = st.st_gid;
            sx.stx_mode = static_cast<uint16_t>(st.st_mode);
            sx.stx_ino = st.st_ino;
            sx.stx_size = static_cast<uint64_t>(st.st_size);
            sx.stx_blocks = static_cast<uint64_t>(st.st_blocks);
            sx.stx_dev_major = major(st.st_dev);
            sx.stx_dev_minor = minor(st.st_dev);
        }
    } else {
        auto at = TRY(resolve_at(t, dirfd, path));
        if (::statx(at.dirfd, at.path.c_str(), flags, mask, &sx) < 0)
            return Errno(errno);
    }
    TRY(t.copy_out(buf, sx));
    return 0;
}

SENTRY_SYSCALL(access) { return do_faccessat(t, AT_FDCWD, args.arg(0), args.as_int(1), 0); }
SENTRY_SYSCALL(faccessat) { return do_faccessat(t, args.as_int(0), args.arg(1), args.as_int(2), 0); }
SENTRY_SYSCALL(faccessat2) { return do_faccessat(t, args.as_int(0), args.arg(1), args.as_int(2), args.as_int(3)); }

SENTRY_SYSCALL(readlink) { return do_readlinkat(t, AT_FDCWD, args.arg(0), args.arg(1), args.as_int(2)); }
SENTRY_SYSCALL(readlinkat) { return do_readlinkat(t, args.as_int(0), args.arg(1), args.arg(2), args.as_int(3)); }

SENTRY_SYSCALL(getdents64)
{
    auto f = TRY(file_for(t, args.as_int(0)));
    size_t count = std::min<size_t>(args.arg(2), 1 << 20);
    std::vector<char> buf(count);
    size_t n = TRY(f->getdents64({buf.data(), buf.size()}));
    TRY(t.copy_out(args.arg(1), buf.data(), n));
    return n;
}

SENTRY_SYSCALL(getcwd)
{
    auto& fs = *t.group().fs;
    std::string cwd = host_fd_path(fs.cwd_fd);
    if (cwd.empty())
        return Errno(ENOENT);
    size_t size = args.arg(1);
    if (size < cwd.size() + 1)
        return Errno(ERANGE);
    TRY(t.copy_out(args.arg(0), cwd.c_str(), cwd.size() + 1));
    return cwd.size() + 1;
}

SENTRY_SYSCALL(chdir)
{
    auto path = TRY(copy_path(t, args.arg(0)));
    auto at = TRY(resolve_at(t, AT_FDCWD, path));
    int fd = ::openat(at.dirfd, at.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Errno(errno);
    auto& fs = *t.group().fs;
    ::close(fs.cwd_fd);
    fs.cwd_fd = fd;
    return 0;
}

SENTRY_SYSCALL(fchdir)
{
    auto f = TRY(file_for(t, args.as_int(0)));
    int hfd = f->host_fd();
    if (hfd < 0)
        return Errno(ENOTDIR);
    struct stat st {};
    if (::fstat(hfd, &st) < 0)
        return Errno(errno);
    if (!S_ISDIR(st.st_mode))
        return Errno(ENOTDIR);
    int fd = fcntl(hfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return Errno(errno);
    auto& fs = *t.group().fs;
    ::close(fs.cwd_fd);
    fs.cwd_fd = fd;
    return 0;
}

SENTRY_SYSCALL(umask)
{
    auto& fs = *t.group().fs;
    mode_t old = fs.umask;
    fs.umask = static_cast<mode_t>(args.arg(0)) & 0777;
    return old;
}

} // namespace sentry::kernel
