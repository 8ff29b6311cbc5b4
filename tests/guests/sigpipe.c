// Writing to a pipe with no reader: SIGPIPE kills the writer by default; with SIGPIPE
// ignored the write fails with EPIPE; with a handler, the handler runs once and the
// write fails with EPIPE.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_sigpipe(int sig) { handled = sig; }

static void report_write(const char* what)
{
    int fds[2];
    if (pipe(fds) < 0) {
        printf("pipe: %s\n", strerrorname_np(errno));
        return;
    }
    close(fds[0]);
    errno = 0;
    ssize_t n = write(fds[1], "x", 1);
    printf("%s: write() = %zd %s\n", what, n, n < 0 ? strerrorname_np(errno) : "");
    close(fds[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fds[2];
        if (pipe(fds) < 0)
            _exit(2);
        close(fds[0]);
        write(fds[1], "x", 1);
        _exit(1); // not reached: SIGPIPE kills us
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("default: WIFSIGNALED=%d WTERMSIG=%d (%s) WIFEXITED=%d\n", WIFSIGNALED(status),
           WIFSIGNALED(status) ? WTERMSIG(status) : 0,
           WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "-", WIFEXITED(status));

    signal(SIGPIPE, SIG_IGN);
    report_write("ignored");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    report_write("handler");
    printf("handler: ran with signal %d (%s)\n", (int)handled, handled ? sigabbrev_np(handled) : "-");

    signal(SIGPIPE, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    report_write("blocked");
    sigset_t pending;
    sigpending(&pending);
    printf("blocked: SIGPIPE pending: %s\n", sigismember(&pending, SIGPIPE) ? "true" : "false");
    return 0; // exits with SIGPIPE still pending and blocked
}
