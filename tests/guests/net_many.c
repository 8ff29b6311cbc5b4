// Many short connections: 10,000 TCP connections to 127.0.0.1 and then 10,000 unix
// stream connections to a pathname listener, one after the other. For each the client
// connects, sends one byte, reads it back from the server (a forked child), and closes
// first, so TIME_WAIT lands on the client's ephemeral ports (10,000 of the 28,232 in
// the default range). Prints counts, and that no fd leaked.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 10000

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

// The server: accepts N connections one by one; echoes one byte, waits for the
// client's close, closes. Exits with the number of connections served.
static void server(int l)
{
    int served = 0;
    for (int i = 0; i < N; i++) {
        int s = accept(l, NULL, NULL);
        if (s < 0) {
            perror("accept");
            break;
        }
        char c;
        if (read(s, &c, 1) == 1 && write(s, &c, 1) == 1 && read(s, &c, 1) == 0)
            served++;
        close(s);
    }
    close(l);
    _exit(served == N ? 0 : 1);
}

static void run(const char* name, int family, struct sockaddr* a, socklen_t alen, int l)
{
    int fds_before = count_fds() - 1; // without the listener, which the parent closes
    pid_t child = fork();
    if (child == 0)
        server(l);
    close(l);
    int ok = 0, echoed = 0;
    for (int i = 0; i < N; i++) {
        int c = socket(family, SOCK_STREAM, 0);
        if (c < 0 || connect(c, a, alen)) {
            printf("%s: connect %d failed: %s\n", name, i, strerrorname_np(errno));
            close(c);
            break;
        }
        char b = (char)i, back = 0;
        if (write(c, &b, 1) == 1 && read(c, &back, 1) == 1 && back == b)
            echoed++;
        if (close(c) == 0)
            ok++;
    }
    int status;
    waitpid(child, &status, 0);
    printf("%s: %d connections, %d bytes echoed, %d closed, server served all: %s, fds leaked: %d\n", name, N, echoed, ok,
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "true" : "false", count_fds() - fds_before);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    if (bind(l, (struct sockaddr*)&in, sizeof in) || listen(l, 128) || getsockname(l, (struct sockaddr*)&in, &len)) {
        perror("listener");
        return 1;
    }
    run("tcp 127.0.0.1", AF_INET, (struct sockaddr*)&in, sizeof in, l);

    char dir[] = "/tmp/net_many.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr*)&un, sizeof un) || listen(l, 128)) {
        perror("unix listener");
        return 1;
    }
    run("unix stream", AF_UNIX, (struct sockaddr*)&un, sizeof un, l);
    unlink(un.sun_path);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
