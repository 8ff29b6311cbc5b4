// AF_UNIX sockets with names, in a fresh directory under /tmp: pathname and abstract
// binds and their errors, connect's errors, listen/accept/accept4 and the flags they
// give, getsockname/getpeername on both ends, the listen backlog (backlog + 1 queued,
// then EAGAIN or a blocking wait until accept makes room), autobind, SOCK_DGRAM between
// named and unnamed sockets, and SOCK_SEQPACKET over a listener. Paths are printed
// relative to the directory, lengths relative to offsetof(sun_path). Prints facts only.
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char abstract_tag[16]; // the directory's random suffix: keeps abstract names unique
static const size_t base = offsetof(struct sockaddr_un, sun_path);

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
static const char* tf(int b) { return b ? "true" : "false"; }

static socklen_t path_addr(struct sockaddr_un* a, const char* name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
    return sizeof *a;
}

// An abstract name: "\0" "net_unix_named." tag "." name, not NUL-terminated.
static socklen_t abstract_addr(struct sockaddr_un* a, const char* name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "net_unix_named.%s.%s", abstract_tag, name);
    return base + 1 + n;
}

// How a returned address reads: "unnamed", "$DIR/name" or "abstract", with its length
// relative to the expected one.
static const char* show(const struct sockaddr_un* a, socklen_t len)
{
    static char buf[2][200];
    static int i;
    char* b = buf[i++ % 2];
    if (len == 0) {
        snprintf(b, 200, "no address (len 0)");
    } else if (len == sizeof(sa_family_t)) {
        snprintf(b, 200, "unnamed (len sizeof(sa_family_t))");
    } else if (len <= base) {
        snprintf(b, 200, "short len %u", (unsigned)len);
    } else if (a->sun_path[0] == 0) {
        char name[120];
        size_t n = len - base - 1;
        memcpy(name, a->sun_path + 1, n);
        name[n] = 0;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "net_unix_named.%s.", abstract_tag);
        int ours = strncmp(name, prefix, strlen(prefix)) == 0;
        snprintf(b, 200, "abstract '\\0' + %s%s (len base+1+%zu)", ours ? "<tag>." : "", ours ? name + strlen(prefix) : name,
                 n);
    } else {
        size_t dl = strlen(dir);
        size_t pl = strnlen(a->sun_path, len - base);
        const char* rel = strncmp(a->sun_path, dir, dl) == 0 ? a->sun_path + dl : a->sun_path;
        snprintf(b, 200, "$DIR%s (len base+strlen%+d)", rel, (int)len - (int)(base + pl));
    }
    return b;
}

static void names(const char* what, int fd)
{
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    const char* e = err(getsockname(fd, (struct sockaddr*)&a, &len));
    printf("  %s getsockname: %s %s\n", what, e, e[0] == 'o' ? show(&a, len) : "");
    len = sizeof a;
    memset(&a, 0, sizeof a);
    e = err(getpeername(fd, (struct sockaddr*)&a, &len));
    printf("  %s getpeername: %s %s\n", what, e, e[0] == 'o' ? show(&a, len) : "");
}

static void flags(const char* what, int fd)
{
    printf("  %s: O_NONBLOCK %s FD_CLOEXEC %s\n", what, tf(fcntl(fd, F_GETFL) & O_NONBLOCK),
           tf(fcntl(fd, F_GETFD) & FD_CLOEXEC));
}

static void test_pathname_stream(void)
{
    printf("pathname stream sockets\n");
    struct sockaddr_un a, b;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t alen = path_addr(&a, "srv");
    printf("  bind: %s\n", err(bind(s, (struct sockaddr*)&a, alen)));
    struct stat st;
    const char* e = err(stat(a.sun_path, &st));
    printf("  stat: %s S_ISSOCK %s mode %04o size %lld\n", e, tf(S_ISSOCK(st.st_mode)),
           st.st_mode & 07777, (long long)st.st_size);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  second bind to the same path: %s\n", err(bind(s2, (struct sockaddr*)&a, alen)));
    path_addr(&b, "other");
    printf("  bind of a bound socket: %s\n", err(bind(s, (struct sockaddr*)&b, sizeof b)));
    printf("  after that failed bind, 'other' exists: %s\n", tf(access(b.sun_path, F_OK) == 0));
    printf("  getsockname of the bound socket: %s\n", ({
               struct sockaddr_un r;
               socklen_t rl = sizeof r;
               getsockname(s, (struct sockaddr*)&r, &rl);
               show(&r, rl);
           }));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    path_addr(&b, "nonexistent");
    printf("  connect to a nonexistent path: %s\n", err(connect(c, (struct sockaddr*)&b, sizeof b)));
    path_addr(&b, "file");
    close(open(b.sun_path, O_CREAT | O_WRONLY, 0644));
    printf("  connect to a regular file: %s\n", err(connect(c, (struct sockaddr*)&b, sizeof b)));
    path_addr(&b, "subdir");
    mkdir(b.sun_path, 0755);
    printf("  connect to a directory: %s\n", err(connect(c, (struct sockaddr*)&b, sizeof b)));
    path_addr(&b, "file/below");
    printf("  connect below a regular file: %s\n", err(connect(c, (struct sockaddr*)&b, sizeof b)));
    printf("  connect to a bound, not listening socket: %s\n", err(connect(c, (struct sockaddr*)&a, alen)));
    printf("  accept on a not listening socket: %s\n", err(accept(s, NULL, NULL)));
    printf("  listen: %s\n", err(listen(s, 5)));
    printf("  listen again (new backlog): %s\n", err(listen(s, 8)));
    printf("  SO_ACCEPTCONN: %d\n", ({
               int v = -1;
               socklen_t l = sizeof v;
               getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
               v;
           }));
    printf("  connect to the listener: %s\n", err(connect(c, (struct sockaddr*)&a, alen)));
    printf("  connect again: %s\n", err(connect(c, (struct sockaddr*)&a, alen)));
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    memset(&peer, 0x55, sizeof peer);
    int acc = accept(s, (struct sockaddr*)&peer, &plen);
    printf("  accept: %s, address %s\n", err(acc), show(&peer, plen));
    flags("accepted", acc);
    names("client", c);
    names("accepted", acc);
    names("listener", s);
    printf("  connect from the listener: %s\n", err(connect(s, (struct sockaddr*)&a, alen)));
    char buf[16] = {0};
    write(c, "ping", 4);
    printf("  data: %zd '%.4s'\n", read(acc, buf, sizeof buf), buf);
    close(c);
    close(acc);

    // accept4's flags; the listener's own O_NONBLOCK is not inherited.
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&a, alen);
    acc = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("  accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): %s\n", err(acc));
    flags("accept4ed", acc);
    close(acc);
    close(c);
    printf("  accept4 with a bad flag: %s\n", err(accept4(s, NULL, NULL, 0x40)));
    fcntl(s, F_SETFL, O_NONBLOCK);
    printf("  nonblocking accept on an empty queue: %s\n", err(accept(s, NULL, NULL)));
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&a, alen);
    acc = accept(s, NULL, NULL);
    flags("accepted from a nonblocking listener", acc);
    fcntl(s, F_SETFL, 0);

    // Unlinking the node: connections live on, new ones find nothing.
    printf("  unlink the listener's node: %s\n", err(unlink(a.sun_path)));
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect after unlink: %s\n", err(connect(c2, (struct sockaddr*)&a, alen)));
    write(acc, "still", 5);
    memset(buf, 0, sizeof buf);
    printf("  old connection: %zd '%.5s'\n", read(c, buf, sizeof buf), buf);
    printf("  getsockname after unlink: %s\n", ({
               struct sockaddr_un r;
               socklen_t rl = sizeof r;
               getsockname(s, (struct sockaddr*)&r, &rl);
               show(&r, rl);
           }));
    printf("  bind a new socket to the freed path: %s\n", err(bind(s2, (struct sockaddr*)&a, alen)));
    close(s2); // the node stays behind
    printf("  node of a closed socket remains: %s\n", tf(access(a.sun_path, F_OK) == 0));
    printf("  connect to it: %s\n", err(connect(c2, (struct sockaddr*)&a, alen)));
    s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  bind to it: %s\n", err(bind(s2, (struct sockaddr*)&a, alen)));
    unlink(a.sun_path);
    close(s2);
    close(c2);
    close(c);
    close(acc);
    close(s);
    path_addr(&b, "file");
    unlink(b.sun_path);
    path_addr(&b, "subdir");
    rmdir(b.sun_path);
}

static struct sockaddr_un backlog_addr;
static volatile int blocked_connect_done;
static int blocked_connect_result = -2;
static void* blocking_connect(void* arg)
{
    int fd = *(int*)arg;
    blocked_connect_result = connect(fd, (struct sockaddr*)&backlog_addr, sizeof backlog_addr) ? errno : 0;
    __atomic_store_n(&blocked_connect_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_backlog(void)
{
    printf("listen backlog\n");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    path_addr(&backlog_addr, "backlog");
    bind(s, (struct sockaddr*)&backlog_addr, sizeof backlog_addr);
    listen(s, 1);
    int clients[16], n = 0;
    const char* last = "";
    for (int i = 0; i < 16; i++) {
        clients[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(clients[i], (struct sockaddr*)&backlog_addr, sizeof backlog_addr) == 0) {
            n++;
        } else {
            last = strerrorname_np(errno);
            close(clients[i]);
            break;
        }
    }
    printf("  listen(fd, 1): %d nonblocking connects succeeded, then %s\n", n, last);
    struct pollfd p = {.fd = s, .events = POLLIN};
    printf("  listener poll: %s\n", poll(&p, 1, 0) == 1 && (p.revents & POLLIN) ? "POLLIN" : "nothing");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    pthread_t t;
    pthread_create(&t, NULL, blocking_connect, &c);
    usleep(100000);
    printf("  a blocking connect waits: %s\n", tf(!__atomic_load_n(&blocked_connect_done, __ATOMIC_SEQ_CST)));
    int a = accept(s, NULL, NULL);
    pthread_join(t, NULL);
    printf("  after one accept it completes: %s\n", blocked_connect_result ? strerrorname_np(blocked_connect_result) : "ok");
    // Everything queued can be accepted, then the queue is empty.
    int accepted = 1;
    fcntl(s, F_SETFL, O_NONBLOCK);
    int fd;
    while ((fd = accept(s, NULL, NULL)) >= 0) {
        accepted++;
        close(fd);
    }
    printf("  accepted in all: %d, then %s\n", accepted, strerrorname_np(errno));
    // A client whose connection was queued but never accepted sees EOF or ECONNRESET
    // once the listener goes.
    int q = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(q, (struct sockaddr*)&backlog_addr, sizeof backlog_addr);
    close(s);
    char ch;
    errno = 0;
    long r = read(q, &ch, 1);
    printf("  queued client after the listener closed: read %s\n", r < 0 ? strerrorname_np(errno) : r == 0 ? "EOF" : "data");
    close(q);
    close(a);
    close(c);
    for (int i = 0; i < n; i++)
        close(clients[i]);
    unlink(backlog_addr.sun_path);
}

static int is_hex(const char* s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

static void test_abstract(void)
{
    printf("abstract names\n");
    struct sockaddr_un a, r;
    socklen_t alen = abstract_addr(&a, "srv");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  bind: %s\n", err(bind(s, (struct sockaddr*)&a, alen)));
    socklen_t rl = sizeof r;
    getsockname(s, (struct sockaddr*)&r, &rl);
    printf("  getsockname: %s, same bytes: %s\n", show(&r, rl), tf(rl == alen && memcmp(&r, &a, alen) == 0));
    printf("  as hex:");
    for (socklen_t i = base; i < rl; i++)
        if (i < base + 1 + 15 || i >= base + 1 + 15 + strlen(abstract_tag))
            printf(" %02x", (unsigned char)((char*)&r)[i]);
        else if (i == base + 1 + 15)
            printf(" <tag>");
    printf("\n");
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  duplicate bind: %s\n", err(bind(s2, (struct sockaddr*)&a, alen)));
    printf("  a longer name with the same prefix: %s\n", err(bind(s2, (struct sockaddr*)&a, alen + 1)));
    close(s2);
    listen(s, 4);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect: %s\n", err(connect(c, (struct sockaddr*)&a, alen)));
    int acc = accept(s, NULL, NULL);
    names("client", c);
    names("accepted", acc);
    close(c);
    close(acc);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect with one byte less: %s\n", err(connect(c, (struct sockaddr*)&a, alen - 1)));
    close(c);
    close(s);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect after the owner closed: %s\n", err(connect(c, (struct sockaddr*)&a, alen)));
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  the name is free again: %s\n", err(bind(s, (struct sockaddr*)&a, alen)));
    close(s);
    close(c);

    // Autobind: an address of only the family.
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un fam = {.sun_family = AF_UNIX};
    printf("autobind: %s\n", err(bind(s, (struct sockaddr*)&fam, sizeof(sa_family_t))));
    rl = sizeof r;
    memset(&r, 0, sizeof r);
    getsockname(s, (struct sockaddr*)&r, &rl);
    printf("  length base+%d, leading NUL %s, 5 lowercase hex digits %s\n", (int)(rl - base), tf(r.sun_path[0] == 0),
           tf(rl == base + 6 && is_hex(r.sun_path + 1, 5)));
    printf("  bind again: %s\n", err(bind(s, (struct sockaddr*)&a, alen)));
    printf("  autobind again: %s\n", err(bind(s, (struct sockaddr*)&fam, sizeof(sa_family_t))));
    listen(s, 1);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect to the autobound name: %s\n", err(connect(c, (struct sockaddr*)&r, rl)));
    close(c);
    close(s);
    // A socket that listens without a name gets one.
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  listen without bind: %s\n", err(listen(s, 1)));
    rl = sizeof r;
    getsockname(s, (struct sockaddr*)&r, &rl);
    printf("  then its name: %s\n", show(&r, rl));
    close(s);
}

static void recv_from(const char* what, int fd, size_t bufsize, int flags)
{
    char buf[200];
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    memset(&from, 0, sizeof from);
    errno = 0;
    long n = recvfrom(fd, buf, bufsize, flags | MSG_DONTWAIT, (struct sockaddr*)&from, &fl);
    if (n < 0)
        printf("  %s: %s\n", what, strerrorname_np(errno));
    else
        printf("  %s: %ld bytes from %s\n", what, n, show(&from, fl));
}

static void test_dgram(void)
{
    printf("pathname datagram sockets\n");
    struct sockaddr_un a1, a2, x;
    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0), d3 = socket(AF_UNIX, SOCK_DGRAM, 0);
    socklen_t l1 = path_addr(&a1, "d1"), l2 = path_addr(&a2, "d2");
    printf("  bind d1: %s\n", err(bind(d1, (struct sockaddr*)&a1, l1)));
    printf("  bind d2: %s\n", err(bind(d2, (struct sockaddr*)&a2, l2)));
    printf("  sendto d1 from d2: %s\n", err(sendto(d2, "from-d2", 7, 0, (struct sockaddr*)&a1, l1)));
    recv_from("recvfrom", d1, 200, 0);
    printf("  sendto d1 from unnamed d3: %s\n", err(sendto(d3, "anon", 4, 0, (struct sockaddr*)&a1, l1)));
    recv_from("recvfrom", d1, 200, 0);
    names("unnamed sender", d3);
    static char big[1000];
    sendto(d2, big, 3, 0, (struct sockaddr*)&a1, l1);
    sendto(d2, big, 100, 0, (struct sockaddr*)&a1, l1);
    sendto(d2, big, 0, 0, (struct sockaddr*)&a1, l1);
    sendto(d2, big, 1, 0, (struct sockaddr*)&a1, l1);
    sendto(d2, big, 100, 0, (struct sockaddr*)&a1, l1);
    sendto(d2, big, 100, 0, (struct sockaddr*)&a1, l1);
    recv_from("1st", d1, 200, 0);
    recv_from("2nd", d1, 200, 0);
    recv_from("3rd (empty)", d1, 200, 0);
    recv_from("4th", d1, 200, 0);
    recv_from("5th into 10 bytes with MSG_TRUNC", d1, 10, MSG_TRUNC);
    char small[10];
    struct iovec iov = {small, sizeof small};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    long n = recvmsg(d1, &m, MSG_DONTWAIT);
    printf("  6th by recvmsg into 10 bytes: %ld MSG_TRUNC %s\n", n, tf(m.msg_flags & MSG_TRUNC));
    printf("  nothing left: %s\n", err(recv(d1, small, sizeof small, MSG_DONTWAIT)));
    path_addr(&x, "nobody");
    printf("  sendto a nonexistent path: %s\n", err(sendto(d2, "x", 1, 0, (struct sockaddr*)&x, sizeof x)));
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t lx = path_addr(&x, "stream");
    bind(st, (struct sockaddr*)&x, lx);
    printf("  sendto a stream socket's path: %s\n", err(sendto(d2, "x", 1, 0, (struct sockaddr*)&x, lx)));
    printf("  connect a datagram socket to it: %s\n", err(connect(d2, (struct sockaddr*)&x, lx)));
    printf("  connect a stream socket to a datagram path: %s\n", ({
               int c = socket(AF_UNIX, SOCK_STREAM, 0);
               const char* e = err(connect(c, (struct sockaddr*)&a1, l1));
               close(c);
               e;
           }));
    printf("  send without an address: %s\n", err(send(d3, "x", 1, 0)));
    printf("  connect d3 to d1: %s\n", err(connect(d3, (struct sockaddr*)&a1, l1)));
    names("connected d3", d3);
    printf("  send: %s\n", err(send(d3, "conn", 4, 0)));
    recv_from("d1 recvfrom", d1, 200, 0);
    printf("  connect d1 to d2: %s\n", err(connect(d1, (struct sockaddr*)&a2, l2)));
    printf("  d3 sends to d1, connected elsewhere: %s\n", err(send(d3, "x", 1, 0)));
    printf("  d2 sends to d1 (its peer): %s\n", err(sendto(d2, "peer", 4, 0, (struct sockaddr*)&a1, l1)));
    recv_from("d1 recvfrom", d1, 200, 0);
    printf("  d1 sendto d2 with an explicit address: %s\n", err(sendto(d1, "yo", 2, 0, (struct sockaddr*)&a2, l2)));
    recv_from("d2 recvfrom", d2, 200, 0);
    struct sockaddr_un un = {.sun_family = AF_UNSPEC};
    printf("  connect d1 to AF_UNSPEC: %s\n", err(connect(d1, (struct sockaddr*)&un, sizeof un)));
    names("disconnected d1", d1);
    printf("  d3 sends to d1 again: %s\n", err(send(d3, "again", 5, 0)));
    recv_from("d1 recvfrom", d1, 200, 0);
    close(d1);
    printf("  d3 sends after d1 closed: %s\n", err(send(d3, "x", 1, 0)));
    printf("  and again: %s\n", err(send(d3, "x", 1, 0)));
    close(d2);
    close(d3);
    close(st);
    unlink(a1.sun_path);
    unlink(a2.sun_path);
    unlink(x.sun_path);
}

static void test_seqpacket(void)
{
    printf("pathname seqpacket sockets\n");
    struct sockaddr_un a;
    socklen_t al = path_addr(&a, "seq");
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    printf("  bind: %s\n", err(bind(s, (struct sockaddr*)&a, al)));
    printf("  listen: %s\n", err(listen(s, 2)));
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    printf("  connect: %s\n", err(connect(c, (struct sockaddr*)&a, al)));
    int acc = accept(s, NULL, NULL);
    printf("  accept: %s\n", err(acc));
    names("accepted", acc);
    send(c, "one", 3, 0);
    send(c, "second", 6, 0);
    send(c, "third message", 13, 0);
    char buf[64];
    printf("  recv: %zd\n", recv(acc, buf, sizeof buf, MSG_DONTWAIT));
    printf("  recv: %zd\n", recv(acc, buf, sizeof buf, MSG_DONTWAIT));
    char small[5];
    struct iovec iov = {small, sizeof small};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    long n = recvmsg(acc, &m, MSG_DONTWAIT);
    printf("  recvmsg into 5 bytes: %ld MSG_TRUNC %s\n", n, tf(m.msg_flags & MSG_TRUNC));
    printf("  the rest is gone: %s\n", err(recv(acc, buf, sizeof buf, MSG_DONTWAIT)));
    printf("  sendto with an address on a connected seqpacket: %s\n",
           err(sendto(c, "x", 1, 0, (struct sockaddr*)&a, al)));
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    printf("  a datagram socket connects to it: %s\n", err(connect(dg, (struct sockaddr*)&a, al)));
    close(dg);
    close(c);
    long first = recv(acc, buf, sizeof buf, MSG_DONTWAIT); // the "x": its address was ignored
    printf("  after the peer closed: recv %ld, then %zd\n", first, recv(acc, buf, sizeof buf, MSG_DONTWAIT));
    close(acc);
    close(s);
    unlink(a.sun_path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    strcpy(dir, "/tmp/net_unix_named.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    strcpy(abstract_tag, dir + strlen("/tmp/net_unix_named."));
    test_pathname_stream();
    test_backlog();
    test_abstract();
    test_dgram();
    test_seqpacket();
    printf("directory empty at the end: %s\n", err(rmdir(dir)));
    return 0;
}
