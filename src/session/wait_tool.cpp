// SPDX-License-Identifier: Apache-2.0
// The wait_for_approval tool (wait_tool.hpp): schema, arguments, result, progress text.
#include "session/wait_tool.hpp"

#include <cmath>

#include "common/text.hpp"

namespace bridle::session::tools {
namespace {

using jsonrpc::Json;

Json approval_schema() {
    return Json{{"type", "object"},
                {"description",
                 "the request's approval: id, code, state, expires (Unix time), approvers, "
                 "required, approvals so far"},
                {"properties",
                 {{"id", {{"type", "string"}}},
                  {"code", {{"type", "string"}}},
                  {"state", {{"type", "string"}}},
                  {"expires", {{"type", "integer"}}},
                  {"approvers", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                  {"required", {{"type", "integer"}}},
                  {"approvals", {{"type", "integer"}}}}}};
}

}  // namespace

Json approval_json(const gate::ApprovalInfo& a) {
    return Json{{"id", a.id},
                {"code", a.code},
                {"state", a.state},
                {"expires", a.expires},
                {"approvers", a.approvers},
                {"required", a.required},
                {"approvals", a.approvals}};
}

Json wait_definition() {
    const double max_seconds = static_cast<double>(kMaxWait.count());
    return Json{
        {"name", kWaitForApproval},
        {"title", "Wait for a person's approval"},
        {"description",
         "Wait until a request that run_command answered with status approval_required is "
         "approved, rejected or expired, or until timeout_seconds pass (default " +
             std::to_string(kDefaultWait.count()) + ", at most " +
             std::to_string(kMaxWait.count()) +
             "). Only a person answering on the host approves (an approver's key, signature or "
             "root); this tool approves nothing and nothing you send counts as approval. Sends "
             "progress notifications while it waits when the call has a progressToken. When the "
             "result is approved, call run_command again with exactly the same request: it runs "
             "once. Only your own key's requests."},
        {"inputSchema",
         {{"type", "object"},
          {"properties",
           {{"id",
             {{"type", "string"},
              {"pattern", "^[0-9a-f]{32}$"},
              {"description", "approval.id of the approval_required result"}}},
            {"timeout_seconds",
             {{"type", "number"},
              {"exclusiveMinimum", 0},
              {"maximum", max_seconds},
              {"description", "How long to wait at most; the result is then status pending."}}}}},
          {"required", {"id"}},
          {"additionalProperties", false}}},
        {"outputSchema",
         {{"type", "object"},
          {"properties",
           {{"status",
             {{"type", "string"},
              {"enum",
               {"approved", "rejected", "expired", "void", "consumed", "pending", "error"}}}},
            {"approval", approval_schema()},
            {"next", {{"type", "string"}, {"description", "what to do now"}}},
            {"waited_ms", {{"type", "integer"}}},
            {"message", {{"type", "string"}}}}},
          {"required", {"status", "message"}}}},
        {"annotations",
         {{"title", "Wait for a person's approval"},
          {"readOnlyHint", true},
          {"destructiveHint", false},
          {"idempotentHint", true},
          {"openWorldHint", false}}}};
}

Result<WaitArgs> parse_wait_args(const Json& arguments) {
    if (!arguments.is_object()) {
        return Error{"wait_for_approval needs its arguments: {\"id\": APPROVAL_ID}", ""};
    }
    WaitArgs args;
    bool has_id = false;
    for (const auto& [name, value] : arguments.items()) {
        if (name == "id") {
            if (!value.is_string()) return Error{"`id` must be a string", ""};
            args.id = value.get<std::string>();
            has_id = true;
        } else if (name == "timeout_seconds") {
            if (!value.is_number()) return Error{"`timeout_seconds` must be a number", ""};
            const double seconds = value.get<double>();
            const double max_seconds = static_cast<double>(kMaxWait.count());
            if (!std::isfinite(seconds) || seconds <= 0 || seconds > max_seconds) {
                return Error{"`timeout_seconds` must be more than 0 and at most " +
                                 std::to_string(kMaxWait.count()),
                             ""};
            }
            args.timeout = std::chrono::milliseconds(
                std::max<std::int64_t>(1, static_cast<std::int64_t>(seconds * 1000.0 + 0.5)));
        } else {
            return Error{"unknown argument " + quote_text(name, 64) +
                             " (expected id, and optionally timeout_seconds)",
                         ""};
        }
    }
    if (!has_id)
        return Error{"`id` is missing: the approval.id of an approval_required result", ""};
    return args;
}

Json wait_result(const gate::ApprovalInfo& info, const std::string& advice,
                 std::int64_t waited_ms) {
    const std::string text = "bridle: approval " + info.id + " (" + info.code + "): " + advice +
                             "\nbridle: waited " + std::to_string(waited_ms / 1000) + " s\n";
    return Json{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                {"structuredContent",
                 {{"status", info.state},
                  {"approval", approval_json(info)},
                  {"next", advice},
                  {"waited_ms", waited_ms},
                  {"message", text}}},
                {"isError", false}};
}

Json wait_error(const std::string& message) {
    const std::string text = "bridle: " + message + "\n";
    return Json{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                {"structuredContent", {{"status", "error"}, {"message", text}}},
                {"isError", true}};
}

std::string wait_progress_message(const gate::ApprovalInfo& info, std::int64_t seconds) {
    return "waiting for approval " + info.code + " for " + std::to_string(seconds) +
           " s: " + info.state + ", " + std::to_string(info.approvals) + " of " +
           std::to_string(info.required) + " approvals";
}

}  // namespace bridle::session::tools
