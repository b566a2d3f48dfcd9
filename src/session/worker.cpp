// SPDX-License-Identifier: Apache-2.0
// The worker processes of a session's calls, their requests and their reports.
//
// Why a process per call: execution::run blocks signals in its thread, makes the process a
// child subreaper and reaps *every* child as part of the command's tree. Two calls in one
// process at once would reap each other's commands. A worker takes one call at a time, so
// each call has exactly the forced command's pipeline: same gate, same sandbox, same audit
// records. Between two calls nothing of the first is left in it: execution::run has killed
// and reaped the command's tree, a task's supervisor was never its child (detach.cpp), and
// the signals that call left pending are discarded before the next request is read.
#include "session/worker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "execution/runner.hpp"
#include "os/fd.hpp"
#include "session/file_tools.hpp"
#include "session/wait_tool.hpp"

namespace bridle::session {
namespace {

using jsonrpc::Json;

// A request line's bound: one MCP message (jsonrpc::kMaxLineBytes) whose strings may grow six
// times when re-escaped (a control byte becomes \u00XX), and the fields around them.
constexpr std::size_t kMaxRequestBytes = 6 * jsonrpc::kMaxLineBytes + 64 * 1024;

// A put's content, whole: it came as one JSON string, so nothing can cut it.
gate::UploadReader upload_of(std::string content) {
    return [content = std::move(content)](std::uint64_t max_bytes, std::chrono::milliseconds) {
        gate::Upload upload;
        upload.bytes = content.substr(0, max_bytes + 1);  // one more tells "too large"
        upload.complete = true;
        return upload;
    };
}

// Keeps up to kMaxToolOutputBytes of each stream; the gate counts every byte anyway. Copies
// the end of each chunk to the session's output pipe for progress notifications.
struct Capture {
    std::string out, err;
    bool dropped = false;
    int tail_fd = -1;

    bool take(execution::Stream stream, std::string_view bytes) {
        std::string& into = stream == execution::Stream::kStdout ? out : err;
        const std::size_t room =
            kMaxToolOutputBytes - std::min<std::size_t>(kMaxToolOutputBytes, into.size());
        if (bytes.size() > room) dropped = true;
        into.append(bytes.substr(0, room));
        // Non-blocking and unchecked: a full pipe (a session busy elsewhere) or a gone one
        // must never slow the command; the session keeps only the last bytes anyway.
        if (bytes.size() > kProgressTailBytes)
            bytes.remove_prefix(bytes.size() - kProgressTailBytes);
        if (tail_fd >= 0) (void)!::write(tail_fd, bytes.data(), bytes.size());
        return true;  // keep the command running; the session is still there
    }
};

CallReport report_of(const gate::Context& context, const gate::Request& request,
                     const gate::Response& r, Capture& capture) {
    CallReport c;
    c.request_id = r.request_id;
    c.exit_status = r.exit_status;
    c.kind = r.kind;
    c.allowed = r.decision.verdict == matching::Verdict::kAllow;
    c.started = r.outcome.started;
    c.timed_out = r.outcome.timed_out;
    c.disconnected = r.outcome.disconnected;
    if (r.outcome.started && !r.outcome.timed_out && r.outcome.signal == 0)
        c.exit_code = r.outcome.exit_status;
    c.signal = r.outcome.signal;
    c.rule = gate::rule_ids(r);
    if (r.kind == gate::Kind::kRan) {
        for (const gate::Response& stage : r.stages) c.pipestatus.push_back(stage.exit_status);
    }
    c.detached_pid = r.detached_pid;
    c.reason = c.allowed ? std::string() : r.decision.reason;
    c.usage = r.decision.nearest;
    c.message = r.message;
    c.stdout_text = std::move(capture.out);
    c.stderr_text = std::move(capture.err);
    c.stdout_bytes = r.outcome.stdout_bytes;
    c.stderr_bytes = r.outcome.stderr_bytes;
    c.truncated = capture.dropped || r.outcome.stdout_truncated || r.outcome.stderr_truncated;
    c.duration_ms = r.outcome.duration.count();
    if (r.file) c.file = tools::file_outcome_json(*r.file);
    if (r.approval) c.approval = tools::approval_json(*r.approval);
    if (r.decision.rule != nullptr) {
        auto timeout = r.decision.rule->timeout.value_or(context.policy.settings.timeout);
        for (const gate::Response& stage : r.stages) {
            timeout = std::min(
                timeout, stage.decision.rule->timeout.value_or(context.policy.settings.timeout));
        }
        if (request.timeout && *request.timeout < timeout) timeout = *request.timeout;
        c.timeout_ms = timeout.count();
    }
    return c;
}

// Signals the call left pending (a cancellation that came after its command ended, a
// SIGCHLD): the next call starts with none.
void discard_pending_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    for (const int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) ::sigaddset(&set, sig);
    const timespec now{};
    while (::sigtimedwait(&set, nullptr, &now) > 0) {
    }
}

// One call: the gate, then the report line. False when the report could not be written.
bool run_call(const gate::Context& context, const gate::Request& request, int request_fd,
              int report_fd, int tail_fd) {
    std::string text;
    {
        Capture capture;
        capture.tail_fd = tail_fd;
        const execution::OutputSink sink = [&capture](execution::Stream s, std::string_view bytes) {
            return capture.take(s, bytes);
        };
        // The report pipe is the worker's link to the session: when the session is gone the
        // pipe's write end reports POLLERR, which execution::run treats as a departed client.
        gate::Request call = request;
        call.detach_close_fds = {request_fd, report_fd, tail_fd};  // a task's supervisor
                                                                   // outlives the call
        // Each call counts against the key's guardrails, as a request of its own; the slot
        // is held until the call is done, and given back before its answer.
        os::UniqueFd slot;
        std::optional<gate::Response> over = gate::admit(context, call, slot);
        if (slot.get() >= 0) call.detach_close_fds.push_back(slot.get());
        const gate::Response response =
            over ? std::move(*over) : gate::handle(context, call, sink, {report_fd});
        // One line: dump(-1) escapes every newline inside the report's strings.
        text = to_json(report_of(context, request, response, capture))
                   .dump(-1, ' ', false, Json::error_handler_t::replace) +
               '\n';
    }
    // Before the report, not after it: once the session has the report it may hand over the
    // next call and cancel it at once, and that signal must not be discarded. One for this
    // call that comes later stays pending, but the session never reuses a worker it
    // signalled.
    discard_pending_signals();
    return os::write_all(report_fd, text);
}

// The next request line, without its newline; nullopt at the pipe's end. A line over
// kMaxRequestBytes, or a read error, is the end too: the session never sends one.
std::optional<std::string> next_request(int fd, std::string& buffer) {
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
        if (const std::size_t end = buffer.find('\n'); end != std::string::npos) {
            std::string line = buffer.substr(0, end);
            buffer.erase(0, end + 1);
            return line;
        }
        if (buffer.size() > kMaxRequestBytes) return std::nullopt;
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        buffer.append(chunk.data(), static_cast<std::size_t>(n));
    }
}

// The worker's whole life: one call per request line, until the session closes the pipe (or
// dies: the pipe's end comes with it). Never returns.
[[noreturn]] void serve_calls(const gate::Context& context, int request_fd, int report_fd,
                              int tail_fd) {
    // One request after another: each command starts from the init kept from the one before,
    // with no copy of this process (execution/kept_init.hpp).
    execution::keep_inits(true);
    std::string buffer;
    for (;;) {
        const std::optional<std::string> line = next_request(request_fd, buffer);
        if (!line) ::_exit(buffer.empty() ? 0 : 70);
        bool reported = false;
        try {
            const Json json = Json::parse(*line, nullptr, false);
            Result<CallRequest> call = json.is_discarded()
                                           ? Result<CallRequest>(Error{"not JSON", ""})
                                           : call_from_json(json);
            if (call) {
                if (call.value().upload)
                    call.value().request.upload = upload_of(*call.value().upload);
                reported = run_call(context, call.value().request, request_fd, report_fd, tail_fd);
            }
        } catch (...) {  // bad_alloc; nothing crosses the fork
        }
        // No report (a broken request, no memory, a gone session): the session answers from
        // the worker's end, and this worker ends.
        if (!reported) ::_exit(70);
    }
}

Result<Json> request_json(const CallRequest& call) {
    const gate::Request& r = call.request;
    // What only other front ends set: a worker would lose it, so it is refused here.
    if (!r.sudo_user.empty() || !r.target_rule.empty() || !r.parent_request_id.empty() ||
        !r.task_id.empty() || !r.detach_close_fds.empty() || r.upload) {
        return Error{"a session's request carries a field a worker does not take", ""};
    }
    Json json{{"text", r.text},
              {"argv", r.argv ? Json(*r.argv) : Json(nullptr)},
              {"pipeline", r.pipeline ? Json(*r.pipeline) : Json(nullptr)},
              {"key", r.key},
              {"client", r.client},
              {"session_id", r.session_id},
              {"fanout_id", r.fanout_id},
              {"front_end", r.front_end},
              {"run_as", r.run_as},
              {"request_id", r.request_id},
              {"timeout_ms", r.timeout ? Json(r.timeout->count()) : Json(nullptr)},
              {"upload", call.upload ? Json(*call.upload) : Json(nullptr)}};
    return json;
}

}  // namespace

Json to_json(const CallReport& c) {
    return Json{{"request_id", c.request_id},
                {"exit_status", c.exit_status},
                {"kind", gate::kind_name(c.kind)},
                {"allowed", c.allowed},
                {"started", c.started},
                {"timed_out", c.timed_out},
                {"disconnected", c.disconnected},
                {"exit_code", c.exit_code},
                {"signal", c.signal},
                {"rule", c.rule},
                {"reason", c.reason},
                {"usage", c.usage},
                {"message", c.message},
                {"stdout", c.stdout_text},
                {"stderr", c.stderr_text},
                {"stdout_bytes", c.stdout_bytes},
                {"stderr_bytes", c.stderr_bytes},
                {"truncated", c.truncated},
                {"duration_ms", c.duration_ms},
                {"timeout_ms", c.timeout_ms},
                {"pipestatus", c.pipestatus},
                {"file", c.file},
                {"detached_pid", c.detached_pid},
                {"approval", c.approval}};
}

Result<CallReport> report_from_json(const Json& j) {
    try {
        CallReport c;
        j.at("request_id").get_to(c.request_id);
        j.at("exit_status").get_to(c.exit_status);
        const std::optional<gate::Kind> kind =
            gate::kind_from_name(j.at("kind").get<std::string>());
        if (!kind) return Error{"the worker's report names no known outcome", ""};
        c.kind = *kind;
        j.at("allowed").get_to(c.allowed);
        j.at("started").get_to(c.started);
        j.at("timed_out").get_to(c.timed_out);
        j.at("disconnected").get_to(c.disconnected);
        j.at("exit_code").get_to(c.exit_code);
        j.at("signal").get_to(c.signal);
        j.at("rule").get_to(c.rule);
        j.at("reason").get_to(c.reason);
        j.at("usage").get_to(c.usage);
        j.at("message").get_to(c.message);
        j.at("stdout").get_to(c.stdout_text);
        j.at("stderr").get_to(c.stderr_text);
        j.at("stdout_bytes").get_to(c.stdout_bytes);
        j.at("stderr_bytes").get_to(c.stderr_bytes);
        j.at("truncated").get_to(c.truncated);
        j.at("duration_ms").get_to(c.duration_ms);
        j.at("timeout_ms").get_to(c.timeout_ms);
        j.at("pipestatus").get_to(c.pipestatus);
        c.file = j.at("file");
        if (!c.file.is_null() && !c.file.is_object()) {
            return Error{"the worker's report has a malformed file outcome", ""};
        }
        j.at("detached_pid").get_to(c.detached_pid);
        c.approval = j.at("approval");
        if (!c.approval.is_null() && !c.approval.is_object()) {
            return Error{"the worker's report has a malformed approval", ""};
        }
        return c;
    } catch (const std::exception& e) {
        return Error{std::string("the worker's report is incomplete: ") + e.what(), ""};
    }
}

Result<CallRequest> call_from_json(const Json& j) {
    try {
        if (!j.is_object() || j.size() != 12) return Error{"not a worker's request", ""};
        CallRequest call;
        gate::Request& r = call.request;
        j.at("text").get_to(r.text);
        if (!j.at("argv").is_null()) r.argv = j.at("argv").get<std::vector<std::string>>();
        if (!j.at("pipeline").is_null()) {
            r.pipeline = j.at("pipeline").get<std::vector<std::vector<std::string>>>();
        }
        j.at("key").get_to(r.key);
        j.at("client").get_to(r.client);
        j.at("session_id").get_to(r.session_id);
        j.at("fanout_id").get_to(r.fanout_id);
        j.at("front_end").get_to(r.front_end);
        j.at("run_as").get_to(r.run_as);
        j.at("request_id").get_to(r.request_id);
        if (!j.at("timeout_ms").is_null()) {
            r.timeout = std::chrono::milliseconds(j.at("timeout_ms").get<std::int64_t>());
        }
        if (!j.at("upload").is_null()) call.upload = j.at("upload").get<std::string>();
        return call;
    } catch (const std::exception& e) {
        return Error{std::string("not a worker's request: ") + e.what(), ""};
    }
}

Result<Worker> start_worker(const gate::Context& context, const std::vector<int>& close_fds) {
    os::UniqueFd request_read, request_write, report_read, report_write, tail_read, tail_write;
    if (!os::make_pipe(request_read, request_write) || !os::make_pipe(report_read, report_write) ||
        !os::make_pipe(tail_read, tail_write) ||
        ::fcntl(tail_write.get(), F_SETFL, O_NONBLOCK) != 0) {
        return Error{"cannot create a pipe: " + std::string(std::strerror(errno)), ""};
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Error{"cannot start a worker: " + std::string(std::strerror(errno)), ""};
    if (pid == 0) {
        // 1. The session's death reaches the worker as SIGHUP, which stays blocked (inherited
        //    mask) until execution::run reads it and kills the command; an idle worker sees
        //    the request pipe end instead. The re-check closes the window in which the
        //    session died before prctl.
        if (::prctl(PR_SET_PDEATHSIG, SIGHUP) != 0 || ::getppid() != parent) ::_exit(70);
        // 2. stdin and stdout carry the MCP stream: nothing in the worker may read or write
        //    them, and a rule that allows stdin gets an empty one.
        const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(null_fd, STDOUT_FILENO) < 0)
            ::_exit(70);
        if (null_fd > STDERR_FILENO) ::close(null_fd);
        // 3. The session's descriptors (its signalfd, other workers' pipes) and the session's
        //    ends of ours: not ours. The request pipe's end then comes with the session's.
        request_write.reset();
        report_read.reset();
        tail_read.reset();
        for (const int fd : close_fds) ::close(fd);
        serve_calls(context, request_read.get(), report_write.get(), tail_write.get());
    }
    ::fcntl(report_read.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(tail_read.get(), F_SETFL, O_NONBLOCK);
    return Worker{pid, request_write.release(), report_read.release(), tail_read.release()};
}

Result<std::string> request_line(const CallRequest& call) {
    Result<Json> json = request_json(call);
    if (!json) return json.error();
    std::string line;
    try {
        line = json.value().dump(-1, ' ', false, Json::error_handler_t::strict) + '\n';
    } catch (const Json::exception&) {
        return Error{"the request is not valid UTF-8", ""};
    }
    if (line.size() > kMaxRequestBytes) return Error{"the request is too large for a worker", ""};
    return line;
}

void close_fds(Worker& worker) {
    for (int* fd : {&worker.request_fd, &worker.fd, &worker.tail_fd}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

}  // namespace bridle::session
