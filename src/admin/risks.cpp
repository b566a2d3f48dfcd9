// SPDX-License-Identifier: Apache-2.0
// What `bridle check` says about run_as rules (sudoers.hpp, risky_grants): the grants that rest
// on bridle's re-check alone, root without exec-once, rules `bridle sudoers` cannot compile.
#include <pwd.h>

#include "admin/sudoers.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::admin {

std::vector<std::string> risky_grants(const policy::Policy& policy) {
    std::vector<std::string> warnings;
    for (const policy::Rule& rule : policy.rules) {
        if (rule.run_as.empty()) continue;
        const passwd* pw = ::getpwnam(rule.run_as.c_str());
        const bool root = rule.run_as == "root" || (pw != nullptr && pw->pw_uid == 0);
        if (privilege::form_of(rule) == privilege::Form::kExact) {
            Result<std::vector<std::vector<std::string>>> requests =
                privilege::exact_requests(rule);
            if (!requests)
                warnings.push_back("`bridle sudoers` cannot compile it: " +
                                   requests.error().message + " (" + rule.source + ")");
        } else if (root) {
            std::string open;
            for (const policy::Arg& arg : rule.args) {
                if (!arg.is_literal && (arg.spec.kind == policy::ValueSpec::Kind::kPath ||
                                        arg.spec.kind == policy::ValueSpec::Kind::kRegex)) {
                    open += (open.empty() ? "" : ", ") + arg.name;
                }
            }
            for (const policy::Option& option : rule.options) {
                if (!option.is_flag && (option.value.kind == policy::ValueSpec::Kind::kPath ||
                                        option.value.kind == policy::ValueSpec::Kind::kRegex)) {
                    open += (open.empty() ? "" : ", ") + option.name();
                }
            }
            if (!open.empty()) {
                warnings.push_back(
                    "rule " + rule.id + " runs as root with an open path or regex value (" + open +
                    "): sudo grants `bridle run-as " + rule.id +
                    "` with any value, and only bridle's re-check limits it (" + rule.source + ")");
            }
        }
        const policy::SandboxProfile* profile = policy.sandbox_for(rule);
        if (root && profile != nullptr && !profile->exec_once) {
            warnings.push_back(
                "rule " + rule.id + " runs as root in sandbox " + profile->name +
                ", which has exec-once off: the command may start other programs as root (" +
                rule.source + ")");
        }
    }
    return warnings;
}

}  // namespace bridle::admin
