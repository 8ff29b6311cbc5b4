#include "sentry/ptrace/platform.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>
#include <fmt/format.h>

namespace sentry::ptrace {

namespace {

Result<void> ptrace_call(int request, pid_t tid, unsigned long addr, unsigned long data)
{
    if (::ptrace(static_cast<__ptrace_request>(request), tid, addr, data) == -1)
        return Errno(errno);
    return {};
}

} // namespace

long seize_options()
{
    return PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
        PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;
}

Stop decode_wait_status(pid_t tid, int status)
{
    Stop stop;
    stop.tid = tid;
    if (WIFEXITED(status)) {
        stop.kind = StopKind::Exited;
        stop.exit_code = WEXITSTATUS(status);
        return stop;
    }
    if (WIFSIGNALED(status)) {
        stop.kind = StopKind::Killed;
        stop.signo = WTERMSIG(status);
        stop.core = WCOREDUMP(status);
        return stop;
    }
    int sig = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (sig == (SIGTRAP | 0x80)) {
        stop.kind = StopKind::SyscallEntry;
        return stop;
    }
    if (event == PTRACE_EVENT_STOP) {
        stop.kind = StopKind::GroupStop;
        stop.signo = sig;
        return stop;
    }
    if (event != 0) {
        stop.kind = StopKind::Event;
        stop.event = event;
        return stop;
    }
    stop.kind = StopKind::SignalDelivery;
    stop.signo = sig;
    return stop;
}

pid_t wait_any(Stop& out, bool nohang)
{
    int status = 0;
    struct rusage usage {};
    pid_t tid = wait4(-1, &status, __WALL | (nohang ? WNOHANG : 0), &usage);
    if (tid <= 0)
        return tid;
    out = decode_wait_status(tid, status);
    if (out.kind == StopKind::Exited || out.kind == StopKind::Killed)
        out.usage = usage;
    return tid;
}

std::string describe(const Stop& s)
{
    switch (s.kind) {
    case StopKind::SyscallEntry: return fmt::format("tid {} syscall-entry", s.tid);
    case StopKind::SignalDelivery: return fmt::format("tid {} signal {}", s.tid, s.signo);
    case StopKind::Event: return fmt::format("tid {} event {}", s.tid, s.event);
    case StopKind::GroupStop: return fmt::format("tid {} group-stop {}", s.tid, s.signo);
    case StopKind::Exited: return fmt::format("tid {} exited {}", s.tid, s.exit_code);
    case StopKind::Killed: return fmt::format("tid {} killed {}", s.tid, s.signo);
    }
    return "?";
}

std::string probe_ptrace()
{
    pid_t child = fork();
    if (child < 0)
        return fmt::format("fork failed: {}", strerror(errno));
    if (child == 0) {
        syscall(SYS_kill, getpid(), SIGSTOP);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, WSTOPPED);
    std::string why;
    if (::ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_EXITKILL) == -1) {
        int e = errno;
        why = fmt::format("ptrace(PTRACE_SEIZE) is not permitted here: {}", strerror(e));
        FILE* f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
        if (f) {
            int scope = -1;
            if (fscanf(f, "%d", &scope) == 1 && scope >= 1)
                why += fmt::format(" (Yama ptrace_scope is {})", scope);
            fclose(f);
        }
        if (e == EPERM)
            why += " (a seccomp filter, a missing CAP_SYS_PTRACE or an existing tracer may forbid it)";
    }
    kill(child, SIGKILL);
    waitpid(child, &status, __WALL);
    return why;
}

Result<pid_t> spawn_seized(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp, std::string& why)
{
    // Build the argument arrays before fork: the child only makes raw syscalls.
    std::vector<char*> cargv, cenvp;
    for (auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (auto& e : envp)
        cenvp.push_back(const_cast<char*>(e.c_str()));
    cenvp.push_back(nullptr);

    pid_t child = fork();
    if (child < 0) {
        why = fmt::format("fork: {}", strerror(errno));
        return Errno(errno);
    }
    if (child == 0) {
        // Host signal state of the guest: nothing blocked, default actions, and
        // SIGCHLD ignored so that host zombies of guest processes are reaped by
        // the host (ignored dispositions survive execve and fork).
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int s = 1; s < NSIG; ++s)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_DFL);
        signal(SIGCHLD, SIG_IGN);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // A host session of its own: the host terminal's signals (Ctrl-C, Ctrl-Z,
        // hangup) reach only the sentry, which routes them to the guests' own
        // foreground process group.
        setsid();
        // The guest's host fd table starts empty: its fds are sentry objects.
        syscall(SYS_close_range, 0, ~0U, 0);
        syscall(SYS_kill, getpid(), SIGSTOP);
        // From here every syscall is trapped: this execve is the guest's first,
        // answered by the emulated kernel.
        long r = syscall(SYS_execve, path.c_str(), cargv.data(), cenvp.data());
        syscall(SYS_exit_group, r == -ENOENT ? 127 : 126);
        _exit(126);
    }
    int status = 0;
    if (waitpid(child, &status, WSTOPPED) != child || !WIFSTOPPED(status)) {
        why = "the guest did not stop before execve";
        kill(child, SIGKILL);
        return Errno(ECHILD);
    }
    if (::ptrace(PTRACE_SEIZE, child, 0, seize_options()) == -1) {
        int e = errno;
        why = fmt::format("ptrace(PTRACE_SEIZE) failed: {}", strerror(e));
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return Errno(e);
    }
    return child;
}

Result<void> get_regs(pid_t tid, Registers& regs)
{
    return ptrace_call(PTRACE_GETREGS, tid, 0, reinterpret_cast<unsigned long>(&regs));
}

Result<void> set_regs(pid_t tid, const Registers& regs)
{
    return ptrace_call(PTRACE_SETREGS, tid, 0, reinterpret_cast<unsigned long>(&regs));
}

Result<void> get_xstate(pid_t tid, std::vector<uint8_t>& buf)
{
    if (buf.size() < 4096)
        buf.resize(4096);
    iovec iov{buf.data(), buf.size()};
    TRY(ptrace_call(PTRACE_GETREGSET, tid, NT_X86_XSTATE, reinterpret_cast<unsigned long>(&iov)));
    buf.resize(iov.iov_len);
    return {};
}

Result<void> set_xstate(pid_t tid, std::span<const uint8_t> buf)
{
    iovec iov{const_cast<uint8_t*>(buf.data()), buf.size()};
    return ptrace_call(PTRACE_SETREGSET, tid, NT_X86_XSTATE, reinterpret_cast<unsigned long>(&iov));
}

Result<void> resume_sysemu(pid_t tid, int signo) { return ptrace_call(PTRACE_SYSEMU, tid, 0, signo); }
Result<void> resume_singlestep(pid_t tid, int signo) { return ptrace_call(PTRACE_SINGLESTEP, tid, 0, signo); }
Result<void> resume_cont(pid_t tid, int signo) { return ptrace_call(PTRACE_CONT, tid, 0, signo); }
Result<void> interrupt(pid_t tid) { return ptrace_call(PTRACE_INTERRUPT, tid, 0, 0); }

Result<unsigned long> get_event_msg(pid_t tid)
{
    unsigned long msg = 0;
    TRY(ptrace_call(PTRACE_GETEVENTMSG, tid, 0, reinterpret_cast<unsigned long>(&msg)));
    return msg;
}

Result<void> get_siginfo(pid_t tid, void* siginfo)
{
    return ptrace_call(PTRACE_GETSIGINFO, tid, 0, reinterpret_cast<unsigned long>(siginfo));
}

Result<size_t> read_memory(pid_t tid, uint64_t addr, void* buf, size_t len)
{
    if (len == 0)
        return size_t{0};
    iovec local{buf, len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return Errno(errno == ESRCH ? ESRCH : EFAULT);
    return static_cast<size_t>(n);
}

Result<size_t> write_memory(pid_t tid, uint64_t addr, const void* buf, size_t len)
{
    if (len == 0)
        return size_t{0};
    iovec local{const_cast<void*>(buf), len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return Errno(errno == ESRCH ? ESRCH : EFAULT);
    return static_cast<size_t>(n);
}

namespace {

size_t transfer_partial(pid_t tid, uint64_t addr, void* buf, size_t len, bool write)
{
    size_t done = 0;
    while (done < len) {
        std::vector<iovec> remote;
        uint64_t a = addr + done;
        size_t batch = 0;
        while (done + batch < len && remote.size() < 1024) {
            size_t to_page = 4096 - ((a + batch) & 4095);
            size_t n = std::min(to_page, len - done - batch);
            remote.push_back({reinterpret_cast<void*>(a + batch), n});
            batch += n;
        }
        iovec local{static_cast<char*>(buf) + done, batch};
        ssize_t n = write ? process_vm_writev(tid, &local, 1, remote.data(), remote.size(), 0)
                          : process_vm_readv(tid, &local, 1, remote.data(), remote.size(), 0);
        if (n <= 0)
            break;
        done += static_cast<size_t>(n);
        if (static_cast<size_t>(n) < batch)
            break;
    }
    return done;
}

} // namespace

size_t read_memory_partial(pid_t tid, uint64_t addr, void* buf, size_t len)
{
    auto r = read_memory(tid, addr, buf, len);
    if (r.is_ok() && r.value() == len)
        return len;
    return transfer_partial(tid, addr, buf, len, false);
}

size_t write_memory_partial(pid_t tid, uint64_t addr, const void* buf, size_t len)
{
    auto r = write_memory(tid, addr, buf, len);
    if (r.is_ok() && r.value() == len)
        return len;
    return transfer_partial(tid, addr, const_cast<void*>(buf), len, true);
}

Result<void> poke_memory(pid_t tid, uint64_t addr, const void* buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", tid);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return Errno(errno);
    ssize_t n = pwrite(fd, buf, len, static_cast<off_t>(addr));
    int e = errno;
    close(fd);
    if (n != static_cast<ssize_t>(len))
        return Errno(n < 0 ? e : EFAULT);
    return {};
}

} // namespace sentry::ptrace
