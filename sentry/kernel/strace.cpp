#include "sentry/kernel/strace.h"

#include <arpa/inet.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "sentry/common/errno.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

// --- Pure formatting helpers ---
//
// The tables hold the values of the x86-64 Linux ABI (include/uapi/...), spelled out
// rather than taken from the host's libc headers: the guest's ABI is what is decoded,
// and libc differs from it in places (O_LARGEFILE is 0 in glibc's x86-64 headers) or
// lacks recent names.

namespace strace_format {

namespace {

constexpr Named k_open_flags[] = {
    {0100, "O_CREAT"},
    {0200, "O_EXCL"},
    {0400, "O_NOCTTY"},
    {01000, "O_TRUNC"},
    {02000, "O_APPEND"},
    {04000, "O_NONBLOCK"},
    {04010000, "O_SYNC"}, // includes O_DSYNC: before it
    {010000, "O_DSYNC"},
    {020000, "O_ASYNC"},
    {040000, "O_DIRECT"},
    {0100000, "O_LARGEFILE"},
    {020200000, "O_TMPFILE"}, // includes O_DIRECTORY: before it
    {0200000, "O_DIRECTORY"},
    {0400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"},
    {010000000, "O_PATH"},
};

constexpr Named k_at_flags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"},
    {0x400, "AT_SYMLINK_FOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"},
    {0x1000, "AT_EMPTY_PATH"},
    {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"},
    {0x8000, "AT_RECURSIVE"},
};

constexpr Named k_mmap_prot[] = {
    {0x1, "PROT_READ"},
    {0x2, "PROT_WRITE"},
    {0x4, "PROT_EXEC"},
    {0x8, "PROT_SEM"},
    {0x01000000, "PROT_GROWSDOWN"},
    {0x02000000, "PROT_GROWSUP"},
};

constexpr Named k_mmap_type[] = {
    {0x1, "MAP_SHARED"},
    {0x2, "MAP_PRIVATE"},
    {0x3, "MAP_SHARED_VALIDATE"},
};

constexpr Named k_mmap_flags[] = {
    {0x10, "MAP_FIXED"},
    {0x20, "MAP_ANONYMOUS"},
    {0x40, "MAP_32BIT"},
    {0x100, "MAP_GROWSDOWN"},
    {0x800, "MAP_DENYWRITE"},
    {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},
    {0x4000, "MAP_NORESERVE"},
    {0x8000, "MAP_POPULATE"},
    {0x10000, "MAP_NONBLOCK"},
    {0x20000, "MAP_STACK"},
    {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},
    {0x100000, "MAP_FIXED_NOREPLACE"},
    {0x4000000, "MAP_UNINITIALIZED"},
};

constexpr Named k_clone_flags[] = {
    {0x00000100, "CLONE_VM"},
    {0x00000200, "CLONE_FS"},
    {0x00000400, "CLONE_FILES"},
    {0x00000800, "CLONE_SIGHAND"},
    {0x00001000, "CLONE_PIDFD"},
    {0x00002000, "CLONE_PTRACE"},
    {0x00004000, "CLONE_VFORK"},
    {0x00008000, "CLONE_PARENT"},
    {0x00010000, "CLONE_THREAD"},
    {0x00020000, "CLONE_NEWNS"},
    {0x00040000, "CLONE_SYSVSEM"},
    {0x00080000, "CLONE_SETTLS"},
    {0x00100000, "CLONE_PARENT_SETTID"},
    {0x00200000, "CLONE_CHILD_CLEARTID"},
    {0x00400000, "CLONE_DETACHED"},
    {0x00800000, "CLONE_UNTRACED"},
    {0x01000000, "CLONE_CHILD_SETTID"},
    {0x02000000, "CLONE_NEWCGROUP"},
    {0x04000000, "CLONE_NEWUTS"},
    {0x08000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
};

// Standard signal names, index = number.
constexpr std::string_view k_signal_names[32] = {
    "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

constexpr Named k_access_mode[] = {
    {4, "R_OK"},
    {2, "W_OK"},
    {1, "X_OK"},
};

constexpr Named k_whence[] = {
    {0, "SEEK_SET"},
    {1, "SEEK_CUR"},
    {2, "SEEK_END"},
    {3, "SEEK_DATA"},
    {4, "SEEK_HOLE"},
};

constexpr Named k_wait_options[] = {
    {0x1, "WNOHANG"},
    {0x2, "WUNTRACED"}, // WSTOPPED for waitid
    {0x4, "WEXITED"},
    {0x8, "WCONTINUED"},
    {0x01000000, "WNOWAIT"},
    {0x20000000, "__WNOTHREAD"},
    {0x40000000, "__WALL"},
    {0x80000000, "__WCLONE"},
};

constexpr Named k_fcntl_cmds[] = {
    {0, "F_DUPFD"},
    {1, "F_GETFD"},
    {2, "F_SETFD"},
    {3, "F_GETFL"},
    {4, "F_SETFL"},
    {5, "F_GETLK"},
    {6, "F_SETLK"},
    {7, "F_SETLKW"},
    {8, "F_SETOWN"},
    {9, "F_GETOWN"},
    {10, "F_SETSIG"},
    {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},
    {16, "F_GETOWN_EX"},
    {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},
    {38, "F_OFD_SETLKW"},
    {1024, "F_SETLEASE"},
    {1025, "F_GETLEASE"},
    {1026, "F_NOTIFY"},
    {1030, "F_DUPFD_CLOEXEC"},
    {1031, "F_SETPIPE_SZ"},
    {1032, "F_GETPIPE_SZ"},
    {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},
};

constexpr Named k_ioctl_requests[] = {
    {0x5401, "TCGETS"},
    {0x5402, "TCSETS"},
    {0x5403, "TCSETSW"},
    {0x5404, "TCSETSF"},
    {0x5409, "TCSBRK"},
    {0x540A, "TCXONC"},
    {0x540B, "TCFLSH"},
    {0x540E, "TIOCSCTTY"},
    {0x540F, "TIOCGPGRP"},
    {0x5410, "TIOCSPGRP"},
    {0x5411, "TIOCOUTQ"},
    {0x5412, "TIOCSTI"},
    {0x5413, "TIOCGWINSZ"},
    {0x5414, "TIOCSWINSZ"},
    {0x541B, "FIONREAD"},
    {0x5421, "FIONBIO"},
    {0x5422, "TIOCNOTTY"},
    {0x5429, "TIOCGSID"},
    {0x5441, "TIOCGPTPEER"},
    {0x5450, "FIONCLEX"},
    {0x5451, "FIOCLEX"},
    {0x5452, "FIOASYNC"},
    {0x80045430, "TIOCGPTN"},
    {0x40045431, "TIOCSPTLCK"},
};

constexpr Named k_futex_cmds[] = {
    {0, "FUTEX_WAIT"},
    {1, "FUTEX_WAKE"},
    {2, "FUTEX_FD"},
    {3, "FUTEX_REQUEUE"},
    {4, "FUTEX_CMP_REQUEUE"},
    {5, "FUTEX_WAKE_OP"},
    {6, "FUTEX_LOCK_PI"},
    {7, "FUTEX_UNLOCK_PI"},
    {8, "FUTEX_TRYLOCK_PI"},
    {9, "FUTEX_WAIT_BITSET"},
    {10, "FUTEX_WAKE_BITSET"},
    {11, "FUTEX_WAIT_REQUEUE_PI"},
    {12, "FUTEX_CMP_REQUEUE_PI"},
    {13, "FUTEX_LOCK_PI2"},
};

// The name of a standard or realtime signal without its "SIG" prefix, as in sets.
std::string short_signal_name(int sig)
{
    std::string s = signal_name(sig);
    return s.starts_with("SIG") ? s.substr(3) : s;
}

bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }

} // namespace

std::string quote(std::string_view bytes, bool truncated)
{
    std::string out = "\"";
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        switch (c) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\t': out += "\\t"; continue;
        case '\n': out += "\\n"; continue;
        case '\v': out += "\\v"; continue;
        case '\f': out += "\\f"; continue;
        case '\r': out += "\\r"; continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            continue;
        }
        // The shortest octal escape, unless a digit follows that would extend it.
        bool digit_follows = i + 1 < bytes.size() && is_octal_digit(bytes[i + 1]);
        out += digit_follows ? fmt::format("\\{:03o}", c) : fmt::format("\\{:o}", c);
    }
    out += '"';
    if (truncated)
        out += "...";
    return out;
}

std::string flags(uint64_t value, std::span<const Named> names)
{
    std::string out;
    auto add = [&](std::string_view s) {
        if (!out.empty())
            out += '|';
        out += s;
    };
    for (const Named& n : names) {
        if (n.value != 0 && (value & n.value) == n.value) {
            add(n.name);
            value &= ~n.value;
        }
    }
    if (value != 0)
        add(fmt::format("{:#x}", value));
    return out.empty() ? "0" : out;
}

std::string enum_name(int64_t value, std::span<const Named> names)
{
    for (const Named& n : names)
        if (static_cast<int64_t>(n.value) == value)
            return std::string(n.name);
    return fmt::format("{}", value);
}

std::string pointer(uint64_t addr) { return addr == 0 ? "NULL" : fmt::format("{:#x}", addr); }

std::string dirfd(int fd) { return fd == -100 ? "AT_FDCWD" : fmt::format("{}", fd); }

std::string file_mode(uint64_t mode) { return fmt::format("0{:02o}", mode); }

std::string open_flags(uint64_t value)
{
    constexpr std::string_view k_access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    std::string out(k_access[value & 3]);
    if (uint64_t rest = value & ~uint64_t{3})
        out += "|" + flags(rest, k_open_flags);
    return out;
}

std::string fd_flags(uint64_t value) { return flags(value, k_open_flags); }

std::string at_flags(uint64_t value) { return flags(value, k_at_flags); }

std::string mmap_prot(uint64_t value) { return value == 0 ? "PROT_NONE" : flags(value, k_mmap_prot); }

std::string mmap_flags(uint64_t value)
{
    std::string out;
    if (uint64_t type = value & 0xf)
        out = enum_name(static_cast<int64_t>(type), k_mmap_type);
    if (uint64_t rest = value & ~uint64_t{0xf})
        out += (out.empty() ? "" : "|") + flags(rest, k_mmap_flags);
    return out.empty() ? "0" : out;
}

std::string clone_flags(uint64_t value)
{
    // The low byte is the signal sent to the parent when the child exits.
    int exit_signal = static_cast<int>(value & 0xff);
    uint64_t rest = value & ~uint64_t{0xff};
    if (rest == 0)
        return exit_signal ? signal_name(exit_signal) : "0";
    std::string out = flags(rest, k_clone_flags);
    if (exit_signal)
        out += "|" + signal_name(exit_signal);
    return out;
}

std::string signal_name(int sig)
{
    // Realtime signals are named from the kernel's SIGRTMIN (32), as strace does;
    // glibc reserves 32 and 33 and its own SIGRTMIN is 34 (SIGRT_2 here).
    if (sig > 0 && sig < 32)
        return std::string(k_signal_names[sig]);
    if (sig == 32)
        return "SIGRTMIN";
    if (sig > 32 && sig <= 64)
        return fmt::format("SIGRT_{}", sig - 32);
    return fmt::format("{}", sig);
}

std::string sigset(uint64_t mask)
{
    // A mostly full set reads better as what it lacks.
    bool inverted = std::popcount(mask) > 32;
    if (inverted)
        mask = ~mask;
    std::string out = inverted ? "~[" : "[";
    for (int sig = 1; sig <= 64; ++sig) {
        if (!(mask & (uint64_t{1} << (sig - 1))))
            continue;
        if (out.back() != '[')
            out += ' ';
        out += short_signal_name(sig);
    }
    return out + "]";
}

std::string access_mode(uint64_t mode) { return mode == 0 ? "F_OK" : flags(mode, k_access_mode); }

std::string whence(uint64_t value) { return enum_name(static_cast<int>(value), k_whence); }

std::string wait_options(uint64_t options) { return flags(options, k_wait_options); }

std::string wait_status(int s)
{
    int low = s & 0x7f;
    if (low == 0)
        return fmt::format("[{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}]", (s >> 8) & 0xff);
    if (s == 0xffff)
        return "[{WIFCONTINUED(s)}]";
    if ((s & 0xff) == 0x7f) {
        std::string out = fmt::format("[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}", signal_name((s >> 8) & 0xff));
        if (s >> 16) // a ptrace event
            out += fmt::format(" && s >> 16 == {}", s >> 16);
        return out + "}]";
    }
    return fmt::format("[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{}}}]", signal_name(low),
        (s & 0x80) ? " && WCOREDUMP(s)" : "");
}

std::string fcntl_cmd(uint64_t cmd) { return enum_name(static_cast<int>(cmd), k_fcntl_cmds); }

std::string ioctl_request(uint64_t request)
{
    for (const Named& n : k_ioctl_requests)
        if (n.value == (request & 0xffffffff))
            return std::string(n.name);
    return fmt::format("{:#x}", request);
}

std::string futex_op(uint64_t op)
{
    constexpr uint64_t k_private = 128, k_clock_realtime = 256;
    uint64_t cmd = op & ~(k_private | k_clock_realtime);
    std::string out = cmd < std::size(k_futex_cmds) ? std::string(k_futex_cmds[cmd].name)
                                                    : fmt::format("{:#x}", cmd);
    if (op & k_private)
        out += "_PRIVATE";
    if (op & k_clock_realtime)
        out += "|FUTEX_CLOCK_REALTIME";
    return out;
}

std::string result(long value, bool hex)
{
    if (value < 0 && value > -4096) {
        int code = static_cast<int>(-value);
        switch (code) {
        case k_ERESTARTSYS: return "? ERESTARTSYS (To be restarted if SA_RESTART is set)";
        case k_ERESTARTNOINTR: return "? ERESTARTNOINTR (To be restarted)";
        case k_ERESTARTNOHAND: return "? ERESTARTNOHAND (To be restarted if no handler)";
        case k_ERESTART_RESTARTBLOCK: return "? ERESTART_RESTARTBLOCK (Interrupted by signal)";
        default: return fmt::format("-1 {} ({})", errno_name(code), strerror(code));
        }
    }
    return hex ? fmt::format("{:#x}", static_cast<uint64_t>(value)) : fmt::format("{}", value);
}

} // namespace strace_format

// --- Argument kinds and the table of signatures ---

namespace {

using namespace strace_format;

enum class Arg : uint8_t {
    // Scalars.
    Int,  // signed 32-bit
    Uint, // unsigned 64-bit (sizes, counts)
    Long, // signed 64-bit (offsets)
    Hex,
    Ptr, // NULL or hex
    Fd,
    DirFd, // AT_FDCWD
    Mode,  // octal
    // Flags and enums.
    OpenFlags,     // with the access mode: O_RDONLY|O_CLOEXEC
    OpenMode,      // the mode, only when the previous argument (flags) creates a file
    FdFlags,       // O_CLOEXEC|O_NONBLOCK (pipe2, dup3, eventfd2, epoll_create1 ...)
    AtFlags,       // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH
    UnlinkatFlags, // AT_REMOVEDIR
    FaccessatFlags, // AT_EACCESS|AT_SYMLINK_NOFOLLOW
    RenameFlags,
    AccessMode,
    Whence,
    MmapProt,
    MmapFlags,
    MremapFlags,
    Madvise,
    CloneFlags,
    Signal,
    SigHow,
    WaitOptions,
    IdType,
    FcntlCmd,
    FcntlArg, // depends on the previous argument (the command)
    IoctlReq,
    FutexOp,
    FutexArg4, // timeout for the waits, a count for the requeues
    ClockId,
    TimerFlags,
    ArchPrctl,
    PrctlOp,
    Resource,
    GrndFlags,
    SockDomain,
    SockType,
    EpollOp,
    // Guest memory read at entry.
    Path,     // a NUL-terminated string
    BufIn,    // data of the length in the next argument (write)
    Argv,     // ["a", "b", ...]
    Envp,     // 0x... /* N vars */
    IovIn,    // iovec array, count in the next argument (writev)
    SigsetIn, // 8-byte sigset
    SigactionIn,
    StackIn,
    TimespecIn,
    RlimitIn,
    SockaddrIn, // length in the next argument
    PollFds,    // count in the next argument
    FdSet,      // nfds in argument 0
    EpollEventIn,
    // Guest memory read at exit, from the result.
    BufOut,  // data of the length of the result (read)
    StrOut,  // a NUL-terminated string (getcwd)
    IovOut,  // iovec array filled with the result's length (readv)
    PipeFds, // int[2]
    WaitStatus,
    SigsetOut,
    SigactionOut,
    StackOut,
    TimespecOut,
    RlimitOut,
    Utsname,
};

bool decoded_at_exit(Arg k) { return k >= Arg::BufOut; }

enum class Ret : uint8_t { Dec, Hex, Oct };

using ArityFn = int (*)(const SyscallArgs&);

struct Signature {
    long nr;
    std::array<Arg, 6> args{};
    uint8_t argc = 0;
    Ret ret = Ret::Dec;
    ArityFn arity = nullptr; // when the number of arguments shown depends on them

    Signature(long n, std::initializer_list<Arg> a, Ret r = Ret::Dec, ArityFn f = nullptr)
        : nr(n)
        , argc(static_cast<uint8_t>(a.size()))
        , ret(r)
        , arity(f)
    {
        std::copy(a.begin(), a.end(), args.begin());
    }
};

int futex_arity(const SyscallArgs& a)
{
    switch (a.arg(1) & 0x7f) {
    case 1: return 3;          // FUTEX_WAKE
    case 7: case 8: return 2;  // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI
    case 0: case 6: case 13: return 4; // FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_LOCK_PI2
    case 3: return 5;          // FUTEX_REQUEUE
    default: return 6;
    }
}

using enum Arg;

// One row per syscall: its arguments' kinds, how its result prints. Syscalls not
// listed print six hex arguments.
const std::vector<Signature>& signatures()
{
    static const std::vector<Signature> rows = {
        // read/write
        {SYS_read, {Fd, BufOut, Uint}},
        {SYS_write, {Fd, BufIn, Uint}},
        {SYS_pread64, {Fd, BufOut, Uint, Long}},
        {SYS_pwrite64, {Fd, BufIn, Uint, Long}},
        {SYS_readv, {Fd, IovOut, Int}},
        {SYS_writev, {Fd, IovIn, Int}},
        {SYS_preadv, {Fd, IovOut, Int, Long}},
        {SYS_pwritev, {Fd, IovIn, Int, Long}},
        {SYS_preadv2, {Fd, IovOut, Int, Long, Long, Hex}},
        {SYS_pwritev2, {Fd, IovIn, Int, Long, Long, Hex}},
        {SYS_lseek, {Fd, Long, Whence}},
        {SYS_sendfile, {Fd, Fd, Ptr, Uint}},
        {SYS_copy_file_range, {Fd, Ptr, Fd, Ptr, Uint, Hex}},
        // files and paths
        {SYS_open, {Path, OpenFlags, OpenMode}},
        {SYS_openat, {DirFd, Path, OpenFlags, OpenMode}},
        {SYS_creat, {Path, Mode}},
        {SYS_close, {Fd}},
        {SYS_close_range, {Uint, Uint, Hex}},
        {SYS_stat, {Path, Ptr}},
        {SYS_lstat, {Path, Ptr}},
        {SYS_fstat, {Fd, Ptr}},
        {SYS_newfstatat, {DirFd, Path, Ptr, AtFlags}},
        {SYS_statx, {DirFd, Path, AtFlags, Hex, Ptr}},
        {SYS_statfs, {Path, Ptr}},
        {SYS_fstatfs, {Fd, Ptr}},
        {SYS_access, {Path, AccessMode}},
        {SYS_faccessat, {DirFd, Path, AccessMode}},
        {SYS_faccessat2, {DirFd, Path, AccessMode, FaccessatFlags}},
        {SYS_readlink, {Path, BufOut, Uint}},
        {SYS_readlinkat, {DirFd, Path, BufOut, Uint}},
        {SYS_getdents, {Fd, Ptr, Uint}},
        {SYS_getdents64, {Fd, Ptr, Uint}},
        {SYS_getcwd, {StrOut, Uint}},
        {SYS_chdir, {Path}},
        {SYS_fchdir, {Fd}},
        {SYS_chroot, {Path}},
        {SYS_mkdir, {Path, Mode}},
        {SYS_mkdirat, {DirFd, Path, Mode}},
        {SYS_rmdir, {Path}},
        {SYS_unlink, {Path}},
        {SYS_unlinkat, {DirFd, Path, UnlinkatFlags}},
        {SYS_rename, {Path, Path}},
        {SYS_renameat, {DirFd, Path, DirFd, Path}},
        {SYS_renameat2, {DirFd, Path, DirFd, Path, RenameFlags}},
        {SYS_link, {Path, Path}},
        {SYS_linkat, {DirFd, Path, DirFd, Path, AtFlags}},
        {SYS_symlink, {Path, Path}},
        {SYS_symlinkat, {Path, DirFd, Path}},
        {SYS_chmod, {Path, Mode}},
        {SYS_fchmod, {Fd, Mode}},
        {SYS_fchmodat, {DirFd, Path, Mode}},
        {SYS_chown, {Path, Int, Int}},
        {SYS_lchown, {Path, Int, Int}},
        {SYS_fchown, {Fd, Int, Int}},
        {SYS_fchownat, {DirFd, Path, Int, Int, AtFlags}},
        {SYS_truncate, {Path, Long}},
        {SYS_ftruncate, {Fd, Long}},
        {SYS_fsync, {Fd}},
        {SYS_fdatasync, {Fd}},
        {SYS_flock, {Fd, Int}},
        {SYS_utimensat, {DirFd, Path, Ptr, AtFlags}},
        {SYS_umask, {Mode}, Ret::Oct},
        // file descriptors
        {SYS_dup, {Fd}},
        {SYS_dup2, {Fd, Fd}},
        {SYS_dup3, {Fd, Fd, FdFlags}},
        {SYS_fcntl, {Fd, FcntlCmd, FcntlArg}},
        {SYS_ioctl, {Fd, IoctlReq, Hex}},
        {SYS_pipe, {PipeFds}},
        {SYS_pipe2, {PipeFds, FdFlags}},
        {SYS_eventfd, {Uint}},
        {SYS_eventfd2, {Uint, FdFlags}},
        {SYS_memfd_create, {Path, Hex}},
        // memory
        {SYS_mmap, {Ptr, Uint, MmapProt, MmapFlags, Fd, Hex}, Ret::Hex},
        {SYS_munmap, {Ptr, Uint}},
        {SYS_mprotect, {Ptr, Uint, MmapProt}},
        {SYS_brk, {Ptr}, Ret::Hex},
        {SYS_mremap, {Ptr, Uint, Uint, MremapFlags, Ptr}, Ret::Hex},
        {SYS_madvise, {Ptr, Uint, Madvise}},
        {SYS_msync, {Ptr, Uint, Hex}},
        {SYS_mincore, {Ptr, Uint, Ptr}},
        {SYS_mlock, {Ptr, Uint}},
        {SYS_munlock, {Ptr, Uint}},
        {SYS_mlockall, {Hex}},
        {SYS_munlockall, {}},
        // processes and threads
        {SYS_clone, {CloneFlags, Ptr, Ptr, Ptr, Hex}},
        {SYS_clone3, {Ptr, Uint}},
        {SYS_fork, {}},
        {SYS_vfork, {}},
        {SYS_execve, {Path, Argv, Envp}},
        {SYS_execveat, {DirFd, Path, Argv, Envp, AtFlags}},
        {SYS_exit, {Int}},
        {SYS_exit_group, {Int}},
        {SYS_wait4, {Int, WaitStatus, WaitOptions, Ptr}},
        {SYS_waitid, {IdType, Int, Ptr, WaitOptions, Ptr}},
        {SYS_getpid, {}},
        {SYS_getppid, {}},
        {SYS_gettid, {}},
        {SYS_getuid, {}},
        {SYS_geteuid, {}},
        {SYS_getgid, {}},
        {SYS_getegid, {}},
        {SYS_getpgrp, {}},
        {SYS_getpgid, {Int}},
        {SYS_getsid, {Int}},
        {SYS_setpgid, {Int, Int}},
        {SYS_setsid, {}},
        {SYS_setuid, {Int}},
        {SYS_setgid, {Int}},
        {SYS_getresuid, {Ptr, Ptr, Ptr}},
        {SYS_getresgid, {Ptr, Ptr, Ptr}},
        {SYS_getgroups, {Int, Ptr}},
        {SYS_set_tid_address, {Ptr}},
        {SYS_set_robust_list, {Ptr, Uint}},
        {SYS_get_robust_list, {Int, Ptr, Ptr}},
        {SYS_rseq, {Ptr, Uint, Hex, Hex}},
        {SYS_futex, {Ptr, FutexOp, Int, FutexArg4, Ptr, Hex}, Ret::Dec, futex_arity},
        {SYS_prlimit64, {Int, Resource, RlimitIn, RlimitOut}},
        {SYS_getrlimit, {Resource, RlimitOut}},
        {SYS_setrlimit, {Resource, RlimitIn}},
        {SYS_getrusage, {Int, Ptr}},
        {SYS_getrandom, {BufOut, Uint, GrndFlags}},
        {SYS_arch_prctl, {ArchPrctl, Hex}},
        {SYS_prctl, {PrctlOp, Hex, Hex, Hex, Hex}},
        {SYS_uname, {Utsname}},
        {SYS_sysinfo, {Ptr}},
        {SYS_sched_yield, {}},
        {SYS_sched_getaffinity, {Int, Uint, Ptr}},
        {SYS_sched_setaffinity, {Int, Uint, Ptr}},
        // signals
        {SYS_rt_sigaction, {Signal, SigactionIn, SigactionOut, Uint}},
        {SYS_rt_sigprocmask, {SigHow, SigsetIn, SigsetOut, Uint}},
        {SYS_rt_sigpending, {SigsetOut, Uint}},
        {SYS_rt_sigsuspend, {SigsetIn, Uint}},
        {SYS_rt_sigtimedwait, {SigsetIn, Ptr, TimespecIn, Uint}},
        {SYS_rt_sigqueueinfo, {Int, Signal, Ptr}},
        {SYS_rt_tgsigqueueinfo, {Int, Int, Signal, Ptr}},
        {SYS_rt_sigreturn, {}},
        {SYS_sigaltstack, {StackIn, StackOut}},
        {SYS_kill, {Int, Signal}},
        {SYS_tkill, {Int, Signal}},
        {SYS_tgkill, {Int, Int, Signal}},
        {SYS_pause, {}},
        {SYS_signalfd, {Fd, SigsetIn, Uint}},
        {SYS_signalfd4, {Fd, SigsetIn, Uint, FdFlags}},
        // time
        {SYS_nanosleep, {TimespecIn, Ptr}},
        {SYS_clock_nanosleep, {ClockId, TimerFlags, TimespecIn, Ptr}},
        {SYS_clock_gettime, {ClockId, TimespecOut}},
        {SYS_clock_getres, {ClockId, TimespecOut}},
        {SYS_gettimeofday, {Ptr, Ptr}},
        {SYS_time, {Ptr}},
        {SYS_alarm, {Uint}},
        // waiting for fds
        {SYS_poll, {PollFds, Uint, Int}},
        {SYS_ppoll, {PollFds, Uint, TimespecIn, SigsetIn, Uint}},
        {SYS_select, {Int, FdSet, FdSet, FdSet, Ptr}},
        {SYS_pselect6, {Int, FdSet, FdSet, FdSet, TimespecIn, Ptr}},
        {SYS_epoll_create, {Int}},
        {SYS_epoll_create1, {FdFlags}},
        {SYS_epoll_ctl, {Fd, EpollOp, Fd, EpollEventIn}},
        {SYS_epoll_wait, {Fd, Ptr, Int, Int}},
        {SYS_epoll_pwait, {Fd, Ptr, Int, Int, SigsetIn, Uint}},
        {SYS_epoll_pwait2, {Fd, Ptr, Int, TimespecIn, SigsetIn, Uint}},
        // sockets
        {SYS_socket, {SockDomain, SockType, Int}},
        {SYS_socketpair, {SockDomain, SockType, Int, PipeFds}},
        {SYS_connect, {Fd, SockaddrIn, Uint}},
        {SYS_bind, {Fd, SockaddrIn, Uint}},
        {SYS_listen, {Fd, Int}},
        {SYS_accept, {Fd, Ptr, Ptr}},
        {SYS_accept4, {Fd, Ptr, Ptr, FdFlags}},
        {SYS_shutdown, {Fd, Int}},
        {SYS_sendto, {Fd, BufIn, Uint, Hex, SockaddrIn, Uint}},
        {SYS_recvfrom, {Fd, BufOut, Uint, Hex, Ptr, Ptr}},
        {SYS_sendmsg, {Fd, Ptr, Hex}},
        {SYS_recvmsg, {Fd, Ptr, Hex}},
        {SYS_getsockname, {Fd, Ptr, Ptr}},
        {SYS_getpeername, {Fd, Ptr, Ptr}},
        {SYS_setsockopt, {Fd, Int, Int, Ptr, Uint}},
        {SYS_getsockopt, {Fd, Int, Int, Ptr, Ptr}},
    };
    return rows;
}

const Signature* signature_of(long nr)
{
    static const std::vector<const Signature*> by_nr = [] {
        std::vector<const Signature*> v(static_cast<size_t>(k_max_syscall), nullptr);
        for (const Signature& s : signatures())
            if (s.nr >= 0 && s.nr < k_max_syscall)
                v[static_cast<size_t>(s.nr)] = &s;
        return v;
    }();
    if (nr < 0 || nr >= k_max_syscall)
        return nullptr;
    return by_nr[static_cast<size_t>(nr)];
}

// --- Small enums that only the decoder needs ---

constexpr Named k_mremap_flags[] = {{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}};
constexpr Named k_madvise[] = {
    {0, "MADV_NORMAL"}, {1, "MADV_RANDOM"}, {2, "MADV_SEQUENTIAL"}, {3, "MADV_WILLNEED"},
    {4, "MADV_DONTNEED"}, {8, "MADV_FREE"}, {9, "MADV_REMOVE"}, {10, "MADV_DONTFORK"},
    {11, "MADV_DOFORK"}, {12, "MADV_MERGEABLE"}, {13, "MADV_UNMERGEABLE"}, {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"}, {16, "MADV_DONTDUMP"}, {17, "MADV_DODUMP"}, {18, "MADV_WIPEONFORK"},
    {19, "MADV_KEEPONFORK"}, {20, "MADV_COLD"}, {21, "MADV_PAGEOUT"}, {100, "MADV_HWPOISON"},
};
constexpr Named k_unlinkat_flags[] = {{0x200, "AT_REMOVEDIR"}};
constexpr Named k_faccessat_flags[] = {{0x200, "AT_EACCESS"}, {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x1000, "AT_EMPTY_PATH"}};
constexpr Named k_rename_flags[] = {{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}};
constexpr Named k_sig_how[] = {{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}};
constexpr Named k_id_types[] = {{0, "P_ALL"}, {1, "P_PID"}, {2, "P_PGID"}, {3, "P_PIDFD"}};
constexpr Named k_clock_ids[] = {
    {0, "CLOCK_REALTIME"}, {1, "CLOCK_MONOTONIC"}, {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"}, {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"}, {11, "CLOCK_TAI"},
};
constexpr Named k_timer_flags[] = {{1, "TIMER_ABSTIME"}};
constexpr Named k_arch_prctl[] = {
    {0x1001, "ARCH_SET_GS"}, {0x1002, "ARCH_SET_FS"}, {0x1003, "ARCH_GET_FS"}, {0x1004, "ARCH_GET_GS"},
    {0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"}, {0x3001, "ARCH_CET_STATUS"},
};
constexpr Named k_prctl_ops[] = {
    {1, "PR_SET_PDEATHSIG"}, {2, "PR_GET_PDEATHSIG"}, {3, "PR_GET_DUMPABLE"}, {4, "PR_SET_DUMPABLE"},
    {15, "PR_SET_NAME"}, {16, "PR_GET_NAME"}, {22, "PR_SET_SECCOMP"}, {23, "PR_CAPBSET_READ"},
    {35, "PR_SET_MM"}, {36, "PR_SET_CHILD_SUBREAPER"}, {37, "PR_GET_CHILD_SUBREAPER"},
    {38, "PR_SET_NO_NEW_PRIVS"}, {39, "PR_GET_NO_NEW_PRIVS"}, {0x53564d41, "PR_SET_VMA"},
};
constexpr Named k_resources[] = {
    {0, "RLIMIT_CPU"}, {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"}, {3, "RLIMIT_STACK"},
    {4, "RLIMIT_CORE"}, {5, "RLIMIT_RSS"}, {6, "RLIMIT_NPROC"}, {7, "RLIMIT_NOFILE"},
    {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"}, {10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
};
constexpr Named k_grnd_flags[] = {{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}};
constexpr Named k_sock_domains[] = {
    {0, "AF_UNSPEC"}, {1, "AF_UNIX"}, {2, "AF_INET"}, {10, "AF_INET6"}, {16, "AF_NETLINK"}, {17, "AF_PACKET"},
};
constexpr Named k_sock_types[] = {
    {1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"}, {4, "SOCK_RDM"}, {5, "SOCK_SEQPACKET"},
    {6, "SOCK_DCCP"}, {10, "SOCK_PACKET"},
};
constexpr Named k_sock_type_flags[] = {{04000, "SOCK_NONBLOCK"}, {02000000, "SOCK_CLOEXEC"}};
constexpr Named k_epoll_ops[] = {{1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}};
constexpr Named k_epoll_events[] = {
    {0x1, "EPOLLIN"}, {0x2, "EPOLLPRI"}, {0x4, "EPOLLOUT"}, {0x8, "EPOLLERR"}, {0x10, "EPOLLHUP"},
    {0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"}, {0x100, "EPOLLWRNORM"}, {0x200, "EPOLLWRBAND"},
    {0x400, "EPOLLMSG"}, {0x2000, "EPOLLRDHUP"}, {1u << 28, "EPOLLEXCLUSIVE"}, {1u << 29, "EPOLLWAKEUP"},
    {1u << 30, "EPOLLONESHOT"}, {1u << 31, "EPOLLET"},
};
constexpr Named k_poll_events[] = {
    {0x1, "POLLIN"}, {0x2, "POLLPRI"}, {0x4, "POLLOUT"}, {0x8, "POLLERR"}, {0x10, "POLLHUP"},
    {0x20, "POLLNVAL"}, {0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"}, {0x100, "POLLWRNORM"},
    {0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x2000, "POLLRDHUP"},
};
constexpr Named k_sa_flags[] = {
    {0x1, "SA_NOCLDSTOP"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"}, {0x04000000, "SA_RESTORER"},
    {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"},
    {0x80000000, "SA_RESETHAND"},
};
constexpr Named k_ss_flags[] = {{1, "SS_ONSTACK"}, {2, "SS_DISABLE"}, {1u << 31, "SS_AUTODISARM"}};

// --- Reading guest memory for the decoder: never fails, says nullopt instead ---

constexpr uint64_t k_page = 4096;

// Up to `max` bytes of the NUL-terminated string at `addr`, and whether it is longer.
std::optional<std::pair<std::string, bool>> read_cstring(Task& t, uint64_t addr, size_t max)
{
    std::string out;
    char chunk[k_page];
    while (out.size() <= max) {
        // One page at a time: the next page may be unmapped.
        size_t want = std::min<size_t>(k_page - (addr & (k_page - 1)), max + 1 - out.size());
        if (t.copy_in(addr, chunk, want).is_error())
            return std::nullopt;
        if (auto* nul = static_cast<char*>(memchr(chunk, 0, want))) {
            out.append(chunk, static_cast<size_t>(nul - chunk));
            return std::pair{out, false};
        }
        out.append(chunk, want);
        addr += want;
    }
    out.resize(max);
    return std::pair{out, true};
}

std::optional<std::string> read_bytes(Task& t, uint64_t addr, size_t len)
{
    std::string out(len, '\0');
    if (len && t.copy_in(addr, out.data(), len).is_error())
        return std::nullopt;
    return out;
}

template<typename T>
std::optional<T> read_value(Task& t, uint64_t addr)
{
    if (addr == 0)
        return std::nullopt;
    auto r = t.copy_in<T>(addr);
    if (r.is_error())
        return std::nullopt;
    return r.value();
}

// A string argument: quoted, or NULL, or the pointer when unreadable.
std::string path_arg(Task& t, uint64_t addr)
{
    if (addr == 0)
        return "NULL";
    auto s = read_cstring(t, addr, k_max_string);
    return s ? quote(s->first, s->second) : pointer(addr);
}

// `len` bytes of data at `addr`, as strace prints read/write buffers.
std::string data_arg(Task& t, uint64_t addr, uint64_t len)
{
    size_t shown = static_cast<size_t>(std::min<uint64_t>(len, k_max_data));
    auto s = read_bytes(t, addr, shown);
    return s ? quote(*s, len > shown) : pointer(addr);
}

std::string string_array(Task& t, uint64_t addr)
{
    if (addr == 0)
        return "NULL";
    std::string out = "[";
    for (size_t i = 0;; ++i) {
        auto p = read_value<uint64_t>(t, addr + 8 * i);
        if (!p)
            return pointer(addr);
        if (*p == 0)
            break;
        if (i)
            out += ", ";
        if (i == k_max_array) {
            out += "...";
            break;
        }
        out += path_arg(t, *p);
    }
    return out + "]";
}

std::string env_array(Task& t, uint64_t addr)
{
    if (addr == 0)
        return "NULL";
    size_t n = 0;
    constexpr size_t k_max_vars = 4096;
    while (n < k_max_vars) {
        auto p = read_value<uint64_t>(t, addr + 8 * n);
        if (!p)
            return pointer(addr);
        if (*p == 0)
            break;
        ++n;
    }
    return fmt::format("{:#x} /* {}{} var{} */", addr, n, n == k_max_vars ? "+" : "", n == 1 ? "" : "s");
}

// An iovec array; with `bytes` set (readv at exit), only that many bytes are data.
std::string iovec_array(Task& t, uint64_t addr, uint64_t count, std::optional<uint64_t> bytes)
{
    struct Iovec {
        uint64_t base;
        uint64_t len;
    };
    if (addr == 0)
        return "NULL";
    std::string out = "[";
    for (uint64_t i = 0; i < count; ++i) {
        if (i)
            out += ", ";
        if (i == k_max_array) {
            out += "...";
            break;
        }
        auto iov = read_value<Iovec>(t, addr + sizeof(Iovec) * i);
        if (!iov)
            return pointer(addr);
        uint64_t data = iov->len;
        if (bytes) {
            data = std::min(data, *bytes);
            *bytes -= data;
        }
        out += fmt::format("{{iov_base={}, iov_len={}}}", data_arg(t, iov->base, data), iov->len);
    }
    return out + "]";
}

std::string sigset_arg(Task& t, uint64_t addr)
{
    if (addr == 0)
        return "NULL";
    auto s = read_value<uint64_t>(t, addr);
    return s ? sigset(*s) : pointer(addr);
}

std::string timespec_arg(Task& t, uint64_t addr)
{
    struct Timespec {
        int64_t sec;
        int64_t nsec;
    };
    if (addr == 0)
        return "NULL";
    auto ts = read_value<Timespec>(t, addr);
    return ts ? fmt::format("{{tv_sec={}, tv_nsec={}}}", ts->sec, ts->nsec) : pointer(addr);
}

std::string rlimit_value(uint64_t v)
{
    if (v == ~uint64_t{0})
        return "RLIM64_INFINITY";
    if (v && v % 1024 == 0)
        return fmt::format("{}*1024", v / 1024);
    return fmt::format("{}", v);
}

std::string rlimit_arg(Task& t, uint64_t addr)
{
    struct Rlimit {
        uint64_t cur;
        uint64_t max;
    };
    if (addr == 0)
        return "NULL";
    auto r = read_value<Rlimit>(t, addr);
    return r ? fmt::format("{{rlim_cur={}, rlim_max={}}}", rlimit_value(r->cur), rlimit_value(r->max))
             : pointer(addr);
}

// The kernel's struct sigaction on x86-64 (include/linux/signal_types.h, sa_mask last).
std::string sigaction_arg(Task& t, uint64_t addr)
{
    struct KernelSigaction {
        uint64_t handler;
        uint64_t flags;
        uint64_t restorer;
        uint64_t mask;
    };
    if (addr == 0)
        return "NULL";
    auto sa = read_value<KernelSigaction>(t, addr);
    if (!sa)
        return pointer(addr);
    std::string handler = sa->handler == 0 ? "SIG_DFL" : sa->handler == 1 ? "SIG_IGN" : pointer(sa->handler);
    std::string out = fmt::format("{{sa_handler={}, sa_mask={}, sa_flags={}", handler, sigset(sa->mask),
        flags(sa->flags, k_sa_flags));
    if (sa->flags & 0x04000000)
        out += fmt::format(", sa_restorer={}", pointer(sa->restorer));
    return out + "}";
}

std::string stack_arg(Task& t, uint64_t addr)
{
    struct StackT {
        uint64_t sp;
        int32_t flags;
        int32_t pad;
        uint64_t size;
    };
    if (addr == 0)
        return "NULL";
    auto ss = read_value<StackT>(t, addr);
    return ss ? fmt::format("{{ss_sp={}, ss_flags={}, ss_size={}}}", pointer(ss->sp),
                    flags(static_cast<uint32_t>(ss->flags), k_ss_flags), ss->size)
              : pointer(addr);
}

std::string sockaddr_arg(Task& t, uint64_t addr, uint64_t len)
{
    if (addr == 0)
        return "NULL";
    auto raw = read_bytes(t, addr, static_cast<size_t>(std::min<uint64_t>(len, 128)));
    if (!raw || raw->size() < 2)
        return pointer(addr);
    uint16_t family;
    memcpy(&family, raw->data(), 2);
    std::string fam = enum_name(family, k_sock_domains);
    std::string_view body = std::string_view(*raw).substr(2);
    if (family == 1) { // AF_UNIX: the path, or an abstract name after a NUL
        if (body.empty())
            return fmt::format("{{sa_family={}}}", fam);
        bool abstract = body[0] == '\0';
        if (abstract)
            body.remove_prefix(1);
        else
            body = body.substr(0, body.find('\0'));
        return fmt::format("{{sa_family={}, sun_path={}{}}}", fam, abstract ? "@" : "", quote(body));
    }
    if (family == 2 && body.size() >= 6) { // AF_INET
        uint16_t port;
        memcpy(&port, body.data(), 2);
        char ip[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, body.data() + 2, ip, sizeof ip);
        return fmt::format("{{sa_family={}, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}", fam, ntohs(port), ip);
    }
    if (family == 10 && body.size() >= 22) { // AF_INET6: port, flowinfo, addr
        uint16_t port;
        memcpy(&port, body.data(), 2);
        char ip[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, body.data() + 6, ip, sizeof ip);
        return fmt::format("{{sa_family={}, sin6_port=htons({}), sin6_addr=\"{}\"}}", fam, ntohs(port), ip);
    }
    return fmt::format("{{sa_family={}}}", fam);
}

std::string pollfd_array(Task& t, uint64_t addr, uint64_t count)
{
    struct Pollfd {
        int32_t fd;
        int16_t events;
        int16_t revents;
    };
    if (addr == 0)
        return "NULL";
    std::string out = "[";
    for (uint64_t i = 0; i < count; ++i) {
        if (i)
            out += ", ";
        if (i == k_max_array) {
            out += "...";
            break;
        }
        auto p = read_value<Pollfd>(t, addr + sizeof(Pollfd) * i);
        if (!p)
            return pointer(addr);
        out += fmt::format("{{fd={}, events={}}}", p->fd, flags(static_cast<uint16_t>(p->events), k_poll_events));
    }
    return out + "]";
}

std::string fd_set_arg(Task& t, uint64_t addr, int nfds)
{
    if (addr == 0)
        return "NULL";
    nfds = std::clamp(nfds, 0, 1024);
    size_t bytes = static_cast<size_t>((nfds + 63) / 64 * 8);
    auto raw = read_bytes(t, addr, bytes);
    if (!raw)
        return pointer(addr);
    std::string out = "[";
    for (int fd = 0; fd < nfds; ++fd) {
        if (!((*raw)[static_cast<size_t>(fd / 8)] & (1 << (fd % 8))))
            continue;
        if (out.size() > 1)
            out += ' ';
        out += fmt::format("{}", fd);
    }
    return out + "]";
}

std::string epoll_event_arg(Task& t, uint64_t addr)
{
    // struct epoll_event is packed on x86-64: 4 bytes of events, 8 of data.
    if (addr == 0)
        return "NULL";
    auto raw = read_bytes(t, addr, 12);
    if (!raw)
        return pointer(addr);
    uint32_t events;
    uint64_t data;
    memcpy(&events, raw->data(), 4);
    memcpy(&data, raw->data() + 4, 8);
    return fmt::format("{{events={}, data={{u32={}, u64={}}}}}", flags(events, k_epoll_events),
        static_cast<uint32_t>(data), data);
}

std::string utsname_arg(Task& t, uint64_t addr)
{
    auto sysname = read_cstring(t, addr, k_max_string);
    auto nodename = read_cstring(t, addr + 65, k_max_string);
    if (!sysname || !nodename)
        return pointer(addr);
    return fmt::format("{{sysname={}, nodename={}, ...}}", quote(sysname->first), quote(nodename->first));
}

std::string fcntl_arg(uint64_t cmd, uint64_t v)
{
    switch (cmd) {
    case 1: case 3: case 9: case 11: case 1025: case 1032: case 1034: // the F_GET* commands
        return {};
    case 2: // F_SETFD
        return v == 1 ? "FD_CLOEXEC" : fmt::format("{:#x}", v);
    case 4: // F_SETFL
        return open_flags(v);
    case 5: case 6: case 7: case 15: case 16: case 36: case 37: case 38: // locks, owner structs
        return pointer(v);
    case 10: // F_SETSIG
        return signal_name(static_cast<int>(v));
    default:
        return fmt::format("{}", static_cast<int>(v));
    }
}

std::string sock_type(uint64_t v)
{
    std::string out = enum_name(static_cast<int64_t>(v & 0xf), k_sock_types);
    if (uint64_t rest = v & ~uint64_t{0xf})
        out += "|" + flags(rest, k_sock_type_flags);
    return out;
}

// The decoded argument `i`, read at entry; nullopt for an argument that is not shown.
std::optional<std::string> decode_at_entry(Arg kind, Task& t, const SyscallArgs& a, int i)
{
    uint64_t v = a.arg(i);
    auto next = [&] { return i < 5 ? a.arg(i + 1) : 0; };
    auto prev = [&] { return i > 0 ? a.arg(i - 1) : 0; };
    switch (kind) {
    case Int: return fmt::format("{}", a.as_int(i));
    case Uint: return fmt::format("{}", v);
    case Long: return fmt::format("{}", a.as_long(i));
    case Hex: return v == 0 ? "0" : fmt::format("{:#x}", v);
    case Ptr: return pointer(v);
    case Fd: return fmt::format("{}", a.as_int(i));
    case DirFd: return dirfd(a.as_int(i));
    case Mode: return file_mode(v);
    case OpenFlags: return open_flags(v);
    case OpenMode:
        // O_CREAT or O_TMPFILE: only then does the kernel read the mode.
        if ((prev() & 0100) || (prev() & 020200000) == 020200000)
            return file_mode(v);
        return std::nullopt;
    case FdFlags: return fd_flags(v);
    case AtFlags: return at_flags(v);
    case UnlinkatFlags: return flags(v, k_unlinkat_flags);
    case FaccessatFlags: return flags(v, k_faccessat_flags);
    case RenameFlags: return flags(v, k_rename_flags);
    case AccessMode: return access_mode(v);
    case Whence: return whence(v);
    case MmapProt: return mmap_prot(v);
    case MmapFlags: return mmap_flags(v);
    case MremapFlags: return flags(v, k_mremap_flags);
    case Madvise: return enum_name(a.as_int(i), k_madvise);
    case CloneFlags: return clone_flags(v);
    case Signal: return signal_name(a.as_int(i));
    case SigHow: return enum_name(a.as_int(i), k_sig_how);
    case WaitOptions: return wait_options(v);
    case IdType: return enum_name(a.as_int(i), k_id_types);
    case FcntlCmd: return fcntl_cmd(v);
    case FcntlArg: {
        std::string s = fcntl_arg(prev(), v);
        return s.empty() ? std::nullopt : std::optional(s);
    }
    case IoctlReq: return ioctl_request(v);
    case FutexOp: return futex_op(v);
    case FutexArg4:
        switch (a.arg(1) & 0x7f) {
        case 0: case 6: case 9: case 11: case 13: return timespec_arg(t, v); // the waits
        default: return fmt::format("{}", v);
        }
    case ClockId: return enum_name(a.as_int(i), k_clock_ids);
    case TimerFlags: return flags(v, k_timer_flags);
    case ArchPrctl: return enum_name(a.as_int(i), k_arch_prctl);
    case PrctlOp: return enum_name(a.as_int(i), k_prctl_ops);
    case Resource: return enum_name(a.as_int(i), k_resources);
    case GrndFlags: return flags(v, k_grnd_flags);
    case SockDomain: return enum_name(a.as_int(i), k_sock_domains);
    case SockType: return sock_type(v);
    case EpollOp: return enum_name(a.as_int(i), k_epoll_ops);
    case Path: return path_arg(t, v);
    case BufIn: return data_arg(t, v, next());
    case Argv: return string_array(t, v);
    case Envp: return env_array(t, v);
    case IovIn: return iovec_array(t, v, next(), std::nullopt);
    case SigsetIn: return sigset_arg(t, v);
    case SigactionIn: return sigaction_arg(t, v);
    case StackIn: return stack_arg(t, v);
    case TimespecIn: return timespec_arg(t, v);
    case RlimitIn: return rlimit_arg(t, v);
    case SockaddrIn: return sockaddr_arg(t, v, next());
    case PollFds: return pollfd_array(t, v, next());
    case FdSet: return fd_set_arg(t, v, a.as_int(0));
    case EpollEventIn: return epoll_event_arg(t, v);
    default: return pointer(v); // decoded at exit: not here
    }
}

// The decoded output argument `i`, read at exit from the successful `result`.
std::string decode_at_exit(Arg kind, Task& t, const SyscallArgs& a, int i, long result)
{
    uint64_t v = a.arg(i);
    if (v == 0)
        return "NULL";
    switch (kind) {
    case BufOut: return data_arg(t, v, static_cast<uint64_t>(result));
    case StrOut: return path_arg(t, v);
    case IovOut: return iovec_array(t, v, i < 5 ? a.arg(i + 1) : 0, static_cast<uint64_t>(result));
    case PipeFds: {
        auto fds = read_value<std::array<int32_t, 2>>(t, v);
        return fds ? fmt::format("[{}, {}]", (*fds)[0], (*fds)[1]) : pointer(v);
    }
    case WaitStatus: {
        if (result == 0) // WNOHANG and nothing to report: the status is untouched
            return pointer(v);
        auto s = read_value<int32_t>(t, v);
        return s ? wait_status(*s) : pointer(v);
    }
    case SigsetOut: return sigset_arg(t, v);
    case SigactionOut: return sigaction_arg(t, v);
    case StackOut: return stack_arg(t, v);
    case TimespecOut: return timespec_arg(t, v);
    case RlimitOut: return rlimit_arg(t, v);
    case Utsname: return utsname_arg(t, v);
    default: return pointer(v);
    }
}

// Output arguments wait in the line as this marker followed by the argument's index;
// quote() never lets a raw control byte through, so the marker can't clash with data.
constexpr char k_exit_marker = '\x01';

std::string syscall_name(long nr)
{
    const SyscallEntry* e = syscall_entry(nr);
    return e && !e->name.empty() ? std::string(e->name) : fmt::format("syscall_{}", nr);
}

bool is_no_return(long nr) { return nr == SYS_exit || nr == SYS_exit_group; }

// Replace each exit marker of `line`: `decode(index)` gives the text.
template<typename F>
std::string fill_exit_args(const std::string& line, F decode)
{
    std::string out;
    out.reserve(line.size());
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == k_exit_marker && i + 1 < line.size()) {
            out += decode(line[i + 1] - '0');
            ++i;
        } else {
            out += line[i];
        }
    }
    return out;
}

void print_line(const std::string& line, std::string_view result)
{
    fmt::print(stderr, "{}) = {}\n", line, result);
}

} // namespace

void strace_print_entry(Task& t)
{
    if (!t.m_strace_line.empty()) {
        // The previous call of this task never reported an exit (rt_sigreturn, a
        // handler that took over): its outputs are unknown.
        print_line(fill_exit_args(t.m_strace_line, [](int) { return std::string("?"); }), "?");
        t.m_strace_line.clear();
    }

    const SyscallArgs& a = t.syscall_args();
    std::string line = fmt::format("[pid {:>4}] {}(", t.vtid(), syscall_name(a.nr));
    const Signature* sig = signature_of(a.nr);
    int argc = sig ? (sig->arity ? std::min<int>(sig->arity(a), sig->argc) : sig->argc) : 6;
    bool first = true;
    for (int i = 0; i < argc; ++i) {
        std::optional<std::string> text;
        if (!sig)
            text = fmt::format("{:#x}", a.arg(i));
        else if (decoded_at_exit(sig->args[static_cast<size_t>(i)]))
            text = std::string{k_exit_marker, static_cast<char>('0' + i)};
        else
            text = decode_at_entry(sig->args[static_cast<size_t>(i)], t, a, i);
        if (!text)
            continue;
        if (!first)
            line += ", ";
        line += *text;
        first = false;
    }

    if (is_no_return(a.nr)) {
        // exit and exit_group never come back: the line is complete now.
        print_line(line, "?");
        t.m_strace_pending = false;
        return;
    }
    t.m_strace_line = std::move(line);
}

void strace_print_exit(Task& t, long value)
{
    const SyscallArgs& a = t.syscall_args();
    const Signature* sig = signature_of(a.nr);
    bool failed = value < 0 && value > -4096;
    std::string line = fill_exit_args(t.m_strace_line, [&](int i) {
        if (!sig || i < 0 || i >= sig->argc)
            return std::string("?");
        if (failed)
            return pointer(a.arg(i));
        return decode_at_exit(sig->args[static_cast<size_t>(i)], t, a, i, value);
    });
    Ret ret = sig ? sig->ret : Ret::Dec;
    std::string text = ret == Ret::Oct && !failed ? fmt::format("0{:o}", value) : result(value, ret == Ret::Hex);
    print_line(line, text);
    t.m_strace_line.clear();
}

namespace {

std::string si_code_name(int sig, int code)
{
    switch (code) {
    case 0: return "SI_USER";
    case 0x80: return "SI_KERNEL";
    case -1: return "SI_QUEUE";
    case -2: return "SI_TIMER";
    case -3: return "SI_MESGQ";
    case -4: return "SI_ASYNCIO";
    case -5: return "SI_SIGIO";
    case -6: return "SI_TKILL";
    default: break;
    }
    if (sig == SIGCHLD) {
        static const char* names[] = {"", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
        if (code >= 1 && code <= 6)
            return names[code];
    }
    if (sig == SIGSEGV && (code == 1 || code == 2))
        return code == 1 ? "SEGV_MAPERR" : "SEGV_ACCERR";
    if (sig == SIGBUS && code >= 1 && code <= 3)
        return code == 1 ? "BUS_ADRALN" : code == 2 ? "BUS_ADRERR" : "BUS_OBJERR";
    if (sig == SIGFPE && code == 1)
        return "FPE_INTDIV";
    if (sig == SIGILL && code == 2)
        return "ILL_ILLOPN";
    if (sig == SIGTRAP && code >= 1 && code <= 2)
        return code == 1 ? "TRAP_BRKPT" : "TRAP_TRACE";
    return fmt::format("{}", code);
}

} // namespace

void strace_print_signal(Task& t, const abi::SigInfo& info)
{
    using namespace strace_format;
    int sig = info.si_signo;
    std::string body = fmt::format("si_signo={}, si_code={}", signal_name(sig), si_code_name(sig, info.si_code));
    bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) && info.si_code > 0 &&
        info.si_code != 0x80;
    if (fault)
        body += fmt::format(", si_addr={}", pointer(info.u.fault.addr));
    else if (sig == SIGCHLD && info.si_code > 0)
        body += fmt::format(", si_pid={}, si_uid={}, si_status={}", info.u.chld.pid, info.u.chld.uid, info.u.chld.status);
    else if (info.si_code == -2)
        body += fmt::format(", si_timerid={:#x}, si_overrun={}, si_value={}", info.u.timer.tid, info.u.timer.overrun,
            info.u.timer.value);
    else if (info.si_code <= 0)
        body += fmt::format(", si_pid={}, si_uid={}", info.u.kill.pid, info.u.kill.uid);
    if (info.si_code == -1)
        body += fmt::format(", si_value={}", info.u.rt.value);
    fmt::print(stderr, "[pid {:>4}] --- {} {{{}}} ---\n", t.vtid(), signal_name(sig), body);
}

void strace_print_exit_status(pid_t vpid, int st)
{
    if ((st & 0x7f) == 0)
        fmt::print(stderr, "[pid {:>4}] +++ exited with {} +++\n", vpid, (st >> 8) & 0xff);
    else
        fmt::print(stderr, "[pid {:>4}] +++ killed by {}{} +++\n", vpid, strace_format::signal_name(st & 0x7f),
            (st & 0x80) ? " (core dumped)" : "");
}

} // namespace sentry::kernel
