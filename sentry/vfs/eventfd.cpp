#include "sentry/vfs/eventfd.h"

#include <poll.h>
#include <unistd.h>

#include <cstring>

namespace sentry::vfs {

EventFd::EventFd(uint64_t initial, bool semaphore, int flags) : File(flags), m_count(initial), m_semaphore(semaphore) {}

Result<size_t> EventFd::read(std::span<char> buf)
{
    if (buf.size() < sizeof(uint64_t))
        return Errno(EINVAL);
    if (m_count == 0)
        return Errno(EAGAIN);
    uint64_t v = m_semaphore ? 1 : m_count;
    m_count -= v;
    std::memcpy(buf.data(), &v, sizeof v);
    m_wq.notify(POLLOUT);
    return sizeof v;
}

// Linux eventfd_read() takes the count before it copies it out: a bad buffer is
// EFAULT and the count is lost.
Result<size_t> EventFd::read_to(const Sink& sink, size_t max)
{
    if (max < sizeof(uint64_t))
        return Errno(EINVAL);
    if (m_count == 0)
        return Errno(EAGAIN);
    uint64_t v = m_semaphore ? 1 : m_count;
    m_count -= v;
    m_wq.notify(POLLOUT);
    if (sink({reinterpret_cast<const char*>(&v), sizeof v}) != sizeof v)
        return Errno(EFAULT);
    return sizeof v;
}

// Exactly 8 bytes: Linux >= 6.10 refuses longer writes too (eventfd_write()).
Result<size_t> EventFd::write(std::span<const char> buf)
{
    if (buf.size() != sizeof(uint64_t))
        return Errno(EINVAL);
    uint64_t v;
    std::memcpy(&v, buf.data(), sizeof v);
    if (v == UINT64_MAX)
        return Errno(EINVAL);
    if (v > k_max - m_count)
        return Errno(EAGAIN);
    m_count += v;
    if (v)
        m_wq.notify(POLLIN);
    return sizeof v;
}

uint32_t EventFd::poll_events()
{
    uint32_t ev = 0;
    if (m_count > 0)
        ev |= POLLIN;
    if (m_count < k_max)
        ev |= POLLOUT;
    return ev;
}

Result<struct stat> EventFd::stat() { return vfs::anon_inode_stat(); }

} // namespace sentry::vfs
