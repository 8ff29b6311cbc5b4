#include "sentry/netstack/tcp.h"

#include <fcntl.h>
#include <poll.h>

#include <algorithm>

#include "sentry/netstack/host_socket.h"

namespace sentry::netstack {

namespace {

constexpr int k_rcv_shutdown = 1;  // RCV_SHUTDOWN
constexpr int k_send_shutdown = 2; // SEND_SHUTDOWN
constexpr int k_shutdown_mask = 3;
constexpr uint32_t k_all_events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP | POLLRDHUP;

bool before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool after(uint32_t a, uint32_t b) { return before(b, a); }

bool synchronizing(TcpState s) { return s == TcpState::syn_sent || s == TcpState::syn_recv; }

// Linux tcp_need_reset(): states in which an abort tells the peer with a RST.
bool need_reset(TcpState s)
{
    switch (s) {
    case TcpState::established:
    case TcpState::close_wait:
    case TcpState::fin_wait1:
    case TcpState::fin_wait2:
    case TcpState::syn_recv: return true;
    default: return false;
    }
}

} // namespace

const char* tcp_state_name(TcpState s)
{
    switch (s) {
    case TcpState::established: return "ESTABLISHED";
    case TcpState::syn_sent: return "SYN_SENT";
    case TcpState::syn_recv: return "SYN_RECV";
    case TcpState::fin_wait1: return "FIN_WAIT1";
    case TcpState::fin_wait2: return "FIN_WAIT2";
    case TcpState::time_wait: return "TIME_WAIT";
    case TcpState::close: return "CLOSE";
    case TcpState::close_wait: return "CLOSE_WAIT";
    case TcpState::last_ack: return "LAST_ACK";
    case TcpState::listen: return "LISTEN";
    case TcpState::closing: return "CLOSING";
    }
    return "?";
}

// --- ByteQueue ------------------------------------------------------------------

void ByteQueue::append(std::span<const char> data, size_t chunk)
{
    m_size += data.size();
    while (!data.empty()) {
        if (m_chunks.empty() || m_chunks.back().size() >= chunk) {
            m_chunks.emplace_back();
            m_chunks.back().reserve(std::min(chunk, std::max<size_t>(data.size(), 4096)));
        }
        auto& back = m_chunks.back();
        size_t n = std::min(data.size(), chunk - back.size());
        back.insert(back.end(), data.begin(), data.begin() + n);
        data = data.subspan(n);
    }
}

void ByteQueue::append(std::vector<char>&& chunk)
{
    if (chunk.empty())
        return;
    m_size += chunk.size();
    m_chunks.push_back(std::move(chunk));
}

std::vector<char> ByteQueue::take(size_t n)
{
    n = std::min(n, m_size);
    if (m_head == 0 && !m_chunks.empty() && m_chunks.front().size() == n) {
        std::vector<char> v = std::move(m_chunks.front());
        m_chunks.pop_front();
        m_size -= n;
        return v;
    }
    std::vector<char> v;
    v.reserve(n);
    read([&](std::span<const char> d) {
        v.insert(v.end(), d.begin(), d.end());
        return d.size();
    }, n, false);
    return v;
}

size_t ByteQueue::read(const vfs::File::Sink& sink, size_t max, bool peek)
{
    size_t total = 0;
    size_t head = m_head;
    for (auto& c : m_chunks) {
        if (total == max)
            break;
        size_t n = std::min(c.size() - head, max - total);
        size_t took = sink(std::span<const char>(c.data() + head, n));
        total += took;
        head = 0;
        if (took < n)
            break;
    }
    if (!peek)
        drop(total);
    return total;
}

void ByteQueue::drop(size_t n)
{
    n = std::min(n, m_size);
    m_size -= n;
    while (n) {
        auto& c = m_chunks.front();
        size_t left = c.size() - m_head;
        if (n < left) {
            m_head += n;
            return;
        }
        n -= left;
        m_head = 0;
        m_chunks.pop_front();
    }
}

void ByteQueue::clear()
{
    m_chunks.clear();
    m_head = 0;
    m_size = 0;
}

// --- TcpSock ------------------------------------------------------------------

TcpSock::TcpSock(TcpEngine& e, int fam)
    : engine(e)
    , family(fam)
    , sndbuf(TcpEngine::k_default_sndbuf)
    , rcvbuf(TcpEngine::k_default_rcvbuf)
{
    bound_addr = fam == AF_INET ? IpAddr::v4_any() : IpAddr::v6_any();
    tuple.local.addr = bound_addr;
    ++engine.m_socks;
}

TcpSock::~TcpSock()
{
    engine.forget(*this);
    --engine.m_socks;
}

// --- the engine: buffers and segments -----------------------------------------

TcpEngine::TcpEngine(InetCore& core) : m_core(core) {}

TcpEngine::~TcpEngine()
{
    m_dying = true;
    m_orphans.clear();
    m_established.clear();
    m_listeners.clear();
}

// The receive window a socket offers when empty. Linux advertises most of
// SO_RCVBUF on loopback (large segments, little overhead) but about half of a small
// one (tcp_win_from_space()); measured: 131072 holds ~127 KiB, 8192 holds 4096.
size_t TcpEngine::rcv_space(const TcpSock& sk)
{
    return std::max(sk.rcvbuf / 2, sk.rcvbuf > 4096 ? sk.rcvbuf - 4096 : 0);
}

// What the send queue may hold. An SO_SNDBUF set by the guest bounds it (Linux
// queues about 3/4 of it: skb overhead); otherwise Linux grows the buffer up to
// tcp_wmem[2] (tcp_sndbuf_expand()), and so does this.
size_t TcpEngine::snd_space(const TcpSock& sk)
{
    return sk.sndbuf_locked ? sk.sndbuf * 3 / 4 : k_wmem_max;
}

// Linux sk_stream_is_writeable(): free space at least half of what is queued.
bool TcpEngine::stream_writeable(const TcpSock& sk)
{
    size_t queued = sk.sendq.size();
    size_t space = snd_space(sk);
    size_t free = space > queued ? space - queued : 0;
    return free >= queued / 2 && free > 0;
}

uint32_t TcpEngine::window_of(TcpSock& sk)
{
    size_t space = rcv_space(sk);
    size_t used = sk.recvq.size();
    uint32_t w = space > used ? static_cast<uint32_t>(space - used) : 0;
    sk.rcv_adv_end = sk.rcv_nxt + w;
    return w;
}

IpAddr TcpEngine::wildcard(const TcpSock& sk) const
{
    return sk.family == AF_INET ? IpAddr::v4_any() : IpAddr::v6_any();
}

void TcpEngine::transmit(Segment&& s) { m_wire.push_back(std::move(s)); }

// A segment with no data (SYN, FIN, ACK) from `sk`.
void TcpEngine::send_flags(TcpSock& sk, uint8_t flags)
{
    Segment s;
    s.from = sk.tuple;
    s.seq = sk.snd_nxt;
    s.ack_seq = sk.rcv_nxt;
    s.flags = flags;
    s.window = window_of(sk);
    sk.snd_nxt += s.seq_len();
    transmit(std::move(s));
}

// The RST that answers a segment nobody takes (Linux tcp_v4_send_reset()).
void TcpEngine::send_reset_for(const Segment& in)
{
    if (in.flags & Segment::rst)
        return;
    Segment r;
    r.from = in.from.reversed();
    if (in.flags & Segment::ack) {
        r.seq = in.ack_seq;
        r.flags = Segment::rst;
    } else {
        r.ack_seq = in.seq + in.seq_len();
        r.flags = Segment::rst | Segment::ack;
    }
    transmit(std::move(r));
}

// Linux tcp_send_active_reset().
void TcpEngine::send_active_reset(TcpSock& sk)
{
    Segment r;
    r.from = sk.tuple;
    r.seq = sk.snd_nxt;
    r.ack_seq = sk.rcv_nxt;
    r.flags = Segment::rst | Segment::ack;
    transmit(std::move(r));
}

// Linux tcp_write_xmit(): send what the peer's window allows, then a FIN that
// waits behind the data. A bare FIN needs no window (Linux accepts one even into a
// zero window, tcp_data_queue()).
void TcpEngine::push(TcpSock& sk)
{
    switch (sk.state) {
    case TcpState::established:
    case TcpState::close_wait:
    case TcpState::fin_wait1:
    case TcpState::last_ack:
        break;
    default:
        return;
    }
    bool sent = false;
    while (!sk.sendq.empty() && !sk.fin_sent) {
        uint32_t wnd = after(sk.snd_wnd_end, sk.snd_nxt) ? sk.snd_wnd_end - sk.snd_nxt : 0;
        if (wnd == 0)
            break;
        size_t n = std::min<size_t>({sk.sendq.size(), wnd, k_mss});
        Segment s;
        s.from = sk.tuple;
        s.seq = sk.snd_nxt;
        s.ack_seq = sk.rcv_nxt;
        s.flags = Segment::ack | Segment::psh;
        s.window = window_of(sk);
        s.data = sk.sendq.take(n);
        sk.snd_nxt += s.seq_len();
        transmit(std::move(s));
        sent = true;
    }
    if (sk.fin_queued && !sk.fin_sent && sk.sendq.empty()) {
        sk.fin_sent = true;
        send_flags(sk, Segment::fin | Segment::ack);
    }
    if (sent)
        wake(sk);
}

void TcpEngine::send_fin(TcpSock& sk)
{
    sk.fin_queued = true;
    push(sk);
}

void TcpEngine::wake(TcpSock& sk, uint32_t extra) { sk.wq.notify(poll(sk) | extra); }

void TcpEngine::drain()
{
    if (m_draining)
        return;
    m_draining = true;
    while (!m_wire.empty()) {
        Segment s = std::move(m_wire.front());
        m_wire.pop_front();
        deliver(s);
    }
    m_draining = false;
}

// --- tables -------------------------------------------------------------------

void TcpEngine::unhash(TcpSock& sk)
{
    if (!sk.hashed)
        return;
    auto it = m_established.find(sk.tuple);
    if (it != m_established.end() && it->second == &sk)
        m_established.erase(it);
    sk.hashed = false;
}

void TcpEngine::release_port(TcpSock& sk)
{
    if (sk.port != 0)
        m_core.tcp_ports.remove(sk);
    sk.connect_bound = false;
}

void TcpEngine::forget(TcpSock& sk)
{
    if (m_dying)
        return;
    unhash(sk);
    if (sk.listening) {
        auto it = m_listeners.find(sk.port);
        if (it != m_listeners.end()) {
            std::erase(it->second, &sk);
            if (it->second.empty())
                m_listeners.erase(it);
        }
    }
    release_port(sk);
}

void TcpEngine::purge()
{
    auto now = m_core.now();
    while (!m_tw_expiry.empty() && m_tw_expiry.front().first <= now) {
        auto [expiry, tuple] = m_tw_expiry.front();
        m_tw_expiry.pop_front();
        auto it = m_time_wait.find(tuple);
        if (it != m_time_wait.end() && it->second->expiry <= now)
            kill_time_wait(tuple);
    }
}

void TcpEngine::kill_time_wait(const FourTuple& t)
{
    auto it = m_time_wait.find(t);
    if (it == m_time_wait.end())
        return;
    m_core.tcp_ports.remove(*it->second);
    m_time_wait.erase(it);
}

size_t TcpEngine::live_endpoints()
{
    purge();
    return m_socks + m_time_wait.size();
}

// Whether a connection may use the 4-tuple `t`. A TIME_WAIT of the same pair
// gives way after a second, as Linux does for loopback traffic
// (net.ipv4.tcp_tw_reuse = 2, tcp_twsk_unique()).
bool TcpEngine::tuple_free(const FourTuple& t, bool take_old_time_wait)
{
    if (m_established.count(t))
        return false;
    auto it = m_time_wait.find(t);
    if (it == m_time_wait.end())
        return true;
    if (!take_old_time_wait || m_core.now() - it->second->start < std::chrono::seconds(1))
        return false;
    kill_time_wait(t);
    return true;
}

// Linux __inet_lookup_listener(): the best-scoring listener for the address (an
// exact address beats a wildcard); SO_REUSEPORT groups spread connections by a
// hash of the client's endpoint.
TcpSock* TcpEngine::lookup_listener(const FourTuple& t)
{
    auto it = m_listeners.find(t.local.port);
    if (it == m_listeners.end())
        return nullptr;
    std::vector<TcpSock*> best;
    int best_score = 0;
    for (TcpSock* l : it->second) {
        if (!l->accepts(t.local.addr))
            continue;
        int score = l->bound_addr.is_any() ? 1 : 3;
        if ((l->family == AF_INET) == t.local.addr.is_v4())
            ++score;
        if (score > best_score) {
            best.clear();
            best_score = score;
        }
        if (score == best_score)
            best.push_back(l);
    }
    if (best.empty())
        return nullptr;
    if (best.size() > 1 && best.front()->reuseport) {
        FourTuple key{t.remote, {}};
        return best[FourTupleHash{}(key) % best.size()];
    }
    return best.front();
}

// --- state changes ------------------------------------------------------------

// Linux tcp_set_state(): leaving for CLOSE unhashes the sock and gives back a port
// that bind() did not choose.
void TcpEngine::set_state(TcpSock& sk, TcpState st)
{
    TcpState old = sk.state;
    sk.state = st;
    if (st != TcpState::close)
        return;
    unhash(sk);
    if (old == TcpState::listen) {
        auto it = m_listeners.find(sk.port);
        if (it != m_listeners.end()) {
            std::erase(it->second, &sk);
            if (it->second.empty())
                m_listeners.erase(it);
        }
        sk.listening = false;
        listen_stop(sk);
    }
    if (!sk.port_locked)
        release_port(sk);
}

// Linux tcp_done().
void TcpEngine::done(TcpSock& sk)
{
    set_state(sk, TcpState::close);
    sk.shutdown_mask = k_shutdown_mask;
    if (sk.parent)
        std::erase_if(sk.parent->syn_recv, [&](auto& c) { return c.get() == &sk; });
    wake(sk, k_all_events);
    if (sk.orphan)
        m_orphans.erase(&sk); // callers hold a reference
}

// Linux tcp_reset(): the error a RST leaves depends on the state it hits.
void TcpEngine::reset(TcpSock& sk)
{
    int e;
    switch (sk.state) {
    case TcpState::syn_sent: e = ECONNREFUSED; break;
    case TcpState::close_wait: e = EPIPE; break;
    case TcpState::close: return;
    default: e = ECONNRESET; break;
    }
    sk.err = e;
    sk.sendq.clear();
    done(sk);
}

// Linux tcp_close_state(): the state after the user closes one direction, and
// whether a FIN goes out.
bool TcpEngine::close_state(TcpSock& sk)
{
    switch (sk.state) {
    case TcpState::established:
    case TcpState::syn_recv:
        set_state(sk, TcpState::fin_wait1);
        return true;
    case TcpState::close_wait:
        set_state(sk, TcpState::last_ack);
        return true;
    case TcpState::syn_sent:
    case TcpState::listen:
        set_state(sk, TcpState::close);
        return false;
    default:
        return false;
    }
}

// Linux tcp_disconnect(): back to a fresh CLOSE socket (connect(AF_UNSPEC),
// SO_LINGER 0, shutdown of a listener or a connecting socket, a failed connect).
void TcpEngine::disconnect(TcpSock& sk)
{
    TcpState old = sk.state;
    if (old != TcpState::close)
        set_state(sk, TcpState::close);
    if (old != TcpState::listen) {
        if (need_reset(old) || (sk.snd_nxt != sk.snd_una && (old == TcpState::closing || old == TcpState::last_ack))) {
            send_active_reset(sk);
            sk.err = ECONNRESET;
        } else if (old == TcpState::syn_sent) {
            sk.err = ECONNRESET;
        }
    }
    sk.recvq.clear();
    sk.sendq.clear();
    sk.fin_queued = sk.fin_sent = false;
    sk.shutdown_mask = 0;
    sk.done = false;
    if (!sk.addr_locked) {
        sk.tuple.local.addr = wildcard(sk);
        sk.bound_addr = sk.tuple.local.addr;
    }
    sk.tuple.remote = {};
    wake(sk, k_all_events);
}

// Linux inet_csk_listen_stop(): connections not yet accepted are reset, and so are
// the clients whose SYN waits for room.
void TcpEngine::listen_stop(TcpSock& sk)
{
    auto waiting = std::move(sk.waiting_syns);
    sk.waiting_syns.clear();
    for (auto& syn : waiting)
        send_reset_for(syn);
    std::vector<std::shared_ptr<TcpSock>> children(sk.syn_recv.begin(), sk.syn_recv.end());
    children.insert(children.end(), sk.accept_queue.begin(), sk.accept_queue.end());
    sk.syn_recv.clear();
    sk.accept_queue.clear();
    for (auto& c : children) {
        c->parent = nullptr;
        disconnect(*c);
    }
}

// Linux tcp_time_wait(): the connection's pair and port stay claimed for
// TCP_TIMEWAIT_LEN (or, for an orphan in FIN_WAIT2, tcp_fin_timeout) by a small
// entry; the sock itself is done.
void TcpEngine::enter_time_wait(TcpSock& sk, bool fin_wait2)
{
    auto keep = sk.shared_from_this();
    purge();
    if (m_time_wait.size() < k_max_tw_buckets) {
        kill_time_wait(sk.tuple);
        auto tw = std::make_unique<TimeWait>();
        tw->tuple = sk.tuple;
        tw->bound_addr = sk.tuple.local.addr;
        tw->v6only = sk.v6only;
        tw->reuseaddr = sk.reuseaddr;
        tw->reuseport = sk.reuseport;
        tw->connect_bound = sk.connect_bound;
        tw->start = m_core.now();
        tw->expiry = tw->start + (fin_wait2 ? k_fin_timeout : k_timewait_len);
        tw->fin_wait2 = fin_wait2;
        tw->snd_nxt = sk.snd_nxt;
        tw->rcv_nxt = sk.rcv_nxt;
        m_core.tcp_ports.add(*tw, sk.tuple.local.port);
        m_tw_expiry.emplace_back(tw->expiry, sk.tuple);
        m_time_wait.emplace(sk.tuple, std::move(tw));
    }
    done(sk);
}

// Linux tcp_timewait_state_process().
void TcpEngine::timewait_process(TimeWait& tw, const Segment& s)
{
    FourTuple t = tw.tuple;
    if (s.flags & Segment::rst) {
        kill_time_wait(t);
        return;
    }
    if (tw.fin_wait2) {
        // After a half-duplex close new data is answered with a reset; the peer's
        // FIN moves the entry on to TIME_WAIT proper.
        if (!s.data.empty()) {
            send_reset_for(s);
            kill_time_wait(t);
            return;
        }
        if (s.flags & Segment::fin) {
            tw.rcv_nxt = s.seq + 1;
            Segment a;
            a.from = t;
            a.seq = tw.snd_nxt;
            a.ack_seq = tw.rcv_nxt;
            a.flags = Segment::ack;
            transmit(std::move(a));
            tw.fin_wait2 = false;
            tw.expiry = m_core.now() + k_timewait_len;
            m_tw_expiry.emplace_back(tw.expiry, t);
        }
        return;
    }
    if ((s.flags & (Segment::syn | Segment::ack)) == Segment::syn) {
        // A new connection of the same pair: the TIME_WAIT gives way (TCP_TW_SYN).
        kill_time_wait(t);
        if (TcpSock* l = lookup_listener(t)) {
            auto keep = l->shared_from_this();
            conn_request(*l, s);
        } else {
            send_reset_for(s);
        }
    }
}

// --- receiving ----------------------------------------------------------------

// Linux tcp_v4_rcv(): established (and connecting) socks, then TIME_WAIT, then
// listeners; nobody answers with a reset.
void TcpEngine::deliver(Segment& s)
{
    FourTuple me = s.from.reversed();
    if (auto it = m_established.find(me); it != m_established.end()) {
        auto keep = it->second->shared_from_this();
        if (keep->state == TcpState::syn_sent)
            rcv_synsent(*keep, s);
        else
            rcv_state_process(*keep, s);
        return;
    }
    if (auto it = m_time_wait.find(me); it != m_time_wait.end()) {
        timewait_process(*it->second, s);
        return;
    }
    if ((s.flags & (Segment::syn | Segment::ack | Segment::rst)) == Segment::syn) {
        if (TcpSock* l = lookup_listener(me)) {
            auto keep = l->shared_from_this();
            conn_request(*l, s);
            return;
        }
    }
    send_reset_for(s);
}

// Linux tcp_conn_request(): a SYN to a listener whose accept queue is full
// (sk_acceptq_is_full(): more than `backlog` waiting) is dropped and the client
// retransmits; here the SYN waits on the listener until accept() makes room.
void TcpEngine::conn_request(TcpSock& l, const Segment& syn)
{
    if (l.accept_queue.size() > static_cast<size_t>(l.backlog)) {
        l.waiting_syns.push_back(syn);
        return;
    }
    auto c = std::make_shared<TcpSock>(*this, l.family);
    c->tuple = syn.from.reversed();
    c->bound_addr = c->tuple.local.addr;
    c->v6only = l.v6only;
    c->reuseaddr = l.reuseaddr;
    c->reuseport = l.reuseport;
    c->addr_locked = l.addr_locked;
    c->port_locked = l.port_locked;
    c->sndbuf = l.sndbuf;
    c->rcvbuf = l.rcvbuf;
    c->sndbuf_locked = l.sndbuf_locked;
    c->rcvbuf_locked = l.rcvbuf_locked;
    c->rcvlowat = l.rcvlowat;
    c->linger = l.linger;
    c->nodelay = l.nodelay;
    c->cork = l.cork;
    c->keepalive = l.keepalive;
    c->keepidle = l.keepidle;
    c->keepintvl = l.keepintvl;
    c->keepcnt = l.keepcnt;
    c->user_mss = l.user_mss;
    c->linger2 = l.linger2;
    c->user_timeout = l.user_timeout;
    c->congestion = l.congestion;
    c->ip = l.ip;
    c->conn = TcpSock::Conn::connected;
    m_core.tcp_ports.add(*c, c->tuple.local.port);
    c->state = TcpState::syn_recv;
    c->rcv_nxt = syn.seq + 1;
    c->snd_una = c->snd_nxt = (m_isn += 64000);
    c->snd_wnd_end = c->snd_nxt + 1 + syn.window;
    c->parent = &l;
    m_established[c->tuple] = c.get();
    c->hashed = true;
    l.syn_recv.push_back(c);
    send_flags(*c, Segment::syn | Segment::ack);
}

void TcpEngine::replay_waiting_syns(TcpSock& l)
{
    while (l.state == TcpState::listen && !l.waiting_syns.empty()
           && l.accept_queue.size() <= static_cast<size_t>(l.backlog)) {
        Segment syn = std::move(l.waiting_syns.front());
        l.waiting_syns.pop_front();
        auto it = m_established.find(syn.from);
        if (it == m_established.end() || it->second->state != TcpState::syn_sent || it->second->snd_nxt != syn.seq + 1)
            continue; // that client gave up
        conn_request(l, syn);
        drain();
    }
}

// Linux tcp_rcv_synsent_state_process().
void TcpEngine::rcv_synsent(TcpSock& sk, Segment& s)
{
    if (s.flags & Segment::ack) {
        if (s.ack_seq != sk.snd_nxt) {
            send_reset_for(s);
            return;
        }
        if (s.flags & Segment::rst) {
            reset(sk);
            return;
        }
    } else if (s.flags & Segment::rst) {
        return;
    }
    // A SYN without ACK would be a simultaneous open; connect() never picks a
    // pair that could lead to one (a socket connecting to itself).
    if ((s.flags & (Segment::syn | Segment::ack)) != (Segment::syn | Segment::ack))
        return;
    sk.rcv_nxt = s.seq + 1;
    sk.snd_una = s.ack_seq;
    sk.snd_wnd_end = s.ack_seq + s.window;
    set_state(sk, TcpState::established);
    send_flags(sk, Segment::ack);
    wake(sk, k_all_events);
}

// Linux tcp_ack(): the peer's acknowledgement and window; our FIN being acked moves
// the closing states on.
void TcpEngine::ack(TcpSock& sk, const Segment& s)
{
    if (after(s.ack_seq, sk.snd_nxt) || before(s.ack_seq, sk.snd_una))
        return;
    sk.snd_una = s.ack_seq;
    sk.snd_wnd_end = s.ack_seq + s.window;
    if (!sk.fin_sent || sk.snd_una != sk.snd_nxt)
        return;
    switch (sk.state) {
    case TcpState::fin_wait1:
        set_state(sk, TcpState::fin_wait2);
        wake(sk, k_all_events);
        // An orphan waits for the peer's FIN as a small FIN_WAIT2 entry, unless the
        // FIN (or data) rides on this very segment.
        if (sk.orphan && !(s.flags & Segment::fin) && s.data.empty())
            enter_time_wait(sk, true);
        break;
    case TcpState::closing: enter_time_wait(sk, false); break;
    case TcpState::last_ack: done(sk); break;
    default: break;
    }
}

// Linux tcp_rcv_state_process() for synchronized states.
void TcpEngine::rcv_state_process(TcpSock& sk, Segment& s)
{
    if (s.flags & Segment::rst) {
        reset(sk);
        return;
    }
    if ((s.flags & Segment::syn) || !(s.flags & Segment::ack))
        return; // a lossless wire sends no stray SYNs; segments without ACK are dropped
    if (sk.state == TcpState::syn_recv) {
        if (s.ack_seq != sk.snd_nxt) {
            send_reset_for(s);
            return;
        }
        set_state(sk, TcpState::established);
        if (TcpSock* l = sk.parent) {
            auto it = std::find_if(l->syn_recv.begin(), l->syn_recv.end(), [&](auto& c) { return c.get() == &sk; });
            if (it != l->syn_recv.end()) {
                l->accept_queue.push_back(std::move(*it));
                l->syn_recv.erase(it);
                wake(*l, POLLIN | POLLRDNORM);
            }
        }
    }
    ack(sk, s);
    if (!sk.hashed)
        return; // gone to TIME_WAIT or CLOSE
    bool need_ack = false;
    if (!s.data.empty()) {
        switch (sk.state) {
        case TcpState::close_wait:
        case TcpState::closing:
        case TcpState::last_ack:
            break; // past the peer's FIN: nothing new can come
        case TcpState::fin_wait1:
        case TcpState::fin_wait2:
            if (sk.shutdown_mask & k_rcv_shutdown) {
                // RFC 1122 4.2.2.13, as Linux: data for a socket that will never
                // read it (closed, or shut down both ways) resets the connection.
                reset(sk);
                send_reset_for(s);
                return;
            }
            [[fallthrough]];
        default:
            if (s.seq == sk.rcv_nxt) {
                sk.rcv_nxt += static_cast<uint32_t>(s.data.size());
                sk.recvq.append(std::move(s.data));
                need_ack = true;
            }
            break;
        }
    }
    bool fin = false;
    if ((s.flags & Segment::fin) && !sk.done) {
        switch (sk.state) {
        case TcpState::established:
        case TcpState::fin_wait1:
        case TcpState::fin_wait2:
            fin = true;
            break;
        default:
            break;
        }
    }
    if (fin) {
        // Linux tcp_fin().
        sk.rcv_nxt += 1;
        sk.done = true;
        sk.shutdown_mask |= k_rcv_shutdown;
        need_ack = true;
        if (sk.state == TcpState::established)
            set_state(sk, TcpState::close_wait);
        else if (sk.state == TcpState::fin_wait1)
            set_state(sk, TcpState::closing);
    }
    if (need_ack)
        send_flags(sk, Segment::ack);
    if (fin && sk.state == TcpState::fin_wait2) {
        enter_time_wait(sk, false);
        return;
    }
    wake(sk, fin ? k_all_events : 0);
    push(sk);
}

// --- the calls ------------------------------------------------------------------

namespace {

// tcp_v4_connect()/tcp_v6_connect() address checks; a wildcard destination is the
// loopback, as Linux routes it.
Result<ParsedAddr> parse_connect(int family, const Address& a, bool v4_mapped_socket)
{
    ParsedAddr p;
    if (family == AF_INET) {
        if (a.len < sizeof(sockaddr_in))
            return Errno(EINVAL);
        auto& sin = a.as<sockaddr_in>();
        if (sin.sin_family != AF_INET)
            return Errno(EAFNOSUPPORT);
        p = {IpAddr::from_v4(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
        if (p.addr.is_v4_any())
            p.addr = IpAddr::v4_loopback();
        return p;
    }
    if (a.len < 24)
        return Errno(EINVAL);
    auto& sin6 = a.as<sockaddr_in6>();
    if (sin6.sin6_family != AF_INET6)
        return Errno(EAFNOSUPPORT);
    p = {IpAddr::from_v6(sin6.sin6_addr), ntohs(sin6.sin6_port)};
    if (p.addr.is_v6_any())
        p.addr = v4_mapped_socket ? IpAddr::v4_loopback() : IpAddr::v6_loopback();
    else if (p.addr.is_v4_any())
        p.addr = IpAddr::v4_loopback();
    return p;
}

} // namespace

Result<SocketRef> TcpEngine::create_socket(std::shared_ptr<InetCore> core, int family, int file_flags)
{
    purge();
    auto sk = std::make_shared<TcpSock>(*this, family);
    return SocketRef(std::make_shared<TcpSocket>(std::move(core), std::move(sk), file_flags));
}

Result<void> TcpEngine::bind(TcpSock& sk, const Address& addr)
{
    purge();
    ParsedAddr p = TRY(parse_bind_address(sk.family, addr, sk.ip.v6only));
    if (sk.state != TcpState::close || sk.port != 0)
        return Errno(EINVAL);
    sk.bound_addr = p.addr;
    // Binding an AF_INET6 socket to a specific IPv6 address makes it v6-only.
    bool implied_v6only = sk.family == AF_INET6 && !p.addr.is_v4() && !p.addr.is_any();
    sk.v6only = sk.family == AF_INET6 && (sk.ip.v6only || implied_v6only);
    uint16_t port = p.port;
    if (port == 0) {
        auto picked = m_core.tcp_ports.pick([](uint16_t, auto* users) { return users == nullptr; });
        if (!picked) {
            sk.bound_addr = sk.tuple.local.addr;
            return Errno(EADDRINUSE);
        }
        port = *picked;
    } else if (m_core.tcp_ports.conflicts(sk, port)) {
        sk.bound_addr = sk.tuple.local.addr;
        return Errno(EADDRINUSE);
    }
    m_core.tcp_ports.add(sk, port);
    if (implied_v6only)
        sk.ip.v6only = true;
    sk.tuple.local = {p.addr, port};
    sk.addr_locked = !p.addr.is_any();
    sk.port_locked = p.port != 0;
    return {};
}

// Linux inet_listen() and inet_csk_listen_start(): the port is claimed again as a
// listener's (two sockets bound with SO_REUSEADDR cannot both listen); an
// unbound socket gets an ephemeral port.
Result<void> TcpEngine::listen(TcpSock& sk, int backlog)
{
    purge();
    if (sk.conn != TcpSock::Conn::unconnected)
        return Errno(EINVAL);
    if (sk.state != TcpState::close && sk.state != TcpState::listen)
        return Errno(EINVAL);
    if (static_cast<unsigned>(backlog) > static_cast<unsigned>(k_somaxconn))
        backlog = k_somaxconn;
    if (sk.state != TcpState::listen) {
        sk.v6only = sk.family == AF_INET6 && sk.ip.v6only;
        sk.listening = true;
        if (sk.port == 0) {
            auto picked = m_core.tcp_ports.pick([](uint16_t, auto* users) { return users == nullptr; });
            if (!picked) {
                sk.listening = false;
                return Errno(EADDRINUSE);
            }
            m_core.tcp_ports.add(sk, *picked);
            sk.tuple.local.port = *picked;
        } else if (m_core.tcp_ports.conflicts(sk, sk.port)) {
            sk.listening = false;
            return Errno(EADDRINUSE);
        }
        sk.state = TcpState::listen;
        m_listeners[sk.port].push_back(&sk);
    }
    sk.backlog = backlog;
    replay_waiting_syns(sk);
    drain();
    return {};
}

Result<std::shared_ptr<TcpSock>> TcpEngine::accept(TcpSock& sk)
{
    purge();
    if (sk.state != TcpState::listen)
        return Errno(EINVAL);
    if (sk.accept_queue.empty())
        return Errno(EAGAIN);
    auto c = std::move(sk.accept_queue.front());
    sk.accept_queue.pop_front();
    c->parent = nullptr;
    replay_waiting_syns(sk);
    drain();
    return c;
}

Result<void> TcpEngine::connect_start(TcpSock& sk, const IpAddr& dst, uint16_t dport)
{
    if (sk.family == AF_INET6) {
        bool bound_v4 = sk.addr_locked && sk.tuple.local.addr.is_v4();
        if (dst.is_v4()) {
            // tcp_v6_connect(): a v6-only socket (or one bound to an IPv6
            // address) has no route to IPv4.
            if (sk.ip.v6only || (sk.addr_locked && !bound_v4))
                return Errno(ENETUNREACH);
        } else if (bound_v4) {
            return Errno(EAFNOSUPPORT);
        }
    }
    IpAddr route_src = TRY(route_source(dst));
    IpAddr src = sk.addr_locked ? sk.tuple.local.addr : route_src;
    FourTuple t{{src, sk.port}, {dst, dport}};
    if (sk.port == 0) {
        // Linux __inet_hash_connect(): a port that only connect() uses may be
        // shared by connections to different peers.
        auto picked = m_core.tcp_ports.pick([&](uint16_t p, const std::vector<PortUser*>* users) {
            if (p == dport && src == dst)
                return false; // never a socket connected to itself
            if (users) {
                for (PortUser* u : *users)
                    if (!u->connect_bound)
                        return false;
            }
            t.local.port = p;
            return tuple_free(t, true);
        });
        if (!picked)
            return Errno(EADDRNOTAVAIL);
        sk.bound_addr = src;
        sk.connect_bound = true;
        m_core.tcp_ports.add(sk, *picked);
        t.local.port = *picked;
    } else {
        if (!tuple_free(t, true))
            return Errno(EADDRNOTAVAIL);
        sk.bound_addr = src;
    }
    sk.tuple = t;
    sk.v6only = sk.family == AF_INET6 && sk.ip.v6only;
    sk.done = false;
    sk.shutdown_mask = 0;
    m_established[sk.tuple] = &sk;
    sk.hashed = true;
    sk.state = TcpState::syn_sent;
    sk.snd_una = sk.snd_nxt = (m_isn += 64000);
    sk.snd_wnd_end = sk.snd_nxt;
    sk.rcv_nxt = 0;
    send_flags(sk, Segment::syn);
    return {};
}

// The end of Linux __inet_stream_connect() once the handshake has an outcome.
Result<void> TcpEngine::connect_finish(TcpSock& sk)
{
    if (synchronizing(sk.state))
        return Errno(EAGAIN);
    if (sk.state == TcpState::close) {
        int e = sk.err;
        sk.err = 0;
        sk.conn = TcpSock::Conn::unconnected;
        disconnect(sk);
        drain();
        return Errno(e ? e : ECONNABORTED);
    }
    sk.conn = TcpSock::Conn::connected;
    return {};
}

// Linux __inet_stream_connect(). A connect on loopback completes within the call
// (the wire is drained), but a nonblocking caller still sees EINPROGRESS as on
// Linux, where the SYN is processed after the call returns.
Result<void> TcpEngine::connect(TcpSock& sk, const Address& addr, bool nonblock)
{
    purge();
    if (addr.len < sizeof(sa_family_t))
        return Errno(EINVAL);
    if (addr.family() == AF_UNSPEC) {
        disconnect(sk);
        sk.conn = TcpSock::Conn::unconnected;
        drain();
        return {};
    }
    switch (sk.conn) {
    case TcpSock::Conn::connected:
        return Errno(EISCONN);
    case TcpSock::Conn::connecting:
        if (synchronizing(sk.state))
            return Errno(EALREADY);
        return connect_finish(sk);
    case TcpSock::Conn::unconnected:
        break;
    }
    if (sk.state != TcpState::close)
        return Errno(EISCONN);
    bool mapped_socket = sk.family == AF_INET6 && sk.addr_locked && sk.tuple.local.addr.is_v4();
    ParsedAddr p = TRY(parse_connect(sk.family, addr, mapped_socket));
    TRY(connect_start(sk, p.addr, p.port));
    sk.conn = TcpSock::Conn::connecting;
    drain();
    if (nonblock || synchronizing(sk.state))
        return Errno(EINPROGRESS);
    return connect_finish(sk);
}

Result<void> TcpEngine::connect_result(TcpSock& sk)
{
    purge();
    if (sk.conn == TcpSock::Conn::connecting)
        return connect_finish(sk);
    int e = sk.err;
    sk.err = 0;
    if (e)
        return Errno(e);
    return {};
}

// Linux tcp_sendmsg_locked(), with sk_stream_wait_connect() and sk_stream_error():
// a pending error is reported (and consumed) first, a socket that can no longer
// send gives EPIPE.
Result<size_t> TcpEngine::sendmsg(TcpSock& sk, std::span<const char> data, int)
{
    purge();
    auto fail = [&](int e) -> Errno {
        int pending = sk.err;
        sk.err = 0;
        return Errno(pending ? pending : e);
    };
    if (sk.state != TcpState::established && sk.state != TcpState::close_wait) {
        if (sk.err)
            return fail(0);
        if (!synchronizing(sk.state))
            return Errno(EPIPE);
        return Errno(EAGAIN);
    }
    if (sk.err || (sk.shutdown_mask & k_send_shutdown))
        return fail(EPIPE);
    if (data.empty())
        return size_t{0};
    size_t space = snd_space(sk);
    if (sk.sendq.size() >= space)
        return Errno(EAGAIN);
    size_t n = std::min(data.size(), space - sk.sendq.size());
    sk.sendq.append(data.first(n), k_mss);
    push(sk);
    drain();
    return n;
}

// Linux tcp_cleanup_rbuf(): after a read, announce the window when it has at least
// doubled and grown by a useful amount (receiver-side silly window avoidance).
void TcpEngine::window_changed(TcpSock& sk)
{
    if (sk.done || !(sk.state == TcpState::established || sk.state == TcpState::fin_wait1 || sk.state == TcpState::fin_wait2))
        return;
    uint32_t advertised = after(sk.rcv_adv_end, sk.rcv_nxt) ? sk.rcv_adv_end - sk.rcv_nxt : 0;
    size_t space = rcv_space(sk);
    size_t free = space > sk.recvq.size() ? space - sk.recvq.size() : 0;
    if (free >= 2 * static_cast<size_t>(advertised) && free - advertised >= std::min<size_t>(k_mss, space / 2)) {
        send_flags(sk, Segment::ack);
        drain();
    }
}

// Linux tcp_recvmsg_locked(): queued data first; then end of stream, a pending
// error, a shut down reading side, a never connected socket.
Result<size_t> TcpEngine::recvmsg(TcpSock& sk, const vfs::File::Sink& sink, size_t max, int flags)
{
    purge();
    if (sk.state == TcpState::listen)
        return Errno(ENOTCONN);
    if (flags & MSG_ERRQUEUE)
        return Errno(EAGAIN); // nothing is ever queued there
    if (flags & MSG_OOB)
        return Errno(EINVAL); // no urgent data (tcp_recv_urg())
    bool peek = flags & MSG_PEEK;
    if (!sk.recvq.empty()) {
        if (max == 0)
            return size_t{0};
        size_t n;
        if (flags & MSG_TRUNC) {
            // TCP's MSG_TRUNC discards instead of copying.
            n = std::min(max, sk.recvq.size());
            if (!peek)
                sk.recvq.drop(n);
        } else {
            n = sk.recvq.read(sink, max, peek);
        }
        if (!peek && n)
            window_changed(sk);
        return n;
    }
    if (sk.done)
        return size_t{0};
    if (sk.err) {
        int e = sk.err;
        sk.err = 0;
        return Errno(e);
    }
    if (sk.shutdown_mask & k_rcv_shutdown)
        return size_t{0};
    if (sk.state == TcpState::close)
        return Errno(ENOTCONN);
    return Errno(EAGAIN);
}

// Linux inet_shutdown() and tcp_shutdown().
Result<void> TcpEngine::shutdown(TcpSock& sk, int how)
{
    purge();
    if (how < SHUT_RD || how > SHUT_RDWR)
        return Errno(EINVAL);
    int mask = how + 1;
    Result<void> r;
    switch (sk.state) {
    case TcpState::close:
        r = Errno(ENOTCONN);
        sk.shutdown_mask |= mask;
        break;
    case TcpState::listen:
        if (!(mask & k_rcv_shutdown))
            break;
        [[fallthrough]];
    case TcpState::syn_sent:
        disconnect(sk);
        sk.conn = TcpSock::Conn::unconnected;
        break;
    default:
        sk.shutdown_mask |= mask;
        if ((mask & k_send_shutdown) && close_state(sk))
            send_fin(sk);
        break;
    }
    wake(sk, k_all_events);
    drain();
    return r;
}

// Linux tcp_close(): unread data or SO_LINGER with a zero timeout abort the
// connection with a RST; otherwise a FIN follows the queued data and the sock
// lives on as an orphan until the connection is over.
void TcpEngine::close(TcpSock& sk)
{
    purge();
    auto keep = sk.shared_from_this();
    sk.shutdown_mask = k_shutdown_mask;
    if (sk.state == TcpState::listen) {
        set_state(sk, TcpState::close);
        drain();
        return;
    }
    size_t unread = sk.recvq.size();
    sk.recvq.clear();
    if (sk.state == TcpState::close) {
        // nothing to tell anyone
    } else if (unread) {
        send_active_reset(sk);
        set_state(sk, TcpState::close);
    } else if (sk.linger.l_onoff && sk.linger.l_linger == 0) {
        disconnect(sk);
    } else if (close_state(sk)) {
        send_fin(sk);
    }
    if (sk.state != TcpState::close) {
        sk.orphan = true;
        m_orphans[&sk] = keep;
        if (sk.state == TcpState::fin_wait2)
            enter_time_wait(sk, true);
    }
    drain();
}

// Linux tcp_poll().
uint32_t TcpEngine::poll(const TcpSock& sk) const
{
    if (sk.state == TcpState::listen)
        return sk.accept_queue.empty() ? 0 : POLLIN | POLLRDNORM;
    uint32_t mask = 0;
    if (sk.shutdown_mask == k_shutdown_mask || sk.state == TcpState::close)
        mask |= POLLHUP;
    if (sk.shutdown_mask & k_rcv_shutdown)
        mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (!synchronizing(sk.state)) {
        size_t target = static_cast<size_t>(std::max(sk.rcvlowat, 1));
        if (sk.recvq.size() >= target || (!sk.recvq.empty() && sk.done))
            mask |= POLLIN | POLLRDNORM;
        if (!(sk.shutdown_mask & k_send_shutdown)) {
            if (stream_writeable(sk))
                mask |= POLLOUT | POLLWRNORM;
        } else {
            mask |= POLLOUT | POLLWRNORM;
        }
    }
    if (sk.err)
        mask |= POLLERR;
    return mask;
}

// --- the file -----------------------------------------------------------------

TcpSocket::TcpSocket(std::shared_ptr<InetCore> core, std::shared_ptr<TcpSock> sk, int flags)
    : Socket(flags), m_core(std::move(core)), m_sk(std::move(sk))
{
    m_sndbuf = m_sk->sndbuf;
    m_rcvbuf = m_sk->rcvbuf;
    m_reuseaddr = m_sk->reuseaddr;
    m_reuseport = m_sk->reuseport;
    m_keepalive = m_sk->keepalive;
    m_linger = m_sk->linger;
    m_rcvlowat = m_sk->rcvlowat;
}

TcpSocket::~TcpSocket()
{
    m_host.reset();
    m_core->tcp->close(*m_sk);
}

// A host-backed socket is connected or connecting: Linux inet_bind() and
// inet_listen() refuse both (EINVAL), and so does accept() on a non-listener.
Result<void> TcpSocket::bind(const Address& addr, const Cred&)
{
    if (m_host)
        return Errno(EINVAL);
    return m_core->tcp->bind(*m_sk, addr);
}

Result<void> TcpSocket::listen(int backlog)
{
    if (m_host)
        return Errno(EINVAL);
    TRY(m_core->tcp->listen(*m_sk, backlog));
    m_listening = true;
    return {};
}

Result<std::shared_ptr<Socket>> TcpSocket::accept(int file_flags)
{
    if (m_host)
        return Errno(EINVAL);
    auto c = TRY(m_core->tcp->accept(*m_sk));
    return std::shared_ptr<Socket>(std::make_shared<TcpSocket>(m_core, std::move(c), file_flags & O_NONBLOCK));
}

// In network mode "host", a fresh socket's connect() to an address outside the
// sandbox opens a host connection (a socket bound to a loopback address has no
// route there, as in loopback mode). The host connect never blocks: a blocking
// caller gets EINPROGRESS here and the syscall layer parks it until
// connect_result() has the outcome.
Result<void> TcpSocket::connect(const Address& addr, const Cred&, bool nonblock)
{
    if (m_host)
        return host_connect_again(addr, nonblock);
    TcpSock& sk = *m_sk;
    if (m_core->mode == NetworkMode::host && addr.family() != AF_UNSPEC && sk.state == TcpState::close
        && sk.conn == TcpSock::Conn::unconnected && !sk.addr_locked) {
        auto p = parse_connect(sk.family, addr, false);
        if (!p.is_error() && !p.value().addr.is_loopback()) {
            // tcp_v6_connect(): a v6-only socket has no route to IPv4.
            if (sk.family == AF_INET6 && p.value().addr.is_v4() && sk.ip.v6only)
                return Errno(ENETUNREACH);
            return connect_host({p.value().addr, p.value().port});
        }
    }
    return m_core->tcp->connect(sk, addr, nonblock);
}

Result<void> TcpSocket::connect_host(const IpEndpoint& dst)
{
    auto h = TRY(HostSocket::open(m_sk->family, SOCK_STREAM, dst.addr, m_sk->wq));
    apply_options(*h);
    auto r = h->connect(dst);
    if (r.is_error() && r.error() != Errno(EINPROGRESS))
        return r; // refused at once (ENETUNREACH, EACCES...): the socket stays fresh
    m_host = std::move(h);
    return r;
}

// connect() on a host-backed socket: the host answers (EALREADY, EISCONN, the
// outcome of a nonblocking handshake) as Linux __inet_stream_connect() does. Once
// the host socket is back to CLOSE after a failure, the socket is a fresh one
// again, free to connect inside the sandbox.
Result<void> TcpSocket::host_connect_again(const Address& addr, bool)
{
    if (addr.len < sizeof(sa_family_t))
        return Errno(EINVAL);
    if (addr.family() == AF_UNSPEC) {
        // Linux tcp_disconnect(): the connection is aborted with a RST.
        drop_host(true);
        return {};
    }
    ParsedAddr p = TRY(parse_connect(m_sk->family, addr, false));
    int st = m_host->tcp_state();
    if (p.addr.is_loopback()) {
        if (st == TCP_CLOSE) {
            drop_host(false);
            return m_core->tcp->connect(*m_sk, addr, false);
        }
        return Errno(st == TCP_SYN_SENT ? EALREADY : EISCONN);
    }
    auto r = m_host->connect(IpEndpoint{p.addr, p.port});
    if (r.is_error() && m_host->tcp_state() == TCP_CLOSE) {
        auto e = r.error();
        if (e != Errno(EINPROGRESS) && e != Errno(EALREADY) && e != Errno(EISCONN))
            drop_host(false);
    }
    return r;
}

Result<void> TcpSocket::connect_result()
{
    if (!m_host)
        return m_core->tcp->connect_result(*m_sk);
    auto r = m_host->connect_result();
    // A blocking connect that failed leaves an unconnected socket (Linux
    // __inet_stream_connect(): sock_error, then disconnect).
    if (r.is_error() && r.error() != Errno(EAGAIN))
        drop_host(false);
    return r;
}

void TcpSocket::drop_host(bool abort)
{
    if (abort) {
        struct linger l {1, 0};
        m_host->apply(SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    m_host.reset();
    m_sk->wq.notify(k_all_events);
}

// What the guest set before connect(), where the host connection can use it.
// Failures are ignored: the guest was told yes already.
void TcpSocket::apply_options(HostSocket& h)
{
    const TcpSock& sk = *m_sk;
    // The stored sizes are doubled (Socket::setsockopt); the host doubles again.
    if (sk.sndbuf_locked)
        h.apply(SOL_SOCKET, SO_SNDBUF, static_cast<int>(sk.sndbuf / 2));
    if (sk.rcvbuf_locked)
        h.apply(SOL_SOCKET, SO_RCVBUF, static_cast<int>(sk.rcvbuf / 2));
    if (sk.keepalive)
        h.apply(SOL_SOCKET, SO_KEEPALIVE, 1);
    if (sk.linger.l_onoff && sk.linger.l_linger == 0)
        h.apply(SOL_SOCKET, SO_LINGER, &sk.linger, sizeof sk.linger);
    if (sk.rcvlowat != 1)
        h.apply(SOL_SOCKET, SO_RCVLOWAT, sk.rcvlowat);
    if (sk.nodelay)
        h.apply(IPPROTO_TCP, TCP_NODELAY, 1);
    if (sk.cork)
        h.apply(IPPROTO_TCP, TCP_CORK, 1);
    if (sk.keepidle != 7200)
        h.apply(IPPROTO_TCP, TCP_KEEPIDLE, sk.keepidle);
    if (sk.keepintvl != 75)
        h.apply(IPPROTO_TCP, TCP_KEEPINTVL, sk.keepintvl);
    if (sk.keepcnt != 9)
        h.apply(IPPROTO_TCP, TCP_KEEPCNT, sk.keepcnt);
    if (sk.user_mss)
        h.apply(IPPROTO_TCP, TCP_MAXSEG, sk.user_mss);
    if (sk.syncnt != 6)
        h.apply(IPPROTO_TCP, TCP_SYNCNT, sk.syncnt);
    if (sk.user_timeout)
        h.apply(IPPROTO_TCP, TCP_USER_TIMEOUT, sk.user_timeout);
    if (sk.window_clamp)
        h.apply(IPPROTO_TCP, TCP_WINDOW_CLAMP, sk.window_clamp);
    if (sk.notsent_lowat != -1)
        h.apply(IPPROTO_TCP, TCP_NOTSENT_LOWAT, sk.notsent_lowat);
    if (sk.congestion != "cubic")
        h.apply(IPPROTO_TCP, TCP_CONGESTION, sk.congestion.data(), static_cast<socklen_t>(sk.congestion.size()));
    if (h.host_family() == AF_INET) {
        if (sk.ip.tos)
            h.apply(IPPROTO_IP, IP_TOS, sk.ip.tos);
        if (sk.ip.ttl != -1)
            h.apply(IPPROTO_IP, IP_TTL, sk.ip.ttl);
    } else {
        if (sk.ip.tclass)
            h.apply(IPPROTO_IPV6, IPV6_TCLASS, sk.ip.tclass);
        if (sk.ip.unicast_hops != -1)
            h.apply(IPPROTO_IPV6, IPV6_UNICAST_HOPS, sk.ip.unicast_hops);
        if (sk.ip.v6only)
            h.apply(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    }
}

Result<size_t> TcpSocket::send(std::span<const char> data, SendOptions& opt)
{
    if (m_host)
        return m_host->send(data, opt.flags, nullptr);
    // Linux tcp_sendmsg() ignores a destination address on a stream socket.
    return m_core->tcp->sendmsg(*m_sk, data, opt.flags);
}

Result<size_t> TcpSocket::recv(const Sink& sink, size_t max, RecvOptions& opt)
{
    if (m_host)
        return m_host->recv(sink, max, opt.flags, nullptr, nullptr, nullptr);
    return m_core->tcp->recvmsg(*m_sk, sink, max, opt.flags);
}

Result<void> TcpSocket::shutdown(int how)
{
    if (!m_host)
        return m_core->tcp->shutdown(*m_sk, how);
    auto r = m_host->shutdown(how);
    m_sk->wq.notify(m_host->poll_events());
    return r;
}

// Linux inet_getname()/inet6_getname(). A host-backed socket shows the host
// connection's names, as the guest would see them natively.
Result<Address> TcpSocket::local_name()
{
    if (m_host)
        return name_of(m_sk->family, TRY(m_host->local_endpoint()));
    return name_of(m_sk->family, m_sk->tuple.local);
}

Result<Address> TcpSocket::peer_name()
{
    if (m_host)
        return name_of(m_sk->family, TRY(m_host->peer_endpoint()));
    auto st = m_sk->state;
    if (st == TcpState::close || st == TcpState::syn_sent || st == TcpState::listen || m_sk->tuple.remote.port == 0)
        return Errno(ENOTCONN);
    return name_of(m_sk->family, m_sk->tuple.remote);
}

uint32_t TcpSocket::poll_events() { return m_host ? m_host->poll_events() : m_core->tcp->poll(*m_sk); }

// SIOCINQ: bytes ready to read; a listener has none to give (EINVAL).
Result<int> TcpSocket::bytes_readable()
{
    if (m_host)
        return m_host->bytes_readable();
    if (m_sk->state == TcpState::listen)
        return Errno(EINVAL);
    return static_cast<int>(std::min<size_t>(m_sk->recvq.size(), INT32_MAX));
}

Result<void> TcpSocket::setsockopt(int level, int name, std::span<const char> value)
{
    TcpSock& sk = *m_sk;
    if (m_host) {
        // Kept here: timeouts (the syscall layer's), and a lingering close, which
        // would block the sentry in close(2) on the host socket.
        if (level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD || name == SO_LINGER)) {
            TRY(Socket::setsockopt(level, name, value));
            if (name == SO_LINGER && !(m_linger.l_onoff && m_linger.l_linger > 0))
                m_host->apply(SOL_SOCKET, SO_LINGER, &m_linger, sizeof m_linger);
            return {};
        }
        // An AF_INET6 guest socket on an AF_INET host socket keeps its IPv6 options.
        if (level == IPPROTO_IPV6 && m_host->host_family() != AF_INET6)
            return sk.ip.set(sk.family, SOCK_STREAM, true, level, name, value);
        return m_host->setsockopt(level, name, value);
    }
    switch (level) {
    case SOL_SOCKET:
        TRY(Socket::setsockopt(level, name, value));
        switch (name) {
        case SO_SNDBUF:
            sk.sndbuf = m_sndbuf;
            sk.sndbuf_locked = true;
            sk.wq.notify(m_core->tcp->poll(sk));
            break;
        case SO_RCVBUF:
            sk.rcvbuf = m_rcvbuf;
            sk.rcvbuf_locked = true;
            m_core->tcp->window_changed(sk);
            break;
        case SO_REUSEADDR: sk.reuseaddr = m_reuseaddr; break;
        case SO_REUSEPORT: sk.reuseport = m_reuseport; break;
        case SO_KEEPALIVE: sk.keepalive = m_keepalive; break;
        case SO_LINGER: sk.linger = m_linger; break;
        case SO_RCVLOWAT: sk.rcvlowat = m_rcvlowat; break;
        default: break;
        }
        return {};
    case IPPROTO_TCP:
        return set_tcp_option(name, value);
    case IPPROTO_IP:
    case IPPROTO_IPV6:
        return sk.ip.set(sk.family, SOCK_STREAM, sk.port != 0, level, name, value);
    default:
        return Errno(ENOPROTOOPT);
    }
}

Result<std::vector<char>> TcpSocket::getsockopt(int level, int name, socklen_t room)
{
    TcpSock& sk = *m_sk;
    if (m_host) {
        if (level == SOL_SOCKET
            && (name == SO_TYPE || name == SO_DOMAIN || name == SO_PROTOCOL || name == SO_LINGER
                || name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD))
            return Socket::getsockopt(level, name, room);
        if (level == IPPROTO_IPV6 && m_host->host_family() != AF_INET6)
            return sk.ip.get(sk.family, SOCK_STREAM, level, name, room);
        return m_host->getsockopt(level, name, room);
    }
    switch (level) {
    case SOL_SOCKET:
        if (name == SO_ERROR) {
            int e = sk.err;
            sk.err = 0;
            return option_int_bytes(e, room);
        }
        if (name == SO_ACCEPTCONN)
            return option_int_bytes(sk.state == TcpState::listen, room);
        return Socket::getsockopt(level, name, room);
    case IPPROTO_TCP:
        return get_tcp_option(name, room);
    default:
        // IP, IPv6, and the answer for any other level (ip_getsockopt()/ipv6_getsockopt()).
        return sk.ip.get(sk.family, SOCK_STREAM, level, name, room);
    }
}

// Compare Linux do_tcp_setsockopt(): an int is required (EINVAL otherwise) and the
// ranges are Linux's. Nagle and corking have no effect here: every send is pushed
// onto the wire at once.
Result<void> TcpSocket::set_tcp_option(int name, std::span<const char> value)
{
    TcpSock& sk = *m_sk;
    if (name == TCP_CONGESTION) {
        std::string want(value.data(), strnlen(value.data(), std::min<size_t>(value.size(), 16)));
        if (want != "cubic" && want != "reno")
            return Errno(ENOENT);
        sk.congestion = want;
        return {};
    }
    int v = TRY(option_int(value));
    switch (name) {
    case TCP_NODELAY: sk.nodelay = v != 0; return {};
    case TCP_CORK: sk.cork = v != 0; return {};
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL
            return Errno(EINVAL);
        (name == TCP_KEEPIDLE ? sk.keepidle : sk.keepintvl) = v;
        return {};
    case TCP_KEEPCNT:
        if (v < 1 || v > 127) // MAX_TCP_KEEPCNT
            return Errno(EINVAL);
        sk.keepcnt = v;
        return {};
    case TCP_MAXSEG:
        if (v && (v < 88 || v > 32767)) // TCP_MIN_MSS, MAX_TCP_WINDOW
            return Errno(EINVAL);
        sk.user_mss = v;
        return {};
    case TCP_SYNCNT:
        if (v < 1 || v > 127) // MAX_TCP_SYNCNT
            return Errno(EINVAL);
        sk.syncnt = v;
        return {};
    case TCP_LINGER2:
        sk.linger2 = v < 0 ? -1 : v == 0 ? 60 : std::min(v, 120); // TCP_FIN_TIMEOUT_MAX
        return {};
    case TCP_DEFER_ACCEPT: sk.defer_accept = std::max(v, 0); return {};
    case TCP_WINDOW_CLAMP:
        if (v == 0) {
            if (sk.state != TcpState::close)
                return Errno(EINVAL);
            sk.window_clamp = 0;
        } else {
            sk.window_clamp = std::max(v, 1152); // SOCK_MIN_RCVBUF / 2
        }
        return {};
    case TCP_QUICKACK: sk.quickack = v != 0; return {};
    case TCP_USER_TIMEOUT:
        if (v < 0)
            return Errno(EINVAL);
        sk.user_timeout = v;
        return {};
    case TCP_NOTSENT_LOWAT: sk.notsent_lowat = v; return {};
    case TCP_FASTOPEN: sk.fastopen = v; return {};
    case TCP_FASTOPEN_CONNECT:
    case TCP_THIN_LINEAR_TIMEOUTS:
    case TCP_THIN_DUPACK:
    case TCP_SAVE_SYN:
        return {}; // accepted, no effect on a lossless wire
    default:
        return Errno(ENOPROTOOPT);
    }
}

Result<std::vector<char>> TcpSocket::get_tcp_option(int name, socklen_t room)
{
    TcpSock& sk = *m_sk;
    bool unconnected = sk.state == TcpState::close || sk.state == TcpState::listen;
    int v = 0;
    switch (name) {
    case TCP_NODELAY: v = sk.nodelay; break;
    case TCP_CORK: v = sk.cork; break;
    case TCP_KEEPIDLE: v = sk.keepidle; break;
    case TCP_KEEPINTVL: v = sk.keepintvl; break;
    case TCP_KEEPCNT: v = sk.keepcnt; break;
    case TCP_MAXSEG:
        // Before a connection: what the user set, else TCP_MSS_DEFAULT; then the
        // loopback MSS (Linux may show less at first: it bounds the MSS by half
        // the largest window seen so far).
        if (unconnected)
            v = sk.user_mss ? sk.user_mss : static_cast<int>(TcpEngine::k_default_mss);
        else
            v = sk.user_mss ? std::min<int>(sk.user_mss, TcpEngine::k_mss) : static_cast<int>(TcpEngine::k_mss);
        break;
    case TCP_SYNCNT: v = sk.syncnt; break;
    case TCP_LINGER2: v = sk.linger2; break;
    case TCP_DEFER_ACCEPT: v = sk.defer_accept; break;
    case TCP_WINDOW_CLAMP: v = sk.window_clamp; break;
    case TCP_QUICKACK: v = sk.quickack; break;
    case TCP_USER_TIMEOUT: v = sk.user_timeout; break;
    case TCP_NOTSENT_LOWAT: v = sk.notsent_lowat; break;
    case TCP_FASTOPEN: v = sk.fastopen; break;
    case TCP_FASTOPEN_CONNECT: case TCP_THIN_LINEAR_TIMEOUTS: case TCP_THIN_DUPACK: case TCP_SAVE_SYN: v = 0; break;
    case TCP_CONGESTION: {
        char buf[16] = {};
        std::memcpy(buf, sk.congestion.data(), std::min<size_t>(sk.congestion.size(), sizeof buf));
        return option_bytes(buf, sizeof buf, room);
    }
    case TCP_INFO: {
        // The fields glibc's struct tcp_info declares (Linux's is longer; a caller
        // gets min(its length, this one), as Linux cuts to the caller's).
        tcp_info ti{};
        ti.tcpi_state = static_cast<uint8_t>(sk.state);
        if (!unconnected) {
            ti.tcpi_options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE;
            ti.tcpi_snd_wscale = 7;
            ti.tcpi_rcv_wscale = 7;
            ti.tcpi_snd_mss = TcpEngine::k_mss;
            ti.tcpi_rcv_mss = TcpEngine::k_mss;
            ti.tcpi_advmss = TcpEngine::k_mss;
        } else {
            ti.tcpi_snd_mss = TcpEngine::k_default_mss;
            ti.tcpi_rcv_mss = TcpEngine::k_default_mss;
        }
        ti.tcpi_rto = 200000;
        ti.tcpi_ato = 40000;
        ti.tcpi_pmtu = 65535;
        ti.tcpi_rcv_ssthresh = static_cast<uint32_t>(TcpEngine::rcv_space(sk));
        ti.tcpi_rtt = 20;
        ti.tcpi_rttvar = 10;
        ti.tcpi_snd_ssthresh = 0x7fffffff; // TCP_INFINITE_SSTHRESH
        ti.tcpi_snd_cwnd = 10;
        ti.tcpi_reordering = 3;
        ti.tcpi_rcv_space = static_cast<uint32_t>(TcpEngine::rcv_space(sk));
        return option_bytes(&ti, sizeof ti, room);
    }
    default:
        return Errno(ENOPROTOOPT);
    }
    return option_int_bytes(v, room);
}

} // namespace sentry::netstack
