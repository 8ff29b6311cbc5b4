// TCP on the sandbox loopback, driven through the Socket interface with a fake
// clock. The expected values are what Linux 6.18 does natively (checked with small
// C programs run in a network namespace with only `lo`).
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <chrono>
#include <string>

#include "inet_addresses.h"
#include "sentry/netstack/inet.h"

using namespace sentry;
using namespace sentry::netstack;
using namespace sentry::netstack::test;

namespace {

struct FakeClock {
    InetStack::Clock::time_point t{std::chrono::seconds(100000)};
    std::function<InetStack::Clock::time_point()> fn()
    {
        return [this] { return t; };
    }
    void advance(std::chrono::seconds s) { t += s; }
};


SocketRef make(InetStack& st, int family = AF_INET, int flags = O_NONBLOCK)
{
    auto r = st.create(family, SOCK_STREAM, 0, flags);
    REQUIRE(r.is_ok());
    return r.value();
}

Result<size_t> send_str(Socket& s, std::string_view d, int flags = 0)
{
    SendOptions opt;
    opt.flags = flags;
    return s.send({d.data(), d.size()}, opt);
}

Result<std::string> recv_str(Socket& s, size_t max = 1 << 20, int flags = 0)
{
    std::string out;
    RecvOptions opt;
    opt.flags = flags;
    auto r = s.recv([&](std::span<const char> d) {
        out.append(d.data(), d.size());
        return d.size();
    }, max, opt);
    if (r.is_error())
        return r.error();
    return out;
}

int so_error(Socket& s)
{
    auto v = s.getsockopt(SOL_SOCKET, SO_ERROR, sizeof(int)).value();
    int e = 0;
    std::memcpy(&e, v.data(), sizeof e);
    return e;
}

int int_opt(Socket& s, int level, int name)
{
    auto v = s.getsockopt(level, name, sizeof(int));
    REQUIRE(v.is_ok());
    int e = 0;
    std::memcpy(&e, v.value().data(), std::min<size_t>(v.value().size(), sizeof e));
    return e;
}

void set_int(Socket& s, int level, int name, int v)
{
    REQUIRE(s.setsockopt(level, name, {reinterpret_cast<const char*>(&v), sizeof v}).is_ok());
}

constexpr uint32_t k_in = POLLIN, k_out = POLLOUT, k_hup = POLLHUP, k_err = POLLERR, k_rdhup = POLLRDHUP;
uint32_t ev(Socket& s) { return s.poll_events() & (k_in | k_out | k_hup | k_err | k_rdhup); }

SocketRef listener(InetStack& st, uint16_t port, int backlog = 16, int family = AF_INET)
{
    auto l = make(st, family);
    set_int(*l, SOL_SOCKET, SO_REUSEADDR, 1);
    REQUIRE(l->bind(family == AF_INET ? v4("127.0.0.1", port) : v6("::", port), {}).is_ok());
    REQUIRE(l->listen(backlog).is_ok());
    return l;
}

struct Pair {
    SocketRef client, server;
};

// A connected pair through `l` (a blocking connect, which completes in the call).
Pair connect_to(InetStack&, Socket& l, SocketRef client, const Address& to)
{
    REQUIRE(client->connect(to, {}, false).is_ok());
    auto a = l.accept(O_NONBLOCK);
    REQUIRE(a.is_ok());
    return {client, a.value()};
}

struct Recorder : vfs::Waiter {
    uint32_t got = 0;
    void wake(uint32_t events) override { got |= events; }
};

} // namespace

TEST_CASE("tcp: socket() checks the type and protocol as inet_create()", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    CHECK(st.create(AF_INET, SOCK_STREAM, IPPROTO_UDP, 0).error() == Errno(EPROTONOSUPPORT));
    CHECK(st.create(AF_INET6, SOCK_STREAM, IPPROTO_UDP, 0).error() == Errno(EPROTONOSUPPORT));
    CHECK(st.create(AF_INET, SOCK_DGRAM, IPPROTO_TCP, 0).error() == Errno(EPROTONOSUPPORT));
    CHECK(st.create(AF_INET, SOCK_SEQPACKET, 0, 0).error() == Errno(ESOCKTNOSUPPORT));
    CHECK(st.create(AF_INET, SOCK_STREAM, 999, 0).error() == Errno(EINVAL));
    CHECK(st.create(AF_INET, SOCK_STREAM, -1, 0).error() == Errno(EINVAL));
    CHECK(st.create(AF_INET, SOCK_RAW, 0, 0).error() == Errno(EPROTONOSUPPORT));
    CHECK(st.create(AF_INET, SOCK_RAW, IPPROTO_ICMP, 0).error() == Errno(EPERM));
    auto s = st.create(AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
    REQUIRE(s.is_ok());
    CHECK(int_opt(*s.value(), SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
    CHECK(int_opt(*s.value(), SOL_SOCKET, SO_SNDBUF) == 16384);
    CHECK(int_opt(*s.value(), SOL_SOCKET, SO_RCVBUF) == 131072);

    InetStack none(NetworkMode::none);
    CHECK(none.create(AF_INET, SOCK_STREAM, 0, 0).error() == Errno(EAFNOSUPPORT));
}

TEST_CASE("tcp: a fresh socket polls OUT|HUP; send EPIPE, recv and shutdown ENOTCONN", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto s = make(st);
    CHECK(ev(*s) == (k_out | k_hup));
    CHECK(send_str(*s, "x").error() == Errno(EPIPE));
    CHECK(recv_str(*s).error() == Errno(ENOTCONN));
    CHECK(s->shutdown(SHUT_WR).error() == Errno(ENOTCONN));
    CHECK(s->shutdown(7).error() == Errno(EINVAL));
    CHECK(s->peer_name().error() == Errno(ENOTCONN));
    auto name = s->local_name().value();
    CHECK(name.len == sizeof(sockaddr_in));
    CHECK(ip_of(name) == "0.0.0.0");
    CHECK(port_of(name) == 0);
}

TEST_CASE("tcp: handshake, data both ways, names", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 5555);
    CHECK(ev(*l) == 0);
    CHECK(int_opt(*l, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    CHECK(recv_str(*l).error() == Errno(ENOTCONN));
    CHECK(send_str(*l, "x").error() == Errno(EPIPE));
    CHECK(l->accept(0).error() == Errno(EAGAIN));

    auto c = make(st);
    // Nonblocking: EINPROGRESS even on loopback; the next connect reports success
    // once, then EISCONN.
    CHECK(c->connect(v4("127.0.0.1", 5555), {}, true).error() == Errno(EINPROGRESS));
    CHECK(ev(*c) == k_out);
    CHECK(ev(*l) == k_in);
    CHECK(c->connect(v4("127.0.0.1", 5555), {}, true).is_ok());
    CHECK(c->connect(v4("127.0.0.1", 5555), {}, true).error() == Errno(EISCONN));
    auto a = l->accept(0).value();
    CHECK(ev(*l) == 0);

    CHECK(send_str(*c, "hello").value() == 5);
    CHECK(a->bytes_readable().value() == 5);
    CHECK(recv_str(*a, 3).value() == "hel");
    CHECK(recv_str(*a, 100, MSG_PEEK).value() == "lo");
    CHECK(recv_str(*a).value() == "lo");
    CHECK(recv_str(*a).error() == Errno(EAGAIN));
    CHECK(send_str(*a, "world").value() == 5);
    CHECK(recv_str(*c).value() == "world");

    auto cl = c->local_name().value(), cp = c->peer_name().value();
    auto al = a->local_name().value(), ap = a->peer_name().value();
    CHECK(ip_of(cl) == "127.0.0.1");
    CHECK(port_of(cp) == 5555);
    CHECK(port_of(al) == 5555);
    CHECK(port_of(ap) == port_of(cl));
    CHECK(port_of(cl) >= 32768);
    CHECK(port_of(cl) <= 60999);
    CHECK(int_opt(*c, IPPROTO_TCP, TCP_MAXSEG) == 65483);

    // A blocking connect completes within the call.
    auto c2 = make(st, AF_INET, 0);
    CHECK(c2->connect(v4("127.0.0.1", 5555), {}, false).is_ok());
    CHECK(c2->connect(v4("127.0.0.1", 5555), {}, false).error() == Errno(EISCONN));
    CHECK(c2->listen(5).error() == Errno(EINVAL));
    // A connect to 0.0.0.0 goes to the loopback.
    auto c3 = make(st, AF_INET, 0);
    CHECK(c3->connect(v4("0.0.0.0", 5555), {}, false).is_ok());
    CHECK(ip_of(c3->peer_name().value()) == "127.0.0.1");
}

TEST_CASE("tcp: wait queues hear of data and of the handshake", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 5556);
    Recorder lw;
    l->wait_queue()->add(&lw, POLLIN);
    auto c = make(st);
    Recorder cw;
    c->wait_queue()->add(&cw, POLLOUT);
    CHECK(c->connect(v4("127.0.0.1", 5556), {}, true).error() == Errno(EINPROGRESS));
    CHECK((lw.got & POLLIN));
    CHECK((cw.got & POLLOUT));
    auto a = l->accept(0).value();
    Recorder aw;
    a->wait_queue()->add(&aw, POLLIN);
    CHECK(send_str(*c, "x").value() == 1);
    CHECK((aw.got & POLLIN));
    l->wait_queue()->remove(&lw);
    c->wait_queue()->remove(&cw);
    a->wait_queue()->remove(&aw);
}

TEST_CASE("tcp: backpressure with small buffers; reading opens the window", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = make(st);
    set_int(*l, SOL_SOCKET, SO_RCVBUF, 4096); // 8192, a window of 4096
    REQUIRE(l->bind(v4("127.0.0.1", 6000), {}).is_ok());
    REQUIRE(l->listen(1).is_ok());
    auto c = make(st);
    set_int(*c, SOL_SOCKET, SO_SNDBUF, 4096); // 8192, of which 6144 queue
    auto [client, server] = connect_to(st, *l, c, v4("127.0.0.1", 6000));

    std::string chunk(1000, 'a');
    size_t total = 0;
    int i = 0;
    while (true) {
        chunk.assign(1000, static_cast<char>('a' + (i++ % 26)));
        auto r = send_str(*client, chunk);
        if (r.is_error()) {
            CHECK(r.error() == Errno(EAGAIN));
            break;
        }
        total += r.value();
    }
    CHECK(total == 4096 + 6144);
    CHECK(server->bytes_readable().value() == 4096);
    CHECK(!(ev(*client) & k_out));

    // A small read does not reopen the window (receiver silly-window avoidance);
    // reading it all does, and the queued data moves on.
    Recorder w;
    client->wait_queue()->add(&w, POLLOUT);
    std::string got = recv_str(*server, 1000).value();
    CHECK(!(ev(*client) & k_out));
    got += recv_str(*server).value();
    CHECK(got.size() == 4096);
    CHECK(server->bytes_readable().value() == 4096);
    CHECK((ev(*client) & k_out));
    CHECK((w.got & POLLOUT));
    client->wait_queue()->remove(&w);
    while (got.size() < total) {
        auto r = recv_str(*server);
        REQUIRE(r.is_ok());
        got += r.value();
    }
    CHECK(got.size() == total);
    for (size_t k = 0; k < got.size(); ++k) {
        if (got[k] != static_cast<char>('a' + (k / 1000) % 26)) {
            FAIL("byte " << k << " out of order");
            break;
        }
    }
    CHECK(recv_str(*server).error() == Errno(EAGAIN));
}

TEST_CASE("tcp: 100 MB through one connection stays cheap", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6001);
    auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6001));
    std::vector<char> buf(1 << 20, 'z');
    size_t sent = 0, got = 0;
    constexpr size_t k_total = 100u << 20;
    auto t0 = std::chrono::steady_clock::now();
    while (got < k_total) {
        if (sent < k_total) {
            SendOptions opt;
            auto r = c->send({buf.data(), std::min(buf.size(), k_total - sent)}, opt);
            if (r.is_ok())
                sent += r.value();
            else
                REQUIRE(r.error() == Errno(EAGAIN));
        }
        RecvOptions opt;
        auto r = a->recv([&](std::span<const char> d) { return d.size(); }, 1 << 20, opt);
        if (r.is_ok())
            got += r.value();
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(got == k_total);
    CHECK(secs < 5.0);
}

TEST_CASE("tcp: shutdown(SHUT_WR) is a half close", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6002);
    auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6002));
    CHECK(c->shutdown(SHUT_WR).is_ok());
    CHECK(ev(*c) == k_out);
    CHECK(ev(*a) == (k_in | k_out | k_rdhup));
    CHECK(recv_str(*a).value() == "");
    CHECK(send_str(*a, "back").value() == 4);
    CHECK(recv_str(*c).value() == "back");
    CHECK(send_str(*c, "x", MSG_NOSIGNAL).error() == Errno(EPIPE));
    CHECK(a->shutdown(SHUT_WR).is_ok());
    // c is in TIME_WAIT now: its sock is closed.
    CHECK(ev(*c) == (k_in | k_out | k_hup | k_rdhup));
    CHECK(recv_str(*c).value() == "");
}

TEST_CASE("tcp: SHUT_RD still takes data; after SHUT_RDWR data is answered with RST", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6003);
    auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6003));
    CHECK(c->shutdown(SHUT_RD).is_ok());
    CHECK(ev(*c) == (k_in | k_out | k_rdhup));
    CHECK(recv_str(*c).value() == "");
    CHECK(send_str(*a, "data").value() == 4);
    CHECK(recv_str(*c).value() == "data");

    // a shuts down both ways: FIN_WAIT2 that will never read. Data from c resets.
    CHECK(a->shutdown(SHUT_RDWR).is_ok());
    CHECK(send_str(*c, "x").value() == 1);
    CHECK(ev(*c) == (k_in | k_out | k_hup | k_err | k_rdhup));
    CHECK(send_str(*c, "x").error() == Errno(EPIPE)); // the RST hit CLOSE_WAIT
    CHECK(so_error(*a) == ECONNRESET);
}

TEST_CASE("tcp: write after the peer closed cleanly: one write, then EPIPE", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6010);
    SECTION("writes")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6010));
        a.reset(); // close(): FIN
        CHECK(ev(*c) == (k_in | k_out | k_rdhup));
        CHECK(send_str(*c, "hello").value() == 5); // accepted; the orphan answers RST
        CHECK(ev(*c) == (k_in | k_out | k_hup | k_err | k_rdhup));
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE)); // the pending EPIPE
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE)); // a closed socket
        CHECK(recv_str(*c).value() == "");                      // the FIN came first
        CHECK(recv_str(*c).value() == "");
    }
    SECTION("recv first")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6010));
        a.reset();
        CHECK(send_str(*c, "hello").value() == 5);
        CHECK(recv_str(*c).value() == "");
        CHECK(send_str(*c, "x").error() == Errno(EPIPE));
    }
    SECTION("SO_ERROR")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6010));
        a.reset();
        CHECK(send_str(*c, "hello").value() == 5);
        CHECK(so_error(*c) == EPIPE);
        CHECK(so_error(*c) == 0);
        CHECK(send_str(*c, "x").error() == Errno(EPIPE));
    }
}

TEST_CASE("tcp: close with unread data and SO_LINGER 0 reset the connection", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6011);
    SECTION("unread data: writes")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6011));
        CHECK(send_str(*c, "abc").value() == 3);
        a.reset(); // RST, not FIN
        CHECK(ev(*c) == (k_in | k_out | k_hup | k_err | k_rdhup));
        CHECK(send_str(*c, "hello").error() == Errno(ECONNRESET));
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE));
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE));
        CHECK(recv_str(*c).value() == "");
        CHECK(c->peer_name().error() == Errno(ENOTCONN));
    }
    SECTION("unread data: recv first")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6011));
        CHECK(send_str(*c, "abc").value() == 3);
        a.reset();
        CHECK(recv_str(*c).error() == Errno(ECONNRESET));
        CHECK(recv_str(*c).value() == "");
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE));
    }
    SECTION("SO_LINGER 0")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6011));
        struct linger lg {1, 0};
        REQUIRE(a->setsockopt(SOL_SOCKET, SO_LINGER, {reinterpret_cast<const char*>(&lg), sizeof lg}).is_ok());
        size_t before = st.live_endpoints();
        a.reset();
        CHECK(st.live_endpoints() == before - 1); // no TIME_WAIT after an abort
        CHECK(ev(*c) == (k_in | k_out | k_hup | k_err | k_rdhup));
        CHECK(send_str(*c, "hello").error() == Errno(ECONNRESET));
        CHECK(send_str(*c, "hello").error() == Errno(EPIPE));
        CHECK(recv_str(*c).value() == "");
    }
    SECTION("data still queued at the receiver is read before the reset")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6011));
        CHECK(send_str(*a, "xyz").value() == 3);
        struct linger lg {1, 0};
        REQUIRE(a->setsockopt(SOL_SOCKET, SO_LINGER, {reinterpret_cast<const char*>(&lg), sizeof lg}).is_ok());
        a.reset();
        CHECK(c->bytes_readable().value() == 3);
        CHECK(recv_str(*c).value() == "xyz");
        CHECK(recv_str(*c).error() == Errno(ECONNRESET));
        CHECK(recv_str(*c).value() == "");
    }
    SECTION("FIN with data queued: data, then end of stream")
    {
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6011));
        CHECK(send_str(*a, "xyz").value() == 3);
        a.reset();
        CHECK(ev(*c) == (k_in | k_out | k_rdhup));
        CHECK(recv_str(*c).value() == "xyz");
        CHECK(recv_str(*c).value() == "");
    }
}

TEST_CASE("tcp: connection refused, blocking and nonblocking", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    SECTION("blocking")
    {
        auto c = make(st, AF_INET, 0);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, false).error() == Errno(ECONNREFUSED));
        CHECK(ev(*c) == (k_out | k_hup));
        CHECK(so_error(*c) == 0);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, false).error() == Errno(ECONNREFUSED));
    }
    SECTION("nonblocking")
    {
        auto c = make(st);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(EINPROGRESS));
        CHECK(ev(*c) == (k_in | k_out | k_hup | k_err | k_rdhup));
        CHECK(so_error(*c) == ECONNREFUSED);
        CHECK(so_error(*c) == 0);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(ECONNABORTED));
    }
    SECTION("nonblocking, connect again")
    {
        auto c = make(st);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(EINPROGRESS));
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(ECONNREFUSED));
        CHECK(ev(*c) == (k_out | k_hup));
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(EINPROGRESS));
    }
    SECTION("nonblocking, then write and recv")
    {
        auto c = make(st);
        CHECK(c->connect(v4("127.0.0.1", 6399), {}, true).error() == Errno(EINPROGRESS));
        CHECK(send_str(*c, "x").error() == Errno(ECONNREFUSED));
        CHECK(send_str(*c, "x").error() == Errno(EPIPE));
        CHECK(recv_str(*c).value() == "");
    }
    SECTION("v6-only listener refuses IPv4")
    {
        auto l = make(st, AF_INET6);
        set_int(*l, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        REQUIRE(l->bind(v6("::", 6398), {}).is_ok());
        REQUIRE(l->listen(5).is_ok());
        auto c = make(st, AF_INET, 0);
        CHECK(c->connect(v4("127.0.0.1", 6398), {}, false).error() == Errno(ECONNREFUSED));
    }
}

TEST_CASE("tcp: a full accept queue holds the SYN until accept() makes room", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6300, 0); // listen(fd, 0) still takes one
    auto c0 = make(st), c1 = make(st), c2 = make(st);
    CHECK(c0->connect(v4("127.0.0.1", 6300), {}, true).error() == Errno(EINPROGRESS));
    CHECK(c1->connect(v4("127.0.0.1", 6300), {}, true).error() == Errno(EINPROGRESS));
    CHECK(c2->connect(v4("127.0.0.1", 6300), {}, true).error() == Errno(EINPROGRESS));
    CHECK(ev(*c0) == k_out);
    CHECK(ev(*c1) == 0); // still SYN_SENT
    CHECK(c1->connect_result().error() == Errno(EAGAIN));
    CHECK(c1->connect(v4("127.0.0.1", 6300), {}, true).error() == Errno(EALREADY));
    CHECK(send_str(*c1, "x").error() == Errno(EAGAIN));
    // Connected but not accepted: the client can already send.
    CHECK(send_str(*c0, "early").value() == 5);

    auto a0 = l->accept(0).value();
    CHECK(recv_str(*a0).value() == "early");
    CHECK(ev(*c1) == k_out);
    CHECK(c1->connect_result().is_ok());
    CHECK(ev(*c2) == 0);
    auto a1 = l->accept(0).value();
    CHECK(ev(*c2) == k_out);
    auto a2 = l->accept(0).value();
    CHECK(l->accept(0).error() == Errno(EAGAIN));

    // listen(fd, 2) takes three.
    auto l2 = listener(st, 6301, 2);
    std::vector<SocketRef> cs;
    for (int i = 0; i < 5; ++i) {
        cs.push_back(make(st));
        CHECK(cs.back()->connect(v4("127.0.0.1", 6301), {}, true).error() == Errno(EINPROGRESS));
    }
    CHECK(ev(*cs[2]) == k_out);
    CHECK(ev(*cs[3]) == 0);

    // Closing the listener resets the queued connections and refuses the waiting.
    l2.reset();
    CHECK(so_error(*cs[0]) == ECONNRESET);
    CHECK(so_error(*cs[3]) == ECONNREFUSED);
    CHECK(cs[4]->connect_result().error() == Errno(ECONNREFUSED));
}

TEST_CASE("tcp: TIME_WAIT holds the port for 60 s", "[tcp]")
{
    FakeClock clock;
    InetStack st(NetworkMode::loopback, clock.fn());
    size_t base = st.live_endpoints();
    {
        auto l = make(st); // no SO_REUSEADDR
        REQUIRE(l->bind(v4("127.0.0.1", 6200), {}).is_ok());
        REQUIRE(l->listen(1).is_ok());
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6200));
        l.reset();
        a.reset(); // the server closes first: its end goes to TIME_WAIT
        c.reset();
    }
    CHECK(st.live_endpoints() == base + 1);
    auto y = make(st);
    CHECK(y->bind(v4("127.0.0.1", 6200), {}).error() == Errno(EADDRINUSE));
    CHECK(y->bind(v4("0.0.0.0", 6200), {}).error() == Errno(EADDRINUSE));
    // SO_REUSEADDR takes a TIME_WAIT only if that connection had it too (Linux
    // inet_bind_conflict(): sk_reuse on both).
    set_int(*y, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(y->bind(v4("127.0.0.1", 6200), {}).error() == Errno(EADDRINUSE));
    clock.advance(std::chrono::seconds(59));
    CHECK(y->bind(v4("127.0.0.1", 6200), {}).error() == Errno(EADDRINUSE));
    clock.advance(std::chrono::seconds(2));
    CHECK(st.live_endpoints() == base + 1); // y itself
    CHECK(y->bind(v4("127.0.0.1", 6200), {}).is_ok());

    {
        auto l = listener(st, 6201); // SO_REUSEADDR
        auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6201));
        l.reset();
        a.reset();
        c.reset();
    }
    auto z = make(st);
    CHECK(z->bind(v4("127.0.0.1", 6201), {}).error() == Errno(EADDRINUSE));
    set_int(*z, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(z->bind(v4("127.0.0.1", 6201), {}).is_ok());
    CHECK(z->listen(1).is_ok());
}

TEST_CASE("tcp: ports: ephemeral range, conflicts, SO_REUSEADDR and SO_REUSEPORT", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto s = make(st);
    REQUIRE(s->bind(v4("127.0.0.1", 0), {}).is_ok());
    uint16_t p = local_port(*s);
    CHECK(p >= 32768);
    CHECK(p <= 60999);
    CHECK(s->bind(v4("127.0.0.1", 0), {}).error() == Errno(EINVAL));
    auto t = make(st);
    CHECK(t->bind(v4("127.0.0.1", p), {}).error() == Errno(EADDRINUSE));
    CHECK(t->bind(v4("0.0.0.0", p), {}).error() == Errno(EADDRINUSE));
    CHECK(t->bind(v4("127.0.0.2", p), {}).is_ok());
    auto low = make(st);
    CHECK(low->bind(v4("127.0.0.1", 80), {}).is_ok());

    // Both with SO_REUSEADDR: both bind, only one listens.
    auto x = make(st), y = make(st);
    set_int(*x, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(*y, SOL_SOCKET, SO_REUSEADDR, 1);
    REQUIRE(x->bind(v4("127.0.0.1", 6101), {}).is_ok());
    REQUIRE(y->bind(v4("127.0.0.1", 6101), {}).is_ok());
    CHECK(x->listen(1).is_ok());
    CHECK(y->listen(1).error() == Errno(EADDRINUSE));

    // SO_REUSEPORT: several listeners, connections spread over them.
    auto r1 = make(st), r2 = make(st);
    set_int(*r1, SOL_SOCKET, SO_REUSEPORT, 1);
    set_int(*r2, SOL_SOCKET, SO_REUSEPORT, 1);
    REQUIRE(r1->bind(v4("127.0.0.1", 6103), {}).is_ok());
    REQUIRE(r1->listen(64).is_ok());
    REQUIRE(r2->bind(v4("127.0.0.1", 6103), {}).is_ok());
    REQUIRE(r2->listen(64).is_ok());
    std::vector<SocketRef> clients;
    for (int i = 0; i < 32; ++i) {
        clients.push_back(make(st, AF_INET, 0));
        REQUIRE(clients.back()->connect(v4("127.0.0.1", 6103), {}, false).is_ok());
    }
    int n1 = 0, n2 = 0;
    while (r1->accept(0).is_ok())
        ++n1;
    while (r2->accept(0).is_ok())
        ++n2;
    CHECK(n1 + n2 == 32);
    CHECK(n1 > 0);
    CHECK(n2 > 0);

    // A listen() without bind() picks a port.
    auto auto_l = make(st);
    REQUIRE(auto_l->listen(5).is_ok());
    CHECK(local_port(*auto_l) >= 32768);
    CHECK(auto_l->bind(v4("127.0.0.1", 7000), {}).error() == Errno(EINVAL));
}

TEST_CASE("tcp: address checks", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto s = make(st);
    CHECK(s->bind(v4("127.0.0.1", 6500, 15), {}).error() == Errno(EINVAL));
    CHECK(s->bind(v6("::1", 6500), {}).error() == Errno(EAFNOSUPPORT));
    auto unspec = v4("127.0.0.1", 6500);
    unspec.raw.ss_family = AF_UNSPEC;
    CHECK(s->bind(unspec, {}).error() == Errno(EAFNOSUPPORT));
    CHECK(s->bind(v4("10.1.2.3", 6500), {}).error() == Errno(EADDRNOTAVAIL));
    auto unspec_any = v4("0.0.0.0", 0);
    unspec_any.raw.ss_family = AF_UNSPEC;
    CHECK(s->bind(unspec_any, {}).is_ok());

    auto c = make(st, AF_INET, 0);
    CHECK(c->connect(v4("127.0.0.1", 80, 15), {}, false).error() == Errno(EINVAL));
    Address empty;
    CHECK(c->connect(empty, {}, false).error() == Errno(EINVAL));
    CHECK(c->connect(v6("::1", 80), {}, false).error() == Errno(EAFNOSUPPORT));
    CHECK(c->connect(v4("10.0.0.1", 80), {}, false).error() == Errno(ENETUNREACH));
    CHECK(c->connect(v4("10.0.0.1", 80), {}, true).error() == Errno(ENETUNREACH));

    auto c6 = make(st, AF_INET6, 0);
    Address short6 = v6("::1", 80);
    short6.len = 23;
    CHECK(c6->connect(short6, {}, false).error() == Errno(EINVAL));
    CHECK(c6->connect(v4("127.0.0.1", 80), {}, false).error() == Errno(EINVAL)); // shorter than sockaddr_in6
    Address wrong_family = v6("::1", 80);
    wrong_family.raw.ss_family = AF_INET;
    CHECK(c6->connect(wrong_family, {}, false).error() == Errno(EAFNOSUPPORT));
    CHECK(c6->connect(v6("2001:db8::1", 80), {}, false).error() == Errno(ENETUNREACH));
    CHECK(c6->bind(v6("2001:db8::1", 0), {}).error() == Errno(EADDRNOTAVAIL));
    CHECK(c6->bind(v6("::ffff:10.0.0.1", 0), {}).error() == Errno(EADDRNOTAVAIL));
}

TEST_CASE("tcp: AF_INET6 is dual stack: v4-mapped names, IPV6_V6ONLY", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 7000, 16, AF_INET6);
    {
        auto [c, a] = connect_to(st, *l, make(st, AF_INET, 0), v4("127.0.0.1", 7000));
        auto al = a->local_name().value(), ap = a->peer_name().value();
        CHECK(al.len == sizeof(sockaddr_in6));
        CHECK(ip_of(al) == "::ffff:127.0.0.1");
        CHECK(ip_of(ap) == "::ffff:127.0.0.1");
        CHECK(port_of(ap) == local_port(*c));
        CHECK(ip_of(c->local_name().value()) == "127.0.0.1");
    }
    {
        auto [c, a] = connect_to(st, *l, make(st, AF_INET6, 0), v6("::ffff:127.0.0.1", 7000));
        CHECK(ip_of(c->local_name().value()) == "::ffff:127.0.0.1");
        CHECK(ip_of(a->peer_name().value()) == "::ffff:127.0.0.1");
    }
    {
        auto [c, a] = connect_to(st, *l, make(st, AF_INET6, 0), v6("::1", 7000));
        CHECK(ip_of(c->local_name().value()) == "::1");
        CHECK(ip_of(a->local_name().value()) == "::1");
    }
    {
        auto [c, a] = connect_to(st, *l, make(st, AF_INET6, 0), v6("::", 7000));
        CHECK(ip_of(c->peer_name().value()) == "::1");
    }
    auto only = make(st, AF_INET6, 0);
    set_int(*only, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    CHECK(only->connect(v6("::ffff:127.0.0.1", 7000), {}, false).error() == Errno(ENETUNREACH));

    // Bind conflicts across the families.
    auto d = make(st, AF_INET6), f = make(st, AF_INET);
    REQUIRE(d->bind(v6("::", 7104), {}).is_ok());
    CHECK(f->bind(v4("127.0.0.1", 7104), {}).error() == Errno(EADDRINUSE));
    auto g = make(st, AF_INET6), h = make(st, AF_INET);
    set_int(*g, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    REQUIRE(g->bind(v6("::", 7105), {}).is_ok());
    CHECK(h->bind(v4("127.0.0.1", 7105), {}).is_ok());
    auto i = make(st, AF_INET6), j = make(st, AF_INET);
    REQUIRE(i->bind(v6("::1", 7106), {}).is_ok());
    CHECK(j->bind(v4("0.0.0.0", 7106), {}).is_ok());
    CHECK(int_opt(*i, IPPROTO_IPV6, IPV6_V6ONLY) == 1); // implied by a specific IPv6 address
    int one = 1;
    CHECK(i->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, {reinterpret_cast<const char*>(&one), sizeof one}).error() == Errno(EINVAL));
    auto m = make(st, AF_INET6);
    set_int(*m, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    CHECK(m->bind(v6("::ffff:127.0.0.1", 0), {}).error() == Errno(EINVAL));
}

TEST_CASE("tcp: connect(AF_UNSPEC) disconnects with a RST", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6400);
    auto [c, a] = connect_to(st, *l, make(st), v4("127.0.0.1", 6400));
    Address unspec = v4("127.0.0.1", 6400);
    unspec.raw.ss_family = AF_UNSPEC;
    CHECK(c->connect(unspec, {}, true).is_ok());
    CHECK(ev(*c) == (k_out | k_hup | k_err));
    CHECK(ip_of(c->local_name().value()) == "0.0.0.0");
    CHECK(so_error(*a) == ECONNRESET);
    CHECK(c->connect(v4("127.0.0.1", 6400), {}, true).error() == Errno(EINPROGRESS));
    CHECK(c->connect(v4("127.0.0.1", 6400), {}, true).is_ok());
}

TEST_CASE("tcp: shutdown of a listener", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 5557);
    CHECK(l->shutdown(SHUT_WR).is_ok());
    CHECK(ev(*l) == 0);
    CHECK(l->shutdown(SHUT_RD).is_ok());
    CHECK(ev(*l) == (k_out | k_hup));
    CHECK(l->accept(0).error() == Errno(EINVAL));
    CHECK(l->listen(5).is_ok());
    CHECK(int_opt(*l, SOL_SOCKET, SO_ACCEPTCONN) == 1);
}

TEST_CASE("tcp: options", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto s = make(st);
    set_int(*s, IPPROTO_TCP, TCP_NODELAY, 5);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_NODELAY) == 1);
    short two = 1;
    CHECK(s->setsockopt(IPPROTO_TCP, TCP_NODELAY, {reinterpret_cast<const char*>(&two), sizeof two}).error() == Errno(EINVAL));
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_KEEPIDLE) == 7200);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_KEEPINTVL) == 75);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_KEEPCNT) == 9);
    int zero = 0;
    CHECK(s->setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, {reinterpret_cast<const char*>(&zero), sizeof zero}).error() == Errno(EINVAL));
    set_int(*s, IPPROTO_TCP, TCP_KEEPIDLE, 32767);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_KEEPIDLE) == 32767);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_MAXSEG) == 536);
    set_int(*s, IPPROTO_TCP, TCP_MAXSEG, 100);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_MAXSEG) == 100);
    set_int(*s, IPPROTO_TCP, TCP_CORK, 1);
    CHECK(int_opt(*s, IPPROTO_TCP, TCP_CORK) == 1);
    set_int(*s, SOL_SOCKET, SO_KEEPALIVE, 1);
    CHECK(int_opt(*s, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(s->getsockopt(IPPROTO_TCP, 9999, 4).error() == Errno(ENOPROTOOPT));
    CHECK(s->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, {"\1\0\0\0", 4}).error() == Errno(ENOPROTOOPT));
    set_int(*s, IPPROTO_IP, IP_TOS, 0x1f);
    CHECK(int_opt(*s, IPPROTO_IP, IP_TOS) == 0x1c);
    CHECK(int_opt(*s, IPPROTO_IP, IP_TTL) == 64);
    auto info = s->getsockopt(IPPROTO_TCP, TCP_INFO, sizeof(tcp_info));
    REQUIRE(info.is_ok());
    CHECK(static_cast<int>(info.value()[0]) == 7); // TCP_CLOSE
    set_int(*s, SOL_SOCKET, SO_RCVBUF, 1000);
    CHECK(int_opt(*s, SOL_SOCKET, SO_RCVBUF) == 2304);
}

TEST_CASE("tcp: 10,000 connections leave nothing behind once TIME_WAIT expires", "[tcp]")
{
    FakeClock clock;
    InetStack st(NetworkMode::loopback, clock.fn());
    CHECK(st.live_endpoints() == 0);
    auto l = listener(st, 8080, 128);
    for (int i = 0; i < 10000; ++i) {
        auto c = make(st, AF_INET, 0);
        REQUIRE(c->connect(v4("127.0.0.1", 8080), {}, false).is_ok());
        auto a = l->accept(0).value();
        REQUIRE(send_str(*c, "ping").value() == 4);
        REQUIRE(recv_str(*a).value() == "ping");
        c.reset(); // the client closes first: its end waits in TIME_WAIT
        a.reset();
    }
    CHECK(st.live_endpoints() == 1 + 10000);
    clock.advance(std::chrono::seconds(61));
    CHECK(st.live_endpoints() == 1);
    l.reset();
    CHECK(st.live_endpoints() == 0);
}

TEST_CASE("tcp: a connection reset before accept() is still accepted, then reports the reset", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6502);
    auto c = make(st, AF_INET, 0);
    REQUIRE(c->connect(v4("127.0.0.1", 6502), {}, false).is_ok());
    struct linger lg {1, 0};
    REQUIRE(c->setsockopt(SOL_SOCKET, SO_LINGER, {reinterpret_cast<const char*>(&lg), sizeof lg}).is_ok());
    c.reset();
    CHECK(ev(*l) == k_in);
    auto a = l->accept(0).value();
    CHECK(ev(*a) == (k_in | k_out | k_hup | k_err | k_rdhup));
    CHECK(recv_str(*a).error() == Errno(ECONNRESET));
    CHECK(recv_str(*a).value() == "");
}

TEST_CASE("tcp: a blocking connect to a full listener parks, then connect_result() succeeds", "[tcp]")
{
    InetStack st(NetworkMode::loopback);
    auto l = listener(st, 6303, 0);
    auto first = make(st, AF_INET, 0);
    REQUIRE(first->connect(v4("127.0.0.1", 6303), {}, false).is_ok());
    auto blocked = make(st, AF_INET, 0);
    Recorder w;
    blocked->wait_queue()->add(&w, POLLOUT);
    // The syscall layer parks on POLLOUT after EINPROGRESS from a blocking connect.
    CHECK(blocked->connect(v4("127.0.0.1", 6303), {}, false).error() == Errno(EINPROGRESS));
    CHECK(blocked->connect_result().error() == Errno(EAGAIN));
    CHECK(w.got == 0);
    auto a = l->accept(0).value();
    CHECK((w.got & POLLOUT));
    CHECK(blocked->connect_result().is_ok());
    CHECK(blocked->connect(v4("127.0.0.1", 6303), {}, false).error() == Errno(EISCONN));
    blocked->wait_queue()->remove(&w);
    CHECK(send_str(*blocked, "hi").value() == 2);
    auto a2 = l->accept(0).value();
    CHECK(recv_str(*a2).value() == "hi");
}
