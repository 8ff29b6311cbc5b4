// select, poll and epoll over 1000 descriptors (500 pipes) with exactly one of them
// ready: fds beyond FD_SETSIZE through malloc'd 2048-bit sets passed with nfds, an
// nfds larger than the fd table (bits past it ignored), and the same question asked
// through poll() and epoll. Prints which pipe was found, never fd numbers.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#define NPIPES 500
#define SETBITS 2048
#define WORDS (SETBITS / 64)

static int rd[NPIPES], wr[NPIPES];

static void set_bit(uint64_t* s, int fd) { s[fd / 64] |= 1ULL << (fd % 64); }
static int has_bit(const uint64_t* s, int fd) { return (s[fd / 64] >> (fd % 64)) & 1; }

static int which_read_end(int fd)
{
    for (int i = 0; i < NPIPES; i++)
        if (rd[i] == fd)
            return i;
    return -1;
}

static void do_select(const char* what, int nfds, int also_write)
{
    uint64_t* in = calloc(WORDS, 8);
    uint64_t* out = calloc(WORDS, 8);
    for (int i = 0; i < NPIPES; i++) {
        set_bit(in, rd[i]);
        if (also_write)
            set_bit(out, wr[i]);
    }
    struct timeval tv = {0, 20000};
    errno = 0;
    int n = select(nfds, (fd_set*)in, also_write ? (fd_set*)out : NULL, NULL, &tv);
    printf("%s: select = %d", what, n);
    if (n < 0)
        printf(" %s", strerrorname_np(errno));
    int readable = 0, writable = 0, first = -1;
    for (int fd = 0; fd < SETBITS; fd++) {
        if (has_bit(in, fd)) {
            readable++;
            if (first < 0)
                first = which_read_end(fd);
        }
        if (has_bit(out, fd))
            writable++;
    }
    printf(" readable %d (pipe %d) writable %d\n", readable, first, writable);
    free(in);
    free(out);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 2000;
    if (rl.rlim_max < rl.rlim_cur)
        rl.rlim_max = rl.rlim_cur;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        printf("setrlimit: %s\n", strerrorname_np(errno));
        return 1;
    }
    int maxfd = 0;
    for (int i = 0; i < NPIPES; i++) {
        int p[2];
        if (pipe(p) != 0) {
            printf("pipe %d: %s\n", i, strerrorname_np(errno));
            return 1;
        }
        rd[i] = p[0];
        wr[i] = p[1];
        maxfd = p[1] > maxfd ? p[1] : maxfd;
    }
    printf("500 pipes: highest fd above 1000: %s\n", maxfd > 1000 ? "true" : "false");

    do_select("nothing written", maxfd + 1, 0);
    write(wr[377], "x", 1);
    do_select("pipe 377 written", maxfd + 1, 0);
    do_select("pipe 377 written, also asking for writers", maxfd + 1, 1);
    // nfds past the fd table: the bits beyond it are ignored.
    do_select("nfds 2048", SETBITS, 0);
    // A closed fd in the set is EBADF.
    uint64_t* in = calloc(WORDS, 8);
    set_bit(in, maxfd + 5);
    errno = 0;
    struct timeval tv = {0, 0};
    int n = select(maxfd + 6, (fd_set*)in, NULL, NULL, &tv);
    printf("a closed fd past the others: select = %d %s\n", n, strerrorname_np(errno));
    free(in);

    // poll over the 1000.
    struct pollfd* p = calloc(2 * NPIPES, sizeof *p);
    for (int i = 0; i < NPIPES; i++) {
        p[2 * i] = (struct pollfd){.fd = rd[i], .events = POLLIN};
        p[2 * i + 1] = (struct pollfd){.fd = wr[i], .events = POLLIN};
    }
    n = poll(p, 2 * NPIPES, 1000);
    printf("poll over 1000: %d", n);
    for (int i = 0; i < 2 * NPIPES; i++)
        if (p[i].revents)
            printf(" [%s of pipe %d: %#x]", i % 2 ? "writer" : "reader", i / 2, p[i].revents);
    printf("\n");
    for (int i = 0; i < NPIPES; i++)
        p[2 * i + 1].events = POLLOUT;
    n = poll(p, 2 * NPIPES, 0);
    printf("poll with POLLOUT on the writers: %d\n", n);

    // And epoll.
    int ep = epoll_create1(0);
    for (int i = 0; i < NPIPES; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &e);
    }
    struct epoll_event ev[8];
    n = epoll_wait(ep, ev, 8, 1000);
    printf("epoll over 500 readers: %d pipe %u\n", n, n > 0 ? ev[0].data.u32 : 0);
    char c;
    read(rd[377], &c, 1);
    write(wr[42], "y", 1);
    n = epoll_wait(ep, ev, 8, 1000);
    printf("after reading 377 and writing 42: %d pipe %u\n", n, n > 0 ? ev[0].data.u32 : 0);
    read(rd[42], &c, 1);
    n = epoll_wait(ep, ev, 8, 20);
    printf("nothing ready: %d\n", n);
    return 0;
}
