// SPDX-License-Identifier: Apache-2.0
// Approval signatures: `ssh-keygen -Y sign -n bridle-approval` over a request's canonical text,
// checked with `ssh-keygen -Y find-principals` and `-Y verify` against the root-owned
// allowed-signers file (the approvers' public keys, ssh-keygen(1) ALLOWED SIGNERS).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::approval {

constexpr const char* kSshKeygen = "/usr/bin/ssh-keygen";

// The principals an allowed-signers file names (the first field of each line, split at
// commas), after checking that the file is a regular file only root can change. An error when
// it is missing, unsafe or unreadable.
Result<std::vector<std::string>> signer_names(const std::string& signers_file);

// A signature that verified: who made it and with which key.
struct Signer {
    std::string principal;
    std::string fingerprint;  // SHA256:...
};

// Checks `signature` (armored, the file ssh-keygen -Y sign writes) over `text` against
// `signers_file`; the signer must be one of `allowed` (the request's approvers).
// `scratch_path` is a private file that already holds `signature`, for ssh-keygen to read.
// An error says why it does not approve: unsafe signers file, not a signature, a key no
// approver holds, another namespace, another text.
Result<Signer> verify_signature(const std::string& signers_file, const std::string& text,
                                const std::string& signature, const std::string& scratch_path,
                                const std::vector<std::string>& allowed);

}  // namespace bridle::approval
