// SPDX-License-Identifier: Apache-2.0
// The controller's own records in the operator's journal (SYSLOG_IDENTIFIER=bridle-fleet): who
// asked for a fan-out, on which hosts, and each host's outcome, under the fan-out id that every
// host's records carry too (BRIDLE_FANOUT_ID).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "fleet/fanout.hpp"

namespace bridle::fleet {

struct FanoutRecord {
    std::string fanout_id;
    std::string front_end;  // fleet-run | fleet-mcp
    std::string tool;       // the host tool called
    Json arguments;         // its arguments (the command)
    std::vector<std::string> hosts;
};

// MESSAGE_IDs of the controller's two events. Generated once; never change them.
constexpr const char* kFanoutStartMessageId = "3c9d1e7a52b84f0e9a6d2c4b8e1f7a03";
constexpr const char* kFanoutResultMessageId = "b4e2a8c61d9f47d3a0c5e8b2f6d1c904";

// Before the fan-out: who, what, which hosts. After it: each host's status and request id.
Status record_fanout_start(const FanoutRecord& fanout);
Status record_fanout_result(const FanoutRecord& fanout, const std::vector<HostResult>& results);

}  // namespace bridle::fleet
