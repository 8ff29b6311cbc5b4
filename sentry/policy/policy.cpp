// The policy parser: JSON text -> a checked, typed Policy, or the first thing wrong with it.
//
// The text is parsed by nlohmann/json (as ordered_json, so that objects keep the order of
// the file and the first error reported is the first one a reader meets), with a callback
// that refuses duplicate keys and absurd nesting, which nlohmann would otherwise accept.
// Then one function per object of docs/policy.md reads it: unknown keys first, then each
// known key in the order the document lists them, then the checks that involve several
// keys (overlapping mounts, a syscall in two rules ...).

#include "sentry/policy/policy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace sentry::policy {

namespace {

using Json = nlohmann::ordered_json;

// Nesting deeper than this is refused while parsing; the deepest policy has 5 levels.
constexpr std::size_t k_max_depth = 32;
// Values quoted in a reason are cut to this many bytes.
constexpr std::size_t k_max_quoted = 80;
// glibc reserves the kernel's signals 32 and 33; its SIGRTMIN, and `kill -l`'s, is 34.
constexpr int k_sigrtmin = 34;
constexpr int k_sigrtmax = 64;
// Linux's PID_MAX_LIMIT and default fs.nr_open: no task or fd count can exceed them.
constexpr std::uint64_t k_max_tasks = 4194304;
constexpr std::uint64_t k_max_open_files = 1048576;
constexpr double k_max_seconds = 1e9;
constexpr std::size_t k_host_name_max = 64; // HOST_NAME_MAX
constexpr std::size_t k_max_nameservers = 3; // glibc's MAXNS: resolv.conf lines beyond it are ignored

// Every check below fails by throwing Invalid; parse_policy() is the one place that catches
// it, so no exception leaves this file. A check is then one line instead of a branch and a
// return at each of the many levels of the document.
struct Invalid {
    PolicyError error;
};

[[noreturn]] void fail(std::string path, std::string reason)
{
    throw Invalid { { std::move(path), std::move(reason) } };
}

// A string as JSON would write it, ASCII only, cut if long: safe in a terminal line.
std::string quote(std::string_view s)
{
    bool cut = s.size() > k_max_quoted;
    if (cut)
        s = s.substr(0, k_max_quoted);
    std::string out = Json(std::string(s)).dump(-1, ' ', true, Json::error_handler_t::replace);
    if (cut)
        out.insert(out.size() - 1, "...");
    return out;
}

bool is_identifier(std::string_view key)
{
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0])))
        return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

std::string child(const std::string& path, std::string_view key)
{
    if (is_identifier(key))
        return path + "." + std::string(key);
    return path + "[" + quote(key) + "]";
}

std::string element(const std::string& path, std::size_t index)
{
    return path + "[" + std::to_string(index) + "]";
}

std::string type_of(const Json& j)
{
    switch (j.type()) {
    case Json::value_t::null:
        return "null";
    case Json::value_t::boolean:
        return "a boolean";
    case Json::value_t::string:
        return "a string";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::object:
        return "an object";
    case Json::value_t::number_float:
        return "a number (" + j.dump() + ")";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
        return "a number (" + j.dump() + ")";
    default:
        return "a value of another kind";
    }
}

[[noreturn]] void wrong_type(const std::string& path, std::string_view expected, const Json& got)
{
    fail(path, "wrong type: expected " + std::string(expected) + ", got " + type_of(got));
}

// --- Readers of one JSON value each: they check the type and the range, or fail. ---

const std::string& as_string(const Json& j, const std::string& path)
{
    if (!j.is_string())
        wrong_type(path, "a string", j);
    const auto& s = j.get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos)
        fail(path, "contains a NUL character");
    return s;
}

std::string as_nonempty_string(const Json& j, const std::string& path)
{
    const auto& s = as_string(j, path);
    if (s.empty())
        fail(path, "must not be empty");
    return s;
}

bool as_bool(const Json& j, const std::string& path)
{
    if (!j.is_boolean())
        wrong_type(path, "a boolean (true or false)", j);
    return j.get<bool>();
}

// An integer in [min, max]. A number written with a fraction or exponent counts if its
// value is a whole number (64e6 is 64000000), up to 2^53 where doubles stop being exact.
std::uint64_t as_integer(const Json& j, const std::string& path, std::uint64_t min, std::uint64_t max)
{
    auto out_of_range = [&] {
        fail(path, "out of range: " + j.dump() + " (expected " + std::to_string(min) + " to " + std::to_string(max) + ")");
    };
    std::uint64_t v = 0;
    if (j.is_number_unsigned()) {
        v = j.get<std::uint64_t>();
    } else if (j.is_number_integer()) {
        out_of_range(); // only negative values are stored signed
    } else if (j.is_number_float()) {
        double d = j.get<double>();
        if (!std::isfinite(d) || d != std::floor(d))
            wrong_type(path, "an integer", j);
        if (d < 0 || d > 9007199254740992.0)
            out_of_range();
        v = static_cast<std::uint64_t>(d);
    } else {
        wrong_type(path, "an integer", j);
    }
    if (v < min || v > max)
        out_of_range();
    return v;
}

std::chrono::nanoseconds as_seconds(const Json& j, const std::string& path)
{
    if (!j.is_number())
        wrong_type(path, "a number of seconds", j);
    double d = j.get<double>();
    if (!(d > 0) || d > k_max_seconds)
        fail(path, "out of range: " + j.dump() + " (expected more than 0 and at most 1000000000 seconds)");
    auto ns = static_cast<std::int64_t>(std::llround(d * 1e9));
    return std::chrono::nanoseconds(std::max<std::int64_t>(ns, 1));
}

const Json& as_array(const Json& j, const std::string& path)
{
    if (!j.is_array())
        wrong_type(path, "an array", j);
    return j;
}

// The members of one JSON object: refuses keys it does not know, hands out the others.
class Fields {
public:
    Fields(const Json& j, std::string path, std::initializer_list<std::string_view> known)
        : m_json(j)
        , m_path(std::move(path))
    {
        if (!j.is_object())
            wrong_type(m_path, "an object", j);
        for (const auto& [key, value] : j.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end())
                continue;
            std::string expected;
            for (auto k : known)
                expected += (expected.empty() ? "" : ", ") + std::string(k);
            fail(child(m_path, key), "unknown key (expected one of: " + expected + ")");
        }
    }

    const Json* get(std::string_view key) const
    {
        auto it = m_json.find(key);
        return it == m_json.end() ? nullptr : &*it;
    }
    const Json& required(std::string_view key) const
    {
        if (const Json* j = get(key))
            return *j;
        fail(child(m_path, key), "missing required key");
    }
    std::string path(std::string_view key) const { return child(m_path, key); }
    const std::string& path() const { return m_path; }

private:
    const Json& m_json;
    std::string m_path;
};

// --- Paths ---

bool has_launch_dir(std::string_view p)
{
    return p.starts_with(k_launch_dir) && (p.size() == k_launch_dir.size() || p[k_launch_dir.size()] == '/');
}

// An absolute path with "." components, repeated and trailing slashes removed. ".." is
// refused rather than folded: on the host a symlink can make "a/.." differ from ".".
// With allow_launch_dir, a leading "$CWD" is kept as is and the rest normalized.
std::string as_absolute_path(const Json& j, const std::string& path, bool allow_launch_dir)
{
    std::string s = as_nonempty_string(j, path);
    std::string prefix;
    std::string_view rest = s;
    if (allow_launch_dir && has_launch_dir(s)) {
        prefix = k_launch_dir;
        rest.remove_prefix(k_launch_dir.size());
    } else if (s[0] != '/') {
        fail(path, quote(s) + " is not an absolute path" + (allow_launch_dir ? " (nor starts with $CWD)" : ""));
    }
    if (s.size() >= PATH_MAX)
        fail(path, "longer than PATH_MAX (4096 bytes)");
    std::string out;
    std::size_t i = 0;
    while (i < rest.size()) {
        std::size_t end = rest.find('/', i);
        if (end == std::string_view::npos)
            end = rest.size();
        std::string_view part = rest.substr(i, end - i);
        if (part == "..")
            fail(path, quote(s) + " contains \"..\"");
        if (!part.empty() && part != ".")
            out += "/" + std::string(part);
        i = end + 1;
    }
    if (prefix.empty() && out.empty())
        return "/";
    return prefix + out;
}

// True if a is b or a directory above b ("/" is above everything; "/a" is above "/a/b"
// but not "/ab").
bool covers(std::string_view a, std::string_view b)
{
    if (a == b || a == "/")
        return true;
    return b.starts_with(a) && b.size() > a.size() && b[a.size()] == '/';
}

// --- Lookups of names ---

std::string_view errno_alias(std::string_view name)
{
    // Names that share a number with another; strerrorname_np() gives only the first.
    if (name == "EWOULDBLOCK")
        return "EAGAIN";
    if (name == "EDEADLOCK")
        return "EDEADLK";
    if (name == "ENOTSUP")
        return "EOPNOTSUPP";
    return name;
}

// Host names and the names of /etc/hosts: letters, digits, '-', '_' and '.', so that what
// the sandbox writes into its files can never be two lines or two fields.
void check_host_name(const std::string& name, const std::string& path, std::size_t max)
{
    if (name.empty() || name.size() > max)
        fail(path, quote(name) + " must be 1 to " + std::to_string(max) + " bytes long");
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            fail(path, quote(name) + " is not a host name (letters, digits, '-', '_' and '.' only)");
    }
}

IpAddress as_ip_address(const Json& j, const std::string& path)
{
    IpAddress a;
    a.text = as_nonempty_string(j, path);
    if (inet_pton(AF_INET, a.text.c_str(), a.bytes.data()) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, a.text.c_str(), a.bytes.data()) == 1)
        a.family = AF_INET6;
    else
        fail(path, quote(a.text) + " is not an IPv4 or IPv6 address");
    return a;
}

void check_env_name(const std::string& name, const std::string& path)
{
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos)
        fail(path, quote(name) + " is not a variable name (empty, or contains '=' or NUL)");
}

std::vector<std::string> as_env_names(const Json& j, const std::string& path)
{
    std::vector<std::string> names;
    std::size_t i = 0;
    for (const auto& e : as_array(j, path)) {
        std::string p = element(path, i++);
        names.push_back(as_string(e, p));
        check_env_name(names.back(), p);
    }
    return names;
}

// --- One reader per object of docs/policy.md ---

Action as_action(const Json& j, const std::string& path)
{
    const std::string& s = as_string(j, path);
    if (s == "allow")
        return { ActionKind::allow, 0 };
    if (s == "kill")
        return { ActionKind::kill, 0 };
    if (s == "log")
        return { ActionKind::log, 0 };
    if (s.starts_with("errno:")) {
        auto name = std::string_view(s).substr(6);
        auto e = errno_from_name(name);
        if (!e)
            fail(path, "unknown errno name " + quote(name) + " (expected a name like EPERM or ENOSYS)");
        return { ActionKind::error, *e };
    }
    fail(path, "unknown action " + quote(s) + " (expected allow, kill, log or errno:NAME)");
}

Mount as_mount(const Json& j, const std::string& path)
{
    Fields f(j, path, { "type", "source", "target", "read_only", "size" });
    Mount m;
    const std::string& type = as_string(f.required("type"), f.path("type"));
    if (type == "bind")
        m.type = MountType::bind;
    else if (type == "tmpfs")
        m.type = MountType::tmpfs;
    else if (type == "proc")
        m.type = MountType::proc;
    else if (type == "dev")
        m.type = MountType::dev;
    else
        fail(f.path("type"), "unknown mount type " + quote(type) + " (expected bind, tmpfs, proc or dev)");

    if (m.type == MountType::bind)
        m.source = as_absolute_path(f.required("source"), f.path("source"), true);
    else if (f.get("source"))
        fail(f.path("source"), "only a bind mount has a source");
    m.target = as_absolute_path(f.required("target"), f.path("target"), true);

    switch (m.type) {
    case MountType::bind:
    case MountType::tmpfs:
        m.read_only = m.type == MountType::bind;
        if (const Json* ro = f.get("read_only"))
            m.read_only = as_bool(*ro, f.path("read_only"));
        break;
    case MountType::proc:
    case MountType::dev:
        if (f.get("read_only"))
            fail(f.path("read_only"), "only bind and tmpfs mounts have read_only");
        m.read_only = m.type == MountType::proc;
        break;
    }
    if (m.type == MountType::tmpfs) {
        m.size = k_default_tmpfs_size;
        if (const Json* size = f.get("size"))
            m.size = as_integer(*size, f.path("size"), 1, std::numeric_limits<std::int64_t>::max());
    } else if (f.get("size")) {
        fail(f.path("size"), "only a tmpfs mount has a size");
    }
    return m;
}

// A mount must not be hidden entirely by a later one: no later target equal to or above
// its own. Targets that start with $CWD are skipped; they are known only at run time.
void check_overlaps(const Policy& p, const std::string& mounts_path)
{
    struct Placed {
        std::string target;
        std::string path;
    };
    std::vector<Placed> earlier;
    if (p.rootfs)
        earlier.push_back({ "/", "$.rootfs" });
    for (std::size_t i = 0; i < p.mounts.size(); ++i) {
        const std::string& t = p.mounts[i].target;
        std::string path = child(element(mounts_path, i), "target");
        if (has_launch_dir(t))
            continue;
        for (const auto& e : earlier) {
            if (t == e.target)
                fail(path, "overlapping mounts: " + quote(t) + " is also the target of " + e.path);
            if (covers(t, e.target))
                fail(path, "overlapping mounts: " + quote(t) + " would hide " + e.path + " (" + quote(e.target)
                        + "), which comes before it; list a directory before what is mounted below it");
        }
        earlier.push_back({ t, element(mounts_path, i) });
    }
}

Env as_env(const Fields& f)
{
    Env env;
    if (const Json* j = f.get("pass_all"))
        env.pass_all = as_bool(*j, f.path("pass_all"));
    if (const Json* j = f.get("pass")) {
        if (env.pass_all)
            fail(f.path("pass"), "pass names variables to keep, but pass_all already keeps them all");
        env.pass = as_env_names(*j, f.path("pass"));
    }
    if (const Json* j = f.get("unset"))
        env.unset = as_env_names(*j, f.path("unset"));
    if (const Json* j = f.get("set")) {
        if (!j->is_object())
            wrong_type(f.path("set"), "an object", *j);
        for (const auto& [name, value] : j->items()) {
            std::string p = child(f.path("set"), name);
            check_env_name(name, p);
            if (std::find(env.unset.begin(), env.unset.end(), name) != env.unset.end())
                fail(p, quote(name) + " is both set and unset");
            env.set[name] = as_string(value, p);
        }
    }
    return env;
}

Network as_network(const Fields& f)
{
    Network n;
    if (const Json* j = f.get("mode")) {
        const std::string& mode = as_string(*j, f.path("mode"));
        if (mode == "none")
            n.mode = NetworkMode::none;
        else if (mode == "loopback")
            n.mode = NetworkMode::loopback;
        else if (mode == "host")
            n.mode = NetworkMode::host;
        else
            fail(f.path("mode"), "unknown network mode " + quote(mode) + " (expected none, loopback or host)");
    }
    const Json* forwards = f.get("port_forwards");
    if (!forwards)
        return n;
    std::string path = f.path("port_forwards");
    as_array(*forwards, path);
    if (n.mode == NetworkMode::none && !forwards->empty())
        fail(path, "port forwards need network mode loopback or host");
    for (std::size_t i = 0; i < forwards->size(); ++i) {
        Fields pf((*forwards)[i], element(path, i), { "host_port", "guest_port", "protocol" });
        PortForward fw;
        fw.host_port = static_cast<std::uint16_t>(as_integer(pf.required("host_port"), pf.path("host_port"), 1, 65535));
        fw.guest_port = static_cast<std::uint16_t>(as_integer(pf.required("guest_port"), pf.path("guest_port"), 1, 65535));
        const std::string& proto = as_string(pf.required("protocol"), pf.path("protocol"));
        if (proto == "tcp")
            fw.protocol = Protocol::tcp;
        else if (proto == "udp")
            fw.protocol = Protocol::udp;
        else
            fail(pf.path("protocol"), "unknown protocol " + quote(proto) + " (expected tcp or udp)");
        for (std::size_t k = 0; k < n.port_forwards.size(); ++k) {
            const auto& other = n.port_forwards[k];
            if (other.host_port == fw.host_port && other.protocol == fw.protocol)
                fail(pf.path("host_port"), "host port " + std::to_string(fw.host_port) + "/" + proto
                        + " is already forwarded by " + element(path, k));
        }
        n.port_forwards.push_back(fw);
    }
    return n;
}

Syscalls as_syscalls(const Fields& f)
{
    Syscalls s;
    if (const Json* j = f.get("default_action"))
        s.default_action = as_action(*j, f.path("default_action"));
    const Json* rules = f.get("rules");
    if (!rules)
        return s;
    std::string path = f.path("rules");
    as_array(*rules, path);
    std::map<int, std::string> ruled; // syscall number -> path of its rule
    for (std::size_t i = 0; i < rules->size(); ++i) {
        std::string rule_path = element(path, i);
        Fields rf((*rules)[i], rule_path, { "names", "action" });
        SyscallRule rule;
        std::string names_path = rf.path("names");
        const Json& names = as_array(rf.required("names"), names_path);
        if (names.empty())
            fail(names_path, "a rule needs at least one syscall name");
        for (std::size_t k = 0; k < names.size(); ++k) {
            std::string p = element(names_path, k);
            const std::string& name = as_string(names[k], p);
            auto nr = syscall_from_name(name);
            if (!nr)
                fail(p, "unknown syscall name " + quote(name) + " (not an x86-64 syscall that libseccomp knows)");
            auto [it, fresh] = ruled.emplace(*nr, rule_path);
            if (!fresh)
                fail(p, "syscall " + quote(name) + " already has a rule: " + it->second);
            rule.names.push_back(name);
            rule.numbers.push_back(*nr);
        }
        rule.action = as_action(rf.required("action"), rf.path("action"));
        s.rules.push_back(std::move(rule));
    }
    return s;
}

Signals as_signals(const Fields& f)
{
    Signals s;
    const Json* mask = f.get("mandatory_mask");
    if (!mask)
        return s;
    std::string path = f.path("mandatory_mask");
    as_array(*mask, path);
    for (std::size_t i = 0; i < mask->size(); ++i) {
        std::string p = element(path, i);
        const std::string& name = as_string((*mask)[i], p);
        auto signo = signal_from_name(name);
        if (!signo && (name.starts_with("SIGRTMIN+") || name.starts_with("SIGRTMAX-")))
            fail(p, "out of range: " + quote(name) + " (realtime signals are SIGRTMIN to SIGRTMIN+30, or SIGRTMAX-30 to SIGRTMAX)");
        if (!signo)
            fail(p, "unknown signal name " + quote(name) + " (expected a name like SIGPIPE or SIGRTMIN+3)");
        if (*signo == SIGKILL || *signo == SIGSTOP)
            fail(p, name + " cannot be blocked, so it cannot be in a mask");
        std::uint64_t bit = std::uint64_t(1) << (*signo - 1);
        if (s.mandatory_mask & bit)
            fail(p, quote(name) + " is listed twice");
        s.mandatory_mask |= bit;
    }
    return s;
}

Limits as_limits(const Fields& f)
{
    Limits l;
    auto count = [&](std::string_view key, std::uint64_t max) -> std::optional<std::uint64_t> {
        if (const Json* j = f.get(key))
            return as_integer(*j, f.path(key), 1, max);
        return std::nullopt;
    };
    auto seconds = [&](std::string_view key) -> std::optional<std::chrono::nanoseconds> {
        if (const Json* j = f.get(key))
            return as_seconds(*j, f.path(key));
        return std::nullopt;
    };
    constexpr auto k_max_bytes = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    l.wall_time = seconds("wall_time");
    l.cpu_time = seconds("cpu_time");
    l.tasks = count("tasks", k_max_tasks);
    l.open_files = count("open_files", k_max_open_files);
    l.memory = count("memory", k_max_bytes);
    l.file_size = count("file_size", k_max_bytes);
    l.output = count("output", k_max_bytes);
    return l;
}

Audit as_audit(const Fields& f)
{
    Audit a;
    if (const Json* j = f.get("log"))
        a.log = as_nonempty_string(*j, f.path("log"));
    if (const Json* j = f.get("learning"))
        a.learning = as_bool(*j, f.path("learning"));
    if (a.learning && !a.log)
        fail(f.path("learning"), "learning mode needs audit.log, the file it writes what it would deny to");
    return a;
}

Dns as_dns(const Fields& f)
{
    Dns d;
    if (const Json* j = f.get("nameservers")) {
        std::string path = f.path("nameservers");
        as_array(*j, path);
        if (j->size() > k_max_nameservers)
            fail(path, "at most 3 nameservers (glibc reads no more), got " + std::to_string(j->size()));
        for (std::size_t i = 0; i < j->size(); ++i)
            d.nameservers.push_back(as_ip_address((*j)[i], element(path, i)));
    }
    if (const Json* j = f.get("hosts")) {
        std::string path = f.path("hosts");
        as_array(*j, path);
        for (std::size_t i = 0; i < j->size(); ++i) {
            Fields hf((*j)[i], element(path, i), { "address", "names" });
            HostsEntry e;
            e.address = as_ip_address(hf.required("address"), hf.path("address"));
            std::string names_path = hf.path("names");
            const Json& names = as_array(hf.required("names"), names_path);
            if (names.empty())
                fail(names_path, "a hosts entry needs at least one name");
            for (std::size_t k = 0; k < names.size(); ++k) {
                std::string p = element(names_path, k);
                e.names.push_back(as_string(names[k], p));
                check_host_name(e.names.back(), p, 253);
            }
            d.hosts.push_back(std::move(e));
        }
    }
    return d;
}

Policy as_policy(const Json& doc)
{
    if (!doc.is_object())
        wrong_type("$", "an object", doc);
    // The version first: a file for a later version fails on it, not on its new keys.
    auto version_it = doc.find("version");
    if (version_it == doc.end())
        fail("$.version", "missing required key");
    if (!version_it->is_number_unsigned() || version_it->get<std::uint64_t>() != k_policy_version)
        fail("$.version", "unsupported version " + version_it->dump() + " (this sentry reads version 1)");

    Fields f(doc, "$",
        { "version", "rootfs", "mounts", "cwd", "env", "hostname", "uid", "gid", "network", "syscalls", "signals",
            "limits", "audit", "dns" });
    Policy p;
    if (const Json* j = f.get("rootfs"))
        p.rootfs = as_absolute_path(*j, f.path("rootfs"), false);
    if (const Json* j = f.get("mounts")) {
        as_array(*j, f.path("mounts"));
        for (std::size_t i = 0; i < j->size(); ++i)
            p.mounts.push_back(as_mount((*j)[i], element(f.path("mounts"), i)));
        check_overlaps(p, f.path("mounts"));
    }
    if (const Json* j = f.get("cwd"))
        p.cwd = as_absolute_path(*j, f.path("cwd"), true);
    if (const Json* j = f.get("env"))
        p.env = as_env(Fields(*j, f.path("env"), { "set", "unset", "pass", "pass_all" }));
    if (const Json* j = f.get("hostname")) {
        p.hostname = as_string(*j, f.path("hostname"));
        check_host_name(*p.hostname, f.path("hostname"), k_host_name_max);
    }
    // (uid_t)-1 means "unchanged" to setresuid(); no process can have it.
    if (const Json* j = f.get("uid"))
        p.uid = static_cast<std::uint32_t>(as_integer(*j, f.path("uid"), 0, 4294967294u));
    if (const Json* j = f.get("gid"))
        p.gid = static_cast<std::uint32_t>(as_integer(*j, f.path("gid"), 0, 4294967294u));
    if (const Json* j = f.get("network"))
        p.network = as_network(Fields(*j, f.path("network"), { "mode", "port_forwards" }));
    if (const Json* j = f.get("syscalls"))
        p.syscalls = as_syscalls(Fields(*j, f.path("syscalls"), { "default_action", "rules" }));
    if (const Json* j = f.get("signals"))
        p.signals = as_signals(Fields(*j, f.path("signals"), { "mandatory_mask" }));
    if (const Json* j = f.get("limits"))
        p.limits = as_limits(Fields(*j, f.path("limits"),
            { "wall_time", "cpu_time", "tasks", "open_files", "memory", "file_size", "output" }));
    if (const Json* j = f.get("audit"))
        p.audit = as_audit(Fields(*j, f.path("audit"), { "log", "learning" }));
    if (const Json* j = f.get("dns"))
        p.dns = as_dns(Fields(*j, f.path("dns"), { "nameservers", "hosts" }));
    return p;
}

// Follows the parser through the document to know the path of each key, and refuses a
// key that its object already has (nlohmann would keep the last one silently: a second
// "read_only": false would win over the first) and nesting deeper than k_max_depth.
class DuplicateKeyCheck {
public:
    bool operator()(int, Json::parse_event_t event, Json&)
    {
        // Called from inside the parser: it cannot see our Invalid, which passes through.
        using E = Json::parse_event_t;
        switch (event) {
        case E::object_start:
        case E::array_start:
            count_element();
            if (m_frames.size() >= k_max_depth)
                fail(path(), "nested more than " + std::to_string(k_max_depth) + " levels deep");
            m_frames.push_back({ event == E::array_start, 0, {}, {} });
            break;
        case E::object_end:
        case E::array_end:
            m_frames.pop_back();
            break;
        case E::key:
            break;
        case E::value:
            count_element();
            break;
        }
        return true;
    }
    // The key callback gets the key as a JSON string; this is called with it.
    void key(const std::string& k)
    {
        Frame& f = m_frames.back();
        if (!f.keys.insert(k).second) {
            f.key = k;
            fail(path(), "duplicate key");
        }
        f.key = k;
    }

private:
    struct Frame {
        bool array;
        std::size_t count;
        std::string key;
        std::set<std::string> keys;
    };
    void count_element()
    {
        if (!m_frames.empty() && m_frames.back().array)
            ++m_frames.back().count;
    }
    std::string path() const
    {
        std::string p = "$";
        for (const auto& f : m_frames)
            p = f.array ? element(p, f.count - 1) : child(p, f.key);
        return p;
    }
    std::vector<Frame> m_frames;
};

Json parse_json(std::string_view text)
{
    DuplicateKeyCheck check;
    auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::key)
            check.key(parsed.get<std::string>());
        return check(depth, event, parsed);
    };
    try {
        return Json::parse(text, callback);
    } catch (const Json::parse_error& e) {
        // nlohmann counts a newline's column as 0 of the next line; say instead where the
        // last byte it read is (e.byte of them were read), in 1-based line and column.
        std::size_t i = std::min<std::size_t>(e.byte, text.size());
        i = i == 0 ? 0 : i - 1;
        std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + i, '\n'));
        std::size_t line_start = text.rfind('\n', i == 0 ? 0 : i - 1);
        std::size_t column = line_start == std::string_view::npos || i == 0 ? i + 1 : i - line_start;
        // "[json.exception.parse_error.101] parse error at line 2, column 10: syntax error ..."
        std::string what = e.what();
        auto colon = what.find(": ");
        std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        for (char& c : detail) {
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                c = '?';
        }
        fail("$", "malformed JSON at line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + detail);
    } catch (const Json::exception& e) {
        // A number too large for a double: "[json.exception.out_of_range.406] number overflow parsing '1e400'".
        std::string what = e.what();
        auto at = what.find("] ");
        fail("$", "malformed JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
    }
}

} // namespace

std::optional<int> errno_from_name(std::string_view name)
{
    // glibc knows the names (strerrorname_np); ask it once for every errno Linux can return.
    static const auto k_errnos = [] {
        std::map<std::string, int, std::less<>> names;
        for (int e = 1; e < 4096; ++e) {
            if (const char* n = strerrorname_np(e))
                names.emplace(n, e);
        }
        return names;
    }();
    auto it = k_errnos.find(errno_alias(name));
    if (it == k_errnos.end())
        return std::nullopt;
    return it->second;
}

std::optional<int> signal_from_name(std::string_view name)
{
    if (!name.starts_with("SIG"))
        return std::nullopt;
    std::string_view rest = name.substr(3);
    auto offset = [](std::string_view digits) -> std::optional<int> {
        // Digits only: from_chars would take a sign too.
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        int n = -1;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || end != digits.data() + digits.size() || n > k_sigrtmax - k_sigrtmin)
            return std::nullopt;
        return n;
    };
    if (rest == "RTMIN")
        return k_sigrtmin;
    if (rest == "RTMAX")
        return k_sigrtmax;
    if (rest.starts_with("RTMIN+")) {
        if (auto n = offset(rest.substr(6)))
            return k_sigrtmin + *n;
        return std::nullopt;
    }
    if (rest.starts_with("RTMAX-")) {
        if (auto n = offset(rest.substr(6)))
            return k_sigrtmax - *n;
        return std::nullopt;
    }
    if (rest == "IOT")
        return SIGABRT;
    if (rest == "POLL")
        return SIGIO;
    if (rest == "CLD")
        return SIGCHLD;
    for (int signo = 1; signo < 32; ++signo) {
        const char* abbrev = sigabbrev_np(signo);
        if (abbrev && rest == abbrev)
            return signo;
    }
    return std::nullopt;
}

std::optional<int> syscall_from_name(std::string_view name)
{
    if (name.empty() || name.find('\0') != std::string_view::npos)
        return std::nullopt;
    // Negative numbers are libseccomp's pseudo-syscalls: names of other architectures.
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(name).c_str());
    if (nr < 0)
        return std::nullopt;
    return nr;
}

Action Syscalls::action_for(int nr) const
{
    for (const auto& rule : rules) {
        if (std::find(rule.numbers.begin(), rule.numbers.end(), nr) != rule.numbers.end())
            return rule.action;
    }
    return default_action;
}

std::variant<Policy, PolicyError> parse_policy(std::string_view text)
{
    try {
        if (text.size() > k_max_policy_bytes)
            fail("$", "larger than " + std::to_string(k_max_policy_bytes) + " bytes");
        return as_policy(parse_json(text));
    } catch (const Invalid& e) {
        return e.error;
    } catch (const std::exception& e) {
        // Not expected (all of nlohmann's are caught above); bad_alloc is the one left.
        return PolicyError { "$", std::string("cannot be read: ") + e.what() };
    }
}

std::variant<Policy, PolicyError> load_policy_file(const std::string& file)
{
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return PolicyError { "", strerror(errno) };
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return PolicyError { "", strerror(e) };
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > k_max_policy_bytes)
            break; // parse_policy() says why
    }
    close(fd);
    return parse_policy(text);
}

std::string format_error(const std::string& file, const PolicyError& error)
{
    if (error.path.empty())
        return file + ": " + error.reason;
    return file + ": " + error.path + ": " + error.reason;
}

Policy with_launch_dir(Policy policy, std::string_view dir)
{
    auto expand = [&](std::string& p) {
        if (!has_launch_dir(p))
            return;
        std::string rest = p.substr(k_launch_dir.size());
        if (rest.empty())
            p = std::string(dir);
        else
            p = (dir == "/" ? std::string() : std::string(dir)) + rest;
    };
    for (auto& m : policy.mounts) {
        expand(m.source);
        expand(m.target);
    }
    expand(policy.cwd);
    return policy;
}

std::string_view to_string(MountType t)
{
    switch (t) {
    case MountType::bind:
        return "bind";
    case MountType::tmpfs:
        return "tmpfs";
    case MountType::proc:
        return "proc";
    case MountType::dev:
        return "dev";
    }
    return "?";
}

std::string_view to_string(NetworkMode m)
{
    switch (m) {
    case NetworkMode::none:
        return "none";
    case NetworkMode::loopback:
        return "loopback";
    case NetworkMode::host:
        return "host";
    }
    return "?";
}

std::string_view to_string(Protocol p)
{
    return p == Protocol::tcp ? "tcp" : "udp";
}

std::string to_string(const Action& a)
{
    switch (a.kind) {
    case ActionKind::allow:
        return "allow";
    case ActionKind::log:
        return "log";
    case ActionKind::kill:
        return "kill";
    case ActionKind::error: {
        const char* name = strerrorname_np(a.error);
        return std::string("errno:") + (name ? name : std::to_string(a.error));
    }
    }
    return "?";
}

// configs/default.json, byte for byte (tests/unit/policy_test.cpp compares them).
std::string_view default_policy_json()
{
    return R"json({
  "version": 1,
  "mounts": [
    { "type": "bind", "source": "/", "target": "/", "read_only": true },
    { "type": "tmpfs", "target": "/tmp", "size": 536870912 },
    { "type": "bind", "source": "$CWD", "target": "$CWD", "read_only": false },
    { "type": "proc", "target": "/proc" },
    { "type": "dev", "target": "/dev" }
  ],
  "cwd": "$CWD",
  "env": { "pass_all": true },
  "network": { "mode": "loopback" },
  "syscalls": { "default_action": "allow" }
}
)json";
}

Policy default_policy()
{
    auto parsed = parse_policy(default_policy_json());
    // The unit tests parse the same text; a failure here is a build that never passed them.
    if (std::holds_alternative<PolicyError>(parsed))
        std::abort();
    return std::get<Policy>(std::move(parsed));
}

} // namespace sentry::policy
