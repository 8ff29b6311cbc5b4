#include <catch2/catch.hpp>

#include "sentry/kernel/strace.h"

using namespace sentry::kernel::strace_format;

TEST_CASE("strace: strings are quoted and escaped as strace does")
{
    REQUIRE(quote("hello\n") == "\"hello\\n\"");
    REQUIRE(quote("a\"b\\c\td") == "\"a\\\"b\\\\c\\td\"");
    REQUIRE(quote("") == "\"\"");
    REQUIRE(quote("abc", true) == "\"abc\"...");
    // Non-printable bytes in the shortest octal, three digits when a digit follows.
    REQUIRE(quote(std::string_view("\177ELF\2\1", 6)) == "\"\\177ELF\\2\\1\"");
    REQUIRE(quote(std::string_view("\0" "1", 2)) == "\"\\0001\"");
    REQUIRE(quote(std::string_view("\0a", 2)) == "\"\\0a\"");
    REQUIRE(quote("\xff") == "\"\\377\"");
    REQUIRE(quote("\x01") == "\"\\1\"");
}

TEST_CASE("strace: flags and enums")
{
    REQUIRE(open_flags(0) == "O_RDONLY");
    REQUIRE(open_flags(02000000) == "O_RDONLY|O_CLOEXEC");
    REQUIRE(open_flags(01 | 0100 | 01000) == "O_WRONLY|O_CREAT|O_TRUNC");
    REQUIRE(open_flags(02 | 0100000) == "O_RDWR|O_LARGEFILE");
    REQUIRE(open_flags(04010000) == "O_RDONLY|O_SYNC");
    REQUIRE(open_flags(020200000 | 02) == "O_RDWR|O_TMPFILE");
    REQUIRE(open_flags(0x40000000) == "O_RDONLY|0x40000000");
    REQUIRE(fd_flags(0) == "0");
    REQUIRE(fd_flags(02004000) == "O_NONBLOCK|O_CLOEXEC");
    REQUIRE(at_flags(0x1000) == "AT_EMPTY_PATH");
    REQUIRE(mmap_prot(0) == "PROT_NONE");
    REQUIRE(mmap_prot(7) == "PROT_READ|PROT_WRITE|PROT_EXEC");
    REQUIRE(mmap_flags(0x22) == "MAP_PRIVATE|MAP_ANONYMOUS");
    REQUIRE(mmap_flags(0x812) == "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
    REQUIRE(mmap_flags(0x3) == "MAP_SHARED_VALIDATE");
    REQUIRE(clone_flags(0x01200011) == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
    REQUIRE(clone_flags(0x4111) == "CLONE_VM|CLONE_VFORK|SIGCHLD");
    REQUIRE(clone_flags(0) == "0");
    REQUIRE(access_mode(0) == "F_OK");
    REQUIRE(access_mode(5) == "R_OK|X_OK");
    REQUIRE(whence(0) == "SEEK_SET");
    REQUIRE(whence(2) == "SEEK_END");
    REQUIRE(whence(9) == "9");
    REQUIRE(wait_options(0) == "0");
    REQUIRE(wait_options(0x40000001) == "WNOHANG|__WALL");
    REQUIRE(fcntl_cmd(2) == "F_SETFD");
    REQUIRE(fcntl_cmd(1030) == "F_DUPFD_CLOEXEC");
    REQUIRE(ioctl_request(0x5401) == "TCGETS");
    REQUIRE(ioctl_request(0x5413) == "TIOCGWINSZ");
    REQUIRE(ioctl_request(0x541B) == "FIONREAD");
    REQUIRE(ioctl_request(0x1234) == "0x1234");
    REQUIRE(futex_op(0x81) == "FUTEX_WAKE_PRIVATE");
    REQUIRE(futex_op(0x189) == "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
    REQUIRE(file_mode(0644) == "0644");
    REQUIRE(file_mode(0) == "000");
    REQUIRE(pointer(0) == "NULL");
    REQUIRE(pointer(0x7ffd1000) == "0x7ffd1000");
    REQUIRE(dirfd(-100) == "AT_FDCWD");
    REQUIRE(dirfd(3) == "3");
}

TEST_CASE("strace: signals, sets and wait statuses")
{
    REQUIRE(signal_name(13) == "SIGPIPE");
    REQUIRE(signal_name(17) == "SIGCHLD");
    REQUIRE(signal_name(32) == "SIGRTMIN");
    REQUIRE(signal_name(34) == "SIGRT_2");
    REQUIRE(signal_name(0) == "0");
    REQUIRE(signal_name(65) == "65");
    REQUIRE(sigset(0) == "[]");
    REQUIRE(sigset((1ull << 1) | (1ull << 14)) == "[INT TERM]");
    REQUIRE(sigset(~0ull) == "~[]");
    REQUIRE(sigset(~((1ull << 8) | (1ull << 18))) == "~[KILL STOP]");
    REQUIRE(wait_status(0) == "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]");
    REQUIRE(wait_status(42 << 8) == "[{WIFEXITED(s) && WEXITSTATUS(s) == 42}]");
    REQUIRE(wait_status(9) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
    REQUIRE(wait_status(11 | 0x80) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]");
    REQUIRE(wait_status((19 << 8) | 0x7f) == "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
    REQUIRE(wait_status(0xffff) == "[{WIFCONTINUED(s)}]");
}

TEST_CASE("strace: results")
{
    REQUIRE(result(3) == "3");
    REQUIRE(result(0) == "0");
    REQUIRE(result(-2) == "-1 ENOENT (No such file or directory)");
    REQUIRE(result(-9) == "-1 EBADF (Bad file descriptor)");
    REQUIRE(result(0x7f0000001000, true) == "0x7f0000001000");
    REQUIRE(result(-12, true) == "-1 ENOMEM (Cannot allocate memory)");
    REQUIRE(result(-512) == "? ERESTARTSYS (To be restarted if SA_RESTART is set)");
    REQUIRE(result(-5000) == "-5000"); // not an error value
}
