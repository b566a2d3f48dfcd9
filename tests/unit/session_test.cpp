// SPDX-License-Identifier: Apache-2.0
// Session mode without a process: JSON-RPC classification of every kind of bad line, the
// bounded line reader, run_command/check_command argument checks, the status mapping of a
// worker's report (a non-zero exit is not a tool error; a denial is, with the pointer to
// list_allowed_commands), the tool definitions, the protocol revision of each request (the
// 2026-07-28 _meta envelope) and its result shape, and the gate's character rules for argv.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "session/file_tools.hpp"
#include "session/jsonrpc.hpp"
#include "session/revision.hpp"
#include "session/task_extension.hpp"
#include "session/task_tools.hpp"
#include "session/tools.hpp"
#include "session/wait_tool.hpp"
#include "session/worker.hpp"

namespace bridle::session {
namespace {

using jsonrpc::ErrorCode;
using jsonrpc::Json;
using Kind = jsonrpc::Message::Kind;

struct ParseCase {
    std::string name;
    std::string line;
    Kind kind;
    ErrorCode code;  // for kInvalid
    Json id;
};

TEST(JsonRpc, ClassifiesEveryKindOfLine) {
    // clang-format off
    const std::vector<ParseCase> cases = {
        {"request", R"({"jsonrpc":"2.0","id":1,"method":"ping"})", Kind::kRequest, {}, 1},
        {"string id", R"({"jsonrpc":"2.0","id":"a","method":"ping"})", Kind::kRequest, {}, "a"},
        {"notification", R"({"jsonrpc":"2.0","method":"notifications/initialized"})", Kind::kNotification, {}, nullptr},
        {"response", R"({"jsonrpc":"2.0","id":3,"result":{}})", Kind::kResponse, {}, 3},
        {"error response", R"({"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}})", Kind::kResponse, {}, 3},
        {"not json", "hello", Kind::kInvalid, ErrorCode::kParseError, nullptr},
        {"truncated", R"({"jsonrpc":"2.0","id":1,"method":"pi)", Kind::kInvalid, ErrorCode::kParseError, nullptr},
        {"invalid utf-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", Kind::kInvalid, ErrorCode::kParseError, nullptr},
        {"blank", "   ", Kind::kInvalid, ErrorCode::kParseError, nullptr},
        {"batch", R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"number", "42", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"no jsonrpc", R"({"id":1,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, 1},
        {"jsonrpc 1.0", R"({"jsonrpc":"1.0","id":1,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, 1},
        {"jsonrpc number", R"({"jsonrpc":2.0,"id":1,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, 1},
        {"null id", R"({"jsonrpc":"2.0","id":null,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"float id", R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"object id", R"({"jsonrpc":"2.0","id":{},"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"bool id", R"({"jsonrpc":"2.0","id":true,"method":"ping"})", Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
        {"method number", R"({"jsonrpc":"2.0","id":1,"method":7})", Kind::kInvalid, ErrorCode::kInvalidRequest, 1},
        {"no method", R"({"jsonrpc":"2.0","id":1})", Kind::kInvalid, ErrorCode::kInvalidRequest, 1},
        {"params array", R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]})", Kind::kInvalid, ErrorCode::kInvalidParams, 1},
        {"params string", R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"})", Kind::kInvalid, ErrorCode::kInvalidParams, 1},
        {"deep nesting", std::string(100, '[') + std::string(100, ']'), Kind::kInvalid, ErrorCode::kInvalidRequest, nullptr},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const jsonrpc::Message m = jsonrpc::parse(c.line);
        EXPECT_EQ(m.kind, c.kind);
        EXPECT_EQ(m.id, c.id);
        if (c.kind == Kind::kInvalid) {
            EXPECT_EQ(m.error, c.code) << m.error_message;
            EXPECT_FALSE(m.error_message.empty());
        }
    }
}

TEST(JsonRpc, NestingInsideStringsIsNotNesting) {
    const std::string deep_string = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":")" +
                                    std::string(500, '[') + R"("}})";
    EXPECT_EQ(jsonrpc::parse(deep_string).kind, Kind::kRequest);
}

TEST(JsonRpc, RepliesAreOneLineAndValidUtf8) {
    const std::string line = jsonrpc::result_line(1, Json{{"text", std::string("a\nb\xff\xfe")}});
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    const Json back = Json::parse(line);  // throws on invalid UTF-8
    EXPECT_EQ(back["result"]["text"], "a\nb\xEF\xBF\xBD\xEF\xBF\xBD");
    const Json error = Json::parse(jsonrpc::error_line(nullptr, ErrorCode::kParseError, "x"));
    EXPECT_TRUE(error["id"].is_null());
    EXPECT_EQ(error["error"]["code"], -32700);
}

TEST(LineReader, SplitsBoundsAndFinishes) {
    jsonrpc::LineReader reader;
    jsonrpc::LineReader::Line line;
    reader.feed("one\ntw");
    ASSERT_TRUE(reader.next(line));
    EXPECT_EQ(line.text, "one");
    EXPECT_FALSE(reader.next(line));
    reader.feed("o\n\n  \nthree");
    ASSERT_TRUE(reader.next(line));
    EXPECT_EQ(line.text, "two");
    EXPECT_FALSE(reader.next(line));  // blank lines are skipped
    ASSERT_TRUE(reader.finish(line));
    EXPECT_EQ(line.text, "three");
    EXPECT_FALSE(reader.finish(line));
}

TEST(LineReader, AnOverlongLineIsReportedOnceAndDropped) {
    jsonrpc::LineReader reader;
    jsonrpc::LineReader::Line line;
    const std::string chunk(64 * 1024, 'a');
    for (std::size_t i = 0; i < 40; ++i) reader.feed(chunk);  // 2.5 MiB, no newline
    ASSERT_TRUE(reader.next(line));
    EXPECT_TRUE(line.too_long);
    EXPECT_FALSE(reader.next(line));
    reader.feed("aaaa\nnext\n");
    ASSERT_TRUE(reader.next(line));
    EXPECT_FALSE(line.too_long);
    EXPECT_EQ(line.text, "next");
    // A line of exactly the limit is fine.
    reader.feed(std::string(jsonrpc::kMaxLineBytes, 'b') + "\n");
    ASSERT_TRUE(reader.next(line));
    EXPECT_FALSE(line.too_long);
    EXPECT_EQ(line.text.size(), jsonrpc::kMaxLineBytes);
    // An overlong line cut short by EOF yields nothing more at finish.
    reader.feed(std::string(jsonrpc::kMaxLineBytes + 1, 'c'));
    ASSERT_TRUE(reader.next(line));
    EXPECT_TRUE(line.too_long);
    EXPECT_FALSE(reader.finish(line));
}

struct ArgsCase {
    std::string name;
    std::string json;
    bool ok;
    std::string error_part;
};

TEST(Tools, CommandArguments) {
    // clang-format off
    const std::vector<ArgsCase> cases = {
        {"argv", R"({"argv":["echo","hi"]})", true, ""},
        {"command", R"({"command":"echo hi"})", true, ""},
        {"timeout", R"({"argv":["x"],"timeout_seconds":1.5})", true, ""},
        {"neither", R"({})", false, "exactly one"},
        {"null", "null", false, "exactly one"},
        {"both", R"({"argv":["x"],"command":"x"})", false, "exactly one"},
        {"argv string", R"({"argv":"echo hi"})", false, "array of strings"},
        {"argv empty", R"({"argv":[]})", false, "empty"},
        {"argv numbers", R"({"argv":["echo",1]})", false, "only strings"},
        {"argv nested", R"({"argv":[["echo"]]})", false, "only strings"},
        {"command number", R"({"command":7})", false, "must be a string"},
        {"timeout string", R"({"argv":["x"],"timeout_seconds":"5"})", false, "number"},
        {"timeout zero", R"({"argv":["x"],"timeout_seconds":0})", false, "more than 0"},
        {"timeout negative", R"({"argv":["x"],"timeout_seconds":-1})", false, "more than 0"},
        {"timeout huge", R"({"argv":["x"],"timeout_seconds":1e300})", false, "at most"},
        {"unknown", R"({"argv":["x"],"shell":true})", false, "unknown argument"},
        {"arguments array", R"([1])", false, "object"},
        {"pipeline", R"({"pipeline":[["seq","3"],["tail","-n","1"]]})", true, ""},
        {"pipeline of one", R"({"pipeline":[["seq","3"]]})", false, "2 to 8 stages"},
        {"pipeline of nine", R"({"pipeline":[["a"],["a"],["a"],["a"],["a"],["a"],["a"],["a"],["a"]]})",
         false, "2 to 8 stages"},
        {"pipeline empty stage", R"({"pipeline":[["seq"],[]]})", false, "each an array of strings"},
        {"pipeline of strings", R"({"pipeline":["seq","tail"]})", false, "each an array"},
        {"pipeline number", R"({"pipeline":[["seq"],["tail",1]]})", false, "array of strings"},
        {"pipeline and argv", R"({"pipeline":[["a"],["b"]],"argv":["a"]})", false, "exactly one"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto args = tools::parse_command_args(Json::parse(c.json), true);
        EXPECT_EQ(args.ok(), c.ok);
        if (!c.ok && !args.ok()) {
            EXPECT_NE(args.error().message.find(c.error_part), std::string::npos)
                << args.error().message;
        }
    }
    const auto timed =
        tools::parse_command_args(Json::parse(R"({"argv":["x"],"timeout_seconds":1.5})"), true);
    ASSERT_TRUE(timed.ok());
    EXPECT_EQ(timed.value().timeout->count(), 1500);
    const auto piped =
        tools::parse_command_args(Json::parse(R"({"pipeline":[["seq","3"],["tail"]]})"), false);
    ASSERT_TRUE(piped.ok());
    EXPECT_EQ(*piped.value().pipeline,
              (std::vector<std::vector<std::string>>{{"seq", "3"}, {"tail"}}));
    EXPECT_FALSE(piped.value().argv.has_value());
    // check_command takes no timeout.
    EXPECT_FALSE(
        tools::parse_command_args(Json::parse(R"({"argv":["x"],"timeout_seconds":1})"), false)
            .ok());
}

CallReport ran(int exit_code) {
    CallReport c;
    c.kind = gate::Kind::kRan;
    c.allowed = c.started = true;
    c.exit_code = exit_code;
    c.exit_status = exit_code;
    c.rule = "r";
    c.stdout_text = "out\n";
    return c;
}

TEST(Tools, RunResultStatuses) {
    struct Case {
        std::string name;
        CallReport report;
        bool cancelled;
        std::string status;
        bool is_error;
    };
    CallReport denied;
    denied.kind = gate::Kind::kDenied;
    denied.reason = "no rule allows the program \"cat\"";
    denied.usage = {"echo WORD"};
    denied.message = "bridle: denied: no rule allows the program \"cat\"\n";
    denied.exit_status = 77;
    CallReport unparsable;
    unparsable.reason = "cannot parse the request";
    unparsable.exit_status = 64;
    CallReport help;
    help.kind = gate::Kind::kHelp;
    help.allowed = true;
    help.exit_status = 0;
    help.message = "bridle: commands you may run\n";
    CallReport timed_out = ran(-1);
    timed_out.timed_out = true;
    timed_out.signal = 15;
    CallReport signalled = ran(-1);
    signalled.signal = 9;
    CallReport disconnected = ran(-1);
    disconnected.disconnected = true;
    disconnected.signal = 15;
    CallReport exec_failed;
    exec_failed.kind = gate::Kind::kRan;
    exec_failed.allowed = true;
    exec_failed.exit_status = 127;
    CallReport unaudited;
    unaudited.kind = gate::Kind::kUnaudited;
    unaudited.allowed = true;
    unaudited.exit_status = 69;
    CallReport pending;  // a rule with approval: decided, allowed, waits for a person
    pending.kind = gate::Kind::kPending;
    pending.allowed = true;
    pending.exit_status = 75;
    pending.message = "bridle: not run: rule r needs approval\n";
    pending.approval = Json{{"id", std::string(32, 'a')},
                            {"code", "K7QF-3M9D"},
                            {"state", "pending"},
                            {"expires", 1796546659},
                            {"approvers", {"admin"}},
                            {"required", 1},
                            {"approvals", 0}};
    // clang-format off
    const std::vector<Case> cases = {
        {"exit 0", ran(0), false, "ok", false},
        {"exit 1", ran(1), false, "exit_nonzero", false},
        {"killed by a signal", signalled, false, "exit_nonzero", false},
        {"denied", denied, false, "denied", true},
        {"unparsable", unparsable, false, "denied", true},
        {"help", help, false, "ok", false},
        {"timeout", timed_out, false, "timeout", true},
        {"cancelled by the client", disconnected, false, "cancelled", true},
        {"session ending", ran(0), true, "cancelled", true},
        {"session ending before it started", denied, true, "denied", true},
        {"exec failed", exec_failed, false, "error", true},
        {"audit refused", unaudited, false, "error", true},
        {"waits for approval", pending, false, "approval_required", false},
    };
    // clang-format on
    const Json schema = tools::definitions()["tools"][0]["outputSchema"];
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Json r = tools::run_result(c.report, c.cancelled);
        EXPECT_EQ(r["structuredContent"]["status"], c.status);
        EXPECT_EQ(r["isError"], c.is_error);
        // Every property given is in the schema, and the required ones are there.
        for (const auto& [k, v] : r["structuredContent"].items())
            EXPECT_TRUE(schema["properties"].contains(k)) << k;
        for (const auto& k : schema["required"])
            EXPECT_TRUE(r["structuredContent"].contains(k.get<std::string>()));
    }
    const Json d = tools::run_result(denied, false);
    const std::string text = d["content"][0]["text"];
    EXPECT_NE(text.find("no rule allows"), std::string::npos);
    EXPECT_NE(text.find("list_allowed_commands"), std::string::npos);
    EXPECT_EQ(d["structuredContent"]["usage"], Json::array({"echo WORD"}));
    const Json waits = tools::run_result(pending, false);
    EXPECT_EQ(waits["structuredContent"]["approval"]["code"], "K7QF-3M9D");
    EXPECT_EQ(waits["structuredContent"]["bridle_status"], 75);
    // The worker's report carries the approval to the session.
    Result<CallReport> back = report_from_json(to_json(pending));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value().approval, pending.approval);
    EXPECT_EQ(back.value().kind, gate::Kind::kPending);
    const Json ok = tools::run_result(ran(1), false);
    EXPECT_EQ(ok["structuredContent"]["exit_code"], 1);
    EXPECT_EQ(ok["content"][0]["text"], "out\n[exit status 1]\n");
    EXPECT_EQ(tools::error_result("x", true)["structuredContent"]["status"], "error");
    EXPECT_FALSE(tools::error_result("x", false).contains("structuredContent"));
    EXPECT_EQ(tools::not_started_result("x")["structuredContent"]["status"], "cancelled");
}

// A call crosses the request pipe to a long-lived worker as one line, every field whole.
TEST(Worker, ACallCrossesTheRequestPipeWholeAsOneLine) {
    CallRequest call;
    gate::Request& r = call.request;
    r.text = "echo 'a b'\n\tc";
    r.argv = std::vector<std::string>{"printf", "%s\n",
                                      "\x01"
                                      "caf\xc3\xa9"};
    r.pipeline = std::vector<std::vector<std::string>>{{"cat"}, {"wc", "-l"}};
    r.key = "agent";
    r.client = "10.0.0.1 50000 10.0.0.2 22";
    r.session_id = "0123456789abcdef";
    r.fanout_id = "fan";
    r.front_end = "mcp";
    r.run_as = "ai-agent";
    r.request_id = "rid";
    r.timeout = std::chrono::milliseconds(1500);
    call.upload = std::string("line one\nline two\0three", 24);
    Result<std::string> line = request_line(call);
    ASSERT_TRUE(line) << line.error().message;
    EXPECT_EQ(line.value().find('\n'), line.value().size() - 1);
    Result<CallRequest> back = call_from_json(Json::parse(line.value()));
    ASSERT_TRUE(back) << back.error().message;
    const gate::Request& b = back.value().request;
    EXPECT_EQ(b.text, r.text);
    EXPECT_EQ(b.argv, r.argv);
    EXPECT_EQ(b.pipeline, r.pipeline);
    EXPECT_EQ(b.key, r.key);
    EXPECT_EQ(b.client, r.client);
    EXPECT_EQ(b.session_id, r.session_id);
    EXPECT_EQ(b.fanout_id, r.fanout_id);
    EXPECT_EQ(b.front_end, r.front_end);
    EXPECT_EQ(b.run_as, r.run_as);
    EXPECT_EQ(b.request_id, r.request_id);
    EXPECT_EQ(b.timeout, r.timeout);
    EXPECT_EQ(back.value().upload, call.upload);
    EXPECT_FALSE(b.upload);  // the worker makes the reader

    // Absent stays absent.
    CallRequest bare;
    bare.request.text = "uptime";
    back = call_from_json(Json::parse(request_line(bare).value()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_FALSE(back.value().request.argv);
    EXPECT_FALSE(back.value().request.pipeline);
    EXPECT_FALSE(back.value().request.timeout);
    EXPECT_FALSE(back.value().upload);
}

TEST(Worker, WhatCannotCrossWholeIsRefused) {
    CallRequest call;
    call.request.text = "echo \xff";  // not UTF-8: escaping would change it
    EXPECT_FALSE(request_line(call));
    call.request.text = "echo";
    call.request.task_id = "t";  // only the task gate sets it: a worker would lose it
    EXPECT_FALSE(request_line(call));
    call.request.task_id.clear();
    call.request.upload = [](std::uint64_t, std::chrono::milliseconds) { return gate::Upload{}; };
    EXPECT_FALSE(request_line(call));  // the reader is the worker's to make
    call.request.upload = nullptr;
    call.upload = std::string(2 * jsonrpc::kMaxLineBytes, '\x01');  // 12 MiB escaped
    EXPECT_FALSE(request_line(call));
    call.upload.reset();
    const Json good = Json::parse(request_line(call).value());
    EXPECT_TRUE(call_from_json(good));
    for (const char* field : {"text", "argv", "timeout_ms", "upload"}) {
        Json missing = good;
        missing.erase(field);
        EXPECT_FALSE(call_from_json(missing)) << field;
    }
    Json extra = good;
    extra["sudo_user"] = "root";
    EXPECT_FALSE(call_from_json(extra));
    Json wrong = good;
    wrong["argv"] = Json::array({1, 2});
    EXPECT_FALSE(call_from_json(wrong));
    EXPECT_FALSE(call_from_json(Json::array()));
}

TEST(Tools, DefinitionsAndAnnotations) {
    const Json tools_list = tools::definitions()["tools"];
    ASSERT_EQ(tools_list.size(), 9u);
    EXPECT_EQ(tools_list[8]["name"], "wait_for_approval");  // last: the order never changes
    EXPECT_EQ(tools_list[0]["name"], "run_command");
    EXPECT_EQ(tools_list[3]["name"], "read_file");
    EXPECT_EQ(tools_list[3]["annotations"]["readOnlyHint"], true);
    EXPECT_EQ(tools_list[4]["name"], "write_file");
    EXPECT_EQ(tools_list[4]["annotations"]["destructiveHint"], true);
    EXPECT_EQ(tools_list[0]["outputSchema"]["properties"]["status"]["enum"],
              Json::array({"ok", "exit_nonzero", "denied", "timeout", "cancelled", "error",
                           "approval_required"}));
    EXPECT_EQ(tools_list[0]["annotations"]["readOnlyHint"], false);
    EXPECT_EQ(tools_list[0]["annotations"]["destructiveHint"], true);
    for (std::size_t i = 1; i < 3; ++i) {
        EXPECT_EQ(tools_list[i]["annotations"]["readOnlyHint"], true);
        EXPECT_EQ(tools_list[i]["annotations"]["destructiveHint"], false);
        EXPECT_TRUE(tools_list[i].contains("outputSchema"));
    }
    for (const auto& t : tools_list) {
        EXPECT_EQ(t["inputSchema"]["type"], "object");
        EXPECT_FALSE(t["description"].get<std::string>().empty());
    }
}

// The revision of a request: a 2026-07-28 envelope makes it stand alone; a wrong version
// is -32022 naming what is supported; a broken envelope is -32602, never legacy traffic;
// no envelope is the 2025 path, unchanged (server/discover excepted: it is 2026-only).
TEST(Revision, ClassifiesEachRequestByItsEnvelope) {
    const Json good = {{revision::kProtocolVersionKey, "2026-07-28"},
                       {revision::kClientCapabilitiesKey, Json::object()},
                       {revision::kClientInfoKey, {{"name", "t"}, {"version", "1"}}}};
    auto with_meta = [](Json meta) { return Json{{"_meta", std::move(meta)}}; };
    auto without = [&](const char* key) {
        Json meta = good;
        meta.erase(key);
        return with_meta(meta);
    };
    auto changed = [&](const char* key, Json value) {
        Json meta = good;
        meta[key] = std::move(value);
        return with_meta(meta);
    };
    using revision::Era;
    constexpr int kNone = 0;
    struct Case {
        std::string name;
        std::string method;
        Json params;
        Era era;
        int code;  // kNone: accepted
        std::string message_part;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"discover", "server/discover", with_meta(good), Era::kModern, kNone, ""},
        {"tools/call", "tools/call", Json{{"name", "x"}, {"_meta", good}}, Era::kModern, kNone, ""},
        {"no client info", "tools/list", without(revision::kClientInfoKey), Era::kModern, kNone, ""},
        {"progress token too", "tools/list", changed("progressToken", 3), Era::kModern, kNone, ""},
        {"legacy: no params", "tools/list", nullptr, Era::kLegacy, kNone, ""},
        {"legacy: _meta without version", "tools/call", with_meta({{"progressToken", 1}}), Era::kLegacy, kNone, ""},
        {"legacy: _meta not an object", "tools/call", with_meta(5), Era::kLegacy, kNone, ""},
        {"legacy: initialize", "initialize", Json{{"protocolVersion", "2025-06-18"}}, Era::kLegacy, kNone, ""},
        {"discover without params", "server/discover", nullptr, Era::kModern, -32602, "no _meta"},
        {"discover without _meta", "server/discover", Json::object(), Era::kModern, -32602, "no _meta"},
        {"discover, _meta without version", "server/discover", without(revision::kProtocolVersionKey), Era::kModern, -32602, "names no protocol version"},
        {"future version", "tools/list", changed(revision::kProtocolVersionKey, "2099-01-01"), Era::kModern, -32022, "2099-01-01"},
        {"2025 version per request", "tools/list", changed(revision::kProtocolVersionKey, "2025-11-25"), Era::kModern, -32022, "through initialize"},
        {"empty version", "server/discover", changed(revision::kProtocolVersionKey, ""), Era::kModern, -32022, "Unsupported"},
        {"version a number", "tools/list", changed(revision::kProtocolVersionKey, 20260728), Era::kModern, -32602, "must be a string"},
        {"version null", "tools/list", changed(revision::kProtocolVersionKey, nullptr), Era::kModern, -32602, "must be a string"},
        {"no capabilities", "tools/list", without(revision::kClientCapabilitiesKey), Era::kModern, -32602, "has no io.modelcontextprotocol/clientCapabilities"},
        {"capabilities an array", "tools/call", changed(revision::kClientCapabilitiesKey, Json::array()), Era::kModern, -32602, "must be an object"},
        {"client info a string", "tools/list", changed(revision::kClientInfoKey, "me"), Era::kModern, -32602, "clientInfo must be an object"},
        {"unknown method, bad version", "resources/list", changed(revision::kProtocolVersionKey, "1"), Era::kModern, -32022, "Unsupported"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const revision::Classification got = revision::classify(c.method, c.params);
        EXPECT_EQ(got.era, c.era);
        if (c.code == kNone) {
            EXPECT_FALSE(got.refusal.has_value()) << got.refusal->message;
            continue;
        }
        ASSERT_TRUE(got.refusal.has_value());
        EXPECT_EQ(static_cast<int>(got.refusal->code), c.code);
        EXPECT_NE(got.refusal->message.find(c.message_part), std::string::npos)
            << got.refusal->message;
        if (c.code == -32022) {
            EXPECT_EQ(got.refusal->data["supported"],
                      Json::array({"2026-07-28", "2025-11-25", "2025-06-18"}));
            EXPECT_TRUE(got.refusal->data["requested"].is_string());
        }
    }
}

TEST(Revision, AHugeVersionIsEchoedBoundedAndEscaped) {
    const Json params = {{"_meta",
                          {{revision::kProtocolVersionKey, std::string(100000, 'v') + "\n\x1b"},
                           {revision::kClientCapabilitiesKey, Json::object()}}}};
    const auto got = revision::classify("tools/list", params);
    ASSERT_TRUE(got.refusal.has_value());
    EXPECT_LT(got.refusal->message.size(), 400u);
    EXPECT_EQ(got.refusal->message.find('\x1b'), std::string::npos);
    EXPECT_EQ(got.refusal->data["requested"].get<std::string>().size(), 100u);
}

TEST(Revision, MethodsOf2026) {
    for (const char* m : {"server/discover", "tools/list", "tools/call"}) {
        EXPECT_TRUE(revision::is_modern_method(m)) << m;
    }
    // Removed by 2026-07-28 (initialize, ping) or not offered by bridle.
    for (const char* m : {"initialize", "ping", "notifications/initialized", "resources/list",
                          "prompts/list", "subscriptions/listen", "logging/setLevel", ""}) {
        EXPECT_FALSE(revision::is_modern_method(m)) << m;
    }
}

TEST(Revision, ResultsAreShapedPerEra) {
    const Json server = {{"name", "bridle"}, {"version", "9"}};
    const Json result = {{"content", Json::array()}, {"isError", false}};
    EXPECT_EQ(revision::shape_result(result, revision::Era::kLegacy, true, server), result);

    const Json call = revision::shape_result(result, revision::Era::kModern, false, server);
    EXPECT_EQ(call["resultType"], "complete");
    EXPECT_FALSE(call.contains("ttlMs"));
    EXPECT_FALSE(call.contains("cacheScope"));
    EXPECT_EQ(call["_meta"][revision::kServerInfoKey], server);
    EXPECT_EQ(call["isError"], false);

    const Json list =
        revision::shape_result(tools::definitions(), revision::Era::kModern, true, server);
    EXPECT_EQ(list["resultType"], "complete");
    EXPECT_EQ(list["ttlMs"], revision::kListTtlMs);
    EXPECT_EQ(list["cacheScope"], "private");
    EXPECT_EQ(list["tools"], tools::definitions()["tools"]);

    const Json discover = revision::discover_result(server, "read the rules");
    EXPECT_EQ(discover["supportedVersions"],
              Json::array({"2026-07-28", "2025-11-25", "2025-06-18"}));
    EXPECT_EQ(discover["capabilities"],
              Json({{"tools", {{"listChanged", false}}},
                    {"extensions", {{"io.modelcontextprotocol/tasks", Json::object()}}}}));
    EXPECT_EQ(discover["instructions"], "read the rules");
    EXPECT_EQ(discover["resultType"], "complete");
    EXPECT_TRUE(discover["ttlMs"].is_number_integer());
    EXPECT_GE(discover["ttlMs"].get<int>(), 0);
    EXPECT_EQ(discover["_meta"][revision::kServerInfoKey], server);
}

// Progress carries the end of the output so far, bounded, escaped, from a line start.
TEST(Tools, ProgressCarriesTheOutputsTail) {
    std::string tail;
    tools::keep_tail(tail, "first\n");
    tools::keep_tail(tail, "second\n");
    EXPECT_EQ(tail, "first\nsecond\n");
    EXPECT_EQ(tools::progress_message("make", 4, tail),
              "running make for 4 s; output so far ends: first\\nsecond");
    EXPECT_EQ(tools::progress_message("sleep 9", 2, ""), "running sleep 9 for 2 s");

    // Many small pieces and one huge one: only the last kProgressTailBytes are kept.
    for (int i = 0; i < 1000; ++i) tools::keep_tail(tail, "line " + std::to_string(i) + "\n");
    EXPECT_EQ(tail.size(), kProgressTailBytes);
    EXPECT_EQ(tail.substr(tail.size() - 9), "line 999\n");
    tools::keep_tail(tail, std::string(100000, 'x') + "end\n");
    EXPECT_EQ(tail.size(), kProgressTailBytes);
    EXPECT_EQ(tail.substr(tail.size() - 4), "end\n");

    // A cut tail starts after its first newline; control bytes never reach the message.
    tail.clear();
    tools::keep_tail(tail, std::string(600, 'a') + "\nwhole line\x1b[31m\n");
    const std::string message = tools::progress_message("x", 1, tail);
    EXPECT_NE(message.find("ends: whole line\\x1B[31m"), std::string::npos) << message;
    EXPECT_EQ(message.find('\x1b'), std::string::npos);
    EXPECT_EQ(message.find("aaa"), std::string::npos);
    EXPECT_LT(message.size(), 2 * kProgressTailBytes);
}

// 2026-07-28 lets clients cache tools/list and compare it: the order and the bytes of the
// definitions must not depend on anything but the build.
TEST(Tools, DefinitionsAreDeterministic) {
    const Json first = tools::definitions();
    std::vector<std::string> names;
    for (const auto& t : first["tools"]) names.push_back(t["name"]);
    EXPECT_EQ(names,
              (std::vector<std::string>{"run_command", "list_allowed_commands", "check_command",
                                        "read_file", "write_file", "get_task", "get_task_output",
                                        "cancel_task", "wait_for_approval"}));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(tools::definitions().dump(), first.dump());
    // 2026-07-28 deleted Tool.execution (the 2025-11-25 task hint): bridle never sends it.
    for (const auto& t : first["tools"]) EXPECT_FALSE(t.contains("execution"));
}

// Regression: words sent as argv bypass the tokenizer; a NUL would have matched as one
// word and been exec'd as a shorter one.
TEST(GateArgv, TokenizerCharacterRulesApplyToArgv) {
    policy::LoadReport report;
    auto p = policy::parse_policy_text(
        "version: 1\nrules:\n  - id: echo\n    command: /bin/echo\n"
        "    args: [{name: word, regex: '.*'}]\n",
        "session.yaml", true, report);
    ASSERT_TRUE(p) << p.error().full();
    class NoAudit final : public audit::Sink {
      public:
        Status write(const audit::Record&) override { return ok_status(); }
    } sink;
    gate::SystemResolver resolver;
    const gate::Context context{p.value(), sink, resolver};
    struct Case {
        std::string name;
        std::vector<std::string> argv;
        bool allowed;
        std::string reason_part;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"plain", {"echo", "a b;|$(x)"}, true, ""},
        {"nul", {"echo", std::string("a\0b", 3)}, false, "U+0000"},
        {"newline", {"echo", "a\nb"}, false, "U+000A"},
        {"escape", {"echo", "\x1b[31m"}, false, "U+001B"},
        {"zero width", {"echo", "a\u200bb"}, false, "word 2"},
        {"bad utf-8", {"echo", "\xff"}, false, "UTF-8"},
        {"empty", {}, false, "empty"},
        {"too long", {"echo", std::string(70000, 'a')}, false, "longer"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        gate::Request request;
        request.argv = c.argv;
        const gate::Response r = gate::explain(context, request);
        EXPECT_EQ(r.decision.verdict == matching::Verdict::kAllow, c.allowed) << r.decision.reason;
        if (!c.allowed) {
            EXPECT_NE(r.decision.reason.find(c.reason_part), std::string::npos)
                << r.decision.reason;
        }
    }
}

// read_file and write_file: their arguments become a get or put request's words; a put's
// content arrives as text or base64, with --size from what was decoded.
TEST(FileTools, ArgumentsBecomeTheRequestsWords) {
    using tools::parse_file_args;
    auto r = parse_file_args("read_file", Json{{"path", "/a"}, {"offset", 10}, {"limit", 20}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().argv, (std::vector<std::string>{"get", "/a", "--offset=10", "--limit=20"}));
    r = parse_file_args("write_file", Json{{"path", "/a"}, {"content", "hi\n"}, {"mode", "0640"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().argv, (std::vector<std::string>{"put", "/a", "--mode=0640", "--size=3"}));
    EXPECT_EQ(r.value().content, "hi\n");
    r = parse_file_args("write_file", Json{{"path", "/a"}, {"content_base64", "AP8="}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().content, std::string("\0\xff", 2));
    struct Bad {
        const char* tool;
        Json args;
        const char* message;
    };
    const std::vector<Bad> bad = {
        {"read_file", Json::array(), "needs its arguments"},
        {"read_file", Json{{"path", 1}}, "needs path"},
        {"read_file", Json{{"path", "/a"}, {"limit", 0}}, "limit must be"},
        {"read_file", Json{{"path", "/a"}, {"limit", 1 << 30}}, "limit must be"},
        {"read_file", Json{{"path", "/a"}, {"offset", -1}}, "offset must be"},
        {"read_file", Json{{"path", "/a"}, {"content", "x"}}, "has no argument"},
        {"write_file", Json{{"path", "/a"}}, "exactly one of content"},
        {"write_file", Json{{"path", "/a"}, {"content", "x"}, {"content_base64", "eA=="}},
         "exactly one of content"},
        {"write_file", Json{{"path", "/a"}, {"content_base64", "e==="}}, "not valid base64"},
        {"write_file", Json{{"path", "/a"}, {"content_base64", "eA"}}, "not valid base64"},
        {"write_file", Json{{"path", "/a"}, {"content", "x"}, {"mode", 420}},
         "mode must be a string"},
    };
    for (const Bad& b : bad) {
        SCOPED_TRACE(b.args.dump());
        const auto refused = parse_file_args(b.tool, b.args);
        ASSERT_FALSE(refused);
        EXPECT_NE(refused.error().message.find(b.message), std::string::npos)
            << refused.error().message;
    }
}

TEST(FileTools, Base64RoundTripsEveryLengthAndRefusesTheNonCanonical) {
    std::string bytes;
    for (int n = 0; n < 70; ++n) {
        const std::string encoded = tools::base64_encode(bytes);
        EXPECT_EQ(encoded.size() % 4, 0u);
        EXPECT_EQ(tools::base64_decode(encoded), bytes) << encoded;
        bytes += static_cast<char>(n * 37);
    }
    EXPECT_EQ(tools::base64_encode("foobar"), "Zm9vYmFy");
    for (const char* bad : {"Zm9", "Zm9v!", "Zg=a", "=Zg=", "Zm==Zm9v", "Z==="}) {
        EXPECT_FALSE(tools::base64_decode(bad)) << bad;
    }
}

TEST(FileTools, ResultsCarryTheOutcomeAndBytesThatAreNotTextAsBase64) {
    CallReport c;
    c.kind = gate::Kind::kRan;
    c.allowed = true;
    c.exit_status = 0;
    c.stdout_text = std::string("\x01\xff", 2);
    gate::FileOutcome f;
    f.verb = "get";
    f.path = "/a";
    f.status = "ok";
    f.size = 10;
    c.file = tools::file_outcome_json(f);
    Json r = tools::file_result(tools::kReadFile, c);
    EXPECT_EQ(r["isError"], false);
    EXPECT_EQ(r["structuredContent"]["encoding"], "base64");
    EXPECT_EQ(r["structuredContent"]["content"], "Af8=");
    EXPECT_EQ(r["structuredContent"]["more"], true);
    f.verb = "put";
    f.status = "refused";
    f.validator = "check";
    f.validator_status = 1;
    c.file = tools::file_outcome_json(f);
    c.exit_status = 65;
    r = tools::file_result(tools::kWriteFile, c);
    EXPECT_EQ(r["isError"], true);
    EXPECT_EQ(r["structuredContent"]["status"], "refused");
    EXPECT_EQ(r["structuredContent"]["validator_status"], 1);
    c.allowed = false;
    c.kind = gate::Kind::kDenied;
    c.file = tools::file_outcome_json(gate::FileOutcome{});
    EXPECT_EQ(tools::file_result(tools::kWriteFile, c)["structuredContent"]["status"], "denied");
}

// The task tools: arguments become the `task` request's words, and nothing else does.
TEST(TaskTools, ArgumentsBecomeTaskWords) {
    using V = std::vector<std::string>;
    EXPECT_EQ(tools::task_argv(tools::kGetTask, Json{{"task_id", "00000000000000aa"}}).value(),
              (V{"task", "status", "00000000000000aa"}));
    EXPECT_EQ(tools::task_argv(tools::kCancelTask, Json{{"task_id", "x"}}).value(),
              (V{"task", "cancel", "x"}));  // the gate refuses the id itself
    EXPECT_EQ(
        tools::task_argv(tools::kGetTaskOutput, Json{{"task_id", "a"}, {"offset", 12}}).value(),
        (V{"task", "output", "a", "--offset", "12"}));
    for (const Json& bad :
         {Json(nullptr), Json::object(), Json{{"task_id", 5}},
          Json{{"task_id", "a"}, {"offset", -1}}, Json{{"task_id", "a"}, {"x", 1}}}) {
        EXPECT_FALSE(tools::task_argv(tools::kGetTaskOutput, bad).ok()) << bad.dump();
    }
    EXPECT_FALSE(tools::task_argv(tools::kGetTask, Json{{"task_id", "a"}, {"offset", 1}}).ok());
}

TEST(TaskTools, ResultsCarryTheTaskFields) {
    CallReport started;
    started.allowed = true;
    started.kind = gate::Kind::kHelp;
    started.message = "00000000000000aa\n";
    Json r = tools::task_result(started);
    EXPECT_EQ(r["structuredContent"]["task_id"], "00000000000000aa");
    EXPECT_EQ(r["structuredContent"]["state"], "running");
    EXPECT_FALSE(r["isError"].get<bool>());
    CallReport output = started;
    output.message.clear();
    output.stdout_text = "tick\n";
    output.stderr_text = "bridle: task 00000000000000aa: exited; next offset 5\n";
    r = tools::task_result(output);
    EXPECT_EQ(r["structuredContent"]["output"], "tick\n");
    EXPECT_EQ(r["structuredContent"]["next_offset"], 5);
    EXPECT_EQ(r["structuredContent"]["state"], "exited");
    CallReport status = started;
    status.message = "id: 00000000000000aa\nstate: exited\nexit_status: 3\n";
    r = tools::task_result(status);
    EXPECT_EQ(r["structuredContent"]["exit_status"], 3);
    CallReport denied;
    denied.message = "bridle: no task\n";
    r = tools::task_result(denied);
    EXPECT_TRUE(r["isError"].get<bool>());
    EXPECT_EQ(r["structuredContent"]["status"], "denied");
}

// The Tasks extension (SEP-2663): who declared it, and bridle's task states as its statuses.
TEST(TaskExtension, DeclarationAndStatuses) {
    const Json caps = Json{{"extensions", {{task_extension::kId, Json::object()}}}};
    EXPECT_TRUE(
        task_extension::declared(Json{{"_meta", {{revision::kClientCapabilitiesKey, caps}}}}));
    EXPECT_FALSE(task_extension::declared(
        Json{{"_meta", {{revision::kClientCapabilitiesKey, Json::object()}}}}));
    EXPECT_FALSE(task_extension::declared(Json{{"_meta", {{"extensions", caps["extensions"]}}}}));
    EXPECT_FALSE(task_extension::declared(nullptr));
    EXPECT_EQ(task_extension::task_id_of(Json{{"taskId", "00000000000000aa"}}), "00000000000000aa");
    EXPECT_FALSE(task_extension::task_id_of(Json{{"taskId", 7}}));

    CallReport started;
    started.allowed = true;
    started.kind = gate::Kind::kHelp;
    started.message = "00000000000000aa\n";
    const std::optional<Json> created = task_extension::created(started, 3'600'000);
    ASSERT_TRUE(created);
    EXPECT_EQ((*created)["taskId"], "00000000000000aa");
    EXPECT_EQ((*created)["status"], "working");
    EXPECT_EQ((*created)["ttlMs"], 3'600'000);
    CallReport denied;
    denied.message = "bridle: the rule does not allow tasks\n";
    EXPECT_FALSE(task_extension::created(denied, 1));

    const auto status_of = [&](const std::string& state) {
        CallReport r = started;
        r.message = "id: 00000000000000aa\nstate: " + state +
                    "\nstarted: 1700000000\nended: 1700000060\nexit_status: 2\n";
        return task_extension::snapshot(r, 1).value_or(Json{{"status", "none"}});
    };
    EXPECT_EQ(status_of("running")["status"], "working");
    EXPECT_EQ(status_of("exited")["status"], "completed");
    EXPECT_EQ(status_of("timed-out")["status"], "completed");
    EXPECT_EQ(status_of("idle-timeout")["status"], "completed");
    EXPECT_EQ(status_of("cancelled")["status"], "cancelled");
    EXPECT_EQ(status_of("lost")["status"], "failed");
    EXPECT_TRUE(status_of("failed").contains("error"));
    EXPECT_EQ(status_of("exited")["createdAt"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(status_of("exited")["lastUpdatedAt"], "2023-11-14T22:14:20Z");
    EXPECT_FALSE(task_extension::snapshot(denied, 1));

    CallReport output = started;
    output.message.clear();
    output.stdout_text = "tick\n";
    output.stderr_text = "bridle: task 00000000000000aa: exited; next offset 5\n";
    const Json done = task_extension::with_result(status_of("exited"), output);
    EXPECT_EQ(done["result"]["structuredContent"]["output"], "tick\n");
    EXPECT_EQ(done["result"]["structuredContent"]["exit_status"], 2);
    EXPECT_TRUE(done["result"]["isError"].get<bool>());
    EXPECT_FALSE(done.contains("exit_status"));
}

}  // namespace
}  // namespace bridle::session

namespace bridle::session {
namespace {

// wait_for_approval's arguments: an id (the approval id, checked by the gate) and an optional
// bound, at most kMaxWait; everything else is refused with a reason.
TEST(WaitTool, Arguments) {
    const std::string id = "0123456789abcdef0123456789abcdef";
    struct Case {
        std::string name;
        Json arguments;
        std::string error;  // empty: accepted
        std::int64_t timeout_ms = 0;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"id only: the default bound", {{"id", id}}, "", 45000},
        {"a bound", {{"id", id}, {"timeout_seconds", 1.5}}, "", 1500},
        {"the cap itself", {{"id", id}, {"timeout_seconds", 300}}, "", 300000},
        {"no arguments", nullptr, "needs its arguments", 0},
        {"not an object", Json::array({id}), "needs its arguments", 0},
        {"no id", Json::object(), "`id` is missing", 0},
        {"id not a string", {{"id", 7}}, "`id` must be a string", 0},
        {"over the cap", {{"id", id}, {"timeout_seconds", 301}}, "at most 300", 0},
        {"zero", {{"id", id}, {"timeout_seconds", 0}}, "more than 0", 0},
        {"negative", {{"id", id}, {"timeout_seconds", -1}}, "more than 0", 0},
        {"not a number", {{"id", id}, {"timeout_seconds", "60"}}, "must be a number", 0},
        {"unknown argument", {{"id", id}, {"approve", true}}, "unknown argument", 0},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const auto args = tools::parse_wait_args(c.arguments);
        if (c.error.empty()) {
            ASSERT_TRUE(args) << args.error().message;
            EXPECT_EQ(args.value().id, id);
            EXPECT_EQ(args.value().timeout.count(), c.timeout_ms);
        } else {
            ASSERT_FALSE(args);
            EXPECT_NE(args.error().message.find(c.error), std::string::npos)
                << args.error().message;
        }
    }
}

// Every state is an answer (never isError), with the approval and what to do next, and is one
// of the outputSchema's statuses; a refusal is a tool error with status error.
TEST(WaitTool, ResultsMatchTheSchema) {
    const Json definition = tools::wait_definition();
    EXPECT_EQ(definition["name"], "wait_for_approval");
    EXPECT_EQ(definition["inputSchema"]["required"], Json::array({"id"}));
    EXPECT_EQ(definition["inputSchema"]["additionalProperties"], false);
    EXPECT_EQ(definition["annotations"]["readOnlyHint"], true);
    const Json statuses = definition["outputSchema"]["properties"]["status"]["enum"];
    gate::ApprovalInfo info{
        "0123456789abcdef0123456789abcdef", "K7QF-3M9D", "", 1796546659, {"admin", "bob"}, 2, 1};
    for (const char* state : {"approved", "rejected", "expired", "void", "consumed", "pending"}) {
        SCOPED_TRACE(state);
        info.state = state;
        const Json r = tools::wait_result(info, "what next", 1500);
        EXPECT_EQ(r["isError"], false);
        EXPECT_EQ(r["structuredContent"]["status"], state);
        EXPECT_NE(std::find(statuses.begin(), statuses.end(), Json(state)), statuses.end());
        EXPECT_EQ(r["structuredContent"]["approval"]["approvals"], 1);
        EXPECT_EQ(r["structuredContent"]["approval"]["code"], "K7QF-3M9D");
        EXPECT_EQ(r["structuredContent"]["next"], "what next");
        EXPECT_EQ(r["structuredContent"]["waited_ms"], 1500);
        for (const auto& [name, value] : r["structuredContent"].items()) {
            EXPECT_TRUE(definition["outputSchema"]["properties"].contains(name)) << name;
        }
    }
    const Json refused = tools::wait_error("no approval request X of this key on this host");
    EXPECT_EQ(refused["isError"], true);
    EXPECT_EQ(refused["structuredContent"]["status"], "error");
    EXPECT_NE(refused["content"][0]["text"].get<std::string>().find("of this key"),
              std::string::npos);
    info.state = "pending";
    EXPECT_EQ(tools::wait_progress_message(info, 10),
              "waiting for approval K7QF-3M9D for 10 s: pending, 1 of 2 approvals");
}

}  // namespace
}  // namespace bridle::session
