// SPDX-License-Identifier: Apache-2.0
// Internal to gate/: the steps gate.cpp shares with pipeline.cpp. Front ends call gate.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/records.hpp"
#include "command/tokenizer.hpp"
#include "gate/gate.hpp"

namespace bridle::gate::detail {

// Why an allowed rule cannot run after all, and what the client is told besides.
struct Refused {
    std::string reason;
    std::string advice = "nothing was run";
};

// The verdict of one command in `place` (gate.cpp): the built-in `help` (alone only), else
// the matcher's among the rules that take that place, then the plans of an allowed rule
// (sandbox, user switch, `open: fd` files).
void decide(const Context& context, const Request& request, const std::vector<std::string>& argv,
            std::vector<bool>& globbed, Response& r, policy::Place place = policy::Place::kAlone);

// The verdict of a pipeline (pipeline.cpp): each stage decided as one command, and allowed in
// its place (`pipeline:`); the whole is allowed only when every stage is.
void decide_pipeline(const Context& context, const Request& request,
                     std::vector<command::Stage>& stages, Response& r);

// A pipeline's decision record, its run and its result record (pipeline.cpp).
Response audit_and_run_pipeline(const Context& context, const Request& request, Response r,
                                const std::vector<command::Stage>& stages,
                                const execution::OutputSink& sink,
                                const std::vector<int>& hangup_fds);

// What every record of the request repeats.
audit::RequestInfo info_of(const Request& request, const std::string& id,
                           const std::string& policy_sha256);
// ... of a request decided under `policy`: its SHA-256, and what the loader found in the
// compiled policy cache.
audit::RequestInfo info_of(const Request& request, const std::string& id,
                           const policy::Policy& policy);
// plans.cpp: what an allowed rule needs before it runs; each refuses with a reason.
std::optional<Refused> check_normal_form(const std::vector<std::string>& argv, const Response& r);
std::optional<Refused> plan_sandbox(const Context& context, Response& r);
std::optional<Refused> plan_privilege(const Context& context, Response& r);
std::optional<Refused> plan_redaction(const Context& context, const Response& r);
std::optional<Refused> open_fd_paths(Response& r);

std::optional<audit::SandboxInfo> sandbox_info(const std::optional<sandbox::Plan>& plan);
// Writes a request's result record; when the sink refuses it, the client is told (the request
// has run: nothing else can be done about it).
void write_result(audit::Sink& sink, const audit::Record& record, Response& r);
// The status bridle exits with, shell conventions where they exist.
int exit_status_of(const execution::Outcome& o);
// The timeout of a rule or files entry (`rule_timeout`), or the policy's, or the client's when
// that is shorter (at least 1 ms).
std::chrono::milliseconds timeout_of(const Context& context, const Request& request,
                                     const std::optional<std::chrono::milliseconds>& rule_timeout);

// The built-in `task` request (task_gate.cpp): its words, when the request is one (a policy
// rule named `task` for the key wins, as for `help`; never on the target side).
std::optional<std::vector<std::string>> task_words(const Context& context, const Request& request);
// Answers a `task` request: start, list, status, output, cancel (bridle(8), TASKS).
// `hangup_fds`: as handle()'s; `task output --follow` stops when one reports a hangup.
Response handle_task(const Context& context, const Request& request, Response r,
                     const std::vector<std::string>& words, const execution::OutputSink& sink,
                     const std::vector<int>& hangup_fds);

// The wall clock in whole seconds since the epoch: approvals' and tasks' times.
std::int64_t now_seconds();

}  // namespace bridle::gate::detail
