#pragma once
// Self-confinement: once its first guest runs, the sentry puts itself under a
// seccomp filter (built with libseccomp) that allows only the host syscalls its
// event loop, ptrace platform, VFS and netstack make. A bug that lets a guest steer
// the sentry can then not make it execve, fork, mount, load a module, open a raw
// socket or unshare: such a call fails with EPERM, and the sentry says so on stderr.
//
// How: seccomp_init(SCMP_ACT_TRAP) plus one allow rule per needed syscall (a few
// with argument checks), loaded with TSYNC on every thread of the process. The
// default action traps into a SIGSYS handler that names the refused syscall once
// on stderr and makes it return -EPERM, so a syscall missing from the list shows
// up as a log line and an error, not as a dead sandbox (docs/design-notes.md,
// "Self-confinement").
//
// SENTRY_NO_SELF_CONFINE=1 turns it off; SENTRY_SELF_CONFINE_PROBE=1 makes the
// sentry try a few forbidden calls right after confining and print their results
// (tests/e2e/self_confine.sh).

#include <span>
#include <string>

namespace sentry {

struct ConfineSyscall {
    const char* name; // the Linux name, as libseccomp resolves it
    long nr;          // its x86-64 number, from the host's headers
};

// The syscalls the sentry may make once its first guest runs. Some of them carry
// argument checks too (socket domains, ioctl requests): see self_confine.cpp.
std::span<const ConfineSyscall> self_confine_allowed();

// Builds the filter into a new libseccomp context (not loaded); nullptr and `why`
// set if libseccomp refuses something. The caller owns it (seccomp_release).
void* self_confine_build(std::string& why);

// Confines the calling process (all its threads), unless SENTRY_NO_SELF_CONFINE
// is set. Returns false with `why` set if the filter cannot be installed.
// Precondition: no process that must stay unconfined will be forked from here on
// (filters are inherited across fork; guests forked earlier are untouched).
bool self_confine(std::string& why);

} // namespace sentry
