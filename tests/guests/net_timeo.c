// SO_RCVTIMEO and SO_SNDTIMEO: a blocking recv, accept or send waits at most the
// timeout, then returns EAGAIN (or what it moved); a signal ends such a wait with
// EINTR even under SA_RESTART; bad values are refused.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char* res(long r) { static char b[32]; if (r < 0) return strerrorname_np(errno); snprintf(b, sizeof b, "%ld", r); return b; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = {0, 100000}, got;
    printf("set SO_RCVTIMEO 0.1 s: %s\n", res(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
    socklen_t len = sizeof got;
    getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &len);
    printf("reads back: %ld.%06ld, len %u\n", (long)got.tv_sec, (long)got.tv_usec, len);
    char buf[64];
    double t0 = now();
    long r = recv(sv[1], buf, sizeof buf, 0);
    double waited = now() - t0;
    printf("recv on an empty socket: %s, waited 0.09..2 s: %s\n", res(r), waited >= 0.09 && waited < 2 ? "true" : "false");
    send(sv[0], "abc", 3, 0);
    printf("recv with data: %s\n", res(recv(sv[1], buf, sizeof buf, 0)));
    send(sv[0], "ab", 2, 0);
    printf("MSG_WAITALL for 10, 2 there: %s\n", res(recv(sv[1], buf, 10, MSG_WAITALL)));

    // A signal ends the bounded wait with EINTR, SA_RESTART or not.
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    printf("recv interrupted (SA_RESTART): %s\n", res(recv(sv[1], buf, sizeof buf, 0)));

    // Bad values.
    tv.tv_sec = 0;
    tv.tv_usec = 1000000;
    printf("tv_usec 1000000: %s\n", res(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
    printf("short optlen: %s\n", res(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, 4)));
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    printf("negative: %s", res(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
    len = sizeof got;
    getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &len);
    t0 = now();
    r = recv(sv[1], buf, sizeof buf, 0);
    printf(", reads back %ld.%06ld, recv: %s at once: %s\n", (long)got.tv_sec, (long)got.tv_usec, res(r),
           now() - t0 < 0.05 ? "true" : "false");

    // accept and send.
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr*)&a, sizeof a);
    listen(l, 1);
    tv.tv_sec = 0;
    tv.tv_usec = 50000;
    setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    printf("accept with nobody connecting: %s\n", res(accept(l, NULL, NULL)));
    int big = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char chunk[1 << 20];
    r = send(sv[0], chunk, sizeof chunk, 0);
    printf("send 1 MiB into a full socket: %s\n", r > 0 && r < (long)sizeof chunk ? "partial" : res(r));
    printf("send again: %s\n", res(send(sv[0], chunk, sizeof chunk, 0)));
    return 0;
}
