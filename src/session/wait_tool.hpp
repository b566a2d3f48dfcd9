// SPDX-License-Identifier: Apache-2.0
// The wait_for_approval tool (docs/approvals.md): its definition, its arguments, its result and
// its progress messages. The waiting itself is the session's (session.cpp, poll_waits), which
// reads the host's approval store; nothing the client sends counts as an approval. No OS calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "gate/gate.hpp"
#include "session/jsonrpc.hpp"

namespace bridle::session::tools {

inline constexpr const char* kWaitForApproval = "wait_for_approval";
// A wait's bound when the call names none: under the 60 s request timeout MCP clients commonly
// apply to a call whose progress does not reset it.
inline constexpr std::chrono::seconds kDefaultWait{45};
// The most a call may ask for; a wait never outlasts the request's own expiry either.
inline constexpr std::chrono::seconds kMaxWait{300};

jsonrpc::Json wait_definition();

// A request's approval as the tools' structuredContent carries it (run_command's `approval`
// too): id, code, state, expires, approvers, required, approvals.
jsonrpc::Json approval_json(const gate::ApprovalInfo& approval);

struct WaitArgs {
    std::string id;  // the approval id of an approval_required result
    std::chrono::milliseconds timeout = kDefaultWait;
};
// The arguments, or why they cannot be used.
Result<WaitArgs> parse_wait_args(const jsonrpc::Json& arguments);

// The result of a wait: `info.state` as it ended (approved, rejected, consumed, expired, void;
// pending when the wait's bound passed), what to do next, how long it waited. Never isError:
// every state is an answer.
jsonrpc::Json wait_result(const gate::ApprovalInfo& info, const std::string& advice,
                          std::int64_t waited_ms);

// A refused wait (an unknown or another key's id, bad arguments, the session's limit): isError.
jsonrpc::Json wait_error(const std::string& message);

// A progress notification's message while it waits.
std::string wait_progress_message(const gate::ApprovalInfo& info, std::int64_t seconds);

}  // namespace bridle::session::tools
