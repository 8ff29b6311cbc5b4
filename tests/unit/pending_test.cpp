#include <catch2/catch.hpp>
#include <signal.h>

#include "sentry/signals/pending.h"

using namespace sentry;
using signals::PendingQueue;
using signals::SigSet;

TEST_CASE("pending: standard signals coalesce, keeping the first siginfo")
{
    PendingQueue q;
    REQUIRE(q.enqueue(signals::make_siginfo(SIGUSR1, SI_USER, 7), 100) == PendingQueue::EnqueueResult::Queued);
    REQUIRE(q.enqueue(signals::make_siginfo(SIGUSR1, SI_USER, 8), 100) == PendingQueue::EnqueueResult::Coalesced);
    auto i = q.dequeue(SigSet());
    REQUIRE(i);
    REQUIRE(i->u.kill.pid == 7);
    REQUIRE(!q.dequeue(SigSet()));
}

TEST_CASE("pending: realtime signals queue FIFO per number, lowest number first")
{
    PendingQueue q;
    int rt = 34;
    for (int v = 0; v < 3; ++v) {
        auto info = signals::make_siginfo(rt + 1, SI_QUEUE);
        info.u.rt.value = static_cast<uint64_t>(100 + v);
        REQUIRE(q.enqueue(info, 100) == PendingQueue::EnqueueResult::Queued);
    }
    auto low = signals::make_siginfo(rt, SI_QUEUE);
    low.u.rt.value = 1;
    q.enqueue(low, 100);
    REQUIRE(q.dequeue(SigSet())->u.rt.value == 1);
    REQUIRE(q.dequeue(SigSet())->u.rt.value == 100);
    REQUIRE(q.dequeue(SigSet())->u.rt.value == 101);
    REQUIRE(q.has(rt + 1));
    REQUIRE(q.dequeue(SigSet())->u.rt.value == 102);
    REQUIRE(!q.has(rt + 1));
}

TEST_CASE("pending: the realtime queue limit gives overflow (sigqueue EAGAIN)")
{
    PendingQueue q;
    REQUIRE(q.enqueue(signals::make_siginfo(40, SI_QUEUE), 1) == PendingQueue::EnqueueResult::Queued);
    REQUIRE(q.enqueue(signals::make_siginfo(41, SI_QUEUE), 1) == PendingQueue::EnqueueResult::Overflow);
}

TEST_CASE("pending: blocked signals stay; synchronous faults go first")
{
    PendingQueue q;
    q.enqueue(signals::make_siginfo(SIGHUP, SI_USER), 10);
    q.enqueue(signals::make_siginfo(SIGSEGV, SI_KERNEL), 10);
    REQUIRE(q.next(SigSet())== SIGSEGV);
    REQUIRE(q.next(SigSet::of(SIGSEGV)) == SIGHUP);
    REQUIRE(!q.next(SigSet::of(SIGSEGV) | SigSet::of(SIGHUP)));
    q.discard(SIGHUP);
    REQUIRE(!q.has(SIGHUP));
}
