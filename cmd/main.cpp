// The sentry command line: parses, then calls into sentry/. Exit codes: the guest's
// own status (128+N when a signal N killed it); 127 program not found; 126 program
// not executable; 125 any other failure of the sentry itself.

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <fstream>
#include <sstream>

#include "sentry/kernel/kernel.h"
#include "sentry/policy/policy.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/ptrace/platform.h"

extern char** environ;

namespace {

constexpr int k_exit_not_found = 127;
constexpr int k_exit_not_executable = 126;
constexpr int k_exit_sentry_error = 125;

// Find the program as execvp would: a name with a slash is a path, else PATH.
int resolve_program(const std::string& name, std::string& out, std::string& why)
{
    auto check = [&](const std::string& p) -> int {
        struct stat st {};
        if (::stat(p.c_str(), &st) < 0)
            return k_exit_not_found;
        if (S_ISDIR(st.st_mode) || access(p.c_str(), X_OK) < 0)
            return k_exit_not_executable;
        out = p;
        return 0;
    };
    if (name.find('/') != std::string::npos) {
        int r = check(name);
        if (r == k_exit_not_found)
            why = fmt::format("{}: no such file or directory", name);
        else if (r)
            why = fmt::format("{}: permission denied (not an executable file)", name);
        return r;
    }
    const char* path_env = getenv("PATH");
    std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::stringstream ss(path);
    std::string dir;
    int best = k_exit_not_found;
    while (std::getline(ss, dir, ':')) {
        int r = check((dir.empty() ? "." : dir) + "/" + name);
        if (r == 0)
            return 0;
        if (r == k_exit_not_executable)
            best = r;
    }
    why = best == k_exit_not_found ? fmt::format("{}: command not found", name)
                                   : fmt::format("{}: permission denied", name);
    return best;
}

// `sentry check-config FILE`: "FILE: ok" on stdout and 0, or the first error as
// "FILE: $.path: reason" on stderr and 2 (docs/policy.md). Nothing else is checked:
// whether host paths exist is known only when a run applies the policy.
int cmd_check_config(const std::string& file)
{
    constexpr int k_exit_invalid_policy = 2;
    auto loaded = sentry::policy::load_policy_file(file);
    if (auto* e = std::get_if<sentry::policy::PolicyError>(&loaded)) {
        fmt::print(stderr, "{}\n", sentry::policy::format_error(file, *e));
        return k_exit_invalid_policy;
    }
    fmt::print("{}: ok\n", file);
    return 0;
}

int cmd_syscalls(const std::string& format)
{
    using namespace sentry::kernel;
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : syscall_table()) {
            if (e.name.empty())
                continue;
            arr.push_back({{"nr", e.nr}, {"name", e.name}, {"support", support_name(e.support)}, {"note", e.note}});
        }
        fmt::print("{}\n", arr.dump(2));
        return 0;
    }
    fmt::print("{:<4} {:<24} {:<9} {}\n", "nr", "name", "support", "note");
    for (const auto& e : syscall_table()) {
        if (e.name.empty())
            continue;
        fmt::print("{:<4} {:<24} {:<9} {}\n", e.nr, e.name, support_name(e.support), e.note);
    }
    return 0;
}

// What of a policy the sentry enforces today: network mode, limits, syscall rules,
// audit, the mandatory signal mask and the hostname (and the environment, below). The rest is parsed and validated but not
// yet applied; say so rather than let a user believe a read-only root protects them.
void apply_policy(const sentry::policy::Policy& p, sentry::kernel::KernelOptions& opts)
{
    using sentry::policy::NetworkMode;
    opts.network = p.network.mode == NetworkMode::none ? sentry::netstack::NetworkMode::none
        : p.network.mode == NetworkMode::host        ? sentry::netstack::NetworkMode::host
                                                     : sentry::netstack::NetworkMode::loopback;
    auto secs = [](const std::optional<std::chrono::nanoseconds>& d) {
        return d ? std::optional<double>(std::chrono::duration<double>(*d).count()) : std::nullopt;
    };
    opts.limits.wall_time = secs(p.limits.wall_time);
    opts.limits.cpu_time = secs(p.limits.cpu_time);
    opts.limits.memory = p.limits.memory;
    opts.limits.tasks = p.limits.tasks;
    opts.limits.output = p.limits.output;
    opts.limits.open_files = p.limits.open_files;
    opts.limits.file_size = p.limits.file_size;
    std::vector<std::string> ignored;
    if (p.rootfs)
        ignored.push_back("rootfs");
    if (!p.mounts.empty())
        ignored.push_back("mounts");
    if (p.cwd != "/")
        ignored.push_back("cwd");
    if (p.uid || p.gid)
        ignored.push_back("uid/gid");
    if (!p.network.port_forwards.empty())
        ignored.push_back("network.port_forwards");
    if (p.dns)
        ignored.push_back("dns");
    if (!ignored.empty())
        fmt::print(stderr, "sentry: policy: not enforced yet (issue 7): {}\n", fmt::join(ignored, ", "));
}

// The guest's environment under a policy's `env`: nothing unless passed or set.
std::vector<std::string> policy_environment(const sentry::policy::Env& env, const std::vector<std::string>& host)
{
    std::map<std::string, std::string> out;
    for (auto& kv : host) {
        auto eq = kv.find('=');
        std::string name = kv.substr(0, eq);
        if (env.pass_all || std::find(env.pass.begin(), env.pass.end(), name) != env.pass.end())
            out[name] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    for (auto& [k, v] : env.set)
        out[k] = v;
    for (auto& k : env.unset)
        out.erase(k);
    std::vector<std::string> r;
    for (auto& [k, v] : out)
        r.push_back(k + "=" + v);
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"sentry: runs untrusted Linux x86-64 programs against an emulated kernel"};
    app.require_subcommand(1);

    auto* run = app.add_subcommand("run", "run a program under the sentry");
    bool strace = false;
    std::string strace_syscalls;
    std::string config;
    bool debug = false;
    std::vector<std::string> guest;
    run->add_flag("--strace", strace, "print each syscall with its arguments and result on stderr");
    run->add_option("--strace-syscalls", strace_syscalls, "only trace these syscalls (comma separated names)");
    run->add_option("--config", config, "JSON policy file");
    std::string report;
    run->add_option("--report", report, "write a JSON report of the run to this file at exit");
    run->add_flag("--debug", debug, "log the sentry's own decisions on stderr");
    std::string network = "loopback";
    run->add_option("--network", network,
        "inet sockets: none (EAFNOSUPPORT), loopback (inside the sandbox only, the default), host")
        ->check(CLI::IsMember({"none", "loopback", "host"}));
    run->add_option("command", guest, "program and its arguments (after --)")->required();

    auto* syscalls = app.add_subcommand("syscalls", "report how each syscall is supported");
    std::string format = "table";
    syscalls->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));

    auto* check_config = app.add_subcommand("check-config",
        "validate a JSON policy file: exit 0 if valid, 2 if not (with the key and the reason)");
    std::string check_file;
    check_config->add_option("file", check_file, "the policy file")->required();

    app.add_subcommand("version", "print the version");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int r = app.exit(e);
        return r == 0 ? 0 : k_exit_sentry_error;
    }

    if (app.got_subcommand("version")) {
        fmt::print("sentry 0.1.0\n");
        return 0;
    }
    if (app.got_subcommand("syscalls"))
        return cmd_syscalls(format);
    if (app.got_subcommand("check-config"))
        return cmd_check_config(check_file);

    sentry::kernel::KernelOptions opts;
    opts.strace = strace || !strace_syscalls.empty();
    opts.debug = debug;
    opts.network = network == "none" ? sentry::netstack::NetworkMode::none
        : network == "host"          ? sentry::netstack::NetworkMode::host
                                     : sentry::netstack::NetworkMode::loopback;
    if (!strace_syscalls.empty()) {
        std::stringstream ss(strace_syscalls);
        std::string name;
        while (std::getline(ss, name, ',')) {
            long nr = sentry::kernel::syscall_number(name);
            if (nr < 0) {
                fmt::print(stderr, "sentry: --strace-syscalls: unknown syscall '{}'\n", name);
                return k_exit_sentry_error;
            }
            opts.strace_only.insert(nr);
        }
    }
    std::shared_ptr<sentry::policy::Policy> policy;
    if (!config.empty()) {
        // A bad policy starts nothing (docs/policy.md).
        auto loaded = sentry::policy::load_policy_file(config);
        if (auto* e = std::get_if<sentry::policy::PolicyError>(&loaded)) {
            fmt::print(stderr, "sentry: {}\n", sentry::policy::format_error(config, *e));
            return k_exit_sentry_error;
        }
        char here[PATH_MAX];
        policy = std::make_shared<sentry::policy::Policy>(sentry::policy::with_launch_dir(
            std::get<sentry::policy::Policy>(std::move(loaded)), getcwd(here, sizeof here) ? here : "/"));
        apply_policy(*policy, opts);
        opts.policy = policy;
    }

    std::string path, why;
    if (int r = resolve_program(guest[0], path, why)) {
        fmt::print(stderr, "sentry: {}\n", why);
        return r;
    }
    if (auto reason = sentry::ptrace::probe_ptrace(); !reason.empty()) {
        fmt::print(stderr, "sentry: cannot trace guests: {}\n", reason);
        return k_exit_sentry_error;
    }
    std::vector<std::string> envp;
    for (char** e = environ; *e; ++e)
        envp.emplace_back(*e);
    if (policy)
        envp = policy_environment(policy->env, envp);

    opts.sample_usage = !report.empty();
    sentry::kernel::Kernel kernel(opts);
    int status = kernel.run(path, guest, envp, why);
    if (!why.empty()) {
        fmt::print(stderr, "sentry: {}\n", why);
        return k_exit_sentry_error;
    }
    if (!report.empty()) {
        std::ofstream out(report);
        out << kernel.report().dump(2) << "\n";
        if (!out) {
            fmt::print(stderr, "sentry: --report: cannot write {}\n", report);
            return k_exit_sentry_error;
        }
    }
    return status;
}
