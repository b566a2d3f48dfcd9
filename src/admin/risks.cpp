// SPDX-License-Identifier: Apache-2.0
// What `bridle check` says about run_as rules (sudoers.hpp, risky_grants): the grants that rest
// on bridle's re-check alone, root without exec-once, rules `bridle sudoers` cannot compile; and
// pipeline stages whose program runs what it reads.
#include <pwd.h>

#include <array>
#include <string_view>

#include "admin/sudoers.hpp"
#include "os/accounts.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::admin {
namespace {

// Programs that run what they read on standard input (a shell, an interpreter, xargs, a
// calculator with `!`, an editor with `!`, a crontab): piped into, the stage before writes
// their program. By basename; a trailing version ("python3.11", "perl5.36") counts.
bool runs_its_input(std::string_view command) {
    constexpr std::array<std::string_view, 38> kPrograms = {
        "sh",    "bash",    "dash",     "zsh",    "ksh",     "mksh", "csh",  "tcsh",
        "fish",  "ash",     "busybox",  "python", "perl",    "ruby", "node", "nodejs",
        "php",   "lua",     "tclsh",    "wish",   "awk",     "gawk", "mawk", "nawk",
        "xargs", "env",     "parallel", "dc",     "bc",      "ed",   "ex",   "vi",
        "vim",   "sqlite3", "psql",     "mysql",  "crontab", "at"};
    std::string_view name = command.substr(command.rfind('/') + 1);
    while (!name.empty() && ((name.back() >= '0' && name.back() <= '9') || name.back() == '.')) {
        name.remove_suffix(1);
    }
    for (const std::string_view program : kPrograms) {
        if (name == program) return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> risky_grants(const policy::Policy& policy) {
    std::vector<std::string> warnings;
    for (const policy::Rule& rule : policy.rules) {
        if ((rule.pipeline.middle || rule.pipeline.last) && runs_its_input(rule.command)) {
            warnings.push_back("rule " + rule.id + " may take a pipeline's " +
                               (rule.pipeline.middle ? "middle" : "last") + " place, and " +
                               rule.command +
                               " runs what it reads: the stage before it would write its program "
                               "(" +
                               rule.source + ")");
        }
        if (rule.run_as.empty()) continue;
        const passwd* pw = os::user_named(rule.run_as);
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
