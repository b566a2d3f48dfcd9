// SPDX-License-Identifier: Apache-2.0
// Front end: the administrator's commands on the host (check, explain).
#pragma once

#include <string>
#include <vector>

namespace bridle::admin {

// `bridle check [--policy FILE]`: 0 when the policy is valid, 78 with every error listed.
int check(const std::string& policy_file);

// `bridle explain [--policy FILE] [--key NAME] -- TEXT...`: the pipeline up to the decision;
// runs nothing. 0 allow, 77 deny, 64 unparsable, 78 unusable policy.
int explain(const std::string& policy_file, const std::string& key, const std::string& text);

}  // namespace bridle::admin
