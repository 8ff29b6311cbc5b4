#include "sentry/vfs/host_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <vector>

#include "sentry/common/event_loop.h"

namespace sentry::vfs {

namespace {

// Linux file_can_poll(): whether the host file has a poll method. Character devices
// such as /dev/null and /dev/zero have none (epoll_ctl refuses them with EPERM, poll
// calls them always ready); the host's own epoll tells which.
bool host_can_poll(int fd)
{
    static int probe = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev {};
    if (probe < 0)
        return true;
    if (epoll_ctl(probe, EPOLL_CTL_ADD, fd, &ev) == 0) {
        epoll_ctl(probe, EPOLL_CTL_DEL, fd, nullptr);
        return true;
    }
    return errno != EPERM;
}

} // namespace

HostFile::HostFile(int host_fd, int guest_flags, std::string path)
    : File(guest_flags)
    , m_fd(host_fd)
    , m_path(std::move(path))
{
    struct stat st {};
    if (fstat(m_fd, &st) == 0) {
        m_stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
        m_socket = S_ISSOCK(st.st_mode);
        if (S_ISCHR(st.st_mode) && isatty(m_fd))
            m_tty_rdev = st.st_rdev;
        m_pollable = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || (S_ISCHR(st.st_mode) && host_can_poll(m_fd));
    }
    if (m_stream) {
        // The sentry never blocks on a host fd: it waits for readiness instead.
        int fl = fcntl(m_fd, F_GETFL);
        if (fl >= 0 && !(fl & O_NONBLOCK) && !m_socket)
            fcntl(m_fd, F_SETFL, fl | O_NONBLOCK);
        m_wq.on_wait = [this](uint32_t mask) { arm(mask); };
    }
}

HostFile::~HostFile()
{
    if (m_watch)
        m_watch->close();
    ::close(m_fd);
}

Result<FileRef> HostFile::from_inherited(int fd)
{
    struct stat st {};
    if (fstat(fd, &st) < 0)
        return Errno(errno);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return Errno(errno);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[4096];
    ssize_t n = readlink(link, target, sizeof target - 1);
    std::string path = n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string(link);
    int copy = -1;
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        // A new open file description of the same pipe or tty, ours to make
        // non-blocking. Keep the access mode of the original.
        copy = open(link, (fl & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    }
    if (copy < 0)
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0)
        return Errno(errno);
    return FileRef(std::make_shared<HostFile>(copy, fl & ~O_CLOEXEC, path));
}

std::string HostFile::description() const
{
    if (!m_path.empty())
        return m_path;
    char link[64], buf[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", m_fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

void HostFile::flags_changed()
{
    // O_APPEND is a property of the host open file description for regular files.
    if (!m_stream) {
        int fl = fcntl(m_fd, F_GETFL);
        if (fl >= 0)
            fcntl(m_fd, F_SETFL, (fl & ~O_APPEND) | (m_flags & O_APPEND));
    }
}

void HostFile::arm(uint32_t mask)
{
    if (!m_watch) {
        int d = fcntl(m_fd, F_DUPFD_CLOEXEC, 3);
        if (d < 0)
            return;
        m_watch.emplace(event_loop(), d);
    }
    using boost::asio::posix::descriptor_base;
    // epoll reports errors and hang-ups on either watch; a writer waiting for room
    // must not be woken by data to read.
    bool want_read = (mask & POLLIN) || !(mask & POLLOUT);
    if (want_read && !m_read_armed) {
        m_read_armed = true;
        io_started();
        m_watch->async_wait(descriptor_base::wait_read, [this](boost::system::error_code ec) {
            io_finished();
            if (ec == boost::asio::error::operation_aborted)
                return; // the file may be gone
            m_read_armed = false;
            m_wq.notify(POLLIN | POLLHUP | POLLERR);
        });
    }
    if ((mask & POLLOUT) && !m_write_armed) {
        m_write_armed = true;
        io_started();
        m_watch->async_wait(descriptor_base::wait_write, [this](boost::system::error_code ec) {
            io_finished();
            if (ec == boost::asio::error::operation_aborted)
                return;
            m_write_armed = false;
            m_wq.notify(POLLOUT | POLLERR);
        });
    }
}

Result<size_t> HostFile::read(std::span<char> buf)
{
    ssize_t n = m_socket ? recv(m_fd, buf.data(), buf.size(), MSG_DONTWAIT) : ::read(m_fd, buf.data(), buf.size());
    if (n < 0)
        return Errno(errno == EWOULDBLOCK ? EAGAIN : errno);
    return static_cast<size_t>(n);
}

Result<size_t> HostFile::read_to(const Sink& sink, size_t max)
{
    std::vector<char> buf(max);
    size_t n = TRY(read({buf.data(), max}));
    if (n == 0)
        return size_t{0};
    size_t taken = sink({buf.data(), n});
    // A seekable file gives back what the guest could not take.
    if (taken < n && !m_stream)
        ::lseek(m_fd, -static_cast<off_t>(n - taken), SEEK_CUR);
    if (taken == 0)
        return Errno(EFAULT);
    return taken;
}

Result<size_t> HostFile::write(std::span<const char> buf)
{
    ssize_t n = m_socket ? send(m_fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                         : ::write(m_fd, buf.data(), buf.size());
    if (n < 0)
        return Errno(errno == EWOULDBLOCK ? EAGAIN : errno);
    return static_cast<size_t>(n);
}

Result<size_t> HostFile::pread(std::span<char> buf, off_t off)
{
    ssize_t n = ::pread(m_fd, buf.data(), buf.size(), off);
    if (n < 0)
        return Errno(errno);
    return static_cast<size_t>(n);
}

Result<size_t> HostFile::pwrite(std::span<const char> buf, off_t off)
{
    ssize_t n = ::pwrite(m_fd, buf.data(), buf.size(), off);
    if (n < 0)
        return Errno(errno);
    return static_cast<size_t>(n);
}

Result<off_t> HostFile::lseek(off_t off, int whence)
{
    off_t r = ::lseek(m_fd, off, whence);
    if (r < 0)
        return Errno(errno);
    return r;
}

Result<struct stat> HostFile::stat()
{
    struct stat st {};
    if (fstat(m_fd, &st) < 0)
        return Errno(errno);
    return st;
}

Result<size_t> HostFile::getdents64(std::span<char> buf)
{
    long n = syscall(SYS_getdents64, m_fd, buf.data(), buf.size());
    if (n < 0)
        return Errno(errno);
    return static_cast<size_t>(n);
}

uint32_t HostFile::poll_events()
{
    if (!m_stream)
        return POLLIN | POLLOUT;
    pollfd p{m_fd, POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, 0) < 0)
        return POLLERR;
    return static_cast<uint32_t>(p.revents);
}

Result<int> HostFile::bytes_readable()
{
    int n = 0;
    if (ioctl(m_fd, FIONREAD, &n) < 0)
        return Errno(errno);
    return n;
}

} // namespace sentry::vfs
