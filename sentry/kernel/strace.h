#pragma once
// --strace: each syscall with its name, decoded arguments, result and errno name,
// on stderr, in the spirit of `runsc --strace`.

namespace sentry::kernel {

class Task;

// Print "[pid N] name(args" at entry (arguments read before the call changes them).
void strace_print_entry(Task& t);
// Finish the line with ") = result" or ") = -1 ENAME (text)".
void strace_print_exit(Task& t, long value);

} // namespace sentry::kernel
