// SPDX-License-Identifier: Apache-2.0
// The pipeline every front end calls: tokenize -> decide -> audit -> run -> audit.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.hpp"
#include "common/exit_code.hpp"
#include "execution/runner.hpp"
#include "gate/confined_open.hpp"
#include "matching/matcher.hpp"
#include "policy/model.hpp"
#include "privilege/invoke.hpp"
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
    std::string policy_file;                        // --policy FILE, or empty (the target side
                                                    // of a run_as rule is told the same)
    std::string request_id;                         // empty: a fresh one (the target side of a
                                                    // run_as rule continues the user side's)
    std::string sudo_user;                          // target side: who called sudo (SUDO_USER)
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
    std::optional<privilege::SudoCall> sudo;  // a run_as rule that switches user: what runs
                                              // instead of the rule's program (privilege/)
    std::shared_ptr<OpenedFiles> opened;      // the `open: fd` paths of an allowed rule,
                                              // open until the command has run (explain
                                              // closes them before it returns)
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

// The target side of a run_as rule (privilege/target_side.cpp), after it re-checked the
// request against the root-owned policy as `decision` (an allow for a rule of
// context.policy): audits that decision, runs the command in its rule's sandbox, audits the
// result. request.argv is the request as checked; request.request_id continues the user side's.
Response handle_decided(const Context& context, const Request& request,
                        const matching::Decision& decision, const execution::OutputSink& sink,
                        const std::vector<int>& hangup_fds);

// The text of the built-in `help` request: what this key may run.
std::string help_text(const policy::Policy& policy, const std::string& key);

// A fresh 128-bit random id, 32 hex digits.
std::string new_request_id();

}  // namespace bridle::gate
