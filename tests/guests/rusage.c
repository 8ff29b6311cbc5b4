// Children's resource usage: wait4's rusage (the child's own usage and its reaped
// children's), getrusage(RUSAGE_CHILDREN) and times() growing only when a child is
// reaped by a wait (not by waitid(WNOWAIT), not when SIGCHLD is ignored), and the
// usage of a stopped child. Prints facts only: CPU times vary from run to run, and
// the split between user and system time is sampled at the tick, so a 60 ms burn
// may show as 30 + 30 ms: the facts are about their sum.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

// User plus system time.
static long cpu_ms(const struct rusage* ru) { return ms(ru->ru_utime) + ms(ru->ru_stime); }

static long thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Spend `n` ms of user CPU time in the calling thread.
static void burn(long n)
{
    long start = thread_cpu_ms();
    volatile unsigned long x = 0;
    while (thread_cpu_ms() - start < n)
        for (int i = 0; i < 1000000; ++i)
            x += (unsigned long)i;
}

static void* burn_thread(void* arg)
{
    burn((long)arg);
    return NULL;
}

static struct rusage children(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru;
}

static pid_t fork_burner(long n)
{
    pid_t pid = fork();
    if (pid == 0) {
        burn(n);
        _exit(0);
    }
    return pid;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rusage ru, c;
    int st;

    // A child that burns 60 ms and exits.
    pid_t pid = fork_burner(60);
    siginfo_t si = {0};
    struct rusage wru = {0};
    // glibc's waitid() has no rusage argument; the syscall has.
    long r = syscall(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, &wru);
    printf("waitid(WNOWAIT) returns 0 with the child: %d\n", r == 0 && si.si_pid == pid);
    printf("waitid(WNOWAIT) rusage utime+stime >= 45 ms: %d\n", cpu_ms(&wru) >= 45);
    c = children();
    printf("getrusage(RUSAGE_CHILDREN) before reaping == 0: %d\n",
        ms(c.ru_utime) == 0 && ms(c.ru_stime) == 0 && c.ru_maxrss == 0 && c.ru_minflt == 0);
    struct tms tms;
    times(&tms);
    printf("times() tms_cutime before reaping == 0: %d\n", tms.tms_cutime == 0);
    printf("wait4 reaps it: %d\n", wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st));
    printf("wait4 rusage utime+stime >= 45 ms: %d\n", cpu_ms(&ru) >= 45);
    printf("wait4 rusage maxrss > 0: %d\n", ru.ru_maxrss > 0);
    printf("wait4 rusage minflt > 0: %d\n", ru.ru_minflt > 0);
    c = children();
    printf("getrusage(RUSAGE_CHILDREN) after reaping utime+stime >= 45 ms: %d\n", cpu_ms(&c) >= 45);
    printf("getrusage(RUSAGE_CHILDREN) maxrss > 0: %d\n", c.ru_maxrss > 0);
    printf("getrusage(RUSAGE_CHILDREN) at least wait4's: %d\n", cpu_ms(&c) >= cpu_ms(&ru));
    times(&tms);
    printf("times() tms_cutime + tms_cstime > 0: %d\n", tms.tms_cutime + tms.tms_cstime > 0);
    long before = cpu_ms(&c);

    // A child that reaps a grandchild (60 ms) and burns 60 ms itself: its usage
    // as its parent's wait sees it includes the grandchild's.
    pid = fork();
    if (pid == 0) {
        pid_t g = fork_burner(60);
        waitpid(g, NULL, 0);
        struct rusage gc;
        getrusage(RUSAGE_CHILDREN, &gc);
        burn(60);
        _exit(cpu_ms(&gc) >= 45 ? 0 : 1);
    }
    printf("wait4 reaps the grandparent child: %d\n", wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st));
    printf("the child saw its child's usage: %d\n", WEXITSTATUS(st) == 0);
    printf("wait4 rusage includes the grandchild (utime+stime >= 100 ms): %d\n", cpu_ms(&ru) >= 100);
    c = children();
    printf("RUSAGE_CHILDREN grew by >= 100 ms: %d\n", cpu_ms(&c) - before >= 100);

    // A child whose two threads burn 40 ms each: the process's usage is theirs.
    pid = fork();
    if (pid == 0) {
        pthread_t th[2];
        for (int i = 0; i < 2; ++i)
            pthread_create(&th[i], NULL, burn_thread, (void*)40L);
        for (int i = 0; i < 2; ++i)
            pthread_join(th[i], NULL);
        _exit(0);
    }
    printf("wait4 reaps the threaded child: %d\n", wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st));
    printf("wait4 rusage counts both threads (utime+stime >= 70 ms): %d\n", cpu_ms(&ru) >= 70);
    c = children();
    before = cpu_ms(&c);

    // A stopped child: wait4(WUNTRACED) reports its usage so far and reaps nothing.
    pid = fork();
    if (pid == 0) {
        burn(60);
        raise(SIGSTOP);
        _exit(0);
    }
    r = wait4(pid, &st, WUNTRACED, &ru);
    printf("wait4(WUNTRACED) reports the stop: %d\n", r == pid && WIFSTOPPED(st));
    printf("stopped child's rusage utime+stime >= 45 ms: %d\n", cpu_ms(&ru) >= 45);
    c = children();
    printf("a stop report adds nothing: %d\n", cpu_ms(&c) == before);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    c = children();
    before = cpu_ms(&c);

    // SIGCHLD ignored: children are reaped automatically and count for nothing.
    signal(SIGCHLD, SIG_IGN);
    pid = fork_burner(60);
    errno = 0;
    r = wait4(-1, &st, 0, &ru);
    printf("wait4 with SIGCHLD ignored: ECHILD: %d\n", r == -1 && errno == ECHILD);
    c = children();
    printf("an automatically reaped child adds nothing: %d\n", cpu_ms(&c) == before);
    signal(SIGCHLD, SIG_DFL);

    // A bad rusage pointer: EFAULT, but the child was reaped first (Linux stores
    // the usage after do_wait()).
    pid = fork_burner(1);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    errno = 0;
    r = syscall(SYS_wait4, pid, NULL, 0, (void*)8);
    printf("wait4 with a bad rusage pointer: EFAULT: %d\n", r == -1 && errno == EFAULT);
    printf("and the child is reaped: %d\n", waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD);
    pid = fork_burner(1);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    errno = 0;
    r = syscall(SYS_waitid, P_PID, pid, &si, WEXITED, (void*)8);
    printf("waitid with a bad rusage pointer: EFAULT: %d\n", r == -1 && errno == EFAULT);
    printf("and the child is reaped: %d\n", waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD);

    // RUSAGE_SELF is this process's own usage, not its children's (which burned
    // over 300 ms in all).
    getrusage(RUSAGE_SELF, &ru);
    c = children();
    printf("RUSAGE_SELF excludes the children: %d\n", cpu_ms(&ru) < cpu_ms(&c) / 2);
    return 0;
}
