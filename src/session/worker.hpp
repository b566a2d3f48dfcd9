// SPDX-License-Identifier: Apache-2.0
// The processes that run a session's tools/call requests (run_command, read_file,
// write_file): each call's gate::handle runs in a worker (it needs a process to itself: it
// blocks signals, becomes a subreaper and reaps every child), which reports the result to
// the session over a pipe. A worker is forked once and serves one call after another: a fork
// of the session per call, and the copy-on-write faults that follow it, were the largest
// part of a call's cost (docs/benchmarks.md, "A session call, step by step").
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "gate/gate.hpp"
#include "session/jsonrpc.hpp"

namespace bridle::session {

// Per stream, what a tool result carries of a command's output (the rule's max_output
// applies first). An agent's context is small; the rest is counted, not returned.
constexpr std::uint64_t kMaxToolOutputBytes = 128 * 1024;
// How much of a running command's latest output a progress notification carries.
constexpr std::size_t kProgressTailBytes = 512;

// What a worker reports: the gate's response in plain fields, and the output it kept.
struct CallReport {
    std::string request_id;
    int exit_status = 70;                       // bridle's status, as the forced command would exit
    gate::Kind kind = gate::Kind::kUnparsable;  // what became of the request
    bool allowed = false, started = false;      // the verdict; the command started
    bool timed_out = false, disconnected = false;
    int exit_code = -1;  // the command's own status, when it exited
    int signal = 0;
    std::string rule, reason;
    std::vector<std::string> usage;  // the nearest rules' synopses, for a denial
    std::string message;             // bridle's own words (help text, denial, notes)
    std::string stdout_text, stderr_text;
    std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
    bool truncated = false;  // the rule's cap or kMaxToolOutputBytes dropped output
    std::int64_t duration_ms = 0, timeout_ms = 0;
    std::vector<int> pipestatus;  // a pipeline's: each stage's status, as bridle would exit
    jsonrpc::Json file;           // a file request's gate::FileOutcome (file_tools.hpp); null
    int detached_pid = -1;        // `task start`: the task's supervisor, now the session's child
    jsonrpc::Json approval;       // a rule with approval (gate::ApprovalInfo): id, code, state,
                                  // expires, approvers, required, approvals; null otherwise
};

jsonrpc::Json to_json(const CallReport& report);
// The worker's report as read back by the session; an error when it is not one.
Result<CallReport> report_from_json(const jsonrpc::Json& json);

struct Worker {
    pid_t pid = -1;
    int request_fd = -1;  // write end of the request pipe (O_CLOEXEC): one request per line
    int fd = -1;  // read end of the report pipe (O_CLOEXEC, non-blocking): one report per line
    // Read end of the output pipe (O_CLOEXEC, non-blocking): a copy of what the command
    // writes, as the client would get it, while it runs (for progress). Best effort: the
    // worker drops what does not fit rather than wait. It never holds a finished call's
    // bytes once that call's report has been read to its end.
    int tail_fd = -1;
};

// One call as the session hands it to a worker: the request, and a put's content (a
// write_file's), from which the worker makes the gate's upload reader.
struct CallRequest {
    gate::Request request;
    std::optional<std::string> upload;
};

// A request line (request_line's, parsed) back as the call. Only what a session's request
// carries crosses the pipe: request_line refuses anything else set in `request` (an error,
// never dropped), and this refuses a line that is not exactly its form.
Result<CallRequest> call_from_json(const jsonrpc::Json& json);

// Forks a worker. In the worker: the death of the session delivers SIGHUP
// (PR_SET_PDEATHSIG); stdin and stdout are /dev/null (they are the MCP stream); `close_fds`
// (the session's own descriptors: its signalfd, other workers' pipes) are closed; then, for
// each request line: gate::handle (its output copied to the output pipe as it comes), the
// report line; at the request pipe's end, _exit. The caller must have SIGHUP, SIGTERM, SIGINT
// and SIGCHLD blocked: the worker inherits the mask, so a cancellation that arrives before
// gate::handle starts the command stays pending and is read by execution::run's signalfd (see
// session.cpp). A worker that was signalled must not be given another call: a signal that
// came after its report could end the next one.
Result<Worker> start_worker(const gate::Context& context, const std::vector<int>& close_fds);

// `call` as the line a worker reads (the session writes it to Worker::request_fd). An error
// when it cannot be one: a field only other front ends set, not UTF-8, or larger than a
// worker takes.
Result<std::string> request_line(const CallRequest& call);

// Closes the session's ends of a worker's pipes (those still open) and marks them closed; the
// worker ends at its request pipe's end.
void close_fds(Worker& worker);

}  // namespace bridle::session
