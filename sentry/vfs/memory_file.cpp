#include "sentry/vfs/memory_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sentry::vfs {

MemoryFile::MemoryFile(std::string contents, std::string name, int flags)
    : File(flags)
    , m_contents(std::move(contents))
    , m_name(std::move(name))
{
}

Result<size_t> MemoryFile::pread(std::span<char> buf, off_t off)
{
    if (off < 0)
        return Errno(EINVAL);
    if (static_cast<size_t>(off) >= m_contents.size())
        return size_t{0};
    size_t n = std::min(buf.size(), m_contents.size() - static_cast<size_t>(off));
    std::memcpy(buf.data(), m_contents.data() + off, n);
    return n;
}

Result<size_t> MemoryFile::read(std::span<char> buf)
{
    size_t n = TRY(pread(buf, m_pos));
    m_pos += static_cast<off_t>(n);
    return n;
}

Result<off_t> MemoryFile::lseek(off_t off, int whence)
{
    off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m_pos : whence == SEEK_END ? static_cast<off_t>(m_contents.size()) : -1;
    if (base < 0 || base + off < 0)
        return Errno(EINVAL);
    m_pos = base + off;
    return m_pos;
}

Result<struct stat> MemoryFile::stat()
{
    struct stat st {};
    st.st_mode = S_IFREG | 0444; // /proc files report size 0, as on Linux
    st.st_nlink = 1;
    st.st_uid = getuid();
    st.st_gid = getgid();
    st.st_blksize = 1024;
    return st;
}

} // namespace sentry::vfs
