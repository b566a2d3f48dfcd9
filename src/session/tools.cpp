// SPDX-License-Identifier: Apache-2.0
// The MCP tools of a session: schemas, argument checks, and results built from the gate's
// decisions. A denial is a tool error with the reason, the nearest usage and a pointer to
// list_allowed_commands; a command that exits non-zero is not a tool error.
#include "session/tools.hpp"

#include "session/file_tools.hpp"
#include "session/task_tools.hpp"
#include "session/wait_tool.hpp"

#include <cmath>

#include "audit/records.hpp"
#include "command/tokenizer.hpp"
#include "common/text.hpp"

namespace bridle::session::tools {
namespace {

constexpr std::size_t kMaxArgvWords = 4096;
constexpr double kMaxTimeoutSeconds = 24.0 * 3600.0;
constexpr const char* kPointer =
    "bridle: call list_allowed_commands to see what you may run, or check_command to test a "
    "command without running it\n";

Json string_array() {
    return Json{{"type", "array"}, {"items", {{"type", "string"}}}};
}

Json command_input_schema(bool with_timeout) {
    Json properties = {
        {"argv",
         {{"type", "array"},
          {"items", {{"type", "string"}}},
          {"minItems", 1},
          {"maxItems", kMaxArgvWords},
          {"description",
           "The program and its arguments as separate words, e.g. [\"journalctl\", \"-u\", "
           "\"nginx\", \"-n\", \"50\", \"--no-pager\"]. Preferred: no quoting needed."}}},
        {"command",
         {{"type", "string"},
          {"description",
           "Alternatively, one command line, split by bridle's POSIX-style tokenizer (quotes "
           "work, nothing is expanded; `a | b` is a pipeline; redirections, ; && || $() are "
           "refused)."}}},
        {"pipeline",
         {{"type", "array"},
          {"items", string_array()},
          {"minItems", 2},
          {"maxItems", command::kMaxStages},
          {"description",
           "Alternatively, a pipeline: each stage's argv, e.g. [[\"journalctl\", \"-u\", "
           "\"nginx\", \"-n\", \"500\"], [\"grep\", \"-i\", \"error\"], [\"tail\", \"-n\", "
           "\"20\"]]. bridle wires the pipes itself (no shell); each stage must be allowed in "
           "its place (list_allowed_commands shows `pipeline`)."}}},
    };
    if (with_timeout) {
        properties["timeout_seconds"] = {
            {"type", "number"},
            {"exclusiveMinimum", 0},
            {"description",
             "Kill the command after this many seconds; capped at its rule's timeout."}};
        properties["background"] = {
            {"type", "boolean"},
            {"description",
             "Run it as a task that outlives this call and the connection (its rule must allow "
             "tasks): the result is a task_id at once; then get_task, get_task_output, "
             "cancel_task. Not with `pipeline`."}};
    }
    return Json{{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
}

Json run_output_schema() {
    return Json{
        {"type", "object"},
        {"properties",
         {{"status",
           {{"type", "string"},
            {"enum",
             {"ok", "exit_nonzero", "denied", "timeout", "cancelled", "error",
              "approval_required"}}}},
          {"exit_code",
           {{"type", "integer"}, {"description", "the command's exit status, when it exited"}}},
          {"signal",
           {{"type", "integer"}, {"description", "the signal that killed it, when one did"}}},
          {"stdout", {{"type", "string"}}},
          {"stderr", {{"type", "string"}}},
          {"stdout_bytes",
           {{"type", "integer"}, {"description", "produced, including what was dropped"}}},
          {"stderr_bytes", {{"type", "integer"}}},
          {"truncated", {{"type", "boolean"}}},
          {"duration_ms", {{"type", "integer"}}},
          {"timeout_ms", {{"type", "integer"}}},
          {"rule",
           {{"type", "string"},
            {"description", "the policy rule that allowed the command (a pipeline's: a|b|c)"}}},
          {"pipestatus",
           {{"type", "array"},
            {"items", {{"type", "integer"}}},
            {"description",
             "a pipeline's: each stage's status (128+N: killed by signal N; 141 is SIGPIPE, a "
             "normal end for a writer whose reader had enough)"}}},
          {"reason", {{"type", "string"}, {"description", "why it was denied"}}},
          {"approval",
           {{"type", "object"},
            {"description",
             "approval_required: the request waits for a person (id, code, state, expires as "
             "Unix time, approvers, required, approvals so far); once approved, call again "
             "with exactly the same command, which then runs once"}}},
          {"usage", string_array()},
          {"message", {{"type", "string"}, {"description", "bridle's own words"}}},
          {"request_id",
           {{"type", "string"}, {"description", "BRIDLE_REQUEST_ID in the host's journal"}}},
          {"bridle_status",
           {{"type", "integer"},
            {"description", "the status the forced command would exit with"}}}}},
        {"required", {"status", "message"}}};
}

Json annotations(const char* title, bool read_only, bool destructive, bool idempotent,
                 bool open_world) {
    return Json{{"title", title},
                {"readOnlyHint", read_only},
                {"destructiveHint", destructive},
                {"idempotentHint", idempotent},
                {"openWorldHint", open_world}};
}

Json text_block(const std::string& text) {
    return Json::array({Json{{"type", "text"}, {"text", text}}});
}

std::string seconds_text(std::chrono::milliseconds ms) {
    const auto whole = ms.count() / 1000, rest = ms.count() % 1000;
    if (rest == 0) return std::to_string(whole) + " s";
    std::string frac = std::to_string(1000 + rest).substr(1);
    while (frac.back() == '0') frac.pop_back();
    return std::to_string(whole) + "." + frac + " s";
}

std::string with_newline(std::string text) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text;
}

}  // namespace

Json definitions() {
    Json run = {
        {"name", kRunCommand},
        {"title", "Run a command on the host"},
        {"description",
         "Run one command on this host, if the host's bridle policy allows it for your key. "
         "No shell: one program with its arguments. The command runs in a sandbox with a fixed "
         "environment and the rule's timeout and output cap, and is audited on the host. A "
         "denial says why and shows the nearest allowed usage; a non-zero exit status is a "
         "normal result (status exit_nonzero). A rule may need a person's approval on the host: "
         "the result is then status approval_required with the approval's id and code (not "
         "an error; nothing ran); tell your user, and once approved call again with the same "
         "command. See list_allowed_commands first."},
        {"inputSchema", command_input_schema(true)},
        {"outputSchema", run_output_schema()},
        // What a command does depends on the policy (a rule may restart a service): do not
        // claim read-only or idempotent. It acts on a real host, beyond the client's world.
        {"annotations", annotations("Run a command on the host", false, true, false, true)}};
    Json list = {
        {"name", kListAllowed},
        {"title", "List the commands you may run"},
        {"description",
         "The commands this key may run on the host: each rule's usage synopsis, summary, "
         "timeout and output cap. Runs nothing."},
        {"inputSchema",
         {{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}}},
        {"outputSchema",
         {{"type", "object"},
          {"properties",
           {{"rules",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"id", {{"type", "string"}}},
                  {"synopsis", {{"type", "string"}}},
                  {"summary", {{"type", "string"}}},
                  {"timeout_ms", {{"type", "integer"}}},
                  {"max_output_bytes", {{"type", "integer"}}},
                  {"sandbox", {{"type", "string"}}},
                  {"stdin", {{"type", "boolean"}}},
                  {"approval",
                   {{"type", "boolean"},
                    {"description",
                     "a person must approve each request on the host (wait_for_approval)"}}}}},
                {"required", {"id", "synopsis"}}}}}}}},
          {"required", {"rules"}}}},
        {"annotations", annotations("List the commands you may run", true, false, true, false)}};
    Json check = {
        {"name", kCheckCommand},
        {"title", "Check a command against the policy"},
        {"description",
         "Decide a command exactly as run_command would (tokenize, match the policy, resolve "
         "paths) and say whether it would be allowed and why. Runs nothing."},
        {"inputSchema", command_input_schema(false)},
        {"outputSchema",
         {{"type", "object"},
          {"properties",
           {{"decision", {{"type", "string"}, {"enum", {"allow", "deny"}}}},
            {"rule", {{"type", "string"}}},
            {"reason", {{"type", "string"}}},
            {"usage", string_array()},
            {"exec_argv", string_array()},
            {"message", {{"type", "string"}}}}},
          {"required", {"decision", "message"}}}},
        {"annotations",
         annotations("Check a command against the policy", true, false, true, false)}};
    Json all = Json::array({run, list, check, read_file_definition(), write_file_definition()});
    for (Json& task : task_definitions()) all.push_back(std::move(task));
    all.push_back(wait_definition());
    return Json{{"tools", all}};
}

void keep_tail(std::string& tail, std::string_view bytes) {
    if (bytes.size() >= kProgressTailBytes) {
        tail.assign(bytes.substr(bytes.size() - kProgressTailBytes));
        return;
    }
    tail.append(bytes);
    if (tail.size() > kProgressTailBytes) tail.erase(0, tail.size() - kProgressTailBytes);
}

std::string progress_message(const std::string& label, std::int64_t seconds,
                             std::string_view tail) {
    std::string message = "running " + label + " for " + std::to_string(seconds) + " s";
    // A full tail was most likely cut: start it at a line where it holds one, since a cut
    // line (or a cut UTF-8 sequence) at the front says less than the whole lines after it.
    const bool cut = tail.size() >= kProgressTailBytes;
    if (!tail.empty() && tail.back() == '\n') tail.remove_suffix(1);
    if (const std::size_t newline = tail.find('\n'); cut && newline != std::string_view::npos)
        tail.remove_prefix(newline + 1);
    if (!tail.empty())
        message += "; output so far ends: " + escape_text(tail, kProgressTailBytes, Quotes::kAsIs);
    return message;
}

Result<CommandArgs> parse_command_args(const Json& arguments, bool with_timeout) {
    if (!arguments.is_null() && !arguments.is_object())
        return Error{"the arguments must be an object", ""};
    CommandArgs args;
    int given = 0;  // of argv, command and pipeline: exactly one
    if (arguments.is_object()) {
        for (const auto& [name, value] : arguments.items()) {
            if (name == "argv") {
                if (!value.is_array()) return Error{"`argv` must be an array of strings", ""};
                if (value.empty())
                    return Error{"`argv` is empty: give the program and its arguments", ""};
                if (value.size() > kMaxArgvWords)
                    return Error{"`argv` has more than 4096 words", ""};
                std::vector<std::string> words;
                for (const auto& word : value) {
                    if (!word.is_string()) return Error{"`argv` must contain only strings", ""};
                    words.push_back(word.get<std::string>());
                }
                args.argv = std::move(words);
                ++given;
            } else if (name == "command") {
                if (!value.is_string()) return Error{"`command` must be a string", ""};
                args.text = value.get<std::string>();
                ++given;
            } else if (name == "pipeline") {
                constexpr const char* kShape =
                    "`pipeline` must be an array of 2 to 8 stages, each an array of strings";
                if (!value.is_array() || value.size() < 2 || value.size() > command::kMaxStages)
                    return Error{kShape, ""};
                std::vector<std::vector<std::string>> stages;
                std::size_t words = 0;
                for (const auto& stage : value) {
                    if (!stage.is_array() || stage.empty()) return Error{kShape, ""};
                    words += stage.size();
                    if (words > kMaxArgvWords)
                        return Error{"`pipeline` has more than 4096 words", ""};
                    std::vector<std::string>& into = stages.emplace_back();
                    for (const auto& word : stage) {
                        if (!word.is_string()) return Error{kShape, ""};
                        into.push_back(word.get<std::string>());
                    }
                }
                args.pipeline = std::move(stages);
                ++given;
            } else if (name == "background" && with_timeout) {
                if (!value.is_boolean()) return Error{"`background` must be true or false", ""};
                args.background = value.get<bool>();
            } else if (name == "timeout_seconds" && with_timeout) {
                if (!value.is_number()) return Error{"`timeout_seconds` must be a number", ""};
                const double seconds = value.get<double>();
                if (!std::isfinite(seconds) || seconds <= 0 || seconds > kMaxTimeoutSeconds) {
                    return Error{"`timeout_seconds` must be more than 0 and at most 86400", ""};
                }
                // Rounded to the nearest millisecond (seconds is positive and bounded), without
                // std::llround: the only libm function bridle used, and libm is a library to
                // load at every start (docs/benchmarks.md).
                args.timeout = std::chrono::milliseconds(
                    std::max<std::int64_t>(1, static_cast<std::int64_t>(seconds * 1000.0 + 0.5)));
            } else {
                return Error{
                    "unknown argument " + quote_text(name, 64) + " (expected " +
                        (with_timeout ? "argv, command or pipeline, and optionally timeout_seconds "
                                        "and background)"
                                      : "argv, command or pipeline)"),
                    ""};
            }
        }
    }
    if (given != 1) {
        return Error{
            "give exactly one of `argv` (an array of words), `command` (one command line) "
            "or `pipeline` (an array of argv)",
            ""};
    }
    return args;
}

Json error_result(const std::string& message, bool for_run_command) {
    const std::string text = "bridle: " + message + "\n" + kPointer;
    Json result{{"content", text_block(text)}, {"isError", true}};
    if (for_run_command) result["structuredContent"] = Json{{"status", "error"}, {"message", text}};
    return result;
}

Json run_result(const CallReport& c, bool cancelled) {
    std::string status;
    // `cancelled` (the session is ending) matters only for a command that started; a call
    // still being decided reports what the gate said.
    if (c.started && !c.timed_out && (cancelled || c.disconnected))
        status = "cancelled";
    else if (c.kind == gate::Kind::kPending)
        status = "approval_required";  // not an error: a person decides, then the same call runs
    else if (!c.allowed)
        status = "denied";
    else if (c.kind == gate::Kind::kHelp)
        status = "ok";
    else if (!c.started)
        status = "error";
    else if (c.timed_out)
        status = "timeout";
    else if (c.exit_code == 0)
        status = "ok";
    else
        status = "exit_nonzero";
    const bool is_error =
        status != "ok" && status != "exit_nonzero" && status != "approval_required";

    std::string message = c.message;
    // A refusal to retry later (a guardrail, the task cap: 75) is not about what may run.
    if (status == "denied" && c.exit_status != to_int(ExitCode::kTempFail)) message += kPointer;
    if (status == "cancelled")
        message +=
            "bridle: the session ended or the call was cancelled: the command and everything it started were killed\n";

    Json s{{"status", status},
           {"message", message},
           {"request_id", c.request_id},
           {"bridle_status", c.exit_status}};
    if (c.started) {
        if (c.exit_code >= 0) s["exit_code"] = c.exit_code;
        if (c.signal != 0) s["signal"] = c.signal;
        s["stdout"] = c.stdout_text;
        s["stderr"] = c.stderr_text;
        s["stdout_bytes"] = c.stdout_bytes;
        s["stderr_bytes"] = c.stderr_bytes;
        s["truncated"] = c.truncated;
        s["duration_ms"] = c.duration_ms;
        s["timeout_ms"] = c.timeout_ms;
    }
    if (!c.rule.empty()) s["rule"] = c.rule;
    if (!c.pipestatus.empty()) s["pipestatus"] = c.pipestatus;
    if (!c.reason.empty()) s["reason"] = c.reason;
    if (!c.usage.empty() && status == "denied") s["usage"] = c.usage;
    // approval_required: what the agent tells its user, and calls again with once approved.
    // (An in-band "accept" of the client's approves nothing: approvers answer on the host.)
    if (!c.approval.is_null()) s["approval"] = c.approval;

    // The text the model reads: output first, then what bridle has to say.
    std::string text;
    if (c.kind == gate::Kind::kHelp) {
        text = c.message;
    } else if (c.started) {
        text = c.stdout_text;
        if (!c.stderr_text.empty()) text = with_newline(text) + "[stderr]\n" + c.stderr_text;
        text = with_newline(text);
        if (c.exit_code >= 0)
            text += "[exit status " + std::to_string(c.exit_code) + "]\n";
        else if (c.signal != 0)
            text += "[killed by signal " + std::to_string(c.signal) + "]\n";
        if (c.truncated) {
            text += "[output truncated: " + std::to_string(c.stdout_bytes) + " bytes on stdout, " +
                    std::to_string(c.stderr_bytes) + " on stderr; at most " +
                    format_bytes(kMaxToolOutputBytes) + " of each are returned]\n";
        }
        text += message;
    } else {
        text = message;
    }
    return Json{{"content", text_block(text)}, {"structuredContent", s}, {"isError", is_error}};
}

Json not_started_result(const std::string& message) {
    const std::string text = "bridle: " + message + "\n";
    return Json{{"content", text_block(text)},
                {"structuredContent", {{"status", "cancelled"}, {"message", text}}},
                {"isError", true}};
}

Json list_allowed(const policy::Policy& policy, const std::string& key) {
    Json rules = Json::array();
    bool any_approval = false;
    std::string text = "Commands this key may run (one per call, no shell syntax):\n";
    for (const auto& rule : policy.rules) {
        if (!rule.allows_key(key)) continue;
        const auto timeout = rule.timeout.value_or(policy.settings.timeout);
        const auto max_output = rule.max_output.value_or(policy.settings.max_output);
        const policy::SandboxProfile* profile = policy.sandbox_for(rule);
        Json r{{"id", rule.id},
               {"synopsis", rule.synopsis()},
               {"summary", rule.summary},
               {"timeout_ms", timeout.count()},
               {"max_output_bytes", max_output},
               {"stdin", rule.stdin_allowed},
               {"sandbox", profile ? profile->name : std::string()}};
        r["pipeline"] = rule.pipeline.names();
        r["approval"] = rule.approval.has_value();
        any_approval = any_approval || rule.approval.has_value();
        rules.push_back(std::move(r));
        text += "  " + rule.synopsis() + "\n";
        if (!rule.summary.empty()) text += "      " + rule.summary + "\n";
        if (rule.pipeline.in_pipeline()) text += "      (places: " + rule.pipeline.text() + ")\n";
        text += "      (rule " + rule.id + "; timeout " + seconds_text(timeout) + "; output cap " +
                format_bytes(max_output) + (rule.approval ? "; needs approval" : "") + ")\n";
    }
    if (rules.empty()) text += "  (none: the policy grants this key nothing)\n";
    if (any_approval) {
        text +=
            "A rule that needs approval answers run_command with status approval_required and an "
            "approval id: a person approves on the host; wait_for_approval {\"id\": ID} waits "
            "for the answer, then the same run_command runs once.\n";
    }
    text +=
        "Run one with run_command, e.g. {\"argv\": [\"uptime\"]}; UPPERCASE words in a synopsis are values you choose.\n";
    return Json{{"content", text_block(text)},
                {"structuredContent", {{"rules", rules}}},
                {"isError", false}};
}

Json check_result(const gate::Response& r) {
    const bool allowed = r.decision.verdict == matching::Verdict::kAllow;
    Json s{{"decision", allowed ? "allow" : "deny"}};
    std::string text;
    if (allowed && !r.stages.empty()) {
        s["rule"] = gate::rule_ids(r);
        Json stages = Json::array();
        for (const gate::Response& stage : r.stages) stages.push_back(stage.decision.exec_argv);
        s["exec_argv"] = r.stages.back().decision.exec_argv;
        s["pipeline"] = stages;
        text = "allowed by rules " + s["rule"].get<std::string>() + "; run_command would run: " +
               stages.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    } else if (allowed) {
        s["rule"] = r.decision.rule ? r.decision.rule->id : std::string(audit::kHelpRuleId);
        s["exec_argv"] = r.decision.exec_argv;
        text = "allowed by rule " + s["rule"].get<std::string>() + "; run_command would run: " +
               Json(r.decision.exec_argv).dump(-1, ' ', false, Json::error_handler_t::replace) +
               "\n";
    } else {
        s["reason"] = r.decision.reason;
        if (!r.decision.nearest.empty()) s["usage"] = r.decision.nearest;
        text = r.message + kPointer;
    }
    s["message"] = text;
    return Json{{"content", text_block(text)}, {"structuredContent", s}, {"isError", false}};
}

}  // namespace bridle::session::tools
