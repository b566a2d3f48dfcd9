// SPDX-License-Identifier: Apache-2.0
// JSON-RPC 2.0 framing and classification for the session front end. Untrusted input: every
// line is bounded before it is parsed, nesting is bounded before the parser recurses into
// anything, and nothing here throws.
#include "session/jsonrpc.hpp"

#include <utility>

#include "common/text.hpp"

namespace bridle::session::jsonrpc {
namespace {

Message invalid(ErrorCode code, std::string why, Json id = nullptr) {
    Message m;
    m.kind = Message::Kind::kInvalid;
    m.error = code;
    m.error_message = std::move(why);
    m.id = std::move(id);
    return m;
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string dump_line(const Json& message) {
    // replace: a command's output may be any bytes; U+FFFD keeps the message valid UTF-8.
    return message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

bool is_usable_id(const Json& id) {
    return id.is_string() || id.is_number_integer();
}

Message parse(std::string_view line) {
    if (is_blank(line)) return invalid(ErrorCode::kParseError, "Parse error: empty message");
    if (json_nesting_depth(line, kMaxDepth) > kMaxDepth) {
        return invalid(ErrorCode::kInvalidRequest, "Invalid Request: JSON nested deeper than " +
                                                       std::to_string(kMaxDepth) + " levels");
    }
    Json j;
    try {
        j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    } catch (...) {  // bad_alloc only: allow_exceptions=false covers syntax errors
        return invalid(ErrorCode::kParseError, "Parse error: the message could not be parsed");
    }
    if (j.is_discarded()) {
        return invalid(ErrorCode::kParseError,
                       "Parse error: not valid JSON (one JSON-RPC message per line, UTF-8)");
    }
    if (j.is_array()) {
        return invalid(ErrorCode::kInvalidRequest,
                       "Invalid Request: batches are not supported (MCP 2025-06-18 removed them)");
    }
    if (!j.is_object())
        return invalid(ErrorCode::kInvalidRequest, "Invalid Request: not a JSON object");

    const auto id_it = j.find("id");
    const bool has_id = id_it != j.end();
    Json id = has_id && is_usable_id(*id_it) ? *id_it : Json(nullptr);
    const auto version = j.find("jsonrpc");
    if (version == j.end() || !version->is_string() || version->get<std::string>() != "2.0") {
        return invalid(ErrorCode::kInvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"",
                       id);
    }
    if (has_id && !is_usable_id(*id_it)) {
        return invalid(ErrorCode::kInvalidRequest,
                       "Invalid Request: \"id\" must be a string or an integer (MCP: never null)");
    }

    Message m;
    m.id = std::move(id);
    const auto method = j.find("method");
    if (method == j.end()) {
        const bool is_response = has_id && (j.contains("result") || j.contains("error"));
        if (is_response) {
            m.kind = Message::Kind::kResponse;
            return m;
        }
        return invalid(ErrorCode::kInvalidRequest, "Invalid Request: no \"method\"", m.id);
    }
    if (!method->is_string()) {
        if (!has_id) {  // a malformed notification: never answered
            m.kind = Message::Kind::kNotification;
            return m;
        }
        return invalid(ErrorCode::kInvalidRequest, "Invalid Request: \"method\" must be a string",
                       m.id);
    }
    m.method = method->get<std::string>();
    m.kind = has_id ? Message::Kind::kRequest : Message::Kind::kNotification;
    const auto params = j.find("params");
    if (params != j.end() && !params->is_null()) {
        if (!params->is_object()) {
            if (!has_id) {
                m.method.clear();  // unusable notification: ignored
                return m;
            }
            return invalid(ErrorCode::kInvalidParams,
                           "Invalid params: \"params\" must be an object", m.id);
        }
        m.params = std::move(*params);
    }
    return m;
}

std::string result_line(const Json& id, const Json& result) {
    return dump_line(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string error_line(const Json& id, ErrorCode code, const std::string& message,
                       const Json& data) {
    Json error{{"code", static_cast<int>(code)}, {"message", message}};
    if (!data.is_null()) error["data"] = data;
    return dump_line(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}});
}

std::string request_line(const Json& id, const std::string& method, const Json& params) {
    return dump_line(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
}

std::string notification_line(const std::string& method, const Json& params) {
    return dump_line(Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
}

void LineReader::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const std::size_t newline = bytes.find('\n');
        const std::string_view piece = bytes.substr(0, newline);
        if (!discarding_) {
            if (partial_.size() + piece.size() > kMaxLineBytes) {
                // Report once, now, in order with the lines around it; drop the rest of it.
                partial_.clear();
                partial_.shrink_to_fit();
                discarding_ = true;
                lines_.push_back(Line{std::string(), true});
            } else {
                partial_.append(piece);
            }
        }
        if (newline == std::string_view::npos) return;
        if (!discarding_) {
            lines_.push_back(Line{std::move(partial_), false});
            partial_.clear();
        }
        discarding_ = false;
        bytes.remove_prefix(newline + 1);
    }
}

bool LineReader::next(Line& line) {
    while (!lines_.empty()) {
        line = std::move(lines_.front());
        lines_.pop_front();
        if (line.too_long || !is_blank(line.text)) return true;  // blank lines are skipped
    }
    return false;
}

bool LineReader::finish(Line& line) {
    if (next(line)) return true;
    if (discarding_ || is_blank(partial_)) return false;
    line = Line{std::move(partial_), false};
    partial_.clear();
    return true;
}

}  // namespace bridle::session::jsonrpc
