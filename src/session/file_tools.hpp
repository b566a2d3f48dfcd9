// SPDX-License-Identifier: Apache-2.0
// The MCP tools read_file and write_file: `get` and `put` requests through the same gate, with
// the content in the call (text, or base64 for bytes) and a structured result. No OS calls.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "gate/gate.hpp"
#include "session/jsonrpc.hpp"
#include "session/worker.hpp"

namespace bridle::session::tools {

using jsonrpc::Json;

inline constexpr const char* kReadFile = "read_file";
inline constexpr const char* kWriteFile = "write_file";

// Their tools/list entries, in this order after the command tools.
Json read_file_definition();
Json write_file_definition();

// A file tool's arguments as a gate request's words (["get", PATH, "--limit=N"], ["put",
// PATH, "--mode=0640"]), and a put's content, decoded; or why they cannot be used.
struct FileArgs {
    std::vector<std::string> argv;
    std::optional<std::string> content;
};
Result<FileArgs> parse_file_args(const std::string& tool, const Json& arguments);

// The gate's FileOutcome as the worker reports it, and the tool's result from that report.
Json file_outcome_json(const gate::FileOutcome& outcome);
Json file_result(const std::string& tool, const CallReport& report);

// RFC 4648 base64, for bytes that are not UTF-8; decode refuses anything but the canonical
// alphabet with padding.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace bridle::session::tools
