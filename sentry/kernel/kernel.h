#pragma once
// The emulated kernel. One Kernel owns every task, thread group and pid of one
// sandbox, and runs the event loop: ptrace stops arrive as SIGCHLD on a signalfd,
// are decoded by sentry/ptrace and dispatched here. A syscall stop runs the handler
// from the syscall table; the handler's outcome (return, block, inject, no return)
// decides how the task is resumed. Nothing here blocks: parked tasks stay stopped in
// their syscall until a wait queue or a timer wakes them.
//
// The path of one syscall: guest `syscall` -> host SYSEMU stop -> SIGCHLD ->
// Kernel::on_host_stop -> handle_syscall -> SyscallEntry::handler -> apply_outcome
// -> registers written back -> PTRACE_SYSEMU.

#include <sys/types.h>

#include <bitset>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <array>
#include <chrono>
#include <optional>
#include <ctime>
#include <nlohmann/json.hpp>

#include "sentry/netstack/inet.h"
#include "sentry/kernel/task.h"

namespace sentry::netstack {
class UnixNamespace;
}
namespace sentry::policy {
struct Policy;
}

namespace sentry::kernel {

class Terminal;

// Limits on the whole sandbox (a policy's `limits`). A run that crosses one of the
// first five is ended (every guest killed) and the report names the limit; open
// files and file size are the guests' RLIMIT_NOFILE and RLIMIT_FSIZE (EMFILE;
// EFBIG and SIGXFSZ).
struct SandboxLimits {
    std::optional<double> wall_time;  // seconds since the first guest started
    std::optional<double> cpu_time;   // seconds of CPU, all guests together
    std::optional<uint64_t> memory;   // bytes resident, all guests together
    std::optional<uint64_t> tasks;    // threads alive at once
    std::optional<uint64_t> output;   // bytes written to the sentry's stdout and stderr
    std::optional<uint64_t> open_files;
    std::optional<uint64_t> file_size;
};

struct KernelOptions {
    bool strace = false;
    std::set<long> strace_only; // empty: all syscalls
    bool debug = false;
    netstack::NetworkMode network = netstack::NetworkMode::loopback;
    SandboxLimits limits;
    bool sample_usage = false; // sample CPU and memory for the report even without limits
    // The policy's syscall rules and audit settings (`--config`), or none.
    std::shared_ptr<const policy::Policy> policy;
};

class Kernel {
public:
    explicit Kernel(KernelOptions opts);
    ~Kernel();

    // Start `path` (already resolved on the host) as the first guest process and run
    // until it exits. Returns the sentry's exit status: the guest's exit code, or
    // 128+N if a signal N killed it. On failure to start, sets `why` and returns 125.
    int run(const std::string& path, const std::vector<std::string>& argv,
            const std::vector<std::string>& envp, std::string& why);

    const KernelOptions& options() const { return m_opts; }

    // After run(): what happened, as `sentry run --report` writes it (JSON).
    nlohmann::json report() const;
    // The limit that ended the run, or empty.
    const std::string& limit_hit() const { return m_limit_hit; }
    // The exit status of a run that a limit ended.
    static constexpr int k_exit_limit = 124;
    // Bytes a guest wrote to the sentry's stdout/stderr (the output limit).
    void count_output(const vfs::File& f, size_t n);
    // Whether one more task would cross the sandbox's task limit (it then ends).
    bool task_limit_reached();

    // --- services for syscall handlers ---
    // A live thread by virtual tid (not one that has called exit(2)).
    Task* task_by_vtid(pid_t vtid);
    std::shared_ptr<ThreadGroup> group_by_vpid(pid_t vpid);
    std::shared_ptr<ThreadGroup> group_of_pgid_member(pid_t pgid);
    const std::unordered_map<pid_t, std::weak_ptr<ThreadGroup>>& groups() const { return m_groups; }
    // The process that adopts orphans (pid 1 of the namespace).
    std::shared_ptr<ThreadGroup> init_group() { return m_init.lock(); }

    // End a whole thread group with a wait(2) status (exit code << 8, or a signal).
    void exit_group(ThreadGroup& g, int wait_status);
    // --- signals (signal_delivery.cpp) ---
    // Send to a process (any thread that does not block it may take it) or to one
    // thread. Ignored signals are discarded at once; the rest are queued and the
    // chosen thread is brought to a delivery point (Linux kernel/signal.c:
    // send_signal(), complete_signal()).
    // Returns false only when a realtime signal did not fit RLIMIT_SIGPENDING
    // (sigqueue's EAGAIN); kill(2)-style signals (si_code >= 0) may exceed it.
    bool send_signal(ThreadGroup& g, const abi::SigInfo& info);
    bool send_signal(Task& t, const abi::SigInfo& info);
    // A signal the kernel raises for the task itself (SIGPIPE, ...): SI_USER from
    // its own pid, as Linux send_sig() reports it.
    void send_signal(Task& t, int sig);
    // rt_sigreturn: restore the interrupted context from the frame on the stack.
    SyscallOutcome sigreturn(Task& t);
    // True if `t` has a pending signal it would act on now (not blocked, not ignored).
    bool has_deliverable(Task& t);
    // Remove a zombie child that its parent reaped; frees its pid.
    void release_zombie(ThreadGroup& parent, const std::shared_ptr<ThreadGroup>& child);

    // Write `data` to the guest's scratch page (created on first use by injecting an
    // mmap) and continue with its guest address. Used to pass strings to injected calls.
    SyscallOutcome with_scratch(Task& t, std::string data, std::function<SyscallOutcome(Task&, uint64_t addr)> then);
    static constexpr size_t k_scratch_size = 65536;

    // Record the pending program path of an injected execve (used at PTRACE_EVENT_EXEC).
    void set_pending_exec(Task& t, std::string host_path);
    void release_scratch(Task& t);

    // Clone bookkeeping for an injected clone: flags and tid pointers.
    struct CloneRequest {
        uint64_t flags = 0;
        uint64_t parent_tid = 0;
        uint64_t child_tid = 0;
        uint64_t pidfd = 0; // where CLONE_PIDFD stores the parent's new pidfd
    };
    void set_pending_clone(Task& t, CloneRequest req) { m_pending_clone[t.host_tid()] = req; }
    Task* task_by_host_tid(pid_t tid);

    void log_unsupported(long nr);
    void debug(const std::string& msg);
    pid_t sentry_pid() const { return m_sentry_pid; }

    // The sandbox's controlling terminal (the host terminal the sentry runs on), or
    // null when the sentry has none.
    Terminal* terminal() { return m_terminal.get(); }
    // Signals the guests can never unblock (a policy's signals.mandatory_mask).
    signals::SigSet mandatory_mask() const { return m_mandatory_mask; }
    // The sandbox's AF_UNIX names (abstract and pathname sockets).
    const std::shared_ptr<netstack::UnixNamespace>& unix_names() { return m_unix_names; }
    // The sandbox's AF_INET/AF_INET6 network.
    netstack::InetStack& inet() { return *m_inet; }
    // The task whose syscall is being handled now (Linux `current`), or null.
    Task* current() const { return m_current; }
    // Send to every process of process group `pgid`; false if it has no member.
    bool signal_pgrp(pid_t pgid, const abi::SigInfo& info);
    // POSIX: no member has a parent in another group of the same session.
    bool pgrp_is_orphaned(pid_t pgid);

    // Scheduling from Waiter::wake.
    void schedule(Task& t);

private:
    void on_host_stop(const ptrace::Stop& stop);
    void handle_syscall(Task& t);
    void run_handler(Task& t);
    void apply_outcome(Task& t, SyscallOutcome o);
    void finish_syscall(Task& t, long value);
    void park(Task& t, SyscallOutcome& o);
    void unpark(Task& t);
    void start_inject(Task& t, long nr, const std::array<uint64_t, 6>& args, InjectContinuation then);
    void on_inject_stop(Task& t, const ptrace::Stop& stop);
    void on_clone_event(Task& parent, pid_t child_tid);
    void start_child(Task& child);
    void on_exec_event(Task& t, const ptrace::Stop& stop);
    void on_task_gone(pid_t tid, const ptrace::Stop& stop);
    void become_zombie(std::shared_ptr<ThreadGroup> g);
    bool do_notify_parent(ThreadGroup& g, ThreadGroup& parent);
    void on_fault_signal(Task& t, int sig);
    void signal_wake(Task& t);
    std::optional<abi::SigInfo> dequeue_signal(Task& t);
public:
    // Take the next pending signal of `t` in `wanted` regardless of its mask
    // (sigtimedwait, signalfd), fixing up timer siginfo as delivery does.
    std::optional<abi::SigInfo> dequeue_signal_from(Task& t, signals::SigSet wanted);
private:
    // A dequeued SI_TIMER siginfo gets its overrun; false if its timer is gone.
    bool fixup_timer_info(Task& t, abi::SigInfo& info);
    // Linux arch_do_signal_or_restart(): run every deliverable signal at this
    // point (handler frames, default actions) and apply the syscall restart rules
    // to `syscall_result` if the task stopped in a syscall. Works on t.regs().
    void deliver_signals(Task& t, std::optional<long> syscall_result);
    bool setup_frame(Task& t, const abi::SigInfo& info, std::vector<uint8_t>& xstate);
    void force_sigsegv(Task& t);
    // Job control (Linux do_signal_stop(), prepare_signal() for SIGCONT).
    bool do_signal_stop(Task& t, int sig);
    void continue_group(ThreadGroup& g);
    void notify_parent_cldstop(ThreadGroup& g, int why);
    void kill_orphaned_pgrp(ThreadGroup& g, const ThreadGroup& link);
    void prepare_signal(ThreadGroup& g, int sig);
    Task::FaultRegs fault_regs(Task& t, const abi::SigInfo& info);
    bool fault_is_write(Task& t, uint64_t rip);
    bool mapping_is_prot_none(Task& t, uint64_t addr);
    void resume(Task& t, int sig = 0);
    void drain_waits();
    void shutdown_all();
    Task* create_task(pid_t host_tid, std::shared_ptr<ThreadGroup> g, pid_t vtid);
    void destroy_task(Task* t);
    void strace_enter(Task& t);
    void strace_exit(Task& t, long value);

    KernelOptions m_opts;
    pid_t m_sentry_pid;
    pid_t m_next_pid = 1;
    std::unordered_map<pid_t, std::unique_ptr<Task>> m_tasks; // by host tid
    std::unordered_map<pid_t, Task*> m_vtids;
    std::unordered_map<pid_t, std::weak_ptr<ThreadGroup>> m_groups; // by vpid (live and zombies)
    std::weak_ptr<ThreadGroup> m_init;
    std::shared_ptr<ThreadGroup> m_init_hold;
    std::unordered_map<pid_t, int> m_early_stops; // first stops of children not yet announced
    std::unordered_map<pid_t, CloneRequest> m_pending_clone;
    std::unordered_map<pid_t, std::string> m_pending_exec;
    std::set<long> m_logged_unsupported;
    // Which syscall numbers guests made (for docs/STATUS.md's census of tests).
    std::bitset<512> m_census;
    // Counters for SENTRY_STATS (benchmarks: ptrace stops per operation).
    // limits.cpp
    // The policy's action for this call: true if it was denied (answered or killed).
    bool apply_syscall_policy(Task& t, long nr);
    void audit(nlohmann::json record);
    FILE* m_audit = nullptr;
    nlohmann::json m_denials = nlohmann::json::array();
    uint64_t m_denial_count = 0;
    void start_watchdog();
    void stop_watchdog();
    void check_limits();
    void end_by_limit(const char* which);
    struct CpuMem {
        double cpu = 0;      // seconds, live and gone guests
        uint64_t rss = 0;    // bytes resident now
    };
    CpuMem measure();
    // A process whose last thread is gone: its final usage joins the sandbox's totals.
    void account_gone(const ThreadGroup& g);
    std::chrono::steady_clock::time_point m_started{};
    double m_run_seconds = 0;
    timer_t m_watchdog{};
    bool m_watchdog_on = false;
    std::string m_limit_hit;
    signals::SigSet m_mandatory_mask;
    int m_init_status = 0; // the first process's wait status, once it has ended
    bool m_init_status_known = false;
    double m_gone_user = 0, m_gone_sys = 0; // CPU seconds of processes whose last thread is gone
    uint64_t m_peak_rss = 0;
    uint64_t m_output_bytes = 0;
    std::vector<const vfs::File*> m_output_files;
    std::array<uint64_t, 512> m_syscall_counts{};
    struct Stats {
        uint64_t stops = 0, syscalls = 0, injections = 0, signals = 0;
    } m_stats;
    void write_census();
    bool m_done = false;
    std::unique_ptr<Terminal> m_terminal;
    std::shared_ptr<netstack::UnixNamespace> m_unix_names;
    std::unique_ptr<netstack::InetStack> m_inet;
    Task* m_current = nullptr;
    // A signal the sentry itself received (from its terminal or from a user).
    void on_host_signal(int sig, int code);
    int m_exit_status = 0;
    int m_sigfd = -1;
};

} // namespace sentry::kernel
