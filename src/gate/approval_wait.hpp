// SPDX-License-Identifier: Apache-2.0
// The agent's side of waiting for an approval (MCP wait_for_approval; docs/approvals.md): the
// state of one of its own requests, read from the store without taking its lock, and the
// records of a wait. Nothing here approves, rejects or changes a request.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "gate/gate.hpp"

namespace bridle::gate::approvals {

// Who waits: the agent's key and connection, the session, and the wait's own id, which ties
// its two records (BRIDLE_WAIT_ID).
struct Waiter {
    std::string key;
    std::string client;  // SSH_CONNECTION
    std::string session_id;
    std::string wait_id;
};

// A request's state as a waiting agent sees it, and what the agent should do next.
struct Observation {
    ApprovalInfo info;
    std::string advice;  // one or two sentences: run it again, tell your user, wait again...
};

// The state of approval request `id` as a waiting agent sees it. Read without the store's lock
// (a wait must not queue behind an approver or a notify program holding it; every entry is
// replaced by a rename, so a read sees one whole version): a pending or approved entry past its
// expiry reads as expired, one made under another policy or whose approval no longer matches
// its digest reads as void, as the next use of the request would find them. An error when no
// rule of the policy needs approval, the store cannot be opened, or `id` is not a request of
// `waiter.key` (an unknown id and another key's are the same error).
Result<Observation> observe(const Context& context, const Waiter& waiter, const std::string& id);

// The wait's records, tied by the approval id like its other steps (docs/audit.md, Approvals):
// approval-wait when it starts (`outcome` empty), approval-waited when it ends, with
// BRIDLE_WAIT_OUTCOME (the state it saw last, or cancelled, ended) and BRIDLE_DURATION_MS.
Status record_wait(const Context& context, const Waiter& waiter, const std::string& id,
                   const std::string& outcome, std::int64_t waited_ms);

}  // namespace bridle::gate::approvals
