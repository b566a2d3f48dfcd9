// SPDX-License-Identifier: Apache-2.0
// `bridle tasks`: the administrator's view of every account's and key's tasks in the spool.
#pragma once

#include <string>

namespace bridle::admin {

// One line per task, oldest first within each account and key: UID, KEY, ID, STATE, RULE,
// STARTED (seconds since the epoch), COMMAND. 0; 78 when the policy is unusable.
int list_all_tasks(const std::string& policy_file);

}  // namespace bridle::admin
