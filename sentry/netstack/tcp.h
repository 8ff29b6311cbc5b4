#pragma once
// TCP on the sandbox's loopback (Linux net/ipv4/tcp*.c, inet_connection_sock.c,
// inet_hashtables.c). Each connection end is a TcpSock (Linux struct sock) with the
// RFC 793 states; the guest holds it through a TcpSocket file (struct socket +
// struct file). A sock outlives its file while its connection is still closing
// (an orphan, as after Linux tcp_close()), and exists before it while a connection
// waits in a listener's accept queue.
//
// Socks talk only through segments (SYN, ACK, FIN, RST, data with the sender's
// receive window) put on the engine's wire, a FIFO that is drained at the end of
// the call that produced them: each segment is handled to completion before the
// next one, so no sock is ever entered halfway through its own update. The wire
// is lossless and in order, so there are no retransmissions and no timers: what
// Linux leaves to a retransmit (a SYN dropped by a full accept queue) waits on the
// listener until accept() makes room, and TIME_WAIT and orphaned FIN_WAIT2 entries
// carry an expiry that is checked against the clock whenever the tables are used.

#include <netinet/tcp.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sentry/netstack/inet_core.h"

namespace sentry::netstack {

// A byte queue made of chunks, so that bulk data moves as whole vectors.
class ByteQueue {
public:
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    void append(std::span<const char> data, size_t chunk);
    void append(std::vector<char>&& chunk);
    // The first `n` bytes (n <= size()), moved out without copying when they are
    // exactly the front chunk.
    std::vector<char> take(size_t n);
    // Hands up to `max` bytes to `sink`; consumes what it took unless `peek`.
    size_t read(const vfs::File::Sink& sink, size_t max, bool peek);
    void drop(size_t n);
    void clear();

private:
    std::deque<std::vector<char>> m_chunks;
    size_t m_head = 0; // bytes of the front chunk already consumed
    size_t m_size = 0;
};

// Linux's numbering (include/net/tcp_states.h), which TCP_INFO shows.
enum class TcpState : uint8_t {
    established = 1,
    syn_sent,
    syn_recv,
    fin_wait1,
    fin_wait2,
    time_wait,
    close,
    close_wait,
    last_ack,
    listen,
    closing,
};

const char* tcp_state_name(TcpState s);

struct Segment {
    enum : uint8_t { fin = 1, syn = 2, rst = 4, psh = 8, ack = 16 };
    FourTuple from; // as the sender sees it: local = source, remote = destination
    uint32_t seq = 0;
    uint32_t ack_seq = 0;
    uint8_t flags = 0;
    uint32_t window = 0;
    std::vector<char> data;
    // Sequence space the segment occupies (SYN and FIN count one each).
    uint32_t seq_len() const { return static_cast<uint32_t>(data.size()) + !!(flags & syn) + !!(flags & fin); }
};

class TcpEngine;

// One end of a connection, a listener, or a socket not yet connected.
struct TcpSock : PortUser, std::enable_shared_from_this<TcpSock> {
    TcpSock(TcpEngine& e, int family);
    ~TcpSock();
    TcpSock(const TcpSock&) = delete;
    TcpSock& operator=(const TcpSock&) = delete;

    TcpEngine& engine;
    const int family;
    TcpState state = TcpState::close;
    // struct socket's state: connect() moves it, the sock state alone does not.
    enum class Conn { unconnected, connecting, connected } conn = Conn::unconnected;
    FourTuple tuple;          // local as getsockname shows it (the port stays after it is released)
    bool hashed = false;      // in the established table
    bool addr_locked = false; // SOCK_BINDADDR_LOCK: bind() chose the address
    bool port_locked = false; // SOCK_BINDPORT_LOCK: bind() chose the port
    int shutdown_mask = 0;    // RCV_SHUTDOWN (1) | SEND_SHUTDOWN (2)
    int err = 0;              // sk_err
    bool done = false;        // SOCK_DONE: the peer's FIN arrived
    bool orphan = false;      // SOCK_DEAD: the file is closed

    uint32_t snd_una = 0, snd_nxt = 0, snd_wnd_end = 0; // peer's window right edge
    uint32_t rcv_nxt = 0, rcv_adv_end = 0;              // our advertised right edge
    bool fin_queued = false, fin_sent = false;
    ByteQueue sendq; // not yet sent (the wire does not lose segments)
    ByteQueue recvq;

    size_t sndbuf, rcvbuf;
    bool sndbuf_locked = false, rcvbuf_locked = false;
    int rcvlowat = 1;
    struct linger linger {};

    // Listener.
    int backlog = 0;
    std::deque<std::shared_ptr<TcpSock>> syn_recv;     // handshakes in progress
    std::deque<std::shared_ptr<TcpSock>> accept_queue; // established, not yet accepted
    std::deque<Segment> waiting_syns; // SYNs that found the accept queue full
    TcpSock* parent = nullptr;        // the listener of a connection not yet accepted

    // Options.
    bool nodelay = false, cork = false, keepalive = false, quickack = true;
    int keepidle = 7200, keepintvl = 75, keepcnt = 9;
    int user_mss = 0, syncnt = 6, linger2 = 60, defer_accept = 0, window_clamp = 0;
    int user_timeout = 0, notsent_lowat = -1, fastopen = 0;
    std::string congestion = "cubic";
    IpOptions ip;

    vfs::WaitQueue wq;
};

class TcpSocket;
class HostSocket;

class TcpEngine {
public:
    using Clock = InetStack::Clock;
    explicit TcpEngine(InetCore& core);
    ~TcpEngine();

    Result<SocketRef> create_socket(std::shared_ptr<InetCore> core, int family, int file_flags);
    size_t live_endpoints();

    // The socket calls (TcpSocket forwards to these).
    Result<void> bind(TcpSock& sk, const Address& addr);
    Result<void> listen(TcpSock& sk, int backlog);
    Result<std::shared_ptr<TcpSock>> accept(TcpSock& sk);
    Result<void> connect(TcpSock& sk, const Address& addr, bool nonblock);
    Result<void> connect_result(TcpSock& sk);
    Result<size_t> sendmsg(TcpSock& sk, std::span<const char> data, int flags);
    Result<size_t> recvmsg(TcpSock& sk, const vfs::File::Sink& sink, size_t max, int flags);
    Result<void> shutdown(TcpSock& sk, int how);
    void close(TcpSock& sk);
    uint32_t poll(const TcpSock& sk) const;
    // After SO_RCVBUF grew or a read: maybe announce the larger window.
    void window_changed(TcpSock& sk);

    // Called by ~TcpSock: a sock must not stay in a table.
    void forget(TcpSock& sk);

    // Sizes (Linux defaults).
    static constexpr size_t k_default_sndbuf = 16384;  // net.ipv4.tcp_wmem[1]
    static constexpr size_t k_default_rcvbuf = 131072; // net.ipv4.tcp_rmem[1]
    static constexpr size_t k_wmem_max = 4194304;      // net.ipv4.tcp_wmem[2]
    static constexpr uint32_t k_mss = 65483;           // loopback MTU 65536 - IP, TCP and timestamp headers
    static constexpr uint32_t k_default_mss = 536;     // TCP_MSS_DEFAULT, before a connection
    static constexpr size_t k_max_tw_buckets = 131072; // net.ipv4.tcp_max_tw_buckets
    static constexpr std::chrono::seconds k_timewait_len{60}; // TCP_TIMEWAIT_LEN
    static constexpr std::chrono::seconds k_fin_timeout{60};  // net.ipv4.tcp_fin_timeout
    static constexpr int k_somaxconn = 4096;           // net.core.somaxconn

    static size_t rcv_space(const TcpSock& sk);
    static size_t snd_space(const TcpSock& sk);
    static bool stream_writeable(const TcpSock& sk);

private:
    // TIME_WAIT, or an orphan's FIN_WAIT2 (Linux's timewait sock with substate).
    struct TimeWait : PortUser {
        FourTuple tuple;
        Clock::time_point start, expiry;
        bool fin_wait2 = false;
        uint32_t snd_nxt = 0, rcv_nxt = 0;
    };

    void purge();
    void drain();
    void transmit(Segment&& s);
    void send_flags(TcpSock& sk, uint8_t flags);
    void send_reset_for(const Segment& in);
    void send_active_reset(TcpSock& sk);
    void push(TcpSock& sk);
    void send_fin(TcpSock& sk);
    void deliver(Segment& s);
    void rcv_state_process(TcpSock& sk, Segment& s);
    void rcv_synsent(TcpSock& sk, Segment& s);
    void conn_request(TcpSock& listener, const Segment& syn);
    void timewait_process(TimeWait& tw, const Segment& s);
    void ack(TcpSock& sk, const Segment& s);
    void reset(TcpSock& sk);
    void done(TcpSock& sk);
    void set_state(TcpSock& sk, TcpState st);
    bool close_state(TcpSock& sk);
    void disconnect(TcpSock& sk);
    void listen_stop(TcpSock& sk);
    void enter_time_wait(TcpSock& sk, bool fin_wait2);
    void kill_time_wait(const FourTuple& t);
    void replay_waiting_syns(TcpSock& listener);
    void unhash(TcpSock& sk);
    void release_port(TcpSock& sk);
    TcpSock* lookup_listener(const FourTuple& t);
    Result<void> connect_start(TcpSock& sk, const IpAddr& dst, uint16_t dport);
    Result<void> connect_finish(TcpSock& sk);
    bool tuple_free(const FourTuple& t, bool take_old_time_wait);
    void wake(TcpSock& sk, uint32_t extra = 0);
    uint32_t window_of(TcpSock& sk);
    IpAddr wildcard(const TcpSock& sk) const;

    // Destroyed last: ~TcpSock of the containers below reaches forget().
    bool m_dying = false;
    size_t m_socks = 0;

    InetCore& m_core;
    std::unordered_map<FourTuple, TcpSock*, FourTupleHash> m_established;
    std::unordered_map<uint16_t, std::vector<TcpSock*>> m_listeners;
    std::unordered_map<FourTuple, std::unique_ptr<TimeWait>, FourTupleHash> m_time_wait;
    std::deque<std::pair<Clock::time_point, FourTuple>> m_tw_expiry; // in expiry order
    std::unordered_map<TcpSock*, std::shared_ptr<TcpSock>> m_orphans;
    std::deque<Segment> m_wire;
    bool m_draining = false;
    uint32_t m_isn = 0x1000;

    friend struct TcpSock;
};

// The open file of a TCP socket. In network mode "host", a connect() to an address
// outside the sandbox makes it the guest's handle on a host connection: from then
// on every call goes to its HostSocket (host_socket.h), and the TcpSock stays
// closed, keeping only the wait queue that the guest's waiters know.
class TcpSocket final : public Socket {
public:
    TcpSocket(std::shared_ptr<InetCore> core, std::shared_ptr<TcpSock> sk, int flags);
    ~TcpSocket() override; // the last close: Linux tcp_close()

    int family() const override { return m_sk->family; }
    int type() const override { return SOCK_STREAM; }
    int protocol() const override { return IPPROTO_TCP; }

    Result<void> bind(const Address& addr, const Cred& cred) override;
    Result<void> listen(int backlog) override;
    Result<std::shared_ptr<Socket>> accept(int file_flags) override;
    Result<void> connect(const Address& addr, const Cred& cred, bool nonblock) override;
    Result<void> connect_result() override;
    Result<size_t> send(std::span<const char> data, SendOptions& opt) override;
    Result<size_t> recv(const Sink& sink, size_t max, RecvOptions& opt) override;
    Result<void> shutdown(int how) override;
    Result<Address> local_name() override;
    Result<Address> peer_name() override;
    Result<void> setsockopt(int level, int name, std::span<const char> value) override;
    Result<std::vector<char>> getsockopt(int level, int name, socklen_t room) override;

    uint32_t poll_events() override;
    vfs::WaitQueue* wait_queue() override { return &m_sk->wq; }
    Result<int> bytes_readable() override;

    TcpSock& sock() { return *m_sk; }
    bool host_backed() const { return m_host != nullptr; }

private:
    Result<void> set_tcp_option(int name, std::span<const char> value);
    Result<std::vector<char>> get_tcp_option(int name, socklen_t room);
    Result<void> connect_host(const IpEndpoint& dst);
    Result<void> host_connect_again(const Address& addr, bool nonblock);
    void apply_options(HostSocket& h);
    void drop_host(bool abort);

    std::shared_ptr<InetCore> m_core;
    std::shared_ptr<TcpSock> m_sk;
    std::unique_ptr<HostSocket> m_host; // after m_sk: it points at m_sk->wq
};

} // namespace sentry::netstack
