// Sockets: socketpair, shutdown, socket options and names (Linux net/socket.c,
// net/core/sock.c, net/unix/af_unix.c). For now the netstack has connected unix
// stream sockets made by socketpair; socket(2), bind, listen, connect and the inet
// families come with the rest of the netstack. send/recv are in read_write.cpp.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/netstack/unix_stream.h"

namespace sentry::kernel {

Result<netstack::UnixStreamSocket*> socket_of(Task& t, int fd, vfs::FileRef& hold)
{
    if (!t.group().fds)
        return Errno(EBADF);
    hold = TRY(t.group().fds->get(fd));
    auto* s = netstack::UnixStreamSocket::from(*hold);
    if (!s)
        return Errno(ENOTSOCK);
    return s;
}

namespace {

// Linux sock_getsockopt()'s contract: the length is read, the value is cut to it,
// and the length actually written goes back.
Result<void> put_option(Task& t, uint64_t optval, uint64_t optlen_addr, const void* value, socklen_t size)
{
    auto len = TRY(t.copy_in<int>(optlen_addr));
    if (len < 0)
        return Errno(EINVAL);
    socklen_t n = std::min(static_cast<socklen_t>(len), size);
    TRY(t.copy_out(optval, value, n));
    TRY(t.copy_out(optlen_addr, static_cast<int>(n)));
    return {};
}

// The name of an unnamed unix socket: the family alone (Linux unix_getname()).
Result<void> put_unnamed(Task& t, uint64_t addr, uint64_t len_addr)
{
    auto len = TRY(t.copy_in<int>(len_addr));
    if (len < 0)
        return Errno(EINVAL);
    sa_family_t family = AF_UNIX;
    TRY(t.copy_out(addr, &family, std::min<size_t>(static_cast<size_t>(len), sizeof family)));
    TRY(t.copy_out(len_addr, static_cast<int>(sizeof family)));
    return {};
}

} // namespace

// Compare Linux __sys_socketpair() and unix_create().
SENTRY_SYSCALL(socketpair)
{
    int domain = args.as_int(0), type = args.as_int(1), protocol = args.as_int(2);
    uint64_t sv = args.arg(3);
    constexpr int k_type_mask = 0xf; // Linux SOCK_TYPE_MASK
    int flags = type & ~k_type_mask;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return Errno(EINVAL);
    type &= k_type_mask;
    if (type >= 11) // SOCK_MAX (Linux __sock_create())
        return Errno(EINVAL);
    if (domain != AF_UNIX)
        return Errno(domain == AF_INET || domain == AF_INET6 ? EOPNOTSUPP : EAFNOSUPPORT);
    if (protocol != 0 && protocol != PF_UNIX)
        return Errno(EPROTONOSUPPORT);
    if (type == SOCK_RAW)
        type = SOCK_DGRAM; // Linux unix_create()
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return Errno(ESOCKTNOSUPPORT);
    if (!t.group().fds)
        return Errno(EBADF);
    auto [a, b] = netstack::UnixStreamSocket::make_pair(type, flags & SOCK_NONBLOCK ? O_NONBLOCK : 0, t.group().vpid,
        getuid(), getgid());
    auto& fds = *t.group().fds;
    auto limit = t.group().rlimits[RLIMIT_NOFILE].rlim_cur;
    int fa = TRY(fds.install(a, flags & SOCK_CLOEXEC, 0, limit));
    auto fb = fds.install(b, flags & SOCK_CLOEXEC, 0, limit);
    if (fb.is_error()) {
        (void)fds.close(fa);
        return fb.error();
    }
    int pair[2] = {fa, fb.value()};
    if (auto r = t.copy_out(sv, pair); r.is_error()) {
        (void)fds.close(fa);
        (void)fds.close(fb.value());
        return r.error();
    }
    return 0;
}

SENTRY_SYSCALL(shutdown)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    return SyscallOutcome(s->shutdown(args.as_int(1)));
}

SENTRY_SYSCALL(getsockopt)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    int level = args.as_int(1), name = args.as_int(2);
    uint64_t optval = args.arg(3), optlen = args.arg(4);
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP); // unix sockets have no protocol-level options
    auto& p = s->pair();
    int v = 0;
    switch (name) {
    case SO_TYPE: v = s->type(); break;
    case SO_DOMAIN: v = AF_UNIX; break;
    case SO_PROTOCOL: v = 0; break;
    case SO_ERROR: v = 0; break;
    case SO_ACCEPTCONN: v = 0; break;
    case SO_SNDBUF: v = static_cast<int>(p.sndbuf[s->side()]); break;
    case SO_RCVBUF: v = static_cast<int>(p.rcvbuf[s->side()]); break;
    case SO_PEERCRED: {
        struct ucred cred {p.creator_pid, p.creator_uid, p.creator_gid};
        return SyscallOutcome(put_option(t, optval, optlen, &cred, sizeof cred));
    }
    default: return Errno(ENOPROTOOPT);
    }
    return SyscallOutcome(put_option(t, optval, optlen, &v, sizeof v));
}

SENTRY_SYSCALL(setsockopt)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    int level = args.as_int(1), name = args.as_int(2);
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP);
    if (args.as_uint(4) < sizeof(int))
        return Errno(EINVAL);
    int v = TRY(t.copy_in<int>(args.arg(3)));
    auto& p = s->pair();
    // Linux sock_setsockopt(): buffer sizes are doubled (for bookkeeping overhead),
    // capped by net.core.[rw]mem_max and at least SOCK_MIN_[SND|RCV]BUF.
    constexpr long k_mem_max = 212992;
    long want = std::min<long>(std::max(v, 0), k_mem_max) * 2;
    switch (name) {
    case SO_SNDBUF: p.sndbuf[s->side()] = static_cast<size_t>(std::max<long>(want, 4608)); return 0;
    case SO_RCVBUF: p.rcvbuf[s->side()] = static_cast<size_t>(std::max<long>(want, 2304)); return 0;
    case SO_PASSCRED: case SO_KEEPALIVE: case SO_REUSEADDR: case SO_LINGER: case SO_RCVLOWAT: case SO_SNDTIMEO:
    case SO_RCVTIMEO:
        return 0; // accepted; no effect on a socketpair yet
    default: return Errno(ENOPROTOOPT);
    }
}

SENTRY_SYSCALL(getsockname)
{
    vfs::FileRef hold;
    TRY(socket_of(t, args.as_int(0), hold));
    return SyscallOutcome(put_unnamed(t, args.arg(1), args.arg(2)));
}

SENTRY_SYSCALL(getpeername)
{
    vfs::FileRef hold;
    TRY(socket_of(t, args.as_int(0), hold));
    return SyscallOutcome(put_unnamed(t, args.arg(1), args.arg(2)));
}

} // namespace sentry::kernel
