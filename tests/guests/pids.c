// getpid/getppid/gettid/set_tid_address agree with each other, before and after fork
// and in a thread. Prints booleans only: pid values differ between runs.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* b(int v) { return v ? "true" : "false"; }
static pid_t sys_gettid(void) { return (pid_t)syscall(SYS_gettid); }

static pid_t thread_tid, thread_pid;
static void* thread_main(void* arg)
{
    (void)arg;
    thread_tid = sys_gettid();
    thread_pid = getpid();
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    pid_t pid = getpid();
    int x = 0;
    long r = syscall(SYS_set_tid_address, &x);
    printf("main: gettid() == getpid(): %s\n", b(sys_gettid() == pid));
    printf("main: set_tid_address() == gettid(): %s\n", b(r == sys_gettid()));
    // Not getppid() > 0: the sentry's first guest is pid 1 of its own pid namespace,
    // whose parent is 0, as for init in a container.
    printf("main: getpid() > 0: %s, getppid() != getpid(): %s\n", b(pid > 0), b(getppid() != pid));
    printf("main: getpgid(0) == getpgrp(): %s\n", b(getpgid(0) == getpgrp()));
    printf("main: getsid(0) == getsid(getpid()): %s\n", b(getsid(0) == getsid(pid)));
    printf("main: kill(getpid(), 0) == 0: %s\n", b(kill(pid, 0) == 0));

    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
    printf("thread: getpid() == main's: %s, gettid() != getpid(): %s\n", b(thread_pid == pid),
           b(thread_tid != pid && thread_tid > 0));

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        pid_t me = getpid();
        int y = 0;
        printf("child: getppid() == parent's getpid(): %s\n", b(getppid() == pid));
        printf("child: getpid() != parent's getpid(): %s\n", b(me != pid));
        printf("child: gettid() == getpid(): %s\n", b(sys_gettid() == me));
        printf("child: set_tid_address() == gettid(): %s\n", b(syscall(SYS_set_tid_address, &y) == me));
        printf("child: same process group as parent: %s\n", b(getpgrp() == getpgid(pid)));
        fflush(stdout);
        _exit(3);
    }
    int status = 0;
    pid_t waited = waitpid(child, &status, 0);
    printf("parent: fork() returned the pid that waitpid() reaped: %s\n", b(waited == child && child > 0));
    printf("parent: child exited with 3: %s\n", b(WIFEXITED(status) && WEXITSTATUS(status) == 3));
    printf("parent: getpid() unchanged: %s\n", b(getpid() == pid));
    return 0;
}
