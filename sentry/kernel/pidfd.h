#pragma once
// A pidfd (Linux kernel/pid.c, fs/pidfs.c): an fd that names one process of the
// sandbox. It outlives the process's pid (the pid may be reaped and even reused
// without the pidfd naming the newcomer), polls readable once the whole thread
// group has exited, and adds POLLHUP once the process has been reaped.

#include <memory>

#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"

namespace sentry::kernel {

class PidFd final : public vfs::File {
public:
    PidFd(std::shared_ptr<ThreadGroup> g, int flags) : File(flags), m_group(std::move(g)) {}

    // The pidfd behind `f`, or null if `f` is another kind of file.
    static PidFd* from(vfs::File& f) { return dynamic_cast<PidFd*>(&f); }

    const std::shared_ptr<ThreadGroup>& group() const { return m_group; }
    // The process has exited (zombie or reaped): its pid names nothing alive.
    bool exited() const { return m_group->zombie || m_group->reaped; }

    uint32_t poll_events() override;
    vfs::WaitQueue* wait_queue() override { return &m_group->pidfd_wq; }
    Result<struct stat> stat() override;
    std::string description() const override { return "anon_inode:[pidfd]"; }

private:
    std::shared_ptr<ThreadGroup> m_group;
};

} // namespace sentry::kernel

namespace sentry::kernel {

class Task;
// A new pidfd for `g` in `t`'s fd table (always close-on-exec, as Linux makes them);
// `nonblock` sets O_NONBLOCK (PIDFD_NONBLOCK).
Result<int> install_pidfd(Task& t, std::shared_ptr<ThreadGroup> g, bool nonblock);
// The process that guest fd `fd` of `t` names: EBADF unless it is a pidfd. Its
// status flags go to `file_flags` if given.
Result<std::shared_ptr<ThreadGroup>> pidfd_target(Task& t, int fd, int* file_flags);

} // namespace sentry::kernel
