#include "sentry/netstack/udp.h"

#include <fcntl.h>
#include <netinet/udp.h>
#include <poll.h>

#include <algorithm>

#include "sentry/netstack/host_socket.h"

namespace sentry::netstack {

namespace {

constexpr int k_rcv_shutdown = 1;
constexpr int k_send_shutdown = 2;
constexpr size_t k_max_v4_payload = 65507; // 65535 - IP header - UDP header
constexpr size_t k_max_v6_payload = 65527; // 65535 - UDP header (IPv6 payload length)

} // namespace

Result<SocketRef> UdpEngine::create_socket(std::shared_ptr<InetCore> core, int family, int file_flags)
{
    return SocketRef(std::make_shared<UdpSocket>(std::move(core), family, file_flags));
}

// Compare Linux compute_score() for udp: a connected socket takes only its peer's
// datagrams and scores above an unconnected one; an exact local address above a
// wildcard; ties go to the newest binding, or are spread over an SO_REUSEPORT
// group by the sender's endpoint.
UdpSocket* UdpEngine::lookup(const IpEndpoint& dst, const IpEndpoint& src)
{
    auto* users = m_core.udp_ports.users(dst.port);
    if (!users)
        return nullptr;
    std::vector<UdpSocket*> best;
    int best_score = -1;
    for (PortUser* u : *users) {
        auto* s = static_cast<UdpSocket*>(u);
        if (!s->accepts(dst.addr))
            continue;
        int score = (s->family() == AF_INET) == dst.addr.is_v4() ? 2 : 1;
        if (!s->bound_addr.is_any())
            score += 4;
        if (s->connected()) {
            if (!(s->remote() == src))
                continue;
            score += 8;
        }
        if (score > best_score) {
            best.clear();
            best_score = score;
        }
        if (score == best_score)
            best.push_back(s);
    }
    if (best.empty())
        return nullptr;
    if (best.size() > 1 && best.back()->PortUser::reuseport) {
        FourTuple key{src, {}};
        return best[FourTupleHash{}(key) % best.size()];
    }
    return best.back();
}

UdpSocket::UdpSocket(std::shared_ptr<InetCore> core, int family, int flags)
    : Socket(flags), m_core(std::move(core)), m_family(family)
{
    bound_addr = wildcard();
    m_local.addr = bound_addr;
    ++m_core->udp->m_socks;
}

UdpSocket::~UdpSocket()
{
    m_core->udp_ports.remove(*this);
    --m_core->udp->m_socks;
}

Result<void> UdpSocket::bind(const Address& addr, const Cred&)
{
    ParsedAddr p = TRY(parse_bind_address(m_family, addr, m_ip.v6only));
    if (m_connected || port != 0)
        return Errno(EINVAL);
    IpAddr old = bound_addr;
    bool implied_v6only = m_family == AF_INET6 && !p.addr.is_v4() && !p.addr.is_any();
    bound_addr = p.addr;
    v6only = m_family == AF_INET6 && (m_ip.v6only || implied_v6only);
    PortUser::reuseaddr = m_reuseaddr;
    PortUser::reuseport = m_reuseport;
    uint16_t want = p.port;
    if (want == 0) {
        auto picked = m_core->udp_ports.pick([](uint16_t, auto* users) { return users == nullptr; });
        if (!picked) {
            bound_addr = old;
            return Errno(EADDRINUSE);
        }
        want = *picked;
    } else if (m_core->udp_ports.conflicts(*this, want)) {
        bound_addr = old;
        return Errno(EADDRINUSE);
    }
    m_core->udp_ports.add(*this, want);
    if (implied_v6only)
        m_ip.v6only = true;
    m_local = {p.addr, want};
    m_addr_locked = !p.addr.is_any();
    m_port_locked = p.port != 0;
    return {};
}

// Linux inet_autobind(): a socket that sends or connects unbound gets an
// ephemeral port on the wildcard address.
Result<void> UdpSocket::autobind()
{
    if (port != 0)
        return {};
    v6only = m_family == AF_INET6 && m_ip.v6only;
    PortUser::reuseaddr = m_reuseaddr;
    PortUser::reuseport = m_reuseport;
    auto picked = m_core->udp_ports.pick([](uint16_t, auto* users) { return users == nullptr; });
    if (!picked)
        return Errno(EAGAIN);
    m_core->udp_ports.add(*this, *picked);
    m_local.port = *picked;
    return {};
}

// Linux udp_disconnect(): the peer is forgotten, and so are an address and a port
// that bind() did not choose.
void UdpSocket::disconnect()
{
    if (m_host_peer) {
        (void)m_host->connect(std::nullopt);
        m_host_peer = false;
    }
    m_connected = false;
    m_remote = {};
    if (!m_addr_locked) {
        bound_addr = wildcard();
        m_local.addr = bound_addr;
    }
    if (!m_port_locked) {
        m_core->udp_ports.remove(*this);
        m_local.port = 0;
    }
}

namespace {

// A destination as udp_sendmsg()/udpv6_sendmsg() and the datagram connect calls
// take it. `sending`: a zero port is EINVAL (connect allows it).
Result<IpEndpoint> parse_peer(int family, bool v6only, const Address& a, bool sending)
{
    IpEndpoint ep;
    sa_family_t fam = a.family();
    if (family == AF_INET || fam == AF_INET) {
        if (a.len < sizeof(sockaddr_in))
            return Errno(EINVAL);
        auto& sin = a.as<sockaddr_in>();
        if (family == AF_INET && fam != AF_INET && !(sending && fam == AF_UNSPEC))
            return Errno(EAFNOSUPPORT);
        if (family == AF_INET6 && v6only)
            return Errno(sending ? ENETUNREACH : EAFNOSUPPORT);
        ep = {IpAddr::from_v4(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
    } else {
        if (fam != AF_INET6)
            return Errno(sending ? EINVAL : EAFNOSUPPORT);
        if (a.len < 24) // SIN6_LEN_RFC2133
            return Errno(EINVAL);
        auto& sin6 = a.as<sockaddr_in6>();
        ep = {IpAddr::from_v6(sin6.sin6_addr), ntohs(sin6.sin6_port)};
        if (ep.addr.is_v4() && v6only)
            return Errno(ENETUNREACH);
        if (ep.addr.is_v6_any()) {
            ep.addr = IpAddr::v6_loopback();
            return ep;
        }
    }
    if (ep.addr.is_v4_any())
        ep.addr = IpAddr::v4_loopback(); // Linux routes 0.0.0.0 to the loopback
    if (sending && ep.port == 0)
        return Errno(EINVAL);
    return ep;
}

} // namespace

// Linux inet_dgram_connect() and ip4_datagram_connect()/ip6_datagram_connect().
Result<void> UdpSocket::connect(const Address& addr, const Cred&, bool)
{
    if (addr.len < sizeof(sa_family_t))
        return Errno(EINVAL);
    if (addr.family() == AF_UNSPEC) {
        disconnect();
        return {};
    }
    IpEndpoint dst = TRY(parse_peer(m_family, m_ip.v6only, addr, false));
    if (outside(dst.addr)) {
        HostSocket* h = TRY(host_for(dst.addr));
        TRY(h->connect(dst));
        m_remote = dst;
        m_connected = true;
        m_host_peer = true;
        return {};
    }
    IpAddr src = TRY(route_source(dst.addr));
    m_used_inside = true;
    if (m_host_peer) {
        (void)m_host->connect(std::nullopt);
        m_host_peer = false;
    }
    TRY(autobind());
    if (!m_addr_locked) {
        m_local.addr = src;
        bound_addr = src;
    }
    m_remote = dst;
    m_connected = true;
    return {};
}

void UdpSocket::port_unreachable(const IpEndpoint& dst)
{
    // Linux __udp4_lib_err(): without IP_RECVERR only a connected socket hears of
    // it, and only for its own peer.
    if (!(m_connected && m_remote == dst) && !m_ip.recverr)
        return;
    m_error = ECONNREFUSED;
    m_wq.notify(poll_events());
}

void UdpSocket::enqueue(const IpEndpoint& from, std::vector<char>&& data)
{
    // Linux __udp_enqueue_schedule_skb(): over SO_RCVBUF the datagram is dropped,
    // but an empty queue always takes one.
    size_t size = truesize(data.size());
    if (!m_queue.empty() && m_rmem + size > m_rcvbuf)
        return;
    m_rmem += size;
    m_queue.push_back({from, std::move(data)});
    m_wq.notify(POLLIN | POLLRDNORM);
}

// Linux udp_sendmsg()/udpv6_sendmsg().
Result<size_t> UdpSocket::send(std::span<const char> data, SendOptions& opt)
{
    // inet_send_prepare(): an unbound socket gets its port before udp_sendmsg()
    // looks at anything, so even a send that fails binds it.
    TRY(autobind());
    if (data.size() > 0xffff)
        return Errno(EMSGSIZE);
    if (opt.flags & MSG_OOB)
        return Errno(EOPNOTSUPP);
    IpEndpoint dst;
    bool have_dst = false;
    if (opt.to && opt.to->len > 0) {
        if (m_family == AF_INET6 && opt.to->len < sizeof(sa_family_t))
            return Errno(EINVAL);
        if (!(m_family == AF_INET6 && opt.to->family() == AF_UNSPEC)) {
            dst = TRY(parse_peer(m_family, m_ip.v6only, *opt.to, true));
            have_dst = true;
        }
    }
    if (!have_dst) {
        if (!m_connected)
            return Errno(EDESTADDRREQ);
        dst = m_remote;
    }
    // The route first (the sandbox's own, unless the host carries it), then the size
    // (ip_append_data()), then sock_alloc_send_pskb(): a pending error, a shut down sender.
    bool out = outside(dst.addr);
    IpAddr route_src;
    if (!out)
        route_src = TRY(route_source(dst.addr));
    if (data.size() > (dst.addr.is_v4() ? k_max_v4_payload : k_max_v6_payload))
        return Errno(EMSGSIZE);
    if (int e = take_error())
        return Errno(e);
    if (m_shutdown & k_send_shutdown)
        return Errno(EPIPE);
    if (out) {
        HostSocket* h = TRY(host_for(dst.addr));
        return h->send(data, opt.flags, have_dst || !m_host_peer ? &dst : nullptr);
    }
    m_used_inside = true;
    TRY(autobind());
    IpEndpoint src{m_addr_locked || !bound_addr.is_any() ? m_local.addr : route_src, m_local.port};
    if (src.addr.is_v4() != dst.addr.is_v4())
        src.addr = route_src;
    UdpSocket* to = m_core->udp->lookup(dst, src);
    if (!to) {
        port_unreachable(dst);
        return data.size();
    }
    to->enqueue(src, std::vector<char>(data.begin(), data.end()));
    return data.size();
}

// Linux udp_recvmsg(): a pending error is reported before queued datagrams.
Result<size_t> UdpSocket::recv(const Sink& sink, size_t max, RecvOptions& opt)
{
    if (opt.flags & MSG_ERRQUEUE)
        return Errno(EAGAIN);
    if (int e = take_error())
        return Errno(e);
    if (m_queue.empty() && m_host) {
        std::optional<IpEndpoint> from;
        size_t full = 0;
        auto r = m_host->recv(sink, max, opt.flags, &from, &full, &opt.msg_flags);
        if (!r.is_error()) {
            if (from)
                opt.from = name_of(m_family, *from);
            opt.full = full;
            return r;
        }
        if (r.error() != Errno(EAGAIN))
            return r;
    }
    if (m_queue.empty()) {
        // A blocking reader of a socket shut down for reading returns at once.
        if ((m_shutdown & k_rcv_shutdown) && !nonblocking() && !(opt.flags & MSG_DONTWAIT))
            return size_t{0};
        return Errno(EAGAIN);
    }
    Datagram& d = m_queue.front();
    size_t n = std::min(max, d.data.size());
    size_t taken = n ? sink(std::span<const char>(d.data.data(), n)) : 0;
    if (taken < n)
        return Errno(EFAULT); // unlike Linux, the datagram stays queued (nothing is lost)
    size_t full = d.data.size();
    opt.from = name_of(m_family, d.from);
    opt.full = full;
    if (full > max)
        opt.msg_flags |= MSG_TRUNC;
    if (!(opt.flags & MSG_PEEK)) {
        m_rmem -= truesize(full);
        m_queue.pop_front();
    }
    return (opt.flags & MSG_TRUNC) ? full : taken;
}

// Linux inet_shutdown(): an unconnected datagram socket answers ENOTCONN, but the
// shutdown still takes effect (poll shows it).
Result<void> UdpSocket::shutdown(int how)
{
    if (how < SHUT_RD || how > SHUT_RDWR)
        return Errno(EINVAL);
    m_shutdown |= how + 1;
    if (m_host)
        (void)m_host->shutdown(how);
    m_wq.notify(poll_events() | POLLIN | POLLOUT | POLLHUP);
    if (!m_connected)
        return Errno(ENOTCONN);
    return {};
}

// A socket that talks only to the outside shows the host socket's name (its
// sandbox port, taken at the first send, is known to no one).
Result<Address> UdpSocket::local_name()
{
    if (m_host && (m_host_peer || (!m_port_locked && !m_used_inside)))
        return name_of(m_family, TRY(m_host->local_endpoint()));
    return name_of(m_family, m_local);
}

Result<Address> UdpSocket::peer_name()
{
    if (!m_connected)
        return Errno(ENOTCONN);
    return name_of(m_family, m_remote);
}

// Linux udp_poll() / datagram_poll().
uint32_t UdpSocket::poll_events()
{
    uint32_t mask = POLLOUT | POLLWRNORM | POLLWRBAND;
    if (m_error)
        mask |= POLLERR;
    if (m_shutdown & k_rcv_shutdown)
        mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (m_shutdown == (k_rcv_shutdown | k_send_shutdown))
        mask |= POLLHUP;
    if (!m_queue.empty())
        mask |= POLLIN | POLLRDNORM;
    if (m_host)
        mask |= m_host->poll_events() & (POLLIN | POLLRDNORM | POLLERR);
    return mask;
}

// SIOCINQ on UDP: the length of the first datagram.
Result<int> UdpSocket::bytes_readable()
{
    if (m_queue.empty() && m_host)
        return m_host->bytes_readable();
    return m_queue.empty() ? 0 : static_cast<int>(m_queue.front().data.size());
}

Result<void> UdpSocket::setsockopt(int level, int name, std::span<const char> value)
{
    TRY(set_local_option(level, name, value));
    // The host socket follows, where the option means something to it.
    if (m_host && !(level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD))
        && !(level == IPPROTO_IPV6 && m_host->host_family() != AF_INET6))
        m_host->apply(level, name, value.data(), static_cast<socklen_t>(value.size()));
    return {};
}

Result<void> UdpSocket::set_local_option(int level, int name, std::span<const char> value)
{
    switch (level) {
    case SOL_SOCKET:
        TRY(Socket::setsockopt(level, name, value));
        PortUser::reuseaddr = m_reuseaddr; // the port table reads them at each bind
        PortUser::reuseport = m_reuseport;
        return {};
    case IPPROTO_IP:
    case IPPROTO_IPV6:
        return m_ip.set(m_family, SOCK_DGRAM, port != 0, level, name, value);
    case IPPROTO_UDP: {
        int v = TRY(option_int(value));
        switch (name) {
        case UDP_CORK: m_udp_cork = v; return {};
        case UDP_SEGMENT:
            if (v < 0 || v > 0xffff)
                return Errno(EINVAL);
            m_udp_segment = v;
            return {};
        case UDP_GRO: m_udp_gro = v != 0; return {};
        default: return Errno(ENOPROTOOPT);
        }
    }
    default:
        return Errno(ENOPROTOOPT);
    }
}

Result<std::vector<char>> UdpSocket::getsockopt(int level, int name, socklen_t room)
{
    switch (level) {
    case SOL_SOCKET:
        // An ICMP error the host socket heard of, after the sandbox's own.
        if (name == SO_ERROR && m_error == 0 && m_host)
            return m_host->getsockopt(level, name, room);
        return Socket::getsockopt(level, name, room);
    case IPPROTO_IP:
    case IPPROTO_IPV6:
        return m_ip.get(m_family, SOCK_DGRAM, level, name, room);
    case IPPROTO_UDP:
        switch (name) {
        case UDP_CORK: return option_int_bytes(m_udp_cork, room);
        case UDP_SEGMENT: return option_int_bytes(m_udp_segment, room);
        case UDP_GRO: return option_int_bytes(m_udp_gro, room);
        default: return Errno(ENOPROTOOPT);
        }
    default:
        return Errno(ENOPROTOOPT);
    }
}

} // namespace sentry::netstack

namespace sentry::netstack {

bool UdpSocket::outside(const IpAddr& a) const
{
    return m_core->mode == NetworkMode::host && !a.is_loopback() && !m_addr_locked;
}

// The host socket, opened on first use with what the guest set so far.
Result<HostSocket*> UdpSocket::host_for(const IpAddr& dst)
{
    if (!m_host) {
        auto h = TRY(HostSocket::open(m_family, SOCK_DGRAM, dst, m_wq));
        if (m_sndbuf != k_default_buf)
            h->apply(SOL_SOCKET, SO_SNDBUF, static_cast<int>(m_sndbuf / 2));
        if (m_rcvbuf != k_default_buf)
            h->apply(SOL_SOCKET, SO_RCVBUF, static_cast<int>(m_rcvbuf / 2));
        if (h->host_family() == AF_INET) {
            if (m_ip.tos)
                h->apply(IPPROTO_IP, IP_TOS, m_ip.tos);
            if (m_ip.ttl != -1)
                h->apply(IPPROTO_IP, IP_TTL, m_ip.ttl);
            if (m_ip.recverr)
                h->apply(IPPROTO_IP, IP_RECVERR, 1);
            if (m_ip.mtu_discover != IP_PMTUDISC_WANT)
                h->apply(IPPROTO_IP, IP_MTU_DISCOVER, m_ip.mtu_discover);
        } else {
            if (m_ip.v6only)
                h->apply(IPPROTO_IPV6, IPV6_V6ONLY, 1);
            if (m_ip.recverr)
                h->apply(IPPROTO_IPV6, IPV6_RECVERR, 1);
            if (m_ip.unicast_hops != -1)
                h->apply(IPPROTO_IPV6, IPV6_UNICAST_HOPS, m_ip.unicast_hops);
        }
        m_host = std::move(h);
    }
    if (!m_host->reaches(dst))
        return Errno(ENETUNREACH);
    return m_host.get();
}

} // namespace sentry::netstack
