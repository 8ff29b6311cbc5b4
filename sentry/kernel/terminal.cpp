#include "sentry/kernel/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/host_file.h"

namespace sentry::kernel {

namespace {

constexpr long k_erestartsys = 512;

} // namespace

Terminal::Terminal(int fd, dev_t rdev) : m_fd(fd), m_rdev(rdev)
{
    m_saved_ok = tcgetattr(m_fd, &m_saved) == 0;
}

std::unique_ptr<Terminal> Terminal::from_stdio()
{
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st {};
        if (!isatty(fd) || fstat(fd, &st) < 0)
            continue;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
            continue;
        return std::unique_ptr<Terminal>(new Terminal(copy, st.st_rdev));
    }
    return nullptr;
}

Terminal::~Terminal()
{
    // Whatever the guests left (raw mode of an editor that was killed, no echo),
    // the user gets back the terminal as it was.
    if (m_saved_ok)
        tcsetattr(m_fd, TCSANOW, &m_saved);
    close(m_fd);
}

bool Terminal::is_this(vfs::File& f) const
{
    auto* h = dynamic_cast<vfs::HostFile*>(&f);
    if (!h || !h->tty_rdev())
        return false;
    // /dev/tty (5, 0) is the opener's controlling terminal: the sentry's is this one.
    return h->tty_rdev() == m_rdev || h->tty_rdev() == makedev(5, 0);
}

bool Terminal::tostop() const
{
    struct termios tio {};
    return tcgetattr(m_fd, &tio) == 0 && (tio.c_lflag & TOSTOP);
}

long tty_check_change(Task& t, int sig)
{
    auto& k = t.kernel();
    auto* term = k.terminal();
    auto& g = t.group();
    if (!term || !g.has_ctty || term->fg_pgrp == g.pgid)
        return 0;
    bool ignored = t.m_blocked.has(sig) || g.sighand->get(sig).handler == signals::k_sig_ign;
    if (ignored)
        return sig == SIGTTIN ? -EIO : 0;
    if (k.pgrp_is_orphaned(g.pgid))
        return -EIO;
    k.signal_pgrp(g.pgid, signals::make_siginfo(sig, SI_KERNEL));
    return -k_erestartsys;
}

bool tty_ioctl_changes_settings(unsigned long cmd)
{
    switch (cmd) {
    case TCSETS: case TCSETSW: case TCSETSF:
    case TCSETA: case TCSETAW: case TCSETAF:
    case TCFLSH: case TCXONC: case TCSBRK: case TCSBRKP: case TIOCSBRK: case TIOCCBRK:
        return true;
    default:
        return false;
    }
}

// The groups of session `sid` stop having a controlling terminal.
static void clear_session_ctty(Kernel& k, pid_t sid)
{
    for (auto& [vpid, w] : k.groups())
        if (auto m = w.lock(); m && m->sid == sid)
            m->has_ctty = false;
}

std::optional<SyscallOutcome> terminal_ioctl(Task& t, unsigned long cmd, uint64_t arg)
{
    auto& k = t.kernel();
    auto* term = k.terminal();
    auto& g = t.group();
    bool ctty = term && g.has_ctty;
    switch (cmd) {
    case TIOCGPGRP:
        if (!ctty)
            return Errno(ENOTTY);
        return SyscallOutcome(t.copy_out(arg, term->fg_pgrp));
    case TIOCSPGRP: {
        // Compare Linux tiocspgrp().
        if (!ctty || term->session != g.sid)
            return Errno(ENOTTY);
        long r = tty_check_change(t, SIGTTOU);
        if (r == -EIO)
            return Errno(ENOTTY);
        if (r)
            return SyscallOutcome(r);
        auto pg = t.copy_in<pid_t>(arg);
        if (pg.is_error())
            return pg.error();
        if (pg.value() < 0)
            return Errno(EINVAL);
        auto member = k.group_of_pgid_member(pg.value());
        if (!member)
            return Errno(k.group_by_vpid(pg.value()) ? EPERM : ESRCH);
        if (member->sid != g.sid)
            return Errno(EPERM);
        term->fg_pgrp = pg.value();
        return SyscallOutcome(0);
    }
    case TIOCGSID:
        if (!ctty || !term->session)
            return Errno(ENOTTY);
        return SyscallOutcome(t.copy_out(arg, *term->session));
    case TIOCSCTTY: {
        // Compare Linux tiocsctty(): a session leader without a terminal takes it,
        // from another session only when asked to steal (arg 1; the guest is root).
        if (!term)
            return Errno(ENOTTY);
        bool leader = g.vpid == g.sid;
        if (leader && term->session == g.sid)
            return SyscallOutcome(0);
        if (!leader || g.has_ctty)
            return Errno(EPERM);
        if (term->session) {
            if (arg != 1)
                return Errno(EPERM);
            clear_session_ctty(k, *term->session);
        }
        term->session = g.sid;
        term->fg_pgrp = g.pgid;
        g.has_ctty = true;
        return SyscallOutcome(0);
    }
    case TIOCNOTTY:
        // Compare Linux tiocnotty() / disassociate_ctty().
        if (!ctty)
            return Errno(ENOTTY);
        if (g.vpid == g.sid)
            release_terminal(k, g.sid, false);
        else
            g.has_ctty = false;
        return SyscallOutcome(0);
    default:
        return std::nullopt;
    }
}

void release_terminal(Kernel& k, pid_t sid, bool on_exit)
{
    auto* term = k.terminal();
    if (!term || term->session != sid)
        return;
    k.signal_pgrp(term->fg_pgrp, signals::make_siginfo(SIGHUP, SI_KERNEL));
    if (!on_exit)
        k.signal_pgrp(term->fg_pgrp, signals::make_siginfo(SIGCONT, SI_KERNEL));
    clear_session_ctty(k, sid);
    term->session.reset();
}

} // namespace sentry::kernel
