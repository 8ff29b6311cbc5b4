// poll, ppoll, select and pselect6 over the sentry's files (Linux fs/select.c).
// Readiness comes from each file's poll_events(). A call that finds nothing ready
// parks on the wait queues of the files it watches (a file without a queue is always
// ready) until one is notified or the timeout's deadline passes, then looks again.
// The deadline is computed once, at the first run, and kept in the task's progress;
// the remaining time is written back as Linux does (select, pselect6, ppoll).

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <optional>
#include <vector>

#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/vfs/epoll.h"

namespace sentry::kernel {

namespace {

using Queues = std::vector<std::pair<vfs::WaitQueue*, uint32_t>>;

constexpr size_t k_sigset_size = 8;
constexpr int64_t k_nsec_per_sec = 1000000000;
// Timeouts beyond this are as good as infinite and would overflow the steady clock.
constexpr int64_t k_max_timeout_sec = 100LL * 365 * 86400;

// Linux fs/select.c.
constexpr uint32_t k_pollin_set = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
constexpr uint32_t k_pollout_set = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
constexpr uint32_t k_pollex_set = POLLPRI;

// A file's readiness, with the normal-data bits Linux files report alongside
// POLLIN and POLLOUT.
uint32_t readiness(vfs::File& f)
{
    uint32_t ev = f.poll_events();
    if (ev & POLLIN)
        ev |= POLLRDNORM;
    if (ev & POLLOUT)
        ev |= POLLWRNORM;
    return ev;
}

// What to be woken for while waiting for `events`. A writer waits for POLLOUT only:
// every queue notifies POLLOUT together with the errors a writer cares about, and a
// host file arms its read watch for any mask with POLLHUP or POLLERR, which would
// wake a writer again and again while the file has data to read.
uint32_t wake_mask(uint32_t events)
{
    uint32_t m = 0;
    if (events & (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI))
        m |= POLLIN | POLLPRI | POLLHUP | POLLERR;
    if (events & (POLLOUT | POLLWRNORM | POLLWRBAND))
        m |= POLLOUT;
    return m ? m : POLLHUP | POLLERR;
}

// A file of the guest for poll and select: O_PATH descriptors are not pollable
// (Linux fdget()).
vfs::File* pollable(Task& t, int fd, vfs::FileRef& hold)
{
    if (!t.group().fds)
        return nullptr;
    auto f = t.group().fds->get(fd);
    if (f.is_error() || (f.value()->flags() & O_PATH))
        return nullptr;
    hold = f.value();
    return hold.get();
}

void add_wait(Queues& queues, vfs::File& f, uint32_t mask)
{
    auto* q = f.wait_queue();
    if (!q)
        return;
    for (auto& [wq, m] : queues)
        if (wq == q) {
            m |= mask;
            return;
        }
    queues.push_back({q, mask});
}

// Linux poll_select_set_timeout(): a deadline from a relative timeout (nullopt:
// none), or EINVAL.
Result<std::optional<Deadline>> deadline_after(int64_t sec, int64_t nsec)
{
    if (sec < 0 || nsec < 0 || nsec >= k_nsec_per_sec)
        return Errno(EINVAL);
    sec = std::min(sec, k_max_timeout_sec);
    return std::optional<Deadline>(std::chrono::steady_clock::now() + std::chrono::seconds(sec) +
                                   std::chrono::nanoseconds(nsec));
}

// The time left until `deadline`, never negative (Linux poll_select_finish()).
struct timespec time_left(Deadline deadline)
{
    auto left = std::max(deadline - std::chrono::steady_clock::now(), Deadline::duration::zero());
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    return {static_cast<time_t>(ns / k_nsec_per_sec), static_cast<long>(ns % k_nsec_per_sec)};
}

enum class TimeType { None, Timeval, Timespec };

// Write the remaining time back where the timeout came from, as Linux
// poll_select_finish() does: never for a zero timeout, and a fault there is ignored
// (except that an interrupted call then reports EINTR instead of restarting).
long finish_timeout(Task& t, TimeType type, uint64_t addr, const std::optional<Deadline>& deadline, bool zero, long ret)
{
    if (type == TimeType::None || !addr || zero || !deadline)
        return ret;
    auto left = time_left(*deadline);
    Result<void> r;
    if (type == TimeType::Timeval) {
        struct timeval tv {left.tv_sec, left.tv_nsec / 1000};
        r = t.copy_out(addr, tv);
    } else {
        r = t.copy_out(addr, left);
    }
    if (r.is_error() && ret == -k_ERESTARTNOHAND)
        return -EINTR;
    return ret;
}

// The temporary signal mask of ppoll and pselect6 (Linux set_user_sigmask()): kept
// until the call returns, or until the signal that interrupted it is delivered.
Result<void> set_user_sigmask(Task& t, uint64_t mask_addr, size_t size)
{
    if (!mask_addr)
        return {};
    if (size != k_sigset_size)
        return Errno(EINVAL);
    auto bits = TRY(t.copy_in<uint64_t>(mask_addr));
    if (!t.progress().started) {
        t.m_saved_mask = t.m_blocked;
        t.set_blocked(signals::SigSet(bits));
    }
    return {};
}

// Linux restore_saved_sigmask_unless(): a call that returns (rather than parks or
// is interrupted for a signal) puts the caller's mask back.
SyscallOutcome restore_sigmask_unless_interrupted(Task& t, bool had_mask, SyscallOutcome o)
{
    if (had_mask && o.kind() == SyscallOutcome::Kind::Return && o.value() != -k_ERESTARTNOHAND &&
        t.m_saved_mask) {
        t.m_blocked = *t.m_saved_mask;
        t.m_saved_mask.reset();
    }
    return o;
}

struct Timeout {
    TimeType type = TimeType::None;
    uint64_t addr = 0;   // where the remaining time goes back
    bool zero = false;   // poll once, never park
};

// Compare Linux fs/select.c:do_sys_poll() and do_poll(). `restart` is what an
// interrupted call returns: ERESTART_RESTARTBLOCK for poll, ERESTARTNOHAND for ppoll.
SyscallOutcome do_sys_poll(Task& t, uint64_t ufds, unsigned nfds, const Timeout& to, long restart)
{
    if (nfds > t.group().rlimits[RLIMIT_NOFILE].rlim_cur)
        return Errno(EINVAL);
    std::vector<struct pollfd> fds(nfds);
    if (nfds)
        TRY(t.copy_in(ufds, fds.data(), fds.size() * sizeof(struct pollfd)));
    auto& p = t.progress();
    Queues queues;
    int count = 0;
    for (auto& pfd : fds) {
        pfd.revents = 0;
        if (pfd.fd < 0)
            continue;
        vfs::FileRef hold;
        vfs::File* f = pollable(t, pfd.fd, hold);
        uint32_t events = static_cast<uint16_t>(pfd.events);
        uint32_t mask = f ? readiness(*f) & (events | POLLERR | POLLHUP) : POLLNVAL;
        pfd.revents = static_cast<short>(mask);
        if (mask)
            ++count;
        else if (count == 0)
            add_wait(queues, *f, wake_mask(events));
    }
    // The whole array goes back (fd and events unchanged), not revents one by one.
    auto write_back = [ufds, fds](Task& task) -> Result<void> {
        if (fds.empty())
            return {};
        return task.copy_out(ufds, fds.data(), fds.size() * sizeof(struct pollfd));
    };
    bool timed_out = to.zero || (p.deadline && std::chrono::steady_clock::now() >= *p.deadline);
    if (count == 0 && !timed_out) {
        auto deadline = p.deadline;
        auto interrupted = [write_back, to, deadline, restart](Task& task) -> long {
            if (write_back(task).is_error())
                return -EFAULT;
            return finish_timeout(task, to.type, to.addr, deadline, to.zero, restart);
        };
        if (t.kernel().has_deliverable(t))
            return interrupted(t);
        p.on_interrupt = interrupted;
        return SyscallOutcome::block(std::move(queues), p.deadline);
    }
    TRY(write_back(t));
    return finish_timeout(t, to.type, to.addr, p.deadline, to.zero, count);
}

// Linux clamps select's nfds to the size of the fd table (bits beyond it are
// ignored, not EBADF), which fs/file.c:alloc_fdtable() grows from 64 to 128 * 2^k
// entries and which a child inherits. The size is estimated from the highest open
// fd, and is at least 256: what a program started from bash inherits (bash keeps
// fd 255 open), so that a closed fd below 256 gives EBADF as it does natively.
int fdtable_size(Task& t)
{
    auto& fds = t.group().fds;
    int highest = !fds || fds->entries().empty() ? -1 : fds->entries().rbegin()->first;
    if (highest < 256)
        return 256;
    unsigned nr = static_cast<unsigned>(highest) / 128;
    return static_cast<int>(std::bit_ceil(nr + 1) * 128);
}

// Compare Linux fs/select.c:core_sys_select() and do_select().
SyscallOutcome core_sys_select(Task& t, int n, uint64_t inp, uint64_t outp, uint64_t exp, const Timeout& to)
{
    if (n < 0)
        return Errno(EINVAL);
    n = std::min(n, fdtable_size(t));
    size_t words = (static_cast<size_t>(n) + 63) / 64;
    std::vector<uint64_t> in(words), out(words), ex(words);
    for (auto [addr, set] : {std::pair{inp, &in}, std::pair{outp, &out}, std::pair{exp, &ex}})
        if (addr && words)
            TRY(t.copy_in(addr, set->data(), words * sizeof(uint64_t)));
    // max_select_fd(): every fd named must be open.
    for (int fd = 0; fd < n; ++fd) {
        size_t w = static_cast<size_t>(fd) / 64;
        uint64_t bit = 1ULL << (fd % 64);
        if (((in[w] | out[w] | ex[w]) & bit) && (!t.group().fds || t.group().fds->get(fd).is_error()))
            return Errno(EBADF);
    }
    std::vector<uint64_t> res_in(words), res_out(words), res_ex(words);
    Queues queues;
    int count = 0;
    for (int fd = 0; fd < n; ++fd) {
        size_t w = static_cast<size_t>(fd) / 64;
        uint64_t bit = 1ULL << (fd % 64);
        if (!((in[w] | out[w] | ex[w]) & bit))
            continue;
        vfs::FileRef hold;
        vfs::File* f = pollable(t, fd, hold);
        if (!f)
            continue; // an O_PATH descriptor is never ready
        uint32_t mask = readiness(*f);
        if ((mask & k_pollin_set) && (in[w] & bit)) {
            res_in[w] |= bit;
            ++count;
        }
        if ((mask & k_pollout_set) && (out[w] & bit)) {
            res_out[w] |= bit;
            ++count;
        }
        if ((mask & k_pollex_set) && (ex[w] & bit)) {
            res_ex[w] |= bit;
            ++count;
        }
        if (count == 0) {
            uint32_t want = ((in[w] & bit) ? POLLIN : 0) | ((out[w] & bit) ? POLLOUT : 0) |
                ((ex[w] & bit) ? POLLPRI : 0);
            add_wait(queues, *f, wake_mask(want));
        }
    }
    auto& p = t.progress();
    bool timed_out = to.zero || (p.deadline && std::chrono::steady_clock::now() >= *p.deadline);
    if (count == 0 && !timed_out) {
        // Interrupted: the sets are not written back, only the time left.
        auto deadline = p.deadline;
        auto interrupted = [to, deadline](Task& task) -> long {
            return finish_timeout(task, to.type, to.addr, deadline, to.zero, -k_ERESTARTNOHAND);
        };
        if (t.kernel().has_deliverable(t))
            return interrupted(t);
        p.on_interrupt = interrupted;
        return SyscallOutcome::block(std::move(queues), p.deadline);
    }
    for (auto [addr, set] : {std::pair{inp, &res_in}, std::pair{outp, &res_out}, std::pair{exp, &res_ex}})
        if (addr && words)
            TRY(t.copy_out(addr, set->data(), words * sizeof(uint64_t)));
    return finish_timeout(t, to.type, to.addr, p.deadline, to.zero, count);
}

// Read a timeout once, at the first run of the call, into the task's progress.
Result<Timeout> start_timeout(Task& t, TimeType type, uint64_t addr)
{
    Timeout to{type, addr, false};
    if (!addr)
        return to;
    int64_t sec, nsec;
    if (type == TimeType::Timeval) {
        auto tv = TRY(t.copy_in<struct timeval>(addr));
        sec = tv.tv_sec + tv.tv_usec / 1000000;
        nsec = (tv.tv_usec % 1000000) * 1000;
    } else {
        auto ts = TRY(t.copy_in<struct timespec>(addr));
        sec = ts.tv_sec;
        nsec = ts.tv_nsec;
    }
    auto deadline = TRY(deadline_after(sec, nsec));
    to.zero = sec == 0 && nsec == 0;
    auto& p = t.progress();
    if (!p.started)
        p.deadline = deadline;
    return to;
}

// The epoll behind guest fd `epfd`: EBADF, or EINVAL if it is another file.
Result<vfs::Epoll*> epoll_at(Task& t, int epfd, vfs::FileRef& hold)
{
    if (!t.group().fds)
        return Errno(EBADF);
    hold = TRY(t.group().fds->get(epfd));
    auto* ep = vfs::Epoll::from(*hold);
    if (!ep)
        return Errno(EINVAL);
    return ep;
}

// Compare Linux fs/eventpoll.c:do_epoll_wait() and ep_poll(). An interrupted wait
// is EINTR whatever SA_RESTART says.
SyscallOutcome do_epoll_wait(Task& t, int epfd, uint64_t events, int maxevents, bool zero)
{
    constexpr uint64_t k_user_top = 0x7ffffffff000ULL; // x86-64 TASK_SIZE_MAX
    if (maxevents <= 0 || static_cast<size_t>(maxevents) > INT_MAX / sizeof(struct epoll_event))
        return Errno(EINVAL);
    uint64_t bytes = static_cast<uint64_t>(maxevents) * sizeof(struct epoll_event);
    if (events >= k_user_top || bytes > k_user_top - events)
        return Errno(EFAULT);
    // A parked epoll_wait keeps its epoll, as Linux holds the file for the call.
    auto& held = t.progress().file;
    if (!held) {
        vfs::FileRef hold;
        TRY(epoll_at(t, epfd, hold));
        held = hold;
    }
    auto* ep = vfs::Epoll::from(*held);
    auto ready = ep->collect(static_cast<size_t>(maxevents));
    if (!ready.empty()) {
        size_t sent = 0;
        for (auto& r : ready) {
            struct epoll_event ev {};
            ev.events = r.events;
            ev.data.u64 = r.data;
            if (t.copy_out(events + sent * sizeof ev, &ev, sizeof ev).is_error()) {
                if (sent == 0)
                    return Errno(EFAULT);
                break;
            }
            ep->consumed(r);
            ++sent;
        }
        return static_cast<long>(sent);
    }
    auto& p = t.progress();
    if (zero || (p.deadline && std::chrono::steady_clock::now() >= *p.deadline))
        return 0;
    p.on_interrupt = [](Task&) -> long { return -EINTR; };
    return SyscallOutcome::block({{ep->wait_queue(), POLLIN}}, p.deadline);
}

// A timeout in milliseconds, as epoll_wait and epoll_pwait take it (negative: none).
bool start_ms_timeout(Task& t, int timeout_ms)
{
    auto& p = t.progress();
    if (timeout_ms >= 0 && !p.started)
        p.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    return timeout_ms == 0;
}

} // namespace

// Compare Linux fs/select.c: poll. A negative timeout waits forever.
SENTRY_SYSCALL(poll)
{
    int timeout_ms = args.as_int(2);
    auto& p = t.progress();
    Timeout to;
    if (timeout_ms >= 0) {
        to.zero = timeout_ms == 0;
        if (!p.started)
            p.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    auto o = do_sys_poll(t, args.arg(0), args.as_uint(1), to, -k_ERESTART_RESTARTBLOCK);
    p.started = true;
    return o;
}

// Compare Linux fs/select.c: ppoll.
SENTRY_SYSCALL(ppoll)
{
    auto to = TRY(start_timeout(t, TimeType::Timespec, args.arg(2)));
    TRY(set_user_sigmask(t, args.arg(3), args.arg(4)));
    t.progress().started = true;
    auto o = do_sys_poll(t, args.arg(0), args.as_uint(1), to, -k_ERESTARTNOHAND);
    return restore_sigmask_unless_interrupted(t, args.arg(3) != 0, std::move(o));
}

// Compare Linux fs/select.c: select (kern_select()).
SENTRY_SYSCALL(select)
{
    auto to = TRY(start_timeout(t, TimeType::Timeval, args.arg(4)));
    t.progress().started = true;
    return core_sys_select(t, args.as_int(0), args.arg(1), args.arg(2), args.arg(3), to);
}

// Compare Linux fs/select.c: pselect6 (do_pselect()). The sixth argument points to
// {const sigset_t *ss; size_t ss_len}.
SENTRY_SYSCALL(pselect6)
{
    struct {
        uint64_t ss;
        uint64_t ss_len;
    } pack{};
    if (args.arg(5))
        pack = TRY(t.copy_in<decltype(pack)>(args.arg(5)));
    auto to = TRY(start_timeout(t, TimeType::Timespec, args.arg(4)));
    TRY(set_user_sigmask(t, pack.ss, pack.ss_len));
    t.progress().started = true;
    auto o = core_sys_select(t, args.as_int(0), args.arg(1), args.arg(2), args.arg(3), to);
    return restore_sigmask_unless_interrupted(t, pack.ss != 0, std::move(o));
}

SENTRY_SYSCALL(epoll_create)
{
    if (args.as_int(0) <= 0)
        return Errno(EINVAL);
    if (!t.group().fds)
        return Errno(EBADF);
    return TRY(t.group().fds->install(std::make_shared<vfs::Epoll>(O_RDWR), false, 0,
        t.group().rlimits[RLIMIT_NOFILE].rlim_cur));
}

SENTRY_SYSCALL(epoll_create1)
{
    int flags = args.as_int(0);
    if (flags & ~EPOLL_CLOEXEC)
        return Errno(EINVAL);
    if (!t.group().fds)
        return Errno(EBADF);
    return TRY(t.group().fds->install(std::make_shared<vfs::Epoll>(O_RDWR), flags & EPOLL_CLOEXEC, 0,
        t.group().rlimits[RLIMIT_NOFILE].rlim_cur));
}

// Compare Linux fs/eventpoll.c: epoll_ctl() and do_epoll_ctl(), in their order.
SENTRY_SYSCALL(epoll_ctl)
{
    int epfd = args.as_int(0), op = args.as_int(1), fd = args.as_int(2);
    bool has_event = op != EPOLL_CTL_DEL;
    struct epoll_event ev {};
    if (has_event)
        ev = TRY(t.copy_in<struct epoll_event>(args.arg(3)));
    if (!t.group().fds)
        return Errno(EBADF);
    auto epf = TRY(t.group().fds->get(epfd));
    auto target = TRY(t.group().fds->get(fd));
    if (!target->pollable())
        return Errno(EPERM);
    auto* ep = vfs::Epoll::from(*epf);
    if (epf == target || !ep)
        return Errno(EINVAL);
    constexpr uint32_t k_exclusive_ok = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
    if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD)
            return Errno(EINVAL);
        if (op == EPOLL_CTL_ADD && (vfs::Epoll::from(*target) || (ev.events & ~k_exclusive_ok)))
            return Errno(EINVAL);
    }
    switch (op) {
    case EPOLL_CTL_ADD: return SyscallOutcome(ep->add(fd, target, ev.events | EPOLLERR | EPOLLHUP, ev.data.u64));
    case EPOLL_CTL_MOD: return SyscallOutcome(ep->modify(fd, target, ev.events | EPOLLERR | EPOLLHUP, ev.data.u64));
    case EPOLL_CTL_DEL: return SyscallOutcome(ep->remove(fd, target));
    default: return Errno(EINVAL);
    }
}

SENTRY_SYSCALL(epoll_wait)
{
    bool zero = start_ms_timeout(t, args.as_int(3));
    t.progress().started = true;
    return do_epoll_wait(t, args.as_int(0), args.arg(1), args.as_int(2), zero);
}

SENTRY_SYSCALL(epoll_pwait)
{
    bool zero = start_ms_timeout(t, args.as_int(3));
    TRY(set_user_sigmask(t, args.arg(4), args.arg(5)));
    t.progress().started = true;
    auto o = do_epoll_wait(t, args.as_int(0), args.arg(1), args.as_int(2), zero);
    return restore_sigmask_unless_interrupted(t, args.arg(4) != 0, std::move(o));
}

SENTRY_SYSCALL(epoll_pwait2)
{
    auto to = TRY(start_timeout(t, TimeType::Timespec, args.arg(3)));
    TRY(set_user_sigmask(t, args.arg(4), args.arg(5)));
    t.progress().started = true;
    auto o = do_epoll_wait(t, args.as_int(0), args.arg(1), args.as_int(2), to.zero);
    return restore_sigmask_unless_interrupted(t, args.arg(4) != 0, std::move(o));
}

} // namespace sentry::kernel
