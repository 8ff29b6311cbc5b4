#include "sentry/signals/pending.h"

#include <signal.h>

#include <algorithm>

namespace sentry::signals {

namespace {

// Signals a thread causes synchronously are taken first (Linux SYNCHRONOUS_MASK).
const SigSet k_synchronous = SigSet::of(SIGSEGV) | SigSet::of(SIGBUS) | SigSet::of(SIGILL) | SigSet::of(SIGTRAP) |
    SigSet::of(SIGFPE) | SigSet::of(SIGSYS);

int lowest(SigSet s)
{
    if (s.empty())
        return 0;
    return __builtin_ctzll(s.bits()) + 1;
}

} // namespace

PendingQueue::EnqueueResult PendingQueue::enqueue(const abi::SigInfo& info, size_t rt_limit)
{
    int sig = info.si_signo;
    bool rt = sig >= 32;
    if (!rt && m_set.has(sig))
        return EnqueueResult::Coalesced;
    if (rt && m_queue.size() >= rt_limit)
        return EnqueueResult::Overflow;
    m_queue.push_back(info);
    m_set.add(sig);
    return EnqueueResult::Queued;
}

std::optional<int> PendingQueue::next(SigSet blocked) const
{
    SigSet ready = m_set & ~blocked;
    if (ready.empty())
        return std::nullopt;
    SigSet sync = ready & k_synchronous;
    return lowest(sync.empty() ? ready : sync);
}

std::optional<abi::SigInfo> PendingQueue::dequeue(SigSet blocked)
{
    auto sig = next(blocked);
    if (!sig)
        return std::nullopt;
    auto it = std::find_if(m_queue.begin(), m_queue.end(), [&](const abi::SigInfo& i) { return i.si_signo == *sig; });
    abi::SigInfo info = *it;
    m_queue.erase(it);
    bool more = std::any_of(m_queue.begin(), m_queue.end(), [&](const abi::SigInfo& i) { return i.si_signo == *sig; });
    if (!more)
        m_set.remove(*sig);
    return info;
}

void PendingQueue::discard(int sig)
{
    std::erase_if(m_queue, [&](const abi::SigInfo& i) { return i.si_signo == sig; });
    m_set.remove(sig);
}

void PendingQueue::clear()
{
    m_queue.clear();
    m_set = SigSet();
}

abi::SigInfo make_siginfo(int sig, int code, int pid, unsigned uid)
{
    abi::SigInfo i{};
    i.si_signo = sig;
    i.si_code = code;
    i.u.kill.pid = pid;
    i.u.kill.uid = uid;
    return i;
}

} // namespace sentry::signals
