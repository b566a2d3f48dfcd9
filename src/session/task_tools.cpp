// SPDX-License-Identifier: Apache-2.0
// The MCP task tools (task_tools.hpp): arguments to `task` words, a report to a tool result.
#include "session/task_tools.hpp"

#include <regex>

#include "common/text.hpp"

namespace bridle::session::tools {
namespace {

using jsonrpc::Json;

Json task_id_property() {
    return Json{{"type", "string"},
                {"pattern", "^[0-9a-f]{16}$"},
                {"description", "the id run_command with background: true returned"}};
}

Json task_output_schema() {
    return Json{{"type", "object"},
                {"properties",
                 {{"status", {{"type", "string"}, {"enum", {"ok", "denied", "error"}}}},
                  {"task_id", {{"type", "string"}}},
                  {"state",
                   {{"type", "string"},
                    {"description",
                     "running, exited, timed-out, idle-timeout, cancelled, failed or lost"}}},
                  {"exit_status", {{"type", "integer"}}},
                  {"output", {{"type", "string"}}},
                  {"next_offset", {{"type", "integer"}}},
                  {"message", {{"type", "string"}}},
                  {"request_id", {{"type", "string"}}}}},
                {"required", {"status", "message"}}};
}

Json tool(const char* name, const char* title, const char* description, Json properties,
          bool read_only) {
    Json required = Json::array({"task_id"});
    return Json{{"name", name},
                {"title", title},
                {"description", description},
                {"inputSchema",
                 {{"type", "object"},
                  {"properties", std::move(properties)},
                  {"required", required},
                  {"additionalProperties", false}}},
                {"outputSchema", task_output_schema()},
                {"annotations",
                 {{"title", title},
                  {"readOnlyHint", read_only},
                  {"destructiveHint", !read_only},
                  {"idempotentHint", read_only},
                  {"openWorldHint", false}}}};
}

// "name: value" lines of `task status` into fields.
void add_status_fields(const std::string& text, Json& s) {
    static const std::regex kLine("^([a-z_]+): (.*)$");
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::smatch m;
        const std::string line = text.substr(start, end - start);
        if (std::regex_match(line, m, kLine)) {
            if (m[1] == "state") s["state"] = m[2].str();
            if (m[1] == "id") s["task_id"] = m[2].str();
            if (m[1] == "exit_status") s["exit_status"] = std::stoi(m[2].str());
        }
        start = end + 1;
    }
}

}  // namespace

bool is_task_tool(const std::string& name) {
    return name == kGetTask || name == kGetTaskOutput || name == kCancelTask;
}

std::vector<Json> task_definitions() {
    return {
        tool(kGetTask, "Get a background task's status",
             "The state of a command started with run_command background: true (running, "
             "exited, timed-out, idle-timeout, cancelled, failed, lost) and, once it ended, "
             "its exit status. Runs nothing.",
             Json{{"task_id", task_id_property()}}, true),
        tool(kGetTaskOutput, "Read a background task's output",
             "The output of a task from byte `offset` on (default 0), and next_offset, the "
             "offset to ask for next time. Runs nothing.",
             Json{{"task_id", task_id_property()},
                  {"offset", {{"type", "integer"}, {"minimum", 0}}}},
             true),
        tool(kCancelTask, "Cancel a background task",
             "End a running task: the command and everything it started are killed.",
             Json{{"task_id", task_id_property()}}, false),
    };
}

Result<std::vector<std::string>> task_argv(const std::string& name, const Json& arguments) {
    if (!arguments.is_object()) return Error{"the arguments must be an object with task_id", ""};
    std::string id;
    std::optional<std::uint64_t> offset;
    for (const auto& [key, value] : arguments.items()) {
        if (key == "task_id" && value.is_string()) {
            id = value.get<std::string>();
        } else if (key == "offset" && name == kGetTaskOutput && value.is_number_integer() &&
                   value.get<std::int64_t>() >= 0) {
            offset = static_cast<std::uint64_t>(value.get<std::int64_t>());
        } else {
            return Error{"unknown or malformed argument " + quote_text(key, 64) +
                             (name == kGetTaskOutput ? " (expected task_id and optionally offset)"
                                                     : " (expected task_id)"),
                         ""};
        }
    }
    if (id.empty()) return Error{"`task_id` is required (a string)", ""};
    if (name == kGetTask) return std::vector<std::string>{"task", "status", id};
    if (name == kCancelTask) return std::vector<std::string>{"task", "cancel", id};
    std::vector<std::string> argv{"task", "output", id};
    if (offset) argv.insert(argv.end(), {"--offset", std::to_string(*offset)});
    return argv;
}

Json task_result(const CallReport& c) {
    const std::string status = !c.allowed ? "denied" : c.kind == gate::Kind::kHelp ? "ok" : "error";
    Json s{{"status", status}, {"request_id", c.request_id}};
    std::string text = c.message;
    if (status == "ok") {
        add_status_fields(c.message, s);
        // `task start` answers with the id alone; `task output` with the output on stdout and
        // its note ("...: STATE; next offset N") on stderr.
        static const std::regex kId("^([0-9a-f]{16})\n$");
        static const std::regex kNote(
            "^bridle: task ([0-9a-f]{16}): ([a-z-]+); next offset ([0-9]+)\n$");
        std::smatch m;
        if (std::regex_match(c.message, m, kId)) {
            s["task_id"] = m[1].str();
            s["state"] = "running";
            text = "started task " + m[1].str() +
                   "; read its output with get_task_output, its state with get_task\n";
        }
        if (std::regex_match(c.stderr_text, m, kNote)) {
            s["task_id"] = m[1].str();
            s["state"] = m[2].str();
            s["next_offset"] = std::stoull(m[3].str());
            s["output"] = c.stdout_text;
            text = c.stdout_text +
                   (c.stdout_text.empty() || c.stdout_text.back() == '\n' ? "" : "\n") +
                   c.stderr_text;
        }
    }
    s["message"] = text;
    return Json{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                {"structuredContent", s},
                {"isError", status != "ok"}};
}

}  // namespace bridle::session::tools
