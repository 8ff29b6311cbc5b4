// UDP on the sandbox loopback. Expected values are Linux 6.18's, from native runs.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>

#include <string>

#include "inet_addresses.h"
#include "sentry/netstack/inet.h"

using namespace sentry;
using namespace sentry::netstack;
using namespace sentry::netstack::test;

namespace {

SocketRef make(InetStack& st, int family = AF_INET)
{
    auto r = st.create(family, SOCK_DGRAM, 0, O_NONBLOCK);
    REQUIRE(r.is_ok());
    return r.value();
}

SocketRef bound(InetStack& st, const Address& a, int family = AF_INET)
{
    auto s = make(st, family);
    REQUIRE(s->bind(a, {}).is_ok());
    return s;
}

Result<size_t> send_to(Socket& s, std::string_view d, const Address* to = nullptr, int flags = 0)
{
    SendOptions opt;
    opt.flags = flags;
    opt.to = to;
    return s.send({d.data(), d.size()}, opt);
}

struct Got {
    std::string data;
    RecvOptions opt;
    size_t ret = 0;
};

Result<Got> recv_from(Socket& s, size_t max = 65536, int flags = 0)
{
    Got g;
    g.opt.flags = flags;
    auto r = s.recv([&](std::span<const char> d) {
        g.data.append(d.data(), d.size());
        return d.size();
    }, max, g.opt);
    if (r.is_error())
        return r.error();
    g.ret = r.value();
    return g;
}

void set_int(Socket& s, int level, int name, int v)
{
    REQUIRE(s.setsockopt(level, name, {reinterpret_cast<const char*>(&v), sizeof v}).is_ok());
}

int so_error(Socket& s)
{
    auto v = s.getsockopt(SOL_SOCKET, SO_ERROR, sizeof(int)).value();
    int e = 0;
    std::memcpy(&e, v.data(), sizeof e);
    return e;
}

uint32_t ev(Socket& s) { return s.poll_events() & (POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDHUP); }

} // namespace

TEST_CASE("udp: datagrams keep their boundaries and their sender", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto r = bound(st, v4("127.0.0.1", 8000));
    CHECK(ev(*r) == POLLOUT);
    auto s = make(st);
    Address to = v4("127.0.0.1", 8000);
    CHECK(send_to(*s, "hello", &to).value() == 5);
    CHECK(send_to(*s, "world!", &to).value() == 6);
    CHECK(ev(*r) == (POLLIN | POLLOUT));
    CHECK(r->bytes_readable().value() == 5);

    auto g = recv_from(*r, 3).value();
    CHECK(g.data == "hel");
    CHECK(g.ret == 3);
    CHECK((g.opt.msg_flags & MSG_TRUNC));
    REQUIRE(g.opt.from);
    CHECK(g.opt.from->len == sizeof(sockaddr_in));
    CHECK(ip_of(*g.opt.from) == "127.0.0.1");
    CHECK(port_of(*g.opt.from) == local_port(*s));

    auto peek = recv_from(*r, 3, MSG_PEEK).value();
    CHECK(peek.data == "wor");
    auto trunc = recv_from(*r, 3, MSG_TRUNC).value();
    CHECK(trunc.ret == 6); // the whole length
    CHECK(trunc.data == "wor");
    CHECK(recv_from(*r).error() == Errno(EAGAIN));

    CHECK(send_to(*s, "", &to).value() == 0);
    CHECK(recv_from(*r).value().ret == 0);
    CHECK(ev(*r) == POLLOUT);
}

TEST_CASE("udp: sizes, missing addresses, bad addresses", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto r = bound(st, v4("127.0.0.1", 8001));
    auto s = make(st);
    Address to = v4("127.0.0.1", 8001);
    CHECK(send_to(*s, "x").error() == Errno(EDESTADDRREQ));
    CHECK(recv_from(*s).error() == Errno(EAGAIN));
    std::string big(65507, 'b');
    CHECK(send_to(*s, big, &to).value() == 65507);
    big.push_back('c');
    CHECK(send_to(*s, big, &to).error() == Errno(EMSGSIZE));
    CHECK(recv_from(*r, 70000).value().ret == 65507);

    Address short_to = v4("127.0.0.1", 8001, 15);
    CHECK(send_to(*s, "x", &short_to).error() == Errno(EINVAL));
    Address six = v6("::1", 8001);
    CHECK(send_to(*s, "x", &six).error() == Errno(EAFNOSUPPORT));
    Address unspec = v4("127.0.0.1", 8001);
    unspec.raw.ss_family = AF_UNSPEC; // taken as AF_INET by udp_sendmsg()
    CHECK(send_to(*s, "x", &unspec).value() == 1);
    Address zero_port = v4("127.0.0.1", 0);
    CHECK(send_to(*s, "x", &zero_port).error() == Errno(EINVAL));
    Address far = v4("10.0.0.1", 53);
    CHECK(send_to(*s, "x", &far).error() == Errno(ENETUNREACH));
    CHECK(s->connect(far, {}, false).error() == Errno(ENETUNREACH));
}

TEST_CASE("udp: a connected socket hears ECONNREFUSED once per unreachable send", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto c = make(st);
    REQUIRE(c->connect(v4("127.0.0.1", 8999), {}, false).is_ok());
    CHECK(send_to(*c, "x").value() == 1);
    CHECK(ev(*c) == (POLLOUT | POLLERR));
    CHECK(send_to(*c, "x").error() == Errno(ECONNREFUSED));
    CHECK(send_to(*c, "x").value() == 1);
    CHECK(send_to(*c, "x").error() == Errno(ECONNREFUSED));
    CHECK(recv_from(*c).error() == Errno(EAGAIN));
    CHECK(send_to(*c, "x").value() == 1);
    CHECK(so_error(*c) == ECONNREFUSED);
    CHECK(send_to(*c, "x").value() == 1);

    // The error comes before datagrams already queued.
    auto c2 = bound(st, v4("127.0.0.1", 0));
    auto s3 = make(st);
    Address to_c2 = v4("127.0.0.1", local_port(*c2));
    CHECK(send_to(*s3, "data", &to_c2).value() == 4);
    REQUIRE(c2->connect(v4("127.0.0.1", 8999), {}, false).is_ok());
    CHECK(send_to(*c2, "x").value() == 1);
    CHECK(recv_from(*c2).error() == Errno(ECONNREFUSED));
    CHECK(recv_from(*c2).value().data == "data");

    // An unconnected sender hears nothing.
    auto u = make(st);
    Address dead = v4("127.0.0.1", 8999);
    CHECK(send_to(*u, "x", &dead).value() == 1);
    CHECK(send_to(*u, "x", &dead).value() == 1);
    CHECK(ev(*u) == POLLOUT);
}

TEST_CASE("udp: a connected socket takes datagrams from its peer only", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto peer = bound(st, v4("127.0.0.1", 8010));
    auto other = make(st);
    auto c = bound(st, v4("127.0.0.1", 0));
    REQUIRE(c->connect(v4("127.0.0.1", 8010), {}, false).is_ok());
    Address to_c = v4("127.0.0.1", local_port(*c));
    CHECK(send_to(*other, "zz", &to_c).value() == 2);
    CHECK(recv_from(*c).error() == Errno(EAGAIN));
    CHECK(send_to(*peer, "ok", &to_c).value() == 2);
    CHECK(recv_from(*c).value().data == "ok");
    // sendto another address is allowed on a connected socket.
    Address to_other = v4("127.0.0.1", 8011);
    auto o2 = bound(st, to_other);
    CHECK(send_to(*c, "side", &to_other).value() == 4);
    CHECK(recv_from(*o2).value().data == "side");
    CHECK(port_of(c->peer_name().value()) == 8010);
}

TEST_CASE("udp: the receive queue is bounded by SO_RCVBUF; excess is dropped", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto s = make(st);
    auto r = bound(st, v4("127.0.0.1", 0));
    Address to = v4("127.0.0.1", local_port(*r));
    for (int i = 0; i < 5000; ++i)
        REQUIRE(send_to(*s, "x", &to).value() == 1);
    int n = 0;
    while (recv_from(*r).is_ok())
        ++n;
    CHECK(n == 256);

    auto small = make(st);
    set_int(*small, SOL_SOCKET, SO_RCVBUF, 4096);
    REQUIRE(small->bind(v4("127.0.0.1", 0), {}).is_ok());
    Address to_small = v4("127.0.0.1", local_port(*small));
    std::string hundred(100, 'h');
    for (int i = 0; i < 50; ++i)
        REQUIRE(send_to(*s, hundred, &to_small).value() == 100);
    n = 0;
    while (recv_from(*small).is_ok())
        ++n;
    CHECK(n == 9);
    std::string large(20000, 'l');
    for (int i = 0; i < 5; ++i)
        REQUIRE(send_to(*s, large, &to_small).value() == large.size());
    n = 0;
    while (recv_from(*small).is_ok())
        ++n;
    CHECK(n == 1); // an empty queue always takes one
}

TEST_CASE("udp: implicit bind, disconnect, names", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto u = make(st);
    CHECK(local_port(*u) == 0);
    Address dead = v4("127.0.0.1", 8999);
    CHECK(send_to(*u, "x", &dead).value() == 1);
    uint16_t p = local_port(*u);
    CHECK(p >= 32768);
    CHECK(p <= 60999);
    CHECK(ip_of(u->local_name().value()) == "0.0.0.0");
    REQUIRE(u->connect(dead, {}, false).is_ok());
    CHECK(ip_of(u->local_name().value()) == "127.0.0.1");
    Address unspec = v4("0.0.0.0", 0);
    unspec.raw.ss_family = AF_UNSPEC;
    CHECK(u->connect(unspec, {}, false).is_ok());
    CHECK(local_port(*u) == 0);
    CHECK(ip_of(u->local_name().value()) == "0.0.0.0");
    CHECK(u->peer_name().error() == Errno(ENOTCONN));
    CHECK(send_to(*u, "x").error() == Errno(EDESTADDRREQ));

    // shutdown of an unconnected socket: ENOTCONN, yet it takes effect.
    CHECK(u->shutdown(SHUT_RD).error() == Errno(ENOTCONN));
    CHECK(ev(*u) == (POLLIN | POLLOUT | POLLRDHUP));
    REQUIRE(u->connect(dead, {}, false).is_ok());
    CHECK(u->shutdown(SHUT_WR).is_ok());
    CHECK(ev(*u) == (POLLIN | POLLOUT | POLLHUP | POLLRDHUP));
    CHECK(send_to(*u, "x").error() == Errno(EPIPE));
    CHECK(recv_from(*u, 10, MSG_DONTWAIT).error() == Errno(EAGAIN));
}

TEST_CASE("udp: bind conflicts; SO_REUSEADDR on both shares a port, the newest receives", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto x = bound(st, v4("127.0.0.1", 8100));
    auto y = make(st);
    CHECK(y->bind(v4("127.0.0.1", 8100), {}).error() == Errno(EADDRINUSE));
    set_int(*y, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(y->bind(v4("127.0.0.1", 8100), {}).error() == Errno(EADDRINUSE));
    set_int(*x, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(y->bind(v4("127.0.0.1", 8100), {}).is_ok());
    auto z = make(st);
    set_int(*z, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(z->bind(v4("127.0.0.1", 8100), {}).is_ok());
    auto s = make(st);
    Address to = v4("127.0.0.1", 8100);
    CHECK(send_to(*s, "q", &to).value() == 1);
    CHECK(recv_from(*x).error() == Errno(EAGAIN));
    CHECK(recv_from(*y).error() == Errno(EAGAIN));
    CHECK(recv_from(*z).value().data == "q");

    // An exact address wins over a wildcard, whichever bound first.
    auto e = make(st);
    set_int(*e, SOL_SOCKET, SO_REUSEADDR, 1);
    REQUIRE(e->bind(v4("127.0.0.1", 8101), {}).is_ok());
    auto w = make(st);
    set_int(*w, SOL_SOCKET, SO_REUSEADDR, 1);
    REQUIRE(w->bind(v4("0.0.0.0", 8101), {}).is_ok());
    Address to_e = v4("127.0.0.1", 8101);
    CHECK(send_to(*s, "exact", &to_e).value() == 5);
    CHECK(recv_from(*w).error() == Errno(EAGAIN));
    CHECK(recv_from(*e).value().data == "exact");
}

TEST_CASE("udp: an AF_INET6 socket receives IPv4 datagrams v4-mapped", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    auto r6 = bound(st, v6("::", 8200), AF_INET6);
    auto s = make(st);
    Address to = v4("127.0.0.1", 8200);
    CHECK(send_to(*s, "v4", &to).value() == 2);
    auto g = recv_from(*r6).value();
    CHECK(g.data == "v4");
    REQUIRE(g.opt.from);
    CHECK(g.opt.from->len == sizeof(sockaddr_in6));
    CHECK(ip_of(*g.opt.from) == "::ffff:127.0.0.1");
    // And sends to IPv4 with either address form.
    auto r4 = bound(st, v4("127.0.0.1", 8201));
    Address to4 = v4("127.0.0.1", 8201);
    Address mapped = v6("::ffff:127.0.0.1", 8201);
    CHECK(send_to(*r6, "a", &to4).value() == 1);
    CHECK(send_to(*r6, "b", &mapped).value() == 1);
    CHECK(recv_from(*r4).value().data == "a");
    auto g2 = recv_from(*r4).value();
    CHECK(g2.data == "b");
    CHECK(port_of(*g2.opt.from) == 8200);
    // ::1 to ::1.
    auto s6 = make(st, AF_INET6);
    Address to6 = v6("::1", 8200);
    CHECK(send_to(*s6, "six", &to6).value() == 3);
    CHECK(ip_of(*recv_from(*r6).value().opt.from) == "::1");
}

TEST_CASE("udp: sockets are counted until closed", "[udp]")
{
    InetStack st(NetworkMode::loopback);
    {
        auto a = bound(st, v4("127.0.0.1", 8300));
        auto b = make(st, AF_INET6);
        CHECK(st.live_endpoints() == 2);
    }
    CHECK(st.live_endpoints() == 0);
    auto again = make(st);
    CHECK(again->bind(v4("127.0.0.1", 8300), {}).is_ok());
}
