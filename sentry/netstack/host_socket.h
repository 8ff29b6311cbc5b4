#pragma once
// Network mode "host": a guest socket's traffic to an address outside the sandbox
// goes through a real host socket that the sentry opens itself (non-blocking,
// close-on-exec). The guest still holds its own TcpSocket or UdpSocket file; that
// file hands its calls to a HostSocket once it has one (TCP: from a connect() to a
// non-loopback address on; UDP: for datagrams to and from such addresses).
//
// The host kernel is Linux, so the host socket's answers (EINPROGRESS, SO_ERROR,
// ECONNREFUSED, EPIPE after a RST, ...) are the ones the guest must see, and are
// passed through as they come. The sentry itself never blocks on the host socket
// and never takes a SIGPIPE from it (MSG_DONTWAIT | MSG_NOSIGNAL on every call);
// the syscall layer turns EPIPE into the guest's SIGPIPE as for any stream socket.
//
// Readiness: the guest file's WaitQueue is the only queue its waiters know (a task
// parked in a syscall, poll, epoll items). HostSocket announces the host socket's
// readiness on that queue through one-shot Asio waits (wait_read, wait_write) on
// the host fd, armed when a waiter arrives (WaitQueue::on_wait) and whenever a
// call finds the host socket not ready (EAGAIN, a connect in flight), so that even
// a waiter that registered before the socket became host-backed hears of it. Each
// outstanding wait is bracketed by io_started()/io_finished(); closing the host fd
// cancels them, and their handlers only do the accounting once the socket is gone.

#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sentry/netstack/inet_core.h"

namespace sentry::netstack {

class HostSocket {
public:
    // A host socket of `type` (SOCK_STREAM or SOCK_DGRAM) that can reach `dst`:
    // of `family` where the host has it, else (an AF_INET6 guest socket going to
    // an IPv4 address on a host without IPv6) AF_INET. Readiness goes to `wq`.
    static Result<std::unique_ptr<HostSocket>> open(int family, int type, const IpAddr& dst, vfs::WaitQueue& wq);
    ~HostSocket();
    HostSocket(const HostSocket&) = delete;
    HostSocket& operator=(const HostSocket&) = delete;

    int fd() const { return m_fd; }
    int host_family() const { return m_family; }
    int type() const { return m_type; }
    // Whether this socket can carry traffic to `a` (an AF_INET host socket cannot
    // reach IPv6 addresses).
    bool reaches(const IpAddr& a) const { return m_family == AF_INET6 || a.is_v4(); }

    // connect(2) on the host socket: EINPROGRESS while a TCP handshake is in
    // flight. `dst` nullopt: AF_UNSPEC (dissolve a datagram association).
    Result<void> connect(const std::optional<IpEndpoint>& dst);
    // After EINPROGRESS: EAGAIN while in flight, then 0 or the error (taken).
    Result<void> connect_result();
    Result<size_t> send(std::span<const char> data, int flags, const IpEndpoint* to);
    // Stream: at most `max` bytes. Datagram: one datagram, `from` and `full` (its
    // whole length) filled, MSG_TRUNC in `msg_flags` when cut.
    Result<size_t> recv(const vfs::File::Sink& sink, size_t max, int flags, std::optional<IpEndpoint>* from,
                        size_t* full, int* msg_flags);
    Result<void> shutdown(int how);
    Result<IpEndpoint> local_endpoint() const;
    Result<IpEndpoint> peer_endpoint() const;
    Result<void> setsockopt(int level, int name, std::span<const char> value);
    Result<std::vector<char>> getsockopt(int level, int name, socklen_t room);
    // A best-effort option at creation (what the guest set before the socket was
    // host-backed); failures are ignored, as the guest was already told yes.
    void apply(int level, int name, int value);
    void apply(int level, int name, const void* value, socklen_t len);
    // Linux's TCP state number of the host socket (TCP_INFO), 0 if unknown.
    int tcp_state() const;

    uint32_t poll_events();
    Result<int> bytes_readable();
    // Make sure the guest's queue hears of POLLIN (and hang-ups, errors) and/or
    // POLLOUT readiness of the host socket.
    void arm(uint32_t mask);

private:
    HostSocket(int fd, int family, int type, vfs::WaitQueue& wq);

    int m_fd;
    const int m_family;
    const int m_type;
    vfs::WaitQueue& m_wq;
    boost::asio::posix::stream_descriptor m_watch; // owns m_fd
    bool m_read_armed = false;
    bool m_write_armed = false;
    // Bytes of a stream read that the guest's buffer did not take (it faulted):
    // they are the stream's next bytes.
    std::vector<char> m_stash;
    // Handlers still queued after this object is gone see it expired.
    std::shared_ptr<char> m_alive = std::make_shared<char>();
};

// The host's form of an endpoint for a socket of `family`.
std::optional<Address> host_sockaddr(int family, const IpEndpoint& ep);
// An endpoint from a host sockaddr (AF_INET or AF_INET6).
std::optional<IpEndpoint> endpoint_of(const sockaddr_storage& ss, socklen_t len);

} // namespace sentry::netstack
