#pragma once
// The one event loop (Boost.Asio io_context, single-threaded) that owns all kernel
// state. Host I/O readiness, timers and ptrace stops all arrive through it.

#include <boost/asio/io_context.hpp>

namespace sentry {

boost::asio::io_context& event_loop();

// Asynchronous operations (timers, host fd waits) started on the loop and not yet
// completed. While there are none, the kernel may wait for ptrace stops in a plain
// blocking waitpid(), the cheapest wake-up there is.
void io_started();
void io_finished();
bool io_idle();

} // namespace sentry
