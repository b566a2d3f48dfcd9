// SPDX-License-Identifier: Apache-2.0
// The Tasks extension's methods in a session (task_extension.hpp has the mapping): tasks/get,
// tasks/update and tasks/cancel of a 2026-07-28 client that declared the extension, each the
// key's own `task status|output|cancel ID` request in a worker, like get_task and cancel_task.
#include <chrono>

#include "session/session.hpp"
#include "session/task_extension.hpp"
#include "session/task_tools.hpp"
#include "session/tools.hpp"

namespace bridle::session {
namespace {

using jsonrpc::ErrorCode;
using jsonrpc::Json;
using jsonrpc::Message;

// The gate's reason ("no task '...' of this key") in the words of -32602.
std::string unknown_task(const CallReport& report) {
    std::string reason =
        report.reason.empty() ? "the task's status could not be read" : report.reason;
    return "Invalid params: " + reason +
           " (a task is known to the key that started it, until settings.task_retention after "
           "it ended)";
}

}  // namespace

void Session::task_method(const Message& m) {
    if (!task_extension::declared(m.params)) {
        send(jsonrpc::error_line(m.id, ErrorCode::kMissingRequiredClientCapability,
                                 "Missing required client capability: " + m.method +
                                     " needs the extension " + task_extension::kId +
                                     " in the request's client capabilities",
                                 task_extension::required_capabilities()));
        return;
    }
    const std::optional<std::string> id = task_extension::task_id_of(m.params);
    if (!id) {
        send(
            jsonrpc::error_line(m.id, ErrorCode::kInvalidParams,
                                "Invalid params: " + m.method + " needs params.taskId (a string)"));
        return;
    }
    if (is_busy(m.id)) {
        send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                 "Invalid Request: a call with this id is still running"));
        return;
    }
    // tasks/update only acknowledges (bridle never asks a task's client for input), once the
    // key's `task status` has found the task.
    const char* verb = m.method == "tasks/cancel" ? "cancel" : "status";
    tools::CommandArgs args;
    args.argv = std::vector<std::string>{"task", verb, *id};
    Pending pending{m.id, request_for(args, m), nullptr, revision::Era::kModern};
    pending.tool = m.method;
    enqueue(std::move(pending));
}

void Session::answer_task_step(const Call& call, const CallReport& report) {
    const std::int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    context_.policy.settings.task_retention)
                                    .count();
    const auto reply_task = [&](Json result, const char* type) {
        Json shaped =
            revision::shape_result(std::move(result), revision::Era::kModern, false, server_info());
        shaped["resultType"] = type;
        send(jsonrpc::result_line(call.id, shaped));
    };
    if (call.tool == task_extension::kCreate) {
        // A denied or failed start is no task: the plain tool result says why.
        if (std::optional<Json> task = task_extension::created(report, ttl_ms)) {
            reply_task(std::move(*task), "task");
        } else {
            reply(call.id, tools::task_result(report), call.era);
        }
        return;
    }
    if (call.tool == task_extension::kGetResult) {
        reply_task(task_extension::with_result(call.carried, report), "complete");
        return;
    }
    std::optional<Json> task = task_extension::snapshot(report, ttl_ms);
    if (call.tool == task_extension::kCancel) {
        // `task cancel` answers for a task of this key, running or not: an acknowledgement.
        if (!report.allowed) {
            send(jsonrpc::error_line(call.id, ErrorCode::kInvalidParams, unknown_task(report)));
        } else {
            reply_task(Json::object(), "complete");
        }
        return;
    }
    if (!task) {
        send(jsonrpc::error_line(call.id, ErrorCode::kInvalidParams, unknown_task(report)));
        return;
    }
    if (call.tool == task_extension::kUpdate) {
        reply_task(Json::object(), "complete");
    } else if (task_extension::needs_result(*task)) {
        // Completed: its output becomes the inlined tool result (`task output ID`).
        tools::CommandArgs args;
        args.argv =
            std::vector<std::string>{"task", "output", (*task)["taskId"].get<std::string>()};
        // A follow-up of tasks/get, with no message of its own: it records the fan-out id of
        // the tasks/get that started it (an audit field; nothing decides by it).
        Pending pending{call.id, request_for(args, Message{}), nullptr, revision::Era::kModern};
        pending.request.fanout_id = call.fanout_id;
        pending.tool = task_extension::kGetResult;
        pending.carried = std::move(*task);
        // Next in line, started once finish_calls() has let go of the finished calls.
        queue_.push_front(std::move(pending));
    } else {
        reply_task(std::move(*task), "complete");
    }
}

}  // namespace bridle::session
