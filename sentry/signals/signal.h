#pragma once
// Signals of the emulated kernel: numbers, sets, default actions and the
// per-process action table (Linux include/linux/signal.h, kernel/signal.c).

#include <array>
#include <cstdint>
#include <optional>

namespace sentry::signals {

inline constexpr int k_nsig = 64;

// A checked signal number, 1..64.
class Signal {
public:
    static std::optional<Signal> from_raw(long raw)
    {
        if (raw < 1 || raw > k_nsig)
            return std::nullopt;
        return Signal(static_cast<int>(raw));
    }
    int number() const { return m_n; }
    bool is_realtime() const { return m_n >= 32; }
    bool operator==(const Signal&) const = default;

private:
    explicit Signal(int n) : m_n(n) {}
    int m_n;
};

// The kernel's 64-bit sigset_t: bit (n-1) for signal n.
class SigSet {
public:
    constexpr SigSet() = default;
    constexpr explicit SigSet(uint64_t bits) : m_bits(bits) {}
    static SigSet of(int sig) { return SigSet(1ULL << (sig - 1)); }
    uint64_t bits() const { return m_bits; }
    bool has(int sig) const { return m_bits & (1ULL << (sig - 1)); }
    void add(int sig) { m_bits |= 1ULL << (sig - 1); }
    void remove(int sig) { m_bits &= ~(1ULL << (sig - 1)); }
    bool empty() const { return m_bits == 0; }
    SigSet operator|(SigSet o) const { return SigSet(m_bits | o.m_bits); }
    SigSet operator&(SigSet o) const { return SigSet(m_bits & o.m_bits); }
    SigSet operator~() const { return SigSet(~m_bits); }
    bool operator==(const SigSet&) const = default;
    // SIGKILL and SIGSTOP can never be blocked.
    SigSet without_unblockable() const;

private:
    uint64_t m_bits = 0;
};

enum class DefaultAction { Terminate, CoreDump, Stop, Continue, Ignore };
DefaultAction default_action(int sig);
const char* signal_name(int sig); // "SIGPIPE", "SIGRTMIN+3", ...

// struct sigaction as the kernel's rt_sigaction takes it on x86-64.
struct KernelSigaction {
    uint64_t handler = 0; // SIG_DFL = 0, SIG_IGN = 1, else a guest address
    uint64_t flags = 0;
    uint64_t restorer = 0;
    uint64_t mask = 0;
};
static_assert(sizeof(KernelSigaction) == 32);

inline constexpr uint64_t k_sig_dfl = 0;
inline constexpr uint64_t k_sig_ign = 1;

// The actions of a process (shared between threads, and with CLONE_SIGHAND).
class SignalHandlers {
public:
    const KernelSigaction& get(int sig) const { return m_actions[sig - 1]; }
    void set(int sig, const KernelSigaction& act) { m_actions[sig - 1] = act; }
    // execve: handled signals go back to SIG_DFL; ignored ones stay ignored.
    void reset_for_exec();
    // True if delivering `sig` now would do nothing at all (SIG_IGN, or SIG_DFL
    // whose default is to ignore). Compare Linux kernel/signal.c:sig_ignored().
    bool ignores(int sig) const;

private:
    std::array<KernelSigaction, k_nsig> m_actions{};
};

} // namespace sentry::signals
