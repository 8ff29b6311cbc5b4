// 100 MB through each kind of connected socket, writer and reader in two processes:
// unix stream socketpair, unix stream over a pathname listener, unix seqpacket
// socketpair (messages of up to 128 KiB, which fit the default sndbuf), TCP over
// 127.0.0.1 and over ::1. The stream is a function of the byte position (splitmix64
// of each 8-byte block), so the reader regenerates and compares what it receives in
// whatever pieces it arrives. Writes cycle through 1, 100, 65536 and 1 MiB bytes (some
// writers are nonblocking with poll, to get short writes); reads cycle through other
// sizes. Prints sizes, the FNV-1a 64 of the data and whether it matched.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (100ull << 20)

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// The stream's bytes [pos, pos + n).
static void fill(uint8_t* buf, uint64_t pos, size_t n)
{
    while (n > 0 && (pos & 7)) {
        *buf++ = (uint8_t)(splitmix64(pos >> 3) >> (8 * (pos & 7)));
        pos++;
        n--;
    }
    while (n >= 8) {
        uint64_t w = splitmix64(pos >> 3);
        memcpy(buf, &w, 8);
        buf += 8;
        pos += 8;
        n -= 8;
    }
    while (n > 0) {
        *buf++ = (uint8_t)(splitmix64(pos >> 3) >> (8 * (pos & 7)));
        pos++;
        n--;
    }
}

static uint64_t fnv1a(uint64_t h, const uint8_t* p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static const size_t write_sizes[] = {1, 100, 65536, 1 << 20};
static const size_t read_sizes[] = {1, 3, 1000, 4096, 65536, 1 << 20, 7, 300000};
static const size_t message_sizes[] = {1, 100, 65536, 131072};

static uint8_t* out_buf;
static uint8_t* in_buf;
static uint8_t* expect_buf;

// Writes everything; a nonblocking fd waits in poll when it would block.
static int write_all(int fd, const uint8_t* p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, -1);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= w;
    }
    return 0;
}

static void writer(int fd, int messages)
{
    uint64_t pos = 0;
    for (unsigned i = 0; pos < TOTAL; i++) {
        size_t n = messages ? message_sizes[i % 4] : write_sizes[i % 4];
        if (n > TOTAL - pos)
            n = TOTAL - pos;
        fill(out_buf, pos, n);
        if (messages) {
            if (send(fd, out_buf, n, 0) != (ssize_t)n) {
                perror("send");
                _exit(1);
            }
        } else if (write_all(fd, out_buf, n)) {
            perror("write");
            _exit(1);
        }
        pos += n;
    }
    close(fd);
    _exit(0);
}

struct result {
    uint64_t bytes, hash, messages;
    int match;
};

static struct result reader(int fd, int messages)
{
    struct result r = {0, FNV_INIT, 0, 1};
    for (unsigned i = 0;; i++) {
        size_t want = messages ? (256 << 10) : read_sizes[i % 8];
        ssize_t n = read(fd, in_buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("read");
            r.match = 0;
            break;
        }
        if (n == 0)
            break;
        if (messages) {
            size_t expect = message_sizes[r.messages % 4];
            if (expect > TOTAL - r.bytes)
                expect = TOTAL - r.bytes;
            if ((size_t)n != expect)
                r.match = 0;
            r.messages++;
        }
        fill(expect_buf, r.bytes, n);
        if (memcmp(expect_buf, in_buf, n))
            r.match = 0;
        r.hash = fnv1a(r.hash, in_buf, n);
        r.bytes += n;
    }
    return r;
}

static void run(const char* name, int wfd, int rfd, int messages, int nonblocking_writer, int* close_in_child, int nclose)
{
    pid_t child = fork();
    if (child == 0) {
        close(rfd);
        for (int i = 0; i < nclose; i++)
            close(close_in_child[i]);
        if (nonblocking_writer)
            fcntl(wfd, F_SETFL, O_NONBLOCK);
        writer(wfd, messages);
    }
    close(wfd);
    struct result r = reader(rfd, messages);
    close(rfd);
    int status;
    waitpid(child, &status, 0);
    printf("%s: writer %s, %llu bytes", name, nonblocking_writer ? "nonblocking with poll" : "blocking",
           (unsigned long long)r.bytes);
    if (messages)
        printf(" in %llu messages", (unsigned long long)r.messages);
    printf(", FNV-1a 64 %016llx, match: %s, writer exit %d\n", (unsigned long long)r.hash,
           r.match && r.bytes == TOTAL ? "true" : "false", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void tcp(int family)
{
    int l = socket(family, SOCK_STREAM, 0);
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t alen;
    if (family == AF_INET) {
        struct sockaddr_in* s = (struct sockaddr_in*)&a;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        alen = sizeof *s;
    } else {
        struct sockaddr_in6* s = (struct sockaddr_in6*)&a;
        s->sin6_family = AF_INET6;
        s->sin6_addr = in6addr_loopback;
        alen = sizeof *s;
    }
    if (bind(l, (struct sockaddr*)&a, alen) || listen(l, 1) || getsockname(l, (struct sockaddr*)&a, &alen)) {
        perror("listener");
        exit(1);
    }
    int c = socket(family, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr*)&a, alen)) {
        perror("connect");
        exit(1);
    }
    int s = accept(l, NULL, NULL);
    close(l);
    run(family == AF_INET ? "tcp 127.0.0.1" : "tcp ::1", c, s, 0, family == AF_INET6, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    out_buf = malloc(1 << 20);
    in_buf = malloc(1 << 20);
    expect_buf = malloc(1 << 20);
    uint8_t* all = malloc(1 << 20);
    uint64_t h = FNV_INIT;
    for (uint64_t pos = 0; pos < TOTAL; pos += 1 << 20) {
        fill(all, pos, 1 << 20);
        h = fnv1a(h, all, 1 << 20);
    }
    free(all);
    printf("expected: %llu bytes, FNV-1a 64 %016llx\n", (unsigned long long)TOTAL, (unsigned long long)h);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    run("unix stream socketpair", sv[0], sv[1], 0, 0, NULL, 0);

    char dir[] = "/tmp/net_bulk.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(l, (struct sockaddr*)&un, sizeof un);
    listen(l, 1);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr*)&un, sizeof un);
    int s = accept(l, NULL, NULL);
    close(l);
    unlink(un.sun_path);
    rmdir(dir);
    run("unix stream via pathname", c, s, 0, 1, NULL, 0);

    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    run("unix seqpacket socketpair", sv[0], sv[1], 1, 0, NULL, 0);

    tcp(AF_INET);
    tcp(AF_INET6);
    return 0;
}
