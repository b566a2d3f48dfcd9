// SPDX-License-Identifier: Apache-2.0
// Front end: the SSH forced command (authorized_keys command=, ForceCommand, login shell -c).
#pragma once

#include <optional>
#include <string>

#include "loader/loader.hpp"

namespace bridle::forced {

struct Invocation {
    std::string key;                     // --key NAME from authorized_keys (trusted: the admin's)
    std::string policy_file;             // --policy FILE; empty: /etc/bridle/policy.yaml + policy.d
    std::optional<std::string> request;  // SSH_ORIGINAL_COMMAND, or the client's `-c` text
    std::string front_end = "forced";    // for the audit record: forced | login-shell
    std::string approver;      // --approver NAME: an approver key (docs/approvals.md), which only
                               // answers approval requests; never runs a command
    std::string approver_key;  // --approver-key SHA256:...: its fingerprint, for the records
};

// Decide, audit and run one request, with the policy `load` reads; returns bridle's exit
// status.
int run(const Invocation& invocation, policy::PolicyLoader load);

// `bridle -c TEXT`, bridle as the account's login shell. sshd runs the forced command through
// the login shell, so TEXT is either the admin's forced command line (when SSH_ORIGINAL_COMMAND
// is set) or the client's own request (when no forced command applies).
int run_login_shell(const std::string& text, policy::PolicyLoader load);

}  // namespace bridle::forced
