// SIG_IGN and the signals whose default is to be ignored. An ignored signal is
// discarded when it is sent, except while it is blocked (Linux never ignores a blocked
// signal: the action may change before it is unblocked); making a signal ignored with
// sigaction (SIG_IGN, or SIG_DFL for SIGCHLD/SIGURG/SIGWINCH) discards what is pending.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits[65];
static void on_sig(int sig) { hits[sig]++; }

static const char* tf(int b) { return b ? "true" : "false"; }

static int pending(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    return sigismember(&s, sig);
}

static void set_action(int sig, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    if (sigaction(sig, &sa, NULL) != 0)
        printf("sigaction(%s): %s\n", sigabbrev_np(sig), strerrorname_np(errno));
}

static void mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

// A signal whose default action is to be ignored, blocked, raised, then made ignored.
static void default_ignored(int sig)
{
    set_action(sig, SIG_DFL);
    int r = raise(sig);
    printf("%s default, unblocked: raise=%d pending=%s\n", sigabbrev_np(sig), r, tf(pending(sig)));
    mask(SIG_BLOCK, sig);
    raise(sig);
    printf("%s default, blocked: pending=%s\n", sigabbrev_np(sig), tf(pending(sig)));
    set_action(sig, SIG_DFL); // re-setting the ignoring default discards it
    printf("%s after sigaction(SIG_DFL): pending=%s\n", sigabbrev_np(sig), tf(pending(sig)));
    raise(sig);
    set_action(sig, on_sig);
    printf("%s blocked with a handler: pending=%s\n", sigabbrev_np(sig), tf(pending(sig)));
    mask(SIG_UNBLOCK, sig);
    printf("%s unblocked: handler ran %d time(s)\n", sigabbrev_np(sig), (int)hits[sig]);
    set_action(sig, SIG_DFL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    // 1. Ignored and not blocked: discarded at once.
    set_action(SIGUSR1, SIG_IGN);
    int r = raise(SIGUSR1);
    printf("SIG_IGN, unblocked: raise=%d pending=%s (still alive)\n", r, tf(pending(SIGUSR1)));
    r = kill(getpid(), SIGUSR1);
    printf("SIG_IGN, kill(getpid()): %d pending=%s\n", r, tf(pending(SIGUSR1)));

    // 2. Ignored but blocked: queued anyway; setting SIG_IGN again discards it.
    mask(SIG_BLOCK, SIGUSR1);
    raise(SIGUSR1);
    printf("SIG_IGN, blocked: pending=%s\n", tf(pending(SIGUSR1)));
    set_action(SIGUSR1, SIG_IGN);
    printf("SIG_IGN set again: pending=%s\n", tf(pending(SIGUSR1)));

    // 3. Handled and blocked, then SIG_IGN: the pending one is gone for good.
    set_action(SIGUSR1, on_sig);
    raise(SIGUSR1);
    printf("handler, blocked: pending=%s\n", tf(pending(SIGUSR1)));
    set_action(SIGUSR1, SIG_IGN);
    printf("after SIG_IGN: pending=%s\n", tf(pending(SIGUSR1)));
    set_action(SIGUSR1, on_sig);
    mask(SIG_UNBLOCK, SIGUSR1);
    printf("handler back, unblocked: handler ran %d time(s)\n", (int)hits[SIGUSR1]);

    // 4. Handled and blocked, then SIG_DFL (terminate): still pending; a handler set
    //    before unblocking receives it.
    mask(SIG_BLOCK, SIGUSR2);
    set_action(SIGUSR2, on_sig);
    raise(SIGUSR2);
    set_action(SIGUSR2, SIG_DFL);
    printf("SIGUSR2 blocked, handler then SIG_DFL: pending=%s\n", tf(pending(SIGUSR2)));
    set_action(SIGUSR2, on_sig);
    mask(SIG_UNBLOCK, SIGUSR2);
    printf("SIGUSR2 unblocked: handler ran %d time(s)\n", (int)hits[SIGUSR2]);

    // 5. Signals whose default action is to be ignored.
    default_ignored(SIGCHLD);
    default_ignored(SIGURG);
    default_ignored(SIGWINCH);

    // 6. Realtime signals queued while blocked are all discarded by SIG_IGN.
    int rt = SIGRTMIN + 1;
    set_action(rt, on_sig);
    mask(SIG_BLOCK, rt);
    int queued = 0;
    for (int i = 0; i < 3; i++)
        queued += sigqueue(getpid(), rt, (union sigval){.sival_int = i}) == 0;
    printf("SIGRTMIN+1 queued %d while blocked: pending=%s\n", queued, tf(pending(rt)));
    set_action(rt, SIG_IGN);
    printf("SIGRTMIN+1 after SIG_IGN: pending=%s\n", tf(pending(rt)));
    set_action(rt, on_sig);
    mask(SIG_UNBLOCK, rt);
    printf("SIGRTMIN+1 unblocked: handler ran %d time(s)\n", (int)hits[rt]);

    // 7. sigwaitinfo still receives a blocked signal whose action is SIG_IGN.
    set_action(SIGHUP, SIG_IGN);
    mask(SIG_BLOCK, SIGHUP);
    raise(SIGHUP);
    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGHUP);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    struct timespec zero = {0, 0};
    // The raw call: glibc's sigtimedwait folds SI_TKILL into SI_USER.
    r = syscall(SYS_rt_sigtimedwait, &w, &info, &zero, 8);
    printf("sigtimedwait on an ignored, blocked SIGHUP: %s si_code=%d\n", r > 0 ? sigabbrev_np(r) : strerrorname_np(errno),
           info.si_code);
    r = syscall(SYS_rt_sigtimedwait, &w, &info, &zero, 8);
    printf("sigtimedwait again: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");

    // 8. SIGKILL and SIGSTOP can't be ignored; SIGCONT can.
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    errno = 0;
    r = sigaction(SIGKILL, &ign, NULL);
    printf("sigaction(SIGKILL, SIG_IGN) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = sigaction(SIGSTOP, &ign, NULL);
    printf("sigaction(SIGSTOP, SIG_IGN) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = sigaction(SIGCONT, &ign, NULL);
    printf("sigaction(SIGCONT, SIG_IGN) = %d\n", r);
    raise(SIGCONT);
    printf("alive after SIGCONT ignored\n");

    // 9. A child with every catchable signal ignored survives a storm of them.
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        for (int s = 1; s < 65; s++)
            if (s != SIGKILL && s != SIGSTOP && (s < 32 || s >= SIGRTMIN))
                signal(s, SIG_IGN);
        for (int s = 1; s < 65; s++)
            if (s != SIGKILL && s != SIGSTOP && (s < 32 || s >= SIGRTMIN))
                raise(s);
        _exit(7);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child ignoring everything: exited=%d code=%d signaled=%d\n", WIFEXITED(status), WEXITSTATUS(status),
           WIFSIGNALED(status));
    return 0;
}
