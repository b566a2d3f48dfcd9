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

}  // namespace bridle::policy::read
