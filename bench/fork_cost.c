/* The cost of making a process: fork + _exit + waitpid, or fork + execve + waitpid.
 *
 *   fork_cost exit N          N times: fork(); the child _exit(0)s; waitpid
 *   fork_cost exec N [PROG]   N times: fork(); the child execve(PROG) (default
 *                             /bin/true); waitpid; the child must exit 0
 *
 * Prints one line: fork_<mode> <microseconds per operation> us/op n=<N> secs=<total>.
 * Built and run by bench/fork_cost.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv)
{
    if (argc < 3 || (strcmp(argv[1], "exit") && strcmp(argv[1], "exec")) || atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: %s exit|exec N [PROG]\n", argv[0]);
        return 2;
    }
    int exec = !strcmp(argv[1], "exec");
    long n = atol(argv[2]);
    char* prog = argc > 3 ? argv[3] : "/bin/true";
    char* cargv[] = {prog, NULL};
    double t0 = now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            if (exec)
                execve(prog, cargv, environ);
            _exit(exec ? 127 : 0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "child %ld failed: status 0x%x\n", i, st);
            return 1;
        }
    }
    double secs = now() - t0;
    printf("fork_%s %.1f us/op n=%ld secs=%.3f\n", argv[1], secs * 1e6 / (double)n, n, secs);
    return 0;
}
