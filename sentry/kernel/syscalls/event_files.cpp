// Files that carry events rather than data: eventfd, timerfd and signalfd
// (Linux fs/eventfd.c, fs/timerfd.c, fs/signalfd.c). Their readiness drives
// poll/select/epoll like any other file's; reading a signalfd is in read_write.cpp.

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "sentry/kernel/signalfd.h"
#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/kernel/timerfd.h"
#include "sentry/vfs/eventfd.h"

namespace sentry::kernel {

namespace {

Result<int> install(Task& t, vfs::FileRef f, bool cloexec)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds->install(std::move(f), cloexec, 0, t.group().rlimits[RLIMIT_NOFILE].rlim_cur);
}

Result<vfs::FileRef> file_at(Task& t, int fd)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds->get(fd);
}

bool valid_timespec(const struct timespec& ts) { return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000; }

SyscallOutcome do_eventfd2(Task& t, unsigned initval, int flags)
{
    if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return Errno(EINVAL);
    auto f = std::make_shared<vfs::EventFd>(initval, flags & EFD_SEMAPHORE, O_RDWR | (flags & EFD_NONBLOCK ? O_NONBLOCK : 0));
    return install(t, f, flags & EFD_CLOEXEC);
}

// Compare Linux do_signalfd4().
SyscallOutcome do_signalfd4(Task& t, int fd, uint64_t mask_addr, uint64_t size, int flags)
{
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return Errno(EINVAL);
    if (size != sizeof(uint64_t))
        return Errno(EINVAL);
    auto bits = TRY(t.copy_in<uint64_t>(mask_addr));
    signals::SigSet mask(bits);
    if (fd == -1) {
        auto f = std::make_shared<SignalFd>(t.kernel(), mask, O_RDWR | (flags & SFD_NONBLOCK ? O_NONBLOCK : 0));
        return install(t, f, flags & SFD_CLOEXEC);
    }
    auto f = TRY(file_at(t, fd));
    auto* s = SignalFd::from(*f);
    if (!s)
        return Errno(EINVAL);
    s->set_mask(mask);
    return fd;
}

Result<TimerFd*> timerfd_at(Task& t, int fd, vfs::FileRef& hold)
{
    hold = TRY(file_at(t, fd));
    auto* tf = TimerFd::from(*hold);
    if (!tf)
        return Errno(EINVAL);
    return tf;
}

} // namespace

SENTRY_SYSCALL(eventfd) { return do_eventfd2(t, static_cast<unsigned>(args.arg(0)), 0); }
SENTRY_SYSCALL(eventfd2) { return do_eventfd2(t, static_cast<unsigned>(args.arg(0)), args.as_int(1)); }

SENTRY_SYSCALL(signalfd) { return do_signalfd4(t, args.as_int(0), args.arg(1), args.arg(2), 0); }
SENTRY_SYSCALL(signalfd4) { return do_signalfd4(t, args.as_int(0), args.arg(1), args.arg(2), args.as_int(3)); }

SENTRY_SYSCALL(timerfd_create)
{
    auto clock = static_cast<clockid_t>(args.as_int(0));
    int flags = args.as_int(1);
    if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
        return Errno(EINVAL);
    if (!TimerFd::valid_clock(clock))
        return Errno(EINVAL);
    auto f = std::make_shared<TimerFd>(clock, O_RDWR | (flags & TFD_NONBLOCK ? O_NONBLOCK : 0));
    return install(t, f, flags & TFD_CLOEXEC);
}

SENTRY_SYSCALL(timerfd_settime)
{
    // Compare Linux timerfd_settime(): copy, then flags and values, then the fd.
    int flags = args.as_int(1);
    auto value = TRY(t.copy_in<struct itimerspec>(args.arg(2)));
    if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) || !valid_timespec(value.it_value) ||
        !valid_timespec(value.it_interval))
        return Errno(EINVAL);
    vfs::FileRef hold;
    auto* tf = TRY(timerfd_at(t, args.as_int(0), hold));
    auto old = tf->set(flags, value);
    if (args.arg(3))
        TRY(t.copy_out(args.arg(3), old));
    return 0;
}

SENTRY_SYSCALL(timerfd_gettime)
{
    vfs::FileRef hold;
    auto* tf = TRY(timerfd_at(t, args.as_int(0), hold));
    TRY(t.copy_out(args.arg(1), tf->get()));
    return 0;
}

} // namespace sentry::kernel
