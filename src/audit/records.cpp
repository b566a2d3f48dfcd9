// SPDX-License-Identifier: Apache-2.0
// Audit record builders. Every untrusted byte is escaped before it reaches a field.
#include "audit/records.hpp"

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace bridle::audit {
namespace {

// A JSON array of strings or of arrays of strings, escaped to a field's size.
template <class Words>
std::string json_field(const Words& words) {
    // JSON escapes control characters; invalid UTF-8 (possible only for argv sent directly,
    // never after the tokenizer) is replaced rather than thrown on.
    const std::string json =
        nlohmann::json(words).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return json.size() <= kMaxRecordedCommand * 2 ? json
                                                  : escape_text(json, kMaxRecordedCommand * 2);
}

// One value per stage, joined by `separator`.
template <class Items, class Text>
std::string joined(const Items& items, Text text, const char* separator = "|") {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + text(item);
    return out;
}

void add_common(Record& r, const RequestInfo& info, const char* event) {
    r.add("BRIDLE_EVENT", event);
    r.add("BRIDLE_REQUEST_ID", info.request_id);
    if (!info.session_id.empty()) r.add("BRIDLE_SESSION_ID", info.session_id);
    if (!info.fanout_id.empty()) r.add("BRIDLE_FANOUT_ID", info.fanout_id);
    r.add("BRIDLE_FRONT_END", info.front_end);
    if (!info.task_id.empty()) r.add("BRIDLE_TASK_ID", info.task_id);
    r.add("BRIDLE_KEY", escape_text(info.key, 128));
    r.add("BRIDLE_CLIENT", escape_text(info.client, 128));
    r.add("BRIDLE_COMMAND", escape_text(info.raw, kMaxRecordedCommand));
    r.add("BRIDLE_COMMAND_BYTES", std::to_string(info.raw.size()));
    if (!info.stage_argv.empty()) {
        r.add("BRIDLE_STAGES", std::to_string(info.stage_argv.size()));
        r.add("BRIDLE_ARGV", json_field(info.stage_argv));
    } else if (!info.argv.empty()) {
        r.add("BRIDLE_ARGV", json_field(info.argv));
    }
    r.add("BRIDLE_POLICY_SHA256", info.policy_sha256);
    if (!info.policy_cache.empty()) {
        r.add("BRIDLE_POLICY_CACHE", escape_text(info.policy_cache, 200));
    }
    if (!info.run_as.empty()) r.add("BRIDLE_RUN_AS", info.run_as);
    if (!info.sudo.empty()) r.add("BRIDLE_SUDO", info.sudo);
    if (!info.sudo_command.empty()) {
        r.add("BRIDLE_SUDO_COMMAND",
              nlohmann::json(info.sudo_command)
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (!info.sudo_user.empty()) r.add("BRIDLE_SUDO_USER", escape_text(info.sudo_user, 64));
    if (!info.first_policy_sha256.empty()) {
        r.add("BRIDLE_FIRST_POLICY_SHA256", escape_text(info.first_policy_sha256, 80));
    }
    if (!info.parent_request_id.empty()) {
        r.add("BRIDLE_PARENT_REQUEST_ID", escape_text(info.parent_request_id, 64));
    }
    for (const auto& [name, value] : info.fields) r.add(name, value);
    if (!info.stage_sandboxes.empty()) {
        const auto& all = info.stage_sandboxes;
        r.add("BRIDLE_SANDBOX", joined(all, [](const SandboxInfo& s) { return s.name; }));
        r.add("BRIDLE_SECCOMP", joined(all, [](const SandboxInfo& s) { return s.seccomp; }));
        r.add("BRIDLE_EXEC_ONCE", joined(all, [](const SandboxInfo& s) {
                  return std::string(s.exec_once ? "1" : "0");
              }));
        r.add("BRIDLE_LANDLOCK", joined(all, [](const SandboxInfo& s) { return s.landlock; }));
    } else if (info.sandbox) {
        r.add("BRIDLE_SANDBOX", info.sandbox->name);
        r.add("BRIDLE_SECCOMP", info.sandbox->seccomp);
        r.add("BRIDLE_EXEC_ONCE", info.sandbox->exec_once ? "1" : "0");
        r.add("BRIDLE_LANDLOCK", info.sandbox->landlock);
    }
}

std::string who(const RequestInfo& info) {
    return "key=" + (info.key.empty() ? std::string("-") : escape_text(info.key, 64));
}

}  // namespace

Record decision_record(const RequestInfo& info, const std::string& decision,
                       const std::string& rule_id, const std::string& reason,
                       const std::string& executable) {
    Record r;
    r.message_id = kDecisionMessageId;
    r.priority = decision == "allow" ? 6 : 5;
    r.message = "bridle " + decision + " " + who(info) +
                (rule_id.empty() ? "" : " rule=" + rule_id) + ": " + quote_text(info.raw, 200) +
                (reason.empty() ? "" : " (" + reason + ")");
    add_common(r, info, "decision");
    r.add("BRIDLE_DECISION", decision);
    if (!rule_id.empty()) r.add("BRIDLE_RULE", rule_id);
    if (!executable.empty()) r.add("BRIDLE_EXECUTABLE", executable);
    if (info.timeout_ms != 0) r.add("BRIDLE_TIMEOUT_MS", std::to_string(info.timeout_ms));
    if (!info.stage_exec_argv.empty()) {
        r.add("BRIDLE_EXEC_ARGV", json_field(info.stage_exec_argv));
    } else if (!info.exec_argv.empty()) {
        r.add("BRIDLE_EXEC_ARGV", json_field(info.exec_argv));
    }
    if (info.denied_stage != 0) r.add("BRIDLE_DENIED_STAGE", std::to_string(info.denied_stage));
    if (!info.fd_paths.empty()) {
        nlohmann::json map = nlohmann::json::object();
        for (const auto& [fd_path, canonical] : info.fd_paths) map[fd_path] = canonical;
        r.add("BRIDLE_FD_PATHS",
              map.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (!reason.empty()) r.add("BRIDLE_REASON", reason);
    return r;
}

Record result_record(const RequestInfo& info, const std::string& rule_id,
                     const execution::Outcome& outcome, int exit_status,
                     const OutputCapture* capture, std::optional<std::uint64_t> redacted) {
    Record r;
    r.message_id = kResultMessageId;
    r.priority = (outcome.started && exit_status == 0) ? 6 : 5;
    std::string how = !outcome.started         ? "failed to start"
                      : outcome.timed_out      ? "timed out"
                      : outcome.idle_timed_out ? "killed after no output for its idle_timeout"
                      : outcome.disconnected   ? "ended by disconnect"
                      : outcome.signal != 0 ? "killed by signal " + std::to_string(outcome.signal)
                                            : "exited " + std::to_string(outcome.exit_status);
    r.message = "bridle result " + who(info) + " rule=" + rule_id + ": " + how + " after " +
                std::to_string(outcome.duration.count()) + " ms: " + quote_text(info.raw, 200);
    add_common(r, info, "result");
    r.add("BRIDLE_DECISION", "allow");
    r.add("BRIDLE_RULE", rule_id);
    r.add("BRIDLE_STARTED", outcome.started ? "1" : "0");
    r.add("BRIDLE_EXIT_STATUS", std::to_string(exit_status));
    r.add("BRIDLE_SIGNAL", std::to_string(outcome.signal));
    r.add("BRIDLE_DURATION_MS", std::to_string(outcome.duration.count()));
    r.add("BRIDLE_STDOUT_BYTES", std::to_string(outcome.stdout_bytes));
    r.add("BRIDLE_STDERR_BYTES", std::to_string(outcome.stderr_bytes));
    r.add("BRIDLE_TRUNCATED", (outcome.stdout_truncated || outcome.stderr_truncated) ? "1" : "0");
    r.add("BRIDLE_TIMED_OUT", outcome.timed_out ? "1" : "0");
    r.add("BRIDLE_IDLE_TIMED_OUT", outcome.idle_timed_out ? "1" : "0");
    r.add("BRIDLE_DISCONNECTED", outcome.disconnected ? "1" : "0");
    if (!info.pipestatus.empty()) {
        const auto number = [](auto n) { return std::to_string(n); };
        r.add("BRIDLE_PIPESTATUS", joined(info.pipestatus, number, " "));
        r.add("BRIDLE_STAGE_EXEC_BLOCKED", joined(info.stage_exec_blocked, number, " "));
        std::string containment;
        for (std::size_t i = 0; i < info.stage_containment.size(); ++i) {
            const std::string landlock =
                i < info.stage_sandboxes.size() ? info.stage_sandboxes[i].landlock : "none";
            containment += (i == 0 ? "" : " | ") + ("landlock=" + landlock + " ") +
                           info.stage_containment[i] + " dumpable=no";
        }
        r.add("BRIDLE_CONTAINMENT", containment);
    }
    if (info.sandbox || !info.pipestatus.empty()) {
        r.add("BRIDLE_EXEC_BLOCKED", std::to_string(outcome.exec_blocked));
    }
    if (outcome.exec_logged) {
        // Entries are escaped and bounded already (sandbox/exec_log.hpp): the array is whole.
        r.add("BRIDLE_EXECS", nlohmann::json(outcome.execs)
                                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        r.add("BRIDLE_EXECS_DROPPED", std::to_string(outcome.execs_dropped));
    }
    if (info.sandbox && !outcome.containment.empty()) {
        // Every containment mechanism that applied, so that a reviewer can tell a contained run
        // from a degraded one (docs/sandbox.md). Every bridle process is non-dumpable (main).
        r.add("BRIDLE_CONTAINMENT",
              "landlock=" + info.sandbox->landlock + " " + outcome.containment + " dumpable=no");
    }
    if (!outcome.error.empty()) r.add("BRIDLE_ERROR", escape_text(outcome.error, 512));
    if (redacted) r.add("BRIDLE_REDACTED", std::to_string(*redacted));
    if (capture != nullptr) {
        // The heads are untrusted bytes: escaped like the command (no control character, no
        // newline, valid UTF-8), never cut further than the rule's limit already did.
        r.add("BRIDLE_CAPTURE_BYTES", std::to_string(capture->limit()));
        r.add("BRIDLE_STDOUT", escape_text(capture->out().head, capture->out().head.size() + 1));
        r.add("BRIDLE_STDERR", escape_text(capture->err().head, capture->err().head.size() + 1));
        r.add("BRIDLE_STDOUT_SHA256", capture->out().sha256);
        r.add("BRIDLE_STDERR_SHA256", capture->err().sha256);
    }
    return r;
}

Record approval_record(const RequestInfo& info, const std::string& step, const std::string& rule_id,
                       const std::string& summary) {
    static const std::pair<const char*, const char*> kIds[] = {
        {"requested", kApprovalRequestedMessageId}, {"approved", kApprovalApprovedMessageId},
        {"rejected", kApprovalRejectedMessageId},   {"consumed", kApprovalConsumedMessageId},
        {"expired", kApprovalExpiredMessageId},     {"void", kApprovalVoidMessageId},
        {"refused", kApprovalRefusedMessageId},     {"notified", kApprovalNotifiedMessageId},
        {"wait", kApprovalWaitMessageId},           {"waited", kApprovalWaitedMessageId}};
    Record r;
    r.message_id = kApprovalVoidMessageId;
    for (const auto& [name, id] : kIds) {
        if (step == name) r.message_id = id;
    }
    r.priority = step == "requested" || step == "approved" || step == "refused" ? 5 : 6;
    r.message = "bridle approval " + step + " " + who(info) +
                (rule_id.empty() ? "" : " rule=" + rule_id) + ": " + quote_text(info.raw, 200) +
                (summary.empty() ? "" : " (" + summary + ")");
    const std::string event = "approval-" + step;
    add_common(r, info, event.c_str());
    if (!rule_id.empty()) r.add("BRIDLE_RULE", rule_id);
    return r;
}

}  // namespace bridle::audit
