// SPDX-License-Identifier: Apache-2.0
// wait_for_approval in the session (docs/approvals.md): a wait is no process and holds no
// lock; the loop reads the agent's own request from the host's approval store twice a second
// until an approver's answer settles it, it expires, the wait's bound passes, the client
// cancels it, or the session ends. Other requests are answered meanwhile. Only the store,
// which approvers change on the host, decides the state: nothing the client sends does.
#include <algorithm>

#include "common/text.hpp"
#include "session/session.hpp"
#include "session/tools.hpp"
#include "session/wait_tool.hpp"

namespace bridle::session {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxWaits = 4;  // per session
constexpr milliseconds kPollInterval{500};
constexpr milliseconds kWaitProgressInterval{5000};

std::int64_t ms_between(std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) {
    return std::chrono::duration_cast<milliseconds>(to - from).count();
}

}  // namespace

void Session::start_wait(const jsonrpc::Message& m, revision::Era era, const Json& arguments,
                         const Json& progress_token) {
    auto args = tools::parse_wait_args(arguments);
    if (!args) {
        reply(m.id, tools::wait_error(args.error().message), era);
        return;
    }
    if (is_busy(m.id)) {
        send(jsonrpc::error_line(m.id, jsonrpc::ErrorCode::kInvalidRequest,
                                 "Invalid Request: a call with this id is still running"));
        return;
    }
    if (waits_.size() >= kMaxWaits) {
        reply(m.id,
              tools::wait_error("this session waits for " + std::to_string(kMaxWaits) +
                                " approvals already; wait for one of them to end"),
              era);
        return;
    }
    Wait wait;
    wait.id = m.id;
    wait.era = era;
    wait.progress_token = progress_token;
    wait.approval_id = args.value().id;
    wait.waiter = {options_.key, options_.client, session_id_, gate::new_request_id()};
    auto seen = gate::approvals::observe(context_, wait.waiter, wait.approval_id);
    if (!seen) {
        // Refused before it waits (not an approval id, not this key's, no store): a deny record.
        gate::Request request;
        request.text = std::string(tools::kWaitForApproval) + " " + wait.approval_id;
        request.key = options_.key;
        request.client = options_.client;
        request.session_id = session_id_;
        request.front_end = "mcp";
        request.run_as = options_.run_as;
        gate::Refusal refusal;
        refusal.code = ExitCode::kUsage;
        refusal.reason = seen.error().message;
        refusal.text = seen.error().message + "\n";  // then the audit error, if any
        refusal.policy_sha256 = context_.policy.sha256;
        std::string text = gate::refuse(context_.audit, request, refusal).message;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        reply(m.id, tools::wait_error(text), era);
        return;
    }
    // The wait's start is on the record before the agent hears anything of it.
    if (const Status recorded =
            gate::approvals::record_wait(context_, wait.waiter, wait.approval_id, "", 0);
        !recorded) {
        reply(m.id, tools::wait_error("the wait cannot be recorded: " + recorded.error().full()),
              era);
        return;
    }
    wait.last = std::move(seen).value();
    wait.started = Clock::now();
    // Never past the request's own expiry (plus a moment to see it expire).
    const std::int64_t left_s = std::max<std::int64_t>(
        0, wait.last.info.expires - std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    wait.deadline =
        wait.started + std::min<milliseconds>(args.value().timeout,
                                              std::chrono::seconds(left_s) + milliseconds(1000));
    wait.next_poll = wait.started + kPollInterval;
    wait.next_progress = wait.started + kWaitProgressInterval;
    waits_.push_back(std::move(wait));
    poll_waits();  // one that is settled already is answered at once
}

void Session::poll_waits() {
    const Clock::time_point now = Clock::now();
    for (auto it = waits_.begin(); it != waits_.end();) {
        Wait& w = *it;
        if (now >= w.next_poll) {
            w.next_poll = now + kPollInterval;
            auto seen = gate::approvals::observe(context_, w.waiter, w.approval_id);
            if (!seen) {
                reply(w.id, tools::wait_error(seen.error().message), w.era);
                (void)gate::approvals::record_wait(context_, w.waiter, w.approval_id, "error",
                                                   ms_between(w.started, now));
                it = waits_.erase(it);
                continue;
            }
            // A new approval (one of several required) is worth telling at once.
            if (seen.value().info.approvals != w.last.info.approvals) w.next_progress = now;
            w.last = std::move(seen).value();
        }
        if (w.last.info.state != "pending" || now >= w.deadline) {
            end_wait(w, w.last.info.state, true);
            it = waits_.erase(it);
            continue;
        }
        if (!w.progress_token.is_null() && now >= w.next_progress) {
            const std::int64_t seconds = ms_between(w.started, now) / 1000;
            w.next_progress = now + kWaitProgressInterval;
            notify_progress(w.progress_token, w.progress, seconds,
                            tools::wait_progress_message(w.last.info, seconds));
        }
        ++it;
    }
}

void Session::end_wait(Wait& wait, const std::string& outcome, bool answer) {
    const std::int64_t waited = ms_between(wait.started, Clock::now());
    (void)gate::approvals::record_wait(context_, wait.waiter, wait.approval_id, outcome, waited);
    if (answer)
        reply(wait.id, tools::wait_result(wait.last.info, wait.last.advice, waited), wait.era);
}

}  // namespace bridle::session
