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
    // Queue `info` (its si_signo names the signal). `limit` is the target's
    // RLIMIT_SIGPENDING, counted over every queued siginfo of the sandbox (Linux
    // counts per user). Beyond it (Linux __send_signal_locked()): a standard signal
    // from kill(2) or the kernel (si_code >= 0) is queued anyway; a realtime one sent
    // with sigqueue/tgkill/timers fails (Overflow: EAGAIN); anything else is kept as
    // a bare pending bit whose siginfo is lost (it reads as SI_USER from pid 0).
    enum class EnqueueResult { Queued, Coalesced, Overflow };
    EnqueueResult enqueue(const abi::SigInfo& info, size_t limit);

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

    // Siginfos queued in every queue of this sandbox (what the limit counts).
    static size_t total_queued();

    ~PendingQueue() { clear(); }
    PendingQueue() = default;
    PendingQueue(const PendingQueue&) = delete;
    PendingQueue& operator=(const PendingQueue&) = delete;

private:
    struct Entry {
        abi::SigInfo info;
        bool counted;
    };
    void erase_entry(std::deque<Entry>::iterator it);
    std::deque<Entry> m_queue;
    SigSet m_set;
};

// A siginfo as the kernel fills it for kill(2)/tkill(2) and friends.
abi::SigInfo make_siginfo(int sig, int code, int pid = 0, unsigned uid = 0);

} // namespace sentry::signals
