// Default actions: which signals terminate a process, which dump core (only WTERMSIG is
// printed: RLIMIT_CORE is 0, so no core file either), which are ignored; a blocked
// signal acts only when unblocked; SIGKILL ends a process that blocks everything;
// abort() kills even when a SIGABRT handler returns.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* sig_name(int sig)
{
    static char buf[32];
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    const char* n = sigabbrev_np(sig);
    return n ? n : "?";
}

static const char* describe(int status)
{
    static char buf[128];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by %s", sig_name(WTERMSIG(status)));
    else
        snprintf(buf, sizeof buf, "other 0x%x", status);
    return buf;
}

static int wait_for(pid_t child)
{
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        printf("waitpid: %s\n", strerrorname_np(errno));
    return status;
}

// A child that raises `sig` with its default action; exits 100 if it survives.
static void raise_in_child(int sig, const char* name)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        _exit(100);
    }
    printf("%-12s -> %s\n", name, describe(wait_for(child)));
}

static void on_abrt(int sig)
{
    (void)sig;
    write(1, "  SIGABRT handler ran\n", 22);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0)
        printf("setrlimit(RLIMIT_CORE): %s\n", strerrorname_np(errno));

    static const struct {
        int sig;
        const char* name;
    } terminate[] = {
        {SIGHUP, "SIGHUP"},     {SIGINT, "SIGINT"},       {SIGKILL, "SIGKILL"},   {SIGUSR1, "SIGUSR1"},
        {SIGUSR2, "SIGUSR2"},   {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"},   {SIGTERM, "SIGTERM"},
        {SIGSTKFLT, "SIGSTKFLT"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGIO, "SIGIO"},
        {SIGPWR, "SIGPWR"},
        // core-dumping ones (no core: RLIMIT_CORE is 0)
        {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"}, {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"}, {SIGSEGV, "SIGSEGV"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
        // ignored by default
        {SIGCHLD, "SIGCHLD"}, {SIGURG, "SIGURG"}, {SIGWINCH, "SIGWINCH"}, {SIGCONT, "SIGCONT"},
    };
    for (size_t i = 0; i < sizeof terminate / sizeof terminate[0]; i++)
        raise_in_child(terminate[i].sig, terminate[i].name);
    raise_in_child(SIGRTMIN, "SIGRTMIN");
    raise_in_child(SIGRTMIN + 5, "SIGRTMIN+5");
    raise_in_child(SIGRTMAX, "SIGRTMAX");

    // A blocked SIGTERM does nothing until it is unblocked.
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTERM);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGTERM);
        printf("  child: alive with SIGTERM blocked and pending\n");
        fflush(stdout);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        printf("  child: survived the unblock (wrong)\n");
        _exit(100);
    }
    printf("blocked SIGTERM, then unblocked -> %s\n", describe(wait_for(child)));

    // The parent kills a child that blocks every signal: SIGTERM stays pending,
    // SIGKILL kills.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        close(p[0]);
        write(p[1], "r", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    printf("child blocking everything is ready: %s\n", read(p[0], &c, 1) == 1 ? "true" : "false");
    close(p[0]);
    printf("kill(child, SIGTERM) = %d\n", kill(child, SIGTERM));
    int status = 0;
    printf("waitpid(WNOHANG) after SIGTERM = %d\n", (int)waitpid(child, &status, WNOHANG));
    printf("kill(child, SIGKILL) = %d\n", kill(child, SIGKILL));
    printf("child blocking everything -> %s\n", describe(wait_for(child)));

    // A child waiting in pause() with SIGTERM's default action.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGTERM);
    printf("pausing child sent SIGTERM -> %s\n", describe(wait_for(child)));

    // abort(): the handler runs, returns, and the process still dies of SIGABRT.
    fflush(stdout);
    child = fork();
    if (child == 0) {
        signal(SIGABRT, on_abrt);
        abort();
    }
    printf("abort() with a returning handler -> %s\n", describe(wait_for(child)));

    // kill() argument checks.
    errno = 0;
    int r = kill(getpid(), 0);
    printf("kill(self, 0) = %d\n", r);
    errno = 0;
    r = kill(getpid(), 65);
    printf("kill(self, 65) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = kill(getpid(), -1);
    printf("kill(self, -1) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = kill(child, 0); // reaped above
    printf("kill(reaped child, 0) = %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = kill(child, SIGTERM);
    printf("kill(reaped child, SIGTERM) = %d %s\n", r, strerrorname_np(errno));
    return 0;
}
