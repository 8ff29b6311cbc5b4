#include "sentry/kernel/fd_table.h"

namespace sentry::kernel {

Result<vfs::FileRef> FdTable::get(int fd) const
{
    auto it = m_fds.find(fd);
    if (it == m_fds.end())
        return Errno(EBADF);
    return it->second.file;
}

const FdEntry* FdTable::entry(int fd) const
{
    auto it = m_fds.find(fd);
    return it == m_fds.end() ? nullptr : &it->second;
}

Result<int> FdTable::install(vfs::FileRef file, bool cloexec, int min_fd, unsigned long limit)
{
    int fd = min_fd < 0 ? 0 : min_fd;
    for (auto it = m_fds.lower_bound(fd); it != m_fds.end() && it->first == fd; ++it)
        ++fd;
    if (static_cast<unsigned long>(fd) >= limit)
        return Errno(EMFILE);
    m_fds[fd] = FdEntry{std::move(file), cloexec};
    return fd;
}

void FdTable::install_at(int fd, vfs::FileRef file, bool cloexec)
{
    // Keep the old file alive until the new one is in place (its release may wake
    // waiters that look at this table).
    auto old = std::move(m_fds[fd]);
    m_fds[fd] = FdEntry{std::move(file), cloexec};
}

Result<void> FdTable::close(int fd)
{
    auto it = m_fds.find(fd);
    if (it == m_fds.end())
        return Errno(EBADF);
    auto old = std::move(it->second);
    m_fds.erase(it);
    return {};
}

void FdTable::set_cloexec(int fd, bool on)
{
    auto it = m_fds.find(fd);
    if (it != m_fds.end())
        it->second.cloexec = on;
}

void FdTable::close_on_exec()
{
    std::erase_if(m_fds, [](const auto& kv) { return kv.second.cloexec; });
}

void FdTable::close_range(unsigned first, unsigned last)
{
    std::erase_if(m_fds, [&](const auto& kv) {
        return static_cast<unsigned>(kv.first) >= first && static_cast<unsigned>(kv.first) <= last;
    });
}

} // namespace sentry::kernel
