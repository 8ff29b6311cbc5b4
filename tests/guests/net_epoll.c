// An edge-triggered epoll echo server, as event loops are written: one nonblocking
// listening socket, accepts until EAGAIN, reads until EAGAIN, echoes what it read.
// 50 clients, forked children, connect at once; each sends 10 lines one at a time and
// checks each echo before the next. Run over TCP on 127.0.0.1 and over a unix pathname
// listener. Prints totals.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLIENTS 50
#define LINES 10

static int client(struct sockaddr* a, socklen_t alen, int id)
{
    int c = socket(a->sa_family, SOCK_STREAM, 0);
    if (connect(c, a, alen))
        return 2;
    for (int i = 0; i < LINES; i++) {
        char line[64], back[64];
        int n = snprintf(line, sizeof line, "client %d line %d\n", id, i);
        if (write(c, line, n) != n)
            return 3;
        int got = 0;
        while (got < n) {
            ssize_t r = read(c, back + got, n - got);
            if (r <= 0)
                return 4;
            got += r;
        }
        if (memcmp(line, back, n))
            return 5;
    }
    close(c);
    return 0;
}

struct totals {
    int accepted, closed, bytes, lines, eagain_accepts, events;
};

static struct totals serve(int l)
{
    struct totals t = {0};
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = l};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    while (t.closed < CLIENTS) {
        struct epoll_event evs[16];
        int n = epoll_wait(ep, evs, 16, 10000);
        if (n <= 0) {
            printf("epoll_wait: %s\n", n == 0 ? "timed out" : strerrorname_np(errno));
            break;
        }
        t.events += n;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                for (;;) {
                    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (s < 0) {
                        if (errno == EAGAIN)
                            t.eagain_accepts++;
                        else
                            printf("accept4: %s\n", strerrorname_np(errno));
                        break;
                    }
                    t.accepted++;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = s};
                    epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev);
                }
                continue;
            }
            for (;;) {
                char buf[4096];
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    t.bytes += r;
                    for (ssize_t k = 0; k < r; k++)
                        t.lines += buf[k] == '\n';
                    if (write(fd, buf, r) != r)
                        printf("short echo\n");
                    continue;
                }
                if (r == 0 || errno != EAGAIN) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    close(fd);
                    t.closed++;
                }
                break;
            }
        }
    }
    close(ep);
    return t;
}

static void run(const char* name, int l, struct sockaddr* a, socklen_t alen)
{
    fcntl(l, F_SETFL, O_NONBLOCK);
    pid_t kids[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(l);
            _exit(client(a, alen, i));
        }
    }
    struct totals t = serve(l);
    close(l);
    int ok = 0;
    for (int i = 0; i < CLIENTS; i++) {
        int status;
        waitpid(kids[i], &status, 0);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    printf("%s: accepted %d, closed %d, lines echoed %d, bytes %d, clients that checked every echo: %d, "
           "accept ended in EAGAIN at least once: %s\n",
           name, t.accepted, t.closed, t.lines, t.bytes, ok, t.eagain_accepts > 0 ? "true" : "false");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    if (bind(l, (struct sockaddr*)&in, sizeof in) || listen(l, 64) || getsockname(l, (struct sockaddr*)&in, &len)) {
        perror("listener");
        return 1;
    }
    run("tcp 127.0.0.1", l, (struct sockaddr*)&in, sizeof in);

    char dir[] = "/tmp/net_epoll.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr*)&un, sizeof un) || listen(l, 64)) {
        perror("unix listener");
        return 1;
    }
    run("unix stream", l, (struct sockaddr*)&un, sizeof un);
    unlink(un.sun_path);
    rmdir(dir);
    return 0;
}
