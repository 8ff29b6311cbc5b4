// RLIMIT_NPROC stops a fork bomb: with the limit at 64, children that block on a
// pipe are forked until fork() fails with EAGAIN; a thread is refused too; zombies
// count until they are reaped; once they are, fork works again.
//
// Sentry-only (tests/e2e/forkbomb.sh): Linux does not enforce RLIMIT_NPROC on root,
// while the sandbox enforces it on its own tasks whatever the uid
// (docs/design-notes.md), so this guest is no differential test.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT 64

static void* nothing(void* arg) { return arg; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit rl = {LIMIT, LIMIT};
    if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    int release[2];
    if (pipe(release) != 0)
        return 1;
    static pid_t pids[10 * LIMIT + 1];
    int forks = 0, err = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(release[1]);
            (void)read(release[0], &c, 1); // until the parent closes its end
            _exit(0);
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        pids[forks] = pid;
        if (++forks > 10 * LIMIT)
            break; // not enforced at all
    }
    printf("EAGAIN after N<=%d forks: %d\n", LIMIT, err == EAGAIN && forks <= LIMIT && forks > LIMIT / 2);
    pthread_t th;
    int r = pthread_create(&th, NULL, nothing, NULL);
    printf("a thread beyond the limit: EAGAIN: %d\n", r == EAGAIN);
    if (r == 0)
        pthread_join(th, NULL);

    close(release[1]);
    // Wait until every child has exited, reaping none: zombies still count.
    siginfo_t si;
    for (int i = 0; i < forks; ++i)
        waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT);
    pid_t extra = fork();
    if (extra == 0)
        _exit(0);
    printf("zombies count until reaped: fork fails: %d\n", extra < 0 && errno == EAGAIN);
    if (extra > 0)
        waitpid(extra, NULL, 0);

    int reaped = 0;
    while (wait(NULL) > 0)
        ++reaped;
    printf("every child reaped: %d\n", reaped == forks);
    pid_t again = fork();
    if (again == 0)
        _exit(7);
    int st = 0;
    printf("fork works again after reaping: %d\n", again > 0 && waitpid(again, &st, 0) == again && WEXITSTATUS(st) == 7);
    return 0;
}
