// SPDX-License-Identifier: Apache-2.0
// The three MCP tools of a bridle session: their definitions (tools/list) and the
// translation between tool arguments/results and the gate's requests/responses. No OS calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "gate/gate.hpp"
#include "policy/model.hpp"
#include "session/jsonrpc.hpp"
#include "session/worker.hpp"

namespace bridle::session::tools {

using jsonrpc::Json;

inline constexpr const char* kRunCommand = "run_command";
inline constexpr const char* kListAllowed = "list_allowed_commands";
inline constexpr const char* kCheckCommand = "check_command";

// The result of tools/list: every tool with its input and output schema and annotations.
Json definitions();

// run_command / check_command arguments: exactly one of `argv` (words, as exec'd), `command`
// (text, split by bridle's own tokenizer) or `pipeline` (the stages' argv); run_command also
// `timeout_seconds`.
struct CommandArgs {
    std::optional<std::vector<std::string>> argv;
    std::optional<std::vector<std::vector<std::string>>> pipeline;
    std::string text;
    std::optional<std::chrono::milliseconds> timeout;
    bool background = false;  // run_command: `task start` it (session/task_tools.hpp)
};
// The arguments, or why they cannot be used (for an isError result the model can act on).
Result<CommandArgs> parse_command_args(const Json& arguments, bool with_timeout);

// A tool error: isError, one text block; with run_command's structuredContent (status
// "error") when `for_run_command`, since clients validate it against the outputSchema.
Json error_result(const std::string& message, bool for_run_command);

// The run_command result of a worker's report. Statuses: ok, exit_nonzero (not a tool
// error), denied, timeout, cancelled, error (tool errors). `cancelled` marks a call that
// the session killed because it was ending.
Json run_result(const CallReport& report, bool cancelled);

// A queued run_command that never reached the gate because the session ended.
Json not_started_result(const std::string& message);

// list_allowed_commands: the rules this key may use, with synopsis and limits.
Json list_allowed(const policy::Policy& policy, const std::string& key);

// check_command: the decision, runs nothing.
Json check_result(const gate::Response& response);

// Appends `bytes` to a running command's output tail and keeps its last kProgressTailBytes.
void keep_tail(std::string& tail, std::string_view bytes);

// A progress notification's message: what runs, for how long, and the end of its output so
// far (escaped, from a line start where there is one), so that an agent whose client resets
// its timeout on progress sees the command is alive and what it is doing.
std::string progress_message(const std::string& label, std::int64_t seconds, std::string_view tail);

}  // namespace bridle::session::tools
