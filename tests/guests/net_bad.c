// Bad input to the socket calls: unknown families, types, protocols and flags; address
// lengths too short or too long; the wrong family; bad pointers everywhere (EFAULT, and
// what happens to the connection or datagram whose copy-out failed); sockets calls on
// non-sockets and closed fds; listen/accept where they make no sense; and sun_path at
// and beyond its full length. Prints facts only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
static const char* res(long r)
{
    static char buf[4][32];
    static int i;
    char* b = buf[i++ % 4];
    if (r < 0)
        snprintf(b, 32, "%s", strerrorname_np(errno));
    else
        snprintf(b, 32, "%ld", r);
    return b;
}

// An unmapped address the compiler can't reason about.
static void* bad_ptr(void)
{
    void* p = (void*)8;
    __asm__("" : "+r"(p));
    return p;
}

static void test_socket(void)
{
    printf("socket()\n");
    printf("  family 9999: %s\n", err(socket(9999, SOCK_STREAM, 0)));
    printf("  family -1: %s\n", err(socket(-1, SOCK_STREAM, 0)));
    printf("  AF_UNSPEC: %s\n", err(socket(AF_UNSPEC, SOCK_STREAM, 0)));
    printf("  AF_INET SOCK_STREAM IPPROTO_UDP: %s\n", err(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
    printf("  AF_INET SOCK_DGRAM IPPROTO_TCP: %s\n", err(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)));
    printf("  AF_INET SOCK_STREAM protocol 200: %s\n", err(socket(AF_INET, SOCK_STREAM, 200)));
    printf("  AF_INET SOCK_SEQPACKET: %s\n", err(socket(AF_INET, SOCK_SEQPACKET, 0)));
    printf("  AF_INET6 SOCK_SEQPACKET: %s\n", err(socket(AF_INET6, SOCK_SEQPACKET, 0)));
    printf("  AF_INET type 99: %s\n", err(socket(AF_INET, 99, 0)));
    printf("  AF_UNIX type 99: %s\n", err(socket(AF_UNIX, 99, 0)));
    printf("  AF_UNIX type 0: %s\n", err(socket(AF_UNIX, 0, 0)));
    int u1 = socket(AF_UNIX, SOCK_STREAM, PF_UNIX);
    printf("  AF_UNIX protocol PF_UNIX: %s\n", err(u1));
    close(u1);
    printf("  AF_UNIX protocol 2: %s\n", err(socket(AF_UNIX, SOCK_STREAM, 2)));
    printf("  AF_UNIX SOCK_STREAM with an unknown flag: %s\n", err(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0)));
    printf("  AF_INET SOCK_STREAM with O_APPEND as a flag: %s\n", err(socket(AF_INET, SOCK_STREAM | O_APPEND, 0)));
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    printf("  AF_INET SOCK_STREAM IPPROTO_TCP: %s\n", err(fd));
    close(fd);
    fd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    printf("  AF_INET6 SOCK_DGRAM IPPROTO_UDP: %s\n", err(fd));
    close(fd);
}

static void test_lengths(void)
{
    printf("address lengths\n");
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    static const int lens[] = {0, 1, 2, (int)sizeof(struct sockaddr_in) - 1, (int)sizeof(struct sockaddr_in) + 1, 128,
                               129, 1000, -1};
    char big[2000];
    memset(big, 0, sizeof big);
    memcpy(big, &in, sizeof in);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
        printf("  AF_INET addrlen %d: bind tcp %s", lens[i], err(bind(t, (struct sockaddr*)big, lens[i])));
        printf(", bind udp %s", err(bind(u, (struct sockaddr*)big, lens[i])));
        close(t);
        t = socket(AF_INET, SOCK_STREAM, 0);
        printf(", connect tcp %s", err(connect(t, (struct sockaddr*)big, lens[i])));
        printf(", connect udp %s\n", err(connect(u, (struct sockaddr*)big, lens[i])));
        close(t);
        close(u);
    }
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    memset(big, 0, sizeof big);
    memcpy(big, &in6, sizeof in6);
    static const int lens6[] = {0, 2, 23, 24, 27, 28, 129};
    for (size_t i = 0; i < sizeof lens6 / sizeof lens6[0]; i++) {
        int t = socket(AF_INET6, SOCK_STREAM, 0);
        printf("  AF_INET6 addrlen %d: bind %s", lens6[i], err(bind(t, (struct sockaddr*)big, lens6[i])));
        close(t);
        t = socket(AF_INET6, SOCK_DGRAM, 0);
        printf(", connect udp %s\n", err(connect(t, (struct sockaddr*)big, lens6[i])));
        close(t);
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memset(big, 0, sizeof big);
    memcpy(big, &un, sizeof un);
    static const int lensu[] = {0, 1, 2, 3, (int)sizeof(struct sockaddr_un), (int)sizeof(struct sockaddr_un) + 1, -1};
    for (size_t i = 0; i < sizeof lensu / sizeof lensu[0]; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        printf("  AF_UNIX (empty path) addrlen %d: bind %s", lensu[i], err(bind(s, (struct sockaddr*)big, lensu[i])));
        close(s);
        s = socket(AF_UNIX, SOCK_STREAM, 0);
        printf(", connect %s\n", err(connect(s, (struct sockaddr*)big, lensu[i])));
        close(s);
    }
}

static void test_families(void)
{
    printf("wrong families\n");
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/nonexistent"};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    printf("  AF_INET socket, bind an AF_INET6 address: %s\n", err(bind(s, (struct sockaddr*)&in6, sizeof in6)));
    printf("  AF_INET socket, bind an AF_UNIX address: %s\n", err(bind(s, (struct sockaddr*)&un, sizeof un)));
    struct sockaddr_in unspec = {.sin_family = AF_UNSPEC, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    printf("  AF_INET socket, bind AF_UNSPEC 127.0.0.1: %s\n", err(bind(s, (struct sockaddr*)&unspec, sizeof unspec)));
    unspec.sin_addr.s_addr = htonl(INADDR_ANY);
    printf("  AF_INET socket, bind AF_UNSPEC 0.0.0.0: %s\n", err(bind(s, (struct sockaddr*)&unspec, sizeof unspec)));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    printf("  AF_INET tcp, connect an AF_INET6 address: %s\n", err(connect(s, (struct sockaddr*)&in6, sizeof in6)));
    printf("  AF_INET tcp, connect AF_UNSPEC while unconnected: %s\n", err(connect(s, (struct sockaddr*)&unspec, sizeof unspec)));
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    printf("  AF_INET udp, connect an AF_INET6 address: %s\n", err(connect(s, (struct sockaddr*)&in6, sizeof in6)));
    printf("  AF_INET udp, sendto an AF_UNIX address: %s\n", err(sendto(s, "x", 1, 0, (struct sockaddr*)&un, sizeof un)));
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    printf("  AF_INET6 socket, bind an AF_INET address: %s\n", err(bind(s, (struct sockaddr*)&in, sizeof in)));
    struct sockaddr_in6 in6_as4 = in6;
    in6_as4.sin6_family = AF_INET;
    printf("  AF_INET6 socket, bind sockaddr_in6 with family AF_INET: %s\n", err(bind(s, (struct sockaddr*)&in6_as4, sizeof in6_as4)));
    printf("  AF_INET6 socket, connect an AF_INET address: %s\n", err(connect(s, (struct sockaddr*)&in, sizeof in)));
    close(s);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  AF_UNIX socket, bind an AF_INET address: %s\n", err(bind(s, (struct sockaddr*)&in, sizeof in)));
    printf("  AF_UNIX socket, connect an AF_INET address: %s\n", err(connect(s, (struct sockaddr*)&in, sizeof in)));
    close(s);
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    printf("  AF_UNIX dgram, sendto an AF_INET address: %s\n", err(sendto(s, "x", 1, 0, (struct sockaddr*)&in, sizeof in)));
    close(s);
}

static void test_pointers(void)
{
    printf("bad pointers\n");
    void* bad = bad_ptr();
    int s = socket(AF_INET, SOCK_STREAM, 0);
    printf("  bind NULL: %s\n", err(bind(s, NULL, sizeof(struct sockaddr_in))));
    printf("  bind bad: %s\n", err(bind(s, bad, sizeof(struct sockaddr_in))));
    printf("  bind NULL with length 0: %s\n", err(bind(s, NULL, 0)));
    printf("  connect bad: %s\n", err(connect(s, bad, sizeof(struct sockaddr_in))));
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    printf("  getsockname bad addr: %s\n", err(getsockname(s, bad, &len)));
    printf("  getsockname bad addrlen: %s\n", err(getsockname(s, (struct sockaddr*)&a, bad)));
    printf("  getsockname NULL addrlen: %s\n", err(getsockname(s, (struct sockaddr*)&a, NULL)));
    len = -1;
    printf("  getsockname addrlen -1: %s\n", err(getsockname(s, (struct sockaddr*)&a, &len)));
    len = 4;
    memset(&a, 0, sizeof a);
    printf("  getsockname addrlen 4: %s", err(getsockname(s, (struct sockaddr*)&a, &len)));
    printf(", len now %u, family copied %s, port left 0: %s\n", (unsigned)len, a.sin_family == AF_INET ? "true" : "false",
           a.sin_port == 0 ? "true" : "false");
    int v;
    printf("  getsockopt bad optlen: %s\n", err(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, bad)));
    len = sizeof v;
    printf("  getsockopt bad optval: %s\n", err(getsockopt(s, SOL_SOCKET, SO_TYPE, bad, &len)));
    len = -1;
    printf("  getsockopt optlen -1: %s\n", err(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len)));
    len = 2;
    v = 0;
    printf("  getsockopt SO_TYPE optlen 2: %s", err(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len)));
    printf(", len now %u\n", (unsigned)len);
    len = 100;
    printf("  getsockopt SO_TYPE optlen 100: %s", err(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len)));
    printf(", len now %u\n", (unsigned)len);
    printf("  setsockopt NULL optval: %s\n", err(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(int))));
    printf("  setsockopt bad optval: %s\n", err(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, sizeof(int))));
    v = 1;
    printf("  setsockopt optlen 0: %s\n", err(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 0)));
    printf("  setsockopt optlen -1: %s\n", err(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, -1)));
    printf("  getsockopt unknown SOL_SOCKET option: %s\n", err(getsockopt(s, SOL_SOCKET, 9999, &v, &(socklen_t){4})));
    printf("  getsockopt unknown level: %s\n", err(getsockopt(s, 9999, 1, &v, &(socklen_t){4})));
    printf("  setsockopt unknown level: %s\n", err(setsockopt(s, 9999, 1, &v, 4)));
    close(s);

    // accept: the copy-out fails after the connection was taken off the queue.
    char dir[] = "/tmp/net_bad.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/l", dir);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bind(l, (struct sockaddr*)&un, sizeof un);
    listen(l, 4);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&un, sizeof un);
    len = sizeof un;
    printf("  accept bad addr with a pending connection: %s", err(accept(l, bad, &len)));
    printf(", then accept: %s", err(accept(l, NULL, NULL)));
    char ch;
    printf(", the client reads: %s\n", res(recv(c, &ch, 1, MSG_DONTWAIT)));
    close(c);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&un, sizeof un);
    struct sockaddr_un peer;
    printf("  accept bad addrlen with a pending connection: %s", err(accept(l, (struct sockaddr*)&peer, bad)));
    printf(", then accept: %s\n", err(accept(l, NULL, NULL)));
    close(c);
    printf("  accept bad addrlen, nothing pending: %s\n", err(accept(l, (struct sockaddr*)&peer, bad)));
    printf("  accept addr without addrlen: %s\n", err(accept(l, (struct sockaddr*)&peer, NULL)));
    close(l);
    unlink(un.sun_path);
    rmdir(dir);

    // Buffers.
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("  stream send from a bad buffer: %s\n", err(send(sv[0], bad, 10, 0)));
    printf("  nothing arrived: %s\n", res(recv(sv[1], &ch, 1, MSG_DONTWAIT)));
    send(sv[0], "abc", 3, 0);
    printf("  stream recv into a bad buffer: %s", err(recv(sv[1], bad, 10, 0)));
    char buf[16];
    printf(", then recv: %s\n", res(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)));
    printf("  recvfrom bad addr on a stream: %s\n", ({
               send(sv[0], "d", 1, 0);
               err(recvfrom(sv[1], buf, sizeof buf, 0, bad, &(socklen_t){16}));
           }));
    printf("  send 0 bytes from NULL: %s\n", res(send(sv[0], NULL, 0, 0)));
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "abc", 3, 0);
    // Linux drops a datagram it could not copy out; the sentry keeps it (a bad
    // pointer loses nothing, docs/STATUS.md), so what follows is drained unseen.
    printf("  unix dgram recv into a bad buffer: %s\n", err(recv(sv[1], bad, 10, 0)));
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    close(sv[0]);
    close(sv[1]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(u, (struct sockaddr*)&ua, sizeof ua);
    getsockname(u, (struct sockaddr*)&ua, &(socklen_t){sizeof ua});
    printf("  udp sendto from a bad buffer: %s\n", err(sendto(u, bad, 10, 0, (struct sockaddr*)&ua, sizeof ua)));
    printf("  udp sendto a bad address: %s\n", err(sendto(u, "x", 1, 0, bad, sizeof ua)));
    sendto(u, "abc", 3, 0, (struct sockaddr*)&ua, sizeof ua);
    usleep(20000);
    printf("  udp recv into a bad buffer: %s\n", err(recv(u, bad, 10, 0)));
    while (recv(u, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    sendto(u, "abc", 3, 0, (struct sockaddr*)&ua, sizeof ua);
    usleep(20000);
    printf("  udp recvfrom with a bad addrlen: %s", err(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr*)&ua, bad)));
    printf(", then recv: %s\n", res(recv(u, buf, sizeof buf, MSG_DONTWAIT)));
    close(u);

    // sendmsg/recvmsg.
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("  sendmsg bad msghdr: %s\n", err(sendmsg(sv[0], bad, 0)));
    printf("  recvmsg bad msghdr: %s\n", err(recvmsg(sv[1], bad, MSG_DONTWAIT)));
    struct msghdr m = {.msg_iov = bad, .msg_iovlen = 1};
    printf("  sendmsg bad msg_iov: %s\n", err(sendmsg(sv[0], &m, 0)));
    struct iovec iov = {"x", 1};
    m.msg_iov = &iov;
    m.msg_iovlen = 1025;
    printf("  sendmsg msg_iovlen 1025: %s\n", err(sendmsg(sv[0], &m, 0)));
    struct iovec iovs[2] = {{"ab", 2}, {bad, 5}};
    m.msg_iov = iovs;
    m.msg_iovlen = 2;
    printf("  sendmsg second iovec bad: %s", res(sendmsg(sv[0], &m, 0)));
    printf(", the peer reads: %s\n", res(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = bad;
    m.msg_controllen = 24;
    printf("  sendmsg bad msg_control: %s\n", err(sendmsg(sv[0], &m, 0)));
    char ctrl[64];
    memset(ctrl, 0, sizeof ctrl);
    m.msg_control = ctrl;
    m.msg_controllen = (size_t)INT_MAX + 1;
    printf("  sendmsg msg_controllen INT_MAX+1: %s\n", err(sendmsg(sv[0], &m, 0)));
    m.msg_controllen = sizeof ctrl;
    struct cmsghdr* cm = (struct cmsghdr*)ctrl;
    cm->cmsg_len = 4;
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    printf("  sendmsg cmsg_len 4: %s\n", err(sendmsg(sv[0], &m, 0)));
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    cm->cmsg_type = 77;
    printf("  sendmsg unknown SOL_SOCKET cmsg type: %s\n", err(sendmsg(sv[0], &m, 0)));
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = 200;
    printf("  sendmsg cmsg_len beyond msg_controllen: %s\n", err(sendmsg(sv[0], &m, 0)));
    printf("  nothing arrived: %s\n", res(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)));
    printf("  send with unknown flag 0x80000000: %s\n", res(send(sv[0], "x", 1, 0x80000000)));
    recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    close(sv[0]);
    close(sv[1]);
}

static void test_not_sockets(void)
{
    printf("not sockets\n");
    int p[2];
    pipe(p);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    int v;
    printf("  pipe: bind %s", err(bind(p[0], (struct sockaddr*)&a, sizeof a)));
    printf(" connect %s", err(connect(p[0], (struct sockaddr*)&a, sizeof a)));
    printf(" listen %s", err(listen(p[0], 1)));
    printf(" accept %s", err(accept(p[0], NULL, NULL)));
    printf(" getsockname %s", err(getsockname(p[0], (struct sockaddr*)&a, &len)));
    printf(" getsockopt %s", err(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &(socklen_t){4})));
    printf(" sendto %s", err(sendto(p[1], "x", 1, 0, (struct sockaddr*)&a, sizeof a)));
    printf(" shutdown %s\n", err(shutdown(p[0], SHUT_RDWR)));
    char fpath[] = "/tmp/net_bad.XXXXXX";
    int f = mkstemp(fpath);
    unlink(fpath);
    printf("  regular file: listen %s recv %s\n", err(listen(f, 1)), ({
               char c;
               err(recv(f, &c, 1, 0));
           }));
    close(f);
    close(p[0]);
    close(p[1]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    close(s);
    printf("  closed fd: bind %s", err(bind(s, (struct sockaddr*)&a, sizeof a)));
    printf(" listen %s", err(listen(s, 1)));
    printf(" accept %s", err(accept(s, NULL, NULL)));
    printf(" send %s", err(send(s, "x", 1, 0)));
    printf(" getsockopt %s\n", err(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &(socklen_t){4})));
    printf("  fd -1: connect %s\n", err(connect(-1, (struct sockaddr*)&a, sizeof a)));
    printf("  an O_PATH fd of a socket file: ");
    char dir[] = "/tmp/net_bad.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (struct sockaddr*)&un, sizeof un);
    int op = open(un.sun_path, O_PATH);
    printf("listen %s", err(listen(op, 1)));
    printf(", open O_RDWR %s\n", err(open(un.sun_path, O_RDWR)));
    close(op);
    close(s);
    unlink(un.sun_path);
    rmdir(dir);
}

static void test_wrong_state(void)
{
    printf("wrong socket types and states\n");
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    printf("  listen on udp: %s\n", err(listen(u, 1)));
    printf("  accept on udp: %s\n", err(accept(u, NULL, NULL)));
    printf("  shutdown unconnected udp: %s\n", err(shutdown(u, SHUT_RDWR)));
    close(u);
    u = socket(AF_UNIX, SOCK_DGRAM, 0);
    printf("  listen on unix dgram: %s\n", err(listen(u, 1)));
    printf("  accept on unix dgram: %s\n", err(accept(u, NULL, NULL)));
    close(u);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    printf("  accept on an unbound tcp socket: %s\n", err(accept(t, NULL, NULL)));
    printf("  shutdown unconnected tcp: %s\n", err(shutdown(t, SHUT_WR)));
    printf("  shutdown how 3: %s\n", err(shutdown(t, 3)));
    printf("  shutdown how -1: %s\n", err(shutdown(t, -1)));
    char c;
    printf("  recv on unconnected tcp: %s\n", err(recv(t, &c, 1, MSG_DONTWAIT)));
    printf("  send on unconnected tcp: %s\n", err(send(t, &c, 1, MSG_NOSIGNAL)));
    printf("  getpeername on unconnected tcp: %s\n", err(getpeername(t, (struct sockaddr*)&(struct sockaddr_in){0}, &(socklen_t){16})));
    printf("  listen backlog -1: %s\n", err(listen(t, -1)));
    close(t);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  send on unconnected unix stream: %s\n", err(send(s, &c, 1, MSG_NOSIGNAL)));
    printf("  recv on unconnected unix stream: %s\n", err(recv(s, &c, 1, MSG_DONTWAIT)));
    printf("  shutdown unconnected unix stream: %s\n", err(shutdown(s, SHUT_RDWR)));
    close(s);
}

static void test_sun_path(void)
{
    printf("sun_path length\n");
    char dir[] = "/tmp/net_bad.XXXXXX";
    mkdtemp(dir);
    size_t max = sizeof(((struct sockaddr_un*)0)->sun_path);
    // A path of exactly `max` characters, without a terminating NUL.
    char path[256];
    snprintf(path, sizeof path, "%s/", dir);
    while (strlen(path) < max)
        strcat(path, "p");
    path[max] = 0;
    char raw[sizeof(struct sockaddr_un) + 8];
    memset(raw, 'X', sizeof raw);
    struct sockaddr_un* a = (struct sockaddr_un*)raw;
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, max);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  bind %zu characters, no NUL, addrlen sizeof(sockaddr_un): %s\n", max,
           err(bind(s, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    struct stat st;
    printf("  the node exists: %s\n", stat(path, &st) == 0 && S_ISSOCK(st.st_mode) ? "true" : "false");
    char out[256];
    memset(out, 0, sizeof out);
    socklen_t len = sizeof out;
    getsockname(s, (struct sockaddr*)out, &len);
    printf("  getsockname len: sizeof(sockaddr_un)%+d, path matches %s\n", (int)len - (int)sizeof(struct sockaddr_un),
           memcmp(out + offsetof(struct sockaddr_un, sun_path), path, max) == 0 ? "true" : "false");
    len = sizeof(struct sockaddr_un);
    memset(out, 0, sizeof out);
    getsockname(s, (struct sockaddr*)out, &len);
    printf("  into exactly sizeof(sockaddr_un): len sizeof(sockaddr_un)%+d\n", (int)len - (int)sizeof(struct sockaddr_un));
    listen(s, 1);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  connect to it the same way: %s\n", err(connect(c, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    close(c);
    printf("  addrlen sizeof(sockaddr_un)+1: %s\n", ({
               int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
               const char* e = err(connect(c2, (struct sockaddr*)a, sizeof(struct sockaddr_un) + 1));
               close(c2);
               e;
           }));
    close(s);
    unlink(path);
    // One character shorter with its NUL: the usual maximum.
    path[max - 1] = 0;
    memset(raw, 0, sizeof raw);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("  bind %zu characters with NUL: %s\n", max - 1, err(bind(s, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    close(s);
    unlink(path);
    // A path that doesn't fit at all can't even be expressed; a long path through
    // a missing directory gives ENOENT.
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(raw, 0, sizeof raw);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, max, "%s/missing/dir/s", dir);
    printf("  bind in a missing directory: %s\n", err(bind(s, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    char file[64];
    snprintf(file, sizeof file, "%s/file", dir);
    close(open(file, O_CREAT | O_WRONLY, 0644));
    snprintf(a->sun_path, max, "%s/s", file);
    printf("  bind below a regular file: %s\n", err(bind(s, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    unlink(file);
    snprintf(a->sun_path, max, "%s", dir);
    printf("  bind on an existing directory: %s\n", err(bind(s, (struct sockaddr*)a, sizeof(struct sockaddr_un))));
    close(s);
    rmdir(dir);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_socket();
    test_lengths();
    test_families();
    test_pointers();
    test_not_sockets();
    test_wrong_state();
    test_sun_path();
    return 0;
}
