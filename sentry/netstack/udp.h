#pragma once
// UDP on the sandbox's loopback (Linux net/ipv4/udp.c, net/ipv6/udp.c). A send
// looks up the receiving socket as Linux scores candidates (a connected socket
// takes only its peer's datagrams; an exact address beats a wildcard; among equals
// the newest binding) and appends the datagram to its queue, or drops it when the
// queue is over SO_RCVBUF, counting each datagram at about its Linux truesize. A
// datagram to a port nobody has bound is what an ICMP port unreachable reports
// on Linux: a connected sender gets ECONNREFUSED on its next call, an
// unconnected one nothing.
//
// In network mode "host", datagrams to addresses outside the sandbox go through a
// host UDP socket that the guest socket opens on first use (host_socket.h), and
// what that socket receives is read after the sandbox's own queue; a connect() to
// such an address connects the host socket, whose name getsockname() shows.

#include <deque>
#include <memory>
#include <vector>

#include "sentry/netstack/inet_core.h"

namespace sentry::netstack {

class UdpSocket;
class HostSocket;

class UdpEngine {
public:
    explicit UdpEngine(InetCore& core) : m_core(core) {}

    Result<SocketRef> create_socket(std::shared_ptr<InetCore> core, int family, int file_flags);
    size_t live_endpoints() const { return m_socks; }
    // Linux __udp4_lib_lookup(): who receives a datagram from `src` to `dst`.
    UdpSocket* lookup(const IpEndpoint& dst, const IpEndpoint& src);

private:
    friend class UdpSocket;
    InetCore& m_core;
    size_t m_socks = 0;
};

class UdpSocket final : public Socket, public PortUser {
public:
    UdpSocket(std::shared_ptr<InetCore> core, int family, int flags);
    ~UdpSocket() override;

    int family() const override { return m_family; }
    int type() const override { return SOCK_DGRAM; }
    int protocol() const override { return IPPROTO_UDP; }

    Result<void> bind(const Address& addr, const Cred& cred) override;
    Result<void> connect(const Address& addr, const Cred& cred, bool nonblock) override;
    Result<size_t> send(std::span<const char> data, SendOptions& opt) override;
    Result<size_t> recv(const Sink& sink, size_t max, RecvOptions& opt) override;
    Result<void> shutdown(int how) override;
    Result<Address> local_name() override;
    Result<Address> peer_name() override;
    Result<void> setsockopt(int level, int name, std::span<const char> value) override;
    Result<std::vector<char>> getsockopt(int level, int name, socklen_t room) override;

    uint32_t poll_events() override;
    vfs::WaitQueue* wait_queue() override { return &m_wq; }
    Result<int> bytes_readable() override;

    bool connected() const { return m_connected; }
    const IpEndpoint& remote() const { return m_remote; }
    // A datagram for this socket: queued, or dropped when the queue is full.
    void enqueue(const IpEndpoint& from, std::vector<char>&& data);
    // An ICMP port unreachable for a datagram this socket sent to `dst`.
    void port_unreachable(const IpEndpoint& dst);

    // Linux charges a datagram's skb truesize to SO_RCVBUF; measured on loopback,
    // 256 small datagrams fill the default 212992 bytes, 9 of 100 bytes fill 8192.
    static size_t truesize(size_t len) { return 768 + std::max<size_t>((len + 63) / 64 * 64, 64); }

private:
    struct Datagram {
        IpEndpoint from;
        std::vector<char> data;
    };

    Result<void> autobind();
    // Whether traffic to `a` leaves the sandbox (host mode, not a loopback address,
    // and a socket not bound to a loopback address).
    bool outside(const IpAddr& a) const;
    Result<HostSocket*> host_for(const IpAddr& dst);
    Result<void> set_local_option(int level, int name, std::span<const char> value);
    void disconnect();
    IpAddr wildcard() const { return m_family == AF_INET ? IpAddr::v4_any() : IpAddr::v6_any(); }

    std::shared_ptr<InetCore> m_core;
    const int m_family;
    IpEndpoint m_local;  // as getsockname shows it
    IpEndpoint m_remote;
    bool m_connected = false;
    bool m_addr_locked = false;
    bool m_port_locked = false;
    int m_shutdown = 0;
    std::deque<Datagram> m_queue;
    size_t m_rmem = 0;
    IpOptions m_ip;
    int m_udp_cork = 0, m_udp_segment = 0, m_udp_gro = 0;
    vfs::WaitQueue m_wq;
    std::unique_ptr<HostSocket> m_host; // after m_wq: it points at it
    bool m_host_peer = false;           // connected through m_host
    bool m_used_inside = false;         // has sent to (or connected to) a sandbox address
};

} // namespace sentry::netstack
