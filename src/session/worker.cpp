// SPDX-License-Identifier: Apache-2.0
// The worker process of one run_command call, and its report.
//
// Why a process per call: execution::run blocks signals in its thread, makes the process a
// child subreaper and reaps *every* child as part of the command's tree. Two calls in one
// process would reap each other's commands. In a worker of its own, each call has exactly
// the forced command's pipeline: same gate, same sandbox, same audit records.
#include "session/worker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "execution/runner.hpp"
#include "os/fd.hpp"
#include "session/file_tools.hpp"
#include "session/wait_tool.hpp"

namespace bridle::session {
namespace {

using jsonrpc::Json;

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

// The worker's whole life; never returns.
[[noreturn]] void run_worker(const gate::Context& context, const gate::Request& request,
                             int report_fd, int tail_fd) {
    int status = 0;
    try {
        Capture capture;
        capture.tail_fd = tail_fd;
        const execution::OutputSink sink = [&capture](execution::Stream s, std::string_view bytes) {
            return capture.take(s, bytes);
        };
        // The report pipe is the worker's link to the session: when the session is gone the
        // pipe's write end reports POLLERR, which execution::run treats as a departed client.
        gate::Request call = request;
        call.detach_close_fds = {report_fd, tail_fd};  // a task's supervisor outlives the call
        // Each call counts against the key's guardrails, as a request of its own; the slot
        // is held until this worker ends.
        os::UniqueFd slot;
        std::optional<gate::Response> over = gate::admit(context, call, slot);
        if (slot.get() >= 0) call.detach_close_fds.push_back(slot.get());
        const gate::Response response =
            over ? std::move(*over) : gate::handle(context, call, sink, {report_fd});
        const std::string text = to_json(report_of(context, request, response, capture))
                                     .dump(-1, ' ', false, Json::error_handler_t::replace);
        if (!os::write_all(report_fd, text)) status = 1;
    } catch (...) {  // bad_alloc; nothing crosses the fork
        status = 70;
    }
    // The session answers once the report's pipe closes: now, not after this process's
    // memory is torn down by _exit (the descriptors are closed last).
    ::close(report_fd);
    ::_exit(status);
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

Result<Worker> start_worker(const gate::Context& context, const gate::Request& request,
                            const std::vector<int>& close_fds) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return Error{"cannot create a pipe: " + std::string(std::strerror(errno)), ""};
    int tail[2];
    if (::pipe2(tail, O_CLOEXEC | O_NONBLOCK) != 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        return Error{"cannot create a pipe: " + std::string(std::strerror(err)), ""};
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        for (const int fd : {fds[0], fds[1], tail[0], tail[1]}) ::close(fd);
        return Error{"cannot start a worker: " + std::string(std::strerror(err)), ""};
    }
    if (pid == 0) {
        // 1. The session's death reaches the worker as SIGHUP, which stays blocked (inherited
        //    mask) until execution::run reads it and kills the command. The re-check closes
        //    the window in which the session died before prctl.
        if (::prctl(PR_SET_PDEATHSIG, SIGHUP) != 0 || ::getppid() != parent) ::_exit(70);
        // 2. stdin and stdout carry the MCP stream: nothing in the worker may read or write
        //    them, and a rule that allows stdin gets an empty one.
        const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(null_fd, STDOUT_FILENO) < 0)
            ::_exit(70);
        if (null_fd > STDERR_FILENO) ::close(null_fd);
        // 3. The session's descriptors (its signalfd, other workers' pipes): not ours.
        ::close(fds[0]);
        ::close(tail[0]);
        for (const int fd : close_fds) ::close(fd);
        run_worker(context, request, fds[1], tail[1]);
    }
    ::close(fds[1]);
    ::close(tail[1]);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return Worker{pid, fds[0], tail[0]};
}

}  // namespace bridle::session
