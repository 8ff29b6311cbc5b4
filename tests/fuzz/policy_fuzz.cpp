// libFuzzer target for the policy parser: any bytes in, a Policy or a PolicyError out,
// never a crash, a hang or an exception. Built by run_policy_fuzz.sh (clang only).
#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sentry/policy/policy.h"

using namespace sentry::policy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = parse_policy(text);

    // What the rest of the sentry relies on, checked on every input the fuzzer finds.
    if (auto* error = std::get_if<PolicyError>(&result)) {
        if (error->path.empty() || error->path[0] != '$' || error->reason.empty())
            __builtin_trap();
        return 0;
    }
    const Policy& policy = std::get<Policy>(result);
    for (const auto& mount : policy.mounts) {
        if (mount.target.empty() || (mount.target[0] != '/' && mount.target[0] != '$'))
            __builtin_trap();
    }
    const std::uint64_t unmaskable = (std::uint64_t(1) << (SIGKILL - 1)) | (std::uint64_t(1) << (SIGSTOP - 1));
    if (policy.signals.mandatory_mask & unmaskable)
        __builtin_trap();
    for (const auto& rule : policy.syscalls.rules) {
        if (rule.names.empty() || rule.names.size() != rule.numbers.size())
            __builtin_trap();
    }
    if (policy.audit.learning && !policy.audit.log)
        __builtin_trap();
    // Parsing is a function of the text alone.
    auto again = parse_policy(text);
    if (!std::holds_alternative<Policy>(again) || std::get<Policy>(again) != policy)
        __builtin_trap();
    (void)with_launch_dir(policy, "/home/user");
    return 0;
}
