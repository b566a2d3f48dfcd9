// SPDX-License-Identifier: Apache-2.0
// Approvals, the other side of a rule's `approval:` (docs/approvals.md): listing, showing,
// approving and rejecting pending requests, for an approver's key (its forced command), for
// anyone who delivers an approver's signature (the agent included), and for root on the host.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gate/gate.hpp"

namespace bridle::gate::approvals {

// Who answers, and through which channel:
//   ssh: an approver key's forced command (`bridle --approver NAME`): `name` is NAME,
//        `fingerprint` the key's (from the forced command line, which enroll wrote);
//   signature: whoever delivers a signature; the approver is the signature's signer;
//   host: root on the host (`bridle approve`), whose approval is enough on its own.
struct Actor {
    std::string channel;      // ssh | signature | host
    std::string name;         // ssh: the approver; signature: the delivering key (may be "")
    std::string fingerprint;  // ssh: the approver key's
    std::string client;       // SSH_CONNECTION, for the records
};

// What the front end prints: `out` to stdout, `err` (bridle's words) to stderr.
struct Answer {
    int exit_status = 0;
    std::string out;
    std::string err;
};

// The requests this actor may answer (host: all), pending first, then the recent others.
Answer list(const Context& context, const Actor& actor);
// One request: its fields, state, votes, and the canonical text an approver signs.
// `text_only`: the canonical text alone (what `ssh-keygen -Y sign` is given).
Answer show(const Context& context, const Actor& actor, const std::string& id, bool text_only);
// Approve (or reject) request `id`. Channel signature: `signature` holds the armored
// signature and the signer is the approver.
Answer decide(const Context& context, const Actor& actor, const std::string& id, bool approve,
              const std::optional<std::string>& signature);

// The approver key's forced command: `words` (SSH_ORIGINAL_COMMAND) is one of `approvals`,
// `show ID [--text]`, `approve ID [--signature -]`, `reject ID`; anything else is refused and
// audited. `read_stdin` returns the signature for `--signature -` (bounded by the caller).
Answer serve_approver(const Context& context, const Actor& actor,
                      const std::vector<std::string>& words,
                      const std::function<std::string()>& read_stdin);

// The agent's own words (`approval ID [--text]`, `approve ID --signature -`): nullopt when the
// request is not one of them, the policy has no rule with approval, or a rule of the policy for
// this key has that name.
std::optional<Answer> serve_agent(const Context& context, const Request& request,
                                  const std::function<std::string()>& read_stdin);

}  // namespace bridle::gate::approvals
