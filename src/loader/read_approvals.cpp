// SPDX-License-Identifier: Apache-2.0
// The top-level `approvals:` section and a rule's `approval:` (bridle-policy(5), APPROVALS).
// Whether each approver has a key in the allowed-signers file is `bridle check`'s question
// (admin/approvals_check.cpp): the file may change without the policy.
#include <algorithm>

#include "common/names.hpp"
#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {

void PolicyReader::read_approvals(const Field& field, Policy& policy) {
    const std::optional<Entries> entries = mapping(field, "approvals");
    if (!entries) return;
    reject_unknown(*entries, {"signers", "store", "sets", "notify", "notify_timeout"}, "approvals");
    ApprovalSettings& approvals = policy.approvals;
    if (const Entry* signers = find(*entries, "signers")) {
        approvals.signers = normal_path(signers->value, "approvals.signers").value_or("");
    }
    if (const Entry* store = find(*entries, "store")) {
        approvals.store = normal_path(store->value, "approvals.store").value_or("");
    }
    if (const Entry* notify = find(*entries, "notify")) {
        if (const std::optional<std::vector<Field>> words =
                list(notify->value, "approvals.notify")) {
            for (const Field& word : *words) {
                if (std::optional<std::string> w = text(word, "a word of approvals.notify")) {
                    approvals.notify.push_back(*w);
                }
            }
            if (approvals.notify.empty() || approvals.notify.front().empty() ||
                approvals.notify.front().front() != '/') {
                fail(notify->value.mark,
                     "approvals.notify is a program's argv: its first word an absolute path "
                     "(it runs without a shell)");
            }
        }
    }
    if (const Entry* timeout = find(*entries, "notify_timeout")) {
        const std::optional<std::chrono::milliseconds> value =
            duration(timeout->value, "approvals.notify_timeout");
        if (value && (*value < std::chrono::seconds(1) || *value > std::chrono::seconds(60))) {
            fail(timeout->value.mark, "approvals.notify_timeout must be 1s to 60s");
        } else if (value) {
            approvals.notify_timeout = *value;
        }
    }
    if (const Entry* sets = find(*entries, "sets")) {
        const std::optional<Entries> named = mapping(sets->value, "approvals.sets");
        if (!named) return;
        for (const Entry& entry : *named) {
            if (!is_rule_id(entry.key)) {
                fail(entry.key_mark, "approval set name " + quoted(entry.key) +
                                         " is not valid: use 1 to 64 of a-z 0-9 . _ -");
                continue;
            }
            if (std::optional<ApprovalSpec> spec = read_approval_spec(entry.value)) {
                spec->set = entry.key;
                approvals.sets[entry.key] = std::move(*spec);
            }
        }
    }
}

std::optional<ApprovalSpec> PolicyReader::read_approval_spec(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "an approval");
    if (!entries) return std::nullopt;
    reject_unknown(*entries, {"approvers", "required", "timeout"}, "an approval");
    ApprovalSpec spec;
    bool ok = true;
    const Entry* approvers = find(*entries, "approvers");
    if (approvers == nullptr) {
        fail(field.mark, "an approval needs approvers: (names in the allowed-signers file)");
        return std::nullopt;
    }
    if (const std::optional<std::vector<Field>> items = list(approvers->value, "approvers")) {
        if (items->empty()) {
            fail(approvers->value.mark, "approvers must name at least one approver");
            ok = false;
        }
        for (const Field& item : *items) {
            const std::optional<std::string> name = text(item, "an approver");
            if (!name) {
                ok = false;
            } else if (!bridle::is_key_name(*name)) {
                fail(item.mark, "approver " + quoted(*name) +
                                    " is not valid: use letters, digits and . _ @ -, starting "
                                    "with a letter or digit");
                ok = false;
            } else if (std::find(spec.approvers.begin(), spec.approvers.end(), *name) !=
                       spec.approvers.end()) {
                fail(item.mark, "approver " + quoted(*name) + " is listed twice");
                ok = false;
            } else {
                spec.approvers.push_back(*name);
            }
        }
    } else {
        ok = false;
    }
    if (const Entry* required = find(*entries, "required")) {
        const std::optional<std::int64_t> n = integer(required->value, "required");
        if (!n || *n < 1 || static_cast<std::size_t>(*n) > spec.approvers.size()) {
            if (n) {
                fail(required->value.mark, "required must be 1 to the number of approvers (" +
                                               std::to_string(spec.approvers.size()) + "), not " +
                                               std::to_string(*n));
            }
            ok = false;
        } else {
            spec.required = static_cast<std::uint32_t>(*n);
        }
    }
    if (const Entry* timeout = find(*entries, "timeout")) {
        const std::optional<std::chrono::milliseconds> value = duration(timeout->value, "timeout");
        if (!value || *value < std::chrono::seconds(1) || *value > kMaxApprovalTimeout) {
            if (value) fail(timeout->value.mark, "an approval's timeout must be 1s to 24h");
            ok = false;
        } else {
            spec.timeout = *value;
        }
    }
    if (!ok) return std::nullopt;
    return spec;
}

// `approval: NAME` (a set of `approvals.sets`, read before the rules) or the mapping itself.
void PolicyReader::read_rule_approval(const Field& field, Rule& rule) {
    if (field.node.IsScalar()) {
        const std::optional<std::string> name = text(field, "approval");
        if (!name) return;
        const auto found = policy_->approvals.sets.find(*name);
        if (found == policy_->approvals.sets.end()) {
            fail(field.mark, "approval set " + quoted(*name) +
                                 " is not defined in approvals.sets of the main policy file");
            return;
        }
        rule.approval = found->second;
        return;
    }
    if (std::optional<ApprovalSpec> spec = read_approval_spec(field)) {
        rule.approval = std::move(*spec);
    } else {
        // Never load the rule without its approval: a rule that fails here must not run freely.
        fail(field.mark, "the rule's approval is not valid (see above)");
    }
}

}  // namespace bridle::policy::read
