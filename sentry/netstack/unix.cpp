#include "sentry/netstack/unix_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

namespace sentry::netstack {

namespace {
unsigned long next_ino()
{
    static unsigned long ino = 200000;
    return ++ino;
}
} // namespace

UnixStreamSocket::UnixStreamSocket(std::shared_ptr<UnixStreamPair> pair, int side, int flags)
    : File(flags)
    , m_pair(std::move(pair))
    , m_side(side)
    , m_ino(next_ino())
{
}

UnixStreamSocket::~UnixStreamSocket()
{
    // Linux unix_release_sock(): a connection-oriented peer sees both directions
    // end; a datagram peer only finds nobody to send to.
    auto& p = *m_pair;
    p.open[m_side] = false;
    p.to[m_side].reader_gone = true;
    p.to[m_side].data.clear();
    p.to[m_side].lengths.clear();
    if (p.type != SOCK_DGRAM)
        p.to[1 - m_side].closed = true;
    p.wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
}

std::pair<vfs::FileRef, vfs::FileRef> UnixStreamSocket::make_pair(int type, int flags, pid_t pid, uid_t uid, gid_t gid)
{
    auto p = std::make_shared<UnixStreamPair>();
    p->type = type;
    p->creator_pid = pid;
    p->creator_uid = uid;
    p->creator_gid = gid;
    return {std::make_shared<UnixStreamSocket>(p, 0, O_RDWR | flags), std::make_shared<UnixStreamSocket>(p, 1, O_RDWR | flags)};
}

Result<size_t> UnixStreamSocket::recv_message(const Sink& sink, size_t max, bool peek, size_t& full)
{
    auto& in = m_pair->to[m_side];
    if (in.lengths.empty())
        return in.closed ? Result<size_t>(size_t{0}) : Result<size_t>(Errno(EAGAIN));
    full = in.lengths.front();
    size_t n = std::min(max, full);
    std::vector<char> tmp(in.data.begin(), in.data.begin() + static_cast<long>(n));
    size_t took = n ? sink({tmp.data(), n}) : 0;
    if (took < n)
        return Errno(EFAULT);
    if (!peek) {
        in.data.erase(in.data.begin(), in.data.begin() + static_cast<long>(full));
        in.lengths.pop_front();
        m_pair->wq.notify(POLLOUT);
    }
    return n;
}

Result<size_t> UnixStreamSocket::peek_to(const Sink& sink, size_t max)
{
    if (m_pair->messages()) {
        size_t full = 0;
        return recv_message(sink, max, true, full);
    }
    auto& in = m_pair->to[m_side];
    if (in.data.empty())
        return in.closed ? Result<size_t>(size_t{0}) : Result<size_t>(Errno(EAGAIN));
    size_t n = std::min(max, in.data.size());
    std::vector<char> tmp(in.data.begin(), in.data.begin() + static_cast<long>(n));
    return sink({tmp.data(), n});
}

Result<size_t> UnixStreamSocket::read_to(const Sink& sink, size_t max)
{
    if (m_pair->messages()) {
        size_t full = 0;
        return recv_message(sink, max, false, full);
    }
    auto& in = m_pair->to[m_side];
    if (max == 0)
        return size_t{0};
    if (in.data.empty())
        return in.closed ? Result<size_t>(size_t{0}) : Result<size_t>(Errno(EAGAIN));
    size_t n = std::min(max, in.data.size());
    // Contiguous chunks of the deque, handed over until the sink stops taking.
    std::vector<char> tmp(in.data.begin(), in.data.begin() + static_cast<long>(n));
    size_t took = sink({tmp.data(), n});
    if (took == 0)
        return Errno(EFAULT);
    in.data.erase(in.data.begin(), in.data.begin() + static_cast<long>(took));
    m_pair->wq.notify(POLLOUT);
    return took;
}

Result<size_t> UnixStreamSocket::read(std::span<char> buf)
{
    return read_to([&](std::span<const char> d) {
        std::copy(d.begin(), d.end(), buf.begin());
        return d.size();
    }, buf.size());
}

// Compare Linux unix_stream_sendmsg(): EPIPE once this end shut down writing or
// the peer is gone or shut down reading.
Result<size_t> UnixStreamSocket::write(std::span<const char> buf)
{
    auto& p = *m_pair;
    auto& out = p.to[1 - m_side];
    if (p.type == SOCK_DGRAM) {
        // Compare Linux unix_dgram_sendmsg(): the first send to a dead peer is
        // ECONNREFUSED and disconnects; later ones find no peer.
        if (out.reader_gone) {
            if (out.refused)
                return Errno(ENOTCONN);
            out.refused = true;
            return Errno(ECONNREFUSED);
        }
    } else if (out.closed || out.reader_gone) {
        return Errno(EPIPE);
    }
    size_t limit = std::max(p.sndbuf[m_side], size_t{4096});
    if (p.messages()) {
        // A message goes whole or not at all.
        if (buf.size() > limit - 32)
            return Errno(EMSGSIZE);
        constexpr size_t k_max_dgram_qlen = 512; // net.unix.max_dgram_qlen
        if (out.lengths.size() >= k_max_dgram_qlen || out.data.size() + buf.size() > limit)
            return Errno(EAGAIN);
        out.data.insert(out.data.end(), buf.begin(), buf.end());
        out.lengths.push_back(buf.size());
        p.wq.notify(POLLIN);
        return buf.size();
    }
    if (buf.empty())
        return size_t{0};
    if (out.data.size() >= limit)
        return Errno(EAGAIN);
    size_t n = std::min(buf.size(), limit - out.data.size());
    out.data.insert(out.data.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    p.wq.notify(POLLIN);
    return n;
}

Result<void> UnixStreamSocket::shutdown(int how)
{
    if (how < SHUT_RD || how > SHUT_RDWR)
        return Errno(EINVAL);
    auto& p = *m_pair;
    if (how == SHUT_RD || how == SHUT_RDWR) {
        p.to[m_side].reader_gone = true; // the peer's writes: EPIPE
        p.to[m_side].closed = true;      // this end's reads: EOF once drained
    }
    if (how == SHUT_WR || how == SHUT_RDWR)
        p.to[1 - m_side].closed = true;
    p.wq.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    return {};
}

uint32_t UnixStreamSocket::poll_events()
{
    auto& p = *m_pair;
    auto& in = p.to[m_side];
    auto& out = p.to[1 - m_side];
    // This end's view: it can no longer receive (RCV_SHUTDOWN) once the peer shut
    // down writing or went away, or it shut down reading itself; it can no longer
    // send (SEND_SHUTDOWN) once it shut down writing or the peer went away.
    bool rcv_shut = in.closed;
    bool snd_shut = out.closed || out.reader_gone;
    uint32_t ev = 0;
    if (rcv_shut && snd_shut)
        ev |= POLLHUP;
    if (rcv_shut)
        ev |= POLLRDHUP | POLLIN;
    if (!in.data.empty() || !in.lengths.empty())
        ev |= POLLIN;
    if (out.data.size() < std::max(p.sndbuf[m_side], size_t{4096}) || snd_shut)
        ev |= POLLOUT;
    return ev;
}

Result<struct stat> UnixStreamSocket::stat()
{
    struct stat st {};
    st.st_mode = S_IFSOCK | 0777;
    st.st_nlink = 1;
    st.st_ino = m_ino;
    st.st_uid = getuid();
    st.st_gid = getgid();
    st.st_blksize = 4096;
    return st;
}

std::string UnixStreamSocket::description() const { return fmt::format("socket:[{}]", m_ino); }

} // namespace sentry::netstack
