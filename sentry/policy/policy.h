#pragma once
// The policy of one sandbox: what the guest may see (mounts, rootfs, env, hostname, ids,
// DNS) and do (network, syscalls, signals, limits), and what is recorded (audit).
//
// A policy is a JSON document (docs/policy.md describes every key). parse_policy() turns
// the text into a Policy whose fields are already typed and checked: syscall names are
// numbers, signal names a sigset, errno names values, durations std::chrono, paths
// absolute and normalized. Whatever parse_policy() accepts, the rest of the sentry may use
// without checking again; whatever it refuses comes back as a PolicyError that names the
// offending key by its JSON path. Nothing here touches the host: existence of host paths
// is the business of whoever applies the policy.
//
// A key that is absent takes the value its field is initialized with below; those are the
// safe defaults that docs/policy.md states. With no --config the sentry applies
// default_policy(), parsed from configs/default.json as embedded in the binary.
//
// This file and policy.cpp depend on nlohmann/json and libseccomp only, so that the
// fuzz target (tests/fuzz/) can build them alone.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sentry::policy {

// The only version this sentry reads.
constexpr int k_policy_version = 1;
// A policy file larger than this is refused before parsing.
constexpr std::size_t k_max_policy_bytes = 1 << 20;
// What a tmpfs mount without "size" may hold.
constexpr std::uint64_t k_default_tmpfs_size = 64ull << 20;
// Paths in mounts[].source, mounts[].target and cwd may start with this word; it stands
// for the directory `sentry run` was started in (see with_launch_dir()).
constexpr std::string_view k_launch_dir = "$CWD";

enum class MountType { bind, tmpfs, proc, dev };

// Mounts stack in their order in the file, as mount(2) calls would: a later mount covers
// what is below its target. parse_policy() has checked that no mount is hidden entirely
// by a later one (equal target, or a later target above it), except where a "$CWD" path
// makes that unknowable until with_launch_dir().
struct Mount {
    MountType type = MountType::bind;
    std::string source;                // bind: the host directory or file; empty otherwise
    std::string target;                // guest path: absolute, normalized (or "$CWD"...)
    bool read_only = true;             // bind: default true; tmpfs: default false; proc: always true;
                                       // dev: always false (its nodes decide, /dev/null takes writes)
    std::uint64_t size = 0;            // tmpfs: bytes it may hold (k_default_tmpfs_size if absent); 0 otherwise
    bool operator==(const Mount&) const = default;
};

// The guest's environment is built in this order: the host's variables if pass_all, else
// only those named in pass (that the host has); then unset removes; then set assigns.
struct Env {
    std::map<std::string, std::string> set;
    std::vector<std::string> unset;
    std::vector<std::string> pass;
    bool pass_all = false;
    bool operator==(const Env&) const = default;
};

enum class NetworkMode { none, loopback, host };
enum class Protocol { tcp, udp };

struct PortForward {
    std::uint16_t host_port = 0;       // 1..65535
    std::uint16_t guest_port = 0;      // 1..65535
    Protocol protocol = Protocol::tcp;
    bool operator==(const PortForward&) const = default;
};

struct Network {
    NetworkMode mode = NetworkMode::none;
    std::vector<PortForward> port_forwards; // empty when mode is none
    bool operator==(const Network&) const = default;
};

enum class ActionKind {
    allow, // run the call as the sentry implements it
    log,   // allow, and write an audit record
    error, // fail the call with -error, without running it
    kill,  // end the calling thread group as by SIGSYS (SECCOMP_RET_KILL_PROCESS)
};

struct Action {
    ActionKind kind = ActionKind::allow;
    int error = 0;                     // kind == error: a positive Linux errno (EPERM = 1)
    bool operator==(const Action&) const = default;
};

struct SyscallRule {
    std::vector<std::string> names;    // as written in the file
    std::vector<int> numbers;          // x86-64 numbers of names, same order
    Action action;
    bool operator==(const SyscallRule&) const = default;
};

struct Syscalls {
    Action default_action;             // allow when absent
    std::vector<SyscallRule> rules;    // no syscall appears in two rules
    // The action for syscall number nr: its rule's if one names it, else default_action.
    Action action_for(int nr) const;
    bool operator==(const Syscalls&) const = default;
};

struct Signals {
    // Signals the guest can never unblock, in the kernel's sigset layout: bit (signo - 1).
    // Never contains SIGKILL or SIGSTOP.
    std::uint64_t mandatory_mask = 0;
    bool operator==(const Signals&) const = default;
};

// Every limit is optional; absent means no limit beyond the host's.
struct Limits {
    std::optional<std::chrono::nanoseconds> wall_time; // from start to the end of the last guest process
    std::optional<std::chrono::nanoseconds> cpu_time;  // user + system, all guest processes together
    std::optional<std::uint64_t> tasks;                // threads alive at once
    std::optional<std::uint64_t> open_files;           // fds per process (RLIMIT_NOFILE)
    std::optional<std::uint64_t> memory;               // bytes of address space in use, all guests
    std::optional<std::uint64_t> file_size;            // bytes, largest file a guest may write (RLIMIT_FSIZE)
    std::optional<std::uint64_t> output;               // bytes written to the sentry's stdout + stderr
    bool operator==(const Limits&) const = default;
};

struct Audit {
    std::optional<std::string> log;    // host path of a JSON Lines file, as written (may be relative)
    bool learning = false;             // log what would be denied, deny nothing; needs log
    bool operator==(const Audit&) const = default;
};

struct IpAddress {
    int family = 0;                    // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes {}; // network order; the first 4 for AF_INET
    std::string text;                  // as written
    bool operator==(const IpAddress&) const = default;
};

struct HostsEntry {
    IpAddress address;
    std::vector<std::string> names;
    bool operator==(const HostsEntry&) const = default;
};

// What the guest's /etc/resolv.conf and /etc/hosts say when it has a network.
struct Dns {
    std::vector<IpAddress> nameservers;
    std::vector<HostsEntry> hosts;
    bool operator==(const Dns&) const = default;
};

struct Policy {
    int version = k_policy_version;
    std::optional<std::string> rootfs; // host directory shown read-only as the guest's /
    std::vector<Mount> mounts;         // on top of rootfs, in order
    std::string cwd = "/";             // guest path the first process starts in
    Env env;                           // empty environment when absent
    std::optional<std::string> hostname; // absent: the host's name
    std::optional<std::uint32_t> uid;  // presented ids; absent: the sentry's own
    std::optional<std::uint32_t> gid;
    Network network;                   // mode none when absent
    Syscalls syscalls;                 // allow everything the sentry implements when absent
    Signals signals;
    Limits limits;
    Audit audit;
    std::optional<Dns> dns;            // absent: the guest sees the files its mounts show
    bool operator==(const Policy&) const = default;
};

// Why a policy was refused. path is the JSON path of the offending key or value ("$" for
// the document itself), e.g. "$.mounts[2].target", "$.env.set[\"A-B\"]"; reason is one
// sentence without a trailing period.
struct PolicyError {
    std::string path;
    std::string reason;
    bool operator==(const PolicyError&) const = default;
};

std::variant<Policy, PolicyError> parse_policy(std::string_view text);

// Reads and parses a policy file. An unreadable file gives path "" and the system's reason.
std::variant<Policy, PolicyError> load_policy_file(const std::string& file);

// "FILE: $.path: reason" (or "FILE: reason" when path is empty), the line that
// `sentry check-config` and `sentry run --config` print.
std::string format_error(const std::string& file, const PolicyError& error);

// The text of configs/default.json, byte for byte, and the policy it gives.
std::string_view default_policy_json();
Policy default_policy();

// Replaces a leading "$CWD" in mount sources, mount targets and cwd with dir (an absolute,
// normalized path). Mounts keep their order, so a "$CWD" mount covers whatever earlier
// mount it lands on or above.
Policy with_launch_dir(Policy policy, std::string_view dir);

// Names as the policy file spells them.
std::string_view to_string(MountType);
std::string_view to_string(NetworkMode);
std::string_view to_string(Protocol);
std::string to_string(const Action&);    // "allow", "errno:EPERM", ...

// Lookups the parser uses, exposed for the tests and for the audit log.
std::optional<int> errno_from_name(std::string_view name);  // "EPERM" -> 1
std::optional<int> signal_from_name(std::string_view name); // "SIGPIPE" -> 13, "SIGRTMIN+3" -> 37
std::optional<int> syscall_from_name(std::string_view name); // x86-64 number, via libseccomp

} // namespace sentry::policy
