// SPDX-License-Identifier: Apache-2.0
// The Tasks extension's shapes (task_extension.hpp). bridle's task states map onto SEP-2663's
// statuses: running is working; exited, timed-out and idle-timeout are completed (the tool
// result says how, with isError for a non-zero exit, as a foreground run_command would);
// cancelled is cancelled; failed and lost (the supervisor vanished) are failed.
#include "session/task_extension.hpp"

#include <ctime>
#include <regex>

#include "gate/task_spool.hpp"
#include "session/task_tools.hpp"

namespace bridle::session::task_extension {
namespace {

std::string iso8601(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::int64_t now_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// "name: value" lines of `task status`.
std::optional<std::string> field(const std::string& text, const std::string& name) {
    const std::regex line("(^|\n)" + name + ": ([^\n]*)");
    std::smatch m;
    if (!std::regex_search(text, m, line)) return std::nullopt;
    return m[2].str();
}

std::int64_t number(const std::optional<std::string>& text, std::int64_t otherwise) {
    if (!text) return otherwise;
    try {
        return std::stoll(*text);
    } catch (...) {  // bridle's own text; a broken one reads as unknown
        return otherwise;
    }
}

}  // namespace

bool declared(const Json& params) {
    if (!params.is_object()) return false;
    const auto meta = params.find("_meta");
    if (meta == params.end() || !meta->is_object()) return false;
    const auto caps = meta->find("io.modelcontextprotocol/clientCapabilities");
    if (caps == meta->end() || !caps->is_object()) return false;
    const auto extensions = caps->find("extensions");
    return extensions != caps->end() && extensions->is_object() && extensions->contains(kId);
}

bool is_step(const std::string& tool) {
    return tool == kCreate || tool == kGet || tool == kGetResult || tool == kUpdate ||
           tool == kCancel;
}

bool is_method(const std::string& method) {
    return method == "tasks/get" || method == "tasks/update" || method == "tasks/cancel";
}

Json required_capabilities() {
    return Json{{"requiredCapabilities", {{"extensions", {{kId, Json::object()}}}}}};
}

std::optional<std::string> task_id_of(const Json& params) {
    if (!params.is_object()) return std::nullopt;
    const auto id = params.find("taskId");
    if (id == params.end() || !id->is_string()) return std::nullopt;
    return id->get<std::string>();
}

std::optional<Json> created(const CallReport& start, std::int64_t ttl_ms) {
    const Json result = tools::task_result(start);
    const Json& s = result["structuredContent"];
    if (result["isError"].get<bool>() || !s.contains("task_id")) return std::nullopt;
    const std::string now = iso8601(now_seconds());
    return Json{{"taskId", s["task_id"]},
                {"status", "working"},
                {"statusMessage", "running; poll tasks/get"},
                {"createdAt", now},
                {"lastUpdatedAt", now},
                {"ttlMs", ttl_ms},
                {"pollIntervalMs", kPollIntervalMs}};
}

std::optional<Json> snapshot(const CallReport& status, std::int64_t ttl_ms) {
    if (!status.allowed) return std::nullopt;  // unknown to this key (or malformed)
    const std::string& text = status.message;
    const std::optional<std::string> id = field(text, "id");
    const std::optional<std::string> state = field(text, "state");
    if (!id || !state || !gate::tasks::is_task_id(*id)) return std::nullopt;
    const std::int64_t started = number(field(text, "started"), now_seconds());
    const std::int64_t ended = number(field(text, "ended"), 0);
    Json task{{"taskId", *id},
              {"createdAt", iso8601(started)},
              {"lastUpdatedAt", iso8601(ended > 0 ? ended : started)},
              {"ttlMs", ttl_ms},
              {"statusMessage", *state}};
    if (*state == "running") {
        task["status"] = "working";
        task["pollIntervalMs"] = kPollIntervalMs;
    } else if (*state == "exited" || *state == "timed-out" || *state == "idle-timeout") {
        task["status"] = "completed";
        task["exit_status"] = number(field(text, "exit_status"), -1);  // for with_result
    } else if (*state == "cancelled") {
        task["status"] = "cancelled";
    } else {
        task["status"] = "failed";
        task["error"] = Json{{"code", static_cast<int>(jsonrpc::ErrorCode::kInternalError)},
                             {"message", "the task " + *state +
                                             (*state == "lost" ? " (its supervisor vanished)"
                                                               : " (it could not be run)") +
                                             "; bridle audit on the host has its records"}};
    }
    return task;
}

bool needs_result(const Json& snapshot) {
    return snapshot.value("status", "") == "completed";
}

Json with_result(Json snapshot, const CallReport& output) {
    Json result = tools::task_result(output);
    const std::int64_t exit_status = snapshot.value("exit_status", std::int64_t{-1});
    snapshot.erase("exit_status");
    result["structuredContent"]["exit_status"] = exit_status;
    result["isError"] = exit_status != 0;
    snapshot["result"] = std::move(result);
    return snapshot;
}

}  // namespace bridle::session::task_extension
