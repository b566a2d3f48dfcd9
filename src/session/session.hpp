// SPDX-License-Identifier: Apache-2.0
// Front end: session mode. One SSH channel carries many requests as the Model Context
// Protocol (JSON-RPC 2.0, one message per line on stdin/stdout); every tools/call goes
// through the same gate as the forced command, in a worker process of its own, except
// wait_for_approval, which reads the approval store from the session's loop (waits.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "gate/approval_wait.hpp"
#include "gate/gate.hpp"
#include "session/jsonrpc.hpp"
#include "session/revision.hpp"
#include "session/tools.hpp"
#include "session/worker.hpp"

namespace bridle::session {

struct Options {
    std::string key;      // --key NAME from authorized_keys
    std::string client;   // SSH_CONNECTION
    std::string run_as;   // the account commands run as (for the records)
    std::string version;  // bridle's version, for serverInfo
};

// Serves one session on stdin/stdout until stdin ends, stdout breaks, or SIGHUP/SIGTERM/
// SIGINT arrives; then kills and reaps everything it started. Returns bridle's exit status.
int serve(const gate::Context& context, const Options& options);

// The session's state and its two halves: the MCP methods (mcp.cpp) and the processes,
// signals and event loop (session.cpp).
class Session {
  public:
    Session(const gate::Context& context, const Options& options, int signal_fd);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    int run();

  private:
    using Clock = std::chrono::steady_clock;
    using Json = jsonrpc::Json;

    struct Pending {  // a run_command waiting for a free worker slot
        Json id;
        gate::Request request;
        Json progress_token;                         // null: none
        revision::Era era = revision::Era::kLegacy;  // shapes the answer
        std::string tool = "run_command";            // run_command, read_file or write_file,
                                                     // or a step of the Tasks extension
                                                     // (task_extension.hpp: kCreate...)
        bool task_tool = false;  // a `task ...` request: answered by tools::task_result
        Json carried = nullptr;  // kGetResult: the task's snapshot, to inline the result into
        std::optional<std::string> upload = std::nullopt;  // write_file: the content to put
    };
    struct Call {  // a run_command in a worker
        Json id;
        Worker worker;             // its pipes are -1 once closed (the worker then ends)
        std::string report;        // the worker's report, as it arrives
        std::string tail;          // the output's last kProgressTailBytes, for progress
        bool pipe_closed = false;  // no more to read: the report's end or the pipe's
        bool reaped = false;
        bool answered = false;   // replied to from a complete report; kept until reaped
        bool cancelled = false;  // notifications/cancelled: no response is sent
        bool ending = false;     // killed because the session is ending
        Json progress_token;
        revision::Era era = revision::Era::kLegacy;
        bool task_tool = false;
        Clock::time_point started, next_progress;
        std::int64_t progress = 0;
        std::string label;  // the request, for progress messages
        std::string tool;   // which tool's result the report becomes
        Json carried;
        std::string fanout_id;  // the message's (request_for): a follow-up step records it too

        // Its line ended: the worker waits for the next call.
        bool report_complete() const { return !report.empty() && report.back() == '\n'; }
    };

    struct Wait {  // a wait_for_approval, polled from the loop (waits.cpp)
        Json id;
        revision::Era era = revision::Era::kLegacy;
        Json progress_token;  // null: none
        std::string approval_id;
        gate::approvals::Waiter waiter;
        gate::approvals::Observation last;  // the state seen last
        Clock::time_point started, deadline, next_poll, next_progress;
        std::int64_t progress = 0;
    };

    // mcp.cpp: one message in, replies out.
    void handle_line(const jsonrpc::LineReader::Line& line);
    void handle_request(const jsonrpc::Message& m);
    void handle_modern_request(const jsonrpc::Message& m);
    void handle_notification(const jsonrpc::Message& m);
    void initialize(const jsonrpc::Message& m);
    void list_tools(const jsonrpc::Message& m, revision::Era era);
    void call_tool(const jsonrpc::Message& m, revision::Era era);
    void task_method(const jsonrpc::Message& m);
    void answer_task_step(const Call& call, const CallReport& report);
    void call_file_tool(const jsonrpc::Message& m, revision::Era era, const std::string& tool,
                        const Json& arguments);
    // A successful answer, shaped for the request's revision (resultType, cache hints).
    void reply(const Json& id, Json result, revision::Era era, bool cacheable = false);
    Json server_info() const;
    std::string instructions() const;
    void cancel(const Json& request_id);
    // `m`'s request as the gate takes it; the fleet controller's fan-out id from its _meta.
    gate::Request request_for(const tools::CommandArgs& args, const jsonrpc::Message& m) const;

    // waits.cpp: wait_for_approval, without a worker: the store is read from the loop.
    void start_wait(const jsonrpc::Message& m, revision::Era era, const Json& arguments,
                    const Json& progress_token);
    void poll_waits();
    // Ends `wait` (its approval-waited record with `outcome`) and, when `answer`, replies with
    // its last state. The caller removes it from waits_.
    void end_wait(Wait& wait, const std::string& outcome, bool answer);

    // session.cpp: processes and I/O.
    void send(const std::string& line);
    void enqueue(Pending pending);
    void start_pending();
    // An idle worker with `line` written to it, or a new one.
    Result<Worker> hand_over(const std::string& line);
    // The session's descriptors that a new worker closes.
    std::vector<int> own_fds() const;
    // Back to the idle workers after its answer, when nothing rules it out; true if it went.
    bool keep_worker(Call& call);
    void read_stdin();
    void read_report(Call& call);
    void read_tail(Call& call);
    void handle_signals();
    void reap_children();
    void finish_calls();
    void send_progress();
    // One notifications/progress to `token`; `progress` grows to at least `seconds`.
    void notify_progress(const Json& token, std::int64_t& progress, std::int64_t seconds,
                         const std::string& message);
    void shut_down();
    bool is_busy(const Json& id) const;

    const gate::Context& context_;
    const Options options_;
    const std::string session_id_;
    const int signal_fd_;
    const std::size_t max_running_;
    jsonrpc::LineReader reader_;
    bool initialized_ = false;
    bool stdin_open_ = true, stdout_open_ = true, ending_ = false;
    std::deque<Pending> queue_;
    std::vector<Call> calls_;
    std::vector<Worker> idle_;  // workers waiting for their next call (at most max_running_)
    std::vector<Wait> waits_;
    // One buffer for every read (stdin, reports, output tails), on the heap: the workers are
    // forks of this process, and a 64 KiB array on the stack (probed page by page) would cost
    // this process 16 copied pages per read after each fork.
    std::vector<char> read_buffer_;
    // The supervisors of tasks started in this session: they reparent to the session (a
    // subreaper) but outlive it; reaped when they end, never killed (gate/task_gate.cpp).
    std::vector<pid_t> tasks_;
    bool is_task(pid_t pid) const;
};

}  // namespace bridle::session
