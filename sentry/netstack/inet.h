#pragma once
// AF_INET and AF_INET6 sockets on the sandbox's own loopback network (Linux
// net/ipv4/af_inet.c, net/ipv6/af_inet6.c). Guests of one sandbox talk TCP and UDP
// to each other through sentry objects; nothing reaches the host network.
//
// TCP (tcp.h) is a real state machine: endpoints exchange segments (SYN, ACK, FIN,
// RST, data, window updates) over an in-sentry wire, demultiplexed like Linux
// (established table, then TIME_WAIT, then listeners; a segment to nobody is
// answered with RST). Delivery is synchronous within the call that sends. UDP
// (udp.h) delivers datagrams straight to the receiving socket's queue. Ports, bind
// conflicts and addresses are shared machinery (inet_core.h).

#include <chrono>
#include <functional>
#include <memory>

#include "sentry/netstack/socket.h"

namespace sentry::netstack {

enum class NetworkMode { none, loopback, host };

struct InetCore;

class InetStack {
public:
    using Clock = std::chrono::steady_clock;
    explicit InetStack(NetworkMode mode, std::function<Clock::time_point()> now = &Clock::now);
    ~InetStack();
    InetStack(const InetStack&) = delete;
    InetStack& operator=(const InetStack&) = delete;

    NetworkMode mode() const;
    // socket(2) for AF_INET/AF_INET6: `type` without SOCK_NONBLOCK/SOCK_CLOEXEC,
    // `file_flags` 0 or O_NONBLOCK. Errors as Linux inet_create()/inet6_create().
    Result<SocketRef> create(int family, int type, int protocol, int file_flags);
    // TCP and UDP endpoints alive now: sockets, connections not yet accepted,
    // connections still closing after their file was closed, TIME_WAIT entries.
    size_t live_endpoints() const;

private:
    std::shared_ptr<InetCore> m_core;
};

} // namespace sentry::netstack
