// Credentials: user and group ids and supplementary groups. The guest runs with the
// sentry's own credentials (its host process is the sentry's child and the sentry
// makes every file access itself), so the getters report the sentry's ids. The
// emulated kernel keeps no credentials of its own yet: a setter succeeds when the
// credentials it would produce are the current ones, and is refused with EPERM
// otherwise (as for a process without CAP_SETUID/CAP_SETGID).

#include <grp.h>
#include <linux/capability.h>
#include <limits.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/syscalls/syscalls.h"

namespace sentry::kernel {

namespace {

// Linux include/uapi/linux/limits.h
constexpr long k_ngroups_max = 65536;

struct Ids {
    uint32_t r, e, s, fs;
};

Ids current_uids()
{
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    // Without setfsuid calls of its own, a process's fsuid follows its euid.
    return {r, e, s, e};
}

Ids current_gids()
{
    gid_t r, e, s;
    getresgid(&r, &e, &s);
    return {r, e, s, e};
}

std::vector<gid_t> current_groups()
{
    int n = getgroups(0, nullptr);
    std::vector<gid_t> g(static_cast<size_t>(std::max(n, 0)));
    if (n > 0)
        n = getgroups(n, g.data());
    g.resize(static_cast<size_t>(std::max(n, 0)));
    return g;
}

// Whether the sentry (whose credentials the guest has) holds `cap` in its
// effective set.
bool capable(int cap)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    return data[cap / 32].effective & (1u << (cap % 32));
}

// The ids id == -1 leaves alone.
constexpr uint32_t k_keep = static_cast<uint32_t>(-1);

SyscallOutcome unchanged_or_eperm(const Ids& now, const Ids& wanted)
{
    if (now.r == wanted.r && now.e == wanted.e && now.s == wanted.s && now.fs == wanted.fs)
        return 0;
    return Errno(EPERM);
}

// Compare Linux kernel/sys.c:__sys_setuid(): the credentials it would produce.
SyscallOutcome do_setid(const Ids& now, uint32_t id, int cap)
{
    if (id == k_keep)
        return Errno(EINVAL); // make_kuid(-1) is not a valid id
    Ids want = now;
    if (capable(cap)) {
        want = {id, id, id, id};
    } else if (id == now.r || id == now.s) {
        want.e = want.fs = id;
    } else {
        return Errno(EPERM);
    }
    return unchanged_or_eperm(now, want);
}

// Compare Linux kernel/sys.c:__sys_setreuid().
SyscallOutcome do_setreid(const Ids& now, uint32_t r, uint32_t e)
{
    Ids want = now;
    if (r != k_keep)
        want.r = r;
    if (e != k_keep)
        want.e = e;
    if (r != k_keep || (e != k_keep && e != now.r))
        want.s = want.e;
    want.fs = want.e;
    return unchanged_or_eperm(now, want);
}

// Compare Linux kernel/sys.c:__sys_setresuid().
SyscallOutcome do_setresid(const Ids& now, uint32_t r, uint32_t e, uint32_t s)
{
    Ids want = now;
    if (r != k_keep)
        want.r = r;
    if (e != k_keep)
        want.e = e;
    if (s != k_keep)
        want.s = s;
    want.fs = want.e;
    return unchanged_or_eperm(now, want);
}

// Compare Linux kernel/sys.c:__sys_getresuid().
SyscallOutcome do_getresid(Task& t, const SyscallArgs& args, const Ids& ids)
{
    TRY(t.copy_out(args.arg(0), ids.r));
    TRY(t.copy_out(args.arg(1), ids.e));
    TRY(t.copy_out(args.arg(2), ids.s));
    return 0;
}

} // namespace

SENTRY_SYSCALL(getuid)
{
    (void)t, (void)args;
    return current_uids().r;
}

SENTRY_SYSCALL(geteuid)
{
    (void)t, (void)args;
    return current_uids().e;
}

SENTRY_SYSCALL(getgid)
{
    (void)t, (void)args;
    return current_gids().r;
}

SENTRY_SYSCALL(getegid)
{
    (void)t, (void)args;
    return current_gids().e;
}

SENTRY_SYSCALL(getresuid) { return do_getresid(t, args, current_uids()); }
SENTRY_SYSCALL(getresgid) { return do_getresid(t, args, current_gids()); }

// Compare Linux kernel/groups.c:getgroups().
SENTRY_SYSCALL(getgroups)
{
    int size = args.as_int(0);
    if (size < 0)
        return Errno(EINVAL);
    auto groups = current_groups();
    if (size) {
        if (groups.size() > static_cast<size_t>(size))
            return Errno(EINVAL);
        TRY(t.copy_out(args.arg(1), groups.data(), groups.size() * sizeof(gid_t)));
    }
    return groups.size();
}

SENTRY_SYSCALL(setuid)
{
    (void)t;
    return do_setid(current_uids(), args.as_uint(0), CAP_SETUID);
}

SENTRY_SYSCALL(setgid)
{
    (void)t;
    return do_setid(current_gids(), args.as_uint(0), CAP_SETGID);
}

SENTRY_SYSCALL(setreuid)
{
    (void)t;
    return do_setreid(current_uids(), args.as_uint(0), args.as_uint(1));
}

SENTRY_SYSCALL(setregid)
{
    (void)t;
    return do_setreid(current_gids(), args.as_uint(0), args.as_uint(1));
}

SENTRY_SYSCALL(setresuid)
{
    (void)t;
    return do_setresid(current_uids(), args.as_uint(0), args.as_uint(1), args.as_uint(2));
}

SENTRY_SYSCALL(setresgid)
{
    (void)t;
    return do_setresid(current_gids(), args.as_uint(0), args.as_uint(1), args.as_uint(2));
}

// setfsuid/setfsgid report the old fsuid whether or not they change it (Linux
// kernel/sys.c:__sys_setfsuid()); here they never change it.
SENTRY_SYSCALL(setfsuid)
{
    (void)t, (void)args;
    return current_uids().fs;
}

SENTRY_SYSCALL(setfsgid)
{
    (void)t, (void)args;
    return current_gids().fs;
}

// Compare Linux kernel/groups.c:setgroups().
SENTRY_SYSCALL(setgroups)
{
    int size = args.as_int(0);
    if (!capable(CAP_SETGID))
        return Errno(EPERM);
    if (static_cast<unsigned>(size) > k_ngroups_max)
        return Errno(EINVAL);
    std::vector<gid_t> want(static_cast<size_t>(size));
    if (size)
        TRY(t.copy_in(args.arg(1), want.data(), want.size() * sizeof(gid_t)));
    auto now = current_groups();
    std::sort(want.begin(), want.end());
    std::sort(now.begin(), now.end());
    return want == now ? SyscallOutcome(0) : SyscallOutcome(Errno(EPERM));
}

} // namespace sentry::kernel
