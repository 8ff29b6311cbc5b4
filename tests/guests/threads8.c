// Eight pthreads, joined; each fills its own slot and main prints the slots in order,
// so the output is deterministic. Exercises clone(CLONE_THREAD), futex (barrier,
// mutex, join), set_robust_list, TLS and gettid in threads.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { k_threads = 8, k_increments = 10000 };

static pthread_barrier_t barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_value = -1;
static pid_t main_pid;

struct slot {
    int index;
    char line[128];
};

static void* worker(void* arg)
{
    struct slot* s = arg;
    tls_value = s->index * 10;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int same_process = getpid() == main_pid;
    int own_tid = tid != main_pid;

    pthread_barrier_wait(&barrier); // all eight exist at once
    for (int i = 0; i < k_increments; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    long sum = 0;
    for (int i = 1; i <= 100 * (s->index + 1); i++)
        sum += i;
    pthread_barrier_wait(&barrier);

    snprintf(s->line, sizeof s->line, "thread %d: sum=%ld tls=%d getpid_is_main=%s own_tid=%s",
             s->index, sum, tls_value, same_process ? "true" : "false", own_tid ? "true" : "false");
    return (void*)(long)(s->index + 100);
}

int main(void)
{
    main_pid = getpid();
    pthread_t threads[k_threads];
    struct slot slots[k_threads];
    tls_value = 7;
    pthread_barrier_init(&barrier, NULL, k_threads);
    for (int i = 0; i < k_threads; i++) {
        slots[i].index = i;
        slots[i].line[0] = 0;
        int err = pthread_create(&threads[i], NULL, worker, &slots[i]);
        if (err) {
            printf("pthread_create %d: %s\n", i, strerror(err));
            return 1;
        }
    }
    int joined_ok = 1;
    for (int i = 0; i < k_threads; i++) {
        void* ret = NULL;
        if (pthread_join(threads[i], &ret) != 0 || (long)ret != i + 100)
            joined_ok = 0;
    }
    for (int i = 0; i < k_threads; i++)
        printf("%s\n", slots[i].line);
    printf("counter=%ld (expected %d)\n", counter, k_threads * k_increments);
    printf("joined all with their return values: %s\n", joined_ok ? "true" : "false");
    printf("main tls unchanged: %s\n", tls_value == 7 ? "true" : "false");
    return 0;
}
