#include "sentry/netstack/host_socket.h"

#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "sentry/common/event_loop.h"

namespace sentry::netstack {

namespace {

// What a guest may ask of the host socket through the flags of a call; the rest
// (MSG_DONTWAIT, MSG_NOSIGNAL, MSG_WAITALL, MSG_CMSG_CLOEXEC) is the syscall
// layer's business.
constexpr int k_send_flags = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM;
constexpr int k_recv_flags = MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE;

// One read from the host takes at most this much (a stream read may be short).
constexpr size_t k_max_chunk = 1 << 20;

Errno last_errno() { return Errno(errno == EWOULDBLOCK ? EAGAIN : errno); }

std::span<char> scratch(size_t n)
{
    static std::vector<char> buf;
    if (buf.size() < n)
        buf.resize(n);
    return {buf.data(), n};
}

} // namespace

std::optional<Address> host_sockaddr(int family, const IpEndpoint& ep)
{
    // An IPv4 host socket cannot name an IPv6 peer; otherwise the guest's form.
    if (family == AF_INET && !ep.addr.is_v4())
        return std::nullopt;
    return name_of(family, ep);
}

std::optional<IpEndpoint> endpoint_of(const sockaddr_storage& ss, socklen_t len)
{
    if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
        auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        return IpEndpoint{IpAddr::from_v4(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
    }
    if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        return IpEndpoint{IpAddr::from_v6(sin6.sin6_addr), ntohs(sin6.sin6_port)};
    }
    return std::nullopt;
}

Result<std::unique_ptr<HostSocket>> HostSocket::open(int family, int type, const IpAddr& dst, vfs::WaitQueue& wq)
{
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && family == AF_INET6 && dst.is_v4() && errno == EAFNOSUPPORT) {
        family = AF_INET;
        fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return last_errno();
    return std::unique_ptr<HostSocket>(new HostSocket(fd, family, type, wq));
}

HostSocket::HostSocket(int fd, int family, int type, vfs::WaitQueue& wq)
    : m_fd(fd), m_family(family), m_type(type), m_wq(wq), m_watch(event_loop(), fd)
{
    m_wq.on_wait = [this](uint32_t mask) { arm(mask); };
}

HostSocket::~HostSocket()
{
    m_wq.on_wait = nullptr;
    // Cancels the waits (their handlers run later, see m_alive) and closes m_fd.
    boost::system::error_code ec;
    m_watch.close(ec);
}

void HostSocket::arm(uint32_t mask)
{
    using boost::asio::posix::descriptor_base;
    // epoll reports errors and hang-ups on either wait; a writer waiting for room
    // must not be woken by data to read.
    bool want_read = (mask & (POLLIN | POLLPRI | POLLRDHUP)) || !(mask & POLLOUT);
    std::weak_ptr<char> alive = m_alive;
    if (want_read && !m_read_armed) {
        m_read_armed = true;
        io_started();
        m_watch.async_wait(descriptor_base::wait_read, [this, alive](boost::system::error_code ec) {
            io_finished();
            if (alive.expired())
                return;
            m_read_armed = false;
            if (ec == boost::asio::error::operation_aborted)
                return;
            m_wq.notify(POLLIN | POLLRDNORM | POLLHUP | POLLERR | POLLRDHUP);
        });
    }
    if ((mask & POLLOUT) && !m_write_armed) {
        m_write_armed = true;
        io_started();
        m_watch.async_wait(descriptor_base::wait_write, [this, alive](boost::system::error_code ec) {
            io_finished();
            if (alive.expired())
                return;
            m_write_armed = false;
            if (ec == boost::asio::error::operation_aborted)
                return;
            m_wq.notify(POLLOUT | POLLWRNORM | POLLERR | POLLHUP);
        });
    }
}

Result<void> HostSocket::connect(const std::optional<IpEndpoint>& dst)
{
    Address a;
    if (dst) {
        auto sa = host_sockaddr(m_family, *dst);
        if (!sa)
            return Errno(ENETUNREACH);
        a = *sa;
    } else {
        a.raw.ss_family = AF_UNSPEC;
        a.len = sizeof(sa_family_t);
    }
    if (::connect(m_fd, reinterpret_cast<const sockaddr*>(&a.raw), a.len) < 0) {
        Errno e = last_errno();
        if (e == Errno(EINPROGRESS) || e == Errno(EALREADY))
            arm(POLLOUT);
        return e;
    }
    return {};
}

// Linux __inet_stream_connect() after the wait: the handshake's outcome is what
// SO_ERROR holds once the socket is writable or in error.
Result<void> HostSocket::connect_result()
{
    pollfd p{m_fd, POLLOUT, 0};
    if (::poll(&p, 1, 0) < 0)
        return last_errno();
    if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) {
        arm(POLLOUT);
        return Errno(EAGAIN);
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return last_errno();
    if (err)
        return Errno(err);
    return {};
}

Result<size_t> HostSocket::send(std::span<const char> data, int flags, const IpEndpoint* to)
{
    std::optional<Address> a;
    if (to) {
        a = host_sockaddr(m_family, *to);
        if (!a)
            return Errno(ENETUNREACH);
    }
    int f = (flags & k_send_flags) | MSG_DONTWAIT | MSG_NOSIGNAL;
    ssize_t n = a ? ::sendto(m_fd, data.data(), data.size(), f, reinterpret_cast<const sockaddr*>(&a->raw), a->len)
                  : ::send(m_fd, data.data(), data.size(), f);
    if (n < 0) {
        Errno e = last_errno();
        if (e == Errno(EAGAIN))
            arm(POLLOUT);
        return e;
    }
    return static_cast<size_t>(n);
}

Result<size_t> HostSocket::recv(const vfs::File::Sink& sink, size_t max, int flags, std::optional<IpEndpoint>* from,
                                size_t* full, int* msg_flags)
{
    bool stream = m_type == SOCK_STREAM;
    if (stream && !m_stash.empty() && !(flags & (MSG_OOB | MSG_ERRQUEUE))) {
        size_t n = std::min(max, m_stash.size());
        size_t took = (flags & MSG_TRUNC) ? n : sink(std::span<const char>(m_stash.data(), n));
        if (!(flags & MSG_PEEK))
            m_stash.erase(m_stash.begin(), m_stash.begin() + static_cast<long>(took));
        return took;
    }
    // A datagram is read whole into the buffer, up to the guest's size; MSG_TRUNC
    // makes the host tell its real length.
    size_t want = stream ? std::min(max, k_max_chunk) : std::min<size_t>(max, 65536);
    auto buf = scratch(std::max<size_t>(want, 1));
    sockaddr_storage ss{};
    iovec iov{buf.data(), want};
    msghdr mh{};
    mh.msg_name = &ss;
    mh.msg_namelen = sizeof ss;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    int f = (flags & k_recv_flags) | MSG_DONTWAIT;
    if (!stream)
        f |= MSG_TRUNC;
    ssize_t r = ::recvmsg(m_fd, &mh, f);
    if (r < 0) {
        Errno e = last_errno();
        if (e == Errno(EAGAIN) && !(flags & MSG_ERRQUEUE))
            arm(POLLIN);
        return e;
    }
    size_t n = static_cast<size_t>(r);
    if (stream) {
        // TCP's MSG_TRUNC discards instead of copying.
        if (flags & MSG_TRUNC)
            return n;
        size_t took = n ? sink(std::span<const char>(buf.data(), n)) : 0;
        if (took < n && !(flags & MSG_PEEK))
            m_stash.assign(buf.begin() + static_cast<long>(took), buf.begin() + static_cast<long>(n));
        if (n && took == 0)
            return Errno(EFAULT); // not 0: that would read as the end of the stream
        return took;
    }
    size_t copied = std::min(n, want);
    size_t took = copied ? sink(std::span<const char>(buf.data(), copied)) : 0;
    if (from)
        *from = endpoint_of(ss, mh.msg_namelen);
    if (full)
        *full = n;
    if (msg_flags && n > max)
        *msg_flags |= MSG_TRUNC;
    return (flags & MSG_TRUNC) ? n : took;
}

Result<void> HostSocket::shutdown(int how)
{
    if (::shutdown(m_fd, how) < 0)
        return last_errno();
    return {};
}

Result<IpEndpoint> HostSocket::local_endpoint() const
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        return last_errno();
    auto ep = endpoint_of(ss, len);
    if (!ep)
        return Errno(EINVAL);
    return *ep;
}

Result<IpEndpoint> HostSocket::peer_endpoint() const
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        return last_errno();
    auto ep = endpoint_of(ss, len);
    if (!ep)
        return Errno(ENOTCONN);
    return *ep;
}

Result<void> HostSocket::setsockopt(int level, int name, std::span<const char> value)
{
    if (::setsockopt(m_fd, level, name, value.data(), static_cast<socklen_t>(value.size())) < 0)
        return last_errno();
    return {};
}

Result<std::vector<char>> HostSocket::getsockopt(int level, int name, socklen_t room)
{
    std::vector<char> v(std::min<socklen_t>(room, 4096));
    socklen_t len = static_cast<socklen_t>(v.size());
    if (::getsockopt(m_fd, level, name, v.data(), &len) < 0)
        return last_errno();
    v.resize(std::min<size_t>(len, v.size()));
    return v;
}

void HostSocket::apply(int level, int name, int value) { apply(level, name, &value, sizeof value); }

void HostSocket::apply(int level, int name, const void* value, socklen_t len)
{
    (void)::setsockopt(m_fd, level, name, value, len);
}

int HostSocket::tcp_state() const
{
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (::getsockopt(m_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return 0;
    return ti.tcpi_state;
}

uint32_t HostSocket::poll_events()
{
    pollfd p{m_fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) < 0)
        return POLLERR;
    uint32_t ev = static_cast<uint16_t>(p.revents);
    if (ev & POLLIN)
        ev |= POLLRDNORM;
    if (ev & POLLOUT)
        ev |= POLLWRNORM;
    if (!m_stash.empty())
        ev |= POLLIN | POLLRDNORM;
    return ev;
}

Result<int> HostSocket::bytes_readable()
{
    int n = 0;
    if (::ioctl(m_fd, FIONREAD, &n) < 0)
        return last_errno();
    if (m_type == SOCK_STREAM)
        n += static_cast<int>(std::min<size_t>(m_stash.size(), INT32_MAX - n));
    return n;
}

} // namespace sentry::netstack
