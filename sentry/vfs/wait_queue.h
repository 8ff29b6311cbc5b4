#pragma once
// Readiness and wait queues. A File owns a WaitQueue; a blocked task registers a
// Waiter with the events it waits for and is woken (never called back inline with
// kernel state half-updated: waking only schedules the task).

#include <cstdint>
#include <functional>
#include <vector>

namespace sentry::vfs {

// Readiness bits use the poll(2)/epoll values (POLLIN == EPOLLIN, ...).
class Waiter {
public:
    virtual ~Waiter() = default;
    virtual void wake(uint32_t events) = 0;
};

class WaitQueue {
public:
    void add(Waiter* w, uint32_t mask);
    void remove(Waiter* w);
    // Wake every waiter whose mask intersects `events`.
    void notify(uint32_t events);
    bool empty() const { return m_entries.empty(); }
    // Called when the first waiter arrives (a host-fd file arms its readiness watch).
    std::function<void(uint32_t mask)> on_wait;

private:
    struct Entry {
        Waiter* waiter;
        uint32_t mask;
    };
    std::vector<Entry> m_entries;
};

} // namespace sentry::vfs
