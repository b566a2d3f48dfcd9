// SPDX-License-Identifier: Apache-2.0
// The MCP tools of tasks (get_task, get_task_output, cancel_task, and run_command's
// `background: true`): each is the forced command's `task ...` request, through the same gate
// in a worker, and its answer as a tool result. No OS calls.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "session/jsonrpc.hpp"
#include "session/worker.hpp"

namespace bridle::session::tools {

inline constexpr const char* kGetTask = "get_task";
inline constexpr const char* kGetTaskOutput = "get_task_output";
inline constexpr const char* kCancelTask = "cancel_task";

bool is_task_tool(const std::string& tool);

// The three tools' definitions, for tools/list (after the command tools).
std::vector<jsonrpc::Json> task_definitions();

// The `task` request's words for a task tool's arguments, or why they cannot be used.
Result<std::vector<std::string>> task_argv(const std::string& tool, const jsonrpc::Json& arguments);

// The tool result of a `task ...` request's report: status ok (the gate answered), denied or
// error; structuredContent has the task id (`background`), the status text's fields
// (get_task), the output and the next offset (get_task_output).
jsonrpc::Json task_result(const CallReport& report);

}  // namespace bridle::session::tools
