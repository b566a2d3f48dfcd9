// SPDX-License-Identifier: Apache-2.0
// The MCP methods of a session. Revision 2026-07-28 (a request with its _meta envelope,
// no handshake): server/discover, tools/list, tools/call. The 2025 revisions: initialize
// (version negotiation), ping, tools/list, tools/call, notifications/initialized. Both:
// notifications/cancelled. Everything else is -32601 (requests) or ignored (notifications,
// responses), as JSON-RPC 2.0 says.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "session/file_tools.hpp"
#include "session/session.hpp"
#include "session/task_extension.hpp"
#include "session/task_tools.hpp"
#include "session/tools.hpp"
#include "session/wait_tool.hpp"

namespace bridle::session {
namespace {

using jsonrpc::ErrorCode;
using jsonrpc::Json;
using jsonrpc::Message;

std::string host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) return "this host";
    return name.data();
}

// The fleet controller's fan-out id, params._meta["bridle/fanout_id"]: an audit field and
// nothing more (no decision reads it). Anything but 1-64 of [A-Za-z0-9._-] is not recorded.
std::string fanout_id_of(const Json& params) {
    if (!params.is_object()) return {};
    const auto meta = params.find("_meta");
    if (meta == params.end() || !meta->is_object()) return {};
    const auto id = meta->find("bridle/fanout_id");
    if (id == meta->end() || !id->is_string()) return {};
    const std::string& s = id->get_ref<const std::string&>();
    const bool valid = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
    return valid ? s : std::string();
}

// params._meta.progressToken, when it is a usable one; null otherwise.
Json progress_token_of(const Json& params) {
    if (!params.is_object()) return nullptr;
    const auto meta = params.find("_meta");
    if (meta == params.end() || !meta->is_object()) return nullptr;
    const auto token = meta->find("progressToken");
    return token != meta->end() && jsonrpc::is_usable_id(*token) ? *token : Json(nullptr);
}

}  // namespace

void Session::handle_line(const jsonrpc::LineReader::Line& line) {
    if (line.too_long) {
        send(jsonrpc::error_line(nullptr, ErrorCode::kInvalidRequest,
                                 "Invalid Request: message longer than " +
                                     std::to_string(jsonrpc::kMaxLineBytes) + " bytes; discarded"));
        return;
    }
    const Message m = jsonrpc::parse(line.text);
    switch (m.kind) {
        case Message::Kind::kInvalid:
            send(jsonrpc::error_line(m.id, m.error, m.error_message));
            return;
        case Message::Kind::kResponse:  // we send no requests: nothing to match it with
            return;
        case Message::Kind::kNotification:
            handle_notification(m);
            return;
        case Message::Kind::kRequest:
            handle_request(m);
            return;
        default:
            return;
    }
}

void Session::handle_notification(const Message& m) {
    if (m.method == "notifications/cancelled" && m.params.is_object()) {
        const auto id = m.params.find("requestId");
        if (id != m.params.end() && jsonrpc::is_usable_id(*id)) cancel(*id);
    }
    // notifications/initialized and anything else: nothing to do (never answered).
}

void Session::handle_request(const Message& m) {
    // The revision first: a wrong version or a broken envelope outranks everything else.
    const revision::Classification era = revision::classify(m.method, m.params);
    if (era.refusal) {
        send(jsonrpc::error_line(m.id, era.refusal->code, era.refusal->message, era.refusal->data));
        return;
    }
    if (era.era == revision::Era::kModern) {
        handle_modern_request(m);
        return;
    }
    if (m.method == "ping") {
        send(jsonrpc::result_line(m.id, Json::object()));
    } else if (m.method == "initialize") {
        initialize(m);
    } else if (m.method != "tools/list" && m.method != "tools/call") {
        send(jsonrpc::error_line(m.id, ErrorCode::kMethodNotFound,
                                 "Method not found: " + m.method.substr(0, 200)));
    } else if (!initialized_) {
        send(jsonrpc::error_line(
            m.id, ErrorCode::kInvalidRequest,
            "Invalid Request: the session is not initialized; send initialize first (2025-11-25, "
            "2025-06-18), or give each request the _meta envelope of revision 2026-07-28"));
    } else if (m.method == "tools/list") {
        list_tools(m, revision::Era::kLegacy);
    } else {
        call_tool(m, revision::Era::kLegacy);
    }
}

// A request with a valid 2026-07-28 envelope stands on its own: no initialize before it,
// and it does not depend on (or change) what a legacy client negotiated on this channel.
void Session::handle_modern_request(const Message& m) {
    if (task_extension::is_method(m.method)) {
        task_method(m);
    } else if (!revision::is_modern_method(m.method)) {
        send(jsonrpc::error_line(
            m.id, ErrorCode::kMethodNotFound,
            "Method not found: " + m.method.substr(0, 200) + " (revision " +
                revision::kModernVersion +
                " has no initialize or ping; bridle serves server/discover, tools/list, "
                "tools/call and the Tasks extension's tasks/get, tasks/update, tasks/cancel)"));
    } else if (m.method == "server/discover") {
        send(jsonrpc::result_line(m.id, revision::discover_result(server_info(), instructions())));
    } else if (m.method == "tools/list") {
        list_tools(m, revision::Era::kModern);
    } else {
        call_tool(m, revision::Era::kModern);
    }
}

void Session::reply(const Json& id, Json result, revision::Era era, bool cacheable) {
    send(jsonrpc::result_line(
        id, revision::shape_result(std::move(result), era, cacheable, server_info())));
}

Json Session::server_info() const {
    return Json{
        {"name", "bridle"}, {"title", "bridle on " + host_name()}, {"version", options_.version}};
}

std::string Session::instructions() const {
    return "Tools run commands on the host " + host_name() +
           " under its bridle policy, which is enforced on the host. Call list_allowed_commands "
           "first: only those commands, with arguments of the shapes shown, are allowed. Denials "
           "say why and show the nearest allowed usage. Every call is recorded in the host's "
           "journal.";
}

void Session::list_tools(const Message& m, revision::Era era) {
    if (m.params.is_object() && m.params.contains("cursor")) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidParams,
                                 "Invalid params: unknown cursor (the tool list has one page)"));
    } else {
        reply(m.id, tools::definitions(), era, /*cacheable=*/true);
    }
}

void Session::initialize(const Message& m) {
    if (initialized_) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                 "Invalid Request: the session is already initialized"));
        return;
    }
    const auto requested = m.params.is_object() ? m.params.find("protocolVersion") : m.params.end();
    if (!m.params.is_object() || requested == m.params.end() || !requested->is_string()) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidParams,
                                 "Invalid params: initialize needs params.protocolVersion"));
        return;
    }
    // Negotiation: the client's version when we speak it, else our newest; the client
    // disconnects if it cannot speak that.
    std::string version = revision::kLegacyVersions[0];
    for (const char* supported : revision::kLegacyVersions) {
        if (requested->get<std::string>() == supported) version = supported;
    }
    initialized_ = true;
    Json result{{"protocolVersion", version},
                {"capabilities", {{"tools", {{"listChanged", false}}}}},
                {"serverInfo", server_info()},
                {"instructions", instructions()}};
    send(jsonrpc::result_line(m.id, result));
}

gate::Request Session::request_for(const tools::CommandArgs& args, const Message& m) const {
    gate::Request request;
    request.fanout_id = fanout_id_of(m.params);
    request.text = args.text;
    request.argv = args.argv;
    request.pipeline = args.pipeline;
    request.key = options_.key;
    request.client = options_.client;
    request.session_id = session_id_;
    request.front_end = "mcp";
    request.run_as = options_.run_as;
    return request;
}

void Session::call_tool(const Message& m, revision::Era era) {
    const auto name = m.params.is_object() ? m.params.find("name") : m.params.end();
    if (!m.params.is_object() || name == m.params.end() || !name->is_string()) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidParams,
                                 "Invalid params: tools/call needs params.name"));
        return;
    }
    const std::string tool = name->get<std::string>();
    const auto args_it = m.params.find("arguments");
    const Json arguments = args_it == m.params.end() ? Json(nullptr) : *args_it;

    if (tool == tools::kListAllowed) {
        if (!arguments.is_null() && !(arguments.is_object() && arguments.empty())) {
            reply(m.id, tools::error_result("list_allowed_commands takes no arguments", false),
                  era);
        } else {
            reply(m.id, tools::list_allowed(context_.policy, options_.key), era);
        }
        return;
    }
    if (tool == tools::kReadFile || tool == tools::kWriteFile) {
        call_file_tool(m, era, tool, arguments);
        return;
    }
    if (tool == tools::kWaitForApproval) {
        start_wait(m, era, arguments, progress_token_of(m.params));
        return;
    }
    if (tools::is_task_tool(tool)) {
        auto words = tools::task_argv(tool, arguments);
        if (!words) {
            reply(m.id, tools::error_result(words.error().message, false), era);
        } else if (is_busy(m.id)) {
            send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                     "Invalid Request: a call with this id is still running"));
        } else {
            tools::CommandArgs args;
            args.argv = std::move(words.value());
            Pending pending{m.id, request_for(args, m), nullptr, era};
            pending.task_tool = true;
            enqueue(std::move(pending));
        }
        return;
    }
    if (tool != tools::kCheckCommand && tool != tools::kRunCommand) {
        send(jsonrpc::error_line(
            m.id, ErrorCode::kInvalidParams,
            "Unknown tool: " + tool.substr(0, 200) +
                " (tools: run_command, list_allowed_commands, check_command, get_task, "
                "get_task_output, cancel_task, read_file, write_file, wait_for_approval)"));
        return;
    }
    const bool run = tool == tools::kRunCommand;
    auto args = tools::parse_command_args(arguments, run);
    if (!args) {
        reply(m.id, tools::error_result(args.error().message, run), era);
        return;
    }
    gate::Request request = request_for(args.value(), m);
    if (!run) {
        // The explain pipeline: tokenize and decide, no audit, nothing runs.
        reply(m.id, tools::check_result(gate::explain(context_, request)), era);
        return;
    }
    if (is_busy(m.id)) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                 "Invalid Request: a call with this id is still running"));
        return;
    }
    request.timeout = args.value().timeout;
    bool task_tool = false;
    if (args.value().background) {
        // `task start CMD...`: decided now, run by a detached supervisor (gate/task_gate.cpp).
        if (request.pipeline) {
            reply(m.id,
                  tools::error_result("a background task is one command, not a pipeline", true),
                  era);
            return;
        }
        if (request.argv) {
            request.argv->insert(request.argv->begin(), {"task", "start"});
        } else {
            request.text = "task start " + request.text;
        }
        task_tool = true;
    }
    Pending pending{m.id, std::move(request), progress_token_of(m.params), era};
    pending.task_tool = task_tool;
    // A 2026-07-28 client with the Tasks extension gets the task itself (CreateTaskResult).
    if (task_tool && era == revision::Era::kModern && task_extension::declared(m.params)) {
        pending.tool = task_extension::kCreate;
    }
    enqueue(std::move(pending));
}

// read_file and write_file: a get or put request through the gate, in a worker like a command
// (the gate may go through sudo, and a validator runs as a command does); a put's content is
// the call's, handed to the gate as its upload.
void Session::call_file_tool(const Message& m, revision::Era era, const std::string& tool,
                             const Json& arguments) {
    auto args = tools::parse_file_args(tool, arguments);
    if (!args) {
        reply(m.id, tools::error_result(args.error().message, false), era);
        return;
    }
    if (is_busy(m.id)) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                 "Invalid Request: a call with this id is still running"));
        return;
    }
    tools::CommandArgs words;
    words.argv = args.value().argv;
    Pending pending{m.id, request_for(words, m), nullptr, era};
    pending.tool = tool;
    pending.upload = args.value().content;  // the worker makes the gate's upload of it
    enqueue(std::move(pending));
}

void Session::cancel(const Json& request_id) {
    // Cancelled requests get no response (MCP cancellation: the receiver SHOULD NOT send one).
    const auto queued = std::find_if(queue_.begin(), queue_.end(),
                                     [&](const Pending& p) { return p.id == request_id; });
    if (queued != queue_.end()) {
        queue_.erase(queued);
        return;
    }
    const auto wait = std::find_if(waits_.begin(), waits_.end(),
                                   [&](const Wait& w) { return w.id == request_id; });
    if (wait != waits_.end()) {
        end_wait(*wait, "cancelled", false);  // at once: a wait holds nothing to release
        waits_.erase(wait);
        return;
    }
    for (Call& call : calls_) {
        if (call.id == request_id && !call.cancelled && !call.answered) {
            // The worker's execution::run reads SIGTERM as "the client left": SIGTERM to the
            // command's tree, SIGKILL after at most 1 s, then the result record. A reaped
            // worker's pid may belong to someone else by now: never signal it.
            call.cancelled = true;
            if (!call.reaped) ::kill(call.worker.pid, SIGTERM);
        }
    }
}

}  // namespace bridle::session
