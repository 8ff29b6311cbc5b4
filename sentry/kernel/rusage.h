#pragma once
// Resource usage of guest processes: the figures of Linux's signal_struct (utime,
// stime, maxrss, faults, context switches, block I/O) and of its reaped children
// (cutime, cstime, cmaxrss, ...), which getrusage(2), times(2), wait4(2) and
// waitid(2) report.
//
// The host accounts the CPU time, faults and memory of a guest's host threads. A
// live process's own usage is read from /proc (time.cpp). When a host thread ends,
// the sentry's wait4() on it returns the host's usage of the thread's whole process
// at that moment (Linux getrusage(p, RUSAGE_BOTH) in wait_task_zombie(): every live
// thread plus those already released; the guest's host process never reaps host
// children, so its host children's usage is zero). Those reports only grow, so the
// process's usage is their field-by-field maximum, final once its last thread has
// been reported: exactly when it becomes a zombie. Reaping a zombie adds its usage
// and its children's into the parent's children usage, as Linux wait_task_zombie()
// does; children reaped automatically (SIGCHLD ignored, SA_NOCLDWAIT) add nothing.

#include <sys/resource.h>
#include <sys/time.h>

#include <algorithm>
#include <cstddef>

#include "sentry/common/errno.h"

namespace sentry::kernel {

class ThreadGroup;
class Task;

// The host's figures for a live process, or for one of its threads if `thread` is
// set (time.cpp; Linux getrusage() RUSAGE_SELF and RUSAGE_THREAD).
Result<struct rusage> host_rusage(ThreadGroup& g, Task* thread = nullptr);

inline struct timeval timeval_max(const struct timeval& a, const struct timeval& b)
{
    return timercmp(&a, &b, <) ? b : a;
}

// Fold one host report of a process's usage into what is known of it.
inline void rusage_merge_report(struct rusage& self, const struct rusage& report)
{
    self.ru_utime = timeval_max(self.ru_utime, report.ru_utime);
    self.ru_stime = timeval_max(self.ru_stime, report.ru_stime);
    long* to = &self.ru_maxrss;
    const long* from = &report.ru_maxrss;
    // ru_maxrss .. ru_nivcsw: fourteen longs, each a maximum or a growing count.
    for (int i = 0; i < 14; ++i)
        to[i] = std::max(to[i], from[i]);
}

// Linux's sum of two usages (accumulate_thread_rusage(), the c* fields): times and
// counts add up, the resident set size is the larger one.
inline void rusage_add(struct rusage& into, const struct rusage& from)
{
    timeradd(&into.ru_utime, &from.ru_utime, &into.ru_utime);
    timeradd(&into.ru_stime, &from.ru_stime, &into.ru_stime);
    into.ru_maxrss = std::max(into.ru_maxrss, from.ru_maxrss);
    long* to = &into.ru_ixrss;
    const long* add = &from.ru_ixrss;
    for (int i = 0; i < 13; ++i) // ru_ixrss .. ru_nivcsw
        to[i] += add[i];
}

static_assert(offsetof(struct rusage, ru_nivcsw) - offsetof(struct rusage, ru_maxrss) == 13 * sizeof(long));

// Usage of a process and its reaped children (Linux RUSAGE_BOTH, what a wait
// reports). `self` is the process's own usage.
inline struct rusage rusage_both(const struct rusage& self, const struct rusage& children)
{
    struct rusage r = children;
    rusage_add(r, self);
    return r;
}

} // namespace sentry::kernel
