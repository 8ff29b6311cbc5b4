// The fd table: close, dup, fcntl, pipes and ioctl.

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>

#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/kernel/terminal.h"
#include "sentry/vfs/host_file.h"
#include "sentry/vfs/pipe.h"

namespace sentry::kernel {

namespace {

Result<FdTable*> fd_table(Task& t)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds.get();
}

unsigned long nofile_limit(Task& t) { return t.group().rlimits[RLIMIT_NOFILE].rlim_cur; }

// Status flags F_SETFL may change (Linux fs/fcntl.c SETFL_MASK).
constexpr int k_setfl_mask = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

} // namespace

SENTRY_SYSCALL(close)
{
    auto* fds = TRY(fd_table(t));
    TRY(fds->close(args.as_int(0)));
    return 0;
}

SENTRY_SYSCALL(close_range)
{
    unsigned first = args.as_uint(0), last = args.as_uint(1);
    unsigned flags = args.as_uint(2);
    if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
        return Errno(EINVAL);
    if (first > last)
        return Errno(EINVAL);
    auto& g = t.group();
    if (!g.fds)
        return 0;
    if ((flags & CLOSE_RANGE_UNSHARE) && g.fds.use_count() > 1)
        g.fds = g.fds->clone();
    if (flags & CLOSE_RANGE_CLOEXEC) {
        for (auto& [fd, e] : g.fds->entries())
            if (static_cast<unsigned>(fd) >= first && static_cast<unsigned>(fd) <= last)
                g.fds->set_cloexec(fd, true);
        return 0;
    }
    g.fds->close_range(first, last);
    return 0;
}

SENTRY_SYSCALL(dup)
{
    auto* fds = TRY(fd_table(t));
    auto f = TRY(fds->get(args.as_int(0)));
    return fds->install(f, false, 0, nofile_limit(t));
}

static SyscallOutcome do_dup3(Task& t, int oldfd, int newfd, int flags)
{
    auto* fds = TRY(fd_table(t));
    auto f = TRY(fds->get(oldfd));
    if (newfd < 0 || static_cast<unsigned long>(newfd) >= nofile_limit(t))
        return Errno(EBADF);
    fds->install_at(newfd, f, flags & O_CLOEXEC);
    return newfd;
}

SENTRY_SYSCALL(dup2)
{
    int oldfd = args.as_int(0), newfd = args.as_int(1);
    if (oldfd == newfd) {
        auto* fds = TRY(fd_table(t));
        TRY(fds->get(oldfd));
        return newfd;
    }
    return do_dup3(t, oldfd, newfd, 0);
}

SENTRY_SYSCALL(dup3)
{
    int flags = args.as_int(2);
    if (flags & ~O_CLOEXEC)
        return Errno(EINVAL);
    if (args.as_int(0) == args.as_int(1))
        return Errno(EINVAL);
    return do_dup3(t, args.as_int(0), args.as_int(1), flags);
}

SENTRY_SYSCALL(fcntl)
{
    auto* fds = TRY(fd_table(t));
    int fd = args.as_int(0);
    int cmd = args.as_int(1);
    uint64_t arg = args.arg(2);
    auto f = TRY(fds->get(fd));
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        long min = static_cast<long>(static_cast<int>(arg));
        if (min < 0 || static_cast<unsigned long>(min) >= nofile_limit(t))
            return Errno(EINVAL);
        return fds->install(f, cmd == F_DUPFD_CLOEXEC, static_cast<int>(min), nofile_limit(t));
    }
    case F_GETFD:
        return fds->entry(fd)->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        fds->set_cloexec(fd, arg & FD_CLOEXEC);
        return 0;
    case F_GETFL:
        return f->flags();
    case F_SETFL: {
        int nf = (f->flags() & ~k_setfl_mask) | (static_cast<int>(arg) & k_setfl_mask);
        f->set_flags(nf);
        f->flags_changed();
        return 0;
    }
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ: {
        auto* p = dynamic_cast<vfs::PipeEnd*>(f.get());
        if (!p)
            return Errno(EBADF);
        if (cmd == F_GETPIPE_SZ)
            return static_cast<long>(p->pipe().capacity());
        return p->pipe().set_capacity(static_cast<size_t>(static_cast<unsigned>(arg)));
    }
    case F_GETOWN:
    case F_GETSIG:
        return 0;
    case F_SETOWN:
    case F_SETSIG:
        return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: {
        int hfd = f->host_fd();
        if (hfd < 0)
            return Errno(EBADF);
        struct flock fl {};
        TRY(t.copy_in(arg, &fl, sizeof fl));
        // Never wait inside the host: a blocking lock is tried, and while it is held
        // elsewhere the task parks and tries again (interruptible, as F_SETLKW is).
        bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
        int hcmd = cmd == F_SETLKW ? F_SETLK : cmd == F_OFD_SETLKW ? F_OFD_SETLK : cmd;
        if (::fcntl(hfd, hcmd, &fl) < 0) {
            if (wait && (errno == EAGAIN || errno == EACCES))
                return SyscallOutcome::block({}, std::chrono::steady_clock::now() + std::chrono::milliseconds(10));
            return Errno(errno);
        }
        if (cmd == F_GETLK || cmd == F_OFD_GETLK)
            TRY(t.copy_out(arg, &fl, sizeof fl));
        return 0;
    }
    case F_ADD_SEALS:
    case F_GET_SEALS: {
        int hfd = f->host_fd();
        if (hfd < 0)
            return Errno(EINVAL);
        int r = ::fcntl(hfd, cmd, static_cast<int>(arg));
        return r < 0 ? Errno(errno) : SyscallOutcome(r);
    }
    default:
        return Errno(EINVAL);
    }
}

static SyscallOutcome do_pipe2(Task& t, uint64_t fds_addr, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return Errno(EINVAL);
    auto* fds = TRY(fd_table(t));
    auto [r, w] = vfs::make_pipe(flags);
    bool cloexec = flags & O_CLOEXEC;
    int rfd = TRY(fds->install(r, cloexec, 0, nofile_limit(t)));
    auto wfd = fds->install(w, cloexec, 0, nofile_limit(t));
    if (wfd.is_error()) {
        (void)fds->close(rfd);
        return wfd.error();
    }
    int pair[2] = {rfd, wfd.value()};
    if (t.copy_out(fds_addr, pair, sizeof pair).is_error()) {
        // Undo what the call created (Linux do_pipe2() does the same).
        (void)fds->close(rfd);
        (void)fds->close(wfd.value());
        return Errno(EFAULT);
    }
    return 0;
}

SENTRY_SYSCALL(pipe) { return do_pipe2(t, args.arg(0), 0); }
SENTRY_SYSCALL(pipe2) { return do_pipe2(t, args.arg(0), args.as_int(1)); }

SENTRY_SYSCALL(ioctl)
{
    auto* fds = TRY(fd_table(t));
    int fd = args.as_int(0);
    unsigned long cmd = args.arg(1) & 0xffffffffUL;
    uint64_t arg = args.arg(2);
    auto f = TRY(fds->get(fd));
    switch (cmd) {
    case FIOCLEX:
        fds->set_cloexec(fd, true);
        return 0;
    case FIONCLEX:
        fds->set_cloexec(fd, false);
        return 0;
    case FIONBIO: {
        int on = TRY(t.copy_in<int>(arg));
        f->set_flags(on ? (f->flags() | O_NONBLOCK) : (f->flags() & ~O_NONBLOCK));
        f->flags_changed();
        return 0;
    }
    case FIOASYNC:
        return 0;
    case FIONREAD: {
        int n = TRY(f->bytes_readable());
        TRY(t.copy_out(arg, n));
        return 0;
    }
    default:
        break;
    }
    // Terminal ioctls go to the host tty the sentry holds, with their arguments
    // copied in and out by the sentry (sizes of the kernel's own structs). On the
    // sandbox's terminal, job control and sessions are the emulated kernel's.
    int hfd = f->host_fd();
    if (hfd < 0 || !isatty(hfd))
        return Errno(ENOTTY);
    auto* term = t.kernel().terminal();
    bool controlling = term && term->is_this(*f);
    if (controlling) {
        if (auto o = terminal_ioctl(t, cmd, arg))
            return std::move(*o);
        if (tty_ioctl_changes_settings(cmd))
            if (long r = tty_check_change(t, SIGTTOU))
                return r;
    }
    size_t in = 0, out = 0;
    switch (cmd) {
    case TCGETS: out = 36; break;
    case TCSETS: case TCSETSW: case TCSETSF: in = 36; break;
    case TIOCGWINSZ: out = sizeof(struct winsize); break;
    case TIOCSWINSZ: in = sizeof(struct winsize); break;
    case TCFLSH:
    case TCXONC:
        // Arguments by value.
        if (::ioctl(hfd, cmd, static_cast<int>(arg)) < 0)
            return Errno(errno);
        return 0;
    case TCSBRK:
        // tcdrain() would block the sentry until the terminal took the output:
        // the sentry's writes have already reached the host terminal.
        return 0;
    case TIOCGPGRP: case TIOCSPGRP: case TIOCGSID: case TIOCNOTTY: case TIOCSCTTY:
        return Errno(ENOTTY); // not the sandbox's controlling terminal
    case TIOCOUTQ:
        out = sizeof(int);
        break;
    default:
        return Errno(ENOTTY);
    }
    char buf[64] = {};
    if (in)
        TRY(t.copy_in(arg, buf, in));
    if (::ioctl(hfd, cmd, buf) < 0)
        return Errno(errno);
    if (out)
        TRY(t.copy_out(arg, buf, out));
    return 0;
}

} // namespace sentry::kernel
