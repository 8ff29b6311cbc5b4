#pragma once
// File objects: the sentry's open file descriptions (Linux `struct file`). A guest fd
// names one through its FdTable; dup and fork share the same File. Each kind of file
// (host file or directory opened by the sentry, host stream such as the sentry's own
// stdio, pipe end, ...) answers read/write/poll itself; a call that would block
// returns EAGAIN and the caller parks on wait_queue() unless the file is O_NONBLOCK.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "sentry/common/errno.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::vfs {

class File : public std::enable_shared_from_this<File> {
public:
    explicit File(int flags) : m_flags(flags) {}
    virtual ~File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    // Status flags as the guest sees them (O_ACCMODE, O_APPEND, O_NONBLOCK, ...).
    int flags() const { return m_flags; }
    void set_flags(int f) { m_flags = f; }
    bool nonblocking() const;
    bool readable() const;
    bool writable() const;

    virtual Result<size_t> read(std::span<char> buf);
    // Read at most `max` bytes and hand them to `sink`, which returns how many it
    // took (the guest buffer may fault part way); a file may call it several times,
    // each call appending to what the earlier ones took. Bytes the sink did not take stay
    // unread where the file can keep them (pipes; seekable files rewind), as Linux
    // copies to user memory before it consumes.
    using Sink = std::function<size_t(std::span<const char>)>;
    virtual Result<size_t> read_to(const Sink& sink, size_t max);
    virtual Result<size_t> write(std::span<const char> buf);
    virtual Result<size_t> pread(std::span<char> buf, off_t off);
    virtual Result<size_t> pwrite(std::span<const char> buf, off_t off);
    virtual Result<off_t> lseek(off_t off, int whence);
    virtual Result<struct stat> stat();
    virtual Result<size_t> getdents64(std::span<char> buf);
    // Readiness now (POLLIN/POLLOUT/POLLHUP/POLLERR bits).
    virtual uint32_t poll_events();
    // Whether poll/epoll can watch it (Linux file_can_poll(); regular files and
    // directories cannot be added to an epoll: EPERM).
    virtual bool pollable() const { return true; }
    // A write that moves fewer bytes than asked waits for room for the rest (pipes,
    // sockets), unless the file takes one record per write (eventfd: 8 bytes).
    virtual bool writes_records() const { return false; }
    // How much of a write whose source faulted after `copied` bytes is kept: all of
    // it by default (regular files, TCP), whole pages for a pipe (pipe_write()),
    // nothing for a record or a unix socket's message (it is dropped whole).
    virtual size_t keep_before_fault(size_t copied) const { return writes_records() ? 0 : copied; }
    // Whether an EPIPE from write raises SIGPIPE (pipes, stream sockets); datagram
    // and seqpacket sockets return the error alone (Linux unix_dgram_sendmsg()).
    virtual bool epipe_raises_sigpipe() const { return true; }
    // A read shorter than one record is EINVAL, even an empty one (eventfd and timerfd
    // read 8 bytes; an epoll cannot be read at all).
    virtual bool reads_records() const { return false; }
    virtual WaitQueue* wait_queue() { return nullptr; }
    // A host fd that backs this file (for *at path walks, fstat, mmap), or -1.
    virtual int host_fd() const { return -1; }
    // Bytes ready to read (FIONREAD), or ENOTTY.
    virtual Result<int> bytes_readable();
    // What readlink(/proc/self/fd/N) shows.
    virtual std::string description() const = 0;
    // Called when the guest changes O_NONBLOCK etc. with F_SETFL.
    virtual void flags_changed() {}

protected:
    int m_flags;
};

using FileRef = std::shared_ptr<File>;

// What fstat shows for an eventfd, timerfd, signalfd or epoll: Linux gives them all
// one anonymous inode (fs/anon_inodes.c), and this is the host's.
struct stat anon_inode_stat();

} // namespace sentry::vfs
