// SPDX-License-Identifier: Apache-2.0
// File requests through the one pipeline: decide (matching/file_match) -> decision record ->
// the upload, checked -> either bridle's target side through sudo (a files entry with run_as)
// or the operation here (file_ops.cpp) -> result record. As for commands, nothing happens
// before the decision is recorded, and every request that was allowed gets a result record.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "audit/records.hpp"
#include "common/text.hpp"
#include "gate/file_ops.hpp"
#include "gate/internal.hpp"
#include "matching/file_match.hpp"
#include "os/error.hpp"
#include "privilege/invoke.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::gate::detail {
namespace {

std::string denial_text(const matching::FileDecision& d) {
    std::string m = "bridle: denied: " + d.reason + "\n";
    for (const std::string& synopsis : d.nearest) m += "bridle: usage: " + synopsis + "\n";
    return m + "bridle: send `help` to list the commands and files you may use\n";
}

// The upload of a put, checked before anything is written: complete, within the entry's size,
// as long as --size said, and of the entry's content type. Sets `r` and returns false when not.
bool take_upload(const Context& context, const Request& request, const matching::FileDecision& d,
                 Upload& upload, Response& r) {
    const policy::FileRule& rule = *d.rule;
    const auto refuse = [&](ExitCode code, const std::string& status, const std::string& why) {
        r.exit_status = to_int(code);
        r.file->status = status;
        r.message = "bridle: " + why + "\nbridle: nothing was written\n";
        return false;
    };
    if (!request.upload)
        return refuse(ExitCode::kUsage, "refused", "this front end takes no content");
    upload = request.upload(rule.max_size, timeout_of(context, request, rule.timeout));
    r.file->size = upload.bytes.size();
    if (upload.bytes.size() > rule.max_size) {
        return refuse(ExitCode::kDataErr, "refused",
                      "the content is more than " + std::to_string(rule.max_size) +
                          " bytes, the most entry " + rule.id + " takes");
    }
    if (!upload.complete) {
        return refuse(ExitCode::kIoErr, "failed",
                      "the upload did not complete (" + upload.problem + ", " +
                          std::to_string(upload.bytes.size()) + " bytes received)");
    }
    if (d.request.size && *d.request.size != upload.bytes.size()) {
        return refuse(ExitCode::kIoErr, "failed",
                      "the content is " + std::to_string(upload.bytes.size()) + " bytes, not the " +
                          std::to_string(*d.request.size) + " --size said");
    }
    if (const std::optional<std::string> problem =
            policy::content_problem(rule.content, upload.bytes)) {
        return refuse(ExitCode::kDataErr, "refused",
                      *problem + " (entry " + rule.id + " takes " +
                          policy::content_type_name(rule.content) + ")");
    }
    return true;
}

// A memfd holding `bytes`, at offset 0: sudo's stdin for a put through the target side.
Result<os::UniqueFd> content_fd(const std::string& bytes) {
    os::UniqueFd fd(::memfd_create("bridle-put", MFD_CLOEXEC));
    if (fd.get() < 0 || !os::write_all(fd.get(), bytes) || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
        return Error{"cannot hand the content to sudo: " + os::errno_text(errno), ""};
    }
    return fd;
}

// A files entry with run_as for another user: bridle's target side does the work after sudo
// switched users, re-checking everything; this side relays its output and its status.
void run_through_sudo(const Context& context, const Request& request,
                      const matching::FileDecision& d, const Upload& upload,
                      const execution::OutputSink& sink, const std::vector<int>& hangup_fds,
                      Response& r) {
    matching::FileRequest sent = d.request;
    if (d.request.verb == policy::FileVerb::kPut) sent.size = upload.bytes.size();
    const Result<std::string> self = privilege::own_executable();
    if (!self) {
        r.outcome.error = self.error().message;
        r.exit_status = to_int(ExitCode::kSoftware);
        return;
    }
    r.sudo = privilege::sudo_call(*d.rule, matching::normal_form(sent), self.value(),
                                  context.policy.given_path, r.request_id, context.policy.sha256);
    execution::Spec spec;
    spec.path = privilege::kSudo;
    spec.argv = r.sudo->argv;
    spec.env = r.sudo->env;
    spec.timeout =
        privilege::backstop_timeout(timeout_of(context, request, d.rule->timeout), spec.kill_grace);
    spec.max_output = privilege::backstop_output(context.policy.settings.max_output);
    spec.hangup_fds = hangup_fds;
    os::UniqueFd stdin_fd;
    if (d.request.verb == policy::FileVerb::kPut) {
        Result<os::UniqueFd> fd = content_fd(upload.bytes);
        if (!fd) {
            r.outcome.error = fd.error().message;
            r.exit_status = to_int(ExitCode::kIoErr);
            return;
        }
        stdin_fd = std::move(fd).value();
        spec.pass_stdin = true;
        spec.stdin_fd = stdin_fd.get();
    }
    r.outcome = execution::run(spec, sink);
    r.exit_status = exit_status_of(r.outcome);
    if (d.request.verb == policy::FileVerb::kGet) {
        // The bytes came through; the file's size is the target side's to know.
        r.file->offset = d.request.offset;
        r.file->sent = r.outcome.stdout_bytes;
        r.file->limit = std::min(d.request.limit.value_or(context.policy.settings.max_output),
                                 context.policy.settings.max_output);
        r.file->size_known = false;
    }
    r.file->status = r.exit_status == 0                            ? "ok"
                     : r.exit_status == to_int(ExitCode::kDataErr) ? "refused"
                     : r.exit_status == to_int(ExitCode::kNoPerm)  ? "denied"
                                                                   : "failed";
}

void add_file_fields(audit::RequestInfo& info, const FileOutcome& f) {
    const auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) info.fields.emplace_back(name, value);
    };
    add("BRIDLE_FILE_VERB", f.verb);
    add("BRIDLE_FILE_PATH", escape_text(f.path, 1024));
}

void add_result_fields(audit::RequestInfo& info, const FileOutcome& f, bool sudo) {
    const auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) info.fields.emplace_back(name, value);
    };
    add("BRIDLE_FILE_STATUS", f.status);
    if (sudo) return;  // the target side's own records say what it did
    add("BRIDLE_FILE_OLD_SHA256", f.old_sha256);
    add("BRIDLE_FILE_NEW_SHA256", f.new_sha256);
    if (f.verb == "put" || f.verb == "restore") {
        add("BRIDLE_FILE_SIZE", std::to_string(f.size));
        if (f.kept_version != 0) add("BRIDLE_FILE_KEPT_VERSION", std::to_string(f.kept_version));
        if (f.created) add("BRIDLE_FILE_CREATED", "1");
        if (f.removed) add("BRIDLE_FILE_REMOVED", "1");
    }
    if (f.verb == "get") {
        add("BRIDLE_FILE_SIZE", std::to_string(f.size));
        add("BRIDLE_FILE_OFFSET", std::to_string(f.offset));
        add("BRIDLE_FILE_SENT", std::to_string(f.sent));
    }
    // The diff is the content's own text: escaped so that no byte of it can forge a line of
    // the journal, bounded by the entry's diff limit already.
    add("BRIDLE_FILE_DIFF", escape_text(f.diff, f.diff.size() + 1));
    if (!f.validator.empty()) {
        add("BRIDLE_VALIDATOR", f.validator);
        add("BRIDLE_VALIDATOR_STATUS", std::to_string(f.validator_status));
    }
    if (!f.then.empty()) {
        add("BRIDLE_THEN", f.then);
        add("BRIDLE_THEN_STATUS", std::to_string(f.then_status));
    }
}

}  // namespace

bool is_file_request(const Context& context, const Request& request,
                     const std::vector<std::string>& argv) {
    if (argv.empty() || !matching::file_verb(argv[0])) return false;
    // The target side of a run_as rule (not a files entry) decides its own rule only.
    if (request.front_end == kTargetFrontEnd) {
        return std::any_of(context.policy.file_rules.begin(), context.policy.file_rules.end(),
                           [&](const policy::FileRule& f) { return f.id == request.target_rule; });
    }
    // A policy's own rule of that name wins, as it does over `help`.
    return !context.policy.has_rule_for(argv[0], request.key);
}

matching::FileDecision decide_file(const Context& context, const Request& request,
                                   const std::vector<std::string>& argv, Response& r) {
    const Result<std::string> self = privilege::own_executable();
    const policy::FileVerb verb = *matching::file_verb(argv[0]);
    matching::FileDecision d = matching::decide_file(
        context.policy, argv, request.key, context.resolver,
        matching::protected_paths(context.policy, verb, self ? self.value() : ""));
    r.file.emplace();
    r.file->verb = argv[0];
    r.file->path = d.canonical.empty() ? d.request.path : d.canonical;
    r.file->entry = d.rule_id();
    const auto deny = [&](const std::string& reason) {
        d.verdict = matching::Verdict::kDeny;
        d.reason = reason;
        d.nearest.clear();
    };
    if (d.verdict == matching::Verdict::kAllow && !request.target_rule.empty()) {
        // The target side: the entry sudo was told, in the user side's one spelling.
        if (d.rule->id != request.target_rule) {
            deny("entry " + request.target_rule + " does not take this request");
        } else if (matching::normal_form(d.request) != argv) {
            deny("the request is not in the normal form of entry " + d.rule->id);
        } else if (d.request.verb == policy::FileVerb::kPut && !d.request.size) {
            deny("a put through sudo carries --size");
        }
    }
    if (d.verdict == matching::Verdict::kAllow) {
        const Result<bool> needs = privilege::needs_switch(d.rule->run_as, d.rule->source);
        if (!needs) deny(needs.error().message);
    }
    r.kind = d.verdict == matching::Verdict::kAllow ? Kind::kAllowed : Kind::kDenied;
    r.exit_status =
        to_int(d.verdict == matching::Verdict::kAllow ? ExitCode::kOk : ExitCode::kNoPerm);
    r.file->status = d.verdict == matching::Verdict::kAllow ? "ok" : "denied";
    if (d.verdict != matching::Verdict::kAllow) {
        r.decision.reason = d.reason;
        r.decision.nearest = d.nearest;
        r.message = denial_text(d);
    } else {
        r.decision.verdict = matching::Verdict::kAllow;
    }
    return d;
}

Response handle_file(const Context& context, const Request& request, Response r,
                     const std::vector<std::string>& argv, const execution::OutputSink& sink,
                     const std::vector<int>& hangup_fds) {
    const auto started = std::chrono::steady_clock::now();
    const matching::FileDecision d = decide_file(context, request, argv, r);
    const bool allowed = d.verdict == matching::Verdict::kAllow;
    audit::RequestInfo info = info_of(request, r.request_id, context.policy);
    info.argv = argv;
    if (allowed && !d.rule->run_as.empty()) info.run_as = d.rule->run_as;
    add_file_fields(info, *r.file);
    const std::string rule_id = d.rule_id();
    if (allowed) {
        info.timeout_ms =
            static_cast<std::uint64_t>(timeout_of(context, request, d.rule->timeout).count());
    }
    const Status audited = context.audit.write(
        audit::decision_record(info, allowed ? "allow" : "deny",
                               rule_id.empty() ? request.target_rule : rule_id, d.reason));
    if (!audited) {
        r.kind = Kind::kUnaudited;
        r.exit_status = to_int(ExitCode::kUnavailable);
        r.message = "bridle: " + audited.error().full() + "\nbridle: nothing was done\n";
        return r;
    }
    if (!allowed) return r;

    // From here on the request is allowed, and its result is recorded whatever happens.
    r.kind = Kind::kRan;
    r.outcome.started = true;
    Upload upload;
    const bool switching = privilege::needs_switch(d.rule->run_as, d.rule->source).value();
    const bool uploading = d.request.verb == policy::FileVerb::kPut;
    if (!uploading || take_upload(context, request, d, upload, r)) {
        if (switching) {
            run_through_sudo(context, request, d, upload, sink, hangup_fds, r);
        } else {
            const FileOps ops{context, request, d, sink, hangup_fds, r.request_id};
            ops.run(upload.bytes, r);
        }
    }
    r.outcome.exit_status = r.exit_status;
    r.outcome.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (r.sudo) {
        info.sudo = privilege::kSudo;
        info.sudo_command = r.sudo->target_command;
    }
    if (uploading) {
        info.fields.emplace_back("BRIDLE_UPLOAD_BYTES", std::to_string(upload.bytes.size()));
        info.fields.emplace_back("BRIDLE_UPLOAD_COMPLETE", upload.complete ? "1" : "0");
    }
    add_result_fields(info, *r.file, r.sudo.has_value());
    if (r.outcome.error.empty() && r.exit_status != 0 && !r.sudo) {
        const std::size_t start = r.message.rfind("bridle: ", 0) == 0 ? 8 : 0;
        r.outcome.error = r.message.substr(start, r.message.find('\n') - start);
    }
    write_result(context.audit, audit::result_record(info, rule_id, r.outcome, r.exit_status), r);
    return r;
}

}  // namespace bridle::gate::detail
