// SPDX-License-Identifier: Apache-2.0
// The fan-out: one tool call on many hosts, at most max_parallel at a time, each host with its
// own deadline, so that a host that is down or hangs costs only its own result. Every host's
// answer becomes one status; the host decides, the controller only reports.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fleet/connection.hpp"
#include "fleet/inventory.hpp"

namespace bridle::fleet {

// One status per host (bridle(8) FLEET). kSkipped: not started after a failure with
// stop_on_failure; kCancelled: the fan-out was cancelled before the host answered.
enum class HostStatus {
    kOk,
    kExitNonzero,
    kDenied,
    kApprovalRequired,
    kTimeout,
    kUnreachable,
    kError,
    kCancelled,
    kSkipped,
};
const char* status_name(HostStatus status);

struct HostResult {
    std::string host;
    HostStatus status = HostStatus::kError;
    std::string message;  // the controller's words (unreachable, timeout, ...) or the host's
    Json structured;      // the host's structuredContent, when it answered
    std::string text;     // the host's text content, when it answered
    std::int64_t duration_ms = 0;
    std::string server_version;  // the host's bridle, once a session was opened
};

// Each call in flight is one thread and one already-open ssh session; the hosts do the work.
// 32, not 16: a fan-out to 20 hosts (issue 18's measure) must not wait for a second wave,
// which alone costs a whole host's round trip (docs/benchmarks.md, Fleet fan-out).
constexpr int kDefaultMaxParallel = 32;
constexpr int kMaxParallelCap = 64;
constexpr int kDefaultTimeoutSeconds = 120;
constexpr int kMaxTimeoutSeconds = 86400;
// The controller waits this much longer than a command's timeout: the host's own answer
// (status timeout, with the output so far) arrives first.
constexpr int kGraceSeconds = 5;

struct FanoutRequest {
    std::string tool;  // a host tool: run_command, check_command, list_allowed_commands;
                       // empty: a ping (opens the session, reports reachability)
    Json arguments;    // passed as they are
    std::string fanout_id;
    int max_parallel = kDefaultMaxParallel;
    int timeout_seconds = kDefaultTimeoutSeconds;
    bool stop_on_failure = false;
    int cancel_fd = -1;  // readable: cancel every host's call
    // Called from the host's worker thread, serialised by the caller if it must be.
    std::function<void(const std::string& host, const Json& notification)> on_notification;
    std::function<void(const HostResult&)> on_done;
};

// Maps the host's answer (or the lack of one) to a status.
HostStatus classify(const CallOutcome& outcome);

// The connections of one controller, one per inventory host, kept open across fan-outs.
class Fleet {
  public:
    Fleet(Inventory inventory, SshSettings ssh);
    const Inventory& inventory() const { return inventory_; }
    Connection& connection(const std::string& host);
    // Results in the order of `hosts`.
    std::vector<HostResult> run(const std::vector<const Host*>& hosts,
                                const FanoutRequest& request);

  private:
    HostResult run_one(const Host& host, const FanoutRequest& request);

    Inventory inventory_;
    SshSettings ssh_;
    std::map<std::string, std::unique_ptr<Connection>> connections_;
};

// One host's result as the agent and `-o json` see it: host, status, duration_ms, the host's
// exit_code, signal, stdout, stderr, request_id, rule, reason, usage, truncated, and message.
Json host_json(const HostResult& result);
// Counts by status, as JSON ({"hosts": N, "ok": N, ...}; statuses with none are left out).
Json summary(const std::vector<HostResult>& results);
// The exit status of `bridle fleet run` (bridle(8) FLEET): 0 when every host is ok.
int exit_status(const std::vector<HostResult>& results);
// A fresh fan-out id: 32 hexadecimal digits from getrandom().
std::string new_fanout_id();

}  // namespace bridle::fleet
