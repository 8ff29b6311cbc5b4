// rt_sigreturn with a frame the kernel cannot read kills the process with SIGSEGV
// (Linux: badframe -> signal_fault -> force_sig(SIGSEGV)); a frame whose saved
// registers are garbage resumes at the garbage and faults there.
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* what, int status)
{
    if (WIFSIGNALED(status))
        printf("%s: killed by %s\n", what, WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "another signal");
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

int main(void)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        signal(SIGSEGV, SIG_DFL);
        // The stack pointer names an unmapped page: nothing to restore from.
        __asm__ volatile("mov $0x1000, %%rsp\n\tmov %0, %%eax\n\tsyscall" ::"i"(SYS_rt_sigreturn));
        _exit(1);
    }
    int st;
    waitpid(c, &st, 0);
    report("rt_sigreturn with an unreadable frame", st);

    fflush(stdout);
    c = fork();
    if (c == 0) {
        // A readable frame of zeros: rip 0, so the process faults at address 0.
        static char zeros[4096] __attribute__((aligned(16)));
        __asm__ volatile("lea 2048(%0), %%rsp\n\tmov %1, %%eax\n\tsyscall" ::"r"(zeros), "i"(SYS_rt_sigreturn));
        _exit(1);
    }
    waitpid(c, &st, 0);
    report("rt_sigreturn with a zeroed frame", st);
    return 0;
}
