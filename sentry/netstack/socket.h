#pragma once
// The socket interface between the syscall layer (kernel/syscalls/socket.cpp,
// read_write.cpp) and each address family (unix.*, inet.*). A Socket is an open
// file; every operation is non-blocking at this level: EAGAIN means "park on
// wait_queue() for the events named below and call again", the syscall layer decides
// whether the guest waits (blocking fd, no MSG_DONTWAIT) or sees EAGAIN.
//
//   accept  -> EAGAIN: wait for POLLIN
//   connect -> EINPROGRESS (nonblocking TCP), or EAGAIN (unix, full backlog): wait for POLLOUT,
//              then a blocking caller asks connect_result()
//   send    -> EAGAIN: wait for POLLOUT (part of the data may have been taken)
//   recv    -> EAGAIN: wait for POLLIN
//
// Addresses cross this interface as the guest's raw bytes; each family parses and
// checks its own (EINVAL for a short length, EAFNOSUPPORT for a wrong family).

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sentry/vfs/file.h"

namespace sentry::netstack {

// Who makes a call: SO_PEERCRED, SCM_CREDENTIALS and SO_PASSCRED carry it, with the
// pid as the sandbox sees it.
struct Cred {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// An AF_UNIX pathname name resolved to the socket inode it names (the host node the
// sentry created at bind and keeps open, so its inode number cannot be reused).
struct UnixInodeKey {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const UnixInodeKey&) const = default;
};

// A socket address as the guest passed it (or as a call returns it).
struct Address {
    sockaddr_storage raw{};
    socklen_t len = 0;
    // AF_UNIX pathname names only, filled by the syscall layer's path walk: for
    // connect/sendto the inode the path resolved to (nullopt: it names no socket
    // node), for bind the node just created and `node_fd` (an O_PATH fd on it,
    // which the bound socket keeps).
    std::optional<UnixInodeKey> inode;
    int node_fd = -1;

    sa_family_t family() const { return len >= sizeof(sa_family_t) ? raw.ss_family : AF_UNSPEC; }
    template<typename T>
    const T& as() const { return *reinterpret_cast<const T*>(&raw); }
    template<typename T>
    static Address of(const T& sa, socklen_t n = sizeof(T))
    {
        Address a;
        std::memcpy(&a.raw, &sa, n);
        a.len = n;
        return a;
    }
};

// Control data that travels with a message (unix sockets): SCM_RIGHTS files and
// SCM_CREDENTIALS.
struct Control {
    std::vector<vfs::FileRef> rights;
    std::optional<Cred> creds;
    bool refused = false; // SOL_SOCKET control data the family does not take (inet)
    bool empty() const { return rights.empty() && !creds; }
};

struct SendOptions {
    int flags = 0;                // MSG_* of the call (MSG_DONTWAIT, MSG_NOSIGNAL handled by the caller)
    const Address* to = nullptr;  // sendto/sendmsg name, if any
    Control* control = nullptr;   // moved out by the first send that takes data
    Cred cred;                    // the sender
};

struct RecvOptions {
    int flags = 0;                // MSG_PEEK, MSG_TRUNC, MSG_WAITALL (the caller loops), MSG_CMSG_CLOEXEC
    bool want_control = false;    // recvmsg with a control buffer: SCM_RIGHTS may be taken
    // Filled by recv:
    std::optional<Address> from;  // the sender's name (datagram sockets; TCP has none)
    size_t full = 0;              // message sockets: the whole message's length
    Control control;              // rights and credentials received
    int msg_flags = 0;            // MSG_TRUNC, MSG_CTRUNC, MSG_EOR
};

class Socket : public vfs::File {
public:
    explicit Socket(int flags);

    static Socket* from(vfs::File& f) { return dynamic_cast<Socket*>(&f); }

    virtual int family() const = 0;
    virtual int type() const = 0;
    virtual int protocol() const { return 0; }

    virtual Result<void> bind(const Address& addr, const Cred& cred);
    virtual Result<void> listen(int backlog);
    // A connection from the queue, as a new open file with `file_flags` (O_NONBLOCK).
    virtual Result<std::shared_ptr<Socket>> accept(int file_flags);
    virtual Result<void> connect(const Address& addr, const Cred& cred, bool nonblock);
    // After a blocking connect parked: EAGAIN while still in progress, then 0 or the
    // error that ended it (taken, as SO_ERROR takes it).
    virtual Result<void> connect_result();
    // Where a blocking connect that got EAGAIN waits for room (a unix listener's
    // queue fills: the connector waits on the listener).
    virtual vfs::WaitQueue* connect_queue() { return wait_queue(); }
    // Bytes taken from `data` (all or nothing for message sockets).
    virtual Result<size_t> send(std::span<const char> data, SendOptions& opt) = 0;
    // At most `max` bytes to `sink` (which may take fewer: the guest buffer faulted).
    // Stream sockets return 0 at end of stream; message sockets one message.
    virtual Result<size_t> recv(const Sink& sink, size_t max, RecvOptions& opt) = 0;
    virtual Result<void> shutdown(int how);
    virtual Result<Address> local_name();
    virtual Result<Address> peer_name();
    // Options: the base answers SOL_SOCKET's common ones; families override and
    // fall back to it. getsockopt writes at most `room` bytes of the value.
    virtual Result<void> setsockopt(int level, int name, std::span<const char> value);
    virtual Result<std::vector<char>> getsockopt(int level, int name, socklen_t room);
    // SO_PEERCRED: who is at the other end (unix sockets know; others: nobody).
    virtual std::optional<Cred> peer_cred() const { return std::nullopt; }

    // vfs::File: read/write are recv/send with no flags.
    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    Result<size_t> write(std::span<const char> buf) override;
    bool writes_records() const override { return type() != SOCK_STREAM; }
    bool epipe_raises_sigpipe() const override { return type() == SOCK_STREAM; }
    Result<struct stat> stat() override;
    std::string description() const override;
    unsigned long ino() const { return m_ino; }

    // Common SOL_SOCKET state.
    size_t sndbuf() const { return m_sndbuf; }
    size_t rcvbuf() const { return m_rcvbuf; }
    bool passcred() const { return m_passcred; }
    bool reuseaddr() const { return m_reuseaddr; }
    bool reuseport() const { return m_reuseport; }
    // SO_RCVTIMEO/SO_SNDTIMEO: how long a blocking call waits (0: forever).
    std::chrono::nanoseconds rcvtimeo() const { return m_rcvtimeo; }
    std::chrono::nanoseconds sndtimeo() const { return m_sndtimeo; }

    static constexpr size_t k_default_buf = 212992; // net.core.[rw]mem_default

protected:
    // SO_ERROR: a pending asynchronous error, taken by the first reader.
    int take_error()
    {
        int e = m_error;
        m_error = 0;
        return e;
    }
    int m_error = 0;
    size_t m_sndbuf = k_default_buf;
    size_t m_rcvbuf = k_default_buf;
    bool m_passcred = false;
    bool m_reuseaddr = false;
    bool m_reuseport = false;
    bool m_keepalive = false;
    bool m_listening = false;
    struct linger m_linger {};
    std::chrono::nanoseconds m_rcvtimeo{0};
    std::chrono::nanoseconds m_sndtimeo{0};
    int m_rcvlowat = 1;

private:
    unsigned long m_ino;
};

using SocketRef = std::shared_ptr<Socket>;

// Socket inode numbers (what fstat and /proc/self/fd show as socket:[N]).
unsigned long next_socket_ino();

} // namespace sentry::netstack
