// SPDX-License-Identifier: Apache-2.0
// JSON-RPC 2.0 over stdio, as MCP frames it: one message per line, UTF-8, no batches.
// Splitting the byte stream into bounded lines and classifying one line; no OS calls.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bridle::session::jsonrpc {

using Json = nlohmann::json;

// JSON-RPC 2.0 error codes (section 5.1), and the MCP ones bridle sends.
enum class ErrorCode : int {
    kParseError = -32700,      // not JSON
    kInvalidRequest = -32600,  // JSON, but not a request object (also: too long, batches)
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,
    // MCP 2026-07-28: a tasks/* request whose client capabilities lack the Tasks extension;
    // data {requiredCapabilities}.
    kMissingRequiredClientCapability = -32021,
    // MCP 2026-07-28: the request's _meta names a revision this server does not serve per
    // request; data {supported, requested}.
    kUnsupportedProtocolVersion = -32022,
};

// A line longer than this is discarded unread up to its newline and answered with
// kInvalidRequest: no request bridle serves needs more (command text is capped at 64 KiB).
constexpr std::size_t kMaxLineBytes = 1024 * 1024;
// Nesting deeper than this is refused before the JSON parser sees the line.
constexpr int kMaxDepth = 64;

// One classified line.
struct Message {
    enum class Kind {
        kRequest,       // method + id: must be answered
        kNotification,  // method, no id: never answered
        kResponse,      // result or error: the server sends no requests, so these are ignored
        kInvalid,       // answer with `error` (id null unless the id could be read)
    };
    Kind kind = Kind::kInvalid;
    Json id;  // string or integer; null when absent or unreadable
    std::string method;
    Json params;                                   // an object, or null when absent
    ErrorCode error = ErrorCode::kInvalidRequest;  // kInvalid only
    std::string error_message;                     // kInvalid only
};

// Classifies one line (without its newline). Never throws. JSON-RPC batches (arrays) are
// refused: MCP removed them in 2025-06-18.
Message parse(std::string_view line);

// An id a reply can carry (a string or an integer; JSON-RPC's null and fractions are not).
bool is_usable_id(const Json& id);

// Serialised messages, each ending in "\n". Strings that are not valid UTF-8 (a command's
// output) are written with U+FFFD in place of the bad bytes; the result is always one line.
std::string result_line(const Json& id, const Json& result);
std::string error_line(const Json& id, ErrorCode code, const std::string& message,
                       const Json& data = nullptr);
std::string notification_line(const std::string& method, const Json& params);
// A request, as a client sends it (the fleet controller, src/fleet/connection.cpp).
std::string request_line(const Json& id, const std::string& method, const Json& params);

// Splits a byte stream into lines. A line longer than kMaxLineBytes is reported once, as
// too long, and its bytes are dropped up to the next newline, so memory stays bounded
// whatever the client sends.
class LineReader {
  public:
    struct Line {
        std::string text;
        bool too_long = false;
    };
    void feed(std::string_view bytes);
    // The next complete line; false when there is none yet.
    bool next(Line& line);
    // At end of input: the unterminated rest, if any (a last message without its newline).
    bool finish(Line& line);

  private:
    std::deque<Line> lines_;   // complete lines not yet taken
    std::string partial_;      // the unterminated line so far, at most kMaxLineBytes
    bool discarding_ = false;  // inside an over-long line, dropping bytes up to its newline
};

}  // namespace bridle::session::jsonrpc
