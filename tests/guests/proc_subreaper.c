// Orphans go to the nearest child subreaper; a child that asked for a parent-death
// signal (PR_SET_PDEATHSIG) gets it when its parent dies, and the subreaper reaps it.
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got;
static void on_usr1(int s) { got = s; }

int main(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t me = getpid();
    int ready[2];
    pipe(ready);
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t gc = fork();
        if (gc == 0) {
            signal(SIGUSR1, on_usr1);
            prctl(PR_SET_PDEATHSIG, SIGUSR1);
            write(ready[1], "x", 1);
            while (!got)
                pause();
            printf("grandchild: parent-death signal USR1: %s, adopted by the subreaper: %s\n",
                got == SIGUSR1 ? "true" : "false", getppid() == me ? "true" : "false");
            fflush(stdout);
            _exit(5);
        }
        char c;
        read(ready[0], &c, 1);
        _exit(0);
    }
    waitpid(mid, NULL, 0);
    int st = 0;
    pid_t r = wait(&st);
    printf("the subreaper reaped the grandchild: %s, exit %d\n", r > 0 && r != mid ? "true" : "false", WEXITSTATUS(st));
    return 0;
}
