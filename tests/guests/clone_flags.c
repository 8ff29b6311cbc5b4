// Raw clone and clone3 flags: CLONE_PARENT (the child belongs to its grandparent),
// CLONE_VFORK|CLONE_VM (the parent resumes only once the child has exited or exec'd),
// CLONE_FILES, CLONE_FS, CLONE_SIGHAND|CLONE_VM (shared fd table, cwd/umask, signal
// actions; not shared without them), CLONE_CHILD_CLEARTID (the tid word is cleared
// and the futex woken at exit), CLONE_PARENT_SETTID/CLONE_CHILD_SETTID (both hold the
// returned tid), an exit signal other than SIGCHLD (clone and clone3), and the flag
// combinations Linux refuses.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// --- Raw syscalls for children that share our memory but not our TLS or stack ---

static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define raw(nr, ...) raw_n(nr, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define raw_n(nr, a, b, c, d, e, f, ...) raw6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

// clone with a new stack: the child calls fn(arg) there and exits with its result.
// Compare glibc's clone(): fn and arg travel on the child's stack.
static long clone_on_stack(unsigned long flags, void* stack_top, int* ptid, int* ctid, int (*fn)(void*), void* arg)
{
    uintptr_t* sp = (uintptr_t*)((uintptr_t)stack_top & ~(uintptr_t)15);
    *--sp = (uintptr_t)fn;
    *--sp = (uintptr_t)arg;
    long ret;
    register long r10 __asm__("r10") = (long)ctid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "pop %%rdi\n\t"
                     "pop %%rax\n\t"
                     "call *%%rax\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t" // SYS_exit
                     "syscall\n\t"
                     "hlt\n"
                     "1:\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_clone), "D"(flags), "S"(sp), "d"(ptid), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

static char child_stack[64 * 1024] __attribute__((aligned(16)));
static void* stack_top(void) { return child_stack + sizeof child_stack; }

// Each blocking wait runs under a 2 s guard (SIGALRM without SA_RESTART).
static void on_alarm(int sig) { (void)sig; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {on ? 2 : 0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static const char* describe(pid_t w, pid_t want, int st)
{
    static char buf[64];
    if (w < 0)
        snprintf(buf, sizeof buf, "%s", strerrorname_np(errno));
    else if (w != want)
        snprintf(buf, sizeof buf, "another pid");
    else if (WIFEXITED(st))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
    else
        snprintf(buf, sizeof buf, "signal %s", sigabbrev_np(WTERMSIG(st)));
    return buf;
}

static const char* reap(pid_t child, int options)
{
    int st = 0;
    guard(1);
    errno = 0;
    pid_t w = waitpid(child, &st, options);
    guard(0);
    return describe(w, child, st);
}

// --- CLONE_PARENT ---
static void test_clone_parent(void)
{
    pid_t top = getpid();
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        long c = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (c == 0)
            _exit(getppid() == top ? 7 : 8);
        errno = 0;
        pid_t w = waitpid((pid_t)c, NULL, WNOHANG);
        int e = w < 0 ? errno : 0;
        write(p[1], &c, sizeof(pid_t));
        _exit(e == ECHILD ? 0 : 1);
    }
    pid_t c = 0;
    read(p[0], &c, sizeof c);
    printf("CLONE_PARENT: the cloning process cannot wait for it: %s\n", reap(mid, 0));
    printf("  its grandparent reaps it (exit 7: getppid() is the grandparent): %s\n", reap(c, 0));
    close(p[0]);
    close(p[1]);
}

// --- CLONE_VFORK|CLONE_VM ---
static volatile int shared_word;
static int vfork_child(void* arg)
{
    shared_word = 1;
    struct timespec ts = {0, 30 * 1000000};
    raw(SYS_nanosleep, &ts, 0);
    shared_word = 2;
    if (arg) {
        char* argv[] = {"true", NULL};
        char* envp[] = {NULL};
        raw(SYS_execve, "/bin/true", argv, envp);
        return 99;
    }
    return 5;
}

static void test_vfork(void)
{
    shared_word = 0;
    long c = clone_on_stack(CLONE_VM | CLONE_VFORK | SIGCHLD, stack_top(), NULL, NULL, vfork_child, NULL);
    printf("CLONE_VFORK|CLONE_VM, child exits: parent resumed after its last write: %s\n", tf(shared_word == 2));
    printf("  reaped: %s\n", reap((pid_t)c, 0));
    shared_word = 0;
    c = clone_on_stack(CLONE_VM | CLONE_VFORK | SIGCHLD, stack_top(), NULL, NULL, vfork_child, (void*)1);
    printf("CLONE_VFORK|CLONE_VM, child execs: parent resumed after its last write: %s\n", tf(shared_word == 2));
    printf("  reaped: %s\n", reap((pid_t)c, 0));
}

// --- CLONE_FILES and CLONE_FS (fork-like: the child runs on a copy of our stack) ---
static void test_files_fs(void)
{
    for (int shared = 1; shared >= 0; shared--) {
        int fd = open("/dev/null", O_RDONLY);
        fflush(stdout);
        long c = syscall(SYS_clone, (shared ? CLONE_FILES : 0) | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) {
            close(fd);
            int nfd = open("/dev/zero", O_RDONLY);
            _exit(nfd == fd ? 0 : 1); // the lowest free number: the one just closed
        }
        const char* r = reap((pid_t)c, 0);
        errno = 0;
        int flags = fcntl(fd, F_GETFD);
        char buf[1] = {1};
        ssize_t n = read(fd, buf, 1); // /dev/zero gives a 0 byte, /dev/null EOF
        printf("%s: child closed fd and opened /dev/zero into it (%s); in the parent: fcntl %s, read %s\n",
               shared ? "CLONE_FILES" : "no CLONE_FILES", r, flags < 0 ? strerrorname_np(errno) : "ok",
               n == 1 ? "a byte (the child's /dev/zero)" : n == 0 ? "EOF (still /dev/null)" : "failed");
        close(fd);
    }
    char before[4096];
    getcwd(before, sizeof before);
    for (int shared = 1; shared >= 0; shared--) {
        mode_t old = umask(022);
        fflush(stdout);
        long c = syscall(SYS_clone, (shared ? CLONE_FS : 0) | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) {
            umask(077);
            _exit(chdir("/") == 0 ? 0 : 1);
        }
        const char* r = reap((pid_t)c, 0);
        char now[4096];
        getcwd(now, sizeof now);
        mode_t um = umask(old);
        printf("%s: child chdir(\"/\") and umask(077) (%s); parent's cwd is /: %s, umask 0%o\n",
               shared ? "CLONE_FS" : "no CLONE_FS", r, tf(strcmp(now, "/") == 0), (unsigned)um);
        chdir(before);
    }
}

// --- CLONE_SIGHAND|CLONE_VM ---
struct ksigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    unsigned long mask;
};
static int sighand_child(void* arg)
{
    (void)arg;
    struct ksigaction ign = {SIG_IGN, 0, 0, 0};
    return (int)-raw(SYS_rt_sigaction, SIGUSR2, &ign, 0, 8);
}

static void test_sighand(void)
{
    for (int shared = 1; shared >= 0; shared--) {
        signal(SIGUSR2, SIG_DFL);
        unsigned long flags = CLONE_VM | (shared ? CLONE_SIGHAND : 0) | SIGCHLD;
        long c = clone_on_stack(flags, stack_top(), NULL, NULL, sighand_child, NULL);
        const char* r = reap((pid_t)c, 0);
        struct sigaction now;
        sigaction(SIGUSR2, NULL, &now);
        printf("%s: child set SIGUSR2 to SIG_IGN (%s); parent's action is SIG_IGN: %s\n",
               shared ? "CLONE_SIGHAND|CLONE_VM" : "CLONE_VM alone", r, tf(now.sa_handler == SIG_IGN));
    }
    signal(SIGUSR2, SIG_DFL);
}

// --- CLONE_CHILD_CLEARTID, CLONE_PARENT_SETTID, CLONE_CHILD_SETTID ---
static int ptid_word, ctid_word, child_saw_ctid, child_gettid;
static int go_word;
static int tid_child(void* arg)
{
    (void)arg;
    child_saw_ctid = __atomic_load_n(&ctid_word, __ATOMIC_SEQ_CST);
    child_gettid = (int)raw(SYS_gettid, 0);
    // Wait until the parent has looked at the words, then exit (clearing ctid).
    while (!__atomic_load_n(&go_word, __ATOMIC_SEQ_CST))
        raw(SYS_futex, &go_word, FUTEX_WAIT, 0, 0);
    return 3;
}

static void test_tids(void)
{
    ptid_word = ctid_word = child_saw_ctid = child_gettid = go_word = 0;
    unsigned long flags = CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;
    long c = clone_on_stack(flags, stack_top(), &ptid_word, &ctid_word, tid_child, NULL);
    // Until the child's first instruction, ctid may still be unset: wait for it to
    // record what it saw.
    guard(1);
    while (!__atomic_load_n(&child_gettid, __ATOMIC_SEQ_CST))
        sched_yield();
    guard(0);
    printf("CLONE_PARENT_SETTID: parent's word == returned tid: %s\n", tf(ptid_word == c));
    printf("CLONE_CHILD_SETTID: the child saw its tid in its word: %s, gettid() in the child == returned tid: %s\n",
           tf(child_saw_ctid == c), tf(child_gettid == c));
    __atomic_store_n(&go_word, 1, __ATOMIC_SEQ_CST);
    raw(SYS_futex, &go_word, FUTEX_WAKE, 1, 0);
    // CLONE_CHILD_CLEARTID: the word becomes 0 and the futex is woken at the child's exit.
    guard(1);
    int v, woken = 1;
    while ((v = __atomic_load_n(&ctid_word, __ATOMIC_SEQ_CST)) != 0) {
        long r = raw(SYS_futex, &ctid_word, FUTEX_WAIT, v, 0);
        if (r == -EINTR) {
            woken = 0;
            break;
        }
    }
    guard(0);
    printf("CLONE_CHILD_CLEARTID: futex wait on the word ended with it 0: %s\n", tf(woken && ctid_word == 0));
    printf("  reaped: %s\n", reap((pid_t)c, 0));
}

// --- Exit signals other than SIGCHLD ---
static void take_usr1(const char* what, pid_t child)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    struct timespec two = {2, 0};
    int sig = sigtimedwait(&s, &info, &two);
    printf("  %s: parent got %s, si_code CLD_EXITED: %s, si_pid==child: %s, si_status %d\n", what,
           sig > 0 ? sigabbrev_np(sig) : "nothing", tf(info.si_code == CLD_EXITED), tf(info.si_pid == child),
           info.si_status);
}

static void test_exit_signal(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);

    fflush(stdout);
    long c = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
    if (c == 0)
        _exit(11);
    printf("clone(exit signal SIGUSR1):\n");
    siginfo_t si;
    memset(&si, 0, sizeof si);
    guard(1);
    int r = waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT);
    guard(0);
    printf("  waitid without __WCLONE: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    take_usr1("exit", (pid_t)c);
    memset(&si, 0, sizeof si);
    guard(1);
    r = waitid(P_PID, (id_t)c, &si, WEXITED | __WCLONE);
    guard(0);
    printf("  waitid(__WCLONE): %d, si_pid==child: %s, si_signo %s, status %d\n", r, tf(si.si_pid == c),
           sigabbrev_np(si.si_signo), si.si_status);

    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGUSR1;
    int ptid = 0;
    ca.flags = CLONE_PARENT_SETTID;
    ca.parent_tid = (uintptr_t)&ptid;
    fflush(stdout);
    c = syscall(SYS_clone3, &ca, sizeof ca);
    if (c == 0)
        _exit(12);
    printf("clone3(exit_signal SIGUSR1, CLONE_PARENT_SETTID): returned a pid: %s, parent_tid == it: %s\n",
           tf(c > 0), tf(ptid == c));
    printf("  waitpid without __WALL: %s\n", reap((pid_t)c, WNOHANG));
    take_usr1("exit", (pid_t)c);
    printf("  waitpid(__WALL): %s\n", reap((pid_t)c, __WALL));
    sigprocmask(SIG_UNBLOCK, &s, NULL);

    // clone3 with exit_signal 0: nothing is sent, __WCLONE finds it.
    memset(&ca, 0, sizeof ca);
    fflush(stdout);
    c = syscall(SYS_clone3, &ca, sizeof ca);
    if (c == 0)
        _exit(13);
    printf("clone3(exit_signal 0): waitpid(__WCLONE): %s\n", reap((pid_t)c, __WCLONE));
}

// --- What Linux refuses ---
static void test_refused(void)
{
    struct {
        const char* name;
        unsigned long flags;
    } bad[] = {
        {"CLONE_THREAD without CLONE_SIGHAND", CLONE_THREAD | CLONE_VM},
        {"CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND},
        {"CLONE_FS|CLONE_NEWNS", CLONE_FS | CLONE_NEWNS},
        {"CLONE_SIGHAND|CLONE_CLEAR_SIGHAND (clone3)", CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        long r;
        if (bad[i].flags & CLONE_CLEAR_SIGHAND) {
            struct clone_args ca;
            memset(&ca, 0, sizeof ca);
            ca.flags = bad[i].flags;
            r = syscall(SYS_clone3, &ca, sizeof ca);
        } else {
            r = syscall(SYS_clone, bad[i].flags | SIGCHLD, 0, 0, 0, 0);
        }
        if (r == 0)
            _exit(0);
        printf("%s: %ld %s\n", bad[i].name, r < 0 ? -1L : r > 0 ? 1L : 0L, strerrorname_np(errno));
        if (r > 0)
            waitpid((pid_t)r, NULL, __WALL);
    }
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = 65;
    errno = 0;
    long r = syscall(SYS_clone3, &ca, sizeof ca);
    printf("clone3 with exit_signal 65: %ld %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = syscall(SYS_clone3, &ca, 8);
    printf("clone3 with a too small size: %ld %s\n", r, strerrorname_np(errno));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the wait
    sigaction(SIGALRM, &sa, NULL);

    test_clone_parent();
    test_vfork();
    test_files_fs();
    test_sighand();
    test_tids();
    test_exit_signal();
    test_refused();
    return 0;
}
