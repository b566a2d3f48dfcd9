// SPDX-License-Identifier: Apache-2.0
// `bridle approvals`, `bridle approve`, `bridle reject`: root's view and answers on the host
// (docs/approvals.md); the same actions as an approver key's forced command.
#pragma once

#include <string>
#include <vector>

#include "policy/model.hpp"

namespace bridle::admin {

struct ApprovalOptions {
    std::string policy_file;     // --policy FILE
    std::string id;              // the request, or "" (list)
    bool text_only = false;      // approvals ID --text: the canonical text alone
    std::string signature_file;  // approve --signature FILE ("-": standard input)
};

// Lists the requests (no id), or shows one. 0; 64 no such request; 78 unusable store or policy.
int list_approvals(const ApprovalOptions& options);
// Approves (as root, or as the signer of --signature) or rejects request `options.id`.
// 0 answered; 64 no such request; 77 refused (not pending, expired, bad signature, not root);
// 78 unusable store or policy.
int answer_approval(const ApprovalOptions& options, bool approve);

// `bridle check`'s look at approvals. Errors: an approver that the allowed-signers file does not
// define, or a signers file that is missing or unsafe while some rule needs approval.
// Warnings: a rule that runs as root without approval; a store directory that cannot be used.
struct ApprovalFindings {
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};
ApprovalFindings check_approvals(const policy::Policy& policy);

}  // namespace bridle::admin
