#pragma once
// The parts of /proc that must come from the emulated kernel rather than the host:
// what a guest reads about its own processes (virtual pids, signal state). Other
// /proc paths of guest processes go to the host's entries of their host processes.

#include <optional>
#include <string>

#include "sentry/common/errno.h"

namespace sentry::kernel {

class Task;

// If `path` (absolute, as the guest gave it) is a /proc file the sentry generates,
// its contents now; std::nullopt if the host's file should be used.
std::optional<Result<std::string>> synthesize_proc_file(Task& caller, const std::string& path);

// /proc/self, /proc/thread-self and /proc/<guest pid> rewritten to the host's
// /proc/<host pid>; a pid that is not the sandbox's gives ENOENT.
Result<std::string> rewrite_proc_path(Task& caller, const std::string& path);

} // namespace sentry::kernel
