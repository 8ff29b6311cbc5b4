#pragma once
// Pending signals of a thread or of a process (Linux struct sigpending): standard
// signals coalesce (one instance, the first siginfo kept), realtime signals queue
// each with its own siginfo. Dequeue order follows Linux kernel/signal.c:
// next_signal(): synchronous faults first, then the lowest number; FIFO within one
// realtime number.

#include <deque>
#include <optional>

#include "sentry/abi/x86_64/signal_abi.h"
#include "sentry/signals/signal.h"

namespace sentry::signals {

class PendingQueue {
public:
    // Queue `info` (its si_signo names the signal). Returns false if a standard
    // signal was already pending (coalesced) or the realtime queue is full.
    enum class EnqueueResult { Queued, Coalesced, Overflow };
    EnqueueResult enqueue(const abi::SigInfo& info, size_t rt_limit);

    // Take the next signal not in `blocked`.
    std::optional<abi::SigInfo> dequeue(SigSet blocked);
    // Take the next signal of those in `wanted` (sigtimedwait, signalfd).
    std::optional<abi::SigInfo> dequeue_from(SigSet wanted) { return dequeue(~wanted); }
    // Peek at the signal dequeue() would return.
    std::optional<int> next(SigSet blocked) const;

    SigSet set() const { return m_set; }
    bool has(int sig) const { return m_set.has(sig); }
    void discard(int sig);
    void clear();
    size_t queued() const { return m_queue.size(); }

private:
    std::deque<abi::SigInfo> m_queue;
    SigSet m_set;
};

// A siginfo as the kernel fills it for kill(2)/tkill(2) and friends.
abi::SigInfo make_siginfo(int sig, int code, int pid = 0, unsigned uid = 0);

} // namespace sentry::signals
