// SPDX-License-Identifier: Apache-2.0
// What a rule's `approval:` and the top-level `approvals:` section say (bridle-policy(5),
// APPROVALS): who may approve a request, how many must, and how long it waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bridle::policy {

constexpr std::chrono::milliseconds kDefaultApprovalTimeout{10 * 60'000};  // 10 min
constexpr std::chrono::milliseconds kMaxApprovalTimeout{24 * 3'600'000};   // 24 h

// One rule's approval: `required` of `approvers` (principals of the allowed-signers file)
// must approve, within `timeout` of the request.
struct ApprovalSpec {
    std::string set;                     // the named set it came from (`approval: NAME`), or ""
    std::vector<std::string> approvers;  // distinct names, in policy order; never empty
    std::uint32_t required = 1;          // 1..approvers.size()
    std::chrono::milliseconds timeout = kDefaultApprovalTimeout;  // 1s..24h
};

// The top-level `approvals:` section.
struct ApprovalSettings {
    std::string signers = "/etc/bridle/allowed_signers";  // OpenSSH allowed-signers file, root's
    std::string store = "/var/lib/bridle/approvals";      // the pending approvals (absolute)
    std::map<std::string, ApprovalSpec> sets;             // named sets rules refer to
    std::vector<std::string> notify;  // `notify:` argv (notify[0] absolute) run for each new
                                      // request with ID CODE HOST KEY COMMAND appended; never a
                                      // shell; empty: none
    std::chrono::milliseconds notify_timeout{10'000};  // then it is killed; 1s..60s
};

}  // namespace bridle::policy
