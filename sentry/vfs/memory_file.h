#pragma once
// A read-only file whose contents the sentry generated when it was opened (the
// emulated kernel's own /proc files, as Linux's seq_file makes them at open/read).

#include "sentry/vfs/file.h"

namespace sentry::vfs {

class MemoryFile final : public File {
public:
    MemoryFile(std::string contents, std::string name, int flags);

    Result<size_t> read(std::span<char> buf) override;
    Result<size_t> pread(std::span<char> buf, off_t off) override;
    Result<off_t> lseek(off_t off, int whence) override;
    Result<struct stat> stat() override;
    std::string description() const override { return m_name; }

private:
    std::string m_contents;
    std::string m_name;
    off_t m_pos = 0;
};

} // namespace sentry::vfs
