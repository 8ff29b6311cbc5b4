#include "sentry/vfs/file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

namespace sentry::vfs {

bool File::nonblocking() const { return m_flags & O_NONBLOCK; }
bool File::readable() const { return (m_flags & O_ACCMODE) != O_WRONLY && !(m_flags & O_PATH); }
bool File::writable() const { return (m_flags & O_ACCMODE) != O_RDONLY && !(m_flags & O_PATH); }

Result<size_t> File::read(std::span<char>) { return Errno(EINVAL); }
Result<size_t> File::read_to(const Sink& sink, size_t max)
{
    std::vector<char> buf(max);
    size_t n = TRY(read({buf.data(), max}));
    return sink({buf.data(), n});
}

Result<size_t> File::write(std::span<const char>) { return Errno(EINVAL); }
Result<size_t> File::pread(std::span<char>, off_t) { return Errno(ESPIPE); }
Result<size_t> File::pwrite(std::span<const char>, off_t) { return Errno(ESPIPE); }
Result<off_t> File::lseek(off_t, int) { return Errno(ESPIPE); }
Result<struct stat> File::stat() { return Errno(EBADF); }
Result<size_t> File::getdents64(std::span<char>) { return Errno(ENOTDIR); }
uint32_t File::poll_events() { return POLLIN | POLLOUT; }
Result<int> File::bytes_readable() { return Errno(ENOTTY); }

struct stat anon_inode_stat()
{
    static const struct stat st = [] {
        struct stat s {};
        int fd = eventfd(0, EFD_CLOEXEC);
        if (fd < 0 || fstat(fd, &s) < 0) {
            s = {};
            s.st_mode = 0600;
            s.st_nlink = 1;
            s.st_blksize = 4096;
        }
        if (fd >= 0)
            close(fd);
        return s;
    }();
    return st;
}

} // namespace sentry::vfs
