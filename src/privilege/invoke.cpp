// SPDX-License-Identifier: Apache-2.0
// The user side of a run_as rule (invoke.hpp).
#include "privilege/invoke.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "os/accounts.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::privilege {

Result<bool> needs_switch(const std::string& run_as, const std::string& source) {
    if (run_as.empty()) return false;
    errno = 0;
    const passwd* pw = os::user_named(run_as);
    if (pw == nullptr) {
        return Error{"the rule's run_as user \"" + run_as + "\" does not exist on this host",
                     source};
    }
    return pw->pw_uid != ::geteuid();
}

Result<bool> needs_switch(const policy::Rule& rule) {
    return needs_switch(rule.run_as, rule.source);
}

Result<std::string> own_executable() {
    std::array<char, 4096> buffer{};
    const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
    if (n <= 0)
        return Error{std::string("cannot read /proc/self/exe: ") + std::strerror(errno), ""};
    std::string path(buffer.data(), static_cast<std::size_t>(n));
    // The kernel appends " (deleted)" when the binary was replaced (an upgrade) while running:
    // sudoers names the new file, which this process is not.
    const std::string deleted = " (deleted)";
    if (path.empty() || path[0] != '/' ||
        (path.size() > deleted.size() &&
         path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)) {
        return Error{"bridle's own executable " + path + " is gone (replaced while running?)", ""};
    }
    // bridle-full runs when bridle, beside it, hands a request over (src/front.cpp): sudo, the
    // sudoers drop-in and the sandbox name bridle.
    constexpr std::string_view kFull = "/bridle-full";
    if (path.ends_with(kFull)) path.replace(path.size() - kFull.size(), kFull.size(), "/bridle");
    return path;
}

namespace {

// The target side's command line: an open form names the rule alone (the request travels in
// BRIDLE_ARGV); an exact one carries the normal form after "--".
std::vector<std::string> command_line(const std::string& bridle, const std::string& policy_file,
                                      const std::string& id, bool exact,
                                      const std::vector<std::string>& normal) {
    std::vector<std::string> command{bridle, kTargetMode};
    if (!policy_file.empty()) {
        command.emplace_back("--policy");
        command.push_back(policy_file);
    }
    command.push_back(id);
    if (exact) {
        command.emplace_back("--");
        command.insert(command.end(), normal.begin(), normal.end());
    }
    return command;
}

SudoCall call_for(const std::string& user, std::vector<std::string> target, bool exact,
                  const std::vector<std::string>& normal, const std::string& request_id,
                  const std::string& policy_sha256) {
    SudoCall call;
    call.user = user;
    call.target_command = std::move(target);
    // -n: never prompt (a password prompt would hang the request); "--" ends sudo's options.
    call.argv = {"sudo", "-n", "-u", user, "--"};
    call.argv.insert(call.argv.end(), call.target_command.begin(), call.target_command.end());
    // sudo resets the environment (env_reset); the drop-in keeps exactly these three names for
    // bridle's target side, which treats them as untrusted input.
    call.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                {"LANG", "C.UTF-8"},
                {kRequestIdVariable, request_id},
                {kPolicyShaVariable, policy_sha256}};
    if (!exact) call.env[kArgvVariable] = encode_argv(normal);
    return call;
}

}  // namespace

std::vector<std::string> target_command(const std::string& bridle, const std::string& policy_file,
                                        const policy::Rule& rule,
                                        const std::vector<std::string>& normal) {
    return command_line(bridle, policy_file, rule.id, form_of(rule) == Form::kExact, normal);
}

std::vector<std::string> target_command(const std::string& bridle, const std::string& policy_file,
                                        const policy::FileRule& rule) {
    return command_line(bridle, policy_file, rule.id, false, {});
}

SudoCall sudo_call(const policy::Rule& rule, const matching::Decision& decision,
                   const std::string& bridle, const std::string& policy_file,
                   const std::string& request_id, const std::string& policy_sha256) {
    const std::vector<std::string> normal = normal_form(rule, decision);
    const bool exact = form_of(rule) == Form::kExact;
    return call_for(rule.run_as, target_command(bridle, policy_file, rule, normal), exact, normal,
                    request_id, policy_sha256);
}

SudoCall sudo_call(const policy::FileRule& rule, const std::vector<std::string>& normal,
                   const std::string& bridle, const std::string& policy_file,
                   const std::string& request_id, const std::string& policy_sha256) {
    return call_for(rule.run_as, target_command(bridle, policy_file, rule), false, normal,
                    request_id, policy_sha256);
}

std::chrono::milliseconds backstop_timeout(std::chrono::milliseconds timeout,
                                           std::chrono::milliseconds kill_grace) {
    return timeout + kill_grace + std::chrono::seconds(5);
}

std::uint64_t backstop_output(std::uint64_t max_output) {
    return max_output + 64 * 1024;
}

}  // namespace bridle::privilege
