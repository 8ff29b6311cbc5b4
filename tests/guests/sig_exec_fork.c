// What fork and execve keep. fork: actions (with flags and masks), the mask and the
// alternate stack are inherited, pending signals are not. execve: handled signals go
// back to SIG_DFL, ignored ones stay ignored (flags and sa_mask are cleared for all),
// the mask and pending signals are kept, the alternate stack is dropped, an alarm
// keeps running, SIGCHLD ignored still reaps children; an execve from a second thread
// keeps that thread's mask.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits[65];
static void on_sig(int sig) { hits[sig]++; }

static const char* name(int sig)
{
    static char buf[32];
    if (sig >= SIGRTMIN) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    return sigabbrev_np(sig);
}

static void print_set(const char* what, const sigset_t* s)
{
    printf("%s:", what);
    int any = 0;
    for (int i = 1; i < 65; i++)
        if (sigismember(s, i)) {
            printf(" %s", name(i));
            any = 1;
        }
    printf("%s\n", any ? "" : " (empty)");
}

static void print_state(const char* who)
{
    sigset_t m, p;
    sigprocmask(SIG_BLOCK, NULL, &m);
    sigpending(&p);
    char what[64];
    snprintf(what, sizeof what, "%s: mask", who);
    print_set(what, &m);
    snprintf(what, sizeof what, "%s: pending", who);
    print_set(what, &p);
}

static void print_action(const char* who, int sig)
{
    struct sigaction old;
    memset(&old, 0, sizeof old);
    sigaction(sig, NULL, &old);
    const char* h = old.sa_handler == SIG_DFL ? "SIG_DFL" : old.sa_handler == SIG_IGN ? "SIG_IGN" : "handler";
    int mask_empty = 1;
    for (int i = 1; i < 65; i++)
        if (sigismember(&old.sa_mask, i))
            mask_empty = 0;
    printf("%s: %s -> %s flags=0x%x sa_mask empty: %s\n", who, name(sig), h, (unsigned)old.sa_flags, tf(mask_empty));
}

// The program after execve.
static int after_exec(const char* variant, const char* expected_pid)
{
    char who[32];
    snprintf(who, sizeof who, "after exec (%s)", variant);
    print_action(who, SIGUSR1);
    print_action(who, SIGUSR2);
    print_action(who, SIGHUP);
    print_state(who);
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("%s: alternate stack disabled: %s\n", who, tf((ss.ss_flags & SS_DISABLE) != 0));
    if (strcmp(variant, "thread") == 0) {
        printf("%s: same pid as before the exec: %s\n", who, tf(getpid() == atoi(expected_pid)));
        return 0;
    }
    unsigned left = alarm(0);
    printf("%s: alarm still running: %s\n", who, tf(left > 0 && left <= 10));
    // The pending SIGTERM (raised before the exec) is still there to be taken.
    sigset_t t;
    sigemptyset(&t);
    sigaddset(&t, SIGTERM);
    siginfo_t info;
    struct timespec zero = {0, 0};
    int s = syscall(SYS_rt_sigtimedwait, &t, &info, &zero, 8);
    printf("%s: dequeued %s code %d\n", who, s > 0 ? name(s) : "nothing", info.si_code);
    print_action(who, SIGCHLD);
    // SIGCHLD is ignored: a child is reaped by itself, wait() ends with ECHILD.
    pid_t g = fork();
    if (g == 0)
        _exit(5);
    errno = 0;
    pid_t w = wait(NULL);
    printf("%s: wait() with SIGCHLD ignored = %d %s\n", who, (int)w, strerrorname_np(errno));
    return 0;
}

static void* exec_thread(void* arg)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &s, NULL); // only this thread's mask has SIGWINCH
    char pid[16];
    snprintf(pid, sizeof pid, "%d", getpid());
    char* argv[] = {(char*)arg, "exec-child", "thread", pid, NULL};
    execv("/proc/self/exe", argv);
    printf("execv from a thread: %s\n", strerrorname_np(errno));
    return NULL;
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    if (argc >= 3 && strcmp(argv[1], "exec-child") == 0)
        return after_exec(argv[2], argc >= 4 ? argv[3] : "0");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigaddset(&sa.sa_mask, SIGINT);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGQUIT);
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_sig;
    sa.sa_flags = 0;
    sigaction(SIGHUP, &sa, NULL);
    sigset_t b;
    sigemptyset(&b);
    sigaddset(&b, SIGHUP);
    sigaddset(&b, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &b, NULL);
    raise(SIGHUP);                 // thread-directed
    kill(getpid(), SIGRTMIN + 2); // process-directed
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    print_action("parent", SIGUSR1);
    print_action("parent", SIGUSR2);
    print_state("parent");

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct sigaction old;
        sigaction(SIGUSR1, NULL, &old);
        printf("fork child: SIGUSR1 handler is the parent's: %s\n", tf(old.sa_handler == on_sig));
        print_action("fork child", SIGUSR1);
        print_action("fork child", SIGUSR2);
        print_state("fork child");
        stack_t cs;
        sigaltstack(NULL, &cs);
        printf("fork child: alternate stack inherited: %s\n", tf(cs.ss_sp == alt && !(cs.ss_flags & SS_DISABLE)));
        raise(SIGUSR1);
        printf("fork child: SIGUSR1 handler ran %d\n", (int)hits[SIGUSR1]);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    print_state("parent after fork");

    // execve in a child: SIGTERM blocked and pending, an alarm set, SIGCHLD ignored.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        sigset_t t;
        sigemptyset(&t);
        sigaddset(&t, SIGTERM);
        sigprocmask(SIG_BLOCK, &t, NULL);
        raise(SIGTERM);
        alarm(10);
        signal(SIGCHLD, SIG_IGN);
        char* args[] = {argv[0], "exec-child", "process", NULL};
        execv("/proc/self/exe", args);
        printf("execv: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    waitpid(child, &status, 0);
    printf("exec child exited %d\n", WEXITSTATUS(status));

    // execve from a second thread of a child.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        pthread_t t;
        pthread_create(&t, NULL, exec_thread, argv[0]);
        pthread_join(t, NULL);
        _exit(1);
    }
    waitpid(child, &status, 0);
    printf("thread exec child exited %d\n", WEXITSTATUS(status));
    return 0;
}
