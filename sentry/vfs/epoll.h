#pragma once
// epoll (Linux fs/eventpoll.c). An interest list of (file, fd) items, each a Waiter
// on its file's wait queue: a wake-up puts the item on the ready list, and
// epoll_wait re-checks each ready item's readiness when it reports (so level-
// triggered items stay listed while ready, edge-triggered ones leave until the next
// wake-up, one-shot ones are disabled until EPOLL_CTL_MOD). A registration belongs
// to the open file, not the fd: it lives while the file does (closing one of two
// dup'd fds keeps it) and goes away with the file's last reference.

#include <sys/epoll.h>

#include <list>
#include <map>
#include <memory>
#include <vector>

#include "sentry/vfs/file.h"

namespace sentry::vfs {

class Epoll final : public File {
public:
    explicit Epoll(int flags);
    ~Epoll() override;

    static Epoll* from(File& f) { return dynamic_cast<Epoll*>(&f); }

    // EPOLL_CTL_ADD/MOD/DEL. The caller has checked the fds; these check the
    // interest list (EEXIST, ENOENT) and epoll nesting (ELOOP).
    Result<void> add(int fd, const FileRef& file, uint32_t events, uint64_t data);
    Result<void> modify(int fd, const FileRef& file, uint32_t events, uint64_t data);
    Result<void> remove(int fd, const FileRef& file);

    struct Ready {
        uint32_t events;
        uint64_t data;
        void* item;
    };
    // Up to `max` ready items with their events now, in ready-list order. Nothing
    // is consumed until consumed() is called for what reached the caller.
    std::vector<Ready> collect(size_t max);
    void consumed(const Ready& r);

    uint32_t poll_events() override;
    Result<struct stat> stat() override { return anon_inode_stat(); }
    bool reads_records() const override { return true; } // no read at all: EINVAL
    // ep_eventpoll_ioctl(): EINVAL for any request it does not know (FIONREAD too).
    Result<int> bytes_readable() override { return Errno(EINVAL); }
    WaitQueue* wait_queue() override { return &m_wq; }
    // noop_llseek: the position stays 0 and every seek "succeeds".
    Result<off_t> lseek(off_t, int) override { return 0; }
    std::string description() const override { return "anon_inode:[eventpoll]"; }

private:
    struct Item final : Waiter {
        Epoll* owner = nullptr;
        int fd = -1;
        std::weak_ptr<File> file;
        // Where it waits: the file's queue, which may outlive the file (a pipe's)
        // or die with it (queue_gone() then clears this).
        WaitQueue* queue = nullptr;
        uint32_t events = 0;
        uint64_t data = 0;
        bool listed = false; // on the ready list
        bool host = false;   // its file is a host file (readiness through watches)
        ~Item() override;
        void wake(uint32_t ev) override;
        void queue_gone(WaitQueue* q) override;
    };
    using Key = std::pair<const File*, int>;

    Item* find(int fd, const FileRef& file);
    void make_ready(Item& it);
    void watch(Item& it);
    void unwatch(Item& it);
    uint32_t readiness(Item& it);
    // Re-arm the host readiness watches of items before the caller sleeps.
    void rearm();
    bool host_backed(const Item& it) const;
    uint32_t wait_mask(Item& it);
    void list_ready_host_items();
    void drop_dead();
    bool reaches(const Epoll* target, int depth) const;
    int depth_below() const;

    std::map<Key, std::unique_ptr<Item>> m_items;
    std::list<Item*> m_ready;
    size_t m_host_items = 0; // how many items watch host files (most epolls: none)
    WaitQueue m_wq;
};

} // namespace sentry::vfs
