// Sockets: socket, socketpair, bind, listen, accept, connect, shutdown, names and
// options (Linux net/socket.c). The handlers copy and check the guest's arguments
// as net/socket.c does, resolve AF_UNIX pathnames through the sandbox's file
// system, and leave the protocol to the socket (netstack/unix.*, netstack/inet.*).
// send/recv are in read_write.cpp.

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

#include "sentry/kernel/path.h"
#include "sentry/kernel/syscalls/syscalls.h"
#include "sentry/netstack/inet.h"
#include "sentry/netstack/unix.h"

namespace sentry::kernel {

Result<netstack::Socket*> socket_of(Task& t, int fd, vfs::FileRef& hold)
{
    if (!t.group().fds)
        return Errno(EBADF);
    hold = TRY(t.group().fds->get(fd));
    if (hold->flags() & O_PATH)
        return Errno(EBADF); // sockfd_lookup() takes no O_PATH file
    auto* s = netstack::Socket::from(*hold);
    if (!s)
        return Errno(ENOTSOCK);
    return s;
}

netstack::Cred socket_cred(Task& t) { return {t.group().vpid, getuid(), getgid()}; }

// Linux move_addr_to_kernel(): at most a sockaddr_storage, a negative length is
// EINVAL, a bad pointer EFAULT.
Result<netstack::Address> copy_sockaddr(Task& t, uint64_t addr, int64_t len)
{
    netstack::Address a;
    if (len < 0 || len > static_cast<int64_t>(sizeof(sockaddr_storage)))
        return Errno(EINVAL);
    if (len > 0)
        TRY(t.copy_in(addr, &a.raw, static_cast<size_t>(len)));
    a.len = static_cast<socklen_t>(len);
    return a;
}

// Linux sock_rcvtimeo()/sock_sndtimeo(): a socket timeout bounds the wait, and a
// signal ends a bounded wait with EINTR instead of a restart (sock_intr_errno()).
SyscallOutcome park_socket(Task& t, std::chrono::nanoseconds timeo,
    std::vector<std::pair<vfs::WaitQueue*, uint32_t>> queues, long timed_out)
{
    if (timeo.count() == 0)
        return SyscallOutcome::block(std::move(queues));
    if (timeo.count() < 0)
        return timed_out;
    auto& p = t.progress();
    auto now = std::chrono::steady_clock::now();
    if (!p.deadline)
        p.deadline = now + timeo;
    else if (now >= *p.deadline)
        return timed_out;
    p.restart_code = EINTR;
    return SyscallOutcome::block(std::move(queues), p.deadline);
}

namespace {

constexpr socklen_t k_sun_path_off = offsetof(struct sockaddr_un, sun_path);

// The path of a pathname unix address (bytes up to the first NUL).
std::string unix_path(const netstack::Address& a)
{
    const char* p = a.as<sockaddr_un>().sun_path;
    size_t n = a.len > k_sun_path_off ? a.len - k_sun_path_off : 0;
    return std::string(p, strnlen(p, n));
}

bool unix_pathname(const netstack::Address& a)
{
    return a.family() == AF_UNIX && a.len > k_sun_path_off && a.len <= sizeof(sockaddr_un)
        && a.as<sockaddr_un>().sun_path[0] != 0;
}

} // namespace

// For connect and sendto: which socket node a pathname names (Linux
// unix_find_bsd(): the path's own errors, and no inode for a non-socket).
Result<void> resolve_unix_peer(Task& t, netstack::Socket& s, netstack::Address& a)
{
    if (s.family() != AF_UNIX || !unix_pathname(a))
        return {};
    auto at = TRY(resolve_at(t, AT_FDCWD, unix_path(a)));
    struct stat st {};
    if (::fstatat(at.dirfd, at.path.c_str(), &st, 0) < 0)
        return Errno(errno);
    if (S_ISSOCK(st.st_mode))
        a.inode = netstack::UnixInodeKey{st.st_dev, st.st_ino};
    return {};
}

// Linux move_addr_to_user(): the length is read first, the name is cut to it,
// the full length goes back.
Result<void> put_sockaddr(Task& t, const netstack::Address& a, uint64_t addr, uint64_t len_addr)
{
    auto len = TRY(t.copy_in<int>(len_addr));
    if (len < 0)
        return Errno(EINVAL);
    size_t n = std::min<size_t>(static_cast<size_t>(len), a.len);
    if (n)
        TRY(t.copy_out(addr, &a.raw, n));
    TRY(t.copy_out(len_addr, static_cast<int>(a.len)));
    return {};
}

namespace {

struct TypeFlags {
    int type;
    int flags; // SOCK_NONBLOCK | SOCK_CLOEXEC
};

Result<TypeFlags> split_type(int type)
{
    constexpr int k_type_mask = 0xf; // Linux SOCK_TYPE_MASK
    int flags = type & ~k_type_mask;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return Errno(EINVAL);
    type &= k_type_mask;
    if (type >= 11) // SOCK_MAX (Linux __sock_create())
        return Errno(EINVAL);
    return TypeFlags{type, flags};
}

// Compare Linux unix_create().
Result<int> unix_type(int type, int protocol)
{
    if (protocol != 0 && protocol != PF_UNIX)
        return Errno(EPROTONOSUPPORT);
    if (type == SOCK_RAW)
        type = SOCK_DGRAM;
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return Errno(ESOCKTNOSUPPORT);
    return type;
}

Result<int> install_socket(Task& t, vfs::FileRef f, bool cloexec)
{
    if (!t.group().fds)
        return Errno(EBADF);
    return t.group().fds->install(std::move(f), cloexec, 0, t.group().rlimits[RLIMIT_NOFILE].rlim_cur);
}

} // namespace

SENTRY_SYSCALL(socket)
{
    int domain = args.as_int(0), protocol = args.as_int(2);
    auto tf = TRY(split_type(args.as_int(1)));
    int file_flags = tf.flags & SOCK_NONBLOCK ? O_NONBLOCK : 0;
    std::shared_ptr<netstack::Socket> s;
    switch (domain) {
    case AF_UNIX: {
        int type = TRY(unix_type(tf.type, protocol));
        s = std::make_shared<netstack::UnixSocket>(t.kernel().unix_names(), type, file_flags);
        break;
    }
    case AF_INET:
    case AF_INET6:
        s = TRY(t.kernel().inet().create(domain, tf.type, protocol, file_flags));
        break;
    default:
        t.kernel().debug(fmt::format("socket: address family {} is not supported", domain));
        return Errno(EAFNOSUPPORT);
    }
    return install_socket(t, s, tf.flags & SOCK_CLOEXEC);
}

SENTRY_SYSCALL(socketpair)
{
    int domain = args.as_int(0), protocol = args.as_int(2);
    uint64_t sv = args.arg(3);
    auto tf = TRY(split_type(args.as_int(1)));
    if (domain != AF_UNIX)
        return Errno(domain == AF_INET || domain == AF_INET6 ? EOPNOTSUPP : EAFNOSUPPORT);
    int type = TRY(unix_type(tf.type, protocol));
    if (!t.group().fds)
        return Errno(EBADF);
    auto [a, b] = netstack::UnixSocket::make_pair(t.kernel().unix_names(), type,
        tf.flags & SOCK_NONBLOCK ? O_NONBLOCK : 0, socket_cred(t));
    auto& fds = *t.group().fds;
    int fa = TRY(install_socket(t, a, tf.flags & SOCK_CLOEXEC));
    auto fb = install_socket(t, b, tf.flags & SOCK_CLOEXEC);
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

// Compare Linux unix_bind_bsd(): the node is made first (an existing name is
// EADDRINUSE), then the socket takes it; if the socket refuses, the node goes.
SENTRY_SYSCALL(bind)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    auto a = TRY(copy_sockaddr(t, args.arg(1), args.as_long(2)));
    if (s->family() != AF_UNIX || !unix_pathname(a))
        return SyscallOutcome(s->bind(a, socket_cred(t)));
    auto path = unix_path(a);
    // unix_mkname_bsd(): the stored name ends at its NUL (length includes it).
    a.len = static_cast<socklen_t>(k_sun_path_off + path.size() + 1);
    reinterpret_cast<sockaddr_un&>(a.raw).sun_path[path.size()] = 0;
    auto at = TRY(resolve_at(t, AT_FDCWD, path));
    mode_t mode = S_IFSOCK | (0777 & ~t.group().fs->umask);
    if (::mknodat(at.dirfd, at.path.c_str(), mode, 0) < 0)
        return Errno(errno == EEXIST ? EADDRINUSE : errno);
    int node = ::openat(at.dirfd, at.path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st {};
    if (node < 0 || ::fstat(node, &st) < 0) {
        int e = errno;
        if (node >= 0)
            ::close(node);
        ::unlinkat(at.dirfd, at.path.c_str(), 0);
        return Errno(e);
    }
    a.inode = netstack::UnixInodeKey{st.st_dev, st.st_ino};
    a.node_fd = node;
    auto r = s->bind(a, socket_cred(t));
    if (r.is_error()) {
        ::close(node);
        ::unlinkat(at.dirfd, at.path.c_str(), 0);
    }
    return SyscallOutcome(r);
}

SENTRY_SYSCALL(listen)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    // __sys_listen(): the backlog is capped by net.core.somaxconn (as unsigned).
    constexpr unsigned k_somaxconn = 4096;
    unsigned backlog = static_cast<unsigned>(args.as_int(1));
    return SyscallOutcome(s->listen(static_cast<int>(std::min(backlog, k_somaxconn))));
}

namespace {

SyscallOutcome do_accept(Task& t, int fd, uint64_t addr, uint64_t addrlen, int flags)
{
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return Errno(EINVAL);
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, fd, hold));
    auto r = s->accept(flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
    if (r.is_error()) {
        if (r.error() == Errno(EAGAIN) && !s->nonblocking())
            return park_socket(t, s->rcvtimeo(), {{s->wait_queue(), POLLIN | POLLERR | POLLHUP}}, -EAGAIN);
        return r.error();
    }
    auto conn = r.value();
    if (addr) {
        // Linux __sys_accept4_file(): a name that cannot be written loses the
        // connection (the new file is dropped).
        auto name = conn->peer_name();
        if (name.is_error())
            return Errno(ECONNABORTED);
        TRY(put_sockaddr(t, name.value(), addr, addrlen));
    }
    return install_socket(t, conn, flags & SOCK_CLOEXEC);
}

} // namespace

SENTRY_SYSCALL(accept) { return do_accept(t, args.as_int(0), args.arg(1), args.arg(2), 0); }

SENTRY_SYSCALL(accept4) { return do_accept(t, args.as_int(0), args.arg(1), args.arg(2), args.as_int(3)); }

// A blocking connect that the protocol could not finish at once parks: a TCP
// handshake in flight (EINPROGRESS) asks connect_result() when woken; a unix
// listener with a full backlog (EAGAIN) is tried again from the start.
SENTRY_SYSCALL(connect)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    auto& p = t.progress();
    if (p.started) {
        auto r = s->connect_result();
        if (r.is_error() && r.error() == Errno(EAGAIN))
            return park_socket(t, s->sndtimeo(), {{s->wait_queue(), POLLOUT | POLLERR | POLLHUP}}, -EINPROGRESS);
        return SyscallOutcome(r);
    }
    auto a = TRY(copy_sockaddr(t, args.arg(1), args.as_long(2)));
    TRY(resolve_unix_peer(t, *s, a));
    bool nonblock = s->nonblocking();
    auto r = s->connect(a, socket_cred(t), nonblock);
    if (r.is_error() && !nonblock) {
        if (r.error() == Errno(EINPROGRESS)) {
            p.started = true;
            return park_socket(t, s->sndtimeo(), {{s->wait_queue(), POLLOUT | POLLERR | POLLHUP}}, -EINPROGRESS);
        }
        if (r.error() == Errno(EAGAIN))
            return park_socket(t, s->sndtimeo(), {{s->connect_queue(), POLLOUT}, {s->wait_queue(), POLLERR | POLLHUP}},
                -EAGAIN);
    }
    return SyscallOutcome(r);
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
    uint64_t optval = args.arg(3), optlen = args.arg(4);
    auto len = TRY(t.copy_in<int>(optlen));
    if (len < 0)
        return Errno(EINVAL);
    auto value = TRY(s->getsockopt(args.as_int(1), args.as_int(2), static_cast<socklen_t>(len)));
    if (!value.empty())
        TRY(t.copy_out(optval, value.data(), value.size()));
    TRY(t.copy_out(optlen, static_cast<int>(value.size())));
    return 0;
}

SENTRY_SYSCALL(setsockopt)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    int len = args.as_int(4);
    if (len < 0)
        return Errno(EINVAL);
    std::vector<char> value(static_cast<size_t>(std::min(len, 4096)));
    if (!value.empty())
        TRY(t.copy_in(args.arg(3), value.data(), value.size()));
    return SyscallOutcome(s->setsockopt(args.as_int(1), args.as_int(2), value));
}

SENTRY_SYSCALL(getsockname)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    auto name = TRY(s->local_name());
    return SyscallOutcome(put_sockaddr(t, name, args.arg(1), args.arg(2)));
}

SENTRY_SYSCALL(getpeername)
{
    vfs::FileRef hold;
    auto* s = TRY(socket_of(t, args.as_int(0), hold));
    auto name = TRY(s->peer_name());
    return SyscallOutcome(put_sockaddr(t, name, args.arg(1), args.arg(2)));
}

} // namespace sentry::kernel
