#include "sentry/signals/signal.h"

#include <csignal>
#include <cstdio>

namespace sentry::signals {

SigSet SigSet::without_unblockable() const
{
    SigSet s = *this;
    s.remove(SIGKILL);
    s.remove(SIGSTOP);
    return s;
}

DefaultAction default_action(int sig)
{
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return DefaultAction::CoreDump;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return DefaultAction::Stop;
    case SIGCONT:
        return DefaultAction::Continue;
    case SIGCHLD: case SIGURG: case SIGWINCH:
        return DefaultAction::Ignore;
    default:
        return DefaultAction::Terminate;
    }
}

const char* signal_name(int sig)
{
    static const char* names[] = {"0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
        "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};
    if (sig >= 0 && sig < 32)
        return names[sig];
    static char buf[k_nsig + 1][16];
    if (sig >= 32 && sig <= k_nsig) {
        snprintf(buf[sig], sizeof buf[sig], "SIGRT_%d", sig - 32);
        return buf[sig];
    }
    return "SIG?";
}

void SignalHandlers::reset_for_exec()
{
    for (auto& a : m_actions) {
        if (a.handler != k_sig_ign)
            a.handler = k_sig_dfl;
        a.flags = 0;
        a.restorer = 0;
        a.mask = 0;
    }
}

bool SignalHandlers::ignores(int sig) const
{
    const auto& a = get(sig);
    if (sig == SIGKILL || sig == SIGSTOP)
        return false;
    if (a.handler == k_sig_ign)
        return true;
    return a.handler == k_sig_dfl && default_action(sig) == DefaultAction::Ignore;
}

} // namespace sentry::signals
