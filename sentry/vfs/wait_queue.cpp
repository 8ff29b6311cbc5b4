#include "sentry/vfs/wait_queue.h"

#include <algorithm>

namespace sentry::vfs {

WaitQueue::~WaitQueue()
{
    auto entries = std::move(m_entries);
    m_entries.clear();
    for (auto& e : entries)
        e.waiter->queue_gone(this);
}

void WaitQueue::add(Waiter* w, uint32_t mask)
{
    for (auto& e : m_entries) {
        if (e.waiter == w) {
            e.mask |= mask;
            if (on_wait)
                on_wait(mask);
            return;
        }
    }
    m_entries.push_back({w, mask});
    if (on_wait)
        on_wait(mask);
}

void WaitQueue::remove(Waiter* w)
{
    std::erase_if(m_entries, [w](const Entry& e) { return e.waiter == w; });
}

void WaitQueue::notify(uint32_t events)
{
    // Waking may make a waiter remove itself: work on a copy.
    auto entries = m_entries;
    for (auto& e : entries)
        if (e.mask & events)
            e.waiter->wake(events);
}

} // namespace sentry::vfs
