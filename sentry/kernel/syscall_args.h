#pragma once
// Architecture-neutral view of one system call: its number and six arguments.
// Generic code never names a register; sentry/abi/x86_64 fills this in.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <chrono>
#include <type_traits>
#include <utility>
#include <vector>

#include "sentry/common/errno.h"

namespace sentry::vfs {
class WaitQueue;
}

namespace sentry::kernel {

class Task;

struct SyscallArgs {
    long nr = -1;
    std::array<uint64_t, 6> a{};

    uint64_t arg(int i) const { return a[static_cast<size_t>(i)]; }
    int as_int(int i) const { return static_cast<int>(a[static_cast<size_t>(i)]); }
    long as_long(int i) const { return static_cast<long>(a[static_cast<size_t>(i)]); }
    unsigned as_uint(int i) const { return static_cast<unsigned>(a[static_cast<size_t>(i)]); }
};

using Deadline = std::chrono::steady_clock::time_point;

class SyscallOutcome;
using InjectContinuation = std::function<SyscallOutcome(Task&, long result)>;

// What a handler asks of the loop: finish with a value, park, run a syscall natively
// in the guest thread (then continue), or nothing (the handler took over: exit, exec).
class [[nodiscard]] SyscallOutcome {
public:
    enum class Kind { Return, Block, Inject, NoReturn };

    template<typename T>
        requires std::is_integral_v<T>
    SyscallOutcome(T value) : m_value(static_cast<long>(value)) {}
    SyscallOutcome(Errno e) : m_value(e.as_return()) {}
    template<typename T>
    SyscallOutcome(Result<T> r)
    {
        if (r.is_error())
            m_value = r.error().as_return();
        else
            m_value = static_cast<long>(r.value());
    }
    SyscallOutcome(Result<void> r) : m_value(r.is_error() ? r.error().as_return() : 0) {}

    // Park until one of `queues` is notified with an event in its mask, or until
    // `deadline`. The handler is then run again with the same arguments.
    static SyscallOutcome block(std::vector<std::pair<vfs::WaitQueue*, uint32_t>> queues,
                                std::optional<Deadline> deadline = std::nullopt)
    {
        SyscallOutcome o(0);
        o.m_kind = Kind::Block;
        o.m_queues = std::move(queues);
        o.m_deadline = deadline;
        return o;
    }
    static SyscallOutcome inject(long nr, std::array<uint64_t, 6> args, InjectContinuation then)
    {
        SyscallOutcome o(0);
        o.m_kind = Kind::Inject;
        o.m_inject_nr = nr;
        o.m_inject_args = args;
        o.m_then = std::move(then);
        return o;
    }
    static SyscallOutcome no_return()
    {
        SyscallOutcome o(0);
        o.m_kind = Kind::NoReturn;
        return o;
    }

    Kind kind() const { return m_kind; }
    long value() const { return m_value; }
    std::vector<std::pair<vfs::WaitQueue*, uint32_t>>& queues() { return m_queues; }
    const std::optional<Deadline>& deadline() const { return m_deadline; }
    long inject_nr() const { return m_inject_nr; }
    const std::array<uint64_t, 6>& inject_args() const { return m_inject_args; }
    InjectContinuation& then() { return m_then; }

private:
    Kind m_kind = Kind::Return;
    long m_value = 0;
    std::vector<std::pair<vfs::WaitQueue*, uint32_t>> m_queues;
    std::optional<Deadline> m_deadline;
    long m_inject_nr = -1;
    std::array<uint64_t, 6> m_inject_args{};
    InjectContinuation m_then;
};

} // namespace sentry::kernel
