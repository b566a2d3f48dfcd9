// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the session's message path, from raw stdin bytes to the reply. The input is
// fed to the line reader in chunks whose sizes come from the input itself; each line is
// classified, its protocol revision decided from its _meta envelope and, where it is a
// tools/call, its arguments are checked as the session does.
// Invariants: nothing throws or crashes; no line exceeds the bound; an invalid message has a
// reason and a JSON-RPC error code; the id of a request is a string or an integer; every
// reply is one line of JSON that parses back (valid UTF-8), whatever bytes went in; a
// refused envelope is -32602 or -32022 (with the supported versions and a string
// `requested`), and a 2026-07-28 result carries resultType.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "session/jsonrpc.hpp"
#include "session/revision.hpp"
#include "session/tools.hpp"
#include "session/wait_tool.hpp"

namespace {

using bridle::fuzz::check;
using bridle::session::jsonrpc::Json;
namespace jsonrpc = bridle::session::jsonrpc;
namespace tools = bridle::session::tools;
namespace revision = bridle::session::revision;

void check_reply(const std::string& line) {
    check(!line.empty() && line.back() == '\n', "a reply ends in a newline");
    check(line.find('\n') == line.size() - 1, "a reply is one line");
    const Json back = Json::parse(line, nullptr, false);
    check(!back.is_discarded(), "a reply parses back as JSON");
    check(back.is_object() && back.value("jsonrpc", "") == "2.0", "a reply is JSON-RPC 2.0");
}

void handle(const jsonrpc::LineReader::Line& line) {
    check(line.text.size() <= jsonrpc::kMaxLineBytes, "lines are bounded");
    if (line.too_long) return;
    const jsonrpc::Message m = jsonrpc::parse(line.text);
    using Kind = jsonrpc::Message::Kind;
    switch (m.kind) {
        case Kind::kInvalid: {
            const int code = static_cast<int>(m.error);
            check(code == -32700 || code == -32600 || code == -32602,
                  "an invalid message has a JSON-RPC code");
            check(!m.error_message.empty(), "an invalid message has a reason");
            check(m.id.is_null() || m.id.is_string() || m.id.is_number_integer(),
                  "an error's id is usable");
            check_reply(jsonrpc::error_line(m.id, m.error, m.error_message));
            return;
        }
        case Kind::kRequest: {
            check(m.id.is_string() || m.id.is_number_integer(),
                  "a request's id is a string or an integer");
            check(m.params.is_null() || m.params.is_object(), "params are an object or absent");
            const revision::Classification era = revision::classify(m.method, m.params);
            if (era.refusal) {
                const int code = static_cast<int>(era.refusal->code);
                check(code == -32602 || code == -32022, "a refused envelope is -32602 or -32022");
                check(!era.refusal->message.empty(), "a refused envelope has a reason");
                if (code == -32022) {
                    check(era.refusal->data["supported"].is_array() &&
                              era.refusal->data["requested"].is_string(),
                          "an unsupported version names the supported ones");
                }
                check_reply(jsonrpc::error_line(m.id, era.refusal->code, era.refusal->message,
                                                era.refusal->data));
                return;
            }
            Json result = Json::object();
            if (m.params.is_object() && m.params.contains("arguments")) {
                const auto wait = tools::parse_wait_args(m.params["arguments"]);
                if (wait) {
                    check(wait.value().timeout.count() >= 1 &&
                              wait.value().timeout <= tools::kMaxWait,
                          "a wait is bounded");
                } else {
                    check(!wait.error().message.empty(), "a refused wait has a reason");
                }
                const auto args = tools::parse_command_args(m.params["arguments"], true);
                if (args) {
                    if (args.value().argv)
                        check(!args.value().argv->empty(), "argv is never empty");
                    if (args.value().timeout)
                        check(args.value().timeout->count() >= 1, "a timeout is positive");
                    result = Json{{"argv", args.value().argv.value_or(std::vector<std::string>{})},
                                  {"text", args.value().text}};
                } else {
                    check(!args.error().message.empty(), "a refused argument has a reason");
                    result = tools::error_result(args.error().message, true);
                }
            }
            const Json shaped = revision::shape_result(result, era.era, true, Json::object());
            check(era.era == revision::Era::kLegacy || shaped.value("resultType", "") == "complete",
                  "a 2026-07-28 result carries resultType");
            check_reply(jsonrpc::result_line(m.id, shaped));
            return;
        }
        case Kind::kNotification:
        case Kind::kResponse:
            return;
        default:
            check(false, "a message has a kind");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    // The first byte picks the chunk size, so reads that split lines anywhere are covered.
    std::size_t chunk = 65536;
    if (!input.empty()) {
        chunk = 1 + static_cast<unsigned char>(input[0]) * 17u;
        input.remove_prefix(1);
    }
    jsonrpc::LineReader reader;
    jsonrpc::LineReader::Line line;
    while (!input.empty()) {
        const std::string_view piece = input.substr(0, chunk);
        input.remove_prefix(piece.size());
        reader.feed(piece);
        while (reader.next(line)) handle(line);
    }
    while (reader.finish(line)) handle(line);
    return 0;
}
