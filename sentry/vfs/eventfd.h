#pragma once
// eventfd (Linux fs/eventfd.c): a 64-bit counter. write adds to it, read takes it
// (or, with EFD_SEMAPHORE, takes 1); a read of 0 and a write that would pass
// 0xfffffffffffffffe would block.

#include <cstdint>

#include "sentry/vfs/file.h"

namespace sentry::vfs {

class EventFd final : public File {
public:
    static constexpr uint64_t k_max = 0xfffffffffffffffeULL;

    EventFd(uint64_t initial, bool semaphore, int flags);

    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> write(std::span<const char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    uint32_t poll_events() override;
    // noop_llseek: the position stays 0 and every seek "succeeds".
    Result<off_t> lseek(off_t, int) override { return 0; }
    bool writes_records() const override { return true; }
    bool reads_records() const override { return true; }
    WaitQueue* wait_queue() override { return &m_wq; }
    Result<struct stat> stat() override;
    std::string description() const override { return "anon_inode:[eventfd]"; }
    uint64_t count() const { return m_count; }
    bool semaphore() const { return m_semaphore; }

private:
    uint64_t m_count;
    bool m_semaphore;
    WaitQueue m_wq;
};

} // namespace sentry::vfs
