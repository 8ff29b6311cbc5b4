// eventfd: a 64-bit counter that write adds to and read takes (all of it, or 1 with
// EFD_SEMAPHORE); a non-blocking read at 0 and a write that would pass
// 0xfffffffffffffffe are EAGAIN; 0xffffffffffffffff and buffers under 8 bytes are
// EINVAL, and so is a write of more than 8 (Linux >= 6.10); a blocked read is woken
// by a write from another thread or process, a blocked write by a read; poll, select
// and epoll see POLLIN while the counter is above 0 and POLLOUT while it has room;
// bad flags are EINVAL; a forked child shares the counter. Also what eventfd, timerfd,
// signalfd and epoll files share: one anonymous inode for fstat, noop lseek, empty
// reads and writes, FIONBIO and FIONREAD.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

static void rd(int fd, const char* what)
{
    uint64_t v = 0;
    errno = 0;
    ssize_t n = read(fd, &v, sizeof v);
    if (n < 0)
        printf("%s: read -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: read %zd value %#llx\n", what, n, (unsigned long long)v);
}

static void wr(int fd, uint64_t v, const char* what)
{
    errno = 0;
    ssize_t n = write(fd, &v, sizeof v);
    printf("%s: write %#llx = %zd %s\n", what, (unsigned long long)v, n, n < 0 ? strerrorname_np(errno) : "");
}

static const char* pollstr(int fd)
{
    static char buf[64];
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    int n = poll(&p, 1, 0);
    snprintf(buf, sizeof buf, "%d%s%s%s", n, (p.revents & POLLIN) ? " IN" : "", (p.revents & POLLOUT) ? " OUT" : "",
             (p.revents & ~(POLLIN | POLLOUT)) ? " other" : "");
    return buf;
}

static void* later_write(void* arg)
{
    usleep(50000);
    uint64_t v = 9;
    write(*(int*)arg, &v, sizeof v);
    return NULL;
}

static void* later_read(void* arg)
{
    usleep(50000);
    uint64_t v;
    read(*(int*)arg, &v, sizeof v);
    return NULL;
}

static uint64_t g_read_value;
static void* later_close_then_read(void* arg)
{
    read(*(int*)arg, &g_read_value, sizeof g_read_value);
    return NULL;
}

// Pointers and sizes the compiler must not reason about.
static void* volatile g_unmapped = (void*)8;
static void* volatile g_kernel = (void*)0xffff800000000000ULL;
static volatile size_t g_four = 4;

static void anon_files(void)
{
    sigset_t s;
    sigemptyset(&s);
    int fds[4] = {epoll_create1(0), eventfd(0, EFD_NONBLOCK), timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK),
        signalfd(-1, &s, SFD_NONBLOCK)};
    const char* names[4] = {"epoll", "eventfd", "timerfd", "signalfd"};
    struct stat first;
    fstat(fds[0], &first);
    for (int i = 0; i < 4; i++) {
        struct stat st;
        int r = fstat(fds[i], &st);
        printf("%s: fstat %d mode %o nlink %lu size %lld blksize %ld same inode as the epoll's %s uid %d\n", names[i], r,
               st.st_mode, (unsigned long)st.st_nlink, (long long)st.st_size, (long)st.st_blksize,
               tf(st.st_ino == first.st_ino && st.st_dev == first.st_dev && st.st_ino > 0), st.st_uid);
        char buf[16];
        errno = 0;
        ssize_t n = read(fds[i], buf, 0);
        printf("  read 0 bytes: %zd %s", n, strerrorname_np(errno));
        errno = 0;
        n = write(fds[i], buf, 0);
        printf(", write 0 bytes: %zd %s", n, strerrorname_np(errno));
        errno = 0;
        long long off = lseek(fds[i], 100, SEEK_SET);
        printf(", lseek: %lld %s", off, strerrorname_np(errno));
        int v = -1;
        errno = 0;
        int r2 = ioctl(fds[i], FIONREAD, &v);
        printf(", FIONREAD: %d %s", r2, strerrorname_np(errno));
        int off_flag = 0;
        ioctl(fds[i], FIONBIO, &off_flag);
        printf(", FIONBIO 0: O_NONBLOCK %s\n", tf(fcntl(fds[i], F_GETFL) & O_NONBLOCK));
        close(fds[i]);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = eventfd(3, 0);
    printf("eventfd(3, 0): O_RDWR %s O_NONBLOCK %s cloexec %s\n", tf((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR),
           tf(fcntl(fd, F_GETFL) & O_NONBLOCK), tf(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    char link[64] = {0};
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("readlink: %s\n", link);
    errno = 0;
    long long off = lseek(fd, 0, SEEK_SET);
    printf("lseek: %lld %s\n", off, strerrorname_np(errno));
    rd(fd, "initial 3");
    wr(fd, 5, "add");
    wr(fd, 7, "add");
    rd(fd, "sum");
    wr(fd, 0, "zero");
    printf("poll after writing 0: %s\n", pollstr(fd));

    // Sizes.
    uint64_t big[2] = {4, 100};
    // Linux >= 6.10 (commit "eventfd: strictly check the count parameter of
    // eventfd_write") takes exactly 8 bytes per write; a read may offer more.
    errno = 0;
    ssize_t n = write(fd, big, sizeof big);
    printf("16-byte write: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    wr(fd, 4, "add 4");
    errno = 0;
    n = read(fd, big, sizeof big);
    printf("16-byte read: %zd value %llu second word untouched %s\n", n, (unsigned long long)big[0],
           tf(big[1] == 100));
    char small[8];
    wr(fd, 1, "one");
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    errno = 0;
    n = read(fd, small, g_four);
    printf("4-byte read: %zd %s\n", n, strerrorname_np(errno));
    errno = 0;
    n = write(fd, small, g_four);
    printf("4-byte write: %zd %s\n", n, strerrorname_np(errno));
    errno = 0;
    n = write(fd, g_unmapped, 8);
    printf("write from an unmapped buffer: %zd %s\n", n, strerrorname_np(errno));
    rd(fd, "the count after a faulting write");
    wr(fd, 6, "six");
    errno = 0;
    n = read(fd, g_kernel, 8);
    printf("read into a kernel address: %zd %s\n", n, strerrorname_np(errno));
    rd(fd, "the count after it (checked before the read)");
    wr(fd, 6, "six");
    errno = 0;
    n = pread(fd, small, 8, 0);
    printf("pread: %zd %s\n", n, strerrorname_np(errno));
    errno = 0;
    n = pwrite(fd, small, 8, 0);
    printf("pwrite: %zd %s\n", n, strerrorname_np(errno));
    errno = 0;
    n = read(fd, g_unmapped, 8);
    printf("read into an unmapped buffer: %zd %s\n", n, strerrorname_np(errno));
    // Linux takes the count before it copies it out: a fault loses it.
    rd(fd, "the count after a faulting read");
    fcntl(fd, F_SETFL, fl);
    close(fd);

    // Non-blocking, limits.
    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC): O_NONBLOCK %s cloexec %s\n", tf(fcntl(fd, F_GETFL) & O_NONBLOCK),
           tf(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    rd(fd, "empty");
    printf("poll at 0: %s\n", pollstr(fd));
    wr(fd, 0xffffffffffffffffULL, "all ones");
    wr(fd, 0xfffffffffffffffeULL, "max");
    printf("poll at max: %s\n", pollstr(fd));
    wr(fd, 1, "one more");
    wr(fd, 0, "zero at max");
    rd(fd, "at max");
    wr(fd, 0xfffffffffffffffdULL, "max-1");
    wr(fd, 1, "one");
    wr(fd, 1, "one more");
    rd(fd, "at max again");
    close(fd);

    // Semaphore.
    fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    rd(fd, "semaphore 2");
    rd(fd, "semaphore 1");
    rd(fd, "semaphore 0");
    wr(fd, 3, "semaphore add");
    rd(fd, "semaphore 3");
    printf("poll with 2 left: %s\n", pollstr(fd));
    close(fd);

    // Blocking read woken by a thread, blocking write woken by a thread's read.
    fd = eventfd(0, 0);
    pthread_t th;
    pthread_create(&th, NULL, later_write, &fd);
    rd(fd, "blocking read, a thread writes 9");
    pthread_join(th, NULL);
    wr(fd, 0xfffffffffffffffeULL, "fill");
    pthread_create(&th, NULL, later_read, &fd);
    wr(fd, 5, "blocking write, a thread empties the counter");
    pthread_join(th, NULL);
    rd(fd, "after the blocked write");

    // A forked child shares it.
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        uint64_t v = 42;
        write(fd, &v, sizeof v);
        _exit(0);
    }
    rd(fd, "blocking read, a child writes 42");
    waitpid(child, NULL, 0);
    child = fork();
    if (child == 0) {
        uint64_t v = 0;
        read(fd, &v, sizeof v);
        _exit((int)v);
    }
    wr(fd, 17, "the parent writes");
    int st;
    waitpid(child, &st, 0);
    printf("the child read: %d\n", WEXITSTATUS(st));

    // A reader blocked while another thread closes the fd: it keeps the file (Linux
    // holds it for the read) and a write through a dup still wakes it.
    int d = dup(fd);
    pthread_create(&th, NULL, later_close_then_read, &fd);
    usleep(20000);
    close(fd);
    usleep(30000);
    wr(d, 11, "write through a dup after the reader's fd was closed");
    pthread_join(th, NULL);
    printf("the blocked reader got: %llu\n", (unsigned long long)g_read_value);
    fd = d;

    // epoll and select.
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    struct epoll_event out[2];
    n = epoll_wait(ep, out, 2, 0);
    printf("epoll, counter 0: %zd %s%s\n", n, (out[0].events & EPOLLIN) ? "IN " : "", (out[0].events & EPOLLOUT) ? "OUT" : "");
    n = epoll_wait(ep, out, 2, 0);
    printf("epoll edge, nothing new: %zd\n", n);
    pthread_create(&th, NULL, later_write, &fd);
    n = epoll_wait(ep, out, 2, 5000);
    printf("epoll edge, a thread writes: %zd %s%s\n", n, (out[0].events & EPOLLIN) ? "IN " : "",
           (out[0].events & EPOLLOUT) ? "OUT" : "");
    pthread_join(th, NULL);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(fd, &rs);
    FD_SET(fd, &ws);
    struct timeval tv = {0, 0};
    n = select(fd + 1, &rs, &ws, NULL, &tv);
    printf("select, counter 9: %zd read %s write %s\n", n, tf(FD_ISSET(fd, &rs)), tf(FD_ISSET(fd, &ws)));
    rd(fd, "drain");
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    tv.tv_usec = 20000;
    n = select(fd + 1, &rs, NULL, NULL, &tv);
    printf("select for reading, counter 0: %zd\n", n);
    close(ep);
    close(fd);

    // Flags.
    errno = 0;
    int r = eventfd(0, 2);
    printf("eventfd2 flags 2: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = eventfd(0, O_RDWR);
    printf("eventfd2 flags O_RDWR: %d %s\n", r, strerrorname_np(errno));
    fd = (int)syscall(SYS_eventfd, 5);
    printf("eventfd (no flags): O_NONBLOCK %s cloexec %s\n", tf(fcntl(fd, F_GETFL) & O_NONBLOCK),
           tf(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    rd(fd, "eventfd(5)");
    fd = eventfd(0xffffffffu, 0);
    rd(fd, "eventfd(0xffffffff)");
    anon_files();
    return 0;
}
