#pragma once
// Tasks (guest threads) and thread groups (guest processes) of the emulated kernel.
// A Task is one traced host thread; its pids as the guest sees them are virtual and
// come from the Kernel's pid namespace. A ThreadGroup holds what threads share:
// fd table, filesystem context, signal actions, limits, and the process tree links.

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/syscall_args.h"
#include "sentry/kernel/timers.h"
#include "sentry/ptrace/platform.h"
#include "sentry/signals/frame_x86_64.h"
#include "sentry/signals/pending.h"
#include "sentry/signals/signal.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::kernel {

class Kernel;
class ThreadGroup;

// cwd and umask (shared with CLONE_FS). The cwd is a host O_PATH directory fd.
struct FsContext {
    int cwd_fd = -1;
    mode_t umask = 022;
    FsContext() = default;
    FsContext(const FsContext&);
    FsContext& operator=(const FsContext&) = delete;
    ~FsContext();
};

class Task final : public vfs::Waiter {
public:
    enum class State {
        New,       // created by clone; its first host stop has not been seen
        Running,   // resumed with PTRACE_SYSEMU
        Handling,  // stopped at a syscall, handler running
        Parked,    // stopped at a syscall, waiting on queues or a deadline
        Injecting, // single-stepping through an injected native syscall
        Exiting,   // killed or exiting; waiting for the host to report it gone
        Stopped,   // its process is stopped (SIGSTOP...): held at a ptrace stop until SIGCONT
    };

    Task(Kernel& k, pid_t host_tid, pid_t vtid, std::shared_ptr<ThreadGroup> tg);
    ~Task() override;

    Kernel& kernel() { return m_kernel; }
    ThreadGroup& group() { return *m_group; }
    std::shared_ptr<ThreadGroup> group_ref() { return m_group; }
    void set_group(std::shared_ptr<ThreadGroup> g) { m_group = std::move(g); }
    pid_t host_tid() const { return m_host_tid; }
    void set_host_tid(pid_t t) { m_host_tid = t; }
    pid_t vtid() const { return m_vtid; }
    void set_vtid(pid_t v) { m_vtid = v; }
    State state() const { return m_state; }
    void set_state(State s) { m_state = s; }

    // Registers as of the current stop.
    ptrace::Registers& regs() { return m_regs; }
    const SyscallArgs& syscall_args() const { return m_args; }
    void set_syscall_args(const SyscallArgs& a) { m_args = a; }

    // Guest memory. Bad pointers give EFAULT.
    Result<void> copy_in(uint64_t addr, void* buf, size_t len);
    Result<void> copy_out(uint64_t addr, const void* buf, size_t len);
    // Bytes moved before the first bad page (0 if the first byte is bad).
    size_t copy_in_partial(uint64_t addr, void* buf, size_t len);
    size_t copy_out_partial(uint64_t addr, const void* buf, size_t len);
    template<typename T>
    Result<T> copy_in(uint64_t addr)
    {
        T v{};
        TRY(copy_in(addr, &v, sizeof v));
        return v;
    }
    template<typename T>
    Result<void> copy_out(uint64_t addr, const T& v) { return copy_out(addr, &v, sizeof v); }
    // A NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond).
    Result<std::string> copy_string(uint64_t addr, size_t max = 4096);

    // Blocking: progress a re-run handler keeps between runs of one syscall.
    struct SyscallProgress {
        size_t done = 0;
        std::optional<Deadline> deadline;
        bool started = false;
        // What an interrupted blocked call returns: by default `done` if it moved
        // data, else -restart_code, which the signal delivery turns into EINTR or a
        // restart (Linux ERESTARTSYS and friends).
        int restart_code = 512; // ERESTARTSYS
        std::function<long(Task&)> on_interrupt;
        // The file a parked read, write or epoll_wait works on, resolved at its first
        // run: Linux holds it for the whole call, so another thread's close of the fd
        // neither ends the call nor frees the file under it. Dropped when it returns.
        std::shared_ptr<vfs::File> file;
    };
    SyscallProgress& progress() { return m_progress; }
    // What a blocked call returns when a signal interrupts it.
    long interrupted_result()
    {
        if (m_progress.on_interrupt)
            return m_progress.on_interrupt(*this);
        return m_progress.done > 0 ? static_cast<long>(m_progress.done) : -m_progress.restart_code;
    }
    void reset_progress() { m_progress = {}; }

    void wake(uint32_t events) override;
    // A queue this task is parked on died with its file (another thread closed the
    // last fd of an eventfd it reads): it stays parked, as Linux's reader holding
    // the file would, but unpark() must not touch the queue.
    void queue_gone(vfs::WaitQueue* q) override { std::erase(m_waiting_on, q); }
    // Parking state owned by the kernel.
    std::vector<vfs::WaitQueue*> m_waiting_on;
    std::unique_ptr<boost::asio::steady_timer> m_timer;
    uint64_t m_park_gen = 0; // which park the timer and posted wake-ups belong to
    uint64_t m_wake_gen = 0;
    bool m_timed_out = false;

    // Injection state.
    int m_inject_step = 0;
    ptrace::Registers m_saved_regs{};
    InjectContinuation m_inject_then;
    long m_inject_nr = -1;
    std::array<uint64_t, 6> m_inject_args{};
    std::vector<pid_t> m_new_children; // host tids created by an injected clone
    pid_t m_last_child_vtid = 0;       // the virtual tid given at the last clone event
    // An injected clone-family call whose child the host has not announced yet (it
    // counts against RLIMIT_NPROC while the task is Injecting).
    bool m_forking = false;
    // What restart_syscall continues after an ERESTART_RESTARTBLOCK (Linux restart_block).
    std::function<SyscallOutcome(Task&)> m_restart_block;

    // clone fix-ups for the child's first stop.
    uint64_t m_child_settid_addr = 0;

    signals::SigSet m_blocked;
    // Every change of the blocked mask the guest asks for (sigprocmask, sigsuspend,
    // pselect/ppoll/epoll_pwait masks, handler masks, sigreturn): SIGKILL and SIGSTOP
    // stay unblockable and the policy's mandatory mask stays blocked.
    void set_blocked(signals::SigSet s);
    signals::PendingQueue m_sigpending; // thread-directed signals
    signals::AltStack m_altstack;
    // The mask to restore once a sigsuspend-like call returns (Linux saved_sigmask).
    std::optional<signals::SigSet> m_saved_mask;
    bool m_interrupt_sent = false; // PTRACE_INTERRUPT on its way
    bool m_stale_step_trap = false; // an aborted injection may still owe a SIGTRAP
    // The exception behind the synchronous fault being delivered (trapno, err, cr2).
    struct FaultRegs {
        uint64_t trapno = 0, err = 0, cr2 = 0;
    };
    std::optional<FaultRegs> m_fault;
    // Woken whenever a signal is queued for this task (sigtimedwait, signalfd).
    vfs::WaitQueue m_signal_wq;
    bool m_thread_exited = false; // called exit(2) while other threads go on
    int m_pdeathsig = 0;
    uint64_t m_clear_child_tid = 0;
    bool m_strace_pending = false;
    std::string m_strace_line;

private:
    Kernel& m_kernel;
    pid_t m_host_tid;
    pid_t m_vtid;
    std::shared_ptr<ThreadGroup> m_group;
    State m_state = State::New;
    ptrace::Registers m_regs{};
    SyscallArgs m_args;
    SyscallProgress m_progress;
};

// A POSIX timer (timer_create) of a process.
struct PosixTimer {
    int id = 0;
    clockid_t clock = 0;
    int notify = 0; // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
    int signo = 0;
    uint64_t value = 0;
    pid_t target_tid = 0; // SIGEV_THREAD_ID
    uint64_t overrun = 0;      // expiries since its signal was queued
    uint64_t last_overrun = 0; // what timer_getoverrun reports (at the last delivery)
    bool pending = false;      // its one siginfo is queued and not yet taken
    uint32_t cookie = 0;       // tells this timer's queued siginfo from a deleted one's
    std::unique_ptr<IntervalTimer> timer;        // wall clocks
    std::unique_ptr<CpuIntervalTimer> cpu_timer; // CLOCK_PROCESS/THREAD_CPUTIME_ID
};

class ThreadGroup : public std::enable_shared_from_this<ThreadGroup> {
public:
    pid_t vpid = 0;
    pid_t host_pid = 0;
    pid_t pgid = 0;
    pid_t sid = 0;
    bool has_ctty = false; // its session's controlling terminal is the sandbox's
    std::weak_ptr<ThreadGroup> parent;
    std::vector<std::shared_ptr<ThreadGroup>> children;
    std::list<Task*> tasks; // live tasks

    std::shared_ptr<FdTable> fds;
    std::shared_ptr<FsContext> fs;
    std::shared_ptr<signals::SignalHandlers> sighand;
    std::array<struct rlimit, RLIM_NLIMITS> rlimits{};
    std::string exe;         // host path of the running program
    uint64_t scratch = 0;    // sentry-owned read-only page in the guest (0 = none yet)
    // The thread whose injected calls use the scratch page now; others wait, so
    // that one thread's string cannot replace another's under an in-flight call.
    Task* scratch_owner = nullptr;
    vfs::WaitQueue scratch_wq;
    int exit_signal = 17;    // signal sent to the parent on exit (SIGCHLD)
    signals::PendingQueue shared_pending; // process-directed signals
    // Job control: a stopped group holds its threads; the parent's wait reports
    // the stop (WUNTRACED/WSTOPPED) and the continue (WCONTINUED) once each.
    bool stopped = false;
    int stop_sig = 0;
    bool stop_report = false;
    bool cont_report = false;
    std::unique_ptr<IntervalTimer> itimer_real; // ITIMER_REAL and alarm(2)
    std::unique_ptr<CpuIntervalTimer> itimer_virtual;
    std::unique_ptr<CpuIntervalTimer> itimer_prof;
    std::map<int, std::unique_ptr<PosixTimer>> posix_timers;
    bool no_new_privs = false;
    bool did_exec = false; // has run execve since its fork (Linux !PF_FORKNOEXEC)
    bool child_subreaper = false;

    // Exit state: once `exiting`, `wait_status` is what wait4 reports.
    bool exiting = false;
    bool zombie = false;
    bool reaped = false; // released by its parent's wait (pidfds outlive it)
    int wait_status = 0;
    vfs::WaitQueue child_exit_wq; // the parent's waiters for its children
    vfs::WaitQueue pidfd_wq;      // pollers of pidfds naming this process

    // Resource usage (rusage.h): the host's reports at its threads' exits, complete
    // once it is a zombie, and the sum over the children it reaped (Linux
    // signal_struct's cutime, cstime, cmaxrss, ...).
    struct rusage self_usage {};
    struct rusage children_usage {};

    std::shared_ptr<ThreadGroup> parent_ref() const { return parent.lock(); }
    Task* leader() const { return tasks.empty() ? nullptr : tasks.front(); }
};

} // namespace sentry::kernel
