#pragma once
// Files backed by a host fd that the sentry itself opened (after the VFS resolved the
// path) or inherited (its own stdin/stdout/stderr). Regular files and directories are
// always ready; streams (ttys, FIFOs, sockets) are used non-blocking and their
// readiness comes from the event loop.

#include <boost/asio/posix/stream_descriptor.hpp>

#include <optional>

#include "sentry/vfs/file.h"

namespace sentry::vfs {

class HostFile final : public File {
public:
    // Takes ownership of `host_fd`. `path` is what readlink(/proc/self/fd/N) shows.
    HostFile(int host_fd, int guest_flags, std::string path);
    ~HostFile() override;

    // Wrap one of the sentry's own stdio fds for the guest. Pipes and ttys are
    // reopened through /proc/self/fd so that the copy can be made non-blocking
    // without touching the open file description the sentry's parent shares.
    static Result<FileRef> from_inherited(int fd);

    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    Result<size_t> write(std::span<const char> buf) override;
    Result<size_t> pread(std::span<char> buf, off_t off) override;
    Result<size_t> pwrite(std::span<const char> buf, off_t off) override;
    Result<off_t> lseek(off_t off, int whence) override;
    Result<struct stat> stat() override;
    Result<size_t> getdents64(std::span<char> buf) override;
    uint32_t poll_events() override;
    WaitQueue* wait_queue() override { return &m_wq; }
    int host_fd() const override { return m_fd; }
    Result<int> bytes_readable() override;
    std::string description() const override;
    void flags_changed() override;
    bool is_stream() const { return m_stream; }
    bool pollable() const override { return m_pollable; }
    // The device number if this is a terminal, else 0.
    dev_t tty_rdev() const { return m_tty_rdev; }

private:
    void arm(uint32_t mask);

    int m_fd;
    std::string m_path;
    bool m_stream = false; // pipe, tty, socket, char device: readiness matters
    bool m_socket = false;
    bool m_pollable = false; // a stream whose host file has a poll method
    dev_t m_tty_rdev = 0;
    WaitQueue m_wq;
    std::optional<boost::asio::posix::stream_descriptor> m_watch;
    bool m_read_armed = false;
    bool m_write_armed = false;
};

} // namespace sentry::vfs
