// SPDX-License-Identifier: Apache-2.0
// `bridle fleet mcp -i INVENTORY`: the agent-facing MCP server (stdio, MCP 2025 revisions) of
// the controller. Tools: list_hosts, run_command, list_allowed_commands, check_command. Each
// tools/call runs in a thread of its own, so a long fan-out streams per-host progress while
// other requests are answered, and notifications/cancelled reaches every host of the call.
// The model sees host names, groups and results: never an address, a user or a key file.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/exit_code.hpp"
#include "fleet/fanout.hpp"
#include "fleet/fleet.hpp"
#include "fleet/journal.hpp"
#include "os/fd.hpp"
#include "session/file_tools.hpp"
#include "session/task_tools.hpp"

namespace bridle::fleet {
namespace {

namespace jsonrpc = session::jsonrpc;
using jsonrpc::ErrorCode;

constexpr std::array<const char*, 3> kVersions{"2025-11-25", "2025-06-18", "2025-03-26"};
// The host's own tools, passed through to one host with their arguments (less `host`): the host
// validates and decides them, and a host that does not offer one says so. Not wait_for_approval:
// a host's calls share one session, one at a time, which a wait of minutes would hold up.
constexpr std::array<const char*, 5> kPassThrough{
    session::tools::kGetTask, session::tools::kGetTaskOutput, session::tools::kCancelTask,
    session::tools::kReadFile, session::tools::kWriteFile};

bool is_pass_through(const std::string& tool) {
    return std::any_of(kPassThrough.begin(), kPassThrough.end(),
                       [&](const char* name) { return tool == name; });
}

// Calls running at once; one more is refused (each is a thread and up to max_parallel more).
constexpr std::size_t kMaxCalls = 16;

Json string_array() {
    return Json{{"type", "array"}, {"items", {{"type", "string"}}}};
}

Json command_properties() {
    return Json{
        {"argv",
         {{"type", "array"},
          {"items", {{"type", "string"}}},
          {"description", "the command as words, e.g. [\"df\", \"-h\", \"/\"]"}}},
        {"command",
         {{"type", "string"},
          {"description", "the command as one line (no shell syntax but `a | b`)"}}},
        {"pipeline",
         {{"type", "array"},
          {"items", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"description",
           "a pipeline, each stage's argv, e.g. [[\"journalctl\", \"-n\", \"500\"], "
           "[\"grep\", \"error\"]]; each stage must be allowed in its place on the host"}}}};
}

Json tool_definitions() {
    Json run = command_properties();
    run["hosts"] = string_array();
    run["hosts"]["description"] = "inventory host names";
    run["group"] = {{"type", "string"},
                    {"description", "an inventory group (\"all\": every host)"}};
    run["timeout_seconds"] = {{"type", "integer"},
                              {"description",
                               "each host's timeout (default 120; the host's rule "
                               "may be shorter)"}};
    run["max_parallel"] = {{"type", "integer"},
                           {"description", "hosts at once (default 32, at most 64)"}};
    run["stop_on_failure"] = {{"type", "boolean"},
                              {"description", "start no more hosts once one has failed"}};
    run["background"] = {{"type", "boolean"},
                         {"description",
                          "start it as a task on each host (its rule must allow tasks): each "
                          "host's task_id at once; then get_task, get_task_output, cancel_task "
                          "with `host`"}};
    Json check = command_properties();
    check["host"] = {{"type", "string"}};
    const Json host_only{{"type", "object"},
                         {"properties", {{"host", {{"type", "string"}}}}},
                         {"required", {"host"}},
                         {"additionalProperties", false}};
    Json tools{
        {"tools",
         {{{"name", "list_hosts"},
           {"description",
            "The inventory's hosts: groups, whether bridle answers over ssh, its version."},
           {"inputSchema",
            {{"type", "object"},
             {"properties", {{"group", {{"type", "string"}}}}},
             {"additionalProperties", false}}}},
          {{"name", "run_command"},
           {"description",
            "Run one command on several hosts (`hosts` or `group`). Each host's own bridle policy "
            "decides; results come per host with one status each (ok, exit_nonzero, denied, "
            "approval_required, timeout, unreachable, error, cancelled, skipped) and a summary."},
           {"inputSchema",
            {{"type", "object"}, {"properties", run}, {"additionalProperties", false}}}},
          {{"name", "list_allowed_commands"},
           {"description", "The commands a host's policy allows this controller's key."},
           {"inputSchema", host_only}},
          {{"name", "check_command"},
           {"description", "Whether a host's policy would allow a command; runs nothing."},
           {"inputSchema",
            {{"type", "object"},
             {"properties", check},
             {"required", {"host"}},
             {"additionalProperties", false}}}}}}};
    for (const char* name : kPassThrough) {
        tools["tools"].push_back(
            {{"name", name},
             {"description", std::string("The host's own ") + name +
                                 " tool on one host: `host`, then that tool's arguments (see "
                                 "the host's bridle; its policy decides)."},
             {"inputSchema",
              {{"type", "object"},
               {"properties", {{"host", {{"type", "string"}}}}},
               {"required", {"host"}}}}});
    }
    return tools;
}

Json text_result(const std::string& text, bool is_error, Json structured = nullptr) {
    Json r{{"content", {{{"type", "text"}, {"text", text}}}}, {"isError", is_error}};
    if (!structured.is_null()) r["structuredContent"] = std::move(structured);
    return r;
}

// The `hosts`/`group` of run_command as a pattern for select_hosts; "" with `error` set.
std::string target_pattern(const Json& args, std::string& error) {
    const bool has_hosts = args.contains("hosts"), has_group = args.contains("group");
    if (has_hosts == has_group) {
        error = "give exactly one of `hosts` (an array of host names) or `group`";
        return "";
    }
    if (has_group) {
        if (!args["group"].is_string() || args["group"].get<std::string>().empty()) {
            error = "`group` must be a group name";
            return "";
        }
        return args["group"].get<std::string>();
    }
    std::string pattern;
    if (!args["hosts"].is_array() || args["hosts"].empty()) {
        error = "`hosts` must be a non-empty array of host names";
        return "";
    }
    for (const Json& h : args["hosts"]) {
        if (!h.is_string() || h.get<std::string>().empty() ||
            h.get<std::string>().find(',') != std::string::npos) {
            error = "`hosts` must be host names";
            return "";
        }
        pattern += (pattern.empty() ? "" : ",") + h.get<std::string>();
    }
    return pattern;
}

// The words of one argv: a non-empty array of strings.
bool is_argv(const Json& argv) {
    return argv.is_array() && !argv.empty() &&
           std::all_of(argv.begin(), argv.end(), [](const Json& w) { return w.is_string(); });
}

// The command of a call: exactly one of argv, command or pipeline, passed to the host as it
// is (the host checks the rest: the number of stages, each stage's place).
bool command_arguments(const Json& args, Json& out, std::string& error) {
    const bool has_argv = args.contains("argv"), has_command = args.contains("command"),
               has_pipeline = args.contains("pipeline");
    if (int{has_argv} + int{has_command} + int{has_pipeline} != 1) {
        error =
            "give exactly one of `argv` (an array of words), `command` (one line) or "
            "`pipeline` (an array of argv)";
        return false;
    }
    if (has_pipeline) {
        const Json& p = args["pipeline"];
        if (!p.is_array() || p.size() < 2 || !std::all_of(p.begin(), p.end(), is_argv)) {
            error = "`pipeline` must be an array of at least 2 stages, each an array of strings";
            return false;
        }
        out["pipeline"] = p;
        return true;
    }
    if (has_argv) {
        if (!is_argv(args["argv"])) {
            error = "`argv` must be a non-empty array of strings";
            return false;
        }
        out["argv"] = args["argv"];
    } else {
        if (!args["command"].is_string()) {
            error = "`command` must be a string";
            return false;
        }
        out["command"] = args["command"];
    }
    return true;
}

bool read_int(const Json& args, const char* name, int max, int& out, std::string& error) {
    if (!args.contains(name)) return true;
    const Json& v = args[name];
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > max) {
        error =
            std::string("`") + name + "` must be a whole number from 1 to " + std::to_string(max);
        return false;
    }
    out = static_cast<int>(v.get<long long>());
    return true;
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s + " ";
}

// The table the model reads, then each host's output.
std::string fanout_text(const std::string& fanout_id, const std::vector<HostResult>& results) {
    const Json counts = summary(results);
    std::string text = "fan-out " + fanout_id + ": " + std::to_string(results.size()) + " hosts";
    for (const auto& [name, n] : counts.items()) {
        if (name != "hosts") text += ", " + n.dump() + " " + name;
    }
    text += "\n" + pad("HOST", 20) + pad("STATUS", 18) + pad("EXIT", 5) + "MS\n";
    for (const HostResult& r : results) {
        const Json& s = r.structured;
        const std::string exit =
            s.is_object() && s.contains("exit_code") ? s["exit_code"].dump() : "-";
        text += pad(r.host, 20) + pad(status_name(r.status), 18) + pad(exit, 5) +
                std::to_string(r.duration_ms) + "\n";
    }
    for (const HostResult& r : results) {
        std::string body = r.text.empty() ? r.message : r.text;
        if (body.empty()) continue;
        if (body.back() != '\n') body += '\n';
        text += "== " + r.host + " (" + status_name(r.status) + ")\n" + body;
    }
    return text;
}

class Server {
  public:
    explicit Server(Fleet& fleet) : fleet_(fleet) {}

    int serve() {
        jsonrpc::LineReader reader;
        std::array<char, 65536> buf{};
        for (;;) {
            const ssize_t n = ::read(0, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            jsonrpc::LineReader::Line line;
            while (reader.next(line)) handle(line);
        }
        // The client left: cancel what still runs, then wait for it (each host's call ends
        // at once: notifications/cancelled, or its session closed).
        {
            std::lock_guard lock(calls_mutex_);
            for (auto& [id, call] : calls_) os::write_all(call.cancel_write.get(), "x");
        }
        for (Worker& w : threads_) w.thread.join();
        return 0;
    }

  private:
    struct Call {
        os::UniqueFd cancel_read, cancel_write;
    };
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };

    // Joins the threads of the calls that have answered (they are about to return).
    void reap() {
        for (auto it = threads_.begin(); it != threads_.end();) {
            if (it->done->load()) {
                it->thread.join();
                it = threads_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void send(const std::string& line) {
        std::lock_guard lock(out_mutex_);
        os::write_all(1, line);
    }

    void handle(const jsonrpc::LineReader::Line& line) {
        if (line.too_long) {
            send(jsonrpc::error_line(nullptr, ErrorCode::kInvalidRequest, "message too long"));
            return;
        }
        const jsonrpc::Message m = jsonrpc::parse(line.text);
        switch (m.kind) {
            case jsonrpc::Message::Kind::kInvalid:
                send(jsonrpc::error_line(m.id, m.error, m.error_message));
                return;
            case jsonrpc::Message::Kind::kNotification:
                if (m.method == "notifications/cancelled" && m.params.is_object()) {
                    std::lock_guard lock(calls_mutex_);
                    const auto it = calls_.find(m.params.value("requestId", Json()).dump());
                    if (it != calls_.end()) os::write_all(it->second.cancel_write.get(), "x");
                }
                return;
            case jsonrpc::Message::Kind::kResponse:
                return;
            case jsonrpc::Message::Kind::kRequest:
                request(m);
                return;
            default:
                return;
        }
    }

    void request(const jsonrpc::Message& m) {
        if (m.method == "initialize") {
            std::string version = kVersions[0];
            const Json asked =
                m.params.is_object() ? m.params.value("protocolVersion", Json()) : Json();
            for (const char* v : kVersions) {
                if (asked == v) version = v;
            }
            send(jsonrpc::result_line(
                m.id,
                {{"protocolVersion", version},
                 {"capabilities", {{"tools", {{"listChanged", false}}}}},
                 {"serverInfo", {{"name", "bridle-fleet"}, {"version", BRIDLE_VERSION}}},
                 {"instructions",
                  "Tools run commands on the hosts of an inventory through each host's "
                  "bridle, which decides by its own policy and records every call in its "
                  "journal. Call list_hosts first, then list_allowed_commands for a host."}}));
        } else if (m.method == "ping") {
            send(jsonrpc::result_line(m.id, Json::object()));
        } else if (m.method == "tools/list") {
            send(jsonrpc::result_line(m.id, tool_definitions()));
        } else if (m.method == "tools/call") {
            start_call(m);
        } else {
            send(jsonrpc::error_line(m.id, ErrorCode::kMethodNotFound,
                                     "Method not found: " + m.method.substr(0, 200)));
        }
    }

    void start_call(const jsonrpc::Message& m) {
        const std::string key = m.id.dump();
        Call call;
        if (!os::make_pipe(call.cancel_read, call.cancel_write)) {
            send(jsonrpc::error_line(m.id, ErrorCode::kInternalError, "cannot make a pipe"));
            return;
        }
        const int cancel_fd = call.cancel_read.get();
        {
            std::lock_guard lock(calls_mutex_);
            if (calls_.count(key) != 0) {
                send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                         "a call with this id is still running"));
                return;
            }
            if (calls_.size() >= kMaxCalls) {
                send(jsonrpc::error_line(m.id, ErrorCode::kInvalidRequest,
                                         "too many calls at once (" + std::to_string(kMaxCalls) +
                                             "); wait for one to finish"));
                return;
            }
            calls_.emplace(key, std::move(call));
        }
        reap();
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::thread thread([this, m, key, cancel_fd, done] {
            Json result = call_tool(m, cancel_fd);
            // A cancelled call gets no response (MCP cancellation).
            pollfd p{cancel_fd, POLLIN, 0};
            const bool cancelled = ::poll(&p, 1, 0) == 1;
            {
                std::lock_guard lock(calls_mutex_);
                calls_.erase(key);
            }
            if (!cancelled) send(jsonrpc::result_line(m.id, result));
            *done = true;
        });
        threads_.push_back(Worker{std::move(thread), done});
    }

    Json call_tool(const jsonrpc::Message& m, int cancel_fd) {
        const Json params = m.params.is_object() ? m.params : Json::object();
        const Json name = params.value("name", Json());
        const Json args = params.value("arguments", Json::object());
        if (!name.is_string() || !args.is_object()) {
            return text_result("bridle fleet: tools/call needs a tool name and an arguments object",
                               true);
        }
        Json token = nullptr;
        if (params.contains("_meta") && params["_meta"].is_object()) {
            token = params["_meta"].value("progressToken", Json());
        }
        const std::string tool = name.get<std::string>();
        if (tool == "list_hosts") return list_hosts(args, cancel_fd);
        if (tool == "run_command") return run_command(args, cancel_fd, token);
        if (tool == "list_allowed_commands" || tool == "check_command" || is_pass_through(tool)) {
            return one_host(tool, args, cancel_fd);
        }
        return text_result("bridle fleet: unknown tool " + tool.substr(0, 100) +
                               " (list_hosts, run_command, list_allowed_commands, check_command)",
                           true);
    }

    Json list_hosts(const Json& args, int cancel_fd) {
        const std::string pattern = args.value("group", std::string("all"));
        auto hosts = select_hosts(fleet_.inventory(), pattern);
        if (!hosts) return text_result("bridle fleet: " + hosts.error().message, true);
        FanoutRequest request;  // a ping each: opens the sessions
        request.timeout_seconds = 10;
        request.cancel_fd = cancel_fd;
        const std::vector<HostResult> results = fleet_.run(hosts.value(), request);
        Json list = Json::array();
        std::string text = pad("HOST", 20) + pad("REACHABLE", 10) + pad("BRIDLE", 10) + "GROUPS\n";
        for (std::size_t i = 0; i < results.size(); ++i) {
            const Host& h = *hosts.value()[i];
            const bool up = results[i].status == HostStatus::kOk;
            Json entry{{"host", h.name}, {"groups", h.groups}, {"reachable", up}};
            if (up) entry["bridle_version"] = results[i].server_version;
            if (!up) entry["error"] = std::string(status_name(results[i].status));
            list.push_back(entry);
            std::string groups;
            for (const std::string& g : h.groups) groups += (groups.empty() ? "" : ",") + g;
            text += pad(h.name, 20) + pad(up ? "yes" : status_name(results[i].status), 10) +
                    pad(up ? results[i].server_version : "-", 10) + groups + "\n";
        }
        return text_result(text, false, Json{{"hosts", list}});
    }

    Json run_command(const Json& args, int cancel_fd, const Json& token) {
        std::string error;
        for (const auto& [key, value] : args.items()) {
            static const std::array<const char*, 9> kKnown{
                "hosts",        "group",           "argv",
                "command",      "pipeline",        "timeout_seconds",
                "max_parallel", "stop_on_failure", "background"};
            if (std::find_if(kKnown.begin(), kKnown.end(),
                             [&](const char* k) { return key == k; }) == kKnown.end()) {
                return text_result("bridle fleet: unknown argument `" + key.substr(0, 50) + "`",
                                   true);
            }
        }
        FanoutRequest request;
        request.tool = "run_command";
        request.arguments = Json::object();
        const std::string pattern = target_pattern(args, error);
        if (pattern.empty() || !command_arguments(args, request.arguments, error) ||
            !read_int(args, "timeout_seconds", kMaxTimeoutSeconds, request.timeout_seconds,
                      error) ||
            !read_int(args, "max_parallel", kMaxParallelCap, request.max_parallel, error)) {
            return text_result("bridle fleet: " + error, true);
        }
        if (args.contains("stop_on_failure")) {
            if (!args["stop_on_failure"].is_boolean()) {
                return text_result("bridle fleet: `stop_on_failure` must be true or false", true);
            }
            request.stop_on_failure = args["stop_on_failure"].get<bool>();
        }
        if (args.contains("background")) {  // the host's own argument: a task on each host
            if (!args["background"].is_boolean()) {
                return text_result("bridle fleet: `background` must be true or false", true);
            }
            request.arguments["background"] = args["background"];
        }
        auto hosts = select_hosts(fleet_.inventory(), pattern);
        if (!hosts) return text_result("bridle fleet: " + hosts.error().message, true);
        request.arguments["timeout_seconds"] = request.timeout_seconds;
        request.cancel_fd = cancel_fd;
        request.fanout_id = new_fanout_id();
        const std::size_t total = hosts.value().size();
        std::mutex progress_mutex;
        std::size_t done = 0;
        if (!token.is_null()) {
            request.on_done = [&](const HostResult& r) {
                std::lock_guard lock(progress_mutex);
                ++done;
                send(jsonrpc::notification_line(
                    "notifications/progress",
                    {{"progressToken", token},
                     {"progress", done},
                     {"total", total},
                     {"message", r.host + ": " + status_name(r.status)}}));
            };
        }
        std::vector<std::string> names;
        for (const Host* h : hosts.value()) names.push_back(h->name);
        const FanoutRecord record{request.fanout_id, "fleet-mcp", request.tool, request.arguments,
                                  names};
        (void)record_fanout_start(record);
        const std::vector<HostResult> results = fleet_.run(hosts.value(), request);
        (void)record_fanout_result(record, results);
        Json structured{{"fanout_id", request.fanout_id},
                        {"summary", summary(results)},
                        {"hosts", Json::array()}};
        for (const HostResult& r : results) structured["hosts"].push_back(host_json(r));
        return text_result(fanout_text(request.fanout_id, results), false, structured);
    }

    Json one_host(const std::string& tool, const Json& args, int cancel_fd) {
        if (!args.contains("host") || !args["host"].is_string()) {
            return text_result("bridle fleet: " + tool + " needs `host`", true);
        }
        const std::string host = args["host"].get<std::string>();
        const auto h =
            std::find_if(fleet_.inventory().hosts.begin(), fleet_.inventory().hosts.end(),
                         [&](const Host& x) { return x.name == host; });
        if (h == fleet_.inventory().hosts.end()) {
            return text_result(
                "bridle fleet: no host \"" + host.substr(0, 80) + "\" in the inventory", true);
        }
        FanoutRequest request;
        request.tool = tool;
        request.arguments = Json::object();
        std::string error;
        if (tool == "check_command" && !command_arguments(args, request.arguments, error)) {
            return text_result("bridle fleet: " + error, true);
        }
        if (tool == "list_allowed_commands" && args.size() != 1) {
            return text_result("bridle fleet: list_allowed_commands takes only `host`", true);
        }
        if (is_pass_through(tool)) {
            request.arguments = args;
            request.arguments.erase("host");
        }
        request.timeout_seconds = 30;
        request.cancel_fd = cancel_fd;
        request.fanout_id = new_fanout_id();
        const HostResult r = fleet_.run({&*h}, request).front();
        Json structured = r.structured.is_object() ? r.structured : Json::object();
        structured["host"] = r.host;
        structured["host_status"] = status_name(r.status);
        const bool answered = r.status == HostStatus::kOk || r.status == HostStatus::kDenied;
        return text_result(
            r.text.empty() ? r.host + ": " + status_name(r.status) + ": " + r.message : r.text,
            !answered, structured);
    }

    Fleet& fleet_;
    std::mutex out_mutex_;
    std::mutex calls_mutex_;
    std::map<std::string, Call> calls_;
    std::list<Worker> threads_;
};

}  // namespace

int serve_mcp(const CommonOptions& options) {
    auto inventory = load_inventory(options.inventory);
    if (!inventory) {
        std::cerr << "bridle: fleet: " << inventory.error().full() << "\n";
        return to_int(ExitCode::kConfig);
    }
    Fleet fleet(std::move(inventory.value()), SshSettings{"ssh", options.ssh_config, 10});
    return Server(fleet).serve();
}

}  // namespace bridle::fleet
