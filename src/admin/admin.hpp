// SPDX-License-Identifier: Apache-2.0
// Front end: the administrator's commands on the host (check, explain).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "loader/loader.hpp"
#include "policy/model.hpp"

namespace bridle::admin {

// The policy an admin command works on: --policy FILE (a draft: unsafe ownership is only a
// warning), or "" for the installed one, checked as strictly as the forced command checks
// it. Every warning and error goes to stderr. `compile_regexes` as in policy::LoadOptions.
Result<policy::Policy> load_and_report(const std::string& policy_file, bool compile_regexes);

// `bridle check [--policy FILE] [--compile]`: 0 when the policy is valid, 78 with every error
// listed. Always read from the YAML; says whether `cache_dir` holds a valid compiled policy for
// it, and with `compile` stores one there (root only; 73 when it cannot).
int check(const std::string& policy_file, bool compile = false,
          const std::string& cache_dir = policy::kDefaultCacheDir);

// `bridle explain [--policy FILE] [--key NAME] -- TEXT...`: the pipeline up to the decision;
// runs nothing. 0 allow, 77 deny, 64 unparsable, 78 unusable policy.
int explain(const std::string& policy_file, const std::string& key, const std::string& text);

}  // namespace bridle::admin
