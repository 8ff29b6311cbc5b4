#include "sentry/common/event_loop.h"

namespace sentry {

boost::asio::io_context& event_loop()
{
    // One thread runs the loop; no locking is needed inside Asio.
    static boost::asio::io_context ctx{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    return ctx;
}

namespace {
long g_outstanding = 0;
}

void io_started() { ++g_outstanding; }
void io_finished() { --g_outstanding; }
bool io_idle() { return g_outstanding == 0; }

} // namespace sentry
