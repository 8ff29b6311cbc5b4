// Connected AF_UNIX stream sockets from socketpair(2): data both ways, EOF, the
// broken pipe (EPIPE with SIGPIPE; MSG_NOSIGNAL, SIG_IGN and a blocked SIGPIPE give
// EPIPE alone), shutdown, poll flags, MSG_PEEK/WAITALL/DONTWAIT, backpressure,
// options and names, and bad input. Prints facts only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
static volatile sig_atomic_t sigpipes;
static void on_pipe(int sig) { (void)sig; sigpipes++; }

static void pair(int sv[2]) { socketpair(AF_UNIX, SOCK_STREAM, 0, sv); }

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void show_poll(const char* what, int fd)
{
    short r = revents(fd, POLLIN | POLLOUT | POLLRDHUP);
    printf("%s: IN %d OUT %d RDHUP %d HUP %d\n", what, !!(r & POLLIN), !!(r & POLLOUT), !!(r & POLLRDHUP),
           !!(r & POLLHUP));
}

static void test_data(void)
{
    int sv[2];
    printf("socketpair: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)));
    struct stat st;
    fstat(sv[0], &st);
    printf("fstat S_ISSOCK %d\n", S_ISSOCK(st.st_mode));
    show_poll("fresh", sv[0]);
    printf("write: %zd\n", write(sv[0], "hello", 5));
    show_poll("peer with data", sv[1]);
    char buf[64] = {0};
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_PEEK);
    printf("recv MSG_PEEK: %zd '%.5s'\n", n, buf);
    memset(buf, 0, sizeof buf);
    n = read(sv[1], buf, sizeof buf);
    printf("read: %zd '%s'\n", n, buf);
    printf("recv MSG_DONTWAIT empty: %s\n", err(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)));
    printf("send back: %zd\n", send(sv[1], "world!", 6, 0));
    memset(buf, 0, sizeof buf);
    n = recvfrom(sv[0], buf, sizeof buf, 0, NULL, NULL);
    printf("recvfrom: %zd '%s'\n", n, buf);
    // MSG_WAITALL gathers two writes that a child makes one after the other.
    pid_t p = fork();
    if (p == 0) {
        write(sv[1], "abc", 3);
        usleep(20000);
        write(sv[1], "def", 3);
        _exit(0);
    }
    memset(buf, 0, sizeof buf);
    n = recv(sv[0], buf, 6, MSG_WAITALL);
    printf("recv MSG_WAITALL: %zd '%s'\n", n, buf);
    waitpid(p, NULL, 0);
    // sendmsg/recvmsg with two iovecs.
    struct iovec out[2] = {{"io", 2}, {"vec", 3}};
    struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
    printf("sendmsg: %zd\n", sendmsg(sv[0], &m, 0));
    char a[3] = {0}, b[8] = {0};
    struct iovec in[2] = {{a, 2}, {b, sizeof b - 1}};
    struct msghdr r = {.msg_iov = in, .msg_iovlen = 2, .msg_flags = 12345};
    n = recvmsg(sv[1], &r, 0);
    printf("recvmsg: %zd '%s' '%s' flags %d namelen %u\n", n, a, b, r.msg_flags, (unsigned)r.msg_namelen);
    close(sv[0]);
    show_poll("peer closed", sv[1]);
    printf("read after peer closed: %zd\n", read(sv[1], buf, sizeof buf));
    close(sv[1]);
}

static void test_broken_pipe(void)
{
    int sv[2];
    char c = 'x';
    signal(SIGPIPE, on_pipe);
    pair(sv);
    close(sv[1]);
    sigpipes = 0;
    const char* e = err(write(sv[0], &c, 1));
    printf("write to closed peer: %s, SIGPIPE %d\n", e, (int)sigpipes);
    sigpipes = 0;
    e = err(send(sv[0], &c, 1, MSG_NOSIGNAL));
    printf("send MSG_NOSIGNAL: %s, SIGPIPE %d\n", e, (int)sigpipes);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigprocmask(SIG_BLOCK, &s, &old);
    printf("send with SIGPIPE blocked: %s\n", err(send(sv[0], &c, 1, 0)));
    sigset_t pend;
    sigpending(&pend);
    printf("SIGPIPE pending: %d\n", sigismember(&pend, SIGPIPE));
    signal(SIGPIPE, SIG_IGN); // discards the pending one
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("write with SIGPIPE ignored: %s\n", err(write(sv[0], &c, 1)));
    close(sv[0]);
    // Default action: the writer dies of SIGPIPE.
    signal(SIGPIPE, SIG_DFL);
    pair(sv);
    close(sv[1]);
    pid_t p = fork();
    if (p == 0) {
        write(sv[0], &c, 1);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("child killed by SIGPIPE: %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    close(sv[0]);
}

static void test_shutdown(void)
{
    int sv[2];
    char buf[16];
    signal(SIGPIPE, SIG_IGN);
    pair(sv);
    write(sv[1], "tail", 4);
    printf("shutdown(SHUT_WR): %s\n", err(shutdown(sv[1], SHUT_WR)));
    show_poll("reader after peer SHUT_WR", sv[0]);
    show_poll("writer after its SHUT_WR", sv[1]);
    ssize_t first = read(sv[0], buf, sizeof buf);
    printf("read drains: %zd, then EOF: %zd\n", first, read(sv[0], buf, sizeof buf));
    printf("write after own SHUT_WR: %s\n", err(write(sv[1], "x", 1)));
    ssize_t w = write(sv[0], "back", 4);
    printf("other direction still works: %zd %zd\n", w, read(sv[1], buf, sizeof buf));
    printf("shutdown(SHUT_RD) on the other: %s\n", err(shutdown(sv[0], SHUT_RD)));
    printf("its peer's write now: %s\n", err(write(sv[1], "x", 1)));
    printf("read after SHUT_RD: %zd\n", read(sv[0], buf, sizeof buf));
    show_poll("after both shut", sv[0]);
    printf("shutdown bad how: %s\n", err(shutdown(sv[0], 7)));
    close(sv[0]);
    close(sv[1]);
}

static void test_backpressure(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    printf("SOCK_NONBLOCK %d SOCK_CLOEXEC %d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
           !!(fcntl(sv[0], F_GETFD) & FD_CLOEXEC));
    static char chunk[4096];
    long total = 0;
    ssize_t n;
    while ((n = write(sv[0], chunk, sizeof chunk)) > 0)
        total += n;
    printf("filled: %s after more than 64 KiB: %d\n", err(n), total > 65536);
    printf("POLLOUT when full: %d\n", !!(revents(sv[0], POLLOUT) & POLLOUT));
    long drained = 0;
    while ((n = read(sv[1], chunk, sizeof chunk)) > 0)
        drained += n;
    printf("drained all: %d, POLLOUT again: %d\n", drained == total, !!(revents(sv[0], POLLOUT) & POLLOUT));
    close(sv[0]);
    close(sv[1]);
}

static void test_options_and_names(void)
{
    int sv[2], v;
    socklen_t len = sizeof v;
    pair(sv);
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len);
    printf("SO_TYPE stream %d len %u\n", v == SOCK_STREAM, (unsigned)len);
    len = sizeof v;
    getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &len);
    printf("SO_DOMAIN unix %d\n", v == AF_UNIX);
    len = sizeof v;
    getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len);
    printf("SO_ERROR %d\n", v);
    struct ucred cred;
    len = sizeof cred;
    getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cred, &len);
    printf("SO_PEERCRED pid is ours %d uid %d\n", cred.pid == getpid(), cred.uid == getuid());
    v = 100000;
    printf("SO_SNDBUF set: %s\n", err(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v)));
    len = sizeof v;
    getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len);
    printf("SO_SNDBUF doubled: %d\n", v == 200000);
    printf("unknown option: %s\n", err(getsockopt(sv[0], SOL_SOCKET, 9999, &v, &len)));
    struct sockaddr_un sa;
    len = sizeof sa;
    memset(&sa, 0xff, sizeof sa);
    const char* e = err(getsockname(sv[0], (struct sockaddr*)&sa, &len));
    printf("getsockname: %s len %u family unix %d\n", e, (unsigned)len, sa.sun_family == AF_UNIX);
    len = sizeof sa;
    e = err(getpeername(sv[0], (struct sockaddr*)&sa, &len));
    printf("getpeername: %s len %u\n", e, (unsigned)len);
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    printf("sendto with an address: %s\n", err(sendto(sv[0], "x", 1, 0, (struct sockaddr*)&to, sizeof to)));
    close(sv[0]);
    close(sv[1]);
}

static void test_messages(int type, const char* name)
{
    int sv[2];
    char buf[64];
    signal(SIGPIPE, on_pipe);
    printf("%s socketpair: %s\n", name, err(socketpair(AF_UNIX, type, 0, sv)));
    int v;
    socklen_t len = sizeof v;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len);
    printf("%s SO_TYPE right %d\n", name, v == type);
    send(sv[0], "one", 3, 0);
    send(sv[0], "second", 6, 0);
    send(sv[0], "", 0, 0);
    ssize_t n = recv(sv[1], buf, sizeof buf, 0);
    printf("%s boundaries: first %zd\n", name, n);
    n = recv(sv[1], buf, 2, MSG_TRUNC);
    printf("%s truncated with MSG_TRUNC: %zd '%.2s'\n", name, n, buf);
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("%s empty message: %zd\n", name, n);
    send(sv[0], "abcdef", 6, 0);
    char small[3] = {0};
    struct iovec iov = {small, 2};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    n = recvmsg(sv[1], &m, 0);
    printf("%s recvmsg cut: %zd MSG_TRUNC %d\n", name, n, !!(m.msg_flags & MSG_TRUNC));
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("%s rest discarded: %s\n", name, err(n));
    static char big[300000];
    printf("%s oversized: %s\n", name, err(send(sv[0], big, sizeof big, MSG_DONTWAIT)));
    close(sv[1]);
    sigpipes = 0;
    const char* e = err(send(sv[0], "x", 1, 0));
    printf("%s send to a closed peer: %s SIGPIPE %d\n", name, e, (int)sigpipes);
    e = err(send(sv[0], "x", 1, 0));
    printf("%s again: %s\n", name, e);
    if (type == SOCK_SEQPACKET)
        printf("%s read after peer closed: %zd\n", name, read(sv[0], buf, sizeof buf));
    close(sv[0]);
    signal(SIGPIPE, SIG_DFL);
}

static void test_bad_input(void)
{
    int sv[2];
    printf("AF_INET socketpair: %s\n", err(socketpair(AF_INET, SOCK_STREAM, 0, sv)));
    printf("unknown family: %s\n", err(socketpair(12345, SOCK_STREAM, 0, sv)));
    printf("bad protocol: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 7, sv)));
    printf("bad type flags: %s\n", err(socketpair(AF_UNIX, 77, 0, sv)));
    printf("unknown type: %s\n", err(socketpair(AF_UNIX, 13, 0, sv)));
    int* bad = (int*)8;
    __asm__("" : "+r"(bad)); // keep the compiler from judging the pointer
    printf("bad pointer: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 0, bad)));
    int p[2];
    pipe(p);
    char c;
    printf("recv on a pipe: %s\n", err(recv(p[0], &c, 1, MSG_DONTWAIT)));
    printf("shutdown on a pipe: %s\n", err(shutdown(p[0], SHUT_RD)));
    printf("getsockopt on a pipe: %s\n", err(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &c, &(socklen_t){1})));
    printf("send on a bad fd: %s\n", err(send(999, &c, 1, 0)));
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_data();
    test_broken_pipe();
    test_shutdown();
    test_backpressure();
    test_options_and_names();
    test_messages(SOCK_DGRAM, "dgram");
    test_messages(SOCK_SEQPACKET, "seqpacket");
    test_bad_input();
    return 0;
}
