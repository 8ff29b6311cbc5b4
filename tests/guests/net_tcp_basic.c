// TCP over 127.0.0.1 and ::1: ephemeral ports, listen/connect/accept, the names of both
// ends, data both ways and the half-close, refused connects (blocking and not), the
// dual-stack listener and IPV6_V6ONLY, which local addresses bind, port conflicts,
// TIME_WAIT and SO_REUSEADDR, SO_REUSEPORT, socket options and FIONREAD. Ports and
// addresses that vary are printed as comparisons. Prints facts only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char* err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
static const char* tf(int b) { return b ? "true" : "false"; }

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

static addr_t remote(int fd)
{
    addr_t a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    getpeername(fd, (struct sockaddr*)&a, &l);
    return a;
}

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -errno;
    return v;
}

// A port nobody listens on: held by a bound socket that never listens.
static int closed_port(int family, const char* ip, addr_t* a, socklen_t* alen)
{
    int h = socket(family, SOCK_STREAM, 0);
    *alen = make_addr(a, family, ip, 0);
    bind(h, (struct sockaddr*)a, *alen);
    *a = local(h, alen);
    return h;
}

static void test_family(int family, const char* ip)
{
    const char* fam = family == AF_INET ? "AF_INET" : "AF_INET6";
    printf("%s on %s\n", fam, ip);
    addr_t la;
    socklen_t lalen;
    int l = socket(family, SOCK_STREAM, 0);
    socklen_t ulen;
    addr_t un = local(l, &ulen);
    printf("  unbound getsockname: %s port %d len %u\n", ip_of(&un), port_of(&un), (unsigned)ulen);
    printf("  unbound getpeername: %s\n", err(getpeername(l, (struct sockaddr*)&un, &(socklen_t){sizeof un})));
    lalen = make_addr(&la, family, ip, 0);
    printf("  bind port 0: %s\n", err(bind(l, (struct sockaddr*)&la, lalen)));
    la = local(l, &lalen);
    printf("  getsockname: %s, port in [32768, 60999]: %s, len %u\n", ip_of(&la), tf(ephemeral(port_of(&la))),
           (unsigned)lalen);
    printf("  SO_ACCEPTCONN before listen: %d\n", opt(l, SOL_SOCKET, SO_ACCEPTCONN));
    printf("  listen: %s\n", err(listen(l, 8)));
    printf("  SO_ACCEPTCONN %d SO_TYPE stream %s SO_DOMAIN %s SO_PROTOCOL tcp %s\n", opt(l, SOL_SOCKET, SO_ACCEPTCONN),
           tf(opt(l, SOL_SOCKET, SO_TYPE) == SOCK_STREAM), tf(opt(l, SOL_SOCKET, SO_DOMAIN) == family),
           tf(opt(l, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP));
    int c = socket(family, SOCK_STREAM, 0);
    printf("  connect: %s\n", err(connect(c, (struct sockaddr*)&la, lalen)));
    addr_t pa;
    socklen_t palen = sizeof pa;
    int s = accept(l, (struct sockaddr*)&pa, &palen);
    printf("  accept: %s, peer %s len %u\n", err(s), ip_of(&pa), (unsigned)palen);
    addr_t cl = local(c, NULL), cr = remote(c), sl = local(s, NULL), sr = remote(s);
    printf("  client port ephemeral: %s\n", tf(ephemeral(port_of(&cl))));
    printf("  client local == server peer: %s\n", tf(port_of(&cl) == port_of(&sr) && !strcmp(ip_of(&cl), ip_of(&sr))));
    printf("  client peer == server local == listener: %s\n",
           tf(port_of(&cr) == port_of(&sl) && port_of(&sl) == port_of(&la) && !strcmp(ip_of(&cr), ip_of(&sl))));
    printf("  accept's address == getpeername: %s\n", tf(port_of(&pa) == port_of(&sr)));
    printf("  addresses: client %s server %s\n", ip_of(&cl), ip_of(&sl));
    printf("  SO_ACCEPTCONN on the accepted socket: %d, on the client: %d\n", opt(s, SOL_SOCKET, SO_ACCEPTCONN),
           opt(c, SOL_SOCKET, SO_ACCEPTCONN));
    printf("  connect again: %s\n", err(connect(c, (struct sockaddr*)&la, lalen)));
    printf("  listen on a connected socket: %s\n", err(listen(c, 1)));
    printf("  bind of a connected socket: %s\n", err(bind(c, (struct sockaddr*)&la, lalen)));

    // Data both ways, then the half-close.
    char buf[64] = {0};
    printf("  client writes: %zd\n", write(c, "hello", 5));
    wait_for(s, POLLIN, 2000);
    printf("  server reads: %zd '%.5s'\n", read(s, buf, sizeof buf), buf);
    printf("  server writes: %zd\n", write(s, "world!", 6));
    wait_for(c, POLLIN, 2000);
    memset(buf, 0, sizeof buf);
    printf("  client reads: %zd '%.6s'\n", read(c, buf, sizeof buf), buf);
    printf("  client shutdown(SHUT_WR): %s\n", err(shutdown(c, SHUT_WR)));
    short ev = wait_for(s, POLLRDHUP, 2000);
    usleep(20000);
    printf("  server poll: %s\n", events_str(wait_for(s, POLLIN | POLLOUT | POLLRDHUP, 0)));
    (void)ev;
    printf("  server reads EOF: %zd\n", read(s, buf, sizeof buf));
    printf("  client poll: %s\n", events_str(wait_for(c, POLLIN | POLLOUT | POLLRDHUP, 0)));
    printf("  client write after SHUT_WR: %s\n", err(send(c, "x", 1, MSG_NOSIGNAL)));
    printf("  server still writes: %zd\n", write(s, "reply", 5));
    wait_for(c, POLLIN, 2000);
    memset(buf, 0, sizeof buf);
    printf("  client reads: %zd '%.5s'\n", read(c, buf, sizeof buf), buf);
    close(s);
    wait_for(c, POLLRDHUP, 2000);
    usleep(20000);
    printf("  after the server closed, client poll: %s", events_str(wait_for(c, POLLIN | POLLOUT | POLLRDHUP, 0)));
    printf(", read %zd\n", read(c, buf, sizeof buf));
    close(c);

    // FIONREAD once 1000 bytes have arrived.
    c = socket(family, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&la, lalen);
    s = accept(l, NULL, NULL);
    static char k[1000];
    int n = -1;
    const char* e = err(ioctl(s, FIONREAD, &n));
    printf("  FIONREAD empty: %s %d\n", e, n);
    write(c, k, sizeof k);
    wait_for(s, POLLIN, 2000);
    usleep(20000);
    e = err(ioctl(s, FIONREAD, &n));
    printf("  FIONREAD after 1000 bytes: %s %d\n", e, n);
    printf("  SIOCINQ on the listener: %s\n", err(ioctl(l, FIONREAD, &n)));

    // Options.
    printf("  TCP_NODELAY default %d", opt(c, IPPROTO_TCP, TCP_NODELAY));
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    printf(", set %s\n", tf(opt(c, IPPROTO_TCP, TCP_NODELAY) != 0));
    printf("  SO_KEEPALIVE default %d", opt(c, SOL_SOCKET, SO_KEEPALIVE));
    setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    printf(", set %d\n", opt(c, SOL_SOCKET, SO_KEEPALIVE));
    printf("  SO_REUSEADDR default %d, SO_ERROR %d, SO_TYPE stream %s, SO_PROTOCOL tcp %s\n",
           opt(c, SOL_SOCKET, SO_REUSEADDR), opt(c, SOL_SOCKET, SO_ERROR), tf(opt(c, SOL_SOCKET, SO_TYPE) == SOCK_STREAM),
           tf(opt(c, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP));
    printf("  TCP_NODELAY with a short optlen: %s\n", ({
               char ch = 1;
               err(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &ch, 1));
           }));
    close(s);
    close(c);

    // Refused connects: blocking, then nonblocking.
    addr_t ca;
    socklen_t calen;
    int holder = closed_port(family, ip, &ca, &calen);
    c = socket(family, SOCK_STREAM, 0);
    printf("  connect to a closed port: %s\n", err(connect(c, (struct sockaddr*)&ca, calen)));
    printf("  then SO_ERROR %d", opt(c, SOL_SOCKET, SO_ERROR));
    printf(", connect again: %s\n", err(connect(c, (struct sockaddr*)&ca, calen)));
    close(c);
    for (int refused = 0; refused <= 1; refused++) {
        c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        addr_t* to = refused ? &ca : &la;
        socklen_t tolen = refused ? calen : lalen;
        const char* what = refused ? "a closed port" : "the listener";
        printf("  nonblocking connect to %s: %s\n", what, err(connect(c, (struct sockaddr*)to, tolen)));
        ev = wait_for(c, POLLOUT, 2000);
        usleep(20000);
        ev = wait_for(c, POLLIN | POLLOUT | POLLRDHUP, 0);
        int so = opt(c, SOL_SOCKET, SO_ERROR);
        printf("    poll %s, SO_ERROR %s", events_str(ev), so ? strerrorname_np(so) : "0");
        printf(", then poll %s\n", events_str(wait_for(c, POLLIN | POLLOUT | POLLRDHUP, 0)));
        printf("    connect again: %s\n", err(connect(c, (struct sockaddr*)to, tolen)));
        if (!refused) {
            s = accept(l, NULL, NULL);
            close(s);
        }
        close(c);
    }
    close(holder);

    // Local addresses.
    const char* other = family == AF_INET ? "127.0.0.2" : "::2";
    const char* foreign = family == AF_INET ? "10.255.255.1" : "2001:db8::1";
    addr_t b;
    socklen_t blen = make_addr(&b, family, other, 0);
    c = socket(family, SOCK_STREAM, 0);
    printf("  bind %s: %s\n", other, err(bind(c, (struct sockaddr*)&b, blen)));
    close(c);
    blen = make_addr(&b, family, foreign, 0);
    c = socket(family, SOCK_STREAM, 0);
    printf("  bind %s: %s\n", foreign, err(bind(c, (struct sockaddr*)&b, blen)));
    close(c);

    // Conflicts on the listener's port.
    c = socket(family, SOCK_STREAM, 0);
    printf("  bind the listening port: %s\n", err(bind(c, (struct sockaddr*)&la, lalen)));
    close(c);
    c = socket(family, SOCK_STREAM, 0);
    setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    printf("  the same with SO_REUSEADDR: %s\n", err(bind(c, (struct sockaddr*)&la, lalen)));
    close(c);
    b = la;
    if (family == AF_INET)
        ((struct sockaddr_in*)&b)->sin_addr.s_addr = htonl(INADDR_ANY);
    else
        ((struct sockaddr_in6*)&b)->sin6_addr = in6addr_any;
    c = socket(family, SOCK_STREAM, 0);
    printf("  bind the wildcard address on that port: %s\n", err(bind(c, (struct sockaddr*)&b, lalen)));
    close(c);

    // TIME_WAIT lands on the side that closes first: here the server's, on the
    // listener's port. It keeps the SO_REUSEADDR of the listener it came from, and a
    // new bind passes it only if both have SO_REUSEADDR.
    close(l);
    for (int tw_reuse = 0; tw_reuse <= 1; tw_reuse++) {
        l = socket(family, SOCK_STREAM, 0);
        if (tw_reuse)
            setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        lalen = make_addr(&la, family, ip, 0);
        bind(l, (struct sockaddr*)&la, lalen);
        listen(l, 4);
        la = local(l, &lalen);
        c = socket(family, SOCK_STREAM, 0);
        connect(c, (struct sockaddr*)&la, lalen);
        s = accept(l, NULL, NULL);
        close(s);
        wait_for(c, POLLRDHUP, 2000);
        close(c);
        close(l);
        usleep(20000);
        printf("  server closed first, listener %s SO_REUSEADDR:\n", tw_reuse ? "with" : "without");
        for (int reuse = 0; reuse <= 1; reuse++) {
            c = socket(family, SOCK_STREAM, 0);
            if (reuse)
                setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            e = err(bind(c, (struct sockaddr*)&la, lalen));
            printf("    bind the port in TIME_WAIT %s SO_REUSEADDR: %s", reuse ? "with" : "without", e);
            if (e[0] == 'o')
                printf(", listen: %s", err(listen(c, 1)));
            printf("\n");
            close(c);
        }
    }

    // SO_REUSEPORT: two listeners on one port.
    int r1 = socket(family, SOCK_STREAM, 0), r2 = socket(family, SOCK_STREAM, 0), r3 = socket(family, SOCK_STREAM, 0);
    setsockopt(r1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(r2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    printf("  SO_REUSEPORT get: %d\n", opt(r1, SOL_SOCKET, SO_REUSEPORT));
    addr_t ra;
    socklen_t ralen = make_addr(&ra, family, ip, 0);
    bind(r1, (struct sockaddr*)&ra, ralen);
    listen(r1, 16);
    ra = local(r1, &ralen);
    printf("  second SO_REUSEPORT listener: bind %s", err(bind(r2, (struct sockaddr*)&ra, ralen)));
    printf(", listen %s\n", err(listen(r2, 16)));
    printf("  a third without SO_REUSEPORT: %s\n", err(bind(r3, (struct sockaddr*)&ra, ralen)));
    int accepted = 0;
    for (int i = 0; i < 8; i++) {
        c = socket(family, SOCK_STREAM, 0);
        connect(c, (struct sockaddr*)&ra, ralen);
        close(c);
    }
    usleep(20000);
    fcntl(r1, F_SETFL, O_NONBLOCK);
    fcntl(r2, F_SETFL, O_NONBLOCK);
    for (int fd; (fd = accept(r1, NULL, NULL)) >= 0; accepted++)
        close(fd);
    for (int fd; (fd = accept(r2, NULL, NULL)) >= 0; accepted++)
        close(fd);
    printf("  8 connections accepted between the two: %d\n", accepted);
    close(r1);
    close(r2);
    close(r3);

    // A listener without bind gets an ephemeral port.
    l = socket(family, SOCK_STREAM, 0);
    printf("  listen without bind: %s", err(listen(l, 1)));
    la = local(l, NULL);
    printf(", port ephemeral %s, address %s\n", tf(ephemeral(port_of(&la))), ip_of(&la));
    close(l);
}

static void test_dual_stack(void)
{
    printf("dual stack\n");
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    printf("  IPV6_V6ONLY default %d\n", opt(l, IPPROTO_IPV6, IPV6_V6ONLY));
    addr_t a;
    socklen_t alen = make_addr(&a, AF_INET6, "::", 0);
    bind(l, (struct sockaddr*)&a, alen);
    listen(l, 4);
    a = local(l, &alen);
    printf("  listener on %s\n", ip_of(&a));
    addr_t v4;
    socklen_t v4len = make_addr(&v4, AF_INET, "127.0.0.1", port_of(&a));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    printf("  AF_INET client connects: %s\n", err(connect(c, (struct sockaddr*)&v4, v4len)));
    addr_t pa;
    socklen_t palen = sizeof pa;
    int s = accept(l, (struct sockaddr*)&pa, &palen);
    addr_t sl = local(s, NULL), cl = local(c, NULL);
    printf("  accepted peer %s len %u, local %s\n", ip_of(&pa), (unsigned)palen, ip_of(&sl));
    printf("  peer port == client port: %s\n", tf(port_of(&pa) == port_of(&cl)));
    close(s);
    close(c);
    // The v4 wildcard on the same port conflicts with the dual-stack listener.
    c = socket(AF_INET, SOCK_STREAM, 0);
    v4len = make_addr(&v4, AF_INET, "0.0.0.0", port_of(&a));
    printf("  AF_INET bind of 0.0.0.0 on that port: %s\n", err(bind(c, (struct sockaddr*)&v4, v4len)));
    close(c);
    close(l);

    l = socket(AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    printf("  IPV6_V6ONLY set: %s", err(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)));
    printf(", get %d\n", opt(l, IPPROTO_IPV6, IPV6_V6ONLY));
    alen = make_addr(&a, AF_INET6, "::", 0);
    bind(l, (struct sockaddr*)&a, alen);
    listen(l, 4);
    a = local(l, &alen);
    c = socket(AF_INET, SOCK_STREAM, 0);
    v4len = make_addr(&v4, AF_INET, "127.0.0.1", port_of(&a));
    printf("  AF_INET client to the v6-only listener: %s\n", err(connect(c, (struct sockaddr*)&v4, v4len)));
    close(c);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    addr_t m;
    socklen_t mlen = make_addr(&m, AF_INET6, "::ffff:127.0.0.1", port_of(&a));
    printf("  AF_INET6 client to ::ffff:127.0.0.1 there: %s\n", err(connect(c, (struct sockaddr*)&m, mlen)));
    close(c);
    printf("  IPV6_V6ONLY after bind: %s\n", err(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)));
    close(l);
    c = socket(AF_INET, SOCK_STREAM, 0);
    printf("  IPV6_V6ONLY on an AF_INET socket: %s\n", err(setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)));
    close(c);
    // A v6 socket connecting to a v4-mapped address reaches an AF_INET listener.
    l = socket(AF_INET, SOCK_STREAM, 0);
    v4len = make_addr(&v4, AF_INET, "127.0.0.1", 0);
    bind(l, (struct sockaddr*)&v4, v4len);
    listen(l, 4);
    v4 = local(l, NULL);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    mlen = make_addr(&m, AF_INET6, "::ffff:127.0.0.1", port_of(&v4));
    printf("  AF_INET6 client to ::ffff:127.0.0.1 on an AF_INET listener: %s\n", err(connect(c, (struct sockaddr*)&m, mlen)));
    s = accept(l, (struct sockaddr*)&pa, &(socklen_t){sizeof pa});
    addr_t cl6 = local(c, NULL);
    printf("  accepted peer %s, client's own name %s\n", ip_of(&pa), ip_of(&cl6));
    close(s);
    close(c);
    close(l);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_family(AF_INET, "127.0.0.1");
    test_family(AF_INET6, "::1");
    test_dual_stack();
    return 0;
}
