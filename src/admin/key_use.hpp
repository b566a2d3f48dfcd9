// SPDX-License-Identifier: Apache-2.0
// When each key was last used, from the audit records in the journal (`bridle keys`).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.hpp"

namespace bridle::admin {

// The time (seconds since the epoch) of the newest bridle record of each key (BRIDLE_KEY) in
// the local journal: a decision, a result, a refusal, any request of that key. A key with no
// record is absent. Fails when the journal cannot be read.
Result<std::map<std::string, std::int64_t>> last_use_by_key();

}  // namespace bridle::admin
