#pragma once
// The one event loop (Boost.Asio io_context, single-threaded) that owns all kernel
// state. Host I/O readiness, timers and ptrace stops all arrive through it.

#include <boost/asio/io_context.hpp>

namespace sentry {

boost::asio::io_context& event_loop();

} // namespace sentry
