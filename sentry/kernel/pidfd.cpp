#include "sentry/kernel/pidfd.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace sentry::kernel {

uint32_t PidFd::poll_events()
{
    // Linux pidfd_poll(): readable when the thread group has exited; hung up once
    // the task is gone (reaped).
    if (m_group->reaped)
        return POLLIN | POLLHUP;
    return m_group->zombie ? POLLIN : 0;
}

Result<struct stat> PidFd::stat()
{
    // An anonymous inode, read-write for its owner, as fstat shows a pidfd.
    struct stat st {};
    st.st_mode = S_IFREG | 0600;
    st.st_nlink = 1;
    st.st_uid = getuid();
    st.st_gid = getgid();
    st.st_ino = static_cast<ino_t>(m_group->vpid);
    st.st_blksize = 4096;
    return st;
}

} // namespace sentry::kernel

namespace sentry::kernel {

Result<int> install_pidfd(Task& t, std::shared_ptr<ThreadGroup> g, bool nonblock)
{
    auto& fds = t.group().fds;
    if (!fds)
        return Errno(EBADF);
    auto f = std::make_shared<PidFd>(std::move(g), O_RDWR | (nonblock ? O_NONBLOCK : 0));
    return fds->install(f, true, 0, t.group().rlimits[RLIMIT_NOFILE].rlim_cur);
}

} // namespace sentry::kernel
