#pragma once
// Readiness and wait queues. A File owns a WaitQueue; a blocked task registers a
// Waiter with the events it waits for and is woken (never called back inline with
// kernel state half-updated: waking only schedules the task).

#include <cstdint>
#include <functional>
#include <vector>

namespace sentry::vfs {

class WaitQueue;

// Readiness bits use the poll(2)/epoll values (POLLIN == EPOLLIN, ...).
class Waiter {
public:
    virtual ~Waiter() = default;
    virtual void wake(uint32_t events) = 0;
    // `q` is being destroyed with this waiter still on it: forget it (never call
    // q->remove). A queue may outlive the file that showed it (a pipe's is shared by
    // both ends) or die with it (an eventfd's), so a waiter cannot tell from the file.
    virtual void queue_gone(WaitQueue* q) { (void)q; }
};

class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;
    ~WaitQueue();

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
