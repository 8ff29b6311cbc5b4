/* The cost of the sandbox's own network: bulk data over TCP and unix stream sockets,
 * and TCP connection set-up and teardown.
 *
 *   net_cost tcp_stream MIB     a child connects to the parent's listener on
 *                               127.0.0.1 and writes MIB MiB in 64 KiB writes; the
 *                               parent accepts and reads until EOF (64 KiB reads)
 *   net_cost unix_stream MIB    the same over socketpair(AF_UNIX, SOCK_STREAM)
 *   net_cost tcp_connect N      in one process, N times: socket + connect to a
 *                               listener on 127.0.0.1 + accept + close both ends
 *
 * The parent times its own loop (from the fork, or the first socket, to the last
 * byte or the last close) and prints one line:
 *   <mode> <rate> MB/s bytes=<N> secs=<total>        (1 MB = 1e6 bytes)
 *   <mode> <rate> conn/s n=<N> secs=<total>
 * It checks what it reads (the byte count, and that every read starts with the byte
 * the writer put at that offset) and the child's exit status, and exits 1 on any
 * error. Built and run by bench/net_cost.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { k_chunk = 64 * 1024 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "net_cost: %s: %s\n", what, strerror(errno));
    return 1;
}

/* The writer's byte at offset off: the index of its 64 KiB chunk. */
static unsigned char pattern_at(long long off)
{
    return (unsigned char)(off / k_chunk);
}

/* The child's side: writes total bytes to fd in 64 KiB writes, then exits. */
__attribute__((noreturn)) static void write_all(int fd, long long total)
{
    static char buf[k_chunk];
    for (long long off = 0; off < total;) {
        memset(buf, pattern_at(off), sizeof buf);
        size_t want = total - off < k_chunk ? (size_t)(total - off) : k_chunk;
        size_t done = 0;
        while (done < want) {
            ssize_t w = write(fd, buf + done, want - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                _exit(fail("write"));
            }
            done += (size_t)w;
        }
        off += (long long)want;
    }
    _exit(close(fd) == 0 ? 0 : fail("close"));
}

/* The parent's side: reads fd until EOF; returns the bytes read, or -1. */
static long long read_all(int fd)
{
    static char buf[k_chunk];
    long long off = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fail("read");
            return -1;
        }
        if (r == 0)
            return off;
        if ((unsigned char)buf[0] != pattern_at(off)) {
            fprintf(stderr, "net_cost: wrong byte at offset %lld\n", off);
            return -1;
        }
        off += r;
    }
}

static int reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "net_cost: the writer failed (status 0x%x)\n", status);
        return 1;
    }
    return 0;
}

static int report_stream(const char *mode, long long got, long long total, double secs)
{
    if (got != total) {
        fprintf(stderr, "net_cost: read %lld bytes, want %lld\n", got, total);
        return 1;
    }
    printf("%s %.1f MB/s bytes=%lld secs=%.3f\n", mode, (double)total / secs / 1e6, total, secs);
    return 0;
}

static int listener(struct sockaddr_in *addr, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return fail("socket"), -1;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) != 0)
        return fail("bind/listen"), -1;
    return fd;
}

static int bench_tcp_stream(long long total)
{
    struct sockaddr_in addr;
    int lfd = listener(&addr, 1);
    if (lfd < 0)
        return 1;
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork");
    if (pid == 0) {
        close(lfd);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            _exit(fail("connect"));
        write_all(fd, total);
    }
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return fail("accept");
    long long got = read_all(fd);
    double secs = now() - t0;
    close(fd);
    close(lfd);
    if (reap(pid) != 0)
        return 1;
    return report_stream("tcp_stream", got, total, secs);
}

static int bench_unix_stream(long long total)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return fail("socketpair");
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork");
    if (pid == 0) {
        close(sv[0]);
        write_all(sv[1], total);
    }
    close(sv[1]);
    long long got = read_all(sv[0]);
    double secs = now() - t0;
    close(sv[0]);
    if (reap(pid) != 0)
        return 1;
    return report_stream("unix_stream", got, total, secs);
}

static int bench_tcp_connect(long n)
{
    struct sockaddr_in addr;
    int lfd = listener(&addr, 16);
    if (lfd < 0)
        return 1;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0)
            return fail("socket");
        /* The handshake completes against the listener's queue before the accept. */
        if (connect(c, (struct sockaddr *)&addr, sizeof addr) != 0)
            return fail("connect");
        int a = accept(lfd, NULL, NULL);
        if (a < 0)
            return fail("accept");
        /* The accepted end closes first: the TIME_WAIT is the server side's, and
         * the client's ephemeral port is free again at once (n can exceed the
         * ephemeral range). */
        if (close(a) != 0 || close(c) != 0)
            return fail("close");
    }
    double secs = now() - t0;
    close(lfd);
    printf("tcp_connect %.1f conn/s n=%ld secs=%.3f\n", (double)n / secs, n, secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_cost tcp_stream|unix_stream MIB | tcp_connect N\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "net_cost: bad count '%s'\n", argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "tcp_stream") == 0)
        return bench_tcp_stream((long long)n << 20);
    if (strcmp(argv[1], "unix_stream") == 0)
        return bench_unix_stream((long long)n << 20);
    if (strcmp(argv[1], "tcp_connect") == 0)
        return bench_tcp_connect(n);
    fprintf(stderr, "net_cost: unknown mode '%s'\n", argv[1]);
    return 2;
}
