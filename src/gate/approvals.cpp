// SPDX-License-Identifier: Apache-2.0
// The approvers' side (approvals.hpp): list, show, approve, reject; each answer re-checks the
// request's state, expiry and policy under the store's lock, and each step is audited.
#include "gate/approvals.hpp"

#include <unistd.h>

#include <algorithm>

#include "approval/canonical.hpp"
#include "approval/signature.hpp"
#include "approval/store.hpp"
#include "command/tokenizer.hpp"
#include "common/text.hpp"
#include "gate/approval_steps.hpp"
#include "gate/internal.hpp"

namespace bridle::gate::approvals {
namespace {

using approval::Entry;
using approval::State;
using detail::utc_text;

constexpr int kOk = 0;

Answer failure(ExitCode code, const std::string& why) {
    return Answer{to_int(code), "", "bridle: " + why + "\n"};
}

// May this actor see and answer `e`? Root on the host: every request; an approver key: the
// requests that list it; a signature's deliverer: any (the signature itself is checked).
bool may_answer(const Actor& actor, const Entry& e) {
    if (actor.channel != "ssh") return true;
    return std::find(e.approvers.begin(), e.approvers.end(), actor.name) != e.approvers.end();
}

std::string line_of(const Entry& e) {
    return e.binding.id + "  " + e.code + "  " + approval::state_name(e.state) + "  " +
           std::to_string(e.approvals()) + "/" + std::to_string(e.required) +
           "  key=" + escape_text(e.binding.key, 64) + "  rule=" + e.binding.rule + "  " +
           quote_text(e.command, 200) + "  expires " + utc_text(e.binding.expires) + "\n";
}

// The store, locked, with the entries brought up to date (expired, void).
struct Locked {
    approval::Store store;
    os::UniqueFd lock;
};
Result<Locked> open_locked(const Context& context) {
    Result<approval::Store> store = approval::Store::open(context.policy.approvals.store);
    if (!store) return store.error();
    Result<os::UniqueFd> lock = store.value().lock();
    if (!lock) return lock.error();
    return Locked{std::move(store).value(), std::move(lock).value()};
}

std::string front_end_of(const Actor& actor) {
    return actor.channel == "host" ? "admin" : actor.channel == "ssh" ? "approver" : "forced";
}

}  // namespace

Answer list(const Context& context, const Actor& actor) {
    Result<Locked> locked = open_locked(context);
    if (!locked) return failure(ExitCode::kConfig, locked.error().message);
    const std::int64_t now = detail::now_seconds();
    std::string pending, others;
    for (Entry& e : locked.value().store.list()) {
        (void)detail::expire_if_due(context, locked.value().store, e, now);
        (void)detail::void_if_policy_changed(context, locked.value().store, e);
        if (!may_answer(actor, e)) continue;
        if (e.state == State::kPending) {
            pending += line_of(e);
        } else if (e.binding.expires + approval::kKeepFinishedSeconds > now) {
            others += line_of(e);
        }
    }
    std::string out = "# ID  CODE  STATE  APPROVALS  KEY  RULE  COMMAND  EXPIRES\n";
    out += pending.empty() ? "# no request waits for approval\n" : pending;
    out += others;
    return Answer{kOk, out, ""};
}

Answer show(const Context& context, const Actor& actor, const std::string& id, bool text_only) {
    Result<Locked> locked = open_locked(context);
    if (!locked) return failure(ExitCode::kConfig, locked.error().message);
    Result<Entry> loaded = locked.value().store.load(id);
    if (!loaded || !may_answer(actor, loaded.value())) {
        return failure(ExitCode::kUsage, loaded ? "approval request " + id + " is not yours to see"
                                                : loaded.error().message);
    }
    Entry& e = loaded.value();
    (void)detail::expire_if_due(context, locked.value().store, e, detail::now_seconds());
    (void)detail::void_if_policy_changed(context, locked.value().store, e);
    const std::string text = approval::canonical_text(e.binding);
    if (text_only) return Answer{kOk, text, ""};
    std::string out =
        "id:        " + e.binding.id + "\ncode:      " + e.code +
        "\nstate:     " + approval::state_name(e.state) +
        (e.reason.empty() ? "" : " (" + e.reason + ")") +
        "\ncommand:   " + quote_text(e.command, 400) + "\nrule:      " + e.binding.rule +
        "\nkey:       " + escape_text(e.binding.key, 64) +
        "\nrun_as:    " + (e.binding.run_as.empty() ? "-" : e.binding.run_as) +
        "\nclient:    " + escape_text(e.client, 128) + "\nrequested: " + utc_text(e.created) +
        "\nexpires:   " + utc_text(e.binding.expires) +
        "\napprovals: " + std::to_string(e.approvals()) + " of " + std::to_string(e.required) +
        " from";
    for (const std::string& a : e.approvers) out += " " + a;
    out += "\n";
    for (const approval::Vote& v : e.votes) {
        out += std::string(v.approve ? "approved" : "rejected") + " by " + v.approver + " (" +
               v.channel + (v.fingerprint.empty() ? "" : " " + v.fingerprint) + ") at " +
               utc_text(v.at) + "\n";
    }
    out += "digest:    " + e.digest + "\n--- the text an approver signs (ssh-keygen -Y sign -n " +
           approval::kSignatureNamespace + ") ---\n" + text + "--- end ---\n";
    return Answer{kOk, out, ""};
}

Answer decide(const Context& context, const Actor& actor, const std::string& id, bool approve,
              const std::optional<std::string>& signature) {
    const std::string verb = approve ? "approve" : "reject";
    Result<Locked> locked = open_locked(context);
    if (!locked) return failure(ExitCode::kConfig, locked.error().message);
    const approval::Store& store = locked.value().store;
    Result<Entry> loaded = store.load(id);
    if (!loaded) return failure(ExitCode::kUsage, loaded.error().message);
    Entry& e = loaded.value();
    const std::int64_t now = detail::now_seconds();
    const std::string front_end = front_end_of(actor);
    // Every refusal is audited, tied to the request it concerns.
    const auto refused = [&](const std::string& why) {
        (void)detail::record_step(context.audit, e, "refused", verb + ": " + why, front_end,
                                  actor.client,
                                  {{"BRIDLE_APPROVER_CHANNEL", actor.channel},
                                   {"BRIDLE_APPROVER", escape_text(actor.name, 128)}});
        return failure(ExitCode::kNoPerm, "cannot " + verb + " " + id + ": " + why);
    };
    if (!may_answer(actor, e)) return refused(actor.name + " is not an approver of this request");
    if (detail::expire_if_due(context, store, e, now)) return refused("it expired");
    if (detail::void_if_policy_changed(context, store, e)) return refused(e.reason);
    if (e.state != State::kPending) {
        return refused(std::string("it is ") + approval::state_name(e.state) + ", not pending");
    }
    if (!detail::host_identity() || detail::host_identity().value() != e.binding.host) {
        return refused("it was made on another host");
    }
    // The digest the approver sees is the one of the fields the request will be checked
    // against; a store entry whose digest is not its fields' is not approved.
    if (approval::digest_of(e.binding) != e.digest) return refused("its digest does not match");

    approval::Vote vote;
    vote.approve = approve;
    vote.at = now;
    vote.channel = actor.channel;
    if (actor.channel == "signature") {
        if (!signature) return refused("no signature was given");
        if (!approve) return refused("a signature can only approve");
        Result<std::string> scratch = store.write_scratch(*signature);
        if (!scratch) return refused(scratch.error().message);
        Result<approval::Signer> signer = approval::verify_signature(
            context.policy.approvals.signers, approval::canonical_text(e.binding), *signature,
            scratch.value(), e.approvers);
        ::unlink(scratch.value().c_str());
        if (!signer) return refused(signer.error().message);
        vote.approver = signer.value().principal;
        vote.fingerprint = signer.value().fingerprint;
        vote.signature = *signature;
    } else if (actor.channel == "ssh") {
        vote.approver = actor.name;
        vote.fingerprint = actor.fingerprint;
    } else {
        vote.approver = "root";
    }
    if (e.has_vote_of(vote.approver)) return refused(vote.approver + " has answered already");
    e.votes.push_back(vote);
    if (!approve) {
        e.state = State::kRejected;
    } else if (e.approvals() >= e.required) {
        e.state = State::kApproved;
    }
    if (const Status saved = store.save(e); !saved) {
        return failure(ExitCode::kConfig, saved.error().message);
    }
    const Status recorded = detail::record_step(
        context.audit, e, approve ? "approved" : "rejected", "", front_end, actor.client,
        {{"BRIDLE_APPROVER", escape_text(vote.approver, 128)},
         {"BRIDLE_APPROVER_CHANNEL", vote.channel},
         {"BRIDLE_APPROVER_FINGERPRINT", vote.fingerprint},
         {"BRIDLE_APPROVALS", std::to_string(e.approvals())}});
    std::string out = (approve ? "approved " : "rejected ") + id + " (" + e.code + ") as " +
                      vote.approver + ": " + std::to_string(e.approvals()) + " of " +
                      std::to_string(e.required) + " approvals; state " +
                      approval::state_name(e.state) + "\n";
    if (e.state == State::kApproved) {
        out += "the agent's key " + e.binding.key +
               " may now send the same request again; it runs once, until " +
               utc_text(e.binding.expires) + "\n";
    }
    return Answer{kOk, out, recorded ? "" : "bridle: warning: " + recorded.error().full() + "\n"};
}

Answer serve_approver(const Context& context, const Actor& actor,
                      const std::vector<std::string>& words,
                      const std::function<std::string()>& read_stdin) {
    const auto is = [&](std::size_t n, const char* first) {
        return words.size() == n && words[0] == first;
    };
    if (is(1, "approvals")) return list(context, actor);
    if (is(2, "show")) return show(context, actor, words[1], false);
    if (words.size() == 3 && words[0] == "show" && words[2] == "--text") {
        return show(context, actor, words[1], true);
    }
    if (is(2, "approve")) return decide(context, actor, words[1], true, std::nullopt);
    if (is(2, "reject")) return decide(context, actor, words[1], false, std::nullopt);
    if (words.size() == 4 && words[0] == "approve" && words[2] == "--signature" &&
        words[3] == "-") {
        Actor delivering = actor;
        delivering.channel = "signature";
        return decide(context, delivering, words[1], true, read_stdin());
    }
    return failure(ExitCode::kUsage,
                   "an approver key may only send: approvals | show ID [--text] | approve ID "
                   "[--signature -] | reject ID");
}

std::optional<Answer> serve_agent(const Context& context, const Request& request,
                                  const std::function<std::string()>& read_stdin) {
    Result<std::vector<std::string>> words = command::tokenize(request.text);
    if (!words || words.value().empty()) return std::nullopt;
    const std::vector<std::string>& w = words.value();
    if (w[0] != "approval" && w[0] != "approve") return std::nullopt;
    // A policy without approvals: these are ordinary requests, which no rule allows.
    const bool any =
        std::any_of(context.policy.rules.begin(), context.policy.rules.end(),
                    [](const policy::Rule& rule) { return rule.approval.has_value(); });
    if (!any) return std::nullopt;
    if (context.policy.has_rule_for(w[0], request.key)) return std::nullopt;  // the policy's own
    Actor actor{"signature", request.key, "", request.client};
    if (w[0] == "approval" && (w.size() == 2 || (w.size() == 3 && w[2] == "--text"))) {
        // The agent sees its own key's requests only.
        Result<approval::Store> store = approval::Store::open(context.policy.approvals.store);
        if (!store) return failure(ExitCode::kConfig, store.error().message);
        Result<Entry> e = store.value().load(w[1]);
        if (!e || e.value().binding.key != request.key) {
            return failure(ExitCode::kUsage,
                           "no approval request " + w[1].substr(0, 64) + " of this key");
        }
        return show(context, actor, w[1], w.size() == 3);
    }
    if (w[0] == "approve" && w.size() == 4 && w[2] == "--signature" && w[3] == "-") {
        return decide(context, actor, w[1], true, read_stdin());
    }
    return failure(ExitCode::kUsage,
                   "an agent key may send `approval ID [--text]` or deliver an approver's "
                   "signature with `approve ID --signature -` (the signature on stdin); it cannot "
                   "approve by itself");
}

}  // namespace bridle::gate::approvals
