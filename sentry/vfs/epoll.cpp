#include "sentry/vfs/epoll.h"

#include <poll.h>

#include <algorithm>

namespace sentry::vfs {

namespace {

// Bits of an item's events that are flags rather than readiness.
constexpr uint32_t k_flag_bits = EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE;
// Linux EP_MAX_NESTS: an epoll may sit at most this deep in other epolls.
constexpr int k_max_nests = 4;

} // namespace

Epoll::Epoll(int flags) : File(flags)
{
    // Someone starts waiting on this epoll (epoll_wait, poll, an outer epoll):
    // make sure the host files it watches will say when they become ready.
    m_wq.on_wait = [this](uint32_t) { rearm(); };
}

Epoll::~Epoll()
{
    for (auto& [key, it] : m_items)
        unwatch(*it);
}

Epoll::Item::~Item()
{
    if (queue)
        queue->remove(this);
}

void Epoll::Item::queue_gone(WaitQueue* q)
{
    if (queue == q)
        queue = nullptr;
}

void Epoll::Item::wake(uint32_t ev)
{
    // Errors and hang-ups are always of interest (Linux ep_poll_callback()).
    if (!(ev & (events | POLLERR | POLLHUP)) || !(events & ~k_flag_bits))
        return;
    owner->make_ready(*this);
}

void Epoll::make_ready(Item& it)
{
    if (!it.listed) {
        it.listed = true;
        m_ready.push_back(&it);
    }
    m_wq.notify(POLLIN);
}

void Epoll::watch(Item& it)
{
    auto f = it.file.lock();
    WaitQueue* q = f ? f->wait_queue() : nullptr;
    if (q != it.queue)
        unwatch(it);
    it.queue = q;
    if (!q)
        return;
    uint32_t mask = wait_mask(it);
    if (mask)
        q->add(&it, mask);
}

void Epoll::unwatch(Item& it)
{
    // A queue destroyed with its file has already said so (Item::queue_gone()).
    if (it.queue)
        it.queue->remove(&it);
    it.queue = nullptr;
}

uint32_t Epoll::readiness(Item& it)
{
    auto f = it.file.lock();
    if (!f)
        return 0;
    uint32_t ev = f->poll_events();
    if (ev & POLLIN)
        ev |= POLLRDNORM;
    if (ev & POLLOUT)
        ev |= POLLWRNORM;
    return ev & ((it.events & ~k_flag_bits) | POLLERR | POLLHUP);
}

bool Epoll::host_backed(const Item& it) const
{
    return it.queue && it.queue->on_wait && !it.file.expired();
}

// What an item waits for on its file's queue. Host files say when they become
// ready only through one-shot watches that this arms (WaitQueue::on_wait): a
// level-triggered item waits for anything it asks for (a watch that fires at once
// because the file is ready is right for it). An edge-triggered one waits only for
// what is not ready now, so that a watch firing at once, or late for a state it
// already reported, is not taken for a new event (a writable pipe would report
// EPOLLOUT on every wait); the cost is that more data on a host file that is
// already readable is not seen as an edge. 0: nothing to arm now.
uint32_t Epoll::wait_mask(Item& it)
{
    uint32_t interest = it.events & ~k_flag_bits;
    uint32_t mask = interest | POLLERR | POLLHUP;
    if (!(it.events & EPOLLET) || !host_backed(it))
        return mask;
    auto f = it.file.lock();
    uint32_t now = f ? f->poll_events() : 0;
    mask &= ~now;
    if (now & POLLIN)
        mask &= ~(POLLHUP | POLLERR); // a host read watch cannot wait for these alone
    return mask & (POLLIN | POLLOUT | POLLPRI | POLLHUP | POLLERR | POLLRDHUP);
}

// Before someone sleeps on this epoll: re-arm the watches of its host files.
void Epoll::rearm()
{
    if (m_host_items == 0)
        return;
    for (auto& [key, it] : m_items) {
        if (!(it->events & ~k_flag_bits) || !host_backed(*it))
            continue;
        if (uint32_t mask = wait_mask(*it))
            it->queue->add(it.get(), mask);
    }
}

// The host files that nobody watched while no one waited (epoll_wait with a zero
// timeout parks nowhere): a level-triggered item is ready exactly when its file is,
// so look at those directly.
void Epoll::list_ready_host_items()
{
    // The scan is over every item: skip it when no item is a host file.
    if (m_host_items == 0)
        return;
    for (auto& [key, it] : m_items) {
        if (it->listed || (it->events & EPOLLET) || !(it->events & ~k_flag_bits) || !host_backed(*it))
            continue;
        if (readiness(*it)) {
            it->listed = true;
            m_ready.push_back(it.get());
        }
    }
}

void Epoll::drop_dead()
{
    for (auto i = m_items.begin(); i != m_items.end();) {
        if (i->second->file.expired()) {
            Item* it = i->second.get();
            unwatch(*it);
            m_ready.remove(it);
            m_host_items -= it->host;
            i = m_items.erase(i);
        } else {
            ++i;
        }
    }
}

Epoll::Item* Epoll::find(int fd, const FileRef& file)
{
    auto i = m_items.find({file.get(), fd});
    if (i == m_items.end() || i->second->file.expired())
        return nullptr;
    return i->second.get();
}

// How deep epolls nest below this one (0: it watches no epoll).
int Epoll::depth_below() const
{
    int d = 0;
    for (auto& [key, it] : m_items)
        if (auto f = it->file.lock())
            if (auto* e = Epoll::from(*f))
                d = std::max(d, 1 + e->depth_below());
    return d;
}

bool Epoll::reaches(const Epoll* target, int depth) const
{
    if (this == target)
        return true;
    if (depth > k_max_nests)
        return false;
    for (auto& [key, it] : m_items)
        if (auto f = it->file.lock())
            if (auto* e = Epoll::from(*f); e && e->reaches(target, depth + 1))
                return true;
    return false;
}

Result<void> Epoll::add(int fd, const FileRef& file, uint32_t events, uint64_t data)
{
    drop_dead();
    if (find(fd, file))
        return Errno(EEXIST);
    if (auto* inner = Epoll::from(*file)) {
        // No cycles, and no deeper nesting than Linux allows (ep_loop_check()).
        if (inner->reaches(this, 0) || inner->depth_below() + 1 > k_max_nests)
            return Errno(ELOOP);
    }
    auto it = std::make_unique<Item>();
    it->owner = this;
    it->fd = fd;
    it->file = file;
    it->events = events;
    it->data = data;
    Item& ref = *it;
    m_items[{file.get(), fd}] = std::move(it);
    watch(ref);
    ref.host = host_backed(ref);
    m_host_items += ref.host;
    if (readiness(ref))
        make_ready(ref);
    return {};
}

Result<void> Epoll::modify(int fd, const FileRef& file, uint32_t events, uint64_t data)
{
    Item* it = find(fd, file);
    if (!it)
        return Errno(ENOENT);
    // An exclusive wake-up registration cannot be changed (Linux do_epoll_ctl()).
    if (it->events & EPOLLEXCLUSIVE)
        return Errno(EINVAL);
    it->events = events;
    it->data = data;
    watch(*it);
    if (readiness(*it))
        make_ready(*it);
    return {};
}

Result<void> Epoll::remove(int fd, const FileRef& file)
{
    Item* it = find(fd, file);
    if (!it)
        return Errno(ENOENT);
    unwatch(*it);
    m_ready.remove(it);
    m_host_items -= it->host;
    m_items.erase({file.get(), fd});
    return {};
}

std::vector<Epoll::Ready> Epoll::collect(size_t max)
{
    list_ready_host_items();
    std::vector<Ready> out;
    for (auto i = m_ready.begin(); i != m_ready.end() && out.size() < max;) {
        Item* it = *i;
        uint32_t ev = (it->events & ~k_flag_bits) ? readiness(*it) : 0;
        if (!ev) {
            // Not ready any more: off the list until its next wake-up.
            it->listed = false;
            i = m_ready.erase(i);
            continue;
        }
        out.push_back({ev, it->data, it});
        ++i;
    }
    return out;
}

void Epoll::consumed(const Ready& r)
{
    auto* it = static_cast<Item*>(r.item);
    auto pos = std::find(m_ready.begin(), m_ready.end(), it);
    if (pos == m_ready.end())
        return;
    m_ready.erase(pos);
    if (it->events & EPOLLONESHOT)
        it->events &= k_flag_bits; // disabled until EPOLL_CTL_MOD
    if (it->events & (EPOLLET | EPOLLONESHOT)) {
        it->listed = false;
        return;
    }
    // Level-triggered: it stays listed, behind the others (Linux ep_send_events()).
    m_ready.push_back(it);
}

uint32_t Epoll::poll_events()
{
    list_ready_host_items();
    for (auto i = m_ready.begin(); i != m_ready.end();) {
        Item* it = *i;
        if ((it->events & ~k_flag_bits) && readiness(*it))
            return POLLIN;
        it->listed = false;
        i = m_ready.erase(i);
    }
    return 0;
}

} // namespace sentry::vfs
