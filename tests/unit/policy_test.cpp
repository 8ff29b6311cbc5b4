// The policy parser (sentry/policy): every key to its typed value, every kind of error to
// the exact JSON path and reason, and the embedded default equal to configs/default.json.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "sentry/policy/policy.h"

using namespace sentry::policy;
using namespace std::chrono_literals;

namespace {

// The repository's root, from this file's own path (CMake compiles it by absolute path).
std::string source_dir()
{
    std::string here = __FILE__;
    auto at = here.rfind("/tests/unit/");
    REQUIRE(at != std::string::npos);
    return here.substr(0, at);
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Policy parse_ok(const std::string& text)
{
    auto r = parse_policy(text);
    if (auto* e = std::get_if<PolicyError>(&r))
        FAIL("unexpected error: " << e->path << ": " << e->reason);
    return std::get<Policy>(r);
}

PolicyError parse_error(const std::string& text)
{
    auto r = parse_policy(text);
    REQUIRE(std::holds_alternative<PolicyError>(r));
    return std::get<PolicyError>(r);
}

// A policy of version 1 with these keys added: with_keys(R"("cwd": "/x")").
std::string with_keys(const std::string& keys)
{
    return "{\"version\": 1, " + keys + "}";
}

void check_error(const std::string& keys, const std::string& path, const std::string& reason)
{
    INFO(keys);
    auto e = parse_error(with_keys(keys));
    CHECK(e.path == path);
    CHECK(e.reason == reason);
}

} // namespace

TEST_CASE("the smallest policy is just its version, and absent keys take the safe defaults", "[policy]")
{
    Policy p = parse_ok(R"({"version": 1})");
    CHECK(p == Policy {});
    CHECK(p.version == 1);
    CHECK_FALSE(p.rootfs);
    CHECK(p.mounts.empty());
    CHECK(p.cwd == "/");
    CHECK(p.env == Env {});
    CHECK_FALSE(p.env.pass_all);
    CHECK(p.network.mode == NetworkMode::none);
    CHECK(p.syscalls.default_action == Action { ActionKind::allow, 0 });
    CHECK(p.signals.mandatory_mask == 0);
    CHECK(p.limits == Limits {});
    CHECK_FALSE(p.audit.log);
    CHECK_FALSE(p.dns);
}

TEST_CASE("every key parses to its typed value", "[policy]")
{
    Policy p = parse_ok(R"({
      "version": 1,
      "rootfs": "/srv/images//debian/",
      "mounts": [
        { "type": "bind", "source": "/home/me/./src", "target": "/src/" },
        { "type": "bind", "source": "$CWD/out", "target": "/out", "read_only": false },
        { "type": "tmpfs", "target": "/tmp" },
        { "type": "tmpfs", "target": "/run", "size": 1048576, "read_only": true },
        { "type": "proc", "target": "/proc" },
        { "type": "dev", "target": "/dev" }
      ],
      "cwd": "/src",
      "env": { "set": { "A": "1", "B-C": "" }, "unset": ["LD_PRELOAD"], "pass": ["PATH", "HOME"] },
      "hostname": "box-1.example",
      "uid": 1000,
      "gid": 0,
      "network": { "mode": "loopback", "port_forwards": [ { "host_port": 8080, "guest_port": 80, "protocol": "tcp" },
                                                          { "host_port": 8080, "guest_port": 53, "protocol": "udp" } ] },
      "syscalls": { "default_action": "log",
                    "rules": [ { "names": ["mount", "ptrace"], "action": "errno:EPERM" },
                               { "names": ["kexec_load"], "action": "kill" },
                               { "names": ["io_uring_setup"], "action": "errno:ENOSYS" },
                               { "names": ["read"], "action": "allow" } ] },
      "signals": { "mandatory_mask": ["SIGPIPE", "SIGRTMIN", "SIGRTMIN+3", "SIGRTMAX", "SIGRTMAX-1", "SIGIOT"] },
      "limits": { "wall_time": 60, "cpu_time": 0.25, "tasks": 64, "open_files": 256, "memory": 5.36870912e8,
                  "file_size": 67108864, "output": 1 },
      "audit": { "log": "audit.jsonl", "learning": true },
      "dns": { "nameservers": ["1.1.1.1", "2606:4700:4700::1111"],
               "hosts": [ { "address": "10.0.0.5", "names": ["db.internal", "db"] } ] }
    })");

    CHECK(p.rootfs == "/srv/images/debian");
    REQUIRE(p.mounts.size() == 6);
    CHECK(p.mounts[0] == Mount { MountType::bind, "/home/me/src", "/src", true, 0 });
    CHECK(p.mounts[1] == Mount { MountType::bind, "$CWD/out", "/out", false, 0 });
    CHECK(p.mounts[2] == Mount { MountType::tmpfs, "", "/tmp", false, k_default_tmpfs_size });
    CHECK(p.mounts[3] == Mount { MountType::tmpfs, "", "/run", true, 1048576 });
    CHECK(p.mounts[4] == Mount { MountType::proc, "", "/proc", true, 0 });
    CHECK(p.mounts[5] == Mount { MountType::dev, "", "/dev", false, 0 });
    CHECK(p.cwd == "/src");

    CHECK(p.env.set == std::map<std::string, std::string> { { "A", "1" }, { "B-C", "" } });
    CHECK(p.env.unset == std::vector<std::string> { "LD_PRELOAD" });
    CHECK(p.env.pass == std::vector<std::string> { "PATH", "HOME" });
    CHECK_FALSE(p.env.pass_all);
    CHECK(p.hostname == "box-1.example");
    CHECK(p.uid == 1000u);
    CHECK(p.gid == 0u);

    CHECK(p.network.mode == NetworkMode::loopback);
    REQUIRE(p.network.port_forwards.size() == 2);
    CHECK(p.network.port_forwards[0] == PortForward { 8080, 80, Protocol::tcp });
    CHECK(p.network.port_forwards[1] == PortForward { 8080, 53, Protocol::udp });

    CHECK(p.syscalls.default_action == Action { ActionKind::log, 0 });
    REQUIRE(p.syscalls.rules.size() == 4);
    CHECK(p.syscalls.rules[0].names == std::vector<std::string> { "mount", "ptrace" });
    CHECK(p.syscalls.rules[0].numbers == std::vector<int> { 165, 101 });
    CHECK(p.syscalls.rules[0].action == Action { ActionKind::error, EPERM });
    CHECK(p.syscalls.action_for(165) == Action { ActionKind::error, EPERM });
    CHECK(p.syscalls.action_for(246) == Action { ActionKind::kill, 0 }); // kexec_load
    CHECK(p.syscalls.action_for(425) == Action { ActionKind::error, ENOSYS }); // io_uring_setup
    CHECK(p.syscalls.action_for(0) == Action { ActionKind::allow, 0 });
    CHECK(p.syscalls.action_for(1) == Action { ActionKind::log, 0 }); // write: the default
    CHECK(to_string(p.syscalls.rules[0].action) == "errno:EPERM");

    auto bit = [](int signo) { return std::uint64_t(1) << (signo - 1); };
    CHECK(p.signals.mandatory_mask == (bit(SIGPIPE) | bit(34) | bit(37) | bit(64) | bit(63) | bit(SIGABRT)));

    CHECK(p.limits.wall_time == 60s);
    CHECK(p.limits.cpu_time == 250ms);
    CHECK(p.limits.tasks == 64u);
    CHECK(p.limits.open_files == 256u);
    CHECK(p.limits.memory == 536870912u);
    CHECK(p.limits.file_size == 67108864u);
    CHECK(p.limits.output == 1u);

    CHECK(p.audit.log == "audit.jsonl");
    CHECK(p.audit.learning);

    REQUIRE(p.dns);
    REQUIRE(p.dns->nameservers.size() == 2);
    CHECK(p.dns->nameservers[0].family == AF_INET);
    CHECK(p.dns->nameservers[0].bytes[0] == 1);
    CHECK(p.dns->nameservers[0].text == "1.1.1.1");
    CHECK(p.dns->nameservers[1].family == AF_INET6);
    CHECK(p.dns->nameservers[1].bytes[0] == 0x26);
    REQUIRE(p.dns->hosts.size() == 1);
    CHECK(p.dns->hosts[0].address.text == "10.0.0.5");
    CHECK(p.dns->hosts[0].names == std::vector<std::string> { "db.internal", "db" });
}

TEST_CASE("env pass_all and network host", "[policy]")
{
    Policy p = parse_ok(with_keys(R"("env": {"pass_all": true}, "network": {"mode": "host"})"));
    CHECK(p.env.pass_all);
    CHECK(p.network.mode == NetworkMode::host);
}

TEST_CASE("name lookups", "[policy]")
{
    CHECK(errno_from_name("EPERM") == EPERM);
    CHECK(errno_from_name("ENOSYS") == ENOSYS);
    CHECK(errno_from_name("EWOULDBLOCK") == EAGAIN);
    CHECK(errno_from_name("ENOTSUP") == EOPNOTSUPP);
    CHECK_FALSE(errno_from_name("EFOO"));
    CHECK_FALSE(errno_from_name("eperm"));
    CHECK(signal_from_name("SIGHUP") == 1);
    CHECK(signal_from_name("SIGSYS") == 31);
    CHECK(signal_from_name("SIGCHLD") == 17);
    CHECK(signal_from_name("SIGRTMIN+30") == 64);
    CHECK(signal_from_name("SIGRTMAX-30") == 34);
    CHECK_FALSE(signal_from_name("SIGRTMIN+31"));
    CHECK_FALSE(signal_from_name("SIGRTMIN+"));
    CHECK_FALSE(signal_from_name("SIGRTMIN+-1"));
    CHECK_FALSE(signal_from_name("PIPE"));
    CHECK_FALSE(signal_from_name("SIG"));
    CHECK(syscall_from_name("read") == 0);
    CHECK(syscall_from_name("execveat") == 322);
    CHECK_FALSE(syscall_from_name("socketcall")); // i386 only: a libseccomp pseudo-syscall here
    CHECK_FALSE(syscall_from_name("nosuchcall"));
    CHECK_FALSE(syscall_from_name(std::string_view("read\0x", 6)));
}

TEST_CASE("$CWD stands for the launch directory until with_launch_dir()", "[policy]")
{
    Policy p = parse_ok(with_keys(R"("mounts": [{"type": "bind", "source": "$CWD", "target": "$CWD/sub/"}], "cwd": "$CWD")"));
    CHECK(p.mounts[0].source == "$CWD");
    CHECK(p.mounts[0].target == "$CWD/sub");
    Policy q = with_launch_dir(p, "/home/me");
    CHECK(q.mounts[0].source == "/home/me");
    CHECK(q.mounts[0].target == "/home/me/sub");
    CHECK(q.cwd == "/home/me");
    Policy r = with_launch_dir(p, "/");
    CHECK(r.mounts[0].target == "/sub");
    CHECK(r.cwd == "/");
    check_error(R"("cwd": "$CWDX")", "$.cwd", R"("$CWDX" is not an absolute path (nor starts with $CWD))");
    check_error(R"("rootfs": "$CWD")", "$.rootfs", R"("$CWD" is not an absolute path)");
}

TEST_CASE("malformed JSON is refused with its line and column", "[policy]")
{
    auto e = parse_error("{\n  \"version\": 1,\n  \"cwd\": tru\n}");
    CHECK(e.path == "$");
    CHECK(e.reason.starts_with("malformed JSON at line 3, column 13: syntax error while parsing value"));
    e = parse_error("");
    CHECK(e.path == "$");
    CHECK(e.reason.starts_with("malformed JSON at line 1, column 1:"));
    e = parse_error(with_keys(R"("uid": 1e400)"));
    CHECK(e == PolicyError { "$", "malformed JSON: number overflow parsing '1e400'" });
    e = parse_error("{\"version\": 1, \"cwd\": \"\xff\"}");
    CHECK(e.path == "$");
    CHECK(e.reason.find("ill-formed UTF-8") != std::string::npos);
    CHECK(parse_error(std::string(k_max_policy_bytes + 1, ' ')) == PolicyError { "$", "larger than 1048576 bytes" });
}

TEST_CASE("the document's structure: version, duplicate keys, nesting, unknown keys", "[policy]")
{
    CHECK(parse_error("[]") == PolicyError { "$", "wrong type: expected an object, got an array" });
    CHECK(parse_error("{}") == PolicyError { "$.version", "missing required key" });
    CHECK(parse_error(R"({"version": 2, "future": true})")
        == PolicyError { "$.version", "unsupported version 2 (this sentry reads version 1)" });
    CHECK(parse_error(R"({"version": "1"})") == PolicyError { "$.version", "unsupported version \"1\" (this sentry reads version 1)" });
    check_error(R"("cwd": "/a", "cwd": "/b")", "$.cwd", "duplicate key");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/t"}, {"type": "tmpfs", "target": "/u", "size": 1, "size": 2}])",
        "$.mounts[1].size", "duplicate key");
    check_error(R"("env": {"set": {"A": "1", "A": "2"}})", "$.env.set.A", "duplicate key");
    CHECK(parse_error(std::string(40, '[')).reason == "nested more than 32 levels deep");
    check_error(R"("Mounts": [])", "$.Mounts",
        "unknown key (expected one of: version, rootfs, mounts, cwd, env, hostname, uid, gid, network, syscalls, signals, "
        "limits, audit, dns)");
    check_error(R"("limits": {"wall-time": 3})", "$.limits[\"wall-time\"]",
        "unknown key (expected one of: wall_time, cpu_time, tasks, open_files, memory, file_size, output)");
    check_error(R"("mounts": [{"type": "proc", "target": "/proc", "options": "ro"}])", "$.mounts[0].options",
        "unknown key (expected one of: type, source, target, read_only, size)");
    check_error(R"("syscalls": {"rules": [{"names": ["read"], "action": "allow", "args": []}]})", "$.syscalls.rules[0].args",
        "unknown key (expected one of: names, action)");
}

TEST_CASE("wrong types say what was expected and what was found", "[policy]")
{
    check_error(R"("cwd": 3)", "$.cwd", "wrong type: expected a string, got a number (3)");
    check_error(R"("mounts": {})", "$.mounts", "wrong type: expected an array, got an object");
    check_error(R"("mounts": [{"type": "bind", "source": "/", "target": "/", "read_only": "yes"}])", "$.mounts[0].read_only",
        "wrong type: expected a boolean (true or false), got a string");
    check_error(R"("uid": "1000")", "$.uid", "wrong type: expected an integer, got a string");
    check_error(R"("limits": {"tasks": 2.5})", "$.limits.tasks", "wrong type: expected an integer, got a number (2.5)");
    check_error(R"("limits": {"memory": "64M"})", "$.limits.memory", "wrong type: expected an integer, got a string");
    check_error(R"("limits": {"wall_time": "60s"})", "$.limits.wall_time", "wrong type: expected a number of seconds, got a string");
    check_error(R"("env": {"set": {"A": null}})", "$.env.set.A", "wrong type: expected a string, got null");
    check_error(R"("env": {"set": ["A=1"]})", "$.env.set", "wrong type: expected an object, got an array");
    check_error(R"("network": "host")", "$.network", "wrong type: expected an object, got a string");
    check_error(R"("audit": {"learning": 1})", "$.audit.learning", "wrong type: expected a boolean (true or false), got a number (1)");
    check_error(R"("signals": {"mandatory_mask": [13]})", "$.signals.mandatory_mask[0]", "wrong type: expected a string, got a number (13)");
}

TEST_CASE("numbers out of range", "[policy]")
{
    check_error(R"("limits": {"wall_time": 0})", "$.limits.wall_time", "out of range: 0 (expected more than 0 and at most 1000000000 seconds)");
    check_error(R"("limits": {"cpu_time": -1.5})", "$.limits.cpu_time", "out of range: -1.5 (expected more than 0 and at most 1000000000 seconds)");
    check_error(R"("limits": {"tasks": 0})", "$.limits.tasks", "out of range: 0 (expected 1 to 4194304)");
    check_error(R"("limits": {"open_files": 2000000})", "$.limits.open_files", "out of range: 2000000 (expected 1 to 1048576)");
    check_error(R"("limits": {"memory": -1})", "$.limits.memory", "out of range: -1 (expected 1 to 9223372036854775807)");
    check_error(R"("uid": 4294967295)", "$.uid", "out of range: 4294967295 (expected 0 to 4294967294)");
    check_error(R"("network": {"mode": "host", "port_forwards": [{"host_port": 0, "guest_port": 80, "protocol": "tcp"}]})",
        "$.network.port_forwards[0].host_port", "out of range: 0 (expected 1 to 65535)");
    check_error(R"("network": {"mode": "host", "port_forwards": [{"host_port": 80, "guest_port": 65536, "protocol": "tcp"}]})",
        "$.network.port_forwards[0].guest_port", "out of range: 65536 (expected 1 to 65535)");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/tmp", "size": 0}])", "$.mounts[0].size",
        "out of range: 0 (expected 1 to 9223372036854775807)");
    // A whole number written with an exponent is a whole number.
    CHECK(parse_ok(with_keys(R"("limits": {"memory": 64e6})")).limits.memory == 64000000u);
    CHECK(parse_ok(with_keys(R"("limits": {"wall_time": 1e-12})")).limits.wall_time == 1ns);
}

TEST_CASE("unknown names: syscalls, signals, errnos, actions, enums", "[policy]")
{
    check_error(R"("syscalls": {"rules": [{"names": ["mount", "mountt"], "action": "kill"}]})", "$.syscalls.rules[0].names[1]",
        R"(unknown syscall name "mountt" (not an x86-64 syscall that libseccomp knows))");
    check_error(R"("syscalls": {"rules": [{"names": ["socketcall"], "action": "kill"}]})", "$.syscalls.rules[0].names[0]",
        R"(unknown syscall name "socketcall" (not an x86-64 syscall that libseccomp knows))");
    check_error(R"("signals": {"mandatory_mask": ["SIGPIPE", "PIPE"]})", "$.signals.mandatory_mask[1]",
        R"(unknown signal name "PIPE" (expected a name like SIGPIPE or SIGRTMIN+3))");
    check_error(R"("signals": {"mandatory_mask": ["SIGRTMIN+31"]})", "$.signals.mandatory_mask[0]",
        R"(out of range: "SIGRTMIN+31" (realtime signals are SIGRTMIN to SIGRTMIN+30, or SIGRTMAX-30 to SIGRTMAX))");
    check_error(R"("signals": {"mandatory_mask": ["SIGKILL"]})", "$.signals.mandatory_mask[0]",
        "SIGKILL cannot be blocked, so it cannot be in a mask");
    check_error(R"("signals": {"mandatory_mask": ["SIGSTOP"]})", "$.signals.mandatory_mask[0]",
        "SIGSTOP cannot be blocked, so it cannot be in a mask");
    check_error(R"("signals": {"mandatory_mask": ["SIGPIPE", "SIGPIPE"]})", "$.signals.mandatory_mask[1]", R"("SIGPIPE" is listed twice)");
    check_error(R"("syscalls": {"default_action": "errno:EFOO"})", "$.syscalls.default_action",
        R"(unknown errno name "EFOO" (expected a name like EPERM or ENOSYS))");
    check_error(R"("syscalls": {"default_action": "deny"})", "$.syscalls.default_action",
        R"(unknown action "deny" (expected allow, kill, log or errno:NAME))");
    check_error(R"("syscalls": {"rules": [{"names": ["read"], "action": "errno:1"}]})", "$.syscalls.rules[0].action",
        R"(unknown errno name "1" (expected a name like EPERM or ENOSYS))");
    check_error(R"("mounts": [{"type": "overlay", "target": "/"}])", "$.mounts[0].type",
        R"(unknown mount type "overlay" (expected bind, tmpfs, proc or dev))");
    check_error(R"("network": {"mode": "bridge"})", "$.network.mode", R"(unknown network mode "bridge" (expected none, loopback or host))");
    check_error(R"("network": {"mode": "host", "port_forwards": [{"host_port": 1, "guest_port": 1, "protocol": "sctp"}]})",
        "$.network.port_forwards[0].protocol", R"(unknown protocol "sctp" (expected tcp or udp))");
}

TEST_CASE("mounts: required keys, absolute paths, keys of other types", "[policy]")
{
    check_error(R"("mounts": [{"target": "/"}])", "$.mounts[0].type", "missing required key");
    check_error(R"("mounts": [{"type": "bind", "target": "/"}])", "$.mounts[0].source", "missing required key");
    check_error(R"("mounts": [{"type": "tmpfs"}])", "$.mounts[0].target", "missing required key");
    check_error(R"("mounts": [{"type": "bind", "source": "home", "target": "/home"}])", "$.mounts[0].source",
        R"("home" is not an absolute path (nor starts with $CWD))");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "tmp"}])", "$.mounts[0].target",
        R"("tmp" is not an absolute path (nor starts with $CWD))");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/a/../etc"}])", "$.mounts[0].target", R"("/a/../etc" contains "..")");
    check_error(R"("mounts": [{"type": "tmpfs", "target": ""}])", "$.mounts[0].target", "must not be empty");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/a\u0000b"}])", "$.mounts[0].target", "contains a NUL character");
    check_error(R"("mounts": [{"type": "tmpfs", "source": "/x", "target": "/t"}])", "$.mounts[0].source", "only a bind mount has a source");
    check_error(R"("mounts": [{"type": "bind", "source": "/x", "target": "/t", "size": 5}])", "$.mounts[0].size", "only a tmpfs mount has a size");
    check_error(R"("mounts": [{"type": "proc", "target": "/proc", "read_only": false}])", "$.mounts[0].read_only",
        "only bind and tmpfs mounts have read_only");
    check_error(R"("cwd": "work")", "$.cwd", R"("work" is not an absolute path (nor starts with $CWD))");
    check_error(R"("rootfs": "/srv/../etc")", "$.rootfs", R"("/srv/../etc" contains "..")");
    CHECK(parse_ok(with_keys(R"("cwd": "//a/./b//")")).cwd == "/a/b");
    CHECK(parse_ok(with_keys(R"("cwd": "/./")")).cwd == "/");
}

TEST_CASE("overlapping mounts: a mount hidden by a later one", "[policy]")
{
    // Parents first is fine, and so are siblings and a $CWD mount anywhere.
    parse_ok(with_keys(R"("mounts": [{"type": "bind", "source": "/", "target": "/"}, {"type": "tmpfs", "target": "/tmp"},
        {"type": "tmpfs", "target": "/tmp/a"}, {"type": "tmpfs", "target": "/tmpa"}, {"type": "bind", "source": "/", "target": "$CWD"}])"));
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/tmp"}, {"type": "tmpfs", "target": "/tmp/"}])", "$.mounts[1].target",
        R"(overlapping mounts: "/tmp" is also the target of $.mounts[0])");
    check_error(R"("mounts": [{"type": "tmpfs", "target": "/a/b"}, {"type": "proc", "target": "/proc"}, {"type": "tmpfs", "target": "/a"}])",
        "$.mounts[2].target",
        R"(overlapping mounts: "/a" would hide $.mounts[0] ("/a/b"), which comes before it; list a directory before what is mounted below it)");
    check_error(R"("rootfs": "/srv/root", "mounts": [{"type": "bind", "source": "/", "target": "/"}])", "$.mounts[0].target",
        R"(overlapping mounts: "/" is also the target of $.rootfs)");
}

TEST_CASE("env, hostname, network, audit and dns checks", "[policy]")
{
    check_error(R"("env": {"pass_all": true, "pass": ["PATH"]})", "$.env.pass",
        "pass names variables to keep, but pass_all already keeps them all");
    check_error(R"("env": {"unset": ["A=B"]})", "$.env.unset[0]", R"("A=B" is not a variable name (empty, or contains '=' or NUL))");
    check_error(R"("env": {"set": {"": "x"}})", "$.env.set[\"\"]", R"("" is not a variable name (empty, or contains '=' or NUL))");
    check_error(R"("env": {"unset": ["A"], "set": {"A": "1"}})", "$.env.set.A", R"("A" is both set and unset)");
    check_error(R"("hostname": "my host")", "$.hostname", R"("my host" is not a host name (letters, digits, '-', '_' and '.' only))");
    check_error(R"("hostname": "")", "$.hostname", R"("" must be 1 to 64 bytes long)");
    check_error(R"("network": {"port_forwards": [{"host_port": 1, "guest_port": 1, "protocol": "tcp"}]})", "$.network.port_forwards",
        "port forwards need network mode loopback or host");
    check_error(R"("network": {"mode": "host", "port_forwards": [{"host_port": 80, "guest_port": 1, "protocol": "tcp"},
        {"host_port": 80, "guest_port": 2, "protocol": "tcp"}]})", "$.network.port_forwards[1].host_port",
        "host port 80/tcp is already forwarded by $.network.port_forwards[0]");
    check_error(R"("network": {"mode": "host", "port_forwards": [{"host_port": 80, "guest_port": 1}]})",
        "$.network.port_forwards[0].protocol", "missing required key");
    check_error(R"("syscalls": {"rules": [{"names": ["read"], "action": "allow"}, {"names": ["write", "read"], "action": "kill"}]})",
        "$.syscalls.rules[1].names[1]", R"(syscall "read" already has a rule: $.syscalls.rules[0])");
    check_error(R"("syscalls": {"rules": [{"names": [], "action": "allow"}]})", "$.syscalls.rules[0].names",
        "a rule needs at least one syscall name");
    check_error(R"("syscalls": {"rules": [{"names": ["read"]}]})", "$.syscalls.rules[0].action", "missing required key");
    check_error(R"("audit": {"learning": true})", "$.audit.learning",
        "learning mode needs audit.log, the file it writes what it would deny to");
    check_error(R"("audit": {"log": ""})", "$.audit.log", "must not be empty");
    check_error(R"("dns": {"nameservers": ["1.1.1"]})", "$.dns.nameservers[0]", R"("1.1.1" is not an IPv4 or IPv6 address)");
    check_error(R"("dns": {"nameservers": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]})", "$.dns.nameservers",
        "at most 3 nameservers (glibc reads no more), got 4");
    check_error(R"("dns": {"hosts": [{"address": "10.0.0.1", "names": ["a b"]}]})", "$.dns.hosts[0].names[0]",
        R"("a b" is not a host name (letters, digits, '-', '_' and '.' only))");
    check_error(R"("dns": {"hosts": [{"address": "10.0.0.1", "names": []}]})", "$.dns.hosts[0].names",
        "a hosts entry needs at least one name");
    check_error(R"("dns": {"hosts": [{"names": ["a"]}]})", "$.dns.hosts[0].address", "missing required key");
}

TEST_CASE("quoted values are ASCII and short in reasons", "[policy]")
{
    auto e = parse_error(with_keys("\"cwd\": \"caf\\u00e9\\n" + std::string(200, 'x') + "\""));
    CHECK(e.path == "$.cwd");
    CHECK(e.reason.starts_with(R"("caf\u00e9\nxxx)"));
    CHECK(e.reason.find("xxx...\" is not an absolute path") != std::string::npos);
    CHECK(e.reason.size() < 160);
}

TEST_CASE("format_error is the line check-config prints", "[policy]")
{
    CHECK(format_error("p.json", { "$.cwd", "must not be empty" }) == "p.json: $.cwd: must not be empty");
    CHECK(format_error("p.json", { "", "No such file or directory" }) == "p.json: No such file or directory");
    auto r = load_policy_file("/nonexistent/policy.json");
    REQUIRE(std::holds_alternative<PolicyError>(r));
    CHECK(std::get<PolicyError>(r) == PolicyError { "", "No such file or directory" });
}

TEST_CASE("the embedded default is configs/default.json, byte for byte", "[policy]")
{
    std::string file = read_file(source_dir() + "/configs/default.json");
    CHECK(default_policy_json() == file);
    CHECK(default_policy() == parse_ok(file));

    Policy p = default_policy();
    REQUIRE(p.mounts.size() == 5);
    CHECK(p.mounts[0] == Mount { MountType::bind, "/", "/", true, 0 });
    CHECK(p.mounts[1].type == MountType::tmpfs);
    CHECK(p.mounts[1].target == "/tmp");
    CHECK(p.mounts[2] == Mount { MountType::bind, "$CWD", "$CWD", false, 0 });
    CHECK(p.cwd == "$CWD");
    CHECK(p.env.pass_all);
    CHECK(p.network.mode == NetworkMode::loopback);
    CHECK(p.syscalls == Syscalls {});
}

TEST_CASE("every file in configs/ is a valid policy", "[policy]")
{
    for (const char* name : { "default.json", "ci-untrusted.json", "web-service.json" }) {
        INFO(name);
        parse_ok(read_file(source_dir() + "/configs/" + name));
    }
    Policy ci = parse_ok(read_file(source_dir() + "/configs/ci-untrusted.json"));
    CHECK(ci.network.mode == NetworkMode::none);
    CHECK(ci.mounts[0].read_only);
    CHECK(ci.limits.wall_time == 60s);
    CHECK(ci.syscalls.action_for(165) == Action { ActionKind::error, EPERM }); // mount
    CHECK(ci.signals.mandatory_mask == std::uint64_t(1) << (SIGPIPE - 1));
}
