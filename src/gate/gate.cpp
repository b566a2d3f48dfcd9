// SPDX-License-Identifier: Apache-2.0
// The pipeline: tokenize -> decide -> audit(decision) -> run -> audit(result). Front ends call
// this and nothing else; no stage is re-implemented elsewhere.
#include "gate/gate.hpp"

#include <cerrno>

#include <algorithm>

#include "audit/capture.hpp"
#include "audit/records.hpp"
#include "command/tokenizer.hpp"
#include "common/text.hpp"
#include "gate/approval_steps.hpp"
#include "gate/client_stream.hpp"
#include "gate/file_ops.hpp"
#include "gate/internal.hpp"
#include "os/random.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::gate {
namespace detail {

constexpr const char* kHelpRequest = "help";

std::optional<audit::SandboxInfo> sandbox_info(const std::optional<sandbox::Plan>& plan) {
    if (!plan) return std::nullopt;
    return audit::SandboxInfo{plan->profile.name, plan->seccomp_text(), plan->profile.exec_once,
                              plan->landlock_text()};
}

std::string denial_message(const matching::Decision& d) {
    std::string m = "bridle: denied: " + d.reason + "\n";
    for (const auto& synopsis : d.nearest) m += "bridle: usage: " + synopsis + "\n";
    m += "bridle: send `help` to list the commands you may run\n";
    return m;
}

// The status bridle exits with, shell conventions where they exist.
int exit_status_of(const execution::Outcome& o) {
    if (!o.started) {
        if (o.exec_errno == ENOENT) return to_int(ExitCode::kNotFound);
        if (o.exec_errno != 0) return to_int(ExitCode::kCannotExecute);
        return to_int(ExitCode::kSetupFailed);
    }
    if (o.timed_out || o.idle_timed_out) return to_int(ExitCode::kTimeout);
    if (o.signal != 0) return to_int(ExitCode::kSignalBase) + o.signal;
    return o.exit_status;
}

bool is_help(const Context& context, const Request& request, const std::vector<std::string>& argv) {
    if (request.front_end == kTargetFrontEnd || argv.size() != 1 || argv[0] != kHelpRequest) {
        return false;
    }
    return !context.policy.has_rule_for(kHelpRequest, request.key);  // else the policy's own
}

audit::RequestInfo info_of(const Request& request, const std::string& id,
                           const std::string& policy_sha256) {
    audit::RequestInfo info;
    info.request_id = id;
    info.raw = request.argv || request.pipeline ? std::string() : request.text;
    if (request.argv) {
        for (const auto& word : *request.argv) info.raw += (info.raw.empty() ? "" : " ") + word;
    }
    if (request.pipeline) {
        for (const auto& stage : *request.pipeline) {
            if (!info.raw.empty()) info.raw += " |";
            for (const auto& word : stage) info.raw += (info.raw.empty() ? "" : " ") + word;
        }
    }
    info.key = request.key;
    info.client = request.client;
    info.session_id = request.session_id;
    info.fanout_id = request.fanout_id;
    info.front_end = request.front_end;
    info.task_id = request.task_id;
    info.policy_sha256 = policy_sha256;
    info.run_as = request.run_as;
    info.sudo_user = request.sudo_user;
    info.parent_request_id = request.parent_request_id;
    if (request.front_end == kTargetFrontEnd) info.sudo = privilege::kSudo;
    return info;
}

audit::RequestInfo info_of(const Request& request, const std::string& id,
                           const policy::Policy& policy) {
    audit::RequestInfo info = info_of(request, id, policy.sha256);
    info.policy_cache = policy.cache;
    return info;
}

// A request that cannot be used as it came: kUnparsable, exit status 64.
void unusable(Response& r, const std::string& reason, const std::string& advice) {
    r.kind = Kind::kUnparsable;
    r.exit_status = to_int(ExitCode::kUsage);
    r.decision.reason = reason;
    r.message = "bridle: " + reason + "\nbridle: " + advice + "\n";
}

// The stages of the request: the tokenizer's (one, or a pipeline's), or the argv as sent, or
// a pipeline's stages as sent (under the tokenizer's character rules), within the policy's
// own, lower limits (settings.max_request, max_words: over all stages). nullopt, with `r`
// saying why, when there are none to decide.
std::optional<std::vector<command::Stage>> stages_of(const Context& context, const Request& request,
                                                     Response& r) {
    constexpr const char* kHelpAdvice = "send `help` to list the commands you may run";
    std::vector<command::Stage> stages;
    if (request.pipeline) {
        if (request.pipeline->size() < 2 || request.pipeline->size() > command::kMaxStages) {
            unusable(r,
                     "cannot use the request: a pipeline has 2 to " +
                         std::to_string(command::kMaxStages) + " stages, not " +
                         std::to_string(request.pipeline->size()),
                     kHelpAdvice);
            return std::nullopt;
        }
        for (std::size_t i = 0; i < request.pipeline->size(); ++i) {
            const std::vector<std::string>& words = (*request.pipeline)[i];
            if (auto refused = command::check_words(words)) {
                unusable(r,
                         "cannot use the request: stage " + std::to_string(i + 1) + ": " + *refused,
                         kHelpAdvice);
                return std::nullopt;
            }
            stages.push_back({words, std::vector<bool>(words.size(), false)});
        }
    } else if (request.argv) {
        if (auto refused = command::check_words(*request.argv)) {
            unusable(r, "cannot use the request: " + *refused, kHelpAdvice);
            return std::nullopt;
        }
        stages.push_back({*request.argv, std::vector<bool>(request.argv->size(), false)});
    } else {
        auto tokens = command::tokenize_pipeline(request.text);
        if (!tokens) {
            unusable(r, "cannot parse the request: " + tokens.error().full(),
                     "bridle runs no shell: send one command with its arguments; " +
                         std::string(kHelpAdvice));
            return std::nullopt;
        }
        stages = std::move(tokens).value();
    }
    static_assert(policy::kMaxRequestLimit == command::kMaxRequestBytes);
    const policy::Settings& settings = context.policy.settings;
    const bool sent_as_words = request.argv || request.pipeline;
    std::uint64_t bytes = sent_as_words ? 0 : request.text.size();
    std::size_t words = 0;
    for (const command::Stage& stage : stages) {
        words += stage.words.size();
        if (!sent_as_words) continue;
        for (const std::string& word : stage.words) bytes += word.size() + 1;
    }
    if (bytes > settings.max_request) {
        unusable(r,
                 "cannot use the request: the request is " + std::to_string(bytes) +
                     " bytes; this host's policy allows " + std::to_string(settings.max_request),
                 kHelpAdvice);
        return std::nullopt;
    }
    if (settings.max_words && words > *settings.max_words) {
        unusable(r,
                 "cannot use the request: the request has " + std::to_string(words) +
                     " words; this host's policy allows " + std::to_string(*settings.max_words),
                 kHelpAdvice);
        return std::nullopt;
    }
    return stages;
}

// The verdict, decided here and nowhere else: the built-in `help`, else the matcher's; then
// each plan of an allowed rule may turn the allow into a deny, in this order, before
// anything is audited or run: (the target side) the request's normal form, the rule's
// sandbox on this kernel, its user switch, its redaction patterns, its `open: fd` files.
void decide(const Context& context, const Request& request, const std::vector<std::string>& argv,
            std::vector<bool>& globbed, Response& r, policy::Place place) {
    if (place == policy::Place::kAlone && is_help(context, request, argv)) {
        r.kind = Kind::kHelp;
        r.decision.verdict = matching::Verdict::kAllow;
        r.exit_status = to_int(ExitCode::kOk);
        r.message = help_text(context.policy, request.key);
        return;
    }
    r.decision =
        matching::decide(context.policy, argv, request.key, context.resolver, &globbed, place);
    std::optional<Refused> refused;
    if (r.decision.verdict != matching::Verdict::kAllow) {
        if (!request.target_rule.empty()) {
            refused = Refused{"rule " + request.target_rule +
                              " does not allow this request: " + r.decision.reason};
        } else {
            r.kind = Kind::kDenied;
            r.exit_status = to_int(ExitCode::kNoPerm);
            r.message = denial_message(r.decision);
            return;
        }
    } else if (r.decision.rule == nullptr) {
        refused = Refused{"the matcher allowed the request without a rule"};  // fail closed
    } else {
        if (!request.target_rule.empty()) refused = check_normal_form(argv, r);
        if (!refused) refused = plan_sandbox(context, r);
        if (!refused) refused = plan_privilege(context, r);
        if (!refused && !r.sudo) refused = plan_redaction(context, r);
        if (!refused) {
            if (auto store = store_path_refusal(context, r.decision.exec_argv)) {
                refused = Refused{*store, "nothing was run"};
            }
        }
        if (!refused && !r.sudo) refused = open_fd_paths(r);
    }
    if (refused) {
        r.kind = Kind::kDenied;
        r.decision.verdict = matching::Verdict::kDeny;
        r.decision.reason = refused->reason;
        r.exit_status = to_int(ExitCode::kNoPerm);
        r.message = "bridle: denied: " + refused->reason + "\nbridle: " + refused->advice + "\n";
        return;
    }
    r.kind = Kind::kAllowed;
    r.exit_status = to_int(ExitCode::kOk);
}

}  // namespace detail

namespace {

using namespace detail;

// The verdict of the request's words: a file request's, one command's, or each stage's.
void decide_stages(const Context& context, const Request& request,
                   std::vector<command::Stage>& stages, Response& r) {
    if (stages.size() == 1 && is_file_request(context, request, stages.front().words)) {
        (void)decide_file(context, request, stages.front().words, r);
    } else if (stages.size() == 1) {
        decide(context, request, stages.front().words, stages.front().globbed, r);
    } else {
        decide_pipeline(context, request, stages, r);
    }
}

}  // namespace

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::kUnparsable:
            return "unparsable";
        case Kind::kHelp:
            return "help";
        case Kind::kDenied:
            return "denied";
        case Kind::kAllowed:
            return "allowed";
        case Kind::kUnaudited:
            return "unaudited";
        case Kind::kRan:
            return "ran";
        case Kind::kPending:
            return "pending";
        default:
            return "unparsable";  // -Werror=switch-default; every kind is listed above
    }
}

std::optional<Kind> kind_from_name(std::string_view name) {
    for (const Kind kind : {Kind::kUnparsable, Kind::kHelp, Kind::kDenied, Kind::kAllowed,
                            Kind::kUnaudited, Kind::kRan, Kind::kPending}) {
        if (name == kind_name(kind)) return kind;
    }
    return std::nullopt;
}

std::string new_request_id() {
    return os::random_hex(16);
}

Response explain(const Context& context, const Request& request) {
    Response r;
    r.request_id = new_request_id();
    if (auto stages = stages_of(context, request, r)) decide_stages(context, request, *stages, r);
    r.opened.reset();
    for (Response& stage : r.stages)
        stage.opened
            .reset();  // nothing runs: decision.fd_paths keeps the numbers for the explanation
    return r;
}

Response refuse(audit::Sink& sink, const Request& request, const Refusal& refusal) {
    Response r;
    r.kind = Kind::kDenied;
    r.request_id = request.request_id.empty() ? new_request_id() : request.request_id;
    r.exit_status = to_int(refusal.code);
    r.decision.reason = refusal.reason;
    r.message = refusal.text.empty()
                    ? "bridle: denied: " + refusal.reason + "\nbridle: nothing was run\n"
                    : refusal.text;
    audit::RequestInfo info = info_of(request, r.request_id, refusal.policy_sha256);
    if (request.argv) info.argv = *request.argv;
    info.first_policy_sha256 = refusal.first_policy_sha256;
    const Status s =
        sink.write(audit::decision_record(info, "deny", refusal.rule_id, refusal.reason));
    if (!s) r.message += "bridle: " + s.error().full() + "\n";
    return r;
}

namespace detail {

void write_result(audit::Sink& sink, const audit::Record& record, Response& r) {
    const Status recorded = sink.write(record);
    if (!recorded) {
        r.message +=
            "bridle: warning: the result record could not be written: " + recorded.error().full() +
            "\n";
    }
}

// The timeout of a rule or files entry, or the policy's, or the client's when that is shorter.
std::chrono::milliseconds timeout_of(const Context& context, const Request& request,
                                     const std::optional<std::chrono::milliseconds>& rule_timeout) {
    const std::chrono::milliseconds limit = rule_timeout.value_or(context.policy.settings.timeout);
    if (!request.timeout || *request.timeout >= limit) return limit;
    return std::max(*request.timeout, std::chrono::milliseconds(1));
}

}  // namespace detail

namespace {

// Everything after the decision: its record, the run, the result record.
Response audit_and_run(const Context& context, const Request& request, Response r,
                       const std::optional<std::vector<std::string>>& argv,
                       const execution::OutputSink& sink, const std::vector<int>& hangup_fds) {
    // Held here, so the files are closed on every path out of this function, after the run.
    const std::shared_ptr<OpenedFiles> opened = std::move(r.opened);
    audit::RequestInfo info = info_of(request, r.request_id, context.policy);
    if (argv) info.argv = *argv;
    if (r.decision.verdict == matching::Verdict::kAllow && r.decision.rule != nullptr && !r.sudo) {
        info.exec_argv = r.decision.exec_argv;
        for (const matching::FdPath& path : r.decision.fd_paths) {
            info.fd_paths.emplace_back("/dev/fd/" + std::to_string(path.fd), path.canonical);
        }
    }
    info.sandbox = sandbox_info(r.sandbox);
    if (r.decision.rule != nullptr && !r.decision.rule->run_as.empty())
        info.run_as = r.decision.rule->run_as;
    if (r.sudo) {
        info.sudo = privilege::kSudo;
        info.sudo_command = r.sudo->target_command;
    }

    // A request that waits for approval was decided (its rule allows it) but does not run:
    // BRIDLE_DECISION=approval, and nothing below the decision record.
    const bool pending = r.kind == Kind::kPending;
    const bool allowed = !pending && r.decision.verdict == matching::Verdict::kAllow;
    const std::string verdict = allowed ? "allow" : pending ? "approval" : "deny";
    if (r.approval) info.fields.emplace_back("BRIDLE_APPROVAL_ID", r.approval->id);
    std::string rule_id =
        r.decision.rule ? r.decision.rule->id : (allowed ? audit::kHelpRuleId : "");
    if (rule_id.empty()) rule_id = request.target_rule;  // the target side's denial

    // The decision record goes out before anything runs; if it cannot be written, nothing runs.
    // It carries the timeout, so that a review can tell a request still running from one
    // whose result never came (`bridle audit`: lost).
    if (allowed && r.decision.rule) {
        info.timeout_ms = static_cast<std::uint64_t>(
            timeout_of(context, request, r.decision.rule->timeout).count());
    }
    const std::string executable = r.decision.rule ? r.decision.rule->command : "";
    const Status audited = context.audit.write(
        audit::decision_record(info, verdict, rule_id, r.decision.reason, executable));
    if (!audited) {
        r.kind = Kind::kUnaudited;
        r.exit_status = to_int(ExitCode::kUnavailable);
        r.message = "bridle: " + audited.error().full() + "\nbridle: nothing was run\n";
        // With several sinks (settings.audit: both), one may hold an allow decision for a
        // command that never ran: close it there with a result that says so (best effort; the
        // failing sink refuses this record too).
        if (allowed && r.decision.rule) {
            execution::Outcome not_run;
            not_run.error = "not run: " + audited.error().full();
            (void)context.audit.write(audit::result_record(info, rule_id, not_run, r.exit_status));
        }
        return r;
    }
    if (!allowed || !r.decision.rule) return r;  // a denial, an error, or `help`

    const policy::Rule& rule = *r.decision.rule;
    execution::Spec spec;
    spec.path = rule.command;
    spec.argv = r.decision.exec_argv;
    spec.env = context.policy.environment_for(rule);
    spec.pass_stdin = rule.stdin_allowed;
    spec.timeout = timeout_of(context, request, rule.timeout);
    spec.idle_timeout = rule.idle_timeout.value_or(std::chrono::milliseconds(0));
    spec.max_output = rule.max_output.value_or(context.policy.settings.max_output);
    spec.hangup_fds = hangup_fds;
    if (opened) spec.pass_fds = opened->fds();
    // redact and escape_output (client_stream.hpp). Through sudo the target side takes both
    // steps: redacting again here could only mangle its [REDACTED] markers.
    const OutputSteps steps = r.sudo ? OutputSteps{} : steps_of(rule);
    ClientStream client(steps, context.policy, sink);
    const execution::OutputSink to_client = client.sink();
    // The rule's output capture, for the result record (client_stream.hpp).
    CapturedOutput captured(rule, steps, context.policy, spec);

    r.kind = Kind::kRan;
    if (r.sudo) {
        // A user switch: sudo runs bridle's target side, which checks the request again and
        // enforces the timeout, the output cap and the whole sandbox after the switch. Nothing
        // of the sandbox is applied here: sudo refuses to start under no_new_privs. This
        // side's timeout and cap are a backstop a little beyond the target side's.
        spec.path = privilege::kSudo;
        spec.argv = r.sudo->argv;
        spec.env = r.sudo->env;
        spec.timeout = privilege::backstop_timeout(spec.timeout, spec.kill_grace);
        spec.max_output = privilege::backstop_output(spec.max_output);
        r.outcome = execution::run(spec, to_client);
    } else {
        // Everything that allocates or opens files for the sandbox, before fork. A failure
        // runs nothing and is reported like any other set-up failure (status 71).
        Result<sandbox::Prepared> prepared =
            r.sandbox ? sandbox::prepare(*r.sandbox)
                      : Result<sandbox::Prepared>(Error{"no sandbox", ""});
        if (prepared) {
            spec.sandbox = &prepared.value();
            r.outcome = execution::run(spec, to_client);
        } else {
            r.outcome.error = "cannot prepare the sandbox: " + prepared.error().full();
        }
    }
    client.finish();  // the lines and characters the command left unfinished at its end
    r.exit_status = exit_status_of(r.outcome);
    if (!r.outcome.started) {
        r.message =
            "bridle: " +
            (r.outcome.error.empty() ? "the command could not be started" : r.outcome.error) + "\n";
    } else if (r.outcome.timed_out) {
        r.message = "bridle: timed out after " + std::to_string(spec.timeout.count()) +
                    " ms: the command and everything it started were killed\n";
    } else if (r.outcome.idle_timed_out) {
        r.message = "bridle: no output for " + std::to_string(spec.idle_timeout.count()) +
                    " ms (the rule's idle_timeout): the command and everything it started "
                    "were killed\n";
    }
    if (r.outcome.exec_blocked > 0) {
        r.message += "bridle: the command tried to start another program " +
                     std::to_string(r.outcome.exec_blocked) +
                     " time(s); this rule allows none (exec-once)\n";
    }
    if (r.outcome.stdout_truncated || r.outcome.stderr_truncated) {
        r.message += "bridle: output truncated at " + format_bytes(spec.max_output) +
                     " per stream (" + std::to_string(r.outcome.stdout_bytes) +
                     " bytes on stdout, " + std::to_string(r.outcome.stderr_bytes) +
                     " on stderr)\n";
    }
    // Through sudo, the sandbox (and its exec-once count) is the target side's: its own result
    // record reports it; this one reports what sudo returned.
    if (r.sudo) info.sandbox.reset();
    const audit::OutputCapture* capture = captured.finish();
    const std::optional<std::uint64_t> redacted =
        client.redacts() ? std::optional(client.redacted()) : std::nullopt;
    write_result(context.audit,
                 audit::result_record(info, rule.id, r.outcome, r.exit_status, capture, redacted),
                 r);
    return r;
}

}  // namespace

Response handle(const Context& context, const Request& request, const execution::OutputSink& sink,
                const std::vector<int>& hangup_fds) {
    Response r;
    r.request_id = request.request_id.empty() ? new_request_id() : request.request_id;
    if (auto words = task_words(context, request)) {
        return handle_task(context, request, std::move(r), *words, sink, hangup_fds);
    }
    auto stages = stages_of(context, request, r);
    if (stages && stages->size() == 1 && is_file_request(context, request, stages->front().words)) {
        return handle_file(context, request, std::move(r), stages->front().words, sink, hangup_fds);
    }
    if (stages) decide_stages(context, request, *stages, r);
    // A rule with approval: it runs only by consuming an approval of exactly this request.
    if (stages && stages->size() == 1 && r.kind == Kind::kAllowed && r.decision.rule != nullptr &&
        r.decision.rule->approval && request.front_end != kTargetFrontEnd) {
        (void)settle_approval(context, request, stages->front().words, r);
        if (r.kind == Kind::kUnaudited) return r;
    }
    if (stages && stages->size() > 1) {
        return audit_and_run_pipeline(context, request, std::move(r), *stages, sink, hangup_fds);
    }
    std::optional<std::vector<std::string>> argv;
    if (stages) argv = stages->front().words;
    return audit_and_run(context, request, std::move(r), argv, sink, hangup_fds);
}

}  // namespace bridle::gate
