#pragma once
// The ptrace platform: how the sentry starts, stops, resumes and inspects guest
// threads. It knows nothing of what syscalls or signals mean; sentry/kernel drives it.
//
// Every guest thread is traced with PTRACE_SEIZE (EXITKILL, clone/fork/vfork/exec
// events, TRACESYSGOOD) and resumed with PTRACE_SYSEMU, so each syscall it makes stops
// at entry without running on the host. A syscall that must really run (mmap, futex,
// clone, execve, ...) is *injected*: from the SYSEMU stop the thread is rewound onto
// its own `syscall` instruction and single-stepped twice (the first trap reports the
// end of the skipped call, the second runs the real one), then its registers are
// restored with the result. Every waitpid status is decoded into a Stop.

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sentry/common/errno.h"

namespace sentry::ptrace {

using Registers = user_regs_struct;

enum class StopKind {
    SyscallEntry,   // PTRACE_SYSEMU stop at syscall entry (SIGTRAP|0x80)
    SignalDelivery, // a host signal is about to be delivered; `signo` says which
    Event,          // PTRACE_EVENT_* stop; `event` says which
    GroupStop,      // PTRACE_EVENT_STOP for a group-stop or a PTRACE_INTERRUPT
    Exited,         // the thread is gone: exited with `exit_code`
    Killed,         // the thread is gone: killed by `signo`
};

struct Stop {
    pid_t tid = 0;
    StopKind kind = StopKind::Exited;
    int signo = 0;
    int event = 0;
    int exit_code = 0;
    bool core = false;
    // Exited/Killed: the host's usage of the thread's whole process at that moment
    // (wait4's rusage: every thread of it, live or gone; sentry/kernel/rusage.h).
    struct rusage usage {};
};

// Decode a waitpid() status for `tid` (Linux ptrace(2), "Stopped states").
Stop decode_wait_status(pid_t tid, int status);
// Wait for the next stop or exit of any traced thread (wait4(-1, __WALL), with
// WNOHANG if `nohang`) and decode it into `out`. Returns its tid, 0 if `nohang`
// and nothing is pending, or -1 with errno (EINTR, ECHILD).
pid_t wait_any(Stop& out, bool nohang);
std::string describe(const Stop&);

// Options every traced thread carries (children inherit them through the events).
long seize_options();

// Fork a child that will execve(path, argv, envp) as its first traced syscall.
// The child stops itself; it is seized before it runs anything else. Its host
// signal state is cleared (empty mask, SIGCHLD ignored so that the host reaps
// processes the guest forks: the guest's waits are emulated) and it keeps no fd.
// Returns the child's pid, or an error with a one-line reason in `why`.
Result<pid_t> spawn_seized(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp, std::string& why);

// Explain why ptrace cannot be used here, or an empty string if it can.
std::string probe_ptrace();

Result<void> get_regs(pid_t tid, Registers&);
Result<void> set_regs(pid_t tid, const Registers&);
// The XSAVE area (NT_X86_XSTATE); `buf` is resized to what the kernel returns.
Result<void> get_xstate(pid_t tid, std::vector<uint8_t>& buf);
Result<void> set_xstate(pid_t tid, std::span<const uint8_t> buf);

Result<void> resume_sysemu(pid_t tid, int signo = 0);
Result<void> resume_singlestep(pid_t tid, int signo = 0);
Result<void> resume_cont(pid_t tid, int signo = 0);
Result<void> interrupt(pid_t tid);
Result<unsigned long> get_event_msg(pid_t tid);
Result<void> get_siginfo(pid_t tid, void* siginfo /* siginfo_t */);

// Guest memory of any thread of a process. A range that is not mapped (or not
// accessible the way asked) gives EFAULT; partial transfers are reported as such.
Result<size_t> read_memory(pid_t tid, uint64_t addr, void* buf, size_t len);
Result<size_t> write_memory(pid_t tid, uint64_t addr, const void* buf, size_t len);
// As read_memory/write_memory, but a fault part way through gives the bytes moved
// before the first inaccessible page (the remote range is split at page bounds,
// since process_vm_* never split one iovec).
size_t read_memory_partial(pid_t tid, uint64_t addr, void* buf, size_t len);
size_t write_memory_partial(pid_t tid, uint64_t addr, const void* buf, size_t len);
// Write through /proc/PID/mem, which may write pages the guest cannot (read-only).
Result<void> poke_memory(pid_t tid, uint64_t addr, const void* buf, size_t len);

} // namespace sentry::ptrace
