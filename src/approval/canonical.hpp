// SPDX-License-Identifier: Apache-2.0
// What an approval is bound to: the request's canonical text, its SHA-256 digest, and the short
// code a person compares (docs/approvals.md). Pure: no system calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bridle::approval {

// The namespace of every approval signature (ssh-keygen -Y sign -n bridle-approval): a
// signature made for anything else (git commits, files) never verifies as an approval.
constexpr const char* kSignatureNamespace = "bridle-approval";

// The fields the digest covers. Two requests are the same request for an approval only when
// every one of them is equal; nonce and expiry make each pending approval unique.
struct Binding {
    std::string id;                 // the approval id: the request id of the request that asked
    std::string host;               // /etc/machine-id
    std::string key;                // the agent's key name (--key)
    std::string rule;               // the rule id that allowed it
    std::string run_as;             // the rule's run_as ("" for bridle's own account)
    std::vector<std::string> argv;  // the canonical argv (the rule's normal form)
    std::string policy_sha256;      // of the policy that decided it
    std::string nonce;              // 32 hex digits from getrandom
    std::int64_t expires = 0;       // Unix time, seconds
};

// The text an approver signs, one field a line, values escaped so that the text is a function
// of the fields and back (argv as a JSON array, other values escaped the same way).
std::string canonical_text(const Binding& binding);

// The hex SHA-256 of canonical_text().
std::string digest_of(const Binding& binding);

// "K7QF-3M9D": the first 40 bits of the digest in base32 without 0, 1, I, O; what the agent
// shows, what an approver reads next to the request, to know they approve what was asked.
std::string short_code(const std::string& digest_hex);

// True when `id` has the form of an approval id (32 lower-case hex digits): nothing a client
// sends as an id reaches a file name unless it does.
bool is_approval_id(const std::string& id);

}  // namespace bridle::approval
