// What an SA_SIGINFO handler is told: si_signo, si_code (SI_USER for kill, SI_TKILL for
// tkill/tgkill/raise, SI_QUEUE for sigqueue with its value, CLD_* for SIGCHLD with
// si_status), who sent it (si_pid, si_uid), and rt_sigqueueinfo's rules about forged
// codes (allowed to oneself, EPERM towards others when the code is >= 0 or SI_TKILL).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static siginfo_t last;
static volatile sig_atomic_t count;
static volatile sig_atomic_t had_context;

static void on_info(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    last = *info;
    had_context = uc != NULL;
    count++;
}

static const char* tf(int b) { return b ? "true" : "false"; }

static const char* code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    default: return "other";
    }
}

static const char* cld_name(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_TRAPPED: return "CLD_TRAPPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    default: return "other";
    }
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static void mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

static void report(const char* what, int expect_pid)
{
    printf("%-28s count=%d signo=%s code=%d(%s) errno=%d", what, (int)count, sigabbrev_np(last.si_signo), last.si_code,
           code_name(last.si_code), last.si_errno);
    if (expect_pid)
        printf(" pid_is_self=%s uid_is_self=%s", tf(last.si_pid == getpid()), tf(last.si_uid == getuid()));
    printf(" uc=%s\n", tf(had_context));
    count = 0;
    memset(&last, 0, sizeof last);
}

static long queueinfo(pid_t pid, int sig, int code, pid_t fake_pid, uid_t fake_uid, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = code;
    si.si_pid = fake_pid;
    si.si_uid = fake_uid;
    si.si_value.sival_int = value;
    errno = 0;
    return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    install(SIGUSR1);
    install(SIGUSR2);
    install(SIGRTMIN);
    install(SIGCHLD);

    kill(getpid(), SIGUSR1);
    report("kill(getpid(), SIGUSR1):", 1);
    raise(SIGUSR1);
    report("raise(SIGUSR1):", 1);
    syscall(SYS_tkill, gettid(), SIGUSR1);
    report("tkill(gettid(), SIGUSR1):", 1);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
    report("tgkill(pid, tid, SIGUSR2):", 1);
    // In a process group of our own, so that kill(0) and kill(-pgid) reach nobody else.
    // Done in a child: a sandbox's first process is pid 1, and kill(-1) means "every
    // process", so its own group cannot be named that way (as in any pid namespace).
    fflush(stdout);
    pid_t pg_child = fork();
    if (pg_child == 0) {
        if (setpgid(0, 0) != 0)
            printf("setpgid: %s\n", strerrorname_np(errno));
        kill(0, SIGUSR2);
        report("kill(0, SIGUSR2):", 1);
        kill(-getpgrp(), SIGUSR2);
        report("kill(-pgrp, SIGUSR2):", 1);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pg_child, NULL, 0);

    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
    int v = last.si_value.sival_int, vi = last.si_int;
    report("sigqueue(SIGUSR1, 42):", 1);
    printf("  si_value.sival_int=%d si_int=%d\n", v, vi);
    static int anchor;
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_ptr = &anchor});
    int same_ptr = last.si_value.sival_ptr == &anchor && last.si_ptr == &anchor;
    printf("sigqueue(SIGRTMIN, &anchor): signo_is_rtmin=%s code=%s pointer_round_trip=%s\n",
           tf(last.si_signo == SIGRTMIN), code_name(last.si_code), tf(same_ptr));
    count = 0;

    // rt_sigqueueinfo to oneself: any code, and the fields are passed on as given.
    long r = queueinfo(getpid(), SIGUSR1, -42, 12345, 777, 99);
    printf("rt_sigqueueinfo(self, code -42) = %ld: code=%d pid=%d uid=%d value=%d count=%d\n", r, last.si_code,
           last.si_pid, (int)last.si_uid, last.si_value.sival_int, (int)count);
    count = 0;
    r = queueinfo(getpid(), SIGUSR1, SI_USER, 12345, 777, 99);
    printf("rt_sigqueueinfo(self, SI_USER) = %ld: code=%d pid=%d count=%d\n", r, last.si_code, last.si_pid, (int)count);
    count = 0;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR2;
    si.si_code = -7;
    si.si_value.sival_int = 5;
    errno = 0;
    r = syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR2, &si);
    printf("rt_tgsigqueueinfo(self, code -7) = %ld: signo=%s code=%d value=%d count=%d\n", r,
           sigabbrev_np(last.si_signo), last.si_code, last.si_value.sival_int, (int)count);
    count = 0;
    r = queueinfo(getpid(), 0, -1, 0, 0, 0);
    printf("rt_sigqueueinfo(self, signal 0) = %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    r = queueinfo(getpid(), 65, -1, 0, 0, 0);
    printf("rt_sigqueueinfo(self, signal 65) = %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");

    // Towards another process: codes >= 0 and SI_TKILL are refused; negative ones pass.
    mask(SIG_BLOCK, SIGCHLD); // until the SIGCHLD part below
    int ready[2], back[2];
    pipe(ready);
    pipe(back);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(ready[0]);
        close(back[0]);
        count = 0;
        write(ready[1], "r", 1);
        while (count == 0)
            pause();
        int facts[3] = {last.si_code, last.si_pid, last.si_value.sival_int};
        write(back[1], facts, sizeof facts);
        _exit(0);
    }
    close(ready[1]);
    close(back[1]);
    char c;
    read(ready[0], &c, 1);
    r = queueinfo(child, SIGUSR1, SI_USER, 1, 0, 0);
    printf("rt_sigqueueinfo(child, SI_USER) = %ld %s\n", r, strerrorname_np(errno));
    r = queueinfo(child, SIGUSR1, SI_KERNEL, 1, 0, 0);
    printf("rt_sigqueueinfo(child, SI_KERNEL) = %ld %s\n", r, strerrorname_np(errno));
    r = queueinfo(child, SIGUSR1, SI_TKILL, 1, 0, 0);
    printf("rt_sigqueueinfo(child, SI_TKILL) = %ld %s\n", r, strerrorname_np(errno));
    r = queueinfo(child, SIGUSR1, SI_QUEUE, 4242, 0, 77);
    printf("rt_sigqueueinfo(child, SI_QUEUE) = %ld\n", r);
    int facts[3] = {0, 0, 0};
    read(back[0], facts, sizeof facts);
    printf("  child's handler saw code=%d pid=%d value=%d\n", facts[0], facts[1], facts[2]);
    int status;
    waitpid(child, &status, 0);
    close(ready[0]);
    close(back[0]);

    // Signals from a child carry the child's pid.
    mask(SIG_BLOCK, SIGUSR2);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    waitpid(child, &status, 0);
    mask(SIG_UNBLOCK, SIGUSR2);
    printf("kill from a child: signo=%s code=%s pid_is_child=%s uid_is_self=%s\n", sigabbrev_np(last.si_signo),
           code_name(last.si_code), tf(last.si_pid == child), tf(last.si_uid == getuid()));
    count = 0;
    mask(SIG_BLOCK, SIGRTMIN);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        sigqueue(getppid(), SIGRTMIN, (union sigval){.sival_int = -5});
        _exit(0);
    }
    waitpid(child, &status, 0);
    mask(SIG_UNBLOCK, SIGRTMIN);
    printf("sigqueue from a child: code=%s pid_is_child=%s value=%d\n", code_name(last.si_code),
           tf(last.si_pid == child), last.si_value.sival_int);
    count = 0;

    // SIGCHLD: CLD_EXITED with the exit code, CLD_KILLED with the signal. SIGCHLD is
    // still blocked from above: reap first, then unblock (a SIGCHLD stays pending).
    sigset_t pend;
    sigpending(&pend);
    printf("SIGCHLD pending after three children exited: %s\n", tf(sigismember(&pend, SIGCHLD)));
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("SIGCHLD handler calls after unblock: %d (standard signals coalesce)\n", (int)count);
    count = 0;

    mask(SIG_BLOCK, SIGCHLD);
    fflush(stdout);
    child = fork();
    if (child == 0)
        _exit(3);
    waitpid(child, &status, 0);
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("child exit(3): signo=%s code=%s status=%d pid_is_child=%s uid_is_self=%s\n", sigabbrev_np(last.si_signo),
           cld_name(last.si_code), last.si_status, tf(last.si_pid == child), tf(last.si_uid == getuid()));
    count = 0;

    mask(SIG_BLOCK, SIGCHLD);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGTERM);
    waitpid(child, &status, 0);
    mask(SIG_UNBLOCK, SIGCHLD);
    printf("child killed by SIGTERM: code=%s status=%s pid_is_child=%s\n", cld_name(last.si_code),
           sigabbrev_np(last.si_status), tf(last.si_pid == child));
    count = 0;
    return 0;
}
