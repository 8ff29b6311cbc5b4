#pragma once
// Pipes of the emulated kernel (Linux fs/pipe.c semantics): a 64 KiB buffer by
// default, writes of at most PIPE_BUF bytes are atomic, a reader sees EOF once no
// writer is left, a writer gets EPIPE once no reader is left (the caller raises
// SIGPIPE: see kernel/syscalls/read_write.cpp).

#include <deque>
#include <memory>

#include "sentry/vfs/file.h"

namespace sentry::vfs {

class Pipe {
public:
    static constexpr size_t k_default_capacity = 65536;
    static constexpr size_t k_pipe_buf = 4096;

    size_t size() const { return m_data.size(); }
    size_t capacity() const { return m_capacity; }
    Result<size_t> set_capacity(size_t bytes);
    size_t readers() const { return m_readers; }
    size_t writers() const { return m_writers; }

    Result<size_t> read(std::span<char> buf);
    Result<size_t> read_to(const File::Sink& sink, size_t max);
    Result<size_t> write(std::span<const char> buf);
    uint32_t poll_read_end() const;
    uint32_t poll_write_end() const;

    void open_end(bool write_end);
    void close_end(bool write_end);

    WaitQueue& wait_queue() { return m_wq; }
    unsigned long ino() const { return m_ino; }

private:
    std::deque<char> m_data;
    size_t m_capacity = k_default_capacity;
    size_t m_readers = 0;
    size_t m_writers = 0;
    WaitQueue m_wq;
    unsigned long m_ino = next_ino();
    static unsigned long next_ino();
};

// One end of a pipe, as an open file description.
class PipeEnd final : public File {
public:
    PipeEnd(std::shared_ptr<Pipe> pipe, bool write_end, int flags);
    ~PipeEnd() override;

    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> read_to(const Sink& sink, size_t max) override;
    Result<size_t> write(std::span<const char> buf) override;
    size_t keep_before_fault(size_t copied) const override { return copied - copied % Pipe::k_pipe_buf; }
    Result<struct stat> stat() override;
    uint32_t poll_events() override;
    WaitQueue* wait_queue() override { return &m_pipe->wait_queue(); }
    Result<int> bytes_readable() override { return static_cast<int>(m_pipe->size()); }
    std::string description() const override;
    Pipe& pipe() { return *m_pipe; }
    bool is_write_end() const { return m_write_end; }

private:
    std::shared_ptr<Pipe> m_pipe;
    bool m_write_end;
};

// Make both ends of a new pipe (pipe2 flags: O_NONBLOCK and O_DIRECT; O_CLOEXEC is the fd's).
std::pair<FileRef, FileRef> make_pipe(int flags);

} // namespace sentry::vfs
