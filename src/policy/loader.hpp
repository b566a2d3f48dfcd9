// SPDX-License-Identifier: Apache-2.0
// YAML policy files -> Policy. The only user of yaml-cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy {

constexpr const char* kDefaultPolicyFile = "/etc/bridle/policy.yaml";
constexpr const char* kDefaultPolicyDir = "/etc/bridle/policy.d";

// Every problem found in a policy, each with "file:line:col: message".
struct LoadErrors {
    std::vector<Error> errors;
};

struct LoadOptions {
    // Refuse files and directories that a non-root user could modify or replace
    // (file_checks.hpp). Off only for tests and for `bridle check` on a draft.
    bool require_safe_ownership = true;
};

// Parse one YAML document (`name` is used in locations). Collects every error it can
// rather than stopping at the first.
Result<Policy> parse_policy_text(std::string_view yaml, const std::string& name,
                                 std::vector<Error>& errors);

// Load an explicit file (--policy FILE), or the default file plus policy.d/*.yaml in
// lexical order. On failure, `errors` lists every problem; the Result's error is the first.
Result<Policy> load_policy(const std::string& explicit_file, const LoadOptions& options,
                           std::vector<Error>& errors);

}  // namespace bridle::policy
