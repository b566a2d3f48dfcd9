// SPDX-License-Identifier: Apache-2.0
// One host's MCP session: `ssh HOST mcp` through the system's OpenSSH client (BatchMode, the
// user's ssh_config), opened on first use and reopened when it has dropped. The key file stays
// an argument of ssh in this process: nothing of it reaches a result.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/inventory.hpp"
#include "os/fd.hpp"
#include "session/jsonrpc.hpp"

namespace bridle::fleet {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct SshSettings {
    std::string program = "ssh";  // found in PATH
    std::string config_file;      // -F FILE; empty: the user's ~/.ssh/config and /etc/ssh
    int connect_timeout_s = 10;   // -o ConnectTimeout
};

// How long a call may wait, and the descriptor that becomes readable when it is cancelled
// (-1: none). Level-triggered: one write wakes every waiter.
struct Wait {
    Clock::time_point deadline;
    int cancel_fd = -1;
};

struct CallOutcome {
    enum class Kind {
        kResult,       // `result` holds the response's result
        kRpcError,     // the host answered with a JSON-RPC error (`message`)
        kUnreachable,  // ssh could not open the session (`message`: ssh's last words)
        kTimeout,      // the deadline passed (the session was closed)
        kCancelled,    // cancel_fd fired; notifications/cancelled was sent
        kDropped,      // the session ended during the call
    };
    Kind kind = Kind::kDropped;
    std::string message;
    Json result;
};

class Connection {
  public:
    Connection(Host host, SshSettings ssh) : host_(std::move(host)), ssh_(std::move(ssh)) {}
    ~Connection() { close(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // One request and its response; notifications the host sends meanwhile go to `notify`.
    // Opens the session first when there is none (or it has dropped). Callers serialise their
    // calls with mutex(): one request at a time per session.
    CallOutcome call(const std::string& method, const Json& params, const Wait& wait,
                     const std::function<void(const Json&)>& notify = {});
    // Ends the session (ssh's stdin closed, then SIGTERM, SIGKILL after 1 s).
    void close();
    bool is_open() const { return pid_ > 0; }
    const std::string& server_version() const { return server_version_; }
    const Host& host() const { return host_; }
    std::mutex& mutex() { return mutex_; }
    pid_t ssh_pid() const { return pid_; }

    // ssh's argv for this host (without the program name's path lookup).
    std::vector<std::string> ssh_argv() const;

  private:
    CallOutcome open(const Wait& wait);
    bool spawn(std::string& error);
    bool still_open();
    CallOutcome exchange(const Json& id, const Wait& wait,
                         const std::function<void(const Json&)>& notify);
    void drain_stderr();
    std::string without_paths(std::string text) const;

    Host host_;
    SshSettings ssh_;
    std::mutex mutex_;
    pid_t pid_ = -1;
    os::UniqueFd to_ssh_, from_ssh_, ssh_err_;
    session::jsonrpc::LineReader reader_;
    // What exchange() reads into: allocated once, not 64 KiB zeroed and faulted in on each call
    // thread's fresh stack (a profile of a 20-host fan-out showed that in the controller's CPU).
    std::vector<char> read_buffer_ = std::vector<char>(65536);
    std::string stderr_tail_;  // ssh's last words, for an unreachable host
    std::string server_version_;
    long next_id_ = 1;
};

}  // namespace bridle::fleet
