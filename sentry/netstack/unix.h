#pragma once
// AF_UNIX sockets (Linux net/unix/af_unix.c): SOCK_STREAM, SOCK_SEQPACKET and
// SOCK_DGRAM, made by socket(2) or socketpair(2). Each socket owns a receive queue
// of messages (Linux's skbs): data, the sender's credentials, SCM_RIGHTS files in
// flight and, for datagrams, the sender's name. A sender is charged for the bytes
// it has queued at its peer until they are read, which bounds it by its SO_SNDBUF.
//
// Names live in a UnixNamespace per sandbox: abstract names by their bytes,
// pathname names by the inode of the socket node that bind created on the host
// (the syscall layer makes the node and resolves paths; see socket.h Address).
//
// A stream connect makes the server's end at once (Linux unix_stream_connect())
// and queues it on the listener until accept takes it. Closing an end shuts the
// peer down both ways (reads drain then EOF, writes EPIPE) and, if data or a
// connection was left unread, sets ECONNRESET on the peer (unix_release_sock()).

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "sentry/netstack/socket.h"

namespace sentry::netstack {

class UnixSocket;

class UnixNamespace {
public:
    std::shared_ptr<UnixSocket> find(const Address& name) const;
    bool taken(const Address& name) const;
    void add(const Address& name, const std::shared_ptr<UnixSocket>& s);
    void remove(const Address& name, const UnixSocket* s);
    // A fresh abstract name of five hex digits (Linux unix_autobind()).
    Address autobind_name();
    // Whether a pid exists in the sandbox (explicit SCM_CREDENTIALS name one).
    std::function<bool(pid_t)> pid_exists;
    size_t live_sockets = 0; // for leak checks

    // Sockets that travel in SCM_RIGHTS messages. A socket whose only references
    // are such messages, in queues of sockets that are themselves unreachable, is
    // garbage (a socket sent over itself and closed): collect() frees them, as
    // Linux's unix_gc() does when a unix socket is released.
    std::unordered_set<UnixSocket*> in_flight;
    void collect();

private:
    static std::string key(const Address& a);
    std::map<std::string, std::weak_ptr<UnixSocket>> m_names;
    unsigned m_next_auto = 0;
    bool m_collecting = false;
};

class UnixSocket final : public Socket {
public:
    UnixSocket(std::shared_ptr<UnixNamespace> ns, int type, int flags);
    ~UnixSocket() override;

    static std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> make_pair(
        std::shared_ptr<UnixNamespace> ns, int type, int flags, const Cred& cred);

    int family() const override { return AF_UNIX; }
    int type() const override { return m_type; }
    // unix_stream_sendmsg() drops the message it was building when the source faults.
    size_t keep_before_fault(size_t) const override { return 0; }

    Result<void> bind(const Address& addr, const Cred& cred) override;
    Result<void> listen(int backlog) override;
    Result<std::shared_ptr<Socket>> accept(int file_flags) override;
    Result<void> connect(const Address& addr, const Cred& cred, bool nonblock) override;
    vfs::WaitQueue* connect_queue() override;
    Result<size_t> send(std::span<const char> data, SendOptions& opt) override;
    Result<size_t> recv(const Sink& sink, size_t max, RecvOptions& opt) override;
    Result<void> shutdown(int how) override;
    Result<Address> local_name() override;
    Result<Address> peer_name() override;
    Result<std::vector<char>> getsockopt(int level, int name, socklen_t room) override;
    Result<void> setsockopt(int level, int name, std::span<const char> value) override;

    uint32_t poll_events() override;
    std::optional<Cred> peer_cred() const override { return m_peercred; }
    vfs::WaitQueue* wait_queue() override { return &m_wq; }
    Result<int> bytes_readable() override;

    // Whether the bind of a pathname name is still to be done: the syscall layer
    // checks this before it creates the node (Linux: EINVAL for a bound socket).
    bool bound() const { return m_name.has_value(); }

private:
    friend class UnixNamespace;
    struct Message {
        std::vector<char> data;
        size_t off = 0; // bytes of a stream message already read
        Cred cred;
        std::vector<vfs::FileRef> rights;
        std::optional<Address> from; // datagrams: the sender's name
        std::weak_ptr<UnixSocket> sender; // charged for data.size() until read
        size_t remaining() const { return data.size() - off; }
    };
    enum class State { unconnected, listening, connected };
    static constexpr int k_rcv_shutdown = 1, k_send_shutdown = 2, k_shutdown_mask = 3;

    std::shared_ptr<UnixSocket> self() { return std::static_pointer_cast<UnixSocket>(shared_from_this()); }
    bool connection_oriented() const { return m_type != SOCK_DGRAM; }
    size_t send_limit() const { return std::max(m_sndbuf, size_t{4096}); }
    Result<size_t> send_stream(std::span<const char> data, SendOptions& opt);
    Result<size_t> send_dgram(std::span<const char> data, SendOptions& opt);
    Result<size_t> recv_stream(const Sink& sink, size_t max, RecvOptions& opt);
    Result<size_t> recv_message(const Sink& sink, size_t max, RecvOptions& opt);
    static std::optional<Address> sender_name(const Message& m);
    void post(UnixSocket& to, std::span<const char> data, SendOptions& opt);
    void enqueue(Message m);
    // Files entering or leaving a queue in SCM_RIGHTS (in-flight counts for collect()).
    static void rights_in(std::vector<vfs::FileRef>& rights);
    static void rights_out(std::vector<vfs::FileRef>& rights);
    void consumed(Message& m, size_t n);
    void release_message(Message& m);
    // What closing the last reference does (unix_release_sock()); `embryo`: a
    // connection never accepted, torn down with its listener.
    void release(bool embryo = false);
    Result<std::shared_ptr<UnixSocket>> lookup(const Address& addr);

    std::shared_ptr<UnixNamespace> m_ns;
    int m_type;
    State m_state = State::unconnected;
    int m_shutdown = 0;
    bool m_dead = false;
    std::optional<Address> m_name;
    int m_node_fd = -1;
    // The connected peer. A stream peer's name and credentials stay known after it
    // goes away (getpeername, SO_PEERCRED work on a half-dead connection).
    std::weak_ptr<UnixSocket> m_peer;
    std::optional<Address> m_peer_addr;
    std::optional<Cred> m_peercred;
    Cred m_bind_cred;
    std::deque<Message> m_rx;
    size_t m_rx_bytes = 0;
    size_t m_wmem = 0; // bytes this socket has queued at receivers
    size_t m_inflight = 0; // SCM_RIGHTS messages that carry this socket
    size_t m_gc_refs = 0;
    std::weak_ptr<UnixSocket> m_connecting_to; // a listener whose queue was full
    std::deque<std::shared_ptr<UnixSocket>> m_accept_queue;
    int m_backlog = 0;
    vfs::WaitQueue m_wq;
};

} // namespace sentry::netstack
