// execveat: relative to a directory fd, AT_EMPTY_PATH (fexecve) on a file fd and an
// O_PATH fd, AT_SYMLINK_NOFOLLOW, and the errors for bad input. Each exec happens in
// a child; the parent prints how it ended.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long sys_execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags)
{
    return syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

static void run(const char* what, int dirfd, const char* path, int flags)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        char* argv[] = {"echo", (char*)what, NULL};
        char* envp[] = {NULL};
        sys_execveat(dirfd, path, argv, envp, flags);
        printf("%s: %s\n", what, strerrorname_np(errno));
        fflush(stdout);
        _exit(99);
    }
    int st = 0;
    waitpid(p, &st, 0);
    printf("  exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
    int bin = open("/bin", O_RDONLY | O_DIRECTORY);
    int echo = open("/bin/echo", O_RDONLY);
    int echo_path = open("/bin/echo", O_PATH);
    run("relative to a dir fd", bin, "echo", 0);
    run("absolute path ignores dirfd", 12345, "/bin/echo", 0);
    run("AT_FDCWD", AT_FDCWD, "/bin/echo", 0);
    run("AT_EMPTY_PATH on a file fd", echo, "", AT_EMPTY_PATH);
    run("AT_EMPTY_PATH on an O_PATH fd", echo_path, "", AT_EMPTY_PATH);
    char link[64];
    snprintf(link, sizeof link, "/tmp/execveat-link-%d", getpid());
    symlink("/bin/echo", link);
    run("through a symlink", AT_FDCWD, link, 0);
    run("AT_SYMLINK_NOFOLLOW on a symlink", AT_FDCWD, link, AT_SYMLINK_NOFOLLOW);
    unlink(link);
    run("empty path without AT_EMPTY_PATH", echo, "", 0);
    run("bad flags", AT_FDCWD, "/bin/echo", 0x4000000);
    run("bad dirfd", 12345, "echo", 0);
    run("a directory", AT_FDCWD, "/bin", 0);
    run("no such file", bin, "no-such-program", 0);
    run("AT_EMPTY_PATH on a directory fd", bin, "", AT_EMPTY_PATH);
    return 0;
}
