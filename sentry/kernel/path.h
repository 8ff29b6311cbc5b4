#pragma once
// Path arguments of *at syscalls, turned into a (host dirfd, path) pair the sentry
// can hand to the host's own *at call. For now the sandbox sees the host's root
// (the mount policy narrows it later); names that mean "this process" to the guest
// (/proc/self, /proc/thread-self) are rewritten to the guest's own host process, and
// /proc/self/fd/N, /dev/fd/N name the guest's virtual fds.

#include <optional>
#include <string>

#include "sentry/common/errno.h"

namespace sentry::kernel {

class Task;

struct AtPath {
    int dirfd;        // host fd, or AT_FDCWD for absolute paths
    std::string path; // never empty
};

// `dirfd` is the guest's (AT_FDCWD = -100 or a guest fd).
Result<AtPath> resolve_at(Task& t, int dirfd, const std::string& path);

// Read a path argument from guest memory (EFAULT, ENAMETOOLONG; ENOENT if empty
// unless `allow_empty`).
Result<std::string> copy_path(Task& t, uint64_t addr, bool allow_empty = false);

// If `path` names one of the guest's own fds (/proc/self/fd/N, /dev/fd/N,
// /dev/stdin ...), the fd number.
std::optional<int> guest_fd_path(const std::string& path);

} // namespace sentry::kernel
