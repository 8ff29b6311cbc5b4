// execve from a thread that is not the main one, in a process of eight threads
// (blocked in a futex, a pipe read, a sleep, or spinning): every other thread is
// gone, the new image runs with the process's pid (passed in argv), its tid is the
// pid, it has one thread, keeps its parent, and the parent sees one normal exit.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

enum { k_threads = 8 };

static int count_tasks(void)
{
    DIR* d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int after_exec(char** argv)
{
    pid_t before = (pid_t)atoi(argv[2]);
    pid_t parent = (pid_t)atoi(argv[3]);
    printf("new image: getpid() is the pid before execve: %s\n", tf(getpid() == before));
    printf("  gettid() == getpid(): %s\n", tf(syscall(SYS_gettid) == getpid()));
    printf("  threads in /proc/self/task: %d\n", count_tasks());
    printf("  getppid() unchanged: %s\n", tf(getppid() == parent));
    return 6;
}

static pthread_barrier_t barrier;
static pthread_mutex_t never = PTHREAD_MUTEX_INITIALIZER;
static int block_pipe[2];
static char self_exe[4096];
static char pid_arg[16], ppid_arg[16];

static void* worker(void* arg)
{
    long i = (long)arg;
    pthread_barrier_wait(&barrier);
    switch (i % 4) {
    case 0: pthread_mutex_lock(&never); break; // a futex wait
    case 1: {
        char c;
        read(block_pipe[0], &c, 1);
        break;
    }
    case 2: {
        struct timespec ts = {30, 0};
        nanosleep(&ts, NULL);
        break;
    }
    default:
        for (volatile unsigned long spin = 0;; spin++)
            ;
    }
    return NULL;
}

static void* execer(void* arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    struct timespec ts = {0, 20 * 1000000}; // let the others reach their blocking calls
    nanosleep(&ts, NULL);
    printf("thread: tid is not the pid: %s, threads: %d\n", tf(syscall(SYS_gettid) != getpid()), count_tasks());
    fflush(stdout);
    char* args[] = {self_exe, "--after-exec", pid_arg, ppid_arg, NULL};
    execv(self_exe, args);
    printf("execv: %s\n", strerrorname_np(errno));
    exit(1);
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    if (argc >= 4 && strcmp(argv[1], "--after-exec") == 0)
        return after_exec(argv);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n < 0)
        return 1;
    self_exe[n] = 0;

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        snprintf(pid_arg, sizeof pid_arg, "%d", getpid());
        snprintf(ppid_arg, sizeof ppid_arg, "%d", getppid());
        pipe(block_pipe);
        pthread_mutex_lock(&never);
        pthread_barrier_init(&barrier, NULL, k_threads);
        pthread_t t;
        for (long i = 0; i < k_threads - 2; i++)
            pthread_create(&t, NULL, worker, (void*)i);
        pthread_create(&t, NULL, execer, NULL);
        pthread_barrier_wait(&barrier);
        // The main thread blocks too (joining the execer, which never returns).
        pthread_join(t, NULL);
        printf("main thread: join returned\n");
        return 1;
    }
    int status = 0;
    pid_t w = waitpid(child, &status, 0);
    printf("parent: reaped the child: %s, exited normally: %s, status %d\n", tf(w == child), tf(WIFEXITED(status)),
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    errno = 0;
    w = waitpid(-1, &status, WNOHANG);
    printf("parent: nothing else to wait for: %d %s\n", (int)w, strerrorname_np(errno));
    return 0;
}
