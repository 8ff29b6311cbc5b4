#pragma once
// The syscall table is data: one row per x86-64 syscall number, with its name, the
// handler, how it is supported and a note. It drives dispatch, --strace, policy
// name resolution and `sentry syscalls`.

#include <span>
#include <string_view>

#include "sentry/kernel/syscall_args.h"

namespace sentry::kernel {

enum class Support {
    Emulated, // the sentry implements it
    Injected, // validated by the sentry, then executed natively by the guest thread
    Partial,  // emulated, with documented gaps (see note)
    Denied,   // refused on purpose (note says with which errno)
    Missing,  // not implemented: -ENOSYS, logged once
};
std::string_view support_name(Support);

using SyscallHandler = SyscallOutcome (*)(Task&, const SyscallArgs&);

struct SyscallEntry {
    long nr;
    std::string_view name;
    SyscallHandler handler; // null when missing
    Support support;
    std::string_view note;
};

inline constexpr long k_max_syscall = 463;

// The row for `nr`, or null if nr is outside the table.
const SyscallEntry* syscall_entry(long nr);
std::span<const SyscallEntry> syscall_table();
// Syscall number for a name, or -1.
long syscall_number(std::string_view name);

} // namespace sentry::kernel
