// SPDX-License-Identifier: Apache-2.0
// The agent's wait for its own approval request (approval_wait.hpp): a read-only view of the
// store, and the wait's two records.
#include "gate/approval_wait.hpp"

#include <algorithm>

#include "approval/canonical.hpp"
#include "approval/store.hpp"
#include "common/text.hpp"
#include "gate/approval_steps.hpp"
#include "gate/internal.hpp"

namespace bridle::gate::approvals {
namespace {

using approval::Entry;
using approval::State;

// The agent's own request `id`, read without the lock.
Result<Entry> own_entry(const Context& context, const Waiter& waiter, const std::string& id) {
    const bool any =
        std::any_of(context.policy.rules.begin(), context.policy.rules.end(),
                    [](const policy::Rule& rule) { return rule.approval.has_value(); });
    if (!any) {
        return Error{"no rule of this host's policy needs approval: there is nothing to wait for",
                     ""};
    }
    if (!approval::is_approval_id(id)) {
        return Error{"not an approval id: " + quote_text(id, 64) +
                         " (32 hex digits, the `approval.id` of a run_command result)",
                     ""};
    }
    Result<approval::Store> store = approval::Store::open(context.policy.approvals.store);
    if (!store) return store.error();
    Result<Entry> e = store.value().load(id);
    // Another key's request is reported exactly as an unknown one: a key learns nothing of
    // the requests of others.
    if (!e || e.value().binding.key != waiter.key) {
        return Error{"no approval request " + id + " of this key on this host", ""};
    }
    return e;
}

std::string advice_for(const Entry& e) {
    const std::string until = detail::utc_text(e.binding.expires);
    switch (e.state) {
        case State::kApproved:
            return "approved: call run_command again with exactly the same request (the same "
                   "argv or command line); it runs once, until " +
                   until + ".";
        case State::kRejected:
            return "rejected: nothing ran, and the same request is refused until " + until +
                   ". Tell your user; do not send it again.";
        case State::kConsumed:
            return "its approval was used already (request " + e.consumed_by +
                   " ran it): an approval runs its request once. Sending it again asks anew.";
        case State::kExpired:
            return "expired: it was not approved and used before " + until +
                   ". Sending it again makes a new request that waits for approval.";
        case State::kVoid:
            return "void: its approval no longer counts (the policy changed, or the stored "
                   "approval does not match its digest). Sending it again asks anew.";
        case State::kPending:
        default:
            return "still pending: " + std::to_string(e.approvals()) + " of " +
                   std::to_string(e.required) + " approvals, until " + until +
                   ". Tell your user the code " + e.code +
                   " so an approver can answer on the host, then call wait_for_approval again. "
                   "Nothing you send approves it.";
    }
}

}  // namespace

Result<Observation> observe(const Context& context, const Waiter& waiter, const std::string& id) {
    Result<Entry> loaded = own_entry(context, waiter, id);
    if (!loaded) return loaded.error();
    Entry& e = loaded.value();
    // What the next use would find (approval_gate.cpp, settle_approval), without saving it:
    // that is done under the lock by whoever touches the request next.
    if (detail::is_due(e, detail::now_seconds())) {
        e.state = State::kExpired;
    } else if (detail::is_under_other_policy(context, e)) {
        e.state = State::kVoid;
    } else if (e.state == State::kApproved &&
               (approval::digest_of(e.binding) != e.digest || e.approvals() < e.required)) {
        e.state = State::kVoid;
    }
    return Observation{detail::info_for_client(e), advice_for(e)};
}

Status record_wait(const Context& context, const Waiter& waiter, const std::string& id,
                   const std::string& outcome, std::int64_t waited_ms) {
    Result<Entry> loaded = own_entry(context, waiter, id);
    if (!loaded) return loaded.error();
    std::vector<std::pair<std::string, std::string>> fields{
        {"BRIDLE_WAIT_ID", waiter.wait_id}, {"BRIDLE_SESSION_ID", waiter.session_id}};
    if (!outcome.empty()) {
        fields.emplace_back("BRIDLE_WAIT_OUTCOME", outcome);
        fields.emplace_back("BRIDLE_DURATION_MS", std::to_string(waited_ms));
    }
    return detail::record_step(context.audit, loaded.value(), outcome.empty() ? "wait" : "waited",
                               outcome, "mcp", waiter.client, std::move(fields));
}

}  // namespace bridle::gate::approvals
