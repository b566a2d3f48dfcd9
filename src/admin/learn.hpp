// SPDX-License-Identifier: Apache-2.0
// `bridle learn`: proposals for policy.d from what was denied, and the rules nobody used.
// Reads the audit trail as `bridle audit` does; never changes the policy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "admin/audit_review.hpp"

namespace bridle::admin {

struct LearnOptions {
    AuditOptions audit;             // the source, the time window and --key, as for audit
    std::string policy_file;        // the policy in force; "" for the installed one
    std::string max_policy;         // --max-policy FILE: the ceiling, or ""
    std::string user = "ai-agent";  // the agent's account for records without BRIDLE_RUN_AS
    std::optional<std::uint64_t> unused_window;  // --unused DURATION, in microseconds
    std::string write;                           // --write FILE, or "" for standard output
};

// The options of `bridle learn` (admin/cli.hpp, by name) as LearnOptions; "" or what is wrong.
std::string learn_options(const std::map<std::string, std::string>& values, LearnOptions& options,
                          std::uint64_t now_usec = 0);

// The whole command. 0; 69 when the records cannot be read; 78 when a policy is unusable;
// 73 when --write cannot create its file.
int learn(const LearnOptions& options);

}  // namespace bridle::admin
