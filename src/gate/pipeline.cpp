// SPDX-License-Identifier: Apache-2.0
// A pipeline of allowed stages: each stage decided as a request of its own would be, and in
// its place; one decision record; the stages run by execution::run_pipeline, each in its own
// rule's sandbox, wired by bridle's pipes (never a shell); one result record with each
// stage's status. bridle-policy(5), PIPELINES; docs/audit.md, PIPELINES.
#include <signal.h>

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "audit/capture.hpp"
#include "common/text.hpp"
#include "gate/client_stream.hpp"
#include "gate/internal.hpp"

namespace bridle::gate::detail {
namespace {

// "stage 2 of 3 (`grep`)": how messages and records name a stage.
std::string stage_name(std::size_t i, std::size_t n, const std::vector<std::string>& words) {
    return "stage " + std::to_string(i + 1) + " of " + std::to_string(n) + " (`" +
           escape_text(words.empty() ? "" : words.front(), 64) + "`)";
}

// Where stage `i` of `n` stands.
policy::Place place_of(std::size_t i, std::size_t n) {
    return i == 0       ? policy::Place::kFirst
           : i + 1 == n ? policy::Place::kLast
                        : policy::Place::kMiddle;
}

// The pipeline's timeout and output cap: the strictest of its stages' rules, so that no stage
// runs longer or says more than its own rule allows.
std::chrono::milliseconds pipeline_timeout(const Context& context, const Request& request,
                                           const Response& r) {
    std::chrono::milliseconds timeout = std::chrono::milliseconds::max();
    for (const Response& s : r.stages) {
        timeout = std::min(timeout, timeout_of(context, request, s.decision.rule->timeout));
    }
    return timeout;
}

std::uint64_t pipeline_max_output(const Context& context, const Response& r) {
    std::uint64_t cap = UINT64_MAX;
    for (const Response& s : r.stages) {
        cap =
            std::min(cap, s.decision.rule->max_output.value_or(context.policy.settings.max_output));
    }
    return cap;
}

// A stage's status as `set -o pipefail` sees it: the exit status, or 128+N for signal N.
// A stage that did not start has bridle's status for that (127, 126 or 71).
int pipe_status(const execution::Outcome& o) {
    if (!o.started) return exit_status_of(o);
    return o.signal != 0 ? 128 + o.signal : o.exit_status;
}

// The whole pipeline as one outcome, for the front ends and the result record. Its status is
// pipefail's: that of the last stage that failed, where a stage that ended by SIGPIPE before
// the last is no failure (its reader had read enough, as with `| head`); 0 when none failed.
execution::Outcome outcome_of_pipeline(const std::vector<execution::Outcome>& stages,
                                       const std::vector<std::vector<std::string>>& words) {
    execution::Outcome all;
    all.started = true;
    all.exit_status = 0;
    const std::size_t n = stages.size();
    const auto add = [](std::string& to, const std::string& text) {
        to += (to.empty() ? "" : "; ") + text;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const execution::Outcome& o = stages[i];
        const std::string name = stage_name(i, n, words[i]);
        if (!o.started && all.started) {
            all.started = false;
            all.exec_errno = o.exec_errno;
        }
        if (!o.error.empty()) add(all.error, name + ": " + o.error);
        if (!o.supervision_error.empty())
            add(all.supervision_error, name + ": " + o.supervision_error);
        all.timed_out = all.timed_out || o.timed_out;
        all.disconnected = all.disconnected || o.disconnected;
        all.stdout_truncated = all.stdout_truncated || o.stdout_truncated;
        all.stderr_truncated = all.stderr_truncated || o.stderr_truncated;
        all.stderr_bytes += o.stderr_bytes;
        all.exec_blocked += o.exec_blocked;
        // The exec logs of the stages that keep one, stage after stage.
        all.exec_logged = all.exec_logged || o.exec_logged;
        all.execs.insert(all.execs.end(), o.execs.begin(), o.execs.end());
        all.execs_dropped += o.execs_dropped;
        all.duration = std::max(all.duration, o.duration);
        all.containment += (i == 0 ? "" : " | ") + o.containment;
        const bool failed = o.started && pipe_status(o) != 0 && !(o.signal == SIGPIPE && i + 1 < n);
        if (failed) {
            all.exit_status = o.exit_status;
            all.signal = o.signal;
        }
    }
    all.stdout_bytes = stages.back().stdout_bytes;
    if (!all.started && all.error.empty()) all.error = "a stage of the pipeline did not start";
    return all;
}

}  // namespace

void decide_pipeline(const Context& context, const Request& request,
                     std::vector<command::Stage>& stages, Response& r) {
    const std::size_t n = stages.size();
    std::optional<std::size_t> first_denied;
    std::string message;
    for (std::size_t i = 0; i < n; ++i) {
        Response& s = r.stages.emplace_back();
        s.request_id = r.request_id;
        if (!request.target_rule.empty()) {
            // The target side of a run_as rule re-checks one command; sudo never sends more.
            s.decision.reason = "the target side of a run_as rule runs one command, not a pipeline";
        } else {
            decide(context, request, stages[i].words, stages[i].globbed, s, place_of(i, n));
        }
        if (s.kind == Kind::kAllowed && s.decision.verdict == matching::Verdict::kAllow) continue;
        s.kind = Kind::kDenied;
        s.decision.verdict = matching::Verdict::kDeny;
        s.exit_status = to_int(ExitCode::kNoPerm);
        const std::string name = stage_name(i, n, stages[i].words);
        message += "bridle: denied: " + name + ": " + s.decision.reason + "\n";
        for (const auto& synopsis : s.decision.nearest)
            message += "bridle: usage: " + synopsis + "\n";
        if (!first_denied) {
            first_denied = i;
            r.decision.reason = name + ": " + s.decision.reason;
            r.decision.nearest = s.decision.nearest;
        }
    }
    if (first_denied) {
        for (Response& s : r.stages) s.opened.reset();  // nothing runs
        r.kind = Kind::kDenied;
        r.exit_status = to_int(ExitCode::kNoPerm);
        r.decision.verdict = matching::Verdict::kDeny;
        r.message = message +
                    "bridle: nothing was run: a pipeline runs only when every stage is allowed\n"
                    "bridle: send `help` to list the commands you may run\n";
        return;
    }
    r.kind = Kind::kAllowed;
    r.exit_status = to_int(ExitCode::kOk);
    r.decision = r.stages.back().decision;
    r.decision.fd_paths.clear();  // each stage keeps its own
}

Response audit_and_run_pipeline(const Context& context, const Request& request, Response r,
                                const std::vector<command::Stage>& stages,
                                const execution::OutputSink& sink,
                                const std::vector<int>& hangup_fds) {
    const std::size_t n = stages.size();
    audit::RequestInfo info = info_of(request, r.request_id, context.policy);
    std::vector<std::vector<std::string>> words;
    for (const command::Stage& stage : stages) words.push_back(stage.words);
    info.stage_argv = words;
    const bool allowed = r.kind == Kind::kAllowed;
    const std::string rule_ids = gate::rule_ids(r);
    nlohmann::json executables = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) {
        const Response& s = r.stages[i];
        if (info.denied_stage == 0 && s.kind != Kind::kAllowed) info.denied_stage = i + 1;
        if (!allowed) continue;
        executables.push_back(s.decision.rule->command);
        info.stage_exec_argv.push_back(s.decision.exec_argv);
        for (const matching::FdPath& path : s.decision.fd_paths) {
            info.fd_paths.emplace_back("/dev/fd/" + std::to_string(path.fd), path.canonical);
        }
        info.stage_sandboxes.push_back(*sandbox_info(s.sandbox));
    }
    // The decision record goes out before anything runs; if it cannot be written, nothing runs.
    const std::chrono::milliseconds timeout =
        allowed ? pipeline_timeout(context, request, r) : std::chrono::milliseconds(0);
    info.timeout_ms = static_cast<std::uint64_t>(timeout.count());
    const Status audited = context.audit.write(
        audit::decision_record(info, allowed ? "allow" : "deny", rule_ids, r.decision.reason,
                               allowed ? executables.dump() : std::string()));
    if (!audited) {
        r.kind = Kind::kUnaudited;
        r.exit_status = to_int(ExitCode::kUnavailable);
        r.message = "bridle: " + audited.error().full() + "\nbridle: nothing was run\n";
        if (allowed) {  // close the allow where another sink took it (audit_and_run, gate.cpp)
            execution::Outcome not_run;
            not_run.error = "not run: " + audited.error().full();
            (void)context.audit.write(audit::result_record(info, rule_ids, not_run, r.exit_status));
        }
        return r;
    }
    if (!allowed) return r;

    // Each stage as audit_and_run would run it alone; the sandboxes are prepared (everything
    // that allocates or opens files) before the first fork, and live until the last exit.
    std::vector<execution::Spec> specs(n);
    std::vector<sandbox::Prepared> prepared;
    prepared.reserve(n);
    OutputSteps steps;  // redact and escape_output of any stage: the pipeline's output
    for (std::size_t i = 0; i < n; ++i) {
        const Response& s = r.stages[i];
        const policy::Rule& rule = *s.decision.rule;
        execution::Spec& spec = specs[i];
        spec.path = rule.command;
        spec.argv = s.decision.exec_argv;
        spec.env = context.policy.environment_for(rule);
        spec.pass_stdin = i == 0 && rule.stdin_allowed;  // the others read the stage before
        if (s.opened) spec.pass_fds = s.opened->fds();
        steps.redact = steps.redact || steps_of(rule).redact;
        steps.escape = steps.escape || steps_of(rule).escape;
        Result<sandbox::Prepared> p = s.sandbox
                                          ? sandbox::prepare(*s.sandbox)
                                          : Result<sandbox::Prepared>(Error{"no sandbox", ""});
        if (!p) {
            r.kind = Kind::kRan;
            r.outcome.error =
                stage_name(i, n, words[i]) + ": cannot prepare the sandbox: " + p.error().full();
            break;
        }
        prepared.push_back(std::move(p).value());
    }
    execution::Spec& shared = specs.back();
    shared.timeout = timeout;
    shared.max_output = pipeline_max_output(context, r);
    shared.hangup_fds = hangup_fds;
    const policy::Rule& last_rule = *r.stages.back().decision.rule;
    ClientStream client(steps, context.policy, sink);
    const execution::OutputSink to_client = client.sink();
    // The last rule's output capture: what the client gets.
    CapturedOutput captured(last_rule, steps, context.policy, shared);

    r.kind = Kind::kRan;
    std::vector<execution::Outcome> outcomes(n);
    if (prepared.size() == n) {
        for (std::size_t i = 0; i < n; ++i) specs[i].sandbox = &prepared[i];
        outcomes = execution::run_pipeline(specs, to_client);
        r.outcome = outcome_of_pipeline(outcomes, words);
    } else {
        r.outcome.started = false;
    }
    client.finish();  // the lines and characters the stages left unfinished at their end
    for (std::size_t i = 0; i < n; ++i) {
        Response& s = r.stages[i];
        s.kind = Kind::kRan;
        s.outcome = outcomes[i];
        s.exit_status = exit_status_of(outcomes[i]);
        info.pipestatus.push_back(pipe_status(outcomes[i]));
        info.stage_exec_blocked.push_back(outcomes[i].exec_blocked);
        info.stage_containment.push_back(outcomes[i].containment);
    }
    r.exit_status = exit_status_of(r.outcome);
    if (!r.outcome.started) {
        r.message = "bridle: " + r.outcome.error + "\n";
    } else if (r.outcome.timed_out) {
        r.message = "bridle: timed out after " + std::to_string(timeout.count()) +
                    " ms: every stage of the pipeline and everything it started were killed\n";
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (outcomes[i].exec_blocked == 0) continue;
        r.message += "bridle: " + stage_name(i, n, words[i]) + " tried to start another program " +
                     std::to_string(outcomes[i].exec_blocked) +
                     " time(s); its rule allows none (exec-once)\n";
    }
    if (r.outcome.stdout_truncated || r.outcome.stderr_truncated) {
        r.message += "bridle: output truncated at " + format_bytes(shared.max_output) +
                     " per stream (" + std::to_string(r.outcome.stdout_bytes) +
                     " bytes on stdout, " + std::to_string(r.outcome.stderr_bytes) +
                     " on stderr)\n";
    }
    const audit::OutputCapture* capture = captured.finish();
    const std::optional<std::uint64_t> redacted =
        client.redacts() ? std::optional(client.redacted()) : std::nullopt;
    write_result(context.audit,
                 audit::result_record(info, rule_ids, r.outcome, r.exit_status, capture, redacted),
                 r);
    return r;
}

}  // namespace bridle::gate::detail
