// SPDX-License-Identifier: Apache-2.0
// The fan-out: worker threads (at most max_parallel) take the next host from a shared index;
// each call waits on its own host's session with its own deadline. The fan-out id goes to the
// host in the request's _meta, where bridle records it (BRIDLE_FANOUT_ID) and uses it for
// nothing else.
#include "fleet/fanout.hpp"

#include <poll.h>

#include <array>
#include <atomic>
#include <thread>

#include "os/random.hpp"

namespace bridle::fleet {

const char* status_name(HostStatus status) {
    switch (status) {
        case HostStatus::kOk:
            return "ok";
        case HostStatus::kExitNonzero:
            return "exit_nonzero";
        case HostStatus::kDenied:
            return "denied";
        case HostStatus::kApprovalRequired:
            return "approval_required";
        case HostStatus::kTimeout:
            return "timeout";
        case HostStatus::kUnreachable:
            return "unreachable";
        case HostStatus::kError:
            return "error";
        case HostStatus::kCancelled:
            return "cancelled";
        case HostStatus::kSkipped:
            return "skipped";
        default:
            return "error";
    }
}

HostStatus classify(const CallOutcome& outcome) {
    switch (outcome.kind) {
        case CallOutcome::Kind::kResult:
            break;
        case CallOutcome::Kind::kUnreachable:
            return HostStatus::kUnreachable;
        case CallOutcome::Kind::kTimeout:
            return HostStatus::kTimeout;
        case CallOutcome::Kind::kCancelled:
            return HostStatus::kCancelled;
        case CallOutcome::Kind::kRpcError:
        case CallOutcome::Kind::kDropped:
        default:
            return HostStatus::kError;
    }
    const Json& r = outcome.result;
    const Json s = r.is_object() ? r.value("structuredContent", Json::object()) : Json::object();
    if (!s.is_object()) return HostStatus::kError;
    if (s.contains("decision")) {  // check_command
        return s["decision"] == "allow" ? HostStatus::kOk : HostStatus::kDenied;
    }
    if (!s.contains("status")) {  // list_allowed_commands and other tools without a status
        return r.value("isError", false) ? HostStatus::kError : HostStatus::kOk;
    }
    const std::string status = s["status"].is_string() ? s["status"].get<std::string>() : "";
    if (status == "ok") return HostStatus::kOk;
    if (status == "exit_nonzero") return HostStatus::kExitNonzero;
    if (status == "denied") {
        // The host's exit status 75 (EX_TEMPFAIL): waiting for an approval.
        const Json b = s.value("bridle_status", Json(0));
        return b.is_number_integer() && b.get<int>() == 75 ? HostStatus::kApprovalRequired
                                                           : HostStatus::kDenied;
    }
    // The host's run_command says so itself (it was classified as an error before).
    if (status == "approval_required") return HostStatus::kApprovalRequired;
    if (status == "timeout") return HostStatus::kTimeout;
    if (status == "cancelled") return HostStatus::kCancelled;
    return HostStatus::kError;
}

Fleet::Fleet(Inventory inventory, SshSettings ssh)
    : inventory_(std::move(inventory)), ssh_(std::move(ssh)) {
    for (const Host& host : inventory_.hosts) {
        connections_[host.name] = std::make_unique<Connection>(host, ssh_);
    }
}

Connection& Fleet::connection(const std::string& host) {
    return *connections_.at(host);
}

HostResult Fleet::run_one(const Host& host, const FanoutRequest& request) {
    HostResult out;
    out.host = host.name;
    const auto start = Clock::now();
    Connection& c = connection(host.name);
    Wait wait{start + std::chrono::seconds(request.timeout_seconds + kGraceSeconds),
              request.cancel_fd};
    // No tool: a ping, which opens the session (list_hosts: reachability, the host's version).
    const std::string method = request.tool.empty() ? "ping" : "tools/call";
    Json params = Json::object();
    if (!request.tool.empty()) {
        params = {{"name", request.tool}, {"arguments", request.arguments}};
        params["_meta"] = {{"progressToken", host.name}, {"bridle/fanout_id", request.fanout_id}};
    }
    CallOutcome outcome;
    {
        std::lock_guard lock(c.mutex());
        outcome = c.call(method, params, wait, [&](const Json& n) {
            if (request.on_notification) request.on_notification(host.name, n);
        });
        out.server_version = c.server_version();
    }
    out.status = classify(outcome);
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    if (outcome.kind == CallOutcome::Kind::kResult && outcome.result.is_object()) {
        out.structured = outcome.result.value("structuredContent", Json::object());
        const Json content = outcome.result.value("content", Json::array());
        for (const Json& block : content) {
            if (block.is_object() && block.value("type", "") == "text") {
                out.text += block.value("text", std::string());
            }
        }
        if (out.structured.is_object())
            out.message = out.structured.value("message", std::string());
    } else if (outcome.kind == CallOutcome::Kind::kTimeout) {
        out.message = "no answer within " +
                      std::to_string(request.timeout_seconds + kGraceSeconds) +
                      " s; the session was closed (the host ends the command and records it)";
    } else if (outcome.kind == CallOutcome::Kind::kDropped) {
        out.message =
            "the session dropped during the call (the host ends the command and "
            "records it); the next call opens a new one";
    } else {
        out.message = outcome.message;
    }
    return out;
}

std::vector<HostResult> Fleet::run(const std::vector<const Host*>& hosts,
                                   const FanoutRequest& request) {
    std::vector<HostResult> results(hosts.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    const auto worker = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= hosts.size()) return;
            if (stop.load()) {
                results[i].host = hosts[i]->name;
                results[i].status = HostStatus::kSkipped;
                results[i].message = "not started: another host failed (stop_on_failure)";
            } else {
                results[i] = run_one(*hosts[i], request);
                if (request.stop_on_failure && results[i].status != HostStatus::kOk) stop = true;
            }
            if (request.on_done) request.on_done(results[i]);
        }
    };
    const int parallel = std::clamp(request.max_parallel, 1, kMaxParallelCap);
    std::vector<std::thread> threads;
    for (int t = 0; t < parallel && static_cast<std::size_t>(t) < hosts.size(); ++t) {
        threads.emplace_back(worker);
    }
    for (std::thread& t : threads) t.join();
    return results;
}

Json host_json(const HostResult& r) {
    Json j{{"host", r.host}, {"status", status_name(r.status)}, {"duration_ms", r.duration_ms}};
    for (const char* key :
         {"exit_code", "signal", "stdout", "stderr", "request_id", "rule", "reason", "usage",
          "truncated", "pipestatus", "approval", "task_id", "state"}) {
        if (r.structured.is_object() && r.structured.contains(key)) j[key] = r.structured[key];
    }
    if (!r.message.empty()) j["message"] = r.message;
    return j;
}

Json summary(const std::vector<HostResult>& results) {
    Json counts{{"hosts", results.size()}};
    for (const HostResult& r : results) {
        const char* name = status_name(r.status);
        counts[name] = counts.value(name, 0) + 1;
    }
    return counts;
}

int exit_status(const std::vector<HostResult>& results) {
    // The first of these that any host has decides; bridle(8) FLEET lists them.
    constexpr std::array<std::pair<HostStatus, int>, 8> kOrder{{
        {HostStatus::kError, 70},
        {HostStatus::kUnreachable, 69},
        {HostStatus::kTimeout, 124},
        {HostStatus::kDenied, 77},
        {HostStatus::kApprovalRequired, 75},
        {HostStatus::kExitNonzero, 1},
        {HostStatus::kCancelled, 130},
        {HostStatus::kSkipped, 1},
    }};
    for (const auto& [status, code] : kOrder) {
        for (const HostResult& r : results) {
            if (r.status == status) return code;
        }
    }
    return 0;
}

std::string new_fanout_id() {
    return os::random_hex(16);
}

}  // namespace bridle::fleet
