// The sentry's self-confinement filter, built and exported but never loaded here
// (that would confine the test runner): its names resolve, and a small classic-BPF
// interpreter runs the exported program on seccomp_data the way the kernel would.
#include <catch2/catch.hpp>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <initializer_list>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "sentry/common/self_confine.h"

namespace {

std::vector<sock_filter> export_filter()
{
    std::string why;
    auto* ctx = static_cast<scmp_filter_ctx>(sentry::self_confine_build(why));
    INFO(why);
    REQUIRE(ctx != nullptr);
    int fd = memfd_create("self_confine_test", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(seccomp_export_bpf(ctx, fd) == 0);
    seccomp_release(ctx);
    off_t size = lseek(fd, 0, SEEK_END);
    REQUIRE(size > 0);
    REQUIRE(size % sizeof(sock_filter) == 0);
    std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
    REQUIRE(pread(fd, prog.data(), static_cast<size_t>(size), 0) == size);
    close(fd);
    return prog;
}

// Classic BPF as the kernel runs a seccomp filter (net/core/filter.c, the subset
// seccomp_check_filter() admits). Returns the filter's SECCOMP_RET_* value.
uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
    auto load = [&](uint32_t off) {
        REQUIRE(off % 4 == 0);
        REQUIRE(off + 4 <= sizeof data);
        uint32_t v;
        memcpy(&v, reinterpret_cast<const char*>(&data) + off, 4);
        return v;
    };
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const sock_filter& i = prog[pc];
        uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
        switch (BPF_CLASS(i.code)) {
        case BPF_LD:
            a = BPF_MODE(i.code) == BPF_ABS ? load(i.k) : BPF_MODE(i.code) == BPF_MEM ? mem[i.k] : i.k;
            break;
        case BPF_LDX:
            x = BPF_MODE(i.code) == BPF_MEM ? mem[i.k] : i.k;
            break;
        case BPF_ST: mem[i.k] = a; break;
        case BPF_STX: mem[i.k] = x; break;
        case BPF_ALU:
            switch (BPF_OP(i.code)) {
            case BPF_ADD: a += src; break;
            case BPF_SUB: a -= src; break;
            case BPF_AND: a &= src; break;
            case BPF_OR: a |= src; break;
            case BPF_LSH: a <<= src; break;
            case BPF_RSH: a >>= src; break;
            case BPF_NEG: a = -a; break;
            default: FAIL("unexpected ALU op " << BPF_OP(i.code));
            }
            break;
        case BPF_JMP: {
            if (BPF_OP(i.code) == BPF_JA) {
                pc += i.k;
                break;
            }
            bool taken = false;
            switch (BPF_OP(i.code)) {
            case BPF_JEQ: taken = a == src; break;
            case BPF_JGT: taken = a > src; break;
            case BPF_JGE: taken = a >= src; break;
            case BPF_JSET: taken = (a & src) != 0; break;
            default: FAIL("unexpected JMP op " << BPF_OP(i.code));
            }
            pc += taken ? i.jt : i.jf;
            break;
        }
        case BPF_RET: return BPF_RVAL(i.code) == BPF_A ? a : i.k;
        case BPF_MISC:
            if (BPF_MISCOP(i.code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        default: FAIL("unexpected class " << BPF_CLASS(i.code));
        }
    }
    FAIL("the program ran off its end");
    return 0;
}

uint32_t verdict(const std::vector<sock_filter>& prog, long nr, std::array<uint64_t, 6> args = {},
                 uint32_t arch = AUDIT_ARCH_X86_64)
{
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = arch;
    d.instruction_pointer = 0x401000;
    for (size_t i = 0; i < 6; ++i)
        d.args[i] = args[i];
    return run_filter(prog, d) & SECCOMP_RET_ACTION_FULL;
}

} // namespace

TEST_CASE("self_confine: every allowed name is the host's syscall of that number")
{
    std::set<long> seen;
    for (const auto& s : sentry::self_confine_allowed()) {
        INFO(s.name);
        REQUIRE(seccomp_syscall_resolve_name(s.name) == s.nr);
        REQUIRE(seen.insert(s.nr).second); // listed once
    }
    REQUIRE(seen.size() > 50);
}

TEST_CASE("self_confine: what a guest could use to escape through the sentry is not allowed")
{
    std::set<std::string> allowed;
    for (const auto& s : sentry::self_confine_allowed())
        allowed.insert(s.name);
    for (const char* name : {"execve", "execveat", "fork", "vfork", "clone", "clone3", "mount", "umount2",
             "fsopen", "move_mount", "open_tree", "unshare", "setns", "pivot_root", "chroot", "bpf",
             "perf_event_open", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
             "reboot", "swapon", "open_by_handle_at", "name_to_handle_at", "userfaultfd", "io_uring_setup",
             "keyctl", "add_key", "setuid", "setresuid", "capset", "prctl", "seccomp", "settimeofday",
             "clock_settime", "sethostname", "iopl", "ioperm", "personality", "process_madvise", "kcmp"}) {
        INFO(name);
        REQUIRE(allowed.count(name) == 0);
    }
}

TEST_CASE("self_confine: the filter compiles and decides as intended")
{
    auto prog = export_filter();
    REQUIRE(prog.size() <= BPF_MAXINSNS);

    // Allowed outright.
    for (long nr : {SYS_read, SYS_write, SYS_ptrace, SYS_wait4, SYS_process_vm_readv, SYS_openat, SYS_mmap,
             SYS_futex, SYS_epoll_wait, SYS_exit_group, SYS_rt_sigreturn}) {
        INFO(nr);
        REQUIRE(verdict(prog, nr) == SECCOMP_RET_ALLOW);
    }
    // Everything else traps into the sentry's SIGSYS handler (EPERM and a log line).
    // (335: unassigned on x86-64.)
    for (long nr : std::initializer_list<long>{SYS_execve, SYS_clone, SYS_clone3, SYS_fork, SYS_mount, SYS_unshare,
             SYS_setns, SYS_bpf, SYS_init_module, SYS_kexec_load, SYS_open_by_handle_at, SYS_prctl, SYS_seccomp, 335,
             511}) {
        INFO(nr);
        REQUIRE(verdict(prog, nr) == SECCOMP_RET_TRAP);
    }
    // socket(): only the families the sentry opens.
    for (int domain : {AF_UNIX, AF_INET, AF_INET6})
        REQUIRE(verdict(prog, SYS_socket, {static_cast<uint64_t>(domain), SOCK_STREAM}) == SECCOMP_RET_ALLOW);
    for (int domain : {AF_NETLINK, AF_PACKET, AF_VSOCK, AF_ALG, AF_BLUETOOTH})
        REQUIRE(verdict(prog, SYS_socket, {static_cast<uint64_t>(domain), SOCK_RAW}) == SECCOMP_RET_TRAP);
    // ioctl(): all requests but pushing input into the terminal and the console's.
    // (Both sides of the refused ones, and one with the upper bits of a _IOWR request.)
    for (unsigned long req : std::initializer_list<unsigned long>{TCGETS, TCSETS, TCSETSW, TIOCGWINSZ, TIOCSWINSZ,
             TIOCGPGRP, TIOCSPGRP, FIONBIO, FIONREAD, FIOCLEX, TIOCSTI - 1, TIOCSTI + 1, TIOCLINUX - 1,
             TIOCLINUX + 1, 0xc0086420UL})
        REQUIRE(verdict(prog, SYS_ioctl, {1, req}) == SECCOMP_RET_ALLOW);
    // (The kernel reads the request as an unsigned int: junk in the upper half changes nothing.)
    for (unsigned long req : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX),
             0xffffffff00000000UL | TIOCSTI})
        REQUIRE(verdict(prog, SYS_ioctl, {1, req}) == SECCOMP_RET_TRAP);
    // Other ABIs of the same machine: i386 (int 0x80) and x32 never get in.
    REQUIRE(verdict(prog, 3 /* i386 read */, {}, AUDIT_ARCH_I386) != SECCOMP_RET_ALLOW);
    REQUIRE(verdict(prog, 0x40000000L | SYS_read) != SECCOMP_RET_ALLOW);
}
