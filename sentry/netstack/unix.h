#pragma once
// Connected AF_UNIX sockets (Linux net/unix/af_unix.c), as socketpair(2)
// makes them. Each direction is a byte queue bounded by the sending socket's
// SO_SNDBUF, so a writer that outruns its reader waits (or gets EAGAIN). A
// shutdown or the peer's close ends one or both directions: reads drain what was
// sent and then see EOF, writes fail with EPIPE (the caller raises SIGPIPE unless
// MSG_NOSIGNAL), and poll reports POLLRDHUP and POLLHUP as Linux's unix_poll().
// SOCK_DGRAM and SOCK_SEQPACKET pairs keep message boundaries; a datagram peer's
// close gives ECONNREFUSED then ENOTCONN, a seqpacket's EPIPE without SIGPIPE.

#include <sys/socket.h>

#include <deque>
#include <memory>

#include "sentry/vfs/file.h"

namespace sentry::netstack {

// What both ends share: a queue per direction and who has shut down what.
// SOCK_DGRAM and SOCK_SEQPACKET pairs keep message boundaries (`lengths`).
struct UnixStreamPair {
    int type = SOCK_STREAM;
    bool messages() const { return type != SOCK_STREAM; }
    struct Direction {
        std::deque<char> data;
        std::deque<size_t> lengths; // message sizes, front first (message types)
        bool refused = false; // a datagram sender already got ECONNREFUSED
        bool closed = false; // no more will be written (sender shut down or gone)
        bool reader_gone = false; // nobody will read (receiver shut down or gone)
    };
    Direction to[2]; // to[i]: bytes for end i
    size_t sndbuf[2] = {k_default_buf, k_default_buf};
    size_t rcvbuf[2] = {k_default_buf, k_default_buf};
    bool open[2] = {true, true};
    vfs::WaitQueue wq;
    pid_t creator_pid = 0; // SO_PEERCRED of both ends (the socketpair caller)
    uid_t creator_uid = 0;
    gid_t creator_gid = 0;
    static constexpr size_t k_default_buf = 212992; // net.core.wmem_default
};

class UnixStreamSocket final : public vfs::File {
public:
    UnixStreamSocket(std::shared_ptr<UnixStreamPair> pair, int side, int flags);
    ~UnixStreamSocket() override;

    static UnixStreamSocket* from(vfs::File& f) { return dynamic_cast<UnixStreamSocket*>(&f); }
    static std::pair<vfs::FileRef, vfs::FileRef> make_pair(int type, int flags, pid_t pid, uid_t uid, gid_t gid);
    int type() const { return m_pair->type; }
    // One message of a SOCK_DGRAM/SEQPACKET pair: at most `max` bytes reach the
    // sink, the rest of the message is discarded; `full` gets its whole length.
    Result<size_t> recv_message(const Sink& sink, size_t max, bool peek, size_t& full);

    // recv with MSG_PEEK: look without taking.
    Result<size_t> peek_to(const Sink& sink, size_t max);
    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    Result<size_t> write(std::span<const char> buf) override;
    bool writes_records() const override { return m_pair->messages(); }
    bool epipe_raises_sigpipe() const override { return !m_pair->messages(); }
    Result<struct stat> stat() override;
    uint32_t poll_events() override;
    vfs::WaitQueue* wait_queue() override { return &m_pair->wq; }
    Result<int> bytes_readable() override { return static_cast<int>(m_pair->to[m_side].data.size()); }
    std::string description() const override;

    // shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.
    Result<void> shutdown(int how);
    UnixStreamPair& pair() { return *m_pair; }
    int side() const { return m_side; }
    unsigned long ino() const { return m_ino; }

private:
    std::shared_ptr<UnixStreamPair> m_pair;
    int m_side;
    unsigned long m_ino;
};

} // namespace sentry::netstack
