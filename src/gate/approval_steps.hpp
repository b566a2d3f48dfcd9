// SPDX-License-Identifier: Apache-2.0
// Internal to gate/: what the request's approval step (approval_gate.cpp) and the approvers'
// actions (approvals.cpp) share: the host's identity, the records, expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "approval/store.hpp"
#include "audit/records.hpp"
#include "gate/gate.hpp"

namespace bridle::gate::detail {

// /etc/machine-id, the host identity an approval is bound to.
Result<std::string> host_identity();
// "2026-12-06 08:30:00 UTC"
std::string utc_text(std::int64_t seconds);

// The fields every record of an approval repeats (BRIDLE_APPROVAL_ID ...), tied by the
// approval id, which is the request id of the request that asked.
audit::RequestInfo approval_info(const approval::Entry& entry, const std::string& front_end,
                                 const std::string& client);
// Writes one step's record (audit/records.hpp approval_record); `extra` are more fields.
Status record_step(audit::Sink& sink, const approval::Entry& entry, const std::string& step,
                   const std::string& summary, const std::string& front_end,
                   const std::string& client,
                   std::vector<std::pair<std::string, std::string>> extra = {});
// Whether a pending or approved entry is past its expiry, or was decided under another policy
// than `context`'s: the two conditions the next use acts on (below), and which a wait reports
// without acting (approval_wait.cpp).
bool is_due(const approval::Entry& entry, std::int64_t now);
bool is_under_other_policy(const Context& context, const approval::Entry& entry);
// A pending or approved entry past its expiry becomes expired: saved and recorded. True when
// it changed. Called under the store's lock.
bool expire_if_due(const Context& context, const approval::Store& store, approval::Entry& entry,
                   std::int64_t now);
// A pending or approved entry decided under another policy becomes void (saved, recorded).
bool void_if_policy_changed(const Context& context, const approval::Store& store,
                            approval::Entry& entry);
// What the agent is told about a pending request: id, code, approvers, what to do next.
std::string pending_text(const approval::Entry& entry);
// The request's approval state for the front ends' structured results.
ApprovalInfo info_for_client(const approval::Entry& entry);

// Why an allowed command may not run because a word of what it execs names the approval store
// or a path inside it (after the matcher's canonicalisation); nullopt when none does. Every
// rule, with or without approval: the agent's commands never read or change pending approvals.
std::optional<std::string> store_path_refusal(const Context& context,
                                              const std::vector<std::string>& exec_argv);

// A single command allowed by a rule with approval (gate.cpp, after decide()). True when an
// approval of exactly this request was consumed now: the command runs (r.approval says which).
// False: `r` is the answer, a pending approval (kPending, exit 75) or a refusal (kDenied).
bool settle_approval(const Context& context, const Request& request,
                     const std::vector<std::string>& argv, Response& r);

}  // namespace bridle::gate::detail
