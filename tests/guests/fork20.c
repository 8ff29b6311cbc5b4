// Forks 20 children; child i exits with status i. The parent reaps them all with
// waitpid, checks that each pid came back exactly once, and prints the sorted codes,
// their sum and whether every child saw the parent's pid in getppid().
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { k_children = 20 };

static int cmp_int(const void* a, const void* b) { return *(const int*)a - *(const int*)b; }

int main(void)
{
    pid_t parent = getpid();
    pid_t pids[k_children];
    fflush(stdout);
    for (int i = 0; i < k_children; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork %d: %s\n", i, strerrorname_np(errno));
            return 1;
        }
        if (pid == 0) {
            // Status i says "all fine"; 64+i says getppid() was wrong.
            _exit(getppid() == parent ? i : 64 + i);
        }
        pids[i] = pid;
    }

    int codes[k_children];
    int reaped = 0, ppid_ok = 1, pids_ok = 1, all_exited = 1;
    int seen[k_children] = {0};
    while (reaped < k_children) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            printf("waitpid: %s after %d children\n", strerrorname_np(errno), reaped);
            return 1;
        }
        int index = -1;
        for (int i = 0; i < k_children; i++)
            if (pids[i] == pid)
                index = i;
        if (index < 0 || seen[index]++)
            pids_ok = 0;
        if (!WIFEXITED(status)) {
            all_exited = 0;
            codes[reaped++] = -1;
            continue;
        }
        int code = WEXITSTATUS(status);
        if (code >= 64) {
            ppid_ok = 0;
            code -= 64;
        }
        if (code != index)
            pids_ok = 0;
        codes[reaped++] = code;
    }
    qsort(codes, k_children, sizeof codes[0], cmp_int);
    int sum = 0;
    printf("codes:");
    for (int i = 0; i < k_children; i++) {
        printf(" %d", codes[i]);
        sum += codes[i];
    }
    printf("\nsum=%d\n", sum);
    printf("all exited normally: %s\n", all_exited ? "true" : "false");
    printf("each pid reaped once with its own code: %s\n", pids_ok ? "true" : "false");
    printf("getppid() in child == parent's getpid(): %s\n", ppid_ok ? "true" : "false");
    errno = 0;
    pid_t again = waitpid(-1, NULL, 0);
    printf("waitpid with no children left: %d %s\n", (int)again, strerrorname_np(errno));
    return 0;
}
