// Bad pointers handed to the kernel must come back as EFAULT, never crash the caller
// (or the sentry). Uses raw syscall() throughout: libc wrappers may touch the pointer
// themselves (clock_gettime goes through the vDSO) and then it is the process, not the
// kernel, that faults. Prints each result and errno name, then "survived".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void report(const char* what, long r)
{
    if (r < 0)
        printf("%-44s = %ld %s\n", what, r, strerrorname_np(errno));
    else
        printf("%-44s = %ld\n", what, r);
}

#define CHECK(what, call)                                                                          \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        report(what, r_);                                                                          \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    long page = sysconf(_SC_PAGESIZE);
    // Two pages, the second one unmapped: `unmapped` is an address that is certainly bad,
    // and `edge` is a buffer whose tail runs into it.
    char* map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    munmap(map + page, page);
    void* unmapped = map + page;
    memset(map, 'e', page);
    char* edge = map + page - 16;
    void* one = (void*)1;

    int p[2];
    if (pipe(p) < 0)
        return 1;
    struct stat st;

    for (int round = 0; round < 2; round++) {
        void* bad = round == 0 ? one : unmapped;
        printf("-- bad pointer: %s\n", round == 0 ? "(void*)1" : "unmapped page");
        CHECK("write(pipe, bad, 10)", syscall(SYS_write, p[1], bad, 10));
        syscall(SYS_write, p[1], "0123456789", 10);
        CHECK("read(pipe, bad, 10)", syscall(SYS_read, p[0], bad, 10));
        CHECK("read(pipe, buf, 10) after it", syscall(SYS_read, p[0], map, 10));
        CHECK("open(bad, O_RDONLY)", syscall(SYS_open, bad, O_RDONLY));
        CHECK("openat(AT_FDCWD, bad, O_RDONLY)", syscall(SYS_openat, AT_FDCWD, bad, O_RDONLY));
        CHECK("stat(bad, &st)", syscall(SYS_stat, bad, &st));
        CHECK("stat(\"/\", bad)", syscall(SYS_stat, "/", bad));
        CHECK("lstat(\"/\", bad)", syscall(SYS_lstat, "/", bad));
        CHECK("fstat(0, bad)", syscall(SYS_fstat, 0, bad));
        CHECK("newfstatat(AT_FDCWD, \"/\", bad, 0)", syscall(SYS_newfstatat, AT_FDCWD, "/", bad, 0));
        CHECK("pipe(bad)", syscall(SYS_pipe, bad));
        CHECK("pipe2(bad, 0)", syscall(SYS_pipe2, bad, 0));
        CHECK("clock_gettime(CLOCK_MONOTONIC, bad)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad));
        CHECK("clock_gettime(CLOCK_REALTIME, bad)", syscall(SYS_clock_gettime, CLOCK_REALTIME, bad));
        CHECK("gettimeofday(bad, NULL)", syscall(SYS_gettimeofday, bad, NULL));
        CHECK("nanosleep(bad, NULL)", syscall(SYS_nanosleep, bad, NULL));
        CHECK("uname(bad)", syscall(SYS_uname, bad));
        CHECK("getcwd(bad, 4096)", syscall(SYS_getcwd, bad, 4096));
        CHECK("chdir(bad)", syscall(SYS_chdir, bad));
        CHECK("access(bad, F_OK)", syscall(SYS_access, bad, F_OK));
        CHECK("readlink(bad, buf, 64)", syscall(SYS_readlink, bad, map, 64));
        CHECK("execve(bad, NULL, NULL)", syscall(SYS_execve, bad, NULL, NULL));
        CHECK("rt_sigaction(SIGUSR1, bad, NULL, 8)", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8));
        CHECK("rt_sigprocmask(SIG_BLOCK, bad, NULL, 8)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8));
        CHECK("prlimit64(0, RLIMIT_NOFILE, NULL, bad)", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, bad));
        CHECK("sysinfo(bad)", syscall(SYS_sysinfo, bad));
        CHECK("getrandom(bad, 16, 0)", syscall(SYS_getrandom, bad, 16, 0));
        CHECK("wait4(-1, bad, WNOHANG, NULL) no children", syscall(SYS_wait4, -1, bad, 1, NULL));
        struct iovec iov = {bad, 10};
        CHECK("writev(pipe, {bad, 10}, 1)", syscall(SYS_writev, p[1], &iov, 1));
        CHECK("writev(pipe, bad, 1)", syscall(SYS_writev, p[1], bad, 1));
        syscall(SYS_write, p[1], "abc", 3);
        CHECK("readv(pipe, {bad, 10}, 1)", syscall(SYS_readv, p[0], &iov, 1));
        CHECK("read(pipe, buf, 10) after it", syscall(SYS_read, p[0], map, 10));
    }

    printf("-- zero lengths and partial buffers\n");
    CHECK("write(pipe, (void*)1, 0)", syscall(SYS_write, p[1], one, 0));
    CHECK("read(pipe, (void*)1, 0)", syscall(SYS_read, p[0], one, 0));
    CHECK("write(pipe, 16 good bytes then unmapped, 64)", syscall(SYS_write, p[1], edge, 64));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    CHECK("read(pipe, buf, 4096) what got through", syscall(SYS_read, p[0], map, 4096));
    char name[] = "/tmp/efault.XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0)
        return 1;
    unlink(name);
    CHECK("write(file, 16 good bytes then unmapped, 64)", syscall(SYS_write, fd, edge, 64));
    CHECK("lseek(file, 0, SEEK_END)", lseek(fd, 0, SEEK_END));
    CHECK("pread64(file, edge, 64, 0)", syscall(SYS_pread64, fd, edge, 64, 0));
    close(fd);
    printf("survived\n");
    return 0;
}
