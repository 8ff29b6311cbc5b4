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

size_t g_total_queued = 0;

size_t PendingQueue::total_queued() { return g_total_queued; }

PendingQueue::EnqueueResult PendingQueue::enqueue(const abi::SigInfo& info, size_t limit)
{
    int sig = info.si_signo;
    bool rt = sig >= 32;
    if (!rt && m_set.has(sig))
        return EnqueueResult::Coalesced;
    // Timers own their one siginfo (Linux preallocates it), so they never fail.
    bool override_limit = (!rt && info.si_code >= 0) || info.si_code == SI_TIMER;
    if (override_limit || g_total_queued < limit) {
        m_queue.push_back({info, true});
        ++g_total_queued;
    } else if (rt && info.si_code != SI_USER) {
        return EnqueueResult::Overflow;
    }
    // else: a bare bit, its siginfo lost
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

void PendingQueue::erase_entry(std::deque<Entry>::iterator it)
{
    if (it->counted)
        --g_total_queued;
    m_queue.erase(it);
}

std::optional<abi::SigInfo> PendingQueue::dequeue(SigSet blocked)
{
    auto sig = next(blocked);
    if (!sig)
        return std::nullopt;
    auto match = [&](const Entry& e) { return e.info.si_signo == *sig; };
    auto it = std::find_if(m_queue.begin(), m_queue.end(), match);
    abi::SigInfo info;
    if (it == m_queue.end()) {
        // Pending without a queued siginfo (Linux collect_signal()).
        info = make_siginfo(*sig, SI_USER, 0, 0);
    } else {
        info = it->info;
        erase_entry(it);
    }
    if (std::none_of(m_queue.begin(), m_queue.end(), match))
        m_set.remove(*sig);
    return info;
}

void PendingQueue::discard(int sig)
{
    for (auto it = m_queue.begin(); it != m_queue.end();) {
        if (it->info.si_signo == sig) {
            if (it->counted)
                --g_total_queued;
            it = m_queue.erase(it);
        } else {
            ++it;
        }
    }
    m_set.remove(sig);
}

void PendingQueue::clear()
{
    for (auto& e : m_queue)
        if (e.counted)
            --g_total_queued;
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
