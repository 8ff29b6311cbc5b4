// UDP over 127.0.0.1 and ::1: sendto/recvfrom and the sender's address, message
// boundaries and truncation (MSG_TRUNC in msg_flags and as a flag), MSG_PEEK, FIONREAD,
// connected sockets (sending without an address, filtering other senders, getpeername,
// ECONNREFUSED from an ICMP port unreachable, connect(AF_UNSPEC)), EDESTADDRREQ, the
// implicit bind at the first sendto, the largest datagram, SO_REUSEADDR, and a dual-stack
// receiver. Ports appear only as comparisons. Prints facts only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
static const char* tf(int b) { return b ? "true" : "false"; }
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

static short wait_for(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

typedef struct sockaddr_storage addr_t;

static socklen_t make_addr(addr_t* a, int family, const char* ip, int port)
{
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        struct sockaddr_in* s = (struct sockaddr_in*)a;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        inet_pton(AF_INET, ip, &s->sin_addr);
        return sizeof *s;
    }
    struct sockaddr_in6* s = (struct sockaddr_in6*)a;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &s->sin6_addr);
    return sizeof *s;
}

static int port_of(const addr_t* a)
{
    return ntohs(a->ss_family == AF_INET ? ((struct sockaddr_in*)a)->sin_port : ((struct sockaddr_in6*)a)->sin6_port);
}

static const char* ip_of(const addr_t* a)
{
    static char buf[2][INET6_ADDRSTRLEN + 8];
    static int i;
    char* b = buf[i++ % 2];
    if (a->ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in*)a)->sin_addr, b, sizeof buf[0]);
    else if (a->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6*)a)->sin6_addr, b, sizeof buf[0]);
    else
        snprintf(b, sizeof buf[0], "family %d", a->ss_family);
    return b;
}

static int same(const addr_t* a, const addr_t* b) { return port_of(a) == port_of(b) && !strcmp(ip_of(a), ip_of(b)); }
static int ephemeral(int port) { return port >= 32768 && port <= 60999; }

static addr_t local(int fd, socklen_t* len)
{
    addr_t a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    getsockname(fd, (struct sockaddr*)&a, &l);
    if (len)
        *len = l;
    return a;
}

static int bound(int family, const char* ip, addr_t* a, socklen_t* alen)
{
    int s = socket(family, SOCK_DGRAM, 0);
    *alen = make_addr(a, family, ip, 0);
    if (bind(s, (struct sockaddr*)a, *alen)) {
        perror("bind");
        exit(1);
    }
    *a = local(s, alen);
    return s;
}

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -errno;
    return v;
}

static void test_family(int family, const char* ip)
{
    printf("%s on %s\n", family == AF_INET ? "AF_INET" : "AF_INET6", ip);
    addr_t aa, ba;
    socklen_t alen, blen;
    int a = bound(family, ip, &aa, &alen);
    int b = bound(family, ip, &ba, &blen);
    printf("  bound to port 0: ports ephemeral %s, len %u\n", tf(ephemeral(port_of(&aa)) && ephemeral(port_of(&ba))),
           (unsigned)alen);
    printf("  SO_TYPE dgram %s, SO_PROTOCOL udp %s\n", tf(opt(a, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM),
           tf(opt(a, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP));
    printf("  sendto: %s\n", res(sendto(b, "hello", 5, 0, (struct sockaddr*)&aa, alen)));
    char buf[100];
    addr_t from;
    socklen_t flen = sizeof from;
    long n = recvfrom(a, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    printf("  recvfrom: %s '%.5s', from == sender's getsockname %s, len %u\n", res(n), buf, tf(same(&from, &ba)),
           (unsigned)flen);

    // Boundaries and truncation.
    static char big[65536];
    static const int sizes[] = {1, 1000, 60000, 0};
    for (int i = 0; i < 4; i++)
        sendto(b, big, sizes[i], 0, (struct sockaddr*)&aa, alen);
    for (int i = 0; i < 4; i++) {
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        n = recvmsg(a, &m, 0);
        printf("  datagram of %d into 100 bytes: %s, MSG_TRUNC %s\n", sizes[i], res(n), tf(m.msg_flags & MSG_TRUNC));
    }
    for (int i = 0; i < 4; i++)
        sendto(b, big, sizes[i], 0, (struct sockaddr*)&aa, alen);
    for (int i = 0; i < 4; i++)
        printf("  datagram of %d, recv(MSG_TRUNC) into 100 bytes: %s\n", sizes[i], res(recv(a, buf, sizeof buf, MSG_TRUNC)));
    printf("  nothing left: %s\n", res(recv(a, buf, sizeof buf, MSG_DONTWAIT)));

    // MSG_PEEK and FIONREAD.
    sendto(b, "peek", 4, 0, (struct sockaddr*)&aa, alen);
    sendto(b, "second", 6, 0, (struct sockaddr*)&aa, alen);
    wait_for(a, POLLIN, 2000);
    int q = -1;
    ioctl(a, FIONREAD, &q);
    printf("  FIONREAD with 2 datagrams queued: %d\n", q);
    memset(buf, 0, sizeof buf);
    flen = sizeof from;
    n = recvfrom(a, buf, sizeof buf, MSG_PEEK, (struct sockaddr*)&from, &flen);
    printf("  MSG_PEEK: %s '%.4s' from the sender %s\n", res(n), buf, tf(same(&from, &ba)));
    n = recv(a, buf, 2, MSG_PEEK);
    printf("  MSG_PEEK into 2: %s\n", res(n));
    n = recv(a, buf, sizeof buf, 0);
    printf("  recv: %s\n", res(n));
    n = recv(a, buf, sizeof buf, 0);
    printf("  recv: %s\n", res(n));
    q = -1;
    ioctl(a, FIONREAD, &q);
    printf("  FIONREAD empty: %d\n", q);

    // No address; the implicit bind.
    int u = socket(family, SOCK_DGRAM, 0);
    addr_t ul = local(u, NULL);
    printf("  fresh socket: port %d\n", port_of(&ul));
    printf("  send without an address, unconnected: %s\n", err(send(u, "x", 1, 0)));
    printf("  getpeername unconnected: %s\n", err(getpeername(u, (struct sockaddr*)&from, &(socklen_t){sizeof from})));
    ul = local(u, NULL);
    printf("  the failed send bound it: port ephemeral %s, address %s\n", tf(ephemeral(port_of(&ul))), ip_of(&ul));
    close(u);
    u = socket(family, SOCK_DGRAM, 0);
    sendto(u, "implicit", 8, 0, (struct sockaddr*)&aa, alen);
    ul = local(u, NULL);
    printf("  after the first sendto: port ephemeral %s, address %s\n", tf(ephemeral(port_of(&ul))), ip_of(&ul));
    flen = sizeof from;
    n = recvfrom(a, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    printf("  received %s from the implicit port %s, address %s\n", res(n), tf(port_of(&from) == port_of(&ul)), ip_of(&from));
    close(u);

    // Connected.
    int c = socket(family, SOCK_DGRAM, 0);
    printf("  connect to a: %s\n", err(connect(c, (struct sockaddr*)&aa, alen)));
    addr_t cl = local(c, NULL), cp;
    socklen_t cplen = sizeof cp;
    getpeername(c, (struct sockaddr*)&cp, &cplen);
    printf("  local address %s port ephemeral %s, peer == a %s\n", ip_of(&cl), tf(ephemeral(port_of(&cl))), tf(same(&cp, &aa)));
    printf("  send without an address: %s\n", res(send(c, "conn", 4, 0)));
    flen = sizeof from;
    n = recvfrom(a, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    printf("  a receives %s from c %s\n", res(n), tf(same(&from, &cl)));
    printf("  sendto another address on a connected socket: %s\n", res(sendto(c, "other", 5, 0, (struct sockaddr*)&ba, blen)));
    flen = sizeof from;
    n = recvfrom(b, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    printf("  b receives %s from c %s\n", res(n), tf(same(&from, &cl)));
    sendto(b, "filtered", 8, 0, (struct sockaddr*)&cl, sizeof cl);
    sendto(a, "from a", 6, 0, (struct sockaddr*)&cl, sizeof cl);
    wait_for(c, POLLIN, 2000);
    usleep(20000);
    memset(buf, 0, sizeof buf);
    n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
    printf("  c receives: %s '%.*s'\n", res(n), n > 0 ? (int)n : 0, buf);
    printf("  then: %s (b's datagram was dropped)\n", res(recv(c, buf, sizeof buf, MSG_DONTWAIT)));
    addr_t un;
    memset(&un, 0, sizeof un);
    un.ss_family = AF_UNSPEC;
    printf("  connect(AF_UNSPEC): %s\n", err(connect(c, (struct sockaddr*)&un, sizeof un)));
    printf("  getpeername: %s\n", err(getpeername(c, (struct sockaddr*)&cp, &(socklen_t){sizeof cp})));
    addr_t cl2 = local(c, NULL);
    printf("  the port that connect chose is released: port %d, address %s\n", port_of(&cl2), ip_of(&cl2));
    printf("  send without an address: %s\n", err(send(c, "x", 1, 0)));
    close(c);
    // Bound to port 0, connected, disconnected: the port goes too (only a bind to a
    // nonzero port locks it). Bound to that port number explicitly: it stays.
    c = bound(family, ip, &cl, &(socklen_t){0});
    connect(c, (struct sockaddr*)&aa, alen);
    sendto(b, "filtered", 8, 0, (struct sockaddr*)&cl, sizeof cl);
    usleep(20000);
    printf("  bound to port 0 and connected to a: b's datagram %s\n", res(recv(c, buf, sizeof buf, MSG_DONTWAIT)));
    connect(c, (struct sockaddr*)&un, sizeof un);
    cl2 = local(c, NULL);
    printf("  after connect(AF_UNSPEC): port %d, address %s\n", port_of(&cl2), ip_of(&cl2));
    close(c);
    c = socket(family, SOCK_DGRAM, 0);
    printf("  bound to that port number explicitly: %s\n", err(bind(c, (struct sockaddr*)&cl, alen)));
    connect(c, (struct sockaddr*)&aa, alen);
    connect(c, (struct sockaddr*)&un, sizeof un);
    cl2 = local(c, NULL);
    printf("  connected, then connect(AF_UNSPEC): port kept %s, address %s\n", tf(port_of(&cl2) == port_of(&cl)), ip_of(&cl2));
    sendto(b, "now", 3, 0, (struct sockaddr*)&cl, sizeof cl);
    wait_for(c, POLLIN, 2000);
    flen = sizeof from;
    n = recvfrom(c, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr*)&from, &flen);
    printf("  b's datagram arrives: %s from b %s\n", res(n), tf(same(&from, &ba)));
    close(c);

    // ICMP port unreachable: reported to a connected socket only.
    int gone = socket(family, SOCK_DGRAM, 0);
    addr_t ga;
    socklen_t galen = make_addr(&ga, family, ip, 0);
    bind(gone, (struct sockaddr*)&ga, galen);
    ga = local(gone, &galen);
    close(gone); // nobody on that port now
    c = socket(family, SOCK_DGRAM, 0);
    connect(c, (struct sockaddr*)&ga, galen);
    printf("  connected to a port nobody has: poll %s\n", events_str(wait_for(c, POLLIN | POLLOUT, 0)));
    printf("  send 1: %s\n", res(send(c, "x", 1, 0)));
    wait_for(c, 0, 2000);
    usleep(20000);
    printf("  then poll %s\n", events_str(wait_for(c, POLLIN | POLLOUT, 0)));
    printf("  send 2: %s\n", res(send(c, "x", 1, 0)));
    printf("  send 3: %s\n", res(send(c, "x", 1, 0)));
    wait_for(c, 0, 2000);
    usleep(20000);
    printf("  recv: %s\n", res(recv(c, buf, sizeof buf, MSG_DONTWAIT)));
    printf("  recv again: %s\n", res(recv(c, buf, sizeof buf, MSG_DONTWAIT)));
    send(c, "x", 1, 0);
    wait_for(c, 0, 2000);
    usleep(20000);
    int e = opt(c, SOL_SOCKET, SO_ERROR);
    printf("  after send 4, SO_ERROR %s", e ? strerrorname_np(e) : "0");
    printf(", then poll %s\n", events_str(wait_for(c, POLLIN | POLLOUT, 0)));
    close(c);
    u = socket(family, SOCK_DGRAM, 0);
    printf("  unconnected sendto there: %s\n", res(sendto(u, "x", 1, 0, (struct sockaddr*)&ga, galen)));
    usleep(20000);
    printf("  then poll %s", events_str(wait_for(u, POLLIN | POLLOUT, 0)));
    printf(", sendto again %s", res(sendto(u, "x", 1, 0, (struct sockaddr*)&ga, galen)));
    usleep(20000);
    printf(", recv %s", res(recv(u, buf, sizeof buf, MSG_DONTWAIT)));
    printf(", SO_ERROR %d\n", opt(u, SOL_SOCKET, SO_ERROR));
    close(u);

    // The largest datagram.
    int max = family == AF_INET ? 65507 : 65527;
    printf("  sendto %d bytes: %s\n", max + 1, res(sendto(b, big, max + 1, 0, (struct sockaddr*)&aa, alen)));
    printf("  sendto %d bytes: %s\n", max, res(sendto(b, big, max, 0, (struct sockaddr*)&aa, alen)));
    printf("  received: %s\n", res(recv(a, big, sizeof big, 0)));
    close(a);
    close(b);

    // SO_REUSEADDR lets two sockets bind one port.
    int one = 1, r1 = socket(family, SOCK_DGRAM, 0), r2 = socket(family, SOCK_DGRAM, 0), r3 = socket(family, SOCK_DGRAM, 0);
    setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    addr_t ra;
    socklen_t ralen = make_addr(&ra, family, ip, 0);
    bind(r1, (struct sockaddr*)&ra, ralen);
    ra = local(r1, &ralen);
    printf("  second bind with SO_REUSEADDR: %s\n", err(bind(r2, (struct sockaddr*)&ra, ralen)));
    printf("  third without: %s\n", err(bind(r3, (struct sockaddr*)&ra, ralen)));
    u = socket(family, SOCK_DGRAM, 0);
    sendto(u, "r", 1, 0, (struct sockaddr*)&ra, ralen);
    usleep(20000);
    int got = (recv(r1, buf, sizeof buf, MSG_DONTWAIT) == 1) + (recv(r2, buf, sizeof buf, MSG_DONTWAIT) == 1);
    printf("  one datagram to that port is received by %d of them\n", got);
    close(u);
    close(r1);
    close(r2);
    close(r3);
}

static void test_dual_stack(void)
{
    printf("dual stack\n");
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    addr_t a;
    socklen_t alen = make_addr(&a, AF_INET6, "::", 0);
    bind(s6, (struct sockaddr*)&a, alen);
    a = local(s6, &alen);
    int s4 = socket(AF_INET, SOCK_DGRAM, 0);
    addr_t to;
    socklen_t tolen = make_addr(&to, AF_INET, "127.0.0.1", port_of(&a));
    printf("  AF_INET sendto 127.0.0.1 at the :: socket's port: %s\n", res(sendto(s4, "v4", 2, 0, (struct sockaddr*)&to, tolen)));
    addr_t from;
    socklen_t flen = sizeof from;
    char buf[16];
    long n = recvfrom(s6, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    addr_t l4 = local(s4, NULL);
    printf("  received %s from %s len %u, port matches %s\n", res(n), ip_of(&from), (unsigned)flen,
           tf(port_of(&from) == port_of(&l4)));
    printf("  reply to that address: %s", res(sendto(s6, "back", 4, 0, (struct sockaddr*)&from, flen)));
    flen = sizeof from;
    n = recvfrom(s4, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen);
    printf(", the AF_INET socket gets %s from %s\n", res(n), ip_of(&from));
    printf("  AF_INET sendto a v6 address: %s\n", res(sendto(s4, "x", 1, 0, (struct sockaddr*)&a, alen)));
    close(s4);
    close(s6);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_family(AF_INET, "127.0.0.1");
    test_family(AF_INET6, "::1");
    test_dual_stack();
    return 0;
}
