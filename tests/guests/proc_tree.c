// A process tree five deep under a child subreaper: middle processes exit early, their
// orphans (alive or already zombies) are reparented to the subreaper, which reaps
// them all. A process whose main thread exits with exit(2) while another thread runs
// is neither reported to its parent nor orphans its children until its last thread
// is gone; its status is then the last thread's exit code (exit_group's code when a
// thread ends the group).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* tf(int b) { return b ? "true" : "false"; }

// Everyone reports to the top process through one pipe, in fixed-size records
// (writes below PIPE_BUF are atomic).
struct rec {
    int who;
    int what;
    long value;
};
enum { r_hello, r_ppid, r_reaped, r_status, r_pid, r_main_gone };

static int report_pipe[2];
static void report(int who, int what, long value)
{
    struct rec r = {who, what, value};
    write(report_pipe[1], &r, sizeof r);
}

// The top reads with a 2 s guard: a report that never comes reads as a line, not a hang.
static void on_alarm(int sig) { (void)sig; }
static int next(struct rec* r)
{
    struct itimerval it = {{0, 0}, {2, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    ssize_t n = read(report_pipe[0], r, sizeof *r);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (n != sizeof *r) {
        printf("  (no report within 2 s)\n");
        return 0;
    }
    return 1;
}

// One command pipe per node of the tree, created by the top before anything forks.
enum { k_depth = 5 };
static int go[k_depth + 1][2];
static int command(int node)
{
    char c = 0;
    if (read(go[node][0], &c, 1) != 1)
        _exit(100);
    return c;
}
static void tell(int node, char c) { write(go[node][1], &c, 1); }

// Node i (1..5) forks node i+1, says hello, then follows commands:
//   'p' report getppid()   'r' reap its child and report the status   'x' exit 10+i
static void node(int i)
{
    pid_t child = 0;
    for (; i < k_depth; i++) {
        fflush(stdout);
        child = fork();
        if (child != 0)
            break;
        child = 0; // the new node goes one level down
    }
    report(i, r_hello, getpid());
    report(i, r_ppid, getppid());
    for (;;) {
        int c = command(i);
        if (c == 'p') {
            report(i, r_ppid, getppid());
        } else if (c == 'r') {
            int st = 0;
            pid_t w = waitpid(child, &st, 0);
            report(i, r_reaped, w == child ? WEXITSTATUS(st) : -errno);
        } else if (c == 'x') {
            _exit(10 + i);
        }
    }
}

static void tree(pid_t top)
{
    pid_t pid[k_depth + 1] = {top}, ppid[k_depth + 1] = {0};
    fflush(stdout);
    pid_t first = fork();
    if (first == 0) {
        node(1);
        _exit(0);
    }
    struct rec r;
    for (int n = 0; n < 2 * k_depth && next(&r); n++) {
        if (r.what == r_hello)
            pid[r.who] = (pid_t)r.value;
        else
            ppid[r.who] = (pid_t)r.value;
    }
    int linked = pid[1] == first;
    for (int i = 1; i <= k_depth; i++)
        linked &= ppid[i] == pid[i - 1];
    printf("tree of depth %d, each node's getppid() is the node above: %s\n", k_depth, tf(linked));

    // Nodes 2 and 4 exit; their parents (1 and 3) reap them, which happens only after
    // the orphans (3 and 5) were given to the subreaper.
    tell(2, 'x');
    tell(1, 'r');
    next(&r);
    printf("node 1 reaped node 2: status %ld\n", r.value);
    tell(3, 'p');
    next(&r);
    printf("orphan node 3 adopted by the subreaper: %s\n", tf(r.who == 3 && r.value == top));
    tell(4, 'x');
    tell(3, 'r');
    next(&r);
    printf("node 3 reaped node 4: status %ld\n", r.value);
    tell(5, 'p');
    next(&r);
    printf("orphan node 5 adopted by the subreaper: %s\n", tf(r.who == 5 && r.value == top));

    // The subreaper's children are now nodes 1, 3 and 5; node 5 exits first and stays
    // a zombie until the end.
    tell(5, 'x');
    tell(1, 'x');
    tell(3, 'x');
    int reaped = 0, sum = 0, mine = 1;
    for (;;) {
        int st = 0;
        errno = 0;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0)
            break;
        reaped++;
        sum += WIFEXITED(st) ? WEXITSTATUS(st) : 1000;
        mine &= w == pid[1] || w == pid[3] || w == pid[5];
    }
    printf("the subreaper reaped %d processes (nodes 1, 3, 5: %s), status sum %d, then %s\n", reaped, tf(mine), sum,
           strerrorname_np(errno));
}

// A child whose own child exits first: the grandchild is a zombie when its parent
// dies, and is reaped by the subreaper.
static void zombie_orphan(void)
{
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t gc = fork();
        if (gc == 0)
            _exit(21);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        waitid(P_PID, gc, &si, WEXITED | WNOWAIT); // now surely a zombie
        report(0, r_pid, gc);
        _exit(20);
    }
    struct rec r;
    next(&r);
    pid_t gc = (pid_t)r.value;
    int st = 0;
    pid_t w = waitpid(mid, &st, 0);
    printf("zombie orphan: parent reaped: %s status %d\n", tf(w == mid), WEXITSTATUS(st));
    w = waitpid(gc, &st, WNOHANG);
    printf("  the zombie grandchild is the subreaper's to reap: %s status %d\n", tf(w == gc), WEXITSTATUS(st));
}

// exit(2) of the main thread while another thread lives, then the end of the group by
// the other thread: exit(2) (`group_exit` 0) or exit_group(2).
static pthread_t main_thread;
static int group_exit;
static void* last_thread(void* arg)
{
    (void)arg;
    pthread_join(main_thread, NULL); // returns once the main thread is gone
    report(0, r_main_gone, syscall(SYS_gettid) != getpid());
    command(2);
    if (group_exit)
        syscall(SYS_exit_group, 7);
    syscall(SYS_exit, 9);
    return NULL;
}

static void thread_exit(pid_t top, int exit_group_last)
{
    fflush(stdout);
    pid_t x = fork();
    if (x == 0) {
        pid_t y = fork();
        if (y == 0) {
            for (;;) {
                int c = command(1);
                if (c == 'x')
                    _exit(0);
                report(1, r_ppid, getppid());
            }
        }
        main_thread = pthread_self();
        group_exit = exit_group_last;
        pthread_t t;
        pthread_create(&t, NULL, last_thread, NULL);
        syscall(SYS_exit, 5);
    }
    printf("%s:\n", exit_group_last ? "main thread exit(5), last thread exit_group(7)"
                                   : "main thread exit(5), last thread exit(9)");
    struct rec r;
    next(&r);
    printf("  main thread gone, the other thread's tid is not the pid: %s\n", tf(r.value == 1));
    int st = 0;
    pid_t w = waitpid(x, &st, WNOHANG);
    printf("  waitpid(WNOHANG) while a thread lives: %d\n", (int)w);
    tell(1, 'p');
    next(&r);
    printf("  its child's getppid() is still the process: %s\n", tf(r.value == x));
    tell(2, 'g');
    w = waitpid(x, &st, 0);
    printf("  reaped: %s, %s %d\n", tf(w == x), WIFEXITED(st) ? "exit status" : "signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    tell(1, 'p');
    next(&r);
    printf("  then its child was adopted by the subreaper: %s\n", tf(r.value == top));
    tell(1, 'x');
    waitpid(-1, &st, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // a hang or crash under the sentry still shows how far it got
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: the guard interrupts the read
    sigaction(SIGALRM, &sa, NULL);
    printf("PR_SET_CHILD_SUBREAPER: %d\n", prctl(PR_SET_CHILD_SUBREAPER, 1));
    pid_t top = getpid();
    pipe(report_pipe);
    for (int i = 0; i <= k_depth; i++)
        pipe(go[i]);

    tree(top);
    zombie_orphan();
    thread_exit(top, 0);
    thread_exit(top, 1);
    return 0;
}
