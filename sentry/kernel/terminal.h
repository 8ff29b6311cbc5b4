#pragma once
// The sandbox's controlling terminal: the host terminal the sentry runs on.
//
// The host's line discipline still does the editing, echo and the special
// characters: Ctrl-C, Ctrl-\ and Ctrl-Z make the host send SIGINT, SIGQUIT and
// SIGTSTP to its foreground process group. Guests live in a host session of their
// own, so only the sentry gets them; it routes each to the guest foreground process
// group kept here, which guests set with tcsetpgrp (TIOCSPGRP). A guest outside that
// group that reads the terminal gets SIGTTIN (and SIGTTOU for writes under TOSTOP,
// and for changing the terminal's settings), as Linux's tty job control decides
// (drivers/tty/tty_jobctrl.c). The host terminal's settings are restored when the
// sentry exits.

#include <sys/types.h>
#include <termios.h>

#include <memory>
#include <optional>

#include "sentry/kernel/syscall_args.h"
#include "sentry/vfs/file.h"

namespace sentry::kernel {

class Kernel;
class Task;

class Terminal {
public:
    // The first of the sentry's fds 0-2 that is a terminal, or null.
    static std::unique_ptr<Terminal> from_stdio();
    ~Terminal();
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    // Whether guest file `f` is this terminal.
    bool is_this(vfs::File& f) const;
    // The TOSTOP local mode flag of the host terminal now.
    bool tostop() const;

    // The foreground process group (a virtual pgid).
    pid_t fg_pgrp = 1;
    // The session it is the controlling terminal of: 0 is the session of the
    // sandbox's init, whose leader is outside the sandbox; none once that session
    // gave it up.
    std::optional<pid_t> session = 0;

private:
    Terminal(int fd, dev_t rdev);
    int m_fd;
    dev_t m_rdev;
    struct termios m_saved {};
    bool m_saved_ok = false;
};

// Linux __tty_check_change(): may `t` act on its controlling terminal now? 0 if so;
// -EIO, or -ERESTARTSYS after `sig` (SIGTTIN or SIGTTOU) went to its process group.
long tty_check_change(Task& t, int sig);

// Job-control and session ioctls on the terminal (TIOCGPGRP, TIOCSPGRP, TIOCGSID,
// TIOCSCTTY, TIOCNOTTY); nullopt for any other command. `f` is the terminal.
std::optional<SyscallOutcome> terminal_ioctl(Task& t, unsigned long cmd, uint64_t arg);

// The session leader `sid` gives up the terminal (TIOCNOTTY, or its exit): its
// foreground group gets SIGHUP (and SIGCONT unless `on_exit`), and no process of the
// session has a controlling terminal any more (Linux disassociate_ctty()).
void release_terminal(Kernel& k, pid_t sid, bool on_exit);

// Whether `cmd` changes the terminal's settings (needs tty_check_change, SIGTTOU).
bool tty_ioctl_changes_settings(unsigned long cmd);

} // namespace sentry::kernel
