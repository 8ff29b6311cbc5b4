// Network mode "host": guest TCP and UDP sockets to a server outside the sandbox,
// here a real socket of this process bound to the machine's first non-loopback
// IPv4 address (the tests say SKIP without one). The event loop is run by hand, as
// the kernel runs it while asynchronous waits are outstanding.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "sentry/common/event_loop.h"
#include "sentry/netstack/inet.h"

using namespace sentry;
using namespace sentry::netstack;

namespace {

std::optional<in_addr> outside_address()
{
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) < 0)
        return std::nullopt;
    std::optional<in_addr> found;
    for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
            continue;
        found = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    }
    freeifaddrs(list);
    return found;
}

Address v4(in_addr ip, uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr = ip;
    return Address::of(sin);
}

// A host socket of this test, bound to `ip` on an ephemeral port.
struct HostEnd {
    int fd;
    uint16_t port = 0;
    HostEnd(int type, in_addr ip)
    {
        fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr = ip;
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
        socklen_t len = sizeof sin;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
        port = ntohs(sin.sin_port);
    }
    ~HostEnd() { close(fd); }
};

struct Woken : vfs::Waiter {
    uint32_t events = 0;
    void wake(uint32_t ev) override { events |= ev; }
};

// Parks `w` on the socket's queue as a blocked task does, and runs the loop until
// it hears of one of `mask` (or 5 s pass). `repark` false: `w` is on the queue
// already, since before anything was armed (as an epoll item can be).
bool wait_for(Socket& s, Woken& w, uint32_t mask, bool repark = true)
{
    if (repark) {
        s.wait_queue()->remove(&w);
        s.wait_queue()->add(&w, mask);
    }
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!(w.events & mask) && std::chrono::steady_clock::now() < end) {
        event_loop().restart();
        event_loop().run_one_for(std::chrono::milliseconds(100));
    }
    bool got = w.events & mask;
    w.events = 0;
    s.wait_queue()->remove(&w);
    return got;
}

std::string recv_all(Socket& s)
{
    std::string out;
    RecvOptions opt;
    auto r = s.recv([&](std::span<const char> d) {
        out.append(d.data(), d.size());
        return d.size();
    }, 4096, opt);
    return r.is_error() ? "error " + std::to_string(r.error().code()) : out;
}

// Lets the cancelled waits of closed host sockets finish.
void drain_loop()
{
    for (int i = 0; i < 50 && !io_idle(); ++i) {
        event_loop().restart();
        event_loop().poll();
    }
}

} // namespace

TEST_CASE("host mode: TCP to an outside address goes through a host socket", "[host_net]")
{
    auto ip = outside_address();
    if (!ip) {
        WARN("SKIP: no non-loopback IPv4 address");
        return;
    }
    HostEnd server(SOCK_STREAM, *ip);
    REQUIRE(listen(server.fd, 4) == 0);
    InetStack st(NetworkMode::host);
    {
        auto s = st.create(AF_INET, SOCK_STREAM, 0, O_NONBLOCK).value();
        Woken w;
        s->wait_queue()->add(&w, POLLOUT | POLLERR | POLLHUP); // registered before connect, as epoll may be

        auto r = s->connect(v4(*ip, server.port), {}, true);
        REQUIRE(r.is_error());
        CHECK(r.error() == Errno(EINPROGRESS));
        CHECK(!io_idle()); // a write wait is armed for the handshake
        REQUIRE(wait_for(*s, w, POLLOUT, false));
        CHECK(s->connect_result().is_error() == false);
        CHECK((s->poll_events() & POLLOUT));

        // Names: the host connection's.
        auto peer = s->peer_name().value();
        CHECK(peer.as<sockaddr_in>().sin_addr.s_addr == ip->s_addr);
        CHECK(ntohs(peer.as<sockaddr_in>().sin_port) == server.port);
        CHECK(s->local_name().value().as<sockaddr_in>().sin_addr.s_addr == ip->s_addr);

        int c = accept4(server.fd, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(c >= 0);
        SendOptions so;
        CHECK(s->send(std::span<const char>("hello", 5), so).value() == 5);
        char buf[8] = {};
        CHECK(read(c, buf, sizeof buf) == 5);
        CHECK(std::string(buf, 5) == "hello");

        // Nothing to read yet: EAGAIN, and a read wait wakes the guest when data comes.
        CHECK(recv_all(*s) == "error " + std::to_string(EAGAIN));
        CHECK(write(c, "world", 5) == 5);
        REQUIRE(wait_for(*s, w, POLLIN));
        CHECK(recv_all(*s) == "world");

        // The peer closes: end of stream, then the first write draws its RST and a
        // later one fails with EPIPE (the syscall layer's SIGPIPE).
        close(c);
        REQUIRE(wait_for(*s, w, POLLIN));
        CHECK(recv_all(*s).empty());
        std::optional<Errno> failed;
        for (int i = 0; i < 50 && !failed; ++i) {
            auto sent = s->send(std::span<const char>("x", 1), so);
            if (sent.is_error())
                failed = sent.error();
            else
                usleep(20000);
        }
        REQUIRE(failed);
        CHECK(*failed == Errno(EPIPE));
        CHECK(s->epipe_raises_sigpipe());
    }
    drain_loop();
    CHECK(io_idle()); // every armed wait finished with its socket
}

TEST_CASE("host mode: a refused connect reports ECONNREFUSED and leaves a fresh socket", "[host_net]")
{
    auto ip = outside_address();
    if (!ip) {
        WARN("SKIP: no non-loopback IPv4 address");
        return;
    }
    HostEnd dead(SOCK_STREAM, *ip); // bound, not listening
    InetStack st(NetworkMode::host);
    {
        auto s = st.create(AF_INET, SOCK_STREAM, 0, 0).value();
        Woken w;
        auto r = s->connect(v4(*ip, dead.port), {}, false);
        REQUIRE(r.is_error());
        REQUIRE(r.error() == Errno(EINPROGRESS)); // the syscall layer parks a blocking caller
        REQUIRE(wait_for(*s, w, POLLOUT | POLLERR | POLLHUP));
        auto out = s->connect_result();
        REQUIRE(out.is_error());
        CHECK(out.error() == Errno(ECONNREFUSED));

        // Fresh again: a loopback connect stays in the sandbox.
        auto l = st.create(AF_INET, SOCK_STREAM, 0, O_NONBLOCK).value();
        sockaddr_in lo{};
        lo.sin_family = AF_INET;
        lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(!l->bind(Address::of(lo), {}).is_error());
        REQUIRE(!l->listen(1).is_error());
        auto name = l->local_name().value();
        auto r2 = s->connect(name, {}, false);
        CHECK((!r2.is_error() || r2.error() == Errno(EINPROGRESS)));
        CHECK(!l->accept(0).is_error());
    }
    drain_loop();
    CHECK(io_idle());
}

TEST_CASE("host mode: UDP to an outside address, connected and not", "[host_net]")
{
    auto ip = outside_address();
    if (!ip) {
        WARN("SKIP: no non-loopback IPv4 address");
        return;
    }
    HostEnd echo(SOCK_DGRAM, *ip);
    InetStack st(NetworkMode::host);
    {
        auto s = st.create(AF_INET, SOCK_DGRAM, 0, O_NONBLOCK).value();
        Woken w;
        Address to = v4(*ip, echo.port);
        SendOptions so;
        so.to = &to;
        CHECK(s->send(std::span<const char>("ping", 4), so).value() == 4);
        char buf[16];
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        CHECK(recvfrom(echo.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl) == 4);
        // Its source is the host socket's name, which getsockname shows.
        auto local = s->local_name().value();
        CHECK(local.as<sockaddr_in>().sin_port == from.sin_port);
        CHECK(sendto(echo.fd, "pong!", 5, 0, reinterpret_cast<sockaddr*>(&from), fl) == 5);
        REQUIRE(wait_for(*s, w, POLLIN));
        RecvOptions ro;
        std::string got;
        auto n = s->recv([&](std::span<const char> d) { got.assign(d.data(), d.size()); return d.size(); }, 2, ro);
        CHECK(n.value() == 2);
        CHECK(got == "po");
        CHECK(ro.full == 5);
        CHECK((ro.msg_flags & MSG_TRUNC));
        REQUIRE(ro.from);
        CHECK(ntohs(ro.from->as<sockaddr_in>().sin_port) == echo.port);

        // In loopback mode the same datagram has no route.
        InetStack lo(NetworkMode::loopback);
        auto u = lo.create(AF_INET, SOCK_DGRAM, 0, O_NONBLOCK).value();
        auto r = u->send(std::span<const char>("ping", 4), so);
        REQUIRE(r.is_error());
        CHECK(r.error() == Errno(ENETUNREACH));
    }
    drain_loop();
    CHECK(io_idle());
}
