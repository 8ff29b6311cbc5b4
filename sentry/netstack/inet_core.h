#pragma once
// What TCP and UDP share: addresses, the sandbox's routes, port tables with Linux's
// bind-conflict rules, and the IP-level socket options. Internal to the netstack.

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "sentry/netstack/inet.h"

namespace sentry::netstack {

// An IP address in IPv6 form; IPv4 addresses are v4-mapped (::ffff:a.b.c.d), as a
// dual-stack AF_INET6 socket sees them.
struct IpAddr {
    in6_addr a{};

    static IpAddr from_v4(in_addr_t net_order);
    static IpAddr from_v6(const in6_addr& v6) { return IpAddr{v6}; }
    static IpAddr v4_any() { return from_v4(htonl(INADDR_ANY)); }
    static IpAddr v4_loopback() { return from_v4(htonl(INADDR_LOOPBACK)); }
    static IpAddr v6_any() { return IpAddr{}; }
    static IpAddr v6_loopback() { return IpAddr{in6addr_loopback}; }

    bool is_v4() const; // v4-mapped
    in_addr_t v4() const { uint32_t v; std::memcpy(&v, &a.s6_addr[12], 4); return v; }
    bool is_v6_any() const;
    bool is_v4_any() const { return is_v4() && v4() == htonl(INADDR_ANY); }
    bool is_any() const { return is_v6_any() || is_v4_any(); }
    // Addresses of this sandbox: 127.0.0.0/8 and ::1.
    bool is_loopback() const;
    bool operator==(const IpAddr& o) const { return std::memcmp(&a, &o.a, sizeof a) == 0; }
};

struct IpEndpoint {
    IpAddr addr;
    uint16_t port = 0; // host order
    bool operator==(const IpEndpoint&) const = default;
};

// A connection as seen from one end.
struct FourTuple {
    IpEndpoint local;
    IpEndpoint remote;
    bool operator==(const FourTuple&) const = default;
    FourTuple reversed() const { return {remote, local}; }
};

struct FourTupleHash {
    size_t operator()(const FourTuple& t) const;
};

// The name of an endpoint as a socket of `family` shows it (AF_INET6 sockets show
// IPv4 peers v4-mapped).
Address name_of(int family, const IpEndpoint& ep);

// An address that bind() accepts in this sandbox: a wildcard, a loopback address,
// or (IPv4) multicast or the limited broadcast (Linux inet_addr_valid_or_nonlocal()).
bool bindable(const IpAddr& a);

// The source address for traffic to `dst` (already turned from a wildcard into the
// loopback, as Linux routes a connect to 0.0.0.0 or ::), or ENETUNREACH: the
// sandbox has only the loopback routes.
Result<IpAddr> route_source(const IpAddr& dst);

struct ParsedAddr {
    IpAddr addr;
    uint16_t port = 0; // host order
};

// The address of a bind(): EINVAL for a short one, EAFNOSUPPORT for another family,
// EADDRNOTAVAIL for an address that is not the sandbox's.
Result<ParsedAddr> parse_bind_address(int family, const Address& a, bool v6only);

// A socket's claim on a port. Compare Linux's bind buckets (inet_bind_bucket) and
// the sk fields inet_csk_bind_conflict() reads.
struct PortUser {
    IpAddr bound_addr;       // wildcard or a specific address
    bool v6only = false;     // an AF_INET6 wildcard that takes no IPv4
    bool reuseaddr = false;  // SO_REUSEADDR (sk_reuse)
    bool reuseport = false;  // SO_REUSEPORT
    bool listening = false;  // TCP_LISTEN
    bool connect_bound = false; // port chosen by connect(): shareable by 4-tuple
    uint16_t port = 0;       // 0: not in a table

    // Whether traffic to `dst` is for this claim's address.
    bool accepts(const IpAddr& dst) const;
};

class PortTable {
public:
    static constexpr uint16_t k_ephemeral_low = 32768;  // net.ipv4.ip_local_port_range
    static constexpr uint16_t k_ephemeral_high = 60999;

    // Whether `me` claiming `port` collides with a current user.
    // Compare Linux inet_bind_conflict(): two claims whose addresses overlap collide
    // unless both have SO_REUSEADDR and the other is not listening, or both have
    // SO_REUSEPORT.
    bool conflicts(const PortUser& me, uint16_t port) const;
    void add(PortUser& u, uint16_t port);
    void remove(PortUser& u);
    const std::vector<PortUser*>* users(uint16_t port) const;
    // An unused port of the ephemeral range, or nullopt. `ok` may accept a port that
    // has users (TCP connect shares ports between distinct 4-tuples).
    std::optional<uint16_t> pick(const std::function<bool(uint16_t, const std::vector<PortUser*>*)>& ok);
    size_t size() const { return m_count; }

    // Whether the addresses two claims cover intersect.
    static bool overlap(const PortUser& a, const PortUser& b);

private:
    std::unordered_map<uint16_t, std::vector<PortUser*>> m_ports;
    uint16_t m_cursor = k_ephemeral_low;
    size_t m_count = 0;
};

// IPPROTO_IP and IPPROTO_IPV6 options that sockets of both protocols keep.
struct IpOptions {
    int tos = 0;
    int ttl = -1; // -1: the route's default (64)
    int tclass = 0;
    int unicast_hops = -1;
    bool v6only = false;
    bool recverr = false;
    bool pktinfo = false;
    bool recvtos = false;
    bool freebind = false;
    bool mtu_discover_set = false;
    int mtu_discover = IP_PMTUDISC_WANT;
    int multicast_ttl = 1;
    bool multicast_loop = true;
    bool recvpktinfo6 = false;

    // `bound`: the socket has a port (IPV6_V6ONLY can no longer change: EINVAL).
    Result<void> set(int family, int type, bool bound, int level, int name, std::span<const char> value);
    Result<std::vector<char>> get(int family, int type, int level, int name, socklen_t room) const;
};

class TcpEngine;
class UdpEngine;

// The stack's state, shared by the InetStack and every socket it made (a socket can
// outlive the InetStack object; the state lives while either does).
struct InetCore {
    using Clock = InetStack::Clock;
    InetCore(NetworkMode mode, std::function<Clock::time_point()> now);
    ~InetCore();

    NetworkMode mode;
    std::function<Clock::time_point()> now;
    PortTable tcp_ports;
    PortTable udp_ports;
    std::unique_ptr<TcpEngine> tcp;
    std::unique_ptr<UdpEngine> udp;
};

// Reads an int option value (Linux: optlen < sizeof(int) is EINVAL).
Result<int> option_int(std::span<const char> value);
// An int as getsockopt returns it, cut to `room`.
std::vector<char> option_bytes(const void* p, size_t n, socklen_t room);
inline std::vector<char> option_int_bytes(int v, socklen_t room) { return option_bytes(&v, sizeof v, room); }

} // namespace sentry::netstack
