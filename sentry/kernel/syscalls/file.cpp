// Files by path: open, stat, access, readlink, directories and the cwd; names
// (mkdir, unlink, rename, link, symlink, mknod), modes, owners, times, sizes, sync,
// statfs, flock and extended attributes. Paths are
// resolved by kernel/path.cpp into a host (dirfd, path) pair and the sentry makes
// the host call itself; the guest never names a host path the sentry did not check.

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <chrono>
#include <cstring>
#include <vector>
#include <fmt/format.h>

#include "sentry/kernel/path.h"
#include "sentry/kernel/procfs.h"
#include "sentry/vfs/memory_file.h"
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

// A guest fd named by a path (/proc/self/fd/N): a closed one is a missing name.
Result<vfs::FileRef> file_by_name(Task& t, int fd)
{
    auto f = file_for(t, fd);
    if (f.is_error())
        return Errno(ENOENT);
    return f;
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
    } else if (auto proc = path[0] == '/' ? synthesize_proc_file(t, path) : std::nullopt) {
        if ((flags & O_ACCMODE) != O_RDONLY)
            return Errno(EACCES);
        auto contents = TRY(std::move(*proc));
        file = std::make_shared<vfs::MemoryFile>(std::move(contents), path, O_RDONLY | O_LARGEFILE);
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
        auto f = TRY(file_by_name(t, *gfd));
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
        auto f = TRY(file_by_name(t, *gfd));
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
        f = TRY(path.empty() ? file_for(t, dirfd) : file_by_name(t, *guest_fd_path(path)));
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

// --- Names, modes, owners, times, sizes, locks and extended attributes ---

namespace {

// Linux include/uapi/linux/xattr.h and include/uapi/asm-generic/fcntl.h.
constexpr size_t k_xattr_name_max = 255;
constexpr size_t k_xattr_size_max = 65536;
constexpr size_t k_xattr_list_max = 65536;
constexpr unsigned k_lock_mand = 32;
#ifndef SYS_fchmodat2
constexpr long SYS_fchmodat2 = 452;
#endif

// What a path argument designates: a host (dirfd, path) for the sentry's own host
// call (`path` empty: dirfd itself, for AT_EMPTY_PATH), or a file only the sentry
// holds (a pipe named by /proc/self/fd/N or as dirfd itself).
struct PathTarget {
    AtPath at{AT_FDCWD, {}};
    vfs::FileRef sentry_file;
};

PathTarget target_of(const vfs::FileRef& f)
{
    if (f->host_fd() < 0)
        return PathTarget{{-1, {}}, f};
    return PathTarget{{f->host_fd(), {}}, nullptr};
}

// Resolve a path argument. A name of one of the guest's own fds (/proc/self/fd/N,
// /dev/fd/N, /dev/stdin, ...) becomes the sentry's own magic link to the file behind
// it: followed (`follow`), it reaches that file; not followed, it is a procfs symlink
// as natively (/dev/stdin itself is a real symlink in /dev and stays one). An empty
// path (AT_EMPTY_PATH) names dirfd itself.
Result<PathTarget> lookup(Task& t, int dirfd, const std::string& path, bool follow)
{
    if (path.empty()) {
        if (dirfd == AT_FDCWD)
            return PathTarget{{t.group().fs->cwd_fd, {}}, nullptr};
        return target_of(TRY(file_for(t, dirfd)));
    }
    bool dev_std = path.compare(0, 5, "/dev/") == 0 && path.compare(0, 8, "/dev/fd/") != 0;
    if (auto gfd = guest_fd_path(path); gfd && (follow || !dev_std)) {
        auto f = file_for(t, *gfd);
        if (f.is_error())
            return Errno(ENOENT); // no such entry in /proc/self/fd
        if (f.value()->host_fd() >= 0)
            return PathTarget{{AT_FDCWD, fmt::format("/proc/self/fd/{}", f.value()->host_fd())}, nullptr};
        if (follow)
            return target_of(f.value());
    }
    return PathTarget{TRY(resolve_at(t, dirfd, path)), nullptr};
}

// A host path for host calls that have no *at form (truncate, statfs, xattrs): a
// relative name goes through the sentry's magic link to its directory.
std::string host_path(const AtPath& at)
{
    if (at.dirfd == AT_FDCWD)
        return at.path;
    if (at.path.empty())
        return fmt::format("/proc/self/fd/{}", at.dirfd);
    return fmt::format("/proc/self/fd/{}/{}", at.dirfd, at.path);
}

// The file of an fd for calls that refuse O_PATH descriptors (Linux fdget()).
Result<vfs::FileRef> file_for_io(Task& t, int fd)
{
    auto f = TRY(file_for(t, fd));
    if (f->flags() & O_PATH)
        return Errno(EBADF);
    return f;
}

Result<void> host_result(long r)
{
    if (r < 0)
        return Errno(errno);
    return {};
}

mode_t apply_umask(Task& t, mode_t mode) { return mode & ~t.group().fs->umask; }

SyscallOutcome do_mkdirat(Task& t, int dirfd, uint64_t path_addr, mode_t mode)
{
    auto path = TRY(copy_path(t, path_addr));
    auto at = TRY(resolve_at(t, dirfd, path));
    TRY(host_result(::mkdirat(at.dirfd, at.path.c_str(), apply_umask(t, mode & 07777))));
    return 0;
}

// Compare Linux fs/namei.c: unlinkat, do_rmdir(), do_unlinkat().
SyscallOutcome do_unlinkat(Task& t, int dirfd, uint64_t path_addr, int flags)
{
    if (flags & ~AT_REMOVEDIR)
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr));
    auto at = TRY(resolve_at(t, dirfd, path));
    TRY(host_result(::unlinkat(at.dirfd, at.path.c_str(), flags)));
    return 0;
}

// Compare Linux fs/namei.c:do_renameat2().
SyscallOutcome do_renameat2(Task& t, int olddirfd, uint64_t old_addr, int newdirfd, uint64_t new_addr, unsigned flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return Errno(EINVAL);
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
        return Errno(EINVAL);
    auto oldpath = TRY(copy_path(t, old_addr));
    auto from = TRY(resolve_at(t, olddirfd, oldpath));
    auto newpath = TRY(copy_path(t, new_addr));
    auto to = TRY(resolve_at(t, newdirfd, newpath));
    TRY(host_result(syscall(SYS_renameat2, from.dirfd, from.path.c_str(), to.dirfd, to.path.c_str(), flags)));
    return 0;
}

// Compare Linux fs/namei.c:do_linkat().
SyscallOutcome do_linkat(Task& t, int olddirfd, uint64_t old_addr, int newdirfd, uint64_t new_addr, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    auto oldpath = TRY(copy_path(t, old_addr, flags & AT_EMPTY_PATH));
    auto from = TRY(lookup(t, olddirfd, oldpath, flags & AT_SYMLINK_FOLLOW));
    auto newpath = TRY(copy_path(t, new_addr));
    auto to = TRY(resolve_at(t, newdirfd, newpath));
    if (from.sentry_file)
        return Errno(EXDEV); // a pipe lives on pipefs, never on the target's mount
    int hflags = (flags & AT_SYMLINK_FOLLOW) | (from.at.path.empty() ? AT_EMPTY_PATH : 0);
    TRY(host_result(::linkat(from.at.dirfd, from.at.path.c_str(), to.dirfd, to.path.c_str(), hflags)));
    return 0;
}

SyscallOutcome do_symlinkat(Task& t, uint64_t target_addr, int newdirfd, uint64_t path_addr)
{
    auto target = TRY(copy_path(t, target_addr));
    auto path = TRY(copy_path(t, path_addr));
    auto at = TRY(resolve_at(t, newdirfd, path));
    TRY(host_result(::symlinkat(target.c_str(), at.dirfd, at.path.c_str())));
    return 0;
}

// Compare Linux fs/open.c:do_fchmodat(). The mode is a umode_t.
SyscallOutcome do_fchmodat(Task& t, int dirfd, uint64_t path_addr, uint16_t mode, unsigned flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    auto target = TRY(lookup(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW)));
    if (target.sentry_file)
        return 0; // a pipe's inode mode is not kept
    auto& at = target.at;
    unsigned hflags = (flags & AT_SYMLINK_NOFOLLOW) | (at.path.empty() ? AT_EMPTY_PATH : 0);
    if (hflags)
        TRY(host_result(syscall(SYS_fchmodat2, at.dirfd, at.path.c_str(), mode, hflags)));
    else
        TRY(host_result(syscall(SYS_fchmodat, at.dirfd, at.path.c_str(), mode)));
    return 0;
}

// Compare Linux fs/open.c:do_fchownat().
SyscallOutcome do_fchownat(Task& t, int dirfd, uint64_t path_addr, uid_t uid, gid_t gid, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    auto target = TRY(lookup(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW)));
    if (target.sentry_file)
        return 0; // a pipe's inode owner is not kept
    auto& at = target.at;
    int hflags = (flags & AT_SYMLINK_NOFOLLOW) | (at.path.empty() ? AT_EMPTY_PATH : 0);
    TRY(host_result(::fchownat(at.dirfd, at.path.c_str(), uid, gid, hflags)));
    return 0;
}

// Linux fs/utimes.c:nsec_valid().
bool nsec_valid(long nsec) { return nsec == UTIME_OMIT || nsec == UTIME_NOW || (nsec >= 0 && nsec <= 999999999); }

// Compare Linux fs/utimes.c:do_utimes(). `times` null: now.
SyscallOutcome do_utimes(Task& t, int dirfd, uint64_t path_addr, const struct timespec* times, int flags)
{
    auto check_times = [times]() -> Result<void> {
        if (times && (!nsec_valid(times[0].tv_nsec) || !nsec_valid(times[1].tv_nsec)))
            return Errno(EINVAL);
        return {};
    };
    if (!path_addr && dirfd != AT_FDCWD) {
        // do_utimes_fd(): futimens.
        if (flags)
            return Errno(EINVAL);
        auto f = TRY(file_for_io(t, dirfd));
        TRY(check_times());
        if (f->host_fd() < 0)
            return 0; // a pipe's inode times are not kept
        TRY(host_result(syscall(SYS_utimensat, f->host_fd(), nullptr, times, 0)));
        return 0;
    }
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, path_addr, flags & AT_EMPTY_PATH));
    auto target = TRY(lookup(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW)));
    TRY(check_times());
    if (target.sentry_file)
        return 0;
    auto& at = target.at;
    int hflags = (flags & AT_SYMLINK_NOFOLLOW) | (at.path.empty() ? AT_EMPTY_PATH : 0);
    TRY(host_result(syscall(SYS_utimensat, at.dirfd, at.path.c_str(), times, hflags)));
    return 0;
}

// Compare Linux fs/utimes.c:do_futimesat(): microseconds, checked before scaling.
SyscallOutcome do_futimesat(Task& t, int dirfd, uint64_t path_addr, uint64_t tv_addr)
{
    struct timespec ts[2];
    if (tv_addr) {
        struct timeval tv[2];
        TRY(t.copy_in(tv_addr, tv, sizeof tv));
        for (auto& v : tv)
            if (v.tv_usec >= 1000000 || v.tv_usec < 0)
                return Errno(EINVAL);
        for (int i = 0; i < 2; ++i)
            ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
    }
    return do_utimes(t, dirfd, path_addr, tv_addr ? ts : nullptr, 0);
}

// statfs of pipefs, as the host reports it for a pipe of its own.
Result<struct statfs> pipefs_statfs()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        return Errno(errno);
    struct statfs st {};
    long r = syscall(SYS_fstatfs, p[0], &st);
    int err = errno;
    ::close(p[0]);
    ::close(p[1]);
    if (r < 0)
        return Errno(err);
    return st;
}

Result<struct statfs> statfs_of(const PathTarget& target)
{
    if (target.sentry_file)
        return pipefs_statfs();
    struct statfs st {};
    long r = target.at.path.empty() ? syscall(SYS_fstatfs, target.at.dirfd, &st)
                                    : syscall(SYS_statfs, host_path(target.at).c_str(), &st);
    if (r < 0)
        return Errno(errno);
    return st;
}

// An xattr name (Linux fs/xattr.c:import_xattr_name()): empty or too long is ERANGE.
Result<std::string> copy_xattr_name(Task& t, uint64_t addr)
{
    auto name = t.copy_string(addr, k_xattr_name_max + 1);
    if (name.is_error())
        return name.error() == Errno(ENAMETOOLONG) ? Errno(ERANGE) : name.error();
    if (name->empty())
        return Errno(ERANGE);
    return name;
}

bool is_user_xattr(const std::string& name) { return name.compare(0, 5, "user.") == 0; }

// Which file an xattr call names: a path (following the last symlink or not) or an fd.
enum class XattrBy { Path, LinkPath, Fd };

Result<PathTarget> xattr_target(Task& t, XattrBy by, uint64_t arg0)
{
    if (by == XattrBy::Fd) {
        auto f = TRY(file_for(t, static_cast<int>(arg0)));
        return target_of(f);
    }
    auto path = TRY(copy_path(t, arg0));
    return lookup(t, AT_FDCWD, path, by == XattrBy::Path);
}

// Compare Linux fs/xattr.c:path_getxattrat(): the name is checked first.
SyscallOutcome do_getxattr(Task& t, XattrBy by, const SyscallArgs& args)
{
    auto name = TRY(copy_xattr_name(t, args.arg(1)));
    auto target = TRY(xattr_target(t, by, args.arg(0)));
    if (target.sentry_file)
        return Errno(is_user_xattr(name) ? ENODATA : EOPNOTSUPP); // pipefs has no xattrs
    size_t size = std::min<size_t>(args.arg(3), k_xattr_size_max);
    std::vector<char> value(size);
    ssize_t n;
    if (by == XattrBy::Fd)
        n = ::fgetxattr(target.at.dirfd, name.c_str(), value.data(), size);
    else if (by == XattrBy::Path)
        n = ::getxattr(host_path(target.at).c_str(), name.c_str(), value.data(), size);
    else
        n = ::lgetxattr(host_path(target.at).c_str(), name.c_str(), value.data(), size);
    if (n < 0)
        return Errno(errno);
    if (size && n > 0)
        TRY(t.copy_out(args.arg(2), value.data(), static_cast<size_t>(n)));
    return n;
}

SyscallOutcome do_listxattr(Task& t, XattrBy by, const SyscallArgs& args)
{
    auto target = TRY(xattr_target(t, by, args.arg(0)));
    if (target.sentry_file)
        return 0;
    size_t size = std::min<size_t>(args.arg(2), k_xattr_list_max);
    std::vector<char> list(size);
    ssize_t n;
    if (by == XattrBy::Fd)
        n = ::flistxattr(target.at.dirfd, list.data(), size);
    else if (by == XattrBy::Path)
        n = ::listxattr(host_path(target.at).c_str(), list.data(), size);
    else
        n = ::llistxattr(host_path(target.at).c_str(), list.data(), size);
    if (n < 0)
        return Errno(errno);
    if (size && n > 0)
        TRY(t.copy_out(args.arg(1), list.data(), static_cast<size_t>(n)));
    return n;
}

// Compare Linux fs/xattr.c:setxattr_copy(): flags, name and value come before the path.
SyscallOutcome do_setxattr(Task& t, XattrBy by, const SyscallArgs& args)
{
    int flags = args.as_int(4);
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        return Errno(EINVAL);
    auto name = TRY(copy_xattr_name(t, args.arg(1)));
    size_t size = args.arg(3);
    if (size > k_xattr_size_max)
        return Errno(E2BIG);
    std::vector<char> value(size);
    if (size)
        TRY(t.copy_in(args.arg(2), value.data(), size));
    auto target = TRY(xattr_target(t, by, args.arg(0)));
    if (target.sentry_file)
        return Errno(is_user_xattr(name) ? EPERM : EOPNOTSUPP);
    int r;
    if (by == XattrBy::Fd)
        r = ::fsetxattr(target.at.dirfd, name.c_str(), value.data(), size, flags);
    else if (by == XattrBy::Path)
        r = ::setxattr(host_path(target.at).c_str(), name.c_str(), value.data(), size, flags);
    else
        r = ::lsetxattr(host_path(target.at).c_str(), name.c_str(), value.data(), size, flags);
    TRY(host_result(r));
    return 0;
}

SyscallOutcome do_removexattr(Task& t, XattrBy by, const SyscallArgs& args)
{
    auto name = TRY(copy_xattr_name(t, args.arg(1)));
    auto target = TRY(xattr_target(t, by, args.arg(0)));
    if (target.sentry_file)
        return Errno(is_user_xattr(name) ? EPERM : EOPNOTSUPP);
    int r;
    if (by == XattrBy::Fd)
        r = ::fremovexattr(target.at.dirfd, name.c_str());
    else if (by == XattrBy::Path)
        r = ::removexattr(host_path(target.at).c_str(), name.c_str());
    else
        r = ::lremovexattr(host_path(target.at).c_str(), name.c_str());
    TRY(host_result(r));
    return 0;
}

// Compare Linux fs/namei.c:may_mknod() and do_mknodat(). The mode is a umode_t.
SyscallOutcome do_mknodat(Task& t, int dirfd, uint64_t path_addr, uint16_t mode, unsigned dev)
{
    switch (mode & S_IFMT) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    case S_IFDIR:
        return Errno(EPERM);
    default:
        return Errno(EINVAL);
    }
    auto path = TRY(copy_path(t, path_addr));
    auto at = TRY(resolve_at(t, dirfd, path));
    mode_t type = (mode & S_IFMT) ? (mode & S_IFMT) : S_IFREG;
    bool whiteout = S_ISCHR(mode) && dev == 0;
    if ((S_ISCHR(mode) || S_ISBLK(mode)) && !whiteout) {
        // The sandbox makes no device nodes, as for a process without CAP_MKNOD.
        // The name's own errors come first (filename_create()).
        struct stat st {};
        if (::fstatat(at.dirfd, at.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
            return Errno(EEXIST);
        if (errno != ENOENT)
            return Errno(errno);
        auto slash = at.path.find_last_of('/');
        if (slash != std::string::npos) {
            std::string parent = slash == 0 ? "/" : at.path.substr(0, slash);
            if (::fstatat(at.dirfd, parent.c_str(), &st, 0) < 0)
                return Errno(errno);
            if (!S_ISDIR(st.st_mode))
                return Errno(ENOTDIR);
        }
        return Errno(EPERM);
    }
    TRY(host_result(::mknodat(at.dirfd, at.path.c_str(), type | apply_umask(t, mode & 07777), 0)));
    return 0;
}

} // namespace

SENTRY_SYSCALL(mkdir) { return do_mkdirat(t, AT_FDCWD, args.arg(0), static_cast<mode_t>(args.arg(1))); }
SENTRY_SYSCALL(mkdirat) { return do_mkdirat(t, args.as_int(0), args.arg(1), static_cast<mode_t>(args.arg(2))); }

SENTRY_SYSCALL(unlink) { return do_unlinkat(t, AT_FDCWD, args.arg(0), 0); }
SENTRY_SYSCALL(unlinkat) { return do_unlinkat(t, args.as_int(0), args.arg(1), args.as_int(2)); }
SENTRY_SYSCALL(rmdir) { return do_unlinkat(t, AT_FDCWD, args.arg(0), AT_REMOVEDIR); }

SENTRY_SYSCALL(rename) { return do_renameat2(t, AT_FDCWD, args.arg(0), AT_FDCWD, args.arg(1), 0); }

SENTRY_SYSCALL(renameat)
{
    return do_renameat2(t, args.as_int(0), args.arg(1), args.as_int(2), args.arg(3), 0);
}

SENTRY_SYSCALL(renameat2)
{
    return do_renameat2(t, args.as_int(0), args.arg(1), args.as_int(2), args.arg(3), args.as_uint(4));
}

SENTRY_SYSCALL(link) { return do_linkat(t, AT_FDCWD, args.arg(0), AT_FDCWD, args.arg(1), 0); }

SENTRY_SYSCALL(linkat)
{
    return do_linkat(t, args.as_int(0), args.arg(1), args.as_int(2), args.arg(3), args.as_int(4));
}

SENTRY_SYSCALL(symlink) { return do_symlinkat(t, args.arg(0), AT_FDCWD, args.arg(1)); }
SENTRY_SYSCALL(symlinkat) { return do_symlinkat(t, args.arg(0), args.as_int(1), args.arg(2)); }

SENTRY_SYSCALL(chmod) { return do_fchmodat(t, AT_FDCWD, args.arg(0), static_cast<uint16_t>(args.arg(1)), 0); }

SENTRY_SYSCALL(fchmodat)
{
    return do_fchmodat(t, args.as_int(0), args.arg(1), static_cast<uint16_t>(args.arg(2)), 0);
}

SENTRY_SYSCALL(fchmodat2)
{
    return do_fchmodat(t, args.as_int(0), args.arg(1), static_cast<uint16_t>(args.arg(2)), args.as_uint(3));
}

SENTRY_SYSCALL(fchmod)
{
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() < 0)
        return 0; // a pipe's inode mode is not kept
    TRY(host_result(::fchmod(f->host_fd(), static_cast<uint16_t>(args.arg(1)))));
    return 0;
}

SENTRY_SYSCALL(chown)
{
    return do_fchownat(t, AT_FDCWD, args.arg(0), args.as_uint(1), args.as_uint(2), 0);
}

SENTRY_SYSCALL(lchown)
{
    return do_fchownat(t, AT_FDCWD, args.arg(0), args.as_uint(1), args.as_uint(2), AT_SYMLINK_NOFOLLOW);
}

SENTRY_SYSCALL(fchownat)
{
    return do_fchownat(t, args.as_int(0), args.arg(1), args.as_uint(2), args.as_uint(3), args.as_int(4));
}

SENTRY_SYSCALL(fchown)
{
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() < 0)
        return 0; // a pipe's inode owner is not kept
    TRY(host_result(::fchown(f->host_fd(), args.as_uint(1), args.as_uint(2))));
    return 0;
}

// Compare Linux fs/open.c:do_sys_truncate() and vfs_truncate().
SENTRY_SYSCALL(truncate)
{
    off_t length = static_cast<off_t>(args.as_long(1));
    if (length < 0)
        return Errno(EINVAL);
    auto path = TRY(copy_path(t, args.arg(0)));
    auto target = TRY(lookup(t, AT_FDCWD, path, true));
    if (target.sentry_file)
        return Errno(EINVAL); // not a regular file
    TRY(host_result(::truncate(host_path(target.at).c_str(), length)));
    return 0;
}

// Compare Linux fs/open.c:do_sys_ftruncate() and do_ftruncate().
SENTRY_SYSCALL(ftruncate)
{
    off_t length = static_cast<off_t>(args.as_long(1));
    if (length < 0)
        return Errno(EINVAL);
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() < 0 || !f->writable())
        return Errno(EINVAL);
    TRY(host_result(::ftruncate(f->host_fd(), length)));
    return 0;
}

// Compare Linux fs/sync.c:do_fsync(): files without an fsync operation (pipes) give
// EINVAL.
static SyscallOutcome do_fsync(Task& t, int fd, bool datasync)
{
    auto f = TRY(file_for_io(t, fd));
    if (f->host_fd() < 0)
        return Errno(EINVAL);
    TRY(host_result(datasync ? ::fdatasync(f->host_fd()) : ::fsync(f->host_fd())));
    return 0;
}

SENTRY_SYSCALL(fsync) { return do_fsync(t, args.as_int(0), false); }
SENTRY_SYSCALL(fdatasync) { return do_fsync(t, args.as_int(0), true); }

SENTRY_SYSCALL(syncfs)
{
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() < 0)
        return 0; // pipefs has nothing to write back
    TRY(host_result(::syncfs(f->host_fd())));
    return 0;
}

// Writing back every filesystem can take long: the guest thread does it natively,
// so that the sentry's loop goes on meanwhile.
SENTRY_SYSCALL(sync)
{
    (void)t, (void)args;
    return SyscallOutcome::inject(SYS_sync, {}, [](Task&, long r) -> SyscallOutcome { return r; });
}

// Compare Linux fs/statfs.c: statfs, fstatfs (which accepts O_PATH descriptors).
SENTRY_SYSCALL(statfs)
{
    auto path = TRY(copy_path(t, args.arg(0)));
    auto target = TRY(lookup(t, AT_FDCWD, path, true));
    auto st = TRY(statfs_of(target));
    TRY(t.copy_out(args.arg(1), st));
    return 0;
}

SENTRY_SYSCALL(fstatfs)
{
    auto f = TRY(file_for(t, args.as_int(0)));
    auto st = TRY(statfs_of(target_of(f)));
    TRY(t.copy_out(args.arg(1), st));
    return 0;
}

// Compare Linux fs/utimes.c: utimensat.
SENTRY_SYSCALL(utimensat)
{
    struct timespec ts[2];
    uint64_t times_addr = args.arg(2);
    if (times_addr) {
        TRY(t.copy_in(times_addr, ts, sizeof ts));
        // Nothing to do: the path is not even looked up.
        if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
            return 0;
    }
    return do_utimes(t, args.as_int(0), args.arg(1), times_addr ? ts : nullptr, args.as_int(3));
}

SENTRY_SYSCALL(utime)
{
    struct timespec ts[2];
    uint64_t times_addr = args.arg(1);
    if (times_addr) {
        struct utimbuf ub {};
        TRY(t.copy_in(times_addr, &ub, sizeof ub));
        ts[0] = {ub.actime, 0};
        ts[1] = {ub.modtime, 0};
    }
    return do_utimes(t, AT_FDCWD, args.arg(0), times_addr ? ts : nullptr, 0);
}

SENTRY_SYSCALL(utimes) { return do_futimesat(t, AT_FDCWD, args.arg(0), args.arg(1)); }
SENTRY_SYSCALL(futimesat) { return do_futimesat(t, args.as_int(0), args.arg(1), args.arg(2)); }

// Compare Linux fs/open.c:vfs_fallocate().
SENTRY_SYSCALL(fallocate)
{
    int mode = args.as_int(1);
    off_t offset = static_cast<off_t>(args.as_long(2)), len = static_cast<off_t>(args.as_long(3));
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() >= 0) {
        TRY(host_result(::fallocate(f->host_fd(), mode, offset, len)));
        return 0;
    }
    if (offset < 0 || len <= 0)
        return Errno(EINVAL);
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
                 FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE))
        return Errno(EOPNOTSUPP);
    if (!f->writable())
        return Errno(EBADF);
    return Errno(ESPIPE); // a pipe
}

// Compare Linux mm/fadvise.c:generic_fadvise().
SENTRY_SYSCALL(fadvise64)
{
    auto f = TRY(file_for_io(t, args.as_int(0)));
    if (f->host_fd() < 0)
        return Errno(ESPIPE); // a pipe
    TRY(host_result(syscall(SYS_fadvise64, f->host_fd(), args.as_long(1), args.as_long(2), args.as_int(3))));
    return 0;
}

// Compare Linux fs/locks.c: flock. Locks belong to the open file description, which
// is the sentry's host one. The sentry never waits inside the host: a lock that is
// held elsewhere is tried again every few milliseconds while the task is parked.
SENTRY_SYSCALL(flock)
{
    int fd = args.as_int(0);
    unsigned cmd = args.as_uint(1);
    if (cmd & k_lock_mand)
        return 0; // LOCK_MAND requests are ignored since Linux 5.15
    unsigned op = cmd & ~static_cast<unsigned>(LOCK_NB);
    if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
        return Errno(EINVAL);
    auto f = TRY(file_for_io(t, fd));
    if (op != LOCK_UN && !f->readable() && !f->writable())
        return Errno(EBADF);
    int hfd = f->host_fd();
    if (hfd < 0)
        return 0; // locks on pipes are not kept
    if (::flock(hfd, static_cast<int>(op) | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK || (cmd & LOCK_NB))
        return Errno(errno);
    return SyscallOutcome::block({}, std::chrono::steady_clock::now() + std::chrono::milliseconds(10));
}

SENTRY_SYSCALL(getxattr) { return do_getxattr(t, XattrBy::Path, args); }
SENTRY_SYSCALL(lgetxattr) { return do_getxattr(t, XattrBy::LinkPath, args); }
SENTRY_SYSCALL(fgetxattr) { return do_getxattr(t, XattrBy::Fd, args); }
SENTRY_SYSCALL(listxattr) { return do_listxattr(t, XattrBy::Path, args); }
SENTRY_SYSCALL(llistxattr) { return do_listxattr(t, XattrBy::LinkPath, args); }
SENTRY_SYSCALL(flistxattr) { return do_listxattr(t, XattrBy::Fd, args); }
SENTRY_SYSCALL(setxattr) { return do_setxattr(t, XattrBy::Path, args); }
SENTRY_SYSCALL(lsetxattr) { return do_setxattr(t, XattrBy::LinkPath, args); }
SENTRY_SYSCALL(fsetxattr) { return do_setxattr(t, XattrBy::Fd, args); }
SENTRY_SYSCALL(removexattr) { return do_removexattr(t, XattrBy::Path, args); }
SENTRY_SYSCALL(lremovexattr) { return do_removexattr(t, XattrBy::LinkPath, args); }
SENTRY_SYSCALL(fremovexattr) { return do_removexattr(t, XattrBy::Fd, args); }

SENTRY_SYSCALL(mknod)
{
    return do_mknodat(t, AT_FDCWD, args.arg(0), static_cast<uint16_t>(args.arg(1)), args.as_uint(2));
}

SENTRY_SYSCALL(mknodat)
{
    return do_mknodat(t, args.as_int(0), args.arg(1), static_cast<uint16_t>(args.arg(2)), args.as_uint(3));
}

} // namespace sentry::kernel
