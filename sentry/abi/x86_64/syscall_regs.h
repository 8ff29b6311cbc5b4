#pragma once
// x86-64 syscall register convention: number in orig_rax at the stop, arguments in
// rdi, rsi, rdx, r10, r8, r9, result in rax (-4095..-1 is -errno). The `syscall`
// instruction is two bytes (0f 05), which injection rewinds over.

#include "sentry/kernel/syscall_args.h"
#include "sentry/ptrace/platform.h"

namespace sentry::abi {

inline kernel::SyscallArgs syscall_args_from(const ptrace::Registers& r)
{
    kernel::SyscallArgs a;
    a.nr = static_cast<long>(r.orig_rax);
    a.a = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
    return a;
}

inline void set_syscall_return(ptrace::Registers& r, long value) { r.rax = static_cast<uint64_t>(value); }

// Make `r` re-execute the syscall instruction just trapped, as syscall `nr`.
inline void prepare_injection(ptrace::Registers& r, long nr, const std::array<uint64_t, 6>& a)
{
    r.rax = static_cast<uint64_t>(nr);
    r.orig_rax = static_cast<uint64_t>(nr);
    r.rdi = a[0];
    r.rsi = a[1];
    r.rdx = a[2];
    r.r10 = a[3];
    r.r8 = a[4];
    r.r9 = a[5];
    r.rip -= 2;
}

} // namespace sentry::abi
