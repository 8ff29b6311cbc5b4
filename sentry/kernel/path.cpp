#include "sentry/kernel/path.h"

#include <fcntl.h>
#include <limits.h>

#include <charconv>
#include <fmt/format.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/procfs.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

namespace {

std::optional<int> parse_fd(std::string_view s)
{
    int v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

} // namespace

std::optional<int> guest_fd_path(const std::string& path)
{
    if (path == "/dev/stdin")
        return 0;
    if (path == "/dev/stdout")
        return 1;
    if (path == "/dev/stderr")
        return 2;
    for (std::string_view prefix : {"/proc/self/fd/", "/dev/fd/", "/proc/thread-self/fd/"}) {
        if (path.compare(0, prefix.size(), prefix) == 0)
            return parse_fd(std::string_view(path).substr(prefix.size()));
    }
    return std::nullopt;
}

Result<std::string> copy_path(Task& t, uint64_t addr, bool allow_empty)
{
    auto s = TRY(t.copy_string(addr, PATH_MAX));
    if (s.empty() && !allow_empty)
        return Errno(ENOENT);
    return s;
}

Result<AtPath> resolve_at(Task& t, int dirfd, const std::string& path)
{
    if (path.empty())
        return Errno(ENOENT);
    auto& g = t.group();
    if (path[0] == '/') {
        // /proc/self/fd/N[/rest], /dev/fd/N[/rest]: the guest's fd N, which the
        // host knows as the sentry's own fd (Linux proc_fd_link()).
        for (std::string_view prefix : {"/proc/self/fd/", "/dev/fd/", "/proc/thread-self/fd/"}) {
            if (path.compare(0, prefix.size(), prefix) != 0)
                continue;
            std::string_view rest = std::string_view(path).substr(prefix.size());
            size_t slash = rest.find('/');
            auto fd = parse_fd(rest.substr(0, slash));
            if (!fd || !g.fds)
                return Errno(ENOENT);
            auto f = g.fds->get(*fd);
            if (f.is_error() || f.value()->host_fd() < 0)
                return Errno(ENOENT);
            std::string tail = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
            return AtPath{AT_FDCWD, fmt::format("/proc/self/fd/{}{}", f.value()->host_fd(), tail)};
        }
        if (path.compare(0, 6, "/proc/") == 0)
            return AtPath{AT_FDCWD, TRY(rewrite_proc_path(t, path))};
        return AtPath{AT_FDCWD, path};
    }
    if (dirfd == AT_FDCWD) {
        if (!g.fs || g.fs->cwd_fd < 0)
            return Errno(ENOENT);
        return AtPath{g.fs->cwd_fd, path};
    }
    if (!g.fds)
        return Errno(EBADF);
    auto f = TRY(g.fds->get(dirfd));
    int hfd = f->host_fd();
    if (hfd < 0)
        return Errno(ENOTDIR);
    return AtPath{hfd, path};
}

} // namespace sentry::kernel
