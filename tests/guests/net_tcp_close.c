// The broken pipe on TCP over 127.0.0.1, exactly. The peer goes away in one of three
// ways: a clean close (FIN; our side is in CLOSE_WAIT and our first write draws an RST),
// a close with unread data in its receive queue (RST at once), or a close with SO_LINGER
// {1, 0} (RST at once). Then three writes, under each SIGPIPE arrangement: default
// action (the writer dies), a handler, SIG_IGN, blocked (pending afterwards), and
// send(MSG_NOSIGNAL). Before each write: poll's revents; after it: the result and the
// signals seen. Then recv and SO_ERROR. Two more rows show that reading first (recv or
// SO_ERROR) consumes the pending error. Every arrival of a FIN or RST is awaited with
// poll before the next step. Prints facts only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum peer_close { CLOSE_FIN, CLOSE_UNREAD, CLOSE_LINGER0 };
static const char* const close_names[] = {"FIN (clean close)", "RST (close with unread data)",
                                          "RST (SO_LINGER {1,0})"};
enum mode { M_DEFAULT, M_HANDLER, M_IGNORE, M_BLOCKED, M_NOSIGNAL, M_RECV_EACH, M_SOERROR_EACH };
static const char* const mode_names[] = {"SIGPIPE default",
                                         "SIGPIPE handled",
                                         "SIGPIPE ignored",
                                         "SIGPIPE blocked",
                                         "send MSG_NOSIGNAL",
                                         "recv before each write, SIGPIPE handled",
                                         "SO_ERROR before each write, SIGPIPE handled"};

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

// Waits (up to 2 s) until fd reports one of the events, then a little longer so that
// whatever the same packet triggers has settled too.
static void await(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    poll(&p, 1, 2000);
    usleep(20000);
}

static int so_error(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len);
    return v;
}

// A connected pair over 127.0.0.1: *client is ours, *server the accepted peer.
static void connect_pair(int* client, int* server)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr*)&a, sizeof a) || listen(l, 4) || getsockname(l, (struct sockaddr*)&a, &len)) {
        perror("listener");
        exit(1);
    }
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*client, (struct sockaddr*)&a, sizeof a)) {
        perror("connect");
        exit(1);
    }
    *server = accept(l, NULL, NULL);
    close(l);
}

static void peer_goes_away(int client, int server, enum peer_close how)
{
    if (how == CLOSE_UNREAD) {
        send(client, "unread", 6, 0);
        await(server, POLLIN);
    } else if (how == CLOSE_LINGER0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(server, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(server);
    await(client, POLLRDHUP);
}

static void consume_pending_sigpipe(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
}

// The signals that the last write raised, by mode.
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

// Runs in a child of its own; tells the parent through `progress` which write it is at.
static void scenario(enum peer_close how, enum mode m, int progress)
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
    connect_pair(&c, &s);
    peer_goes_away(c, s, how);
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
        if (r > 0) // the data reaches a closed socket, which answers with an RST
            await(c, 0);
    }
    printf("  after: poll %s\n", events_str(revents(c)));
    errno = 0;
    long r = recv(c, buf, sizeof buf, MSG_DONTWAIT);
    printf("  recv: %s", res(r, errno));
    errno = 0;
    r = recv(c, buf, sizeof buf, MSG_DONTWAIT);
    printf(", recv again: %s", res(r, errno));
    int e = so_error(c);
    printf(", SO_ERROR: %s\n", e ? strerrorname_np(e) : "0");
    close(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0); // the child's lines come out before it dies
    for (int how = CLOSE_FIN; how <= CLOSE_LINGER0; how++) {
        for (int m = M_DEFAULT; m <= M_SOERROR_EACH; m++) {
            printf("%s / %s\n", close_names[how], mode_names[m]);
            int progress[2];
            pipe(progress);
            pid_t child = fork();
            if (child == 0) {
                close(progress[0]);
                scenario(how, m, progress[1]);
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
    return 0;
}
