// signalfd beyond the basics: a read takes only as many signals as whole records fit
// in its buffer (the rest stay pending); the fields of each siginfo layout (kill,
// sigqueue, SIGCHLD, a POSIX timer with its id and overrun, faults with si_addr and
// si_addr_lsb, SIGSYS, SIGPOLL, and si_codes that Linux reads with another layout);
// SIGKILL/SIGSTOP in the mask are dropped without error; the mask of an existing fd
// can be changed; readiness and reads are those of the calling thread (a signal sent
// to one thread is not seen by another); the fd across fork (the child reads its own
// signals), dup and execve; dispositions (handled, ignored but blocked, discarded by
// SIG_IGN, SIGCHLD under SIG_IGN); and the errors: a buffer under one record, a bad buffer
// (where Linux loses the signal and where it does not), a mask size other than 8, bad
// flags, a non-signalfd fd.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static const char* name(int sig)
{
    static char buf[32];
    if (sig >= SIGRTMIN) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    return sigabbrev_np(sig);
}

static int pending(int sig)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig);
}

// Read up to `records` records; print the signals read.
static int read_n(int fd, int records, const char* what, struct signalfd_siginfo* out)
{
    struct signalfd_siginfo si[8];
    errno = 0;
    ssize_t n = read(fd, si, (size_t)records * sizeof si[0]);
    printf("%s: ", what);
    if (n < 0) {
        printf("-1 %s\n", strerrorname_np(errno));
        return -1;
    }
    printf("%zd records:", n / (ssize_t)sizeof si[0]);
    for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf(" %s/%d", name(si[i].ssi_signo), si[i].ssi_int);
    printf("\n");
    if (out && n > 0)
        memcpy(out, si, (size_t)n);
    return (int)(n / (ssize_t)sizeof si[0]);
}

static void block(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

static int sfd_for(int sig, int flags)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return signalfd(-1, &s, flags);
}

// rt_tgsigqueueinfo to this thread with a hand-made siginfo (any si_code is allowed
// for a signal to oneself).
static int queue_info(int sig, int code, void (*fill)(siginfo_t*))
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = code;
    if (fill)
        fill(&si);
    return (int)syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si);
}

static void fill_fault(siginfo_t* si)
{
    si->si_addr = (void*)0x1234000;
    si->si_errno = 5;
}
static void fill_mce(siginfo_t* si)
{
    si->si_addr = (void*)0x5678000;
    si->si_addr_lsb = 12;
}
static void fill_sys(siginfo_t* si)
{
    si->si_call_addr = (void*)0x401000;
    si->si_syscall = 231;
    si->si_arch = 0xc000003e;
}
static void fill_poll(siginfo_t* si)
{
    si->si_band = 0x41;
    si->si_fd = 9;
}
// Words that every layout might read: a pid/uid pair, a value, a band/fd.
static void fill_all(siginfo_t* si)
{
    int* w = (int*)&si->_sifields;
    for (int i = 0; i < 8; i++)
        w[i] = 0x100 + i;
}

static void show_fields(const struct signalfd_siginfo* s)
{
    printf("  %s code=%d errno=%d pid=%#x uid=%#x fd=%d tid=%#x band=%#x overrun=%#x status=%d int=%#x ptr=%#llx"
           " addr=%#llx addr_lsb=%d syscall=%d call_addr=%#llx arch=%#x\n",
           name(s->ssi_signo), s->ssi_code, s->ssi_errno, s->ssi_pid, s->ssi_uid, s->ssi_fd, s->ssi_tid, s->ssi_band,
           s->ssi_overrun, s->ssi_status, s->ssi_int, (unsigned long long)s->ssi_ptr, (unsigned long long)s->ssi_addr,
           s->ssi_addr_lsb, s->ssi_syscall, (unsigned long long)s->ssi_call_addr, s->ssi_arch);
}

static void partial_reads(void)
{
    for (int i = 0; i < 5; i++)
        block(SIGRTMIN + i);
    sigset_t s;
    sigemptyset(&s);
    for (int i = 0; i < 5; i++)
        sigaddset(&s, SIGRTMIN + i);
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    for (int i = 4; i >= 0; i--)
        sigqueue(getpid(), SIGRTMIN + i, (union sigval){.sival_int = 10 + i});
    read_n(fd, 1, "one record of five", NULL);
    printf("  still pending:");
    for (int i = 0; i < 5; i++)
        printf(" %s", tf(pending(SIGRTMIN + i)));
    printf("\n");
    read_n(fd, 3, "three records", NULL);
    printf("  still pending:");
    for (int i = 0; i < 5; i++)
        printf(" %s", tf(pending(SIGRTMIN + i)));
    printf("\n");
    // A buffer of 1.5 records holds one.
    struct signalfd_siginfo two[2];
    errno = 0;
    ssize_t n = read(fd, two, sizeof two[0] + 64);
    printf("a 192-byte buffer: %zd\n", n);
    read_n(fd, 8, "empty", NULL);
    // Five of one realtime signal: they queue, and come out in order.
    for (int i = 0; i < 5; i++)
        sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 20 + i});
    read_n(fd, 2, "five of RTMIN+2, two records", NULL);
    printf("  RTMIN+2 still pending: %s\n", tf(pending(SIGRTMIN + 2)));
    read_n(fd, 8, "the rest", NULL);
    close(fd);
}

static void layouts(void)
{
    sigset_t all;
    sigemptyset(&all);
    int sigs[] = {SIGUSR1, SIGUSR2, SIGCHLD, SIGSEGV, SIGBUS, SIGSYS, SIGIO, SIGILL, SIGFPE, SIGTRAP, SIGRTMIN + 5,
        SIGRTMIN + 6, SIGRTMIN + 7, SIGALRM, SIGWINCH};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaddset(&all, sigs[i]);
        block(sigs[i]);
    }
    int fd = signalfd(-1, &all, SFD_NONBLOCK);
    struct signalfd_siginfo s[8];

    kill(getpid(), SIGUSR1);
    read_n(fd, 1, "kill", s);
    printf("  code SI_USER %s pid is mine %s uid is mine %s\n", tf(s[0].ssi_code == SI_USER),
           tf(s[0].ssi_pid == (uint32_t)getpid()), tf(s[0].ssi_uid == getuid()));
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
    read_n(fd, 1, "tgkill", s);
    printf("  code SI_TKILL %s pid is mine %s\n", tf(s[0].ssi_code == SI_TKILL), tf(s[0].ssi_pid == (uint32_t)getpid()));
    sigqueue(getpid(), SIGRTMIN + 5, (union sigval){.sival_ptr = (void*)0x1122334455667788ULL});
    read_n(fd, 1, "sigqueue", s);
    printf("  code SI_QUEUE %s pid is mine %s ptr %#llx int %#x\n", tf(s[0].ssi_code == SI_QUEUE),
           tf(s[0].ssi_pid == (uint32_t)getpid()), (unsigned long long)s[0].ssi_ptr, s[0].ssi_int);

    pid_t child = fork();
    if (child == 0)
        _exit(7);
    siginfo_t wi;
    waitid(P_PID, child, &wi, WEXITED | WNOWAIT);
    read_n(fd, 1, "SIGCHLD, exit 7", s);
    printf("  CLD_EXITED %s status %d pid is the child %s uid is mine %s\n", tf(s[0].ssi_code == CLD_EXITED),
           s[0].ssi_status, tf(s[0].ssi_pid == (uint32_t)child), tf(s[0].ssi_uid == getuid()));
    waitpid(child, NULL, 0);
    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGTERM);
    waitid(P_PID, child, &wi, WEXITED | WNOWAIT);
    read_n(fd, 1, "SIGCHLD, killed by SIGTERM", s);
    printf("  CLD_KILLED %s status %d\n", tf(s[0].ssi_code == CLD_KILLED), s[0].ssi_status);
    waitpid(child, NULL, 0);

    // A POSIX timer: its id, its value and its overrun.
    timer_t tid;
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 6};
    sev.sigev_value.sival_int = 77;
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    struct itimerspec its = {.it_value = {0, 2000000}, .it_interval = {0, 2000000}};
    timer_settime(tid, 0, &its, NULL);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, 5000);
    usleep(30000);
    read_n(fd, 1, "timer", s);
    printf("  code SI_TIMER %s tid is the timer id %s overrun>0 %s\n", tf(s[0].ssi_code == SI_TIMER),
           tf(s[0].ssi_tid == (uint32_t)(intptr_t)tid), tf(s[0].ssi_overrun > 0));
    uint32_t first_tid = s[0].ssi_tid;
    poll(&p, 1, 5000);
    read_n(fd, 1, "timer again", s);
    printf("  same tid %s overrun>=0 %s\n", tf(s[0].ssi_tid == first_tid), tf((int)s[0].ssi_overrun >= 0));
    timer_delete(tid);
    read_n(fd, 8, "after timer_delete", s);

    // Hand-made siginfos: which fields signalfd copies depends on the signal and code.
    struct {
        int sig, code;
        void (*fill)(siginfo_t*);
        const char* what;
    } cases[] = {
        {SIGSEGV, SEGV_MAPERR, fill_fault, "SIGSEGV SEGV_MAPERR"},
        {SIGSEGV, SEGV_BNDERR, fill_fault, "SIGSEGV SEGV_BNDERR"},
        {SIGSEGV, 11, fill_all, "SIGSEGV code 11 (past NSIGSEGV)"},
        {SIGBUS, BUS_MCEERR_AR, fill_mce, "SIGBUS BUS_MCEERR_AR"},
        {SIGBUS, BUS_ADRALN, fill_fault, "SIGBUS BUS_ADRALN"},
        {SIGILL, ILL_ILLOPC, fill_fault, "SIGILL ILL_ILLOPC"},
        {SIGFPE, FPE_INTDIV, fill_fault, "SIGFPE FPE_INTDIV"},
        {SIGTRAP, TRAP_BRKPT, fill_fault, "SIGTRAP TRAP_BRKPT"},
        {SIGSYS, 1, fill_sys, "SIGSYS SYS_SECCOMP"},
        {SIGIO, POLL_IN, fill_poll, "SIGIO POLL_IN"},
        {SIGUSR1, 3, fill_all, "SIGUSR1 code 3 (a SIGPOLL code)"},
        {SIGUSR2, 7, fill_all, "SIGUSR2 code 7"},
        {SIGCHLD, 7, fill_all, "SIGCHLD code 7 (past NSIGCHLD)"},
        {SIGALRM, SI_KERNEL, fill_all, "SIGALRM SI_KERNEL"},
        {SIGRTMIN + 7, SI_TIMER, fill_all, "RTMIN+7 SI_TIMER"},
        {SIGRTMIN + 7, SI_SIGIO, fill_all, "RTMIN+7 SI_SIGIO"},
        {SIGRTMIN + 7, SI_MESGQ, fill_all, "RTMIN+7 SI_MESGQ"},
        {SIGRTMIN + 7, SI_ASYNCIO, fill_all, "RTMIN+7 SI_ASYNCIO"},
        {SIGWINCH, SI_TKILL, fill_all, "SIGWINCH SI_TKILL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        int r = queue_info(cases[i].sig, cases[i].code, cases[i].fill);
        printf("%s: queued %d %s\n", cases[i].what, r, r ? strerrorname_np(errno) : "");
        if (read_n(fd, 1, "  read", s) == 1)
            show_fields(&s[0]);
    }
    close(fd);
}

static int g_tfd;
static void* other_thread(void* arg)
{
    (void)arg;
    struct pollfd p = {.fd = g_tfd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    printf("other thread: poll %d\n", n);
    read_n(g_tfd, 1, "other thread", NULL);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
    n = poll(&p, 1, 0);
    printf("other thread, after a signal to itself: poll %d\n", n);
    read_n(g_tfd, 1, "other thread", NULL);
    return NULL;
}

static void per_thread(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, NULL);
    g_tfd = signalfd(-1, &s, SFD_NONBLOCK);
    // A signal to the main thread only.
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
    pthread_t th;
    pthread_create(&th, NULL, other_thread, NULL);
    pthread_join(th, NULL);
    struct pollfd p = {.fd = g_tfd, .events = POLLIN};
    printf("main thread: poll %d\n", poll(&p, 1, 0));
    read_n(g_tfd, 2, "main thread", NULL);
    // A signal to the process: either thread may read it.
    kill(getpid(), SIGUSR2);
    pthread_create(&th, NULL, other_thread, NULL);
    pthread_join(th, NULL);
    read_n(g_tfd, 2, "main thread", NULL);
    close(g_tfd);
}

static void masks_and_sharing(const char* self)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGKILL);
    sigaddset(&s, SIGSTOP);
    errno = 0;
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    printf("a mask of SIGKILL and SIGSTOP: %s %s\n", tf(fd >= 0), strerrorname_np(errno));
    read_n(fd, 1, "  read", NULL);
    // Change the mask of the same fd.
    block(SIGUSR1);
    block(SIGUSR2);
    raise(SIGUSR1);
    raise(SIGUSR2);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    int r = signalfd(fd, &s, 0);
    printf("new mask for the same fd: returns the fd %s\n", tf(r == fd));
    printf("  flags argument ignored for an existing fd: O_NONBLOCK %s\n", tf(fcntl(fd, F_GETFL) & O_NONBLOCK));
    read_n(fd, 2, "  read with the mask USR2", NULL);
    printf("  USR1 still pending %s\n", tf(pending(SIGUSR1)));
    // dup: the same file.
    int d = dup(fd);
    sigaddset(&s, SIGUSR1);
    signalfd(d, &s, 0);
    read_n(fd, 2, "mask changed through a dup, read through the original", NULL);

    // fork: the child reads its own signals, not the parent's.
    raise(SIGUSR1);
    pid_t child = fork();
    if (child == 0) {
        read_n(fd, 2, "child, nothing of its own", NULL);
        raise(SIGUSR2);
        read_n(fd, 2, "child, after raising USR2", NULL);
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("parent: USR1 still pending %s\n", tf(pending(SIGUSR1)));
    // execve: the fd, the mask and the pending signal survive it.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        raise(SIGUSR1); // blocked: pending across the execve
        execl(self, self, "exec", num, (char*)NULL);
        _exit(127);
    }
    int st;
    waitpid(child, &st, 0);
    printf("exec'd child: exit %d\n", WEXITSTATUS(st));
    read_n(fd, 2, "parent after the child", NULL);
    close(d);
    close(fd);
}

static int after_exec(int fd)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after execve: fd is a signalfd %s, USR1 blocked %s, pending %s\n", tf(fcntl(fd, F_GETFD) >= 0),
           tf(sigismember(&cur, SIGUSR1)), tf(pending(SIGUSR1)));
    char link[64] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("  readlink: %s\n", link);
    read_n(fd, 2, "  read after execve", NULL);
    return 3;
}

static volatile int g_handled;
static void on_usr2(int sig) { (void)sig; g_handled++; }

// A signalfd reads what is pending, whatever the disposition: a signal that is not
// blocked goes to its handler first; blocked signals are queued even when ignored,
// and a pending signal is discarded when its disposition becomes SIG_IGN.
static void dispositions(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigaddset(&m, SIGWINCH);
    sigaddset(&m, SIGCHLD);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    int fd = signalfd(-1, &m, SFD_NONBLOCK);
    struct signalfd_siginfo old[8];
    while (read(fd, old, sizeof old) > 0) {
        // the SIGCHLDs of the children above
    }
    signal(SIGUSR2, on_usr2);
    raise(SIGUSR2);
    read_n(fd, 1, "not blocked, with a handler", NULL);
    printf("  handled %d\n", g_handled);
    block(SIGUSR1);
    block(SIGWINCH);
    block(SIGCHLD);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    read_n(fd, 1, "ignored but blocked", NULL);
    raise(SIGWINCH);
    read_n(fd, 1, "ignored by default but blocked", NULL);
    raise(SIGUSR1);
    signal(SIGUSR1, SIG_DFL);
    read_n(fd, 1, "ignored when sent, default when read", NULL);
    raise(SIGUSR1);
    signal(SIGUSR1, SIG_IGN);
    read_n(fd, 1, "pending, then set to SIG_IGN", NULL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGCHLD, SIG_IGN);
    pid_t child = fork();
    if (child == 0)
        _exit(4);
    usleep(100000);
    read_n(fd, 1, "SIGCHLD ignored and blocked: no signal, the child reaped itself", NULL);
    errno = 0;
    int r = waitpid(child, NULL, 0);
    printf("  waitpid: %d %s\n", r, strerrorname_np(errno));
    signal(SIGCHLD, SIG_DFL);
    close(fd);
}

// Pointers the compiler must not reason about.
static void* volatile g_unmapped = (void*)8;
static void* volatile g_kernel = (void*)0xffff800000000000ULL;

static void bad_input(void)
{
    block(SIGUSR1);
    int fd = sfd_for(SIGUSR1, SFD_NONBLOCK);
    raise(SIGUSR1);
    char small[127];
    errno = 0;
    ssize_t n = read(fd, small, sizeof small);
    printf("127-byte buffer: %zd %s, USR1 pending %s\n", n, strerrorname_np(errno), tf(pending(SIGUSR1)));
    errno = 0;
    n = read(fd, g_kernel, 128);
    printf("kernel address: %zd %s, USR1 pending %s\n", n, strerrorname_np(errno), tf(pending(SIGUSR1)));
    // Linux dequeues before it copies, so an unmapped user buffer loses the signal;
    // the sentry checks the buffer first and keeps it pending (issue 5 asks for
    // that on purpose). Only the error is compared; the signal is then drained.
    errno = 0;
    n = read(fd, g_unmapped, 128);
    printf("unmapped buffer: %zd %s\n", n, strerrorname_np(errno));
    struct signalfd_siginfo drain;
    (void)!read(fd, &drain, sizeof drain);
    errno = 0;
    n = read(fd, g_unmapped, 128);
    printf("unmapped buffer, nothing pending: %zd %s\n", n, strerrorname_np(errno));
    lseek(fd, 0, SEEK_SET);
    errno = 0;
    long long off = lseek(fd, 5, SEEK_CUR);
    printf("lseek: %lld %s\n", off, strerrorname_np(errno));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    errno = 0;
    int r = (int)syscall(SYS_signalfd4, -1, &s, 4, 0);
    printf("mask size 4: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_signalfd4, -1, &s, 16, 0);
    printf("mask size 16: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_signalfd4, -1, g_unmapped, 8, 0);
    printf("unmapped mask: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = signalfd(-1, &s, 1);
    printf("flags 1: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = signalfd(-1, &s, O_RDWR);
    printf("flags O_RDWR: %d %s\n", r, strerrorname_np(errno));
    int efd = eventfd(0, 0);
    errno = 0;
    r = signalfd(efd, &s, 0);
    printf("an eventfd: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = signalfd(999, &s, 0);
    printf("a bad fd: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = signalfd(-2, &s, 0);
    printf("fd -2: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = (int)syscall(SYS_signalfd, -1, &s, 8);
    printf("signalfd (the old call): %s\n", tf(r >= 0));
    errno = 0;
    uint64_t x = 1;
    n = write(fd, &x, sizeof x);
    printf("write: %zd %s\n", n, strerrorname_np(errno));
    close(efd);
    close(fd);
}

int main(int argc, char** argv)
{
    if (argc == 3 && strcmp(argv[1], "exec") == 0)
        return after_exec(atoi(argv[2]));
    setvbuf(stdout, NULL, _IOLBF, 0);
    partial_reads();
    layouts();
    per_thread();
    masks_and_sharing(argv[0]);
    dispositions();
    bad_input();
    return 0;
}
