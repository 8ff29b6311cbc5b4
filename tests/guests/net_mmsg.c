// sendmmsg and recvmmsg over UDP and a unix datagram pair: counts, per-entry
// lengths, names and MSG_TRUNC; a batch that meets an error after some entries
// returns their count.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void batch(const char* what, int tx, int rx, const struct sockaddr* to, socklen_t tolen)
{
    char data[3][100];
    struct iovec iov[3];
    struct mmsghdr m[3];
    memset(m, 0, sizeof m);
    size_t sizes[3] = {1, 50, 100};
    for (int i = 0; i < 3; i++) {
        memset(data[i], 'a' + i, sizeof data[i]);
        iov[i].iov_base = data[i];
        iov[i].iov_len = sizes[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = (void*)to;
        m[i].msg_hdr.msg_namelen = tolen;
    }
    int n = sendmmsg(tx, m, 3, 0);
    printf("%s: sendmmsg %d, lens %u %u %u\n", what, n, m[0].msg_len, m[1].msg_len, m[2].msg_len);

    char in[5][64];
    struct iovec riov[5];
    struct mmsghdr r[5];
    struct sockaddr_storage from[5];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 5; i++) {
        riov[i].iov_base = in[i];
        riov[i].iov_len = sizeof in[i];
        r[i].msg_hdr.msg_iov = &riov[i];
        r[i].msg_hdr.msg_iovlen = 1;
        r[i].msg_hdr.msg_name = &from[i];
        r[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    n = recvmmsg(rx, r, 5, MSG_WAITFORONE, NULL);
    printf("%s: recvmmsg %d:", what, n);
    for (int i = 0; i < n; i++)
        printf(" [len %u trunc %d first %c namelen>0 %d]", r[i].msg_len, !!(r[i].msg_hdr.msg_flags & MSG_TRUNC), in[i][0],
               r[i].msg_hdr.msg_namelen > 0);
    printf("\n");
    n = recvmmsg(rx, r, 5, MSG_DONTWAIT, NULL);
    printf("%s: recvmmsg on an empty queue: %d %s\n", what, n, n < 0 ? strerrorname_np(errno) : "");
}

int main(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(b, (struct sockaddr*)&sin, sizeof sin);
    socklen_t len = sizeof sin;
    getsockname(b, (struct sockaddr*)&sin, &len);
    batch("udp", a, b, (struct sockaddr*)&sin, sizeof sin);

    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    batch("unix dgram", sv[0], sv[1], NULL, 0);

    // An error part way: the second entry names a bad address length.
    struct iovec iov = {.iov_base = "x", .iov_len = 1};
    struct mmsghdr m[2];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 2; i++) {
        m[i].msg_hdr.msg_iov = &iov;
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &sin;
        m[i].msg_hdr.msg_namelen = i == 0 ? sizeof sin : 3;
    }
    int n = sendmmsg(a, m, 2, 0);
    printf("error on the second entry: %d\n", n);
    m[0].msg_hdr.msg_namelen = 3;
    n = sendmmsg(a, m, 2, 0);
    printf("error on the first entry: %d %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    return 0;
}
