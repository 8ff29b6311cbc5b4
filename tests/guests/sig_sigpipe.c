// SIGPIPE in detail: the signal that a write to a pipe or stream socket without reader
// raises is thread-directed, comes with si_code SI_USER and the writer's own pid; it
// kills by default, is pending when blocked, and the write fails with EPIPE in every
// case but death; MSG_NOSIGNAL suppresses it; a zero-length write raises nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static volatile sig_atomic_t hits;
static siginfo_t last;
static volatile pthread_t handler_thread;
static void on_pipe(int sig, siginfo_t* info, void* uc)
{
    (void)sig;
    (void)uc;
    last = *info;
    handler_thread = pthread_self();
    hits++;
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_pipe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, NULL);
}

static int broken_pipe(void)
{
    int p[2];
    pipe(p);
    close(p[0]);
    return p[1];
}

static const char* res(long r, int e)
{
    static char buf[32];
    if (r < 0)
        snprintf(buf, sizeof buf, "-1 %s", strerrorname_np(e));
    else
        snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

static int pending_pipe(void)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, SIGPIPE);
}

static void mask(int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(how, &s, NULL);
}

static struct {
    long r;
    int e;
    int pending_here;
} tw;
static void* writer_thread(void* arg)
{
    int block = *(int*)arg;
    if (block)
        mask(SIG_BLOCK);
    else
        mask(SIG_UNBLOCK);
    int fd = broken_pipe();
    errno = 0;
    tw.r = write(fd, "x", 1);
    tw.e = errno;
    tw.pending_here = pending_pipe();
    if (block) { // take it back so it doesn't die with the thread unseen
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        int sig;
        sigwait(&s, &sig);
    }
    close(fd);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got

    // Default: death, for a pipe and for a socket.
    for (int sock = 0; sock <= 1; sock++) {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            signal(SIGPIPE, SIG_DFL);
            int fd;
            if (sock) {
                int sv[2];
                socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
                close(sv[1]);
                fd = sv[0];
            } else {
                fd = broken_pipe();
            }
            write(fd, "x", 1);
            _exit(1);
        }
        int status;
        waitpid(child, &status, 0);
        printf("default action, %s -> %s %s\n", sock ? "socket" : "pipe", WIFSIGNALED(status) ? "killed by" : "exited",
               WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "");
    }

    // A handler: runs once per failing write, with SI_USER and our pid.
    install();
    int fd = broken_pipe();
    errno = 0;
    long r = write(fd, "x", 1);
    printf("write with a handler: %s, handler ran %d, code SI_USER: %s, pid is ours: %s, uid is ours: %s\n",
           res(r, errno), (int)hits, tf(last.si_code == SI_USER), tf(last.si_pid == getpid()),
           tf(last.si_uid == getuid()));
    hits = 0;
    errno = 0;
    r = write(fd, "", 0);
    printf("zero-length write: %s, handler ran %d\n", res(r, errno), (int)hits);
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    errno = 0;
    r = writev(fd, iov, 2);
    printf("writev: %s, handler ran %d\n", res(r, errno), (int)hits);
    hits = 0;
    close(fd);

    // Sockets: send, MSG_NOSIGNAL, shutdown(SHUT_WR) of one's own side.
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    errno = 0;
    r = send(sv[0], "x", 1, 0);
    printf("send to a closed peer: %s, handler ran %d\n", res(r, errno), (int)hits);
    hits = 0;
    errno = 0;
    r = send(sv[0], "x", 1, MSG_NOSIGNAL);
    printf("send with MSG_NOSIGNAL: %s, handler ran %d\n", res(r, errno), (int)hits);
    close(sv[0]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    shutdown(sv[0], SHUT_WR);
    errno = 0;
    r = write(sv[0], "x", 1);
    printf("write after shutdown(SHUT_WR): %s, handler ran %d\n", res(r, errno), (int)hits);
    hits = 0;
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    close(sv[1]);
    errno = 0;
    r = send(sv[0], "x", 1, 0);
    printf("datagram send to a closed peer: %s, handler ran %d\n", res(r, errno), (int)hits);
    hits = 0;
    close(sv[0]);

    // Ignored.
    signal(SIGPIPE, SIG_IGN);
    fd = broken_pipe();
    errno = 0;
    r = write(fd, "x", 1);
    printf("ignored: %s, pending: %s\n", res(r, errno), tf(pending_pipe()));
    close(fd);

    // Blocked: pending, thread-directed, with SI_USER when taken.
    signal(SIGPIPE, SIG_DFL);
    mask(SIG_BLOCK);
    fd = broken_pipe();
    errno = 0;
    r = write(fd, "x", 1);
    int e = errno;
    r = write(fd, "x", 1); // a second one coalesces
    printf("blocked: %s, pending: %s\n", res(-1, e), tf(pending_pipe()));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    siginfo_t info;
    struct timespec zero = {0, 0};
    int sig = syscall(SYS_rt_sigtimedwait, &s, &info, &zero, 8);
    printf("  taken with sigtimedwait: %s code SI_USER: %s pid is ours: %s\n", sig > 0 ? sigabbrev_np(sig) : "nothing",
           tf(info.si_code == SI_USER), tf(info.si_pid == getpid()));
    sig = syscall(SYS_rt_sigtimedwait, &s, &info, &zero, 8);
    printf("  a second one: %s\n", sig > 0 ? sigabbrev_np(sig) : strerrorname_np(errno));
    close(fd);

    // Threads: the writing thread gets it, whatever the other threads' masks.
    install();
    pthread_t t;
    int block = 0;
    pthread_create(&t, NULL, writer_thread, &block); // main still blocks SIGPIPE
    pthread_join(t, NULL);
    printf("thread writes, main blocks SIGPIPE: %s, handler ran %d in the writer: %s\n", res(tw.r, tw.e), (int)hits,
           tf(pthread_equal(handler_thread, t)));
    hits = 0;
    mask(SIG_UNBLOCK);
    block = 1;
    pthread_create(&t, NULL, writer_thread, &block);
    pthread_join(t, NULL);
    printf("thread blocking SIGPIPE writes: %s, pending for it: %s, handler ran %d, pending in main: %s\n",
           res(tw.r, tw.e), tf(tw.pending_here), (int)hits, tf(pending_pipe()));
    return 0;
}
