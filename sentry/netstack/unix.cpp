#include "sentry/netstack/unix.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

namespace sentry::netstack {

namespace {

constexpr size_t k_max_dgram_qlen = 10; // net.unix.max_dgram_qlen
constexpr socklen_t k_path_off = offsetof(struct sockaddr_un, sun_path);

bool is_abstract(const Address& a) { return a.len > k_path_off && a.raw.ss_family == AF_UNIX && a.as<sockaddr_un>().sun_path[0] == 0; }

Address unnamed()
{
    Address a;
    a.raw.ss_family = AF_UNIX;
    a.len = sizeof(sa_family_t);
    return a;
}

bool same_cred(const Cred& a, const Cred& b) { return a.pid == b.pid && a.uid == b.uid && a.gid == b.gid; }

} // namespace

// --- names ---

std::string UnixNamespace::key(const Address& a)
{
    if (is_abstract(a))
        return "a" + std::string(a.as<sockaddr_un>().sun_path, a.len - k_path_off);
    if (a.inode)
        return fmt::format("i{}:{}", a.inode->dev, a.inode->ino);
    return {};
}

std::shared_ptr<UnixSocket> UnixNamespace::find(const Address& name) const
{
    auto k = key(name);
    if (k.empty())
        return nullptr;
    auto it = m_names.find(k);
    return it == m_names.end() ? nullptr : it->second.lock();
}

bool UnixNamespace::taken(const Address& name) const { return find(name) != nullptr; }

void UnixNamespace::add(const Address& name, const std::shared_ptr<UnixSocket>& s) { m_names[key(name)] = s; }

void UnixNamespace::remove(const Address& name, const UnixSocket* s)
{
    auto it = m_names.find(key(name));
    if (it == m_names.end())
        return;
    auto held = it->second.lock();
    if (!held || held.get() == s)
        m_names.erase(it);
}

Address UnixNamespace::autobind_name()
{
    // Linux unix_autobind(): "\0" and five hex digits, the first free one.
    for (unsigned tries = 0; tries <= 0xfffff; ++tries) {
        auto name = fmt::format("{:05x}", m_next_auto++ & 0xfffff);
        Address a;
        a.raw.ss_family = AF_UNIX;
        auto& sun = reinterpret_cast<sockaddr_un&>(a.raw);
        sun.sun_path[0] = 0;
        std::memcpy(sun.sun_path + 1, name.data(), 5);
        a.len = k_path_off + 6;
        if (!taken(a))
            return a;
    }
    return {};
}

void UnixNamespace::collect()
{
    if (m_collecting || in_flight.empty())
        return;
    m_collecting = true;
    // Candidates: every reference is an in-flight message.
    std::unordered_set<UnixSocket*> cand;
    for (auto* s : in_flight)
        if (static_cast<size_t>(s->weak_from_this().use_count()) == s->m_inflight) {
            cand.insert(s);
            s->m_gc_refs = s->m_inflight;
        }
    auto each_child = [&](UnixSocket* s, auto&& fn) {
        for (auto& m : s->m_rx)
            for (auto& f : m.rights)
                if (auto* u = dynamic_cast<UnixSocket*>(f.get()); u && cand.count(u))
                    fn(u);
    };
    for (auto* c : cand)
        each_child(c, [](UnixSocket* u) { --u->m_gc_refs; });
    // What is still referenced from outside the candidates is alive, and so is
    // everything in its queue.
    std::vector<UnixSocket*> stack;
    std::unordered_set<UnixSocket*> alive;
    for (auto* c : cand)
        if (c->m_gc_refs > 0 && alive.insert(c).second)
            stack.push_back(c);
    while (!stack.empty()) {
        auto* c = stack.back();
        stack.pop_back();
        each_child(c, [&](UnixSocket* u) {
            if (alive.insert(u).second)
                stack.push_back(u);
        });
    }
    // Empty the garbage's queues; dropping them (after the walk) frees the cycle.
    std::vector<std::deque<UnixSocket::Message>> dropped;
    std::vector<std::shared_ptr<UnixSocket>> keep;
    for (auto* c : cand) {
        if (alive.count(c))
            continue;
        keep.push_back(c->self());
        dropped.push_back(std::move(c->m_rx));
        c->m_rx.clear();
        c->m_rx_bytes = 0;
    }
    for (auto& q : dropped)
        for (auto& m : q)
            UnixSocket::rights_out(m.rights);
    dropped.clear();
    keep.clear();
    m_collecting = false;
}

// --- sockets ---

void UnixSocket::rights_in(std::vector<vfs::FileRef>& rights)
{
    for (auto& f : rights)
        if (auto* u = dynamic_cast<UnixSocket*>(f.get()); u && u->m_inflight++ == 0)
            u->m_ns->in_flight.insert(u);
}

void UnixSocket::rights_out(std::vector<vfs::FileRef>& rights)
{
    for (auto& f : rights)
        if (auto* u = dynamic_cast<UnixSocket*>(f.get()); u && --u->m_inflight == 0)
            u->m_ns->in_flight.erase(u);
}

UnixSocket::UnixSocket(std::shared_ptr<UnixNamespace> ns, int type, int flags)
    : Socket(flags)
    , m_ns(std::move(ns))
    , m_type(type)
{
    ++m_ns->live_sockets;
}

UnixSocket::~UnixSocket()
{
    release();
    --m_ns->live_sockets;
}

std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> UnixSocket::make_pair(
    std::shared_ptr<UnixNamespace> ns, int type, int flags, const Cred& cred)
{
    auto a = std::make_shared<UnixSocket>(ns, type, flags);
    auto b = std::make_shared<UnixSocket>(ns, type, flags);
    a->m_state = b->m_state = State::connected;
    a->m_peer = b;
    b->m_peer = a;
    a->m_peercred = b->m_peercred = cred; // Linux unix_socketpair(): the creator's
    return {a, b};
}

void UnixSocket::release_message(Message& m)
{
    consumed(m, m.remaining());
    rights_out(m.rights);
    m.rights.clear();
}

void UnixSocket::release(bool embryo)
{
    if (m_dead)
        return;
    m_dead = true;
    if (m_name) {
        m_ns->remove(*m_name, this);
        if (m_node_fd >= 0)
            ::close(m_node_fd);
        m_node_fd = -1;
    }
    bool unread = !m_rx.empty();
    if (auto peer = m_peer.lock(); peer && connection_oriented()) {
        peer->m_shutdown = k_shutdown_mask;
        if (unread || embryo)
            peer->m_error = ECONNRESET;
        peer->m_wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
    }
    // Files in flight die with the queue that held them (their own release may
    // reach other sockets: take the queue out first).
    auto rx = std::move(m_rx);
    m_rx.clear();
    m_rx_bytes = 0;
    for (auto& m : rx)
        release_message(m);
    auto embryos = std::move(m_accept_queue);
    m_accept_queue.clear();
    for (auto& e : embryos)
        e->release(true);
    m_state = State::unconnected;
    m_wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
    m_ns->collect();
}

// Queue `data` at `to` as one message from this socket: the credentials (given or
// the sender's), the files of the control data (taken from it), the sender's name,
// and the bytes charged to this socket until they are read.
void UnixSocket::post(UnixSocket& to, std::span<const char> data, SendOptions& opt)
{
    Message m;
    m.data.assign(data.begin(), data.end());
    m.cred = opt.control && opt.control->creds ? *opt.control->creds : opt.cred;
    if (opt.control) {
        m.rights = std::move(opt.control->rights);
        opt.control->rights.clear();
        opt.control->creds.reset();
    }
    m.from = m_name;
    m.sender = self();
    m_wmem += data.size();
    to.enqueue(std::move(m));
}

void UnixSocket::enqueue(Message m)
{
    rights_in(m.rights);
    m_rx_bytes += m.remaining();
    m_rx.push_back(std::move(m));
    m_wq.notify(POLLIN);
}

// `n` bytes of `m` were read (or dropped): the sender may write them again.
void UnixSocket::consumed(Message& m, size_t n)
{
    m_rx_bytes -= std::min(n, m_rx_bytes);
    if (auto s = m.sender.lock()) {
        s->m_wmem -= std::min(n, s->m_wmem);
        s->m_wq.notify(POLLOUT);
    }
}

// Linux unix_copy_addr(): the sender's name as it is now (it may have bound since
// it sent), kept with the message if the sender is gone.
std::optional<Address> UnixSocket::sender_name(const Message& m)
{
    if (auto sender = m.sender.lock())
        return sender->m_name;
    return m.from;
}

Result<std::shared_ptr<UnixSocket>> UnixSocket::lookup(const Address& addr)
{
    auto other = m_ns->find(addr);
    if (!other || other->m_dead)
        return Errno(ECONNREFUSED);
    if (other->m_type != m_type)
        return Errno(EPROTOTYPE);
    return other;
}

// Compare Linux unix_bind(): a bare family autobinds; a bound socket cannot be
// bound again (EINVAL); a taken name is EADDRINUSE.
Result<void> UnixSocket::bind(const Address& addr, const Cred& cred)
{
    m_bind_cred = cred;
    if (addr.len == k_path_off && addr.family() == AF_UNIX) {
        if (m_name)
            return {};
        auto a = m_ns->autobind_name();
        if (a.len == 0)
            return Errno(ENOSPC);
        m_name = a;
        m_ns->add(a, self());
        return {};
    }
    // A pathname name arrives with its NUL counted (one past a full sun_path).
    size_t max_len = sizeof(sockaddr_un) + (addr.inode ? 1 : 0);
    if (addr.len <= k_path_off || addr.len > max_len || addr.family() != AF_UNIX)
        return Errno(EINVAL);
    if (m_name)
        return Errno(EINVAL);
    if (is_abstract(addr)) {
        if (m_ns->taken(addr))
            return Errno(EADDRINUSE);
    } else if (!addr.inode) {
        return Errno(EINVAL);
    }
    m_name = addr;
    m_name->node_fd = -1;
    m_node_fd = addr.node_fd;
    m_ns->add(addr, self());
    return {};
}

// Compare Linux unix_listen().
Result<void> UnixSocket::listen(int backlog)
{
    if (!connection_oriented())
        return Errno(EOPNOTSUPP);
    if (!m_name)
        return Errno(EINVAL);
    if (m_state != State::unconnected && m_state != State::listening)
        return Errno(EINVAL);
    bool more_room = backlog > m_backlog;
    m_backlog = backlog;
    if (m_state == State::unconnected)
        m_peercred = m_bind_cred; // Linux init_peercred(): whoever listens; here who bound
    m_state = State::listening;
    m_listening = true;
    if (more_room)
        m_wq.notify(POLLOUT);
    return {};
}

Result<std::shared_ptr<Socket>> UnixSocket::accept(int file_flags)
{
    if (!connection_oriented())
        return Errno(EOPNOTSUPP);
    if (m_state != State::listening)
        return Errno(EINVAL);
    if (m_accept_queue.empty())
        return Errno(EAGAIN);
    auto s = std::move(m_accept_queue.front());
    m_accept_queue.pop_front();
    s->set_flags(O_RDWR | file_flags);
    m_wq.notify(POLLOUT); // room for a connector waiting on a full backlog
    return std::shared_ptr<Socket>(s);
}

vfs::WaitQueue* UnixSocket::connect_queue()
{
    if (auto l = m_connecting_to.lock())
        return &l->m_wq;
    return &m_wq;
}

// Compare Linux unix_stream_connect() and unix_dgram_connect().
Result<void> UnixSocket::connect(const Address& addr, const Cred& cred, bool)
{
    if (!connection_oriented() && addr.family() == AF_UNSPEC && addr.len >= sizeof(sa_family_t)) {
        // A datagram socket forgets its peer.
        m_peer.reset();
        m_peer_addr.reset();
        m_state = State::unconnected;
        return {};
    }
    if (addr.len <= k_path_off || addr.len > sizeof(sockaddr_un) || addr.family() != AF_UNIX)
        return Errno(EINVAL);
    if (m_passcred && !m_name)
        TRY(bind(unnamed(), cred));
    auto other = TRY(lookup(addr));
    if (!connection_oriented()) {
        // unix_may_send(): a socket connected elsewhere takes nothing from us.
        if (other.get() != this) {
            auto theirs = other->m_peer.lock();
            if (theirs && theirs.get() != this)
                return Errno(EPERM);
        }
        m_peer = other;
        m_peer_addr = other->m_name;
        m_state = State::connected;
        return {};
    }
    if (other->m_state != State::listening)
        return Errno(ECONNREFUSED);
    if (m_state == State::connected)
        return Errno(EISCONN);
    if (m_state == State::listening)
        return Errno(EINVAL);
    // unix_recvq_full(): more queued than the backlog.
    if (other->m_accept_queue.size() > static_cast<size_t>(other->m_backlog)) {
        m_connecting_to = other;
        return Errno(EAGAIN);
    }
    m_connecting_to.reset();
    auto embryo = std::make_shared<UnixSocket>(m_ns, m_type, 0);
    embryo->m_state = State::connected;
    embryo->m_peer = self();
    embryo->m_peer_addr = m_name;
    embryo->m_peercred = cred;
    embryo->m_name = other->m_name;
    if (embryo->m_name)
        embryo->m_name->node_fd = -1;
    m_peer = embryo;
    m_peer_addr = other->m_name;
    m_peercred = other->m_peercred;
    m_state = State::connected;
    other->m_accept_queue.push_back(embryo);
    other->m_wq.notify(POLLIN);
    m_wq.notify(POLLOUT);
    return {};
}

Result<size_t> UnixSocket::send(std::span<const char> data, SendOptions& opt)
{
    if (opt.flags & MSG_OOB)
        return Errno(EOPNOTSUPP);
    if (m_type == SOCK_STREAM)
        return send_stream(data, opt);
    return send_dgram(data, opt);
}

// Compare Linux unix_stream_sendmsg(): EPIPE once this end shut down writing or
// the peer is gone or shut down reading.
Result<size_t> UnixSocket::send_stream(std::span<const char> data, SendOptions& opt)
{
    if (opt.to && opt.to->len)
        return Errno(m_state == State::connected ? EISCONN : EOPNOTSUPP);
    if (m_state != State::connected)
        return Errno(ENOTCONN);
    auto peer = m_peer.lock();
    if ((m_shutdown & k_send_shutdown) || !peer || peer->m_dead || (peer->m_shutdown & k_rcv_shutdown))
        return Errno(EPIPE);
    if (data.empty())
        return size_t{0};
    size_t limit = send_limit();
    if (m_wmem >= limit)
        return Errno(EAGAIN);
    size_t n = std::min(data.size(), limit - m_wmem);
    post(*peer, data.first(n), opt);
    return n;
}

// Compare Linux unix_dgram_sendmsg() (SOCK_SEQPACKET sends through it too, to its
// connected peer only).
Result<size_t> UnixSocket::send_dgram(std::span<const char> data, SendOptions& opt)
{
    if (m_type == SOCK_SEQPACKET && m_state != State::connected)
        return Errno(ENOTCONN);
    std::shared_ptr<UnixSocket> other;
    bool to_peer = false;
    if (m_type == SOCK_DGRAM && opt.to && opt.to->len) {
        if (opt.to->len <= k_path_off || opt.to->len > sizeof(sockaddr_un) || opt.to->family() != AF_UNIX)
            return Errno(EINVAL);
        other = TRY(lookup(*opt.to));
    } else {
        if (m_state != State::connected)
            return Errno(ENOTCONN);
        other = m_peer.lock();
        to_peer = true;
    }
    if (data.size() + 32 > m_sndbuf)
        return Errno(EMSGSIZE);
    // sock_alloc_send_pskb(): a pending error (ECONNRESET from a peer that closed
    // with data unread) before the shutdown's EPIPE.
    if (int e = take_error())
        return Errno(e);
    if (m_shutdown & k_send_shutdown)
        return Errno(EPIPE);
    if (!other || other->m_dead) {
        if (m_type == SOCK_SEQPACKET)
            return Errno(EPIPE);
        // The first send to a dead peer disconnects and is refused (then ENOTCONN).
        if (to_peer) {
            m_peer.reset();
            m_peer_addr.reset();
            m_state = State::unconnected;
        }
        return Errno(ECONNREFUSED);
    }
    auto theirs = other->m_peer.lock();
    if (other.get() != this && theirs && theirs.get() != this && m_type == SOCK_DGRAM)
        return Errno(EPERM);
    if (other->m_shutdown & k_rcv_shutdown)
        return Errno(EPIPE);
    // unix_recvq_full(): a receiver not connected back to us takes a bounded queue.
    if (theirs.get() != this && other->m_rx.size() > k_max_dgram_qlen)
        return Errno(EAGAIN);
    if (m_wmem + data.size() > send_limit() && m_wmem > 0)
        return Errno(EAGAIN);
    post(*other, data, opt);
    return data.size();
}

Result<size_t> UnixSocket::recv(const Sink& sink, size_t max, RecvOptions& opt)
{
    if (opt.flags & MSG_OOB)
        return Errno(m_type == SOCK_STREAM ? EINVAL : EOPNOTSUPP);
    if (m_type == SOCK_STREAM)
        return recv_stream(sink, max, opt);
    return recv_message(sink, max, opt);
}

// Compare Linux unix_stream_read_generic(): one call reads across messages until
// the buffer is full, stops after a message that carried files, and (with
// SO_PASSCRED) never glues data of different senders.
Result<size_t> UnixSocket::recv_stream(const Sink& sink, size_t max, RecvOptions& opt)
{
    if (m_state != State::connected)
        return Errno(EINVAL);
    bool peek = opt.flags & MSG_PEEK;
    size_t copied = 0;
    for (size_t i = 0; i < m_rx.size() && copied < max;) {
        auto& m = m_rx[i];
        if (m_passcred) {
            if (copied && opt.control.creds && !same_cred(*opt.control.creds, m.cred))
                break;
            opt.control.creds = m.cred;
        }
        if (!copied)
            opt.from = sender_name(m);
        size_t chunk = std::min(m.remaining(), max - copied);
        size_t took = sink({m.data.data() + m.off, chunk});
        bool fault = took < chunk;
        copied += took;
        bool had_rights = !m.rights.empty();
        if (peek) {
            if (had_rights)
                opt.control.rights.insert(opt.control.rights.end(), m.rights.begin(), m.rights.end());
            if (fault || had_rights)
                break;
            ++i;
            continue;
        }
        m.off += took;
        consumed(m, took);
        if (had_rights) {
            rights_out(m.rights);
            opt.control.rights = std::move(m.rights);
            m.rights.clear();
        }
        if (fault)
            break;
        if (m.remaining())
            break;
        m_rx.pop_front();
        if (had_rights)
            break;
    }
    if (copied)
        return copied;
    if (max > 0 && !m_rx.empty())
        return Errno(EFAULT); // the first byte did not fit: nothing taken
    if (int e = take_error())
        return Errno(e);
    if (m_shutdown & k_rcv_shutdown)
        return size_t{0};
    if (max == 0)
        return size_t{0};
    return Errno(EAGAIN);
}

// One message of a SOCK_DGRAM/SOCK_SEQPACKET socket, cut to `max` (the rest is
// discarded; opt.full gets its length). Unlike Linux, a fault while copying keeps
// the message queued.
Result<size_t> UnixSocket::recv_message(const Sink& sink, size_t max, RecvOptions& opt)
{
    if (m_type == SOCK_SEQPACKET && m_state != State::connected && m_rx.empty())
        return Errno(ENOTCONN);
    if (m_rx.empty()) {
        if (int e = take_error())
            return Errno(e);
        if (m_shutdown & k_rcv_shutdown)
            return size_t{0};
        return Errno(EAGAIN);
    }
    auto& m = m_rx.front();
    size_t n = std::min(max, m.data.size());
    if (n && sink({m.data.data(), n}) < n)
        return Errno(EFAULT);
    opt.full = m.data.size();
    if (n < m.data.size())
        opt.msg_flags |= MSG_TRUNC;
    // Linux unix_copy_addr(): the sender's name as it is now (it may have bound
    // since it sent), kept with the message if the sender is gone.
    opt.from = sender_name(m);
    if (m_passcred)
        opt.control.creds = m.cred;
    if (opt.flags & MSG_PEEK) {
        opt.control.rights = m.rights;
        return n;
    }
    rights_out(m.rights);
    opt.control.rights = std::move(m.rights);
    auto msg = std::move(m);
    m_rx.pop_front();
    msg.rights.clear();
    consumed(msg, msg.data.size());
    return n;
}

// Compare Linux unix_shutdown(): this end's flags, and the mirror image on a
// connected peer of a connection-oriented socket.
Result<void> UnixSocket::shutdown(int how)
{
    if (how < SHUT_RD || how > SHUT_RDWR)
        return Errno(EINVAL);
    int mode = (how + 1) & k_shutdown_mask;
    m_shutdown |= mode;
    if (auto peer = m_peer.lock(); peer && connection_oriented()) {
        int peer_mode = ((mode & k_rcv_shutdown) ? k_send_shutdown : 0) | ((mode & k_send_shutdown) ? k_rcv_shutdown : 0);
        peer->m_shutdown |= peer_mode;
        peer->m_wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    }
    m_wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    return {};
}

Result<Address> UnixSocket::local_name() { return m_name ? *m_name : unnamed(); }

Result<Address> UnixSocket::peer_name()
{
    if (m_state != State::connected)
        return Errno(ENOTCONN);
    if (auto peer = m_peer.lock(); peer && peer->m_name)
        return *peer->m_name;
    return m_peer_addr ? *m_peer_addr : unnamed();
}

Result<std::vector<char>> UnixSocket::getsockopt(int level, int name, socklen_t room)
{
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP); // unix sockets have no protocol-level options
    return Socket::getsockopt(level, name, room);
}

Result<void> UnixSocket::setsockopt(int level, int name, std::span<const char> value)
{
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP);
    return Socket::setsockopt(level, name, value);
}

// Compare Linux unix_poll() (streams) and unix_dgram_poll() (datagrams, seqpacket).
uint32_t UnixSocket::poll_events()
{
    uint32_t ev = 0;
    if (m_error)
        ev |= POLLERR;
    if (m_shutdown == k_shutdown_mask)
        ev |= POLLHUP;
    if (m_shutdown & k_rcv_shutdown)
        ev |= POLLRDHUP | POLLIN;
    if (!m_rx.empty() || !m_accept_queue.empty())
        ev |= POLLIN;
    if (connection_oriented() && m_state == State::unconnected)
        ev |= POLLHUP;
    // unix_writable(): a quarter of the send buffer or less in flight.
    bool writable = m_state != State::listening && m_wmem * 4 <= send_limit();
    if (writable && !connection_oriented()) {
        auto other = m_peer.lock();
        if (other && !other->m_dead) {
            auto theirs = other->m_peer.lock();
            if (theirs.get() != this && other->m_rx.size() > k_max_dgram_qlen)
                writable = false;
        }
    }
    if (writable)
        ev |= POLLOUT;
    return ev;
}

Result<int> UnixSocket::bytes_readable()
{
    if (m_state == State::listening)
        return Errno(EINVAL);
    if (m_type == SOCK_DGRAM)
        return static_cast<int>(m_rx.empty() ? 0 : m_rx.front().remaining());
    return static_cast<int>(m_rx_bytes);
}

} // namespace sentry::netstack
