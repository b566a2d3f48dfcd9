// SPDX-License-Identifier: Apache-2.0
// `bridle audit --by-fanout`: the requests of the fleet controller's fan-outs, grouped by the
// fan-out id every host recorded (BRIDLE_FANOUT_ID), with each host's part; the requests that
// carry no fan-out id come apart, last. Usually over the journals collected from the fleet
// (`-D DIR`). The id is whatever a client sent: it groups, it proves nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "admin/audit_review.hpp"

namespace bridle::admin {

// One host's part in a fan-out.
struct FanoutHost {
    std::string host;  // _HOSTNAME, as stored
    std::size_t requests = 0, allowed = 0, denied = 0, approval = 0;
    std::map<std::string, std::size_t> outcomes;  // "exit 0", "denied", "timeout", ... -> count
    std::vector<std::string> request_ids;
};

struct FanoutGroup {
    std::string id;                     // "": the requests without a fan-out id
    std::uint64_t first = 0, last = 0;  // the earliest and latest request time
    std::size_t requests = 0;
    std::vector<FanoutHost> hosts;                // by host name
    std::map<std::string, std::size_t> commands;  // BRIDLE_COMMAND -> count
};

// A request's outcome in the fan-out view: "exit N", timeout, idle, sigN, nostart, running,
// lost, denied, or "approval STATE".
std::string fanout_outcome(const AuditRequest& r);

// The fan-outs of `requests` in the order of their first request, then (when there are any)
// the group of the requests without a fan-out id.
std::vector<FanoutGroup> group_by_fanout(const std::vector<const AuditRequest*>& requests);

// The table: a heading line per fan-out, then a line per host.
void print_fanouts(std::ostream& out, const AuditOptions& options,
                   const std::vector<FanoutGroup>& groups);
std::string to_json(const FanoutGroup& group);  // one line, no newline

}  // namespace bridle::admin
