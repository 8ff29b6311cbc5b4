#include "sentry/kernel/strace.h"

#include <cstring>
#include <fmt/format.h>

#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

void strace_print_entry(Task& t)
{
    const auto& a = t.syscall_args();
    const SyscallEntry* e = syscall_entry(a.nr);
    std::string name = e && !e->name.empty() ? std::string(e->name) : fmt::format("syscall_{}", a.nr);
    t.m_strace_line = fmt::format("[pid {:>4}] {}({:#x}, {:#x}, {:#x})", t.vtid(), name, a.arg(0), a.arg(1), a.arg(2));
}

void strace_print_exit(Task& t, long value)
{
    if (value < 0 && value > -4096)
        fmt::print(stderr, "{} = -1 {} ({})\n", t.m_strace_line, errno_name(static_cast<int>(-value)),
            strerror(static_cast<int>(-value)));
    else
        fmt::print(stderr, "{} = {}\n", t.m_strace_line, value);
}

} // namespace sentry::kernel
