// SPDX-License-Identifier: Apache-2.0
// bridle check's lint (lint.hpp): warnings about a policy that loaded, appended to
// LoadReport::warnings by load_policy and parse_policy_text.
#include "loader/lint.hpp"

#include <algorithm>
#include <string>

#include "loader/lexical.hpp"

namespace bridle::policy::read {

void warn_about_sandboxes(const Policy& policy, std::vector<Error>& warnings) {
    for (const auto& [name, profile] : policy.sandboxes) {
        if (!profile.is_weaker_than_baseline()) continue;
        std::string rules;
        for (const Rule& rule : policy.rules) {
            if (policy.sandbox_for(rule) == &profile)
                rules += (rules.empty() ? "" : ", ") + rule.id;
        }
        std::string what;
        if (std::find(profile.seccomp.begin(), profile.seccomp.end(), SeccompProfile::kBaseline) ==
            profile.seccomp.end()) {
            what = "without the baseline seccomp profile";
        }
        if (!profile.exec_once) {
            what += std::string(what.empty() ? "" : " and ") +
                    (profile.exec_log ? "without exec-once (the command may start other "
                                        "programs; each is recorded in BRIDLE_EXECS)"
                                      : "without exec-once (the command may start other "
                                        "programs)");
        }
        if (profile.namespaces == NamespaceMode::kOff) {
            what += std::string(what.empty() ? "" : " and ") +
                    "without their own PID and IPC namespaces (the command can signal and "
                    "re-limit every process of its account, bridle's included)";
        }
        warnings.push_back({"sandbox " + quoted(name) + " runs commands " + what +
                                (rules.empty() ? "; no rule uses it" : "; used by " + rules),
                            profile.source});
    }
    for (const Rule& rule : policy.rules) {
        const SandboxProfile* profile = policy.sandbox_for(rule);
        if (profile == nullptr || !profile->landlock || !profile->landlock->execute) continue;
        const std::vector<std::string>& dirs = *profile->landlock->execute;
        const bool covered = std::any_of(dirs.begin(), dirs.end(), [&](const std::string& dir) {
            return dir == "/" || rule.command == dir ||
                   rule.command.compare(0, dir.size() + 1, dir + "/") == 0;
        });
        if (!covered) {
            warnings.push_back({"rule " + quoted(rule.id) + " runs " + rule.command +
                                    ", which the landlock execute paths of sandbox " +
                                    quoted(profile->name) + " do not cover: it cannot start",
                                rule.source});
        }
    }
}

void warn_about_redaction(const Policy& policy, std::vector<Error>& warnings) {
    if (policy.settings.redaction->own().empty()) return;
    if (std::any_of(policy.rules.begin(), policy.rules.end(),
                    [](const Rule& rule) { return rule.redact; })) {
        return;
    }
    warnings.push_back({"settings.redact_patterns is never used: no rule has redact: true",
                        policy.files.empty() ? "" : policy.files.front()});
}

namespace {

// Could `rule` write `path` or something inside it? An exact path at or under it, or a
// directory of the entry that holds it or lies inside it.
bool reaches(const FileRule& rule, const std::string& path) {
    const auto within = [](const std::string& inner, const std::string& outer) {
        return outer == "/" || inner == outer ||
               (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                inner[outer.size()] == '/');
    };
    return std::any_of(rule.exact.begin(), rule.exact.end(),
                       [&](const std::string& p) { return within(p, path); }) ||
           std::any_of(rule.under.begin(), rule.under.end(), [&](const std::string& dir) {
               return within(path, dir) || within(dir, path);
           });
}

}  // namespace

void warn_about_files(const Policy& policy, std::vector<Error>& warnings) {
    struct Trusted {
        const char* path;
        const char* what;
        bool validated_ok;  // a validator makes it acceptable (the configuration is checked)
    };
    static const Trusted kTrusted[] = {
        {"/etc/sudoers", "sudo's rules", false},
        {"/etc/sudoers.d", "sudo's rules", false},
        {"/etc/pam.d", "PAM, which decides every login", false},
        {"/etc/security", "PAM's limits and access rules", false},
        {"/etc/passwd", "the accounts", false},
        {"/etc/shadow", "the accounts' passwords", false},
        {"/etc/group", "the groups", false},
        {"/root/.ssh", "root's SSH keys", false},
        {"/etc/ssh", "sshd's configuration", true},
        {"/etc/systemd", "the services systemd starts", false},
        {"/etc/cron.d", "cron's jobs", false},
        {"/etc/ld.so.preload", "libraries every program loads", false},
    };
    for (const FileRule& rule : policy.file_rules) {
        if (!rule.put) continue;
        for (const Trusted& t : kTrusted) {
            if (!reaches(rule, t.path) || (t.validated_ok && !rule.validator.empty())) continue;
            warnings.push_back({"files entry " + quoted(rule.id) + " may write " + t.path + " (" +
                                    t.what + ")" + (t.validated_ok ? " without a validator" : "") +
                                    ": whoever holds the key can change what the host trusts",
                                rule.source});
        }
        for (const Rule& command : policy.rules) {
            if (!reaches(rule, command.command)) continue;
            warnings.push_back({"files entry " + quoted(rule.id) + " may write " + command.command +
                                    ", which rule " + quoted(command.id) + " executes" +
                                    (command.run_as.empty() ? "" : " as " + command.run_as),
                                rule.source});
        }
    }
}

}  // namespace bridle::policy::read
