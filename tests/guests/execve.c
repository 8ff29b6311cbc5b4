// execve: failures return the right errno and leave the caller running; a child execs
// a shell with a custom environment; finally the process itself becomes /bin/echo.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static void try_exec(const char* path)
{
    char* argv[] = {(char*)path, NULL};
    errno = 0;
    int r = execve(path, argv, environ);
    printf("execve(\"%s\") = %d %s\n", path, r, strerrorname_np(errno));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    try_exec("/nonexistent/program");
    try_exec("/etc/os-release"); // not executable
    try_exec("/usr");            // a directory
    try_exec("/bin/true/x");     // a path through a non-directory

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char* argv[] = {"sh", "-c", "echo \"child: FOO=$FOO argc=$#\"; exit 7", "sh", "a", "b", NULL};
        char* envp[] = {"FOO=bar", NULL};
        execve("/bin/sh", argv, envp);
        _exit(99);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child exited: %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));

    fflush(stdout);
    char* argv[] = {"echo", "hello", "from", "execve", NULL};
    execve("/bin/echo", argv, environ);
    printf("execve(/bin/echo) failed: %s\n", strerrorname_np(errno));
    return 1;
}
