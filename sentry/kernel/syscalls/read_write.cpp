// read/write and their vectored and positioned forms. Blocking is data: a call that
// cannot make progress parks on the file's wait queue and is run again, keeping what
// it already transferred in the task's progress. One function (finish_write) decides
// partial results, EPIPE and SIGPIPE for every write path (Linux fs/pipe.c:pipe_write
// sends SIGPIPE even when part of the data went through).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>
#include <functional>

#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/kernel/signalfd.h"
#include "sentry/kernel/terminal.h"
#include "sentry/netstack/socket.h"
#include "sentry/vfs/pipe.h"

namespace sentry::kernel {

namespace {

// Linux caps one transfer at MAX_RW_COUNT (INT_MAX rounded down to a page).
constexpr size_t k_max_rw = INT_MAX & ~4095UL;
// The sentry moves data through its own buffer in chunks of this size.
constexpr size_t k_chunk = 1 << 20;

std::vector<char>& io_buffer(size_t n)
{
    static std::vector<char> buf;
    if (buf.size() < n)
        buf.resize(n);
    return buf;
}

Result<vfs::FileRef> file_for(Task& t, int fd)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds->get(fd);
}

// The file of a call that may park: looked up at its first run and held until it
// returns (Task::SyscallProgress::file), as Linux's fdget() holds it.
Result<vfs::FileRef> held_file(Task& t, int fd)
{
    auto& p = t.progress();
    if (!p.file)
        p.file = TRY(file_for(t, fd));
    return p.file;
}

struct Segment {
    uint64_t addr;
    size_t len;
};

Result<std::vector<Segment>> copy_iovec(Task& t, uint64_t addr, int count)
{
    if (count < 0 || count > IOV_MAX)
        return Errno(EINVAL);
    std::vector<iovec> iov(static_cast<size_t>(count));
    if (count)
        TRY(t.copy_in(addr, iov.data(), iov.size() * sizeof(iovec)));
    std::vector<Segment> segs;
    size_t total = 0;
    for (auto& v : iov) {
        if (static_cast<ssize_t>(v.iov_len) < 0)
            return Errno(EINVAL);
        size_t len = std::min(v.iov_len, k_max_rw - total);
        total += len;
        segs.push_back({reinterpret_cast<uint64_t>(v.iov_base), len});
    }
    return segs;
}

size_t total_len(const std::vector<Segment>& segs)
{
    size_t n = 0;
    for (auto& s : segs)
        n += s.len;
    return n;
}

// Copy up to `n` bytes of guest data at logical offset `from` of the segments;
// returns how many could be read before the first bad page.
size_t gather(Task& t, const std::vector<Segment>& segs, size_t from, char* out, size_t n)
{
    size_t got = 0;
    for (auto& s : segs) {
        if (got == n)
            break;
        if (from >= s.len) {
            from -= s.len;
            continue;
        }
        size_t take = std::min(s.len - from, n - got);
        size_t c = t.copy_in_partial(s.addr + from, out + got, take);
        got += c;
        if (c < take)
            break;
        from = 0;
    }
    return got;
}

// Copy `in` to the segments, starting `offset` bytes into them; returns how many
// bytes landed before a bad page.
size_t scatter_at(Task& t, const std::vector<Segment>& segs, size_t offset, std::span<const char> in)
{
    size_t put = 0;
    for (auto& s : segs) {
        if (put == in.size())
            break;
        if (offset >= s.len) {
            offset -= s.len;
            continue;
        }
        size_t take = std::min(s.len - offset, in.size() - put);
        size_t c = t.copy_out_partial(s.addr + offset, in.data() + put, take);
        put += c;
        if (c < take)
            break;
        offset = 0;
    }
    return put;
}

size_t scatter(Task& t, const std::vector<Segment>& segs, std::span<const char> in) { return scatter_at(t, segs, 0, in); }

// The result of a write that moved `done` bytes and then met `err` (if any).
SyscallOutcome finish_write(Task& t, size_t done, std::optional<Errno> err, bool sigpipe = true)
{
    if (err && *err == Errno(EPIPE)) {
        if (sigpipe)
            t.kernel().send_signal(t, SIGPIPE);
        if (done == 0)
            return Errno(EPIPE);
    }
    if (done > 0)
        return done;
    if (err)
        return *err;
    return 0;
}

// Compare Linux fs/signalfd.c: signalfd_read_iter(). Whole records only (a buffer
// under one is EINVAL); a reader takes only as many signals as its buffer holds and
// only the first record may block. A fault ends the read (EFAULT if it was the
// first record) and loses no signal.
SyscallOutcome read_signalfd(Task& t, SignalFd& sfd, const std::vector<Segment>& segs)
{
    constexpr size_t k_record = sizeof(struct signalfd_siginfo);
    static const char zeros[k_record] = {};
    size_t want = total_len(segs) / k_record;
    if (want == 0)
        return Errno(EINVAL);
    size_t got = 0;
    while (got < want) {
        signals::SigSet pending = (t.m_sigpending.set() | t.group().shared_pending.set()) & sfd.mask();
        if (pending.empty())
            break;
        // Unlike Linux, which dequeues first and loses the signal on a fault, the
        // record's place is checked before the signal is taken (issue 5).
        if (scatter_at(t, segs, got * k_record, {zeros, k_record}) != k_record) {
            if (got == 0)
                return Errno(EFAULT);
            break;
        }
        auto info = t.kernel().dequeue_signal_from(t, sfd.mask());
        if (!info)
            break;
        auto rec = to_signalfd_siginfo(*info);
        if (scatter_at(t, segs, got * k_record, {reinterpret_cast<const char*>(&rec), k_record}) != k_record) {
            (void)t.kernel().send_signal(t.group(), *info); // unmapped under us: keep it pending
            break;
        }
        ++got;
    }
    if (got > 0)
        return static_cast<long>(got * k_record);
    if (sfd.nonblocking())
        return Errno(EAGAIN);
    return SyscallOutcome::block({{&t.m_signal_wq, ~0u}, {sfd.wait_queue(), POLLIN}});
}

// Linux access_ok() on x86-64: the range lies below TASK_SIZE_MAX (4-level paging).
bool access_ok(uint64_t addr, size_t len)
{
    constexpr uint64_t k_task_size_max = 0x7ffffffff000ULL;
    return len <= k_task_size_max && addr <= k_task_size_max - len;
}

// Read into guest segments. `pos` < 0: the file's own position. Data is copied
// to the guest before it is consumed: a bad buffer gives EFAULT (or the bytes
// that fit before the fault) and loses nothing.
SyscallOutcome do_read(Task& t, int fd, const std::vector<Segment>& segs, off_t pos)
{
    auto f = TRY(held_file(t, fd));
    if (!f->readable())
        return Errno(EBADF);
    // Linux vfs_read(): a buffer outside user space is EFAULT before the file is asked
    // (an eventfd or signalfd would otherwise consume what it cannot deliver).
    for (auto& s : segs)
        if (!access_ok(s.addr, s.len))
            return Errno(EFAULT);
    if (auto* term = t.kernel().terminal(); term && term->is_this(*f))
        if (long r = tty_check_change(t, SIGTTIN))
            return r; // a background read (Linux n_tty_read() job_control())
    if (auto* sfd = SignalFd::from(*f); sfd && pos < 0)
        return read_signalfd(t, *sfd, segs);
    size_t want = total_len(segs);
    if (want == 0 && !f->reads_records())
        return 0;
    size_t n = std::min(want, k_chunk);
    Result<size_t> r = size_t{0};
    if (pos >= 0) {
        auto& buf = io_buffer(n);
        r = f->pread({buf.data(), n}, pos);
        if (r.is_ok() && r.value() > 0) {
            size_t put = scatter(t, segs, {buf.data(), r.value()});
            if (put == 0)
                return Errno(EFAULT);
            r = put;
        }
    } else {
        size_t at = 0;
        r = f->read_to([&](std::span<const char> data) {
            size_t put = scatter_at(t, segs, at, data);
            at += put;
            return put;
        }, n);
    }
    if (r.is_error()) {
        if (r.error() == Errno(EAGAIN) && !f->nonblocking() && f->wait_queue())
            return SyscallOutcome::block({{f->wait_queue(), POLLIN | POLLHUP | POLLERR}});
        return r.error();
    }
    return r.value();
}

// A socket's send for one call: flags, destination, control data and who sends.
using Writer = std::function<Result<size_t>(std::span<const char>)>;

// Linux generic_write_checks_count(): a write to a regular file stops at
// RLIMIT_FSIZE; at the limit it is EFBIG and SIGXFSZ. The room left, if a limit
// applies (the sentry writes host files itself, so the guest's limit is checked here).
std::optional<size_t> fsize_room(Task& t, vfs::File& f, off_t pos)
{
    rlim_t limit = t.group().rlimits[RLIMIT_FSIZE].rlim_cur;
    int hfd = f.host_fd();
    if (limit == RLIM_INFINITY || hfd < 0)
        return std::nullopt;
    struct stat st {};
    if (::fstat(hfd, &st) < 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    off_t at = pos >= 0 ? pos : (f.flags() & O_APPEND) ? st.st_size : ::lseek(hfd, 0, SEEK_CUR);
    if (at < 0)
        return std::nullopt;
    return static_cast<uint64_t>(at) >= limit ? 0 : static_cast<size_t>(limit - static_cast<uint64_t>(at));
}

// `msg_flags` >= 0: a send(2)-family call (MSG_DONTWAIT, MSG_NOSIGNAL) whose data
// goes through `send`.
SyscallOutcome do_write(Task& t, int fd, const std::vector<Segment>& segs, off_t pos, int msg_flags = -1,
    const Writer* send = nullptr, std::chrono::nanoseconds timeo = {})
{
    auto f = TRY(held_file(t, fd));
    // write(2) on a socket is a send with no flags, still from this task (the
    // message records who sent it).
    netstack::SendOptions plain;
    Writer plain_send;
    if (!send && pos < 0) {
        if (auto* sock = netstack::Socket::from(*f)) {
            plain.cred = socket_cred(t);
            plain_send = [sock, &plain](std::span<const char> d) { return sock->send(d, plain); };
            send = &plain_send;
            timeo = sock->sndtimeo();
        }
    }
    if (msg_flags < 0 && !f->writable())
        return Errno(EBADF);
    bool sigpipe = f->epipe_raises_sigpipe() && (msg_flags < 0 || !(msg_flags & MSG_NOSIGNAL));
    bool nonblock = f->nonblocking() || (msg_flags >= 0 && (msg_flags & MSG_DONTWAIT));
    if (auto* term = t.kernel().terminal(); term && t.progress().done == 0 && term->is_this(*f) && term->tostop())
        if (long r = tty_check_change(t, SIGTTOU))
            return r; // a background write under TOSTOP (Linux n_tty_write())
    size_t want = total_len(segs);
    auto& progress = t.progress();
    size_t done = progress.done;
    if (want == 0) {
        // Each file decides what an empty write means (a pipe: nothing at all).
        auto r = send ? (*send)({}) : f->write({});
        return finish_write(t, 0, r.is_error() ? std::optional(r.error()) : std::nullopt, sigpipe);
    }
    if (done == 0) {
        auto room = fsize_room(t, *f, pos);
        if (room && *room == 0) {
            t.kernel().send_signal(t, SIGXFSZ);
            return Errno(EFBIG);
        }
        if (room)
            want = std::min(want, *room);
    }
    while (done < want) {
        size_t n = std::min(want - done, k_chunk);
        auto& buf = io_buffer(n);
        // Linux writes what it could copy before a bad page, then stops.
        size_t got = gather(t, segs, done, buf.data(), n);
        if (got == 0)
            return finish_write(t, done, Errno(EFAULT), sigpipe);
        bool faulted = got < n;
        if (faulted) {
            got = f->keep_before_fault(got);
            if (got == 0)
                return finish_write(t, done, Errno(EFAULT), sigpipe);
        }
        n = got;
        auto r = pos >= 0 ? f->pwrite({buf.data(), n}, pos + static_cast<off_t>(done))
                          : send ? (*send)({buf.data(), n}) : f->write({buf.data(), n});
        if (r.is_error()) {
            if (r.error() == Errno(EAGAIN) && !nonblock && f->wait_queue()) {
                progress.done = done;
                if (timeo.count())
                    return park_socket(t, timeo, {{f->wait_queue(), POLLOUT | POLLERR}},
                        done > 0 ? static_cast<long>(done) : -EAGAIN);
                return SyscallOutcome::block({{f->wait_queue(), POLLOUT | POLLERR}});
            }
            return finish_write(t, done, r.error(), sigpipe);
        }
        done += r.value();
        t.kernel().count_output(*f, r.value());
        if (r.value() == 0 || (faulted && r.value() == n))
            break;
        if (pos >= 0 || !f->wait_queue() || f->writes_records())
            if (r.value() < n)
                break; // a regular file wrote short (disk full, RLIMIT_FSIZE): report it
    }
    return finish_write(t, done, std::nullopt, sigpipe);
}

// recv(2) on a socket: a stream blocks for at least one byte (all of them with
// MSG_WAITALL) and stops after a message that carried files; a message socket
// returns one message (MSG_TRUNC: its real length). MSG_PEEK looks without
// taking, MSG_DONTWAIT is for this call only. Compare Linux
// unix_stream_read_generic() and tcp_recvmsg().
SyscallOutcome do_recv(Task& t, int fd, const std::vector<Segment>& segs, int flags, netstack::RecvOptions& opt)
{
    auto f = TRY(held_file(t, fd));
    auto* sock = netstack::Socket::from(*f);
    if (!sock)
        return Errno(ENOTSOCK);
    bool nonblock = f->nonblocking() || (flags & MSG_DONTWAIT);
    opt.flags = flags;
    size_t want = total_len(segs);
    auto& p = t.progress();
    size_t done = p.done;
    auto park = [&] {
        return park_socket(t, sock->rcvtimeo(), {{f->wait_queue(), POLLIN | POLLHUP | POLLRDHUP | POLLERR}},
            p.done > 0 ? static_cast<long>(p.done) : -EAGAIN);
    };
    if (sock->type() != SOCK_STREAM) {
        auto r = sock->recv([&](std::span<const char> d) { return scatter_at(t, segs, 0, d); }, want, opt);
        if (r.is_error()) {
            if (r.error() == Errno(EAGAIN) && !nonblock)
                return park();
            return r.error();
        }
        return static_cast<long>((flags & MSG_TRUNC) ? opt.full : r.value());
    }
    bool waitall = (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && !nonblock;
    if (want == 0)
        return 0;
    while (done < want) {
        size_t at = done;
        auto sink = [&](std::span<const char> d) {
            size_t put = scatter_at(t, segs, at, d);
            at += put;
            return put;
        };
        auto r = sock->recv(sink, want - done, opt);
        if (r.is_error()) {
            if (r.error() == Errno(EAGAIN) && !nonblock && (done == 0 || waitall)) {
                p.done = done;
                return park();
            }
            if (done > 0)
                break;
            return r.error();
        }
        done += r.value();
        if (r.value() == 0 || !waitall || !opt.control.rights.empty())
            break;
    }
    return static_cast<long>(done);
}

off_t pos_from(uint64_t lo, uint64_t hi)
{
    (void)hi; // x86-64 passes the whole offset in the low word
    return static_cast<off_t>(lo);
}

} // namespace

SENTRY_SYSCALL(read)
{
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    return do_read(t, args.as_int(0), {{args.arg(1), len}}, -1);
}

SENTRY_SYSCALL(write)
{
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    return do_write(t, args.as_int(0), {{args.arg(1), len}}, -1);
}

SENTRY_SYSCALL(pread64)
{
    if (args.as_long(3) < 0)
        return Errno(EINVAL);
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    return do_read(t, args.as_int(0), {{args.arg(1), len}}, static_cast<off_t>(args.as_long(3)));
}

SENTRY_SYSCALL(pwrite64)
{
    if (args.as_long(3) < 0)
        return Errno(EINVAL);
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    return do_write(t, args.as_int(0), {{args.arg(1), len}}, static_cast<off_t>(args.as_long(3)));
}

SENTRY_SYSCALL(readv)
{
    TRY(file_for(t, args.as_int(0)));
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_read(t, args.as_int(0), segs, -1);
}

SENTRY_SYSCALL(writev)
{
    TRY(file_for(t, args.as_int(0)));
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_write(t, args.as_int(0), segs, -1);
}

SENTRY_SYSCALL(preadv)
{
    TRY(file_for(t, args.as_int(0)));
    off_t pos = pos_from(args.arg(3), args.arg(4));
    if (pos < 0)
        return Errno(EINVAL);
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_read(t, args.as_int(0), segs, pos);
}

SENTRY_SYSCALL(pwritev)
{
    TRY(file_for(t, args.as_int(0)));
    off_t pos = pos_from(args.arg(3), args.arg(4));
    if (pos < 0)
        return Errno(EINVAL);
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_write(t, args.as_int(0), segs, pos);
}

SENTRY_SYSCALL(preadv2)
{
    // Flags (RWF_HIPRI, RWF_NOWAIT, ...) are hints the sentry's own I/O ignores;
    // offset -1 means the file position, as in Linux.
    if (args.as_int(5) & ~0x1f)
        return Errno(EOPNOTSUPP);
    TRY(file_for(t, args.as_int(0)));
    off_t pos = pos_from(args.arg(3), args.arg(4));
    if (pos < -1)
        return Errno(EINVAL);
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_read(t, args.as_int(0), segs, pos);
}

SENTRY_SYSCALL(pwritev2)
{
    if (args.as_int(5) & ~0x1f)
        return Errno(EOPNOTSUPP);
    TRY(file_for(t, args.as_int(0)));
    off_t pos = pos_from(args.arg(3), args.arg(4));
    if (pos < -1)
        return Errno(EINVAL);
    auto segs = TRY(copy_iovec(t, args.arg(1), args.as_int(2)));
    return do_write(t, args.as_int(0), segs, pos);
}

SENTRY_SYSCALL(lseek)
{
    auto f = TRY(file_for(t, args.as_int(0)));
    int whence = args.as_int(2);
    if (whence < SEEK_SET || whence > SEEK_HOLE)
        return Errno(EINVAL);
    return f->lseek(static_cast<off_t>(args.as_long(1)), whence);
}

// --- send and receive on sockets (the address family's own calls are in socket.cpp) ---

namespace {

constexpr int k_scm_max_fd = 253; // Linux SCM_MAX_FD

// Control messages of a sendmsg (Linux __scm_send()): SCM_RIGHTS and
// SCM_CREDENTIALS at SOL_SOCKET; other levels are the protocol's (none here).
Result<netstack::Control> copy_control(Task& t, const msghdr& msg, netstack::Socket& s)
{
    netstack::Control c;
    if (msg.msg_controllen < sizeof(cmsghdr))
        return c;
    if (msg.msg_controllen > INT_MAX)
        return Errno(ENOBUFS);
    if (msg.msg_controllen > 128 * 1024) // net.core.optmem_max
        return Errno(ENOBUFS);
    std::vector<char> buf(msg.msg_controllen);
    TRY(t.copy_in(reinterpret_cast<uint64_t>(msg.msg_control), buf.data(), buf.size()));
    size_t off = 0;
    while (off + sizeof(cmsghdr) <= buf.size()) {
        cmsghdr h;
        std::memcpy(&h, buf.data() + off, sizeof h);
        if (h.cmsg_len < sizeof(cmsghdr) || h.cmsg_len > buf.size() - off)
            return Errno(EINVAL);
        const char* data = buf.data() + off + CMSG_LEN(0);
        size_t len = h.cmsg_len - CMSG_LEN(0);
        off += CMSG_ALIGN(h.cmsg_len);
        if (h.cmsg_level != SOL_SOCKET)
            continue;
        if (s.family() != AF_UNIX) {
            // SCM_RIGHTS/SCM_CREDENTIALS mean nothing to TCP or UDP: Linux refuses
            // them (EINVAL) once the protocol's own state checks have passed.
            c.refused = true;
            continue;
        }
        if (h.cmsg_type == SCM_RIGHTS) {
            size_t n = len / sizeof(int);
            if (c.rights.size() + n > k_scm_max_fd)
                return Errno(EINVAL);
            for (size_t i = 0; i < n; ++i) {
                int fd;
                std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
                c.rights.push_back(TRY(t.group().fds->get(fd)));
            }
        } else if (h.cmsg_type == SCM_CREDENTIALS) {
            if (h.cmsg_len != CMSG_LEN(sizeof(ucred)))
                return Errno(EINVAL);
            ucred u;
            std::memcpy(&u, data, sizeof u);
            // Linux scm_check_creds(): one's own ids, or any with the capability
            // (root in the sandbox); a pid must exist.
            auto me = socket_cred(t);
            bool privileged = me.uid == 0;
            if ((u.pid != me.pid && !privileged) || (u.uid != me.uid && !privileged) || (u.gid != me.gid && !privileged))
                return Errno(EPERM);
            if (!t.kernel().group_by_vpid(u.pid))
                return Errno(ESRCH);
            c.creds = netstack::Cred{u.pid, u.uid, u.gid};
        } else {
            return Errno(EINVAL);
        }
    }
    return c;
}

// The destination of a sendto/sendmsg, if it names one.
Result<std::optional<netstack::Address>> copy_destination(Task& t, netstack::Socket& s, uint64_t addr, int64_t len)
{
    if (!addr || len == 0)
        return std::optional<netstack::Address>();
    auto a = TRY(copy_sockaddr(t, addr, len));
    TRY(resolve_unix_peer(t, s, a));
    return std::optional(a);
}

SyscallOutcome do_send(Task& t, int fd, const std::vector<Segment>& segs, int flags,
    const std::optional<netstack::Address>& to, netstack::Control* control)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, fd, hold));
    netstack::SendOptions opt;
    opt.flags = flags;
    opt.to = to ? &*to : nullptr;
    // Control data rides with the first bytes; a call resumed after parking has sent them.
    opt.control = t.progress().done == 0 ? control : nullptr;
    opt.cred = socket_cred(t);
    Writer send = [&](std::span<const char> d) { return s->send(d, opt); };
    return do_write(t, fd, segs, -1, flags, &send, s->sndtimeo());
}

// Linux put_cmsg() and scm_detach_fds(): what fits of the credentials and files
// goes to the guest's control buffer; files that do not fit are closed and
// MSG_CTRUNC says so. Returns the control bytes used.
Result<size_t> put_control(Task& t, const msghdr& msg, netstack::RecvOptions& opt, int& msg_flags)
{
    auto& c = opt.control;
    if (c.empty())
        return size_t{0};
    if (!msg.msg_control) {
        msg_flags |= MSG_CTRUNC;
        return size_t{0};
    }
    std::vector<char> out;
    size_t room = msg.msg_controllen;
    auto put = [&](int type, const void* data, size_t len) {
        size_t left = room - out.size();
        if (left < sizeof(cmsghdr)) {
            msg_flags |= MSG_CTRUNC;
            return;
        }
        cmsghdr h {};
        h.cmsg_len = CMSG_LEN(len);
        h.cmsg_level = SOL_SOCKET;
        h.cmsg_type = type;
        std::vector<char> one(CMSG_SPACE(len), 0);
        std::memcpy(one.data(), &h, sizeof h);
        std::memcpy(one.data() + CMSG_LEN(0), data, len);
        size_t n = std::min(left, static_cast<size_t>(CMSG_LEN(len)));
        if (n < CMSG_LEN(len))
            msg_flags |= MSG_CTRUNC;
        out.insert(out.end(), one.begin(), one.begin() + static_cast<long>(n));
        size_t pad = std::min(room - out.size(), CMSG_SPACE(len) - CMSG_LEN(len));
        out.insert(out.end(), pad, 0);
    };
    if (c.creds) {
        ucred u {c.creds->pid, c.creds->uid, c.creds->gid};
        put(SCM_CREDENTIALS, &u, sizeof u);
    }
    if (!c.rights.empty()) {
        size_t left = room - out.size();
        size_t fdmax = left > CMSG_LEN(0) ? (left - CMSG_LEN(0)) / sizeof(int) : 0;
        std::vector<int> fds;
        bool cloexec = opt.flags & MSG_CMSG_CLOEXEC;
        for (size_t i = 0; i < c.rights.size() && i < fdmax; ++i) {
            auto fd = t.group().fds->install(c.rights[i], cloexec, 0, t.group().rlimits[RLIMIT_NOFILE].rlim_cur);
            if (fd.is_error())
                break;
            fds.push_back(fd.value());
        }
        if (fds.size() < c.rights.size())
            msg_flags |= MSG_CTRUNC;
        if (!fds.empty()) {
            cmsghdr h {};
            h.cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
            h.cmsg_level = SOL_SOCKET;
            h.cmsg_type = SCM_RIGHTS;
            size_t at = out.size();
            out.resize(at + CMSG_LEN(fds.size() * sizeof(int)));
            std::memcpy(out.data() + at, &h, sizeof h);
            std::memcpy(out.data() + at + CMSG_LEN(0), fds.data(), fds.size() * sizeof(int));
            out.resize(std::min(room, at + CMSG_SPACE(fds.size() * sizeof(int))), 0);
        }
        c.rights.clear();
    }
    if (!out.empty())
        TRY(t.copy_out(reinterpret_cast<uint64_t>(msg.msg_control), out.data(), out.size()));
    return out.size();
}

} // namespace

SENTRY_SYSCALL(sendto)
{
    int fd = args.as_int(0), flags = args.as_int(3);
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, fd, hold));
    auto to = TRY(copy_destination(t, *s, args.arg(4), args.as_int(5)));
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    return do_send(t, fd, {{args.arg(1), len}}, flags, to, nullptr);
}

SENTRY_SYSCALL(recvfrom)
{
    int fd = args.as_int(0), flags = args.as_int(3);
    size_t len = std::min<size_t>(args.arg(2), k_max_rw);
    uint64_t addr = args.arg(4), addrlen = args.arg(5);
    netstack::RecvOptions opt;
    auto o = do_recv(t, fd, {{args.arg(1), len}}, flags & ~MSG_CMSG_CLOEXEC, opt);
    if (o.kind() == SyscallOutcome::Kind::Return && o.value() >= 0 && addr)
        TRY(put_sockaddr(t, opt.from.value_or(netstack::Address{}), addr, addrlen)); // none: length 0
    return o;
}

namespace {

// A msghdr's iovec: more than UIO_MAXIOV entries is EMSGSIZE (__copy_msghdr()).
Result<std::vector<Segment>> msghdr_iovec(Task& t, const msghdr& msg)
{
    if (msg.msg_iovlen > IOV_MAX)
        return Errno(EMSGSIZE);
    return copy_iovec(t, reinterpret_cast<uint64_t>(msg.msg_iov), static_cast<int>(msg.msg_iovlen));
}

// One sendmsg on a msghdr at `msg_addr` (also each entry of sendmmsg).
SyscallOutcome send_one(Task& t, int fd, uint64_t msg_addr, int flags)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, fd, hold));
    auto msg = TRY(t.copy_in<struct msghdr>(msg_addr));
    auto segs = TRY(msghdr_iovec(t, msg));
    auto control = TRY(copy_control(t, msg, *s));
    auto to = TRY(copy_destination(t, *s, reinterpret_cast<uint64_t>(msg.msg_name), msg.msg_namelen));
    // tcp_sendmsg()/udp_sendmsg() look at control data only on a socket that can
    // send (connected, or given a destination): elsewhere the state's own error wins.
    if (control.refused && (to || s->peer_name().is_ok()))
        return Errno(EINVAL);
    return do_send(t, fd, segs, flags, to, &control);
}

// One recvmsg into the msghdr at `msg_addr`: data, name, control and flags.
SyscallOutcome recv_one(Task& t, int fd, uint64_t msg_addr, int flags)
{
    auto msg = TRY(t.copy_in<struct msghdr>(msg_addr));
    auto segs = TRY(msghdr_iovec(t, msg));
    netstack::RecvOptions opt;
    auto o = do_recv(t, fd, segs, flags, opt);
    if (o.kind() == SyscallOutcome::Kind::Return && o.value() >= 0) {
        int msg_flags = opt.msg_flags;
        size_t used = TRY(put_control(t, msg, opt, msg_flags));
        if (msg.msg_name) {
            socklen_t klen = opt.from ? opt.from->len : 0;
            size_t n = std::min<size_t>(msg.msg_namelen, klen);
            if (n)
                TRY(t.copy_out(reinterpret_cast<uint64_t>(msg.msg_name), &opt.from->raw, n));
            msg.msg_namelen = klen;
        } else {
            msg.msg_namelen = 0;
        }
        msg.msg_controllen = used;
        msg.msg_flags = msg_flags;
        TRY(t.copy_out(msg_addr, msg));
    }
    return o;
}

constexpr unsigned k_uio_maxiov = 1024; // Linux UIO_MAXIOV caps vlen

// sendmmsg/recvmmsg: the first entry may park; the later ones take what is ready
// now (as recvmmsg's MSG_WAITFORONE), and an error after some entries ends the
// batch with their count (Linux __sys_sendmmsg()/do_recvmmsg()).
template<typename One>
SyscallOutcome batch(Task& t, int fd, uint64_t vec, unsigned vlen, int flags, One one)
{
    vlen = std::min(vlen, k_uio_maxiov);
    for (unsigned i = 0; i < vlen; ++i) {
        uint64_t entry = vec + i * sizeof(struct mmsghdr);
        auto o = one(t, fd, entry, i == 0 ? flags : flags | MSG_DONTWAIT);
        if (o.kind() != SyscallOutcome::Kind::Return)
            return o; // the first entry parks (nothing moved yet)
        if (o.value() < 0)
            return i > 0 ? SyscallOutcome(static_cast<long>(i)) : o;
        TRY(t.copy_out(entry + offsetof(struct mmsghdr, msg_len), static_cast<unsigned>(o.value())));
        t.reset_progress();
    }
    return static_cast<long>(vlen);
}

} // namespace

SENTRY_SYSCALL(sendmsg) { return send_one(t, args.as_int(0), args.arg(1), args.as_int(2)); }

SENTRY_SYSCALL(recvmsg) { return recv_one(t, args.as_int(0), args.arg(1), args.as_int(2)); }

SENTRY_SYSCALL(sendmmsg)
{
    return batch(t, args.as_int(0), args.arg(1), static_cast<unsigned>(args.arg(2)), args.as_int(3), send_one);
}

SENTRY_SYSCALL(recvmmsg)
{
    int flags = args.as_int(3) & ~MSG_WAITFORONE;
    return batch(t, args.as_int(0), args.arg(1), static_cast<unsigned>(args.arg(2)), flags, recv_one);
}

} // namespace sentry::kernel
