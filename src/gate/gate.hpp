// SPDX-License-Identifier: Apache-2.0
// The pipeline every front end calls: tokenize -> decide -> audit -> run -> audit.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.hpp"
#include "common/exit_code.hpp"
#include "execution/runner.hpp"
#include "matching/matcher.hpp"
#include "policy/model.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::gate {

// One request, as a front end received it.
struct Request {
    std::string text;                               // the raw request (SSH_ORIGINAL_COMMAND)
    std::optional<std::vector<std::string>> argv;   // set when the client sent argv directly
    std::string key;                                // --key NAME from authorized_keys
    std::string client;                             // SSH_CONNECTION, or empty
    std::string session_id;                         // ties the requests of one session
    std::string front_end = "forced";               // forced | mcp | explain
    std::string run_as;                             // the user commands run as (for the record)
    std::optional<std::chrono::milliseconds> timeout;  // the client's own, shorter timeout (MCP);
                                                    // never lengthens the rule's
};

// What happened, for the front end to report.
struct Response {
    int exit_status = to_int(ExitCode::kSoftware);
    std::string request_id;
    matching::Decision decision;
    std::optional<sandbox::Plan> sandbox;   // an allowed rule's sandbox (also when it refused)
    bool parsed = false;                 // the request text tokenized
    bool ran = false;                    // the command was started
    execution::Outcome outcome;          // when ran
    std::string message;                 // bridle's own words for the client, when not ran ok
};

struct Context {
    const policy::Policy& policy;
    audit::Sink& audit;
    const matching::PathResolver& resolver;
};

// Tokenize and decide; no audit, nothing runs (`bridle explain`, MCP check_command).
Response explain(const Context& context, const Request& request);

// The whole pipeline. Audits the decision before anything runs (an audit failure denies),
// runs an allowed command with its output going to `sink`, and audits the result.
Response handle(const Context& context, const Request& request,
                const execution::OutputSink& sink, const std::vector<int>& hangup_fds);

// The text of the built-in `help` request: what this key may run.
std::string help_text(const policy::Policy& policy, const std::string& key);

// A fresh 128-bit random id, 32 hex digits.
std::string new_request_id();

}  // namespace bridle::gate
