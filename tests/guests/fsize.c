// RLIMIT_FSIZE: a write to a regular file stops at the limit, a write at the limit
// is EFBIG with SIGXFSZ (ignored here; by default it kills with a core), pwrite and
// O_APPEND count from their own offsets, and pipes are not limited.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* res(long r) { static char b[32]; if (r < 0) return strerrorname_np(errno); snprintf(b, sizeof b, "%ld", r); return b; }
static volatile sig_atomic_t xfsz;
static void on_xfsz(int s) { (void)s; xfsz++; }

int main(void)
{
    char path[] = "/tmp/fsize.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    signal(SIGXFSZ, on_xfsz);
    struct rlimit lim = {1000, 1000};
    setrlimit(RLIMIT_FSIZE, &lim);
    printf("write 1500 under a 1000 limit: %s\n", res(write(fd, buf, 1500)));
    long r = write(fd, buf, 10);
    printf("write at the limit: %s, SIGXFSZ %d\n", res(r), (int)xfsz);
    printf("pwrite at 990 of 100: %s\n", res(pwrite(fd, buf, 100, 990)));
    r = pwrite(fd, buf, 1, 5000);
    printf("pwrite at 5000: %s, SIGXFSZ %d\n", res(r), (int)xfsz);
    ftruncate(fd, 500);
    char p2[] = "/tmp/fsize.XXXXXX";
    int ap = mkstemp(p2);
    unlink(p2);
    write(ap, buf, 600);
    int afd = fcntl(ap, F_DUPFD_CLOEXEC, 0);
    fcntl(afd, F_SETFL, O_APPEND);
    printf("append 600 onto 600: %s\n", res(write(afd, buf, 600)));
    int pfd[2];
    pipe(pfd);
    printf("a pipe is not limited: %s\n", res(write(pfd[1], buf, 2000)));
    pid_t c = fork();
    if (c == 0) {
        signal(SIGXFSZ, SIG_DFL);
        write(fd, buf, 2000);
        write(fd, buf, 1);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("default SIGXFSZ: killed by %s\n", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "nothing");
    return 0;
}
