// SPDX-License-Identifier: Apache-2.0
// The MCP Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) of revision 2026-07-28,
// mapped onto bridle's tasks: a client that declares it in a request's capabilities gets a
// CreateTaskResult for `run_command` with `background: true`, and polls tasks/get, which
// inlines the tool result once the task ended; tasks/cancel ends it. Each is the forced
// command's `task ...` request through the same gate (session.cpp runs them in workers); this
// file only shapes. No OS calls but the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "session/jsonrpc.hpp"
#include "session/worker.hpp"

namespace bridle::session::task_extension {

using jsonrpc::Json;

inline constexpr const char* kId = "io.modelcontextprotocol/tasks";
inline constexpr std::int64_t kPollIntervalMs = 2000;

// The session's steps (a worker each; Session::Pending::tool): run_command with background
// that answers with a CreateTaskResult; tasks/get's status, then its result once completed;
// tasks/update's and tasks/cancel's requests.
inline constexpr const char* kCreate = "tasks:create";
inline constexpr const char* kGet = "tasks/get";
inline constexpr const char* kGetResult = "tasks:get-result";
inline constexpr const char* kUpdate = "tasks/update";
inline constexpr const char* kCancel = "tasks/cancel";
bool is_step(const std::string& tool);

// Whether a 2026-07-28 request's `_meta` client capabilities declare the extension.
bool declared(const Json& params);

bool is_method(const std::string& method);  // tasks/get, tasks/update, tasks/cancel

// The error data of -32021 for a tasks/* request that did not declare the extension.
Json required_capabilities();

// The task id of tasks/get, tasks/update or tasks/cancel params, or nullopt.
std::optional<std::string> task_id_of(const Json& params);

// The CreateTaskResult (without resultType and _meta, which the session adds) for a
// `task start` report that started a task, or nullopt (denied or failed: answered as a plain
// tool result). `ttl_ms`: how long the output is kept (settings.task_retention).
std::optional<Json> created(const CallReport& start, std::int64_t ttl_ms);

// What a `task status ID` report says: the task as tasks/get shows it (status, timestamps,
// statusMessage, the error of a failed one), or nullopt when the key has no such task.
std::optional<Json> snapshot(const CallReport& status, std::int64_t ttl_ms);

// Whether a snapshot's task is completed, so its result must be read (`task output ID`).
bool needs_result(const Json& snapshot);

// The snapshot with the tool result of its `task output ID` report inlined.
Json with_result(Json snapshot, const CallReport& output);

}  // namespace bridle::session::task_extension
