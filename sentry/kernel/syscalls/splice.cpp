// sendfile and copy_file_range (Linux fs/read_write.c; their mechanism is
// fs/splice.c). sendfile moves data through the sentry: positioned reads from the
// source's host fd, writes through the destination's vfs File (a pipe, a host stream
// or a host file), parking like write(2) while a destination with a wait queue is
// full. copy_file_range between two host files is the host's own copy_file_range on
// the sentry's fds, which checks and does everything Linux would.
//
// One call moves at most k_max_per_call bytes so that the sentry's loop is never
// held for long; both calls may return short counts on Linux too, and callers loop.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

// Linux caps one transfer at MAX_RW_COUNT (INT_MAX rounded down to a page).
constexpr size_t k_max_rw = INT_MAX & ~4095UL;
constexpr size_t k_chunk = 1 << 20;
constexpr size_t k_max_per_call = 64 << 20;

// The file of an fd, refusing O_PATH descriptors (Linux fdget()).
Result<vfs::FileRef> file_for_io(Task& t, int fd)
{
    if (!t.group().fds)
        return Errno(EBADF);
    auto f = TRY(t.group().fds->get(fd));
    if (f->flags() & O_PATH)
        return Errno(EBADF);
    return f;
}

bool is_fifo(vfs::File& f)
{
    auto st = f.stat();
    return !st.is_error() && S_ISFIFO(st.value().st_mode);
}

// A source Linux can read at a given position (FMODE_PREAD): a host fd that seeks.
bool positioned_source(vfs::File& f)
{
    return f.host_fd() >= 0 && ::lseek(f.host_fd(), 0, SEEK_CUR) >= 0;
}

std::vector<char>& chunk_buffer()
{
    static std::vector<char> buf(k_chunk);
    return buf;
}

} // namespace

// Compare Linux fs/read_write.c:do_sendfile(). A source that is not positioned (a
// pipe, socket or tty) is refused with EINVAL, as Linux does for pipes.
SENTRY_SYSCALL(sendfile)
{
    int out_fd = args.as_int(0), in_fd = args.as_int(1);
    uint64_t off_addr = args.arg(2);
    size_t count = args.arg(3);
    off_t pos = 0;
    if (off_addr)
        pos = TRY(t.copy_in<off_t>(off_addr));

    auto in = TRY(file_for_io(t, in_fd));
    if (!in->readable())
        return Errno(EBADF);
    bool positioned = positioned_source(*in);
    if (off_addr && !positioned)
        return Errno(ESPIPE);
    if (!off_addr && positioned)
        pos = ::lseek(in->host_fd(), 0, SEEK_CUR);
    if (static_cast<ssize_t>(count) < 0 || pos < 0)
        return Errno(EINVAL); // rw_verify_area()
    count = std::min({count, k_max_rw, k_max_per_call});

    auto out = TRY(file_for_io(t, out_fd));
    if (!out->writable())
        return Errno(EBADF);
    if (!is_fifo(*out) && (out->flags() & O_APPEND))
        return Errno(EINVAL); // do_splice_direct()
    if (!positioned)
        return Errno(EINVAL); // no splice_read

    auto& buf = chunk_buffer();
    size_t done = 0;
    std::optional<Errno> err;
    while (done < count) {
        size_t n = std::min(count - done, k_chunk);
        ssize_t got = ::pread(in->host_fd(), buf.data(), n, pos + static_cast<off_t>(done));
        if (got < 0) {
            err = Errno(errno);
            break;
        }
        if (got == 0)
            break;
        auto w = out->write({buf.data(), static_cast<size_t>(got)});
        if (w.is_error()) {
            if (w.error() == Errno(EAGAIN) && done == 0 && !out->nonblocking() && out->wait_queue())
                return SyscallOutcome::block({{out->wait_queue(), POLLOUT}}); // see poll.cpp:wake_mask()
            err = w.error();
            break;
        }
        done += w.value();
        // A pipe takes what fits (Linux splice_file_to_pipe() fills it once).
        if (w.value() < static_cast<size_t>(got))
            break;
    }
    if (err && *err == Errno(EPIPE))
        t.kernel().send_signal(t, SIGPIPE);

    if (done > 0) {
        pos += static_cast<off_t>(done);
        if (!off_addr)
            ::lseek(in->host_fd(), pos, SEEK_SET);
    }
    if (off_addr)
        TRY(t.copy_out(off_addr, pos));
    if (done > 0)
        return done;
    if (err)
        return *err;
    return 0;
}

// Compare Linux fs/read_write.c: copy_file_range and generic_copy_file_checks().
SENTRY_SYSCALL(copy_file_range)
{
    int fd_in = args.as_int(0), fd_out = args.as_int(2);
    uint64_t off_in = args.arg(1), off_out = args.arg(3);
    size_t len = args.arg(4);
    unsigned flags = args.as_uint(5);
    auto in = TRY(file_for_io(t, fd_in));
    auto out = TRY(file_for_io(t, fd_out));
    loff_t pos_in = 0, pos_out = 0;
    if (off_in)
        pos_in = TRY(t.copy_in<loff_t>(off_in));
    if (off_out)
        pos_out = TRY(t.copy_in<loff_t>(off_out));
    if (flags != 0)
        return Errno(EINVAL);
    if (in->host_fd() < 0 || out->host_fd() < 0) {
        // Files only the sentry holds are pipes: no directories, not regular.
        auto st_in = TRY(in->stat());
        auto st_out = TRY(out->stat());
        if (S_ISDIR(st_in.st_mode) || S_ISDIR(st_out.st_mode))
            return Errno(EISDIR);
        return Errno(EINVAL);
    }
    len = std::min(len, k_max_per_call);
    long r = syscall(SYS_copy_file_range, in->host_fd(), off_in ? &pos_in : nullptr, out->host_fd(),
        off_out ? &pos_out : nullptr, len, 0);
    if (r < 0)
        return Errno(errno);
    if (r > 0) {
        if (off_in)
            TRY(t.copy_out(off_in, pos_in));
        if (off_out)
            TRY(t.copy_out(off_out, pos_out));
    }
    return r;
}

} // namespace sentry::kernel
