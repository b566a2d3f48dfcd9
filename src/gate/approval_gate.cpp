// SPDX-License-Identifier: Apache-2.0
// A request for a rule with `approval:` (docs/approvals.md): it runs only by consuming an
// approval of exactly this request (same key, rule, run_as, canonical argv, host and policy),
// once; otherwise it becomes a pending approval and nothing runs (exit 75).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "approval/canonical.hpp"
#include "approval/notify.hpp"
#include "common/text.hpp"
#include "gate/approval_steps.hpp"
#include "gate/internal.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::gate::detail {
namespace {

using approval::Entry;
using approval::State;

// At most this many requests of one key wait at once; past it, a new one is refused.
constexpr std::size_t kMaxPendingPerKey = 16;

void refuse_with(Response& r, ExitCode code, const std::string& reason, const std::string& advice) {
    r.kind = Kind::kDenied;
    r.decision.verdict = matching::Verdict::kDeny;
    r.decision.reason = reason;
    r.exit_status = to_int(code);
    r.message = "bridle: denied: " + reason + "\nbridle: " + advice + "\n";
}

// The request as the store keeps it: its fields, and whether `e` was made for exactly it.
bool same_request(const Entry& e, const approval::Binding& b) {
    return e.binding.key == b.key && e.binding.rule == b.rule && e.binding.run_as == b.run_as &&
           e.binding.argv == b.argv && e.binding.host == b.host;
}

}  // namespace

Result<std::string> host_identity() {
    const os::UniqueFd fd(::open("/etc/machine-id", O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Error{"cannot read /etc/machine-id: " + os::errno_text(errno), ""};
    std::array<char, 128> buffer{};
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size() - 1);
    std::string id(buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return Error{"/etc/machine-id does not hold a machine id", ""};
    }
    return id;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc_text(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::array<char, 40> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text.data();
}

audit::RequestInfo approval_info(const Entry& e, const std::string& front_end,
                                 const std::string& client) {
    audit::RequestInfo info;
    info.request_id = e.binding.id;
    info.raw = e.command;
    info.argv = e.binding.argv;
    info.key = e.binding.key;
    info.client = client;
    info.front_end = front_end;
    info.policy_sha256 = e.binding.policy_sha256;
    info.run_as = e.binding.run_as;
    info.fields = {{"BRIDLE_APPROVAL_ID", e.binding.id},
                   {"BRIDLE_APPROVAL_CODE", e.code},
                   {"BRIDLE_APPROVAL_DIGEST", e.digest},
                   {"BRIDLE_APPROVAL_STATE", approval::state_name(e.state)},
                   {"BRIDLE_APPROVERS", escape_text(join(e.approvers, ", "), 512)},
                   {"BRIDLE_APPROVAL_REQUIRED", std::to_string(e.required)},
                   {"BRIDLE_APPROVAL_EXPIRES", std::to_string(e.binding.expires)}};
    return info;
}

Status record_step(audit::Sink& sink, const Entry& e, const std::string& step,
                   const std::string& summary, const std::string& front_end,
                   const std::string& client,
                   std::vector<std::pair<std::string, std::string>> extra) {
    audit::RequestInfo info = approval_info(e, front_end, client);
    info.fields.insert(info.fields.end(), extra.begin(), extra.end());
    if (!summary.empty()) info.fields.emplace_back("BRIDLE_REASON", escape_text(summary, 512));
    return sink.write(audit::approval_record(info, step, e.binding.rule, summary));
}

bool is_due(const Entry& e, std::int64_t now) {
    return (e.state == State::kPending || e.state == State::kApproved) && now >= e.binding.expires;
}

bool is_under_other_policy(const Context& context, const Entry& e) {
    return (e.state == State::kPending || e.state == State::kApproved) &&
           e.binding.policy_sha256 != context.policy.sha256;
}

bool expire_if_due(const Context& context, const approval::Store& store, Entry& e,
                   std::int64_t now) {
    if (!is_due(e, now)) return false;
    e.state = State::kExpired;
    e.reason = "not used before " + utc_text(e.binding.expires);
    (void)store.save(e);
    (void)record_step(context.audit, e, "expired", e.reason, "bridle", "");
    return true;
}

bool void_if_policy_changed(const Context& context, const approval::Store& store, Entry& e) {
    if (!is_under_other_policy(context, e)) return false;
    e.state = State::kVoid;
    e.reason = "the policy changed since the request (it was " +
               e.binding.policy_sha256.substr(0, 12) + "..., it is " +
               context.policy.sha256.substr(0, 12) + "...)";
    (void)store.save(e);
    (void)record_step(context.audit, e, "void", e.reason, "bridle", "");
    return true;
}

std::string pending_text(const Entry& e) {
    std::string who = join(e.approvers, ", ");
    if (e.required < e.approvers.size()) {
        who = std::to_string(e.required) + " of " + who;
    } else if (e.approvers.size() > 1) {
        who = "all of " + who;
    }
    return "bridle: approval required: this request waits for " + who + "\n" +
           "bridle: approval id: " + e.binding.id + "\n" + "bridle: code: " + e.code +
           " (the approver sees the same code)\n" +
           "bridle: approvals so far: " + std::to_string(e.approvals()) + " of " +
           std::to_string(e.required) + "; expires " + utc_text(e.binding.expires) + "\n" +
           "bridle: next: wait for the approval, then send exactly the same request again "
           "with the same key (it runs once); `approval " +
           e.binding.id + "` shows its state\n";
}

ApprovalInfo info_for_client(const Entry& e) {
    return ApprovalInfo{e.binding.id,      e.code,      approval::state_name(e.state),
                        e.binding.expires, e.approvers, e.required,
                        e.approvals()};
}

std::optional<std::string> store_path_refusal(const Context& context,
                                              const std::vector<std::string>& exec_argv) {
    const std::string& store = context.policy.approvals.store;
    if (store.empty()) return std::nullopt;
    for (const std::string& word : exec_argv) {
        // A path operand, or an option's attached value (--file=PATH, -fPATH is not a path).
        const std::size_t eq = word.find('=');
        for (const std::string& path :
             {word, eq == std::string::npos ? std::string() : word.substr(eq + 1)}) {
            if (path == store || path.rfind(store + "/", 0) == 0) {
                return "the request names " + quote_text(path, 200) +
                       ", inside bridle's approval store (" + store +
                       "), which no command may "
                       "read or change";
            }
        }
    }
    return std::nullopt;
}

bool settle_approval(const Context& context, const Request& request,
                     const std::vector<std::string>& argv, Response& r) {
    (void)argv;
    const policy::Rule& rule = *r.decision.rule;
    const policy::ApprovalSpec& spec = *rule.approval;
    constexpr const char* kAdmin = "nothing was run; ask the administrator";
    // Only a request of its own: never a pipeline stage, a task's run, a validator or a hook
    // (the loader refuses most of these; a files entry's validator or then may still name it).
    if (!request.task_id.empty() || !request.parent_request_id.empty()) {
        refuse_with(r, ExitCode::kNoPerm,
                    "rule " + rule.id + " needs approval, which only a request of its own can get",
                    kAdmin);
        return false;
    }
    const Result<std::string> host = host_identity();
    if (!host) {
        refuse_with(r, ExitCode::kNoPerm, host.error().message, kAdmin);
        return false;
    }
    const Result<approval::Store> opened = approval::Store::open(context.policy.approvals.store);
    if (!opened) {
        refuse_with(r, ExitCode::kNoPerm, opened.error().message, kAdmin);
        return false;
    }
    const approval::Store& store = opened.value();
    const Result<os::UniqueFd> lock = store.lock();
    if (!lock) {
        refuse_with(r, ExitCode::kNoPerm, lock.error().message, kAdmin);
        return false;
    }

    approval::Binding wanted;
    wanted.host = host.value();
    wanted.key = request.key;
    wanted.rule = rule.id;
    wanted.run_as = rule.run_as;
    wanted.argv = privilege::normal_form(rule, r.decision);
    wanted.policy_sha256 = context.policy.sha256;

    const std::int64_t now = now_seconds();
    std::vector<Entry> entries = store.list();
    std::size_t pending_of_key = 0;
    std::string history;  // why an earlier approval of this request no longer counts
    for (Entry& e : entries) {
        (void)expire_if_due(context, store, e, now);
        if (e.binding.key == request.key && e.state == State::kPending) ++pending_of_key;
        if (!same_request(e, wanted)) continue;
        (void)void_if_policy_changed(context, store, e);
        if (e.state == State::kApproved) {
            // The digest binds everything; recompute it from this request's fields and the
            // entry's own id, nonce, expiry and policy: a store entry edited by hand no longer
            // matches the digest the approvers signed.
            approval::Binding check = wanted;
            check.id = e.binding.id, check.nonce = e.binding.nonce;
            check.expires = e.binding.expires;
            if (approval::digest_of(check) != e.digest || e.approvals() < e.required) {
                e.state = State::kVoid;
                e.reason = "the stored approval does not match its digest";
                (void)store.save(e);
                (void)record_step(context.audit, e, "void", e.reason, request.front_end,
                                  request.client);
                history += "bridle: approval " + e.binding.id + " is void: " + e.reason + "\n";
                continue;
            }
            // Consumed before anything runs, under the lock: a second request, even one sent at
            // the same moment, finds it consumed.
            e.state = State::kConsumed;
            e.consumed_by = r.request_id;
            if (const Status saved = store.save(e); !saved) {
                refuse_with(r, ExitCode::kNoPerm, saved.error().message, kAdmin);
                return false;
            }
            (void)record_step(context.audit, e, "consumed", "", request.front_end, request.client,
                              {{"BRIDLE_RUN_REQUEST_ID", r.request_id}});
            r.approval = info_for_client(e);
            return true;
        }
        if (e.state == State::kPending) {
            r.kind = Kind::kPending;
            r.exit_status = to_int(ExitCode::kTempFail);
            r.approval = info_for_client(e);
            r.decision.reason = "waiting for approval " + e.binding.id;
            r.message =
                "bridle: not run yet: rule " + rule.id + " needs approval\n" + pending_text(e);
            return false;
        }
        if (e.state == State::kRejected && e.binding.expires > now) {
            std::string by;
            for (const approval::Vote& v : e.votes) {
                if (!v.approve) by = v.approver + " (" + v.channel + ")";
            }
            r.approval = info_for_client(e);
            refuse_with(r, ExitCode::kNoPerm,
                        "approval " + e.binding.id + " of this request was rejected by " + by,
                        "nothing was run; the same request is refused until " +
                            utc_text(e.binding.expires));
            return false;
        }
        if (e.state == State::kConsumed) {
            history += "bridle: approval " + e.binding.id + " was used already (by request " +
                       e.consumed_by + "): an approval runs its request once\n";
        } else if (e.state == State::kExpired || e.state == State::kVoid) {
            history += "bridle: approval " + e.binding.id + " is " + approval::state_name(e.state) +
                       ": " + e.reason + "\n";
        }
    }

    // No approval of this request can be used: a new pending one.
    if (pending_of_key >= kMaxPendingPerKey || entries.size() >= approval::kMaxEntries) {
        refuse_with(r, ExitCode::kTempFail,
                    "too many requests wait for approval (" + std::to_string(pending_of_key) +
                        " of this key)",
                    "nothing was run; wait until some are answered or expire");
        return false;
    }
    Entry e;
    e.binding = wanted;
    e.binding.id = r.request_id;
    e.binding.nonce = new_request_id();  // 128 random bits from getrandom
    // Rounded up to the next whole second: a request waits at least its timeout.
    const auto until = std::chrono::system_clock::now().time_since_epoch() + spec.timeout;
    e.binding.expires = std::chrono::ceil<std::chrono::seconds>(until).count();
    e.digest = approval::digest_of(e.binding);
    e.code = approval::short_code(e.digest);
    e.approvers = spec.approvers;
    e.required = spec.required;
    e.command = info_of(request, r.request_id, context.policy).raw;
    e.client = request.client;
    e.created = now;
    if (const Status saved = store.save(e); !saved) {
        refuse_with(r, ExitCode::kNoPerm, saved.error().message, kAdmin);
        return false;
    }
    // "approval requested" goes out before the agent hears of it; without it nobody could
    // know the request waits, so a sink that refuses it withdraws the request.
    if (const Status recorded =
            record_step(context.audit, e, "requested", "", request.front_end, request.client);
        !recorded) {
        (void)store.remove(e.binding.id);
        r.kind = Kind::kUnaudited;
        r.exit_status = to_int(ExitCode::kUnavailable);
        r.message = "bridle: " + recorded.error().full() + "\nbridle: nothing was run\n";
        return false;
    }
    // Tell the approvers (approvals.notify): bounded in time; whatever it does, the request
    // waits as it is, and the record says how it went.
    if (!context.policy.approvals.notify.empty()) {
        std::array<char, 256> hostname{};
        (void)::gethostname(hostname.data(), hostname.size() - 1);
        const std::string failed =
            approval::run_notify(context.policy.approvals.notify,
                                 {e.binding.id, e.code, hostname.data(), e.binding.key, e.command},
                                 context.policy.approvals.notify_timeout);
        (void)record_step(context.audit, e, "notified", failed, request.front_end, request.client,
                          {{"BRIDLE_NOTIFY", failed.empty() ? "ok" : "failed"}});
    }
    r.kind = Kind::kPending;
    r.exit_status = to_int(ExitCode::kTempFail);
    r.approval = info_for_client(e);
    r.decision.reason = "waiting for approval " + e.binding.id;
    r.message =
        history + "bridle: not run: rule " + rule.id + " needs approval\n" + pending_text(e);
    return false;
}

}  // namespace bridle::gate::detail
