#pragma once

#include <sys/types.h>

#include "sentry/abi/x86_64/signal_abi.h"
// --strace: each syscall on one line of stderr, in the spirit of `runsc --strace`
// and strace(1):
//
//   [pid    1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//   [pid    1] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1432
//   [pid    1] access("/nope", R_OK) = -1 ENOENT (No such file or directory)
//
// How it works: strace.cpp holds a table of signatures, one row per syscall, each
// argument with a kind (fd, path, open flags, signal, ...). At entry, before the
// handler runs, every argument that is an input is decoded (paths and argv are read
// from guest memory then, before the call can change or replace them); arguments that
// are outputs (read()'s data, pipe()'s fds, wait4()'s status) leave a placeholder in
// Task::m_strace_line and are decoded at exit from the result. The line is printed
// whole at exit, so lines of concurrent tasks never interleave. Syscalls without a
// row print their six arguments in hex. Unreadable guest memory prints the pointer.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sentry::kernel {

class Task;

// Decode the arguments known at entry into t.m_strace_line (precondition: t is
// stopped at the syscall, its syscall_args() set). A line left by a call that never
// finished (no exit report) is printed first, with " = ?".
void strace_print_entry(Task& t);
// Decode the output arguments from `value` and print the line with its result:
// ") = 3", ") = 0x7f12a000" (mmap, brk) or ") = -1 ENOENT (No such file or directory)".
void strace_print_exit(Task& t, long value);
// A signal delivered to a handler: "[pid N] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---".
void strace_print_signal(Task& t, const abi::SigInfo& info);
// The end of a process: "[pid N] +++ exited with 0 +++" or "+++ killed by SIGPIPE +++".
void strace_print_exit_status(pid_t vpid, int wait_status);

// The formatting helpers, pure functions of their arguments (no guest memory, no
// ptrace), so that they can be unit-tested. Values are those of the x86-64 Linux ABI.
namespace strace_format {

inline constexpr size_t k_max_string = 64; // paths and argv strings
inline constexpr size_t k_max_data = 32;   // read/written data, as strace -s 32
inline constexpr size_t k_max_array = 8;   // argv, iovec, pollfd elements

struct Named {
    uint64_t value;
    std::string_view name;
};

// `bytes` between double quotes, escaped as strace does: \" \\ \t \n \v \f \r,
// other non-printable bytes in octal ("\0", "\177ELF", "\0001" when a digit follows).
// `truncated` appends "..." after the closing quote.
std::string quote(std::string_view bytes, bool truncated = false);

// The names of `names` whose bits are all set in `value`, in table order, joined by
// '|', then the bits no name covers in hex: "O_CREAT|O_EXCL|0x40000000". 0 gives "0".
std::string flags(uint64_t value, std::span<const Named> names);
// The name of `value` in `names`, or `value` in decimal.
std::string enum_name(int64_t value, std::span<const Named> names);

std::string pointer(uint64_t addr);  // "NULL" or "0x7ffd1234"
std::string dirfd(int fd);           // "AT_FDCWD" or the number
std::string file_mode(uint64_t mode); // "0644", "000"
std::string open_flags(uint64_t flags);     // "O_RDONLY|O_CLOEXEC": access mode first
std::string fd_flags(uint64_t flags);       // pipe2/dup3/...: "O_CLOEXEC|O_NONBLOCK" or "0"
std::string at_flags(uint64_t flags);       // "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"
std::string mmap_prot(uint64_t prot);       // "PROT_READ|PROT_WRITE", "PROT_NONE"
std::string mmap_flags(uint64_t flags);     // "MAP_PRIVATE|MAP_ANONYMOUS"
std::string clone_flags(uint64_t flags);    // "CLONE_VM|CLONE_VFORK|SIGCHLD"
std::string signal_name(int sig);           // "SIGPIPE", "SIGRTMIN", "SIGRT_2", "0"
std::string sigset(uint64_t mask);          // "[INT TERM]", "~[KILL STOP]" when mostly full
std::string access_mode(uint64_t mode);     // "F_OK", "R_OK|X_OK"
std::string whence(uint64_t whence);        // "SEEK_SET"
std::string wait_options(uint64_t options); // "WNOHANG|__WALL"
std::string wait_status(int status);        // "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"
std::string fcntl_cmd(uint64_t cmd);        // "F_SETFD"
std::string ioctl_request(uint64_t request); // "TCGETS", or hex
std::string futex_op(uint64_t op);          // "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
// What follows " = ": "3", "0x7f0000" (`hex`), "-1 ENOENT (No such file or directory)",
// or "? ERESTARTSYS (To be restarted if SA_RESTART is set)" for internal restart codes.
std::string result(long value, bool hex = false);

} // namespace strace_format

} // namespace sentry::kernel
