#include "sentry/netstack/socket.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

namespace sentry::netstack {

unsigned long next_socket_ino()
{
    static unsigned long ino = 200000;
    return ++ino;
}

Socket::Socket(int flags) : File(O_RDWR | flags), m_ino(next_socket_ino()) {}

Result<void> Socket::bind(const Address&, const Cred&) { return Errno(EOPNOTSUPP); }
Result<void> Socket::listen(int) { return Errno(EOPNOTSUPP); }
Result<std::shared_ptr<Socket>> Socket::accept(int) { return Errno(EOPNOTSUPP); }
Result<void> Socket::connect(const Address&, const Cred&, bool) { return Errno(EOPNOTSUPP); }
Result<void> Socket::connect_result() { return {}; }
Result<void> Socket::shutdown(int) { return Errno(ENOTCONN); }
Result<Address> Socket::local_name() { return Errno(EOPNOTSUPP); }
Result<Address> Socket::peer_name() { return Errno(ENOTCONN); }

Result<size_t> Socket::read(std::span<char> buf)
{
    return read_to([&](std::span<const char> d) {
        std::copy(d.begin(), d.end(), buf.begin());
        return d.size();
    }, buf.size());
}

Result<size_t> Socket::read_to(const Sink& sink, size_t max)
{
    RecvOptions opt;
    return recv(sink, max, opt);
}

Result<size_t> Socket::write(std::span<const char> buf)
{
    SendOptions opt;
    return send(buf, opt);
}

Result<struct stat> Socket::stat()
{
    struct stat st {};
    st.st_mode = S_IFSOCK | 0777;
    st.st_nlink = 1;
    st.st_ino = m_ino;
    st.st_uid = getuid();
    st.st_gid = getgid();
    st.st_blksize = 4096;
    return st;
}

std::string Socket::description() const { return fmt::format("socket:[{}]", m_ino); }

namespace {

template<typename T>
std::vector<char> bytes_of(const T& v, socklen_t room)
{
    const char* p = reinterpret_cast<const char*>(&v);
    return std::vector<char>(p, p + std::min<size_t>(room, sizeof v));
}

} // namespace

// Compare Linux sk_setsockopt(): integer options need an int, buffer sizes are
// doubled (room for bookkeeping), capped by net.core.[rw]mem_max and floored at
// SOCK_MIN_SNDBUF/SOCK_MIN_RCVBUF.
Result<void> Socket::setsockopt(int level, int name, std::span<const char> value)
{
    if (level != SOL_SOCKET)
        return Errno(ENOPROTOOPT);
    if (name == SO_LINGER) {
        if (value.size() < sizeof(struct linger))
            return Errno(EINVAL);
        std::memcpy(&m_linger, value.data(), sizeof m_linger);
        m_linger.l_onoff = m_linger.l_onoff != 0;
        return {};
    }
    if (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD) {
        // Linux sock_set_timeout(): tv_usec out of range is EDOM, {0, 0} waits
        // forever, a negative time does not wait at all (reads back as {0, 0}).
        if (value.size() < sizeof(struct timeval))
            return Errno(EINVAL);
        struct timeval tv;
        std::memcpy(&tv, value.data(), sizeof tv);
        if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
            return Errno(EDOM);
        std::chrono::nanoseconds d{0};
        if (tv.tv_sec < 0)
            d = std::chrono::nanoseconds(-1);
        else if (tv.tv_sec > 0 || (tv.tv_sec == 0 && tv.tv_usec > 0))
            d = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
        (name == SO_RCVTIMEO_OLD ? m_rcvtimeo : m_sndtimeo) = d;
        return {};
    }
    if (value.size() < sizeof(int))
        return Errno(EINVAL);
    int v = 0;
    std::memcpy(&v, value.data(), sizeof v);
    constexpr long k_mem_max = 212992;
    long want = std::min<long>(std::max(v, 0), k_mem_max) * 2;
    switch (name) {
    case SO_SNDBUF: m_sndbuf = static_cast<size_t>(std::max<long>(want, 4608)); return {};
    case SO_RCVBUF: m_rcvbuf = static_cast<size_t>(std::max<long>(want, 2304)); return {};
    case SO_REUSEADDR: m_reuseaddr = v != 0; return {};
    case SO_REUSEPORT: m_reuseport = v != 0; return {};
    case SO_KEEPALIVE: m_keepalive = v != 0; return {};
    case SO_PASSCRED: m_passcred = v != 0; return {};
    case SO_RCVLOWAT: m_rcvlowat = v < 0 ? INT32_MAX : std::max(v, 1); return {};
    case SO_BROADCAST: case SO_OOBINLINE: case SO_DONTROUTE: case SO_PRIORITY: case SO_SNDLOWAT:
    case SO_TIMESTAMP_OLD: case SO_ZEROCOPY: case SO_BUSY_POLL: case SO_MARK:
        return {}; // accepted; no effect on a sandbox-internal network
    default: return Errno(ENOPROTOOPT);
    }
}

Result<std::vector<char>> Socket::getsockopt(int level, int name, socklen_t room)
{
    if (level != SOL_SOCKET)
        return Errno(ENOPROTOOPT);
    int v = 0;
    switch (name) {
    case SO_TYPE: v = type(); break;
    case SO_DOMAIN: v = family(); break;
    case SO_PROTOCOL: v = protocol(); break;
    case SO_ERROR: v = take_error(); break;
    case SO_ACCEPTCONN: v = m_listening; break;
    case SO_SNDBUF: v = static_cast<int>(m_sndbuf); break;
    case SO_RCVBUF: v = static_cast<int>(m_rcvbuf); break;
    case SO_REUSEADDR: v = m_reuseaddr; break;
    case SO_REUSEPORT: v = m_reuseport; break;
    case SO_KEEPALIVE: v = m_keepalive; break;
    case SO_PASSCRED: v = m_passcred; break;
    case SO_RCVLOWAT: v = m_rcvlowat; break;
    case SO_SNDLOWAT: v = 1; break;
    case SO_BROADCAST: case SO_OOBINLINE: case SO_DONTROUTE: case SO_PRIORITY: v = 0; break;
    case SO_LINGER: return bytes_of(m_linger, room);
    case SO_PEERCRED: {
        // Linux cred_to_ucred(): no peer is pid 0 and ids -1.
        struct ucred c {0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
        if (auto p = peer_cred())
            c = {p->pid, p->uid, p->gid};
        return bytes_of(c, room);
    }
    case SO_RCVTIMEO_OLD: case SO_SNDTIMEO_OLD: {
        auto d = std::max(name == SO_RCVTIMEO_OLD ? m_rcvtimeo : m_sndtimeo, std::chrono::nanoseconds(0));
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
        return bytes_of(timeval{us / 1000000, us % 1000000}, room);
    }
    default: return Errno(ENOPROTOOPT);
    }
    return bytes_of(v, room);
}

} // namespace sentry::netstack
