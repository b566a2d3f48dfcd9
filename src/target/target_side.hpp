// SPDX-License-Identifier: Apache-2.0
// The target side of a run_as rule: `bridle run-as`, started by sudo as the rule's user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "loader/loader.hpp"

namespace bridle::target {

struct TargetInvocation {
    std::string policy_file;                        // --policy FILE, as the drop-in names it
    std::string rule_id;                            // RULE
    std::optional<std::vector<std::string>> words;  // after "--": an exact rule's normal form
};

// Re-reads the root-owned policy, re-checks the exact request, refuses anything else, then
// runs the command in its rule's sandbox (applied after the switch, which sudo made) and
// audits both. Returns bridle's exit status (bridle(8)).
int run_target_side(const TargetInvocation& invocation, policy::PolicyLoader load);

}  // namespace bridle::target
