#include "sentry/vfs/pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <vector>
#include <fmt/format.h>

namespace sentry::vfs {

unsigned long Pipe::next_ino()
{
    static unsigned long ino = 100000;
    return ++ino;
}

Result<size_t> Pipe::set_capacity(size_t bytes)
{
    // Linux rounds up to a power-of-two number of pages, at least one page.
    size_t pages = std::max<size_t>(1, (bytes + 4095) / 4096);
    size_t p2 = 1;
    while (p2 < pages)
        p2 <<= 1;
    size_t cap = p2 * 4096;
    if (cap > 1048576 * 1024UL)
        return Errno(EINVAL);
    if (cap < m_data.size())
        return Errno(EBUSY);
    m_capacity = cap;
    return cap;
}

Result<size_t> Pipe::read(std::span<char> buf)
{
    if (buf.empty())
        return size_t{0};
    if (m_data.empty()) {
        if (m_writers == 0)
            return size_t{0};
        return Errno(EAGAIN);
    }
    size_t n = std::min(buf.size(), m_data.size());
    std::copy_n(m_data.begin(), n, buf.begin());
    m_data.erase(m_data.begin(), m_data.begin() + static_cast<long>(n));
    m_wq.notify(POLLOUT);
    return n;
}

Result<size_t> Pipe::read_to(const File::Sink& sink, size_t max)
{
    if (max == 0)
        return size_t{0};
    if (m_data.empty()) {
        if (m_writers == 0)
            return size_t{0};
        return Errno(EAGAIN);
    }
    size_t n = std::min(max, m_data.size());
    std::vector<char> tmp(m_data.begin(), m_data.begin() + static_cast<long>(n));
    size_t taken = sink({tmp.data(), n});
    if (taken == 0)
        return Errno(EFAULT); // nothing consumed: the data stays in the pipe
    m_data.erase(m_data.begin(), m_data.begin() + static_cast<long>(taken));
    m_wq.notify(POLLOUT);
    return taken;
}

Result<size_t> Pipe::write(std::span<const char> buf)
{
    // An empty write does nothing, not even without readers (Linux pipe_write()
    // returns 0 before it looks at them).
    if (buf.empty())
        return size_t{0};
    if (m_readers == 0)
        return Errno(EPIPE);
    size_t room = m_capacity - m_data.size();
    // Writes of at most PIPE_BUF bytes are atomic: all or nothing.
    if (room == 0 || (buf.size() <= k_pipe_buf && room < buf.size()))
        return Errno(EAGAIN);
    size_t n = std::min(room, buf.size());
    m_data.insert(m_data.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    m_wq.notify(POLLIN);
    return n;
}

uint32_t Pipe::poll_read_end() const
{
    uint32_t ev = 0;
    if (!m_data.empty())
        ev |= POLLIN | POLLRDNORM;
    if (m_writers == 0)
        ev |= POLLHUP;
    return ev;
}

uint32_t Pipe::poll_write_end() const
{
    uint32_t ev = 0;
    if (m_capacity - m_data.size() >= k_pipe_buf || (m_data.empty()))
        ev |= POLLOUT | POLLWRNORM;
    if (m_readers == 0)
        ev |= POLLERR;
    return ev;
}

void Pipe::open_end(bool write_end)
{
    (write_end ? m_writers : m_readers)++;
}

void Pipe::close_end(bool write_end)
{
    size_t& n = write_end ? m_writers : m_readers;
    if (--n == 0)
        m_wq.notify(write_end ? (POLLIN | POLLHUP) : (POLLOUT | POLLERR));
}

PipeEnd::PipeEnd(std::shared_ptr<Pipe> pipe, bool write_end, int flags)
    : File((write_end ? O_WRONLY : O_RDONLY) | (flags & (O_NONBLOCK | O_DIRECT)))
    , m_pipe(std::move(pipe))
    , m_write_end(write_end)
{
    m_pipe->open_end(m_write_end);
}

PipeEnd::~PipeEnd() { m_pipe->close_end(m_write_end); }

Result<size_t> PipeEnd::read(std::span<char> buf)
{
    if (m_write_end)
        return Errno(EBADF);
    return m_pipe->read(buf);
}

Result<size_t> PipeEnd::read_to(const Sink& sink, size_t max)
{
    if (m_write_end)
        return Errno(EBADF);
    return m_pipe->read_to(sink, max);
}

Result<size_t> PipeEnd::write(std::span<const char> buf)
{
    if (!m_write_end)
        return Errno(EBADF);
    return m_pipe->write(buf);
}

Result<struct stat> PipeEnd::stat()
{
    struct stat st {};
    st.st_mode = S_IFIFO | 0600;
    st.st_nlink = 1;
    st.st_ino = m_pipe->ino();
    st.st_uid = getuid();
    st.st_gid = getgid();
    st.st_blksize = 4096;
    st.st_dev = 0xc; // pipefs's anonymous device, as on Linux
    return st;
}

uint32_t PipeEnd::poll_events()
{
    return m_write_end ? m_pipe->poll_write_end() : m_pipe->poll_read_end();
}

std::string PipeEnd::description() const { return fmt::format("pipe:[{}]", m_pipe->ino()); }

std::pair<FileRef, FileRef> make_pipe(int flags)
{
    auto p = std::make_shared<Pipe>();
    return {std::make_shared<PipeEnd>(p, false, flags), std::make_shared<PipeEnd>(p, true, flags)};
}

} // namespace sentry::vfs
