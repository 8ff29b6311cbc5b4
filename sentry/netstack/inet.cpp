#include "sentry/netstack/inet.h"

#include <fcntl.h>
#include <netinet/ip.h>

#include <algorithm>

#include "sentry/netstack/inet_core.h"
#include "sentry/netstack/tcp.h"
#include "sentry/netstack/udp.h"

namespace sentry::netstack {

IpAddr IpAddr::from_v4(in_addr_t net_order)
{
    IpAddr r;
    r.a.s6_addr[10] = 0xff;
    r.a.s6_addr[11] = 0xff;
    std::memcpy(&r.a.s6_addr[12], &net_order, 4);
    return r;
}

bool IpAddr::is_v4() const
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a.s6_addr, prefix, sizeof prefix) == 0;
}

bool IpAddr::is_v6_any() const
{
    static const in6_addr any{};
    return std::memcmp(&a, &any, sizeof a) == 0;
}

bool IpAddr::is_loopback() const
{
    if (is_v4())
        return (ntohl(v4()) >> 24) == 127;
    return std::memcmp(&a, &in6addr_loopback, sizeof a) == 0;
}

size_t FourTupleHash::operator()(const FourTuple& t) const
{
    // FNV-1a over both endpoints.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, size_t n) {
        auto* b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; ++i)
            h = (h ^ b[i]) * 1099511628211ull;
    };
    mix(&t.local.addr.a, 16);
    mix(&t.local.port, 2);
    mix(&t.remote.addr.a, 16);
    mix(&t.remote.port, 2);
    return static_cast<size_t>(h);
}

Address name_of(int family, const IpEndpoint& ep)
{
    if (family == AF_INET) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(ep.port);
        sin.sin_addr.s_addr = ep.addr.is_v4() ? ep.addr.v4() : 0;
        return Address::of(sin);
    }
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(ep.port);
    sin6.sin6_addr = ep.addr.a;
    return Address::of(sin6);
}

bool bindable(const IpAddr& a)
{
    if (a.is_any() || a.is_loopback())
        return true;
    if (!a.is_v4())
        return false;
    uint32_t h = ntohl(a.v4());
    return (h >> 28) == 0xe || h == INADDR_BROADCAST; // RTN_MULTICAST, RTN_BROADCAST
}

Result<IpAddr> route_source(const IpAddr& dst)
{
    // The routes of a sandbox: "local 127.0.0.0/8 dev lo src 127.0.0.1" and ::1.
    if (!dst.is_loopback())
        return Errno(ENETUNREACH);
    return dst.is_v4() ? IpAddr::v4_loopback() : IpAddr::v6_loopback();
}

// inet_bind()/inet6_bind() address checks. Compare Linux __inet_bind() and
// __inet6_bind().
Result<ParsedAddr> parse_bind_address(int family, const Address& a, bool v6only)
{
    if (family == AF_INET) {
        if (a.len < sizeof(sockaddr_in))
            return Errno(EINVAL);
        auto& sin = a.as<sockaddr_in>();
        // AF_UNSPEC is taken for AF_INET with INADDR_ANY only (compatibility).
        if (sin.sin_family != AF_INET && (sin.sin_family != AF_UNSPEC || sin.sin_addr.s_addr != htonl(INADDR_ANY)))
            return Errno(EAFNOSUPPORT);
        ParsedAddr p{IpAddr::from_v4(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
        if (!bindable(p.addr))
            return Errno(EADDRNOTAVAIL);
        return p;
    }
    if (a.len < 24) // SIN6_LEN_RFC2133
        return Errno(EINVAL);
    auto& sin6 = a.as<sockaddr_in6>();
    if (sin6.sin6_family != AF_INET6)
        return Errno(EAFNOSUPPORT);
    ParsedAddr p{IpAddr::from_v6(sin6.sin6_addr), ntohs(sin6.sin6_port)};
    if (p.addr.is_v4()) {
        if (v6only)
            return Errno(EINVAL);
        if (!bindable(p.addr))
            return Errno(EADDRNOTAVAIL);
    } else if (!p.addr.is_v6_any() && !p.addr.is_loopback()) {
        return Errno(EADDRNOTAVAIL);
    }
    return p;
}

// --- ports --------------------------------------------------------------------

namespace {

enum class Cover { v4_any, v6_any_dual, v6_any_only, one };

Cover cover_of(const PortUser& u)
{
    if (u.bound_addr.is_v4_any())
        return Cover::v4_any;
    if (u.bound_addr.is_v6_any())
        return u.v6only ? Cover::v6_any_only : Cover::v6_any_dual;
    return Cover::one;
}

bool covers(Cover c, const IpAddr& wild_or_one, const IpAddr& a)
{
    switch (c) {
    case Cover::v4_any: return a.is_v4();
    case Cover::v6_any_dual: return true;
    case Cover::v6_any_only: return !a.is_v4();
    case Cover::one: return a == wild_or_one;
    }
    return false;
}

} // namespace

bool PortUser::accepts(const IpAddr& dst) const
{
    return covers(cover_of(*this), bound_addr, dst);
}

bool PortTable::overlap(const PortUser& a, const PortUser& b)
{
    Cover ca = cover_of(a), cb = cover_of(b);
    if (ca == Cover::one)
        return covers(cb, b.bound_addr, a.bound_addr);
    if (cb == Cover::one)
        return covers(ca, a.bound_addr, b.bound_addr);
    // Two wildcards: only an IPv4 one and a v6-only one are disjoint.
    return !((ca == Cover::v4_any && cb == Cover::v6_any_only) || (ca == Cover::v6_any_only && cb == Cover::v4_any));
}

bool PortTable::conflicts(const PortUser& me, uint16_t port) const
{
    auto* list = users(port);
    if (!list)
        return false;
    for (PortUser* other : *list) {
        if (other == &me || !overlap(me, *other))
            continue;
        if (me.reuseaddr && other->reuseaddr && !other->listening)
            continue;
        if (me.reuseport && other->reuseport)
            continue;
        return true;
    }
    return false;
}

void PortTable::add(PortUser& u, uint16_t port)
{
    u.port = port;
    m_ports[port].push_back(&u);
    ++m_count;
}

void PortTable::remove(PortUser& u)
{
    if (u.port == 0)
        return;
    auto it = m_ports.find(u.port);
    if (it != m_ports.end()) {
        auto& v = it->second;
        auto pos = std::find(v.begin(), v.end(), &u);
        if (pos != v.end()) {
            v.erase(pos);
            --m_count;
        }
        if (v.empty())
            m_ports.erase(it);
    }
    u.port = 0;
}

const std::vector<PortUser*>* PortTable::users(uint16_t port) const
{
    auto it = m_ports.find(port);
    return it == m_ports.end() ? nullptr : &it->second;
}

std::optional<uint16_t> PortTable::pick(const std::function<bool(uint16_t, const std::vector<PortUser*>*)>& ok)
{
    constexpr unsigned range = k_ephemeral_high - k_ephemeral_low + 1;
    for (unsigned i = 0; i < range; ++i) {
        uint16_t p = m_cursor;
        m_cursor = m_cursor == k_ephemeral_high ? k_ephemeral_low : m_cursor + 1;
        if (ok(p, users(p)))
            return p;
    }
    return std::nullopt;
}

// --- options ------------------------------------------------------------------

Result<int> option_int(std::span<const char> value)
{
    if (value.size() < sizeof(int))
        return Errno(EINVAL);
    int v;
    std::memcpy(&v, value.data(), sizeof v);
    return v;
}

std::vector<char> option_bytes(const void* p, size_t n, socklen_t room)
{
    auto* c = static_cast<const char*>(p);
    return std::vector<char>(c, c + std::min<size_t>(n, room));
}

namespace {

// do_ip_setsockopt() takes an int, or a single byte for the small options.
Result<int> ip_option_int(std::span<const char> value)
{
    if (value.size() >= sizeof(int))
        return option_int(value);
    if (value.size() >= 1)
        return static_cast<int>(static_cast<unsigned char>(value[0]));
    return Errno(EINVAL);
}

// do_ip_getsockopt(): a caller with room for less than an int gets one byte when
// the value fits in it.
std::vector<char> ip_option_bytes(int v, socklen_t room)
{
    if (room < sizeof(int) && room > 0 && v >= 0 && v <= 255) {
        char c = static_cast<char>(v);
        return {c};
    }
    return option_int_bytes(v, room);
}

constexpr int k_default_ttl = 64; // net.ipv4.ip_default_ttl, IPv6 hop limit

} // namespace

Result<void> IpOptions::set(int family, int type, bool bound, int level, int name, std::span<const char> value)
{
    if (level == IPPROTO_IP) {
        int v = TRY(ip_option_int(value));
        switch (name) {
        case IP_TOS:
            // Compare Linux do_ip_setsockopt(): stream sockets keep their ECN bits.
            if (type == SOCK_STREAM)
                v = (v & ~0x3) | (tos & 0x3);
            tos = v & 0xff;
            return {};
        case IP_TTL:
            if (v != -1 && (v < 1 || v > 255))
                return Errno(EINVAL);
            ttl = v;
            return {};
        case IP_RECVERR: recverr = v != 0; return {};
        case IP_PKTINFO: pktinfo = v != 0; return {};
        case IP_RECVTOS: recvtos = v != 0; return {};
        case IP_FREEBIND: freebind = v != 0; return {};
        case IP_MTU_DISCOVER:
            if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
                return Errno(EINVAL);
            mtu_discover = v;
            return {};
        case IP_MULTICAST_TTL:
            if (type == SOCK_STREAM)
                return Errno(EINVAL);
            if (v == -1)
                v = 1;
            if (v < 0 || v > 255)
                return Errno(EINVAL);
            multicast_ttl = v;
            return {};
        case IP_MULTICAST_LOOP: multicast_loop = v != 0; return {};
        default: return Errno(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_IPV6) {
        if (family != AF_INET6)
            return Errno(ENOPROTOOPT);
        int v = TRY(option_int(value));
        switch (name) {
        case IPV6_V6ONLY:
            if (bound)
                return Errno(EINVAL);
            v6only = v != 0;
            return {};
        case IPV6_TCLASS:
            if (v < -1 || v > 0xff)
                return Errno(EINVAL);
            tclass = v == -1 ? 0 : v;
            return {};
        case IPV6_UNICAST_HOPS:
            if (v < -1 || v > 255)
                return Errno(EINVAL);
            unicast_hops = v;
            return {};
        case IPV6_RECVPKTINFO: recvpktinfo6 = v != 0; return {};
        case IPV6_RECVERR: recverr = v != 0; return {};
        case IPV6_MTU_DISCOVER:
            if (v < IPV6_PMTUDISC_DONT || v > IPV6_PMTUDISC_OMIT)
                return Errno(EINVAL);
            mtu_discover = v;
            return {};
        case IPV6_MULTICAST_HOPS:
            if (v < -1 || v > 255)
                return Errno(EINVAL);
            multicast_ttl = v == -1 ? 1 : v;
            return {};
        case IPV6_MULTICAST_LOOP: multicast_loop = v != 0; return {};
        default: return Errno(ENOPROTOOPT);
        }
    }
    return Errno(ENOPROTOOPT);
}

Result<std::vector<char>> IpOptions::get(int family, int, int level, int name, socklen_t room) const
{
    if (level == IPPROTO_IP) {
        int v = 0;
        switch (name) {
        case IP_TOS: v = tos; break;
        case IP_TTL: v = ttl == -1 ? k_default_ttl : ttl; break;
        case IP_RECVERR: v = recverr; break;
        case IP_PKTINFO: v = pktinfo; break;
        case IP_RECVTOS: v = recvtos; break;
        case IP_FREEBIND: v = freebind; break;
        case IP_MTU_DISCOVER: v = mtu_discover; break;
        case IP_MULTICAST_TTL: v = multicast_ttl; break;
        case IP_MULTICAST_LOOP: v = multicast_loop; break;
        default: return Errno(ENOPROTOOPT);
        }
        return ip_option_bytes(v, room);
    }
    if (level == IPPROTO_IPV6) {
        if (family != AF_INET6)
            return Errno(EOPNOTSUPP); // what Linux answers for an AF_INET socket
        int v = 0;
        switch (name) {
        case IPV6_V6ONLY: v = v6only; break;
        case IPV6_TCLASS: v = tclass; break;
        case IPV6_UNICAST_HOPS: v = unicast_hops == -1 ? k_default_ttl : unicast_hops; break;
        case IPV6_RECVPKTINFO: v = recvpktinfo6; break;
        case IPV6_RECVERR: v = recverr; break;
        case IPV6_MTU_DISCOVER: v = mtu_discover; break;
        case IPV6_MULTICAST_HOPS: v = multicast_ttl; break;
        case IPV6_MULTICAST_LOOP: v = multicast_loop; break;
        default: return Errno(ENOPROTOOPT);
        }
        return option_int_bytes(v, room);
    }
    // do_ip_getsockopt() refuses other levels with EOPNOTSUPP, ipv6_getsockopt()
    // with ENOPROTOOPT.
    return Errno(family == AF_INET ? EOPNOTSUPP : ENOPROTOOPT);
}

// --- the stack ----------------------------------------------------------------

InetCore::InetCore(NetworkMode m, std::function<Clock::time_point()> clock)
    : mode(m), now(std::move(clock))
{
    tcp = std::make_unique<TcpEngine>(*this);
    udp = std::make_unique<UdpEngine>(*this);
}

InetCore::~InetCore()
{
    // Connections still closing reference nothing outside the engine; drop them
    // before the port tables they are listed in.
    tcp.reset();
    udp.reset();
}

InetStack::InetStack(NetworkMode mode, std::function<Clock::time_point()> now)
    : m_core(std::make_shared<InetCore>(mode, std::move(now)))
{
}

InetStack::~InetStack() = default;

NetworkMode InetStack::mode() const { return m_core->mode; }

// Compare Linux __sock_create() and inet_create()/inet6_create(): the type picks a
// list of protocols, protocol 0 picks its first; raw sockets need CAP_NET_RAW,
// which a sandbox never gives.
Result<SocketRef> InetStack::create(int family, int type, int protocol, int file_flags)
{
    if (family != AF_INET && family != AF_INET6)
        return Errno(EAFNOSUPPORT);
    if (m_core->mode == NetworkMode::none)
        return Errno(EAFNOSUPPORT);
    if (type < 0 || type >= 11) // SOCK_MAX
        return Errno(EINVAL);
    constexpr int k_ipproto_max = 263; // IPPROTO_MPTCP + 1
    if (protocol < 0 || protocol >= k_ipproto_max)
        return Errno(EINVAL);
    file_flags &= O_NONBLOCK;
    switch (type) {
    case SOCK_STREAM:
        if (protocol != 0 && protocol != IPPROTO_TCP)
            return Errno(EPROTONOSUPPORT); // includes IPPROTO_MPTCP: not provided
        return m_core->tcp->create_socket(m_core, family, file_flags);
    case SOCK_DGRAM:
        if (protocol == 0 || protocol == IPPROTO_UDP)
            return m_core->udp->create_socket(m_core, family, file_flags);
        if ((family == AF_INET && protocol == IPPROTO_ICMP) || (family == AF_INET6 && protocol == IPPROTO_ICMPV6))
            return Errno(EACCES); // ping sockets: outside net.ipv4.ping_group_range
        return Errno(EPROTONOSUPPORT);
    case SOCK_RAW:
        if (protocol == 0)
            return Errno(EPROTONOSUPPORT);
        return Errno(EPERM);
    case SOCK_PACKET:
        if (family == AF_INET)
            return Errno(EPERM); // becomes an AF_PACKET socket: CAP_NET_RAW
        return Errno(ESOCKTNOSUPPORT);
    default:
        return Errno(ESOCKTNOSUPPORT);
    }
}

size_t InetStack::live_endpoints() const
{
    return m_core->tcp->live_endpoints() + m_core->udp->live_endpoints();
}

} // namespace sentry::netstack
