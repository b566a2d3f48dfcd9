// SPDX-License-Identifier: Apache-2.0
// What a loaded policy should be warned about (bridle check prints it; the policy is still
// accepted): sandboxes weaker than the baseline, programs a Landlock execute set leaves out,
// redaction patterns no rule uses.
#pragma once

#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy::read {

// What `bridle check` should point out about sandboxes: profiles weaker than the built-in
// baseline (the only way to run a command less confined), and Landlock execute sets that do
// not cover a rule's program (it could not start; the request fails with status 126).
void warn_about_sandboxes(const Policy& policy, std::vector<Error>& warnings);

// settings.redact_patterns that no rule uses (none has redact: true).
void warn_about_redaction(const Policy& policy, std::vector<Error>& warnings);

// files entries that may write what bridle or the system trusts: sudoers, PAM, the accounts,
// sshd's configuration without a validator, a program a rule executes. (bridle's own files are
// never writable through bridle: matching/file_match.hpp.)
void warn_about_files(const Policy& policy, std::vector<Error>& warnings);

}  // namespace bridle::policy::read
