#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>

#include "sentry/vfs/pipe.h"

using namespace sentry;

TEST_CASE("pipe: data flows, EOF after the last writer, EPIPE after the last reader")
{
    auto [r, w] = vfs::make_pipe(0);
    char buf[16];
    REQUIRE(r->read({buf, sizeof buf}).error() == Errno(EAGAIN));
    REQUIRE(w->write({"hello", 5}).value() == 5);
    REQUIRE(r->read({buf, sizeof buf}).value() == 5);
    w.reset();
    REQUIRE(r->read({buf, sizeof buf}).value() == 0);
    auto [r2, w2] = vfs::make_pipe(0);
    r2.reset();
    REQUIRE(w2->write({"x", 1}).error() == Errno(EPIPE));
}

TEST_CASE("pipe: writes up to PIPE_BUF are atomic, larger ones fill what fits")
{
    auto [r, w] = vfs::make_pipe(0);
    std::vector<char> big(vfs::Pipe::k_default_capacity - 100, 'a');
    REQUIRE(w->write({big.data(), big.size()}).value() == big.size());
    std::vector<char> small(200, 'b');
    REQUIRE(w->write({small.data(), small.size()}).error() == Errno(EAGAIN));
    std::vector<char> large(8192, 'c');
    REQUIRE(w->write({large.data(), large.size()}).value() == 100);
    REQUIRE(!(w->poll_events() & POLLOUT));
    REQUIRE(r->poll_events() & POLLIN);
}
