// AF_UNIX sockets without ptrace: queues, sender-paid buffers, names, connect and
// accept, close semantics, SCM_RIGHTS in flight and the garbage collector. The
// expected values are Linux's (net/unix/af_unix.c), as the diff_guest_net_unix_*
// tests show against the host.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "sentry/netstack/unix.h"
#include "sentry/vfs/pipe.h"

using namespace sentry;
using namespace sentry::netstack;

namespace {

const Cred k_me{7, 0, 0};

Address abstract(const std::string& name)
{
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path + 1, name.data(), name.size());
    return Address::of(sun, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size()));
}

Result<size_t> send_str(Socket& s, const std::string& data, Control* c = nullptr)
{
    SendOptions o;
    o.cred = k_me;
    o.control = c;
    return s.send({data.data(), data.size()}, o);
}

std::string recv_str(Socket& s, size_t max, RecvOptions* out = nullptr)
{
    RecvOptions local;
    RecvOptions& o = out ? *out : local;
    std::string got;
    auto r = s.recv([&](std::span<const char> d) {
        got.append(d.data(), d.size());
        return d.size();
    }, max, o);
    return r.is_ok() ? got : std::string("<") + std::to_string(r.error().as_return()) + ">";
}

std::string err(int e) { return "<" + std::to_string(-e) + ">"; }

// A pipe's two ends, as pipe(2) makes them.
std::pair<vfs::FileRef, vfs::FileRef> pipe_pair()
{
    auto p = std::make_shared<vfs::Pipe>();
    return {std::make_shared<vfs::PipeEnd>(p, false, O_RDONLY), std::make_shared<vfs::PipeEnd>(p, true, O_WRONLY)};
}

} // namespace

TEST_CASE("a stream pair carries bytes both ways and reads across messages", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    REQUIRE(send_str(*a, "hello ").value() == 6);
    REQUIRE(send_str(*a, "world").value() == 5);
    CHECK(b->bytes_readable().value() == 11);
    CHECK(recv_str(*b, 100) == "hello world");
    CHECK(recv_str(*b, 100) == err(EAGAIN));
    CHECK((b->poll_events() & POLLIN) == 0);
    CHECK(ns->live_sockets == 2);
}

TEST_CASE("the sender pays for what it queued: SO_SNDBUF backpressure", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    int v = 2304; // doubled to 4608
    REQUIRE(a->setsockopt(SOL_SOCKET, SO_SNDBUF, {reinterpret_cast<char*>(&v), sizeof v}).is_ok());
    std::string big(100000, 'x');
    auto first = send_str(*a, big);
    REQUIRE(first.is_ok());
    CHECK(first.value() == 4608);
    CHECK(send_str(*a, big).error() == Errno(EAGAIN));
    CHECK((a->poll_events() & POLLOUT) == 0);
    CHECK(recv_str(*b, 4000).size() == 4000);
    // unix_writable(): POLLOUT again once a quarter of the buffer or less is queued.
    CHECK((a->poll_events() & POLLOUT) != 0);
    CHECK(send_str(*a, big).value() == 4000);
}

TEST_CASE("closing with unread data leaves ECONNRESET and POLLERR on the peer", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    REQUIRE(send_str(*a, "unread").is_ok());
    b.reset();
    CHECK((a->poll_events() & (POLLERR | POLLHUP | POLLRDHUP | POLLIN)) == (POLLERR | POLLHUP | POLLRDHUP | POLLIN));
    // A stream send reports EPIPE first (unix_stream_sendmsg()); the error stays.
    CHECK(send_str(*a, "x").error() == Errno(EPIPE));
    CHECK(recv_str(*a, 10) == err(ECONNRESET));
    CHECK(recv_str(*a, 10).empty()); // then end of stream
}

TEST_CASE("seqpacket keeps boundaries and reports ECONNRESET before EPIPE", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_SEQPACKET, O_NONBLOCK, k_me);
    REQUIRE(send_str(*a, "one").is_ok());
    REQUIRE(send_str(*a, "three").is_ok());
    RecvOptions o;
    CHECK(recv_str(*b, 2, &o) == "on");
    CHECK((o.msg_flags & MSG_TRUNC) != 0);
    CHECK(o.full == 3);
    CHECK(recv_str(*b, 100) == "three");
    REQUIRE(send_str(*b, "left").is_ok());
    a.reset();
    CHECK(send_str(*b, "x").error() == Errno(ECONNRESET));
    CHECK(send_str(*b, "x").error() == Errno(EPIPE));
    CHECK(!b->epipe_raises_sigpipe());
}

TEST_CASE("a datagram pair: the first send to a closed peer is refused, then not connected", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_DGRAM, O_NONBLOCK, k_me);
    b.reset();
    CHECK(send_str(*a, "x").error() == Errno(ECONNREFUSED));
    CHECK(send_str(*a, "x").error() == Errno(ENOTCONN));
}

TEST_CASE("abstract names: bind, listen, connect before accept, backlog n+1", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto l = std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK);
    auto name = abstract("srv");
    CHECK(l->listen(1).error() == Errno(EINVAL)); // not bound
    REQUIRE(l->bind(name, k_me).is_ok());
    CHECK(l->bind(abstract("other"), k_me).error() == Errno(EINVAL)); // already bound
    auto dup = std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK);
    CHECK(dup->bind(name, k_me).error() == Errno(EADDRINUSE));
    auto c0 = std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK);
    CHECK(c0->connect(name, k_me, true).error() == Errno(ECONNREFUSED)); // not listening
    REQUIRE(l->listen(1).is_ok());
    CHECK(l->accept(0).error() == Errno(EAGAIN));
    std::vector<std::shared_ptr<UnixSocket>> clients;
    for (int i = 0; i < 3; ++i)
        clients.push_back(std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK));
    REQUIRE(clients[0]->connect(name, k_me, true).is_ok());
    REQUIRE(clients[1]->connect(name, k_me, true).is_ok());
    CHECK(clients[2]->connect(name, k_me, true).error() == Errno(EAGAIN));
    CHECK(clients[2]->connect_queue() == l->wait_queue()); // a blocking connect waits on the listener
    // The client writes before the server accepts.
    REQUIRE(send_str(*clients[0], "early").is_ok());
    CHECK((l->poll_events() & POLLIN) != 0);
    auto s = l->accept(0);
    REQUIRE(s.is_ok());
    CHECK(recv_str(*s.value(), 100) == "early");
    CHECK(clients[2]->connect(name, k_me, true).is_ok()); // room again
    auto peer = s.value()->peer_name();
    REQUIRE(peer.is_ok());
    CHECK(peer.value().len == sizeof(sa_family_t)); // the client is unnamed
    CHECK(s.value()->local_name().value().len == name.len);
}

TEST_CASE("a listener's close resets connections it never accepted", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto l = std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK);
    REQUIRE(l->bind(abstract("gone"), k_me).is_ok());
    REQUIRE(l->listen(5).is_ok());
    auto c = std::make_shared<UnixSocket>(ns, SOCK_STREAM, O_NONBLOCK);
    REQUIRE(c->connect(abstract("gone"), k_me, true).is_ok());
    l.reset();
    CHECK(recv_str(*c, 10) == err(ECONNRESET));
    CHECK(recv_str(*c, 10).empty());
    CHECK(ns->live_sockets == 1);
}

TEST_CASE("SCM_RIGHTS: files travel with the message, a stream read stops after them", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    auto [r, w] = pipe_pair();
    REQUIRE(send_str(*a, "aaa").is_ok());
    Control c;
    c.rights.push_back(w);
    REQUIRE(send_str(*a, "bbb", &c).is_ok());
    CHECK(c.rights.empty()); // moved into the message
    REQUIRE(send_str(*a, "ccc").is_ok());
    RecvOptions o;
    CHECK(recv_str(*b, 100, &o) == "aaabbb");
    REQUIRE(o.control.rights.size() == 1);
    CHECK(o.control.rights[0] == w);
    CHECK(recv_str(*b, 100) == "ccc");
}

TEST_CASE("files in flight close with the queue that holds them", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    auto [r, w] = pipe_pair();
    Control c;
    c.rights.push_back(w);
    REQUIRE(send_str(*a, "f", &c).is_ok());
    std::weak_ptr<vfs::File> watch = w;
    w.reset();
    CHECK(!watch.expired()); // held by the message
    b.reset();
    CHECK(watch.expired());
}

TEST_CASE("a socket sent over itself is collected when the last outside reference goes", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    auto [r, w] = pipe_pair();
    Control c1;
    c1.rights.push_back(w);
    REQUIRE(send_str(*a, "p", &c1).is_ok());
    Control c2;
    c2.rights.push_back(b); // b into b's own queue
    REQUIRE(send_str(*a, "s", &c2).is_ok());
    std::weak_ptr<vfs::File> pipe_end = w, self = b;
    w.reset();
    b.reset();
    CHECK(!self.expired()); // only its own queue holds it now
    CHECK(ns->in_flight.size() == 1);
    a.reset(); // releasing a unix socket runs the collector
    CHECK(self.expired());
    CHECK(pipe_end.expired());
    CHECK(ns->in_flight.empty());
    CHECK(ns->live_sockets == 0);
}

TEST_CASE("SO_PASSCRED: credentials ride with each message and writers are not joined", "[unix]")
{
    auto ns = std::make_shared<UnixNamespace>();
    auto [a, b] = UnixSocket::make_pair(ns, SOCK_STREAM, O_NONBLOCK, k_me);
    int one = 1;
    REQUIRE(b->setsockopt(SOL_SOCKET, SO_PASSCRED, {reinterpret_cast<char*>(&one), sizeof one}).is_ok());
    SendOptions o1;
    o1.cred = {11, 0, 0};
    REQUIRE(a->send({"1", 1}, o1).is_ok());
    SendOptions o2;
    o2.cred = {12, 0, 0};
    REQUIRE(a->send({"2", 1}, o2).is_ok());
    RecvOptions r1;
    CHECK(recv_str(*b, 10, &r1) == "1");
    REQUIRE(r1.control.creds);
    CHECK(r1.control.creds->pid == 11);
    RecvOptions r2;
    CHECK(recv_str(*b, 10, &r2) == "2");
    CHECK(r2.control.creds->pid == 12);
    CHECK(b->peer_cred()->pid == k_me.pid);
}
