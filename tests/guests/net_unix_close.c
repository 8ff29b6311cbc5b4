// The broken pipe on AF_UNIX sockets, with pipes for reference: the same matrix as
// net_tcp_close. The peer goes away by a clean close, a close with unread data in its
// receive queue, or a close with SO_LINGER {1, 0}; then three writes under each SIGPIPE
// arrangement (default action, handler, SIG_IGN, blocked, send(MSG_NOSIGNAL), reading
// or SO_ERROR before each write). Transports: stream socketpair, stream over a pathname
// listener, seqpacket socketpair, dgram socketpair, a dgram socket connected to a
// pathname peer, and a pipe. Everything here is synchronous in Linux, so no waiting is
// needed. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum transport { T_STREAM_PAIR, T_STREAM_PATH, T_SEQPACKET_PAIR, T_DGRAM_PAIR, T_DGRAM_PATH, T_PIPE, T_COUNT };
static const char* const transport_names[] = {"stream socketpair", "stream via pathname", "seqpacket socketpair",
                                              "dgram socketpair",  "dgram to pathname",   "pipe"};
enum peer_close { CLOSE_CLEAN, CLOSE_UNREAD, CLOSE_LINGER0 };
static const char* const close_names[] = {"clean close", "close with unread data", "close with SO_LINGER {1,0}"};
enum mode { M_DEFAULT, M_HANDLER, M_IGNORE, M_BLOCKED, M_NOSIGNAL, M_RECV_EACH, M_SOERROR_EACH };
static const char* const mode_names[] = {"SIGPIPE default",
                                         "SIGPIPE handled",
                                         "SIGPIPE ignored",
                                         "SIGPIPE blocked",
                                         "send MSG_NOSIGNAL",
                                         "recv before each write, SIGPIPE handled",
                                         "SO_ERROR before each write, SIGPIPE handled"};

static char dir[64];

static volatile sig_atomic_t hits;
static void on_pipe(int sig)
{
    (void)sig;
    hits++;
}

static const char* res(long r, int e)
{
    static char buf[4][32];
    static int i;
    char* b = buf[i++ % 4];
    if (r < 0)
        snprintf(b, 32, "%s", strerrorname_np(e));
    else
        snprintf(b, 32, "%ld", r);
    return b;
}

static const char* events_str(short r)
{
    static char bufs[4][64];
    static int i;
    char* buf = bufs[i++ % 4];
    buf[0] = 0;
    static const struct {
        short bit;
        const char* name;
    } names[] = {{POLLIN, "IN"}, {POLLOUT, "OUT"}, {POLLERR, "ERR"}, {POLLHUP, "HUP"}, {POLLRDHUP, "RDHUP"}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (r & names[k].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, names[k].name);
        }
    return buf[0] ? buf : "0";
}

static short revents(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
    return poll(&p, 1, 0) == 1 ? p.revents & (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP) : 0;
}

static int so_error(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len);
    return v;
}

// *ours writes, *peer is the end that goes away.
static void make_pair(enum transport t, int* ours, int* peer)
{
    int sv[2];
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir);
    switch (t) {
    case T_STREAM_PAIR:
    case T_SEQPACKET_PAIR:
    case T_DGRAM_PAIR:
        socketpair(AF_UNIX, t == T_STREAM_PAIR ? SOCK_STREAM : t == T_SEQPACKET_PAIR ? SOCK_SEQPACKET : SOCK_DGRAM, 0, sv);
        *ours = sv[0];
        *peer = sv[1];
        return;
    case T_STREAM_PATH: {
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bind(l, (struct sockaddr*)&a, sizeof a) || listen(l, 1)) {
            perror("listener");
            exit(1);
        }
        *ours = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(*ours, (struct sockaddr*)&a, sizeof a);
        *peer = accept(l, NULL, NULL);
        close(l);
        unlink(a.sun_path);
        return;
    }
    case T_DGRAM_PATH:
        *peer = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (bind(*peer, (struct sockaddr*)&a, sizeof a)) {
            perror("bind");
            exit(1);
        }
        *ours = socket(AF_UNIX, SOCK_DGRAM, 0);
        connect(*ours, (struct sockaddr*)&a, sizeof a);
        unlink(a.sun_path);
        return;
    case T_PIPE:
        pipe(sv);
        *ours = sv[1];
        *peer = sv[0];
        return;
    default:
        exit(1);
    }
}

static void consume_pending_sigpipe(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
}

static const char* signals_seen(enum mode m)
{
    static char buf[32];
    if (m == M_IGNORE)
        return "(ignored)";
    if (m == M_BLOCKED) {
        sigset_t p;
        sigpending(&p);
        int pending = sigismember(&p, SIGPIPE);
        consume_pending_sigpipe();
        return pending ? "SIGPIPE pending" : "none pending";
    }
    snprintf(buf, sizeof buf, "handler ran %d", (int)hits);
    hits = 0;
    return buf;
}

static void scenario(enum transport t, enum peer_close how, enum mode m, int progress)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (m == M_DEFAULT || m == M_BLOCKED) ? SIG_DFL : m == M_IGNORE ? SIG_IGN : on_pipe;
    sigaction(SIGPIPE, &sa, NULL);
    if (m == M_BLOCKED) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        sigprocmask(SIG_BLOCK, &s, NULL);
    }
    int c, s;
    make_pair(t, &c, &s);
    if (how == CLOSE_UNREAD) {
        printf("  unread data written: %s\n", res(write(c, "unread", 6), errno));
    } else if (how == CLOSE_LINGER0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(s);
    char buf[64];
    for (char w = 1; w <= 3; w++) {
        printf("  before write %d: poll %s\n", w, events_str(revents(c)));
        if (m == M_RECV_EACH) {
            errno = 0;
            long r = recv(c, buf, sizeof buf, MSG_DONTWAIT);
            printf("  recv: %s, then poll %s\n", res(r, errno), events_str(revents(c)));
        } else if (m == M_SOERROR_EACH) {
            int e = so_error(c);
            printf("  SO_ERROR: %s, then poll %s\n", e ? strerrorname_np(e) : "0", events_str(revents(c)));
        }
        write(progress, &w, 1);
        errno = 0;
        long r = m == M_NOSIGNAL ? send(c, "hello", 5, MSG_NOSIGNAL) : write(c, "hello", 5);
        int e = errno;
        printf("  write %d: %s, %s\n", w, res(r, e), signals_seen(m));
    }
    printf("  after: poll %s\n", events_str(revents(c)));
    if (t != T_PIPE) {
        errno = 0;
        long r = recv(c, buf, sizeof buf, MSG_DONTWAIT);
        printf("  recv: %s", res(r, errno));
        errno = 0;
        r = recv(c, buf, sizeof buf, MSG_DONTWAIT);
        printf(", recv again: %s", res(r, errno));
        int e = so_error(c);
        printf(", SO_ERROR: %s\n", e ? strerrorname_np(e) : "0");
    }
    close(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(dir, "/tmp/net_unix_close.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int t = 0; t < T_COUNT; t++) {
        int is_socket = t != T_PIPE;
        for (int how = CLOSE_CLEAN; how <= CLOSE_LINGER0; how++) {
            if (how == CLOSE_LINGER0 && !is_socket)
                continue;
            for (int m = M_DEFAULT; m <= M_SOERROR_EACH; m++) {
                if (!is_socket && (m == M_NOSIGNAL || m == M_RECV_EACH || m == M_SOERROR_EACH))
                    continue;
                printf("%s, %s / %s\n", transport_names[t], close_names[how], mode_names[m]);
                int progress[2];
                pipe(progress);
                pid_t child = fork();
                if (child == 0) {
                    close(progress[0]);
                    scenario(t, how, m, progress[1]);
                    _exit(0);
                }
                close(progress[1]);
                int status;
                waitpid(child, &status, 0);
                char w = 0, c;
                while (read(progress[0], &c, 1) == 1)
                    w = c;
                close(progress[0]);
                if (WIFSIGNALED(status))
                    printf("  killed by SIG%s at write %d\n", sigabbrev_np(WTERMSIG(status)), w);
                else if (WEXITSTATUS(status) != 0)
                    printf("  child exited %d\n", WEXITSTATUS(status));
            }
        }
    }
    rmdir(dir);
    return 0;
}
