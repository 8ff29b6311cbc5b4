#pragma once
// The fd table of a process: guest fd numbers to sentry File objects
// (Linux fs/file.c). Shared between threads and with CLONE_FILES.

#include <map>
#include <memory>

#include "sentry/common/errno.h"
#include "sentry/vfs/file.h"

namespace sentry::kernel {

struct FdEntry {
    vfs::FileRef file;
    bool cloexec = false;
};

class FdTable {
public:
    static constexpr int k_default_nofile = 1024;

    Result<vfs::FileRef> get(int fd) const;
    const FdEntry* entry(int fd) const;
    // Lowest free fd >= min_fd, below the RLIMIT_NOFILE `limit`.
    Result<int> install(vfs::FileRef file, bool cloexec, int min_fd, unsigned long limit);
    // dup2/dup3: put `file` at `fd`, closing what was there.
    void install_at(int fd, vfs::FileRef file, bool cloexec);
    Result<void> close(int fd);
    void set_cloexec(int fd, bool on);
    void close_on_exec();
    void close_range(unsigned first, unsigned last);
    std::shared_ptr<FdTable> clone() const { return std::make_shared<FdTable>(*this); }
    const std::map<int, FdEntry>& entries() const { return m_fds; }
    void clear() { m_fds.clear(); }

private:
    std::map<int, FdEntry> m_fds;
};

} // namespace sentry::kernel
