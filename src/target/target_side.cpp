// SPDX-License-Identifier: Apache-2.0
// `bridle run-as`: the target side of a run_as rule. sudo has already switched to the rule's
// user (sudoers lists exactly this command line, see sudoers.cpp); everything sudo passes on is
// treated as untrusted, since the agent's account may call sudo itself, around bridle. Order:
//   1. refuse to run set-uid, or other than through sudo (SUDO_USER, SUDO_UID);
//   2. read the request id and the policy hash of the user side's check (environment);
//   3. load the policy (root-owned, strictly checked; from the compiled cache when it holds
//      these files' policy) and compare its hash: a policy that changed between the two
//      checks denies;
//   4. the named rule must exist, carry run_as, and name the user we now are;
//   5. the request comes from the command line (exact form) or BRIDLE_ARGV (open form), never
//      both;
//   6. gate::handle decides it under a policy of that one rule (it must match the rule and be
//      in its normal form: one spelling per request), audits, applies the sandbox in the
//      command's child (limits, no_new_privs, Landlock, seccomp and exec-once, all after the
//      switch) and execs.
// Every refusal is a deny record and a "bridle: denied: " message (gate::refuse); nothing runs.
#include "target/target_side.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "common/exit_code.hpp"
#include "common/text.hpp"
#include "execution/runner.hpp"
#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "os/accounts.hpp"
#include "os/fd.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::target {
namespace {

void say(std::string_view text) {
    (void)os::write_all(STDERR_FILENO, text);
}

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

bool is_lower_hex(const std::string& text, std::size_t length) {
    if (text.size() != length) return false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::string user_name(uid_t uid) {
    const passwd* pw = os::user_with_uid(uid);
    return pw != nullptr ? pw->pw_name : std::to_string(uid);
}

// The request through the gate under `one` (the policy of the one rule or entry sudo named),
// its output to our stdout and stderr (sudo's pipes to the user side), which are also what
// tells us the caller is gone.
int handle_here(const policy::Policy& one, const gate::Request& request, audit::Sink& sink) {
    gate::SystemResolver resolver;
    const gate::Context context{one, sink, resolver};
    const execution::OutputSink to_caller = [](execution::Stream stream, std::string_view bytes) {
        return os::write_all(stream == execution::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO,
                             bytes);
    };
    const gate::Response response =
        gate::handle(context, request, to_caller, {STDOUT_FILENO, STDERR_FILENO});
    say(response.message);
    return response.exit_status;
}

// A files entry with run_as: the request comes in BRIDLE_ARGV only, a put's content on stdin
// (exactly the --size the request carries), and the entry alone decides; the policy's rules
// stay, for its validator.
int run_file_entry(const TargetInvocation& inv, const policy::Policy& policy,
                   const policy::FileRule& entry, gate::Request& request, gate::Refusal& refusal,
                   audit::Sink& sink) {
    const auto refuse = [&](ExitCode code, const std::string& reason) {
        refusal.code = code;
        refusal.reason = reason;
        say(gate::refuse(sink, request, refusal).message);
        return to_int(code);
    };
    refusal.rule_id = entry.id;
    if (entry.run_as.empty())
        return refuse(ExitCode::kNoPerm, "entry " + entry.id + " has no run_as");
    const passwd* target = os::user_named(entry.run_as);
    if (target == nullptr || target->pw_uid != ::geteuid()) {
        return refuse(ExitCode::kNoPerm, "entry " + entry.id + " runs as " + entry.run_as +
                                             ", not as " + request.run_as);
    }
    if (inv.words || std::getenv(privilege::kArgvVariable) == nullptr) {
        return refuse(ExitCode::kNoPerm, "entry " + entry.id + " takes its request in " +
                                             privilege::kArgvVariable + " only");
    }
    Result<std::vector<std::string>> decoded =
        privilege::decode_argv(env_or_empty(privilege::kArgvVariable));
    if (!decoded) return refuse(ExitCode::kNoPerm, decoded.error().message);
    request.argv = std::move(decoded).value();
    request.target_rule = entry.id;
    request.upload = [](std::uint64_t max_bytes, std::chrono::milliseconds timeout) {
        return gate::read_upload(STDIN_FILENO, max_bytes, timeout, {});
    };
    policy::Policy one = policy;
    one.file_rules = {entry};
    one.file_rules.front().keys.clear();
    return handle_here(one, request, sink);
}

}  // namespace

int run_target_side(const TargetInvocation& inv, policy::PolicyLoader load) {
    const std::unique_ptr<audit::Sink> sink = audit::make_journald_sink();
    gate::Request request;
    request.front_end = gate::kTargetFrontEnd;
    request.sudo_user = env_or_empty("SUDO_USER");
    request.run_as = user_name(::geteuid());
    const std::string given_id = env_or_empty(privilege::kRequestIdVariable);
    request.request_id = is_lower_hex(given_id, 32) ? given_id : gate::new_request_id();
    gate::Refusal refusal;  // rule_id and the policy's hash are filled in as they are known

    const auto refuse = [&](ExitCode code, const std::string& reason) {
        refusal.code = code;
        refusal.reason = reason;
        say(gate::refuse(*sink, request, refusal).message);
        return to_int(code);
    };

    // 1. bridle is never installed set-uid: a set-uid bridle would run this for anyone. sudo
    // sets both real and effective ids to the target user and says who called it.
    if (::getuid() != ::geteuid() || ::getgid() != ::getegid()) {
        return refuse(ExitCode::kNoPerm,
                      "bridle is running set-uid or set-gid; it must never be installed so");
    }
    const std::string sudo_uid = env_or_empty("SUDO_UID");
    if (request.sudo_user.empty() || sudo_uid.empty()) {
        return refuse(ExitCode::kNoPerm,
                      "bridle run-as is started only by sudo, for a run_as rule of the policy");
    }
    const passwd* caller = os::user_named(request.sudo_user);
    if (caller == nullptr || std::to_string(caller->pw_uid) != sudo_uid) {
        return refuse(ExitCode::kNoPerm, "SUDO_USER and SUDO_UID do not name the same account");
    }

    // 2. What the user side saw. Both are checked for form only; a forged hash can only make
    // this request fail, since the policy read below is what decides.
    const std::string first_sha = env_or_empty(privilege::kPolicyShaVariable);
    if (given_id != request.request_id || !is_lower_hex(first_sha, 64)) {
        return refuse(ExitCode::kNoPerm, "the request did not come through bridle's first check (" +
                                             std::string(privilege::kRequestIdVariable) + " or " +
                                             privilege::kPolicyShaVariable +
                                             " missing or malformed)");
    }

    // 3. The policy, loaded as the forced command loads it (enforcing_load_options; `load` may
    // hand the request to bridle-full: nothing has been recorded yet).
    policy::LoadReport report;
    auto loaded = load(inv.policy_file, policy::enforcing_load_options(), report);
    if (!loaded) return refuse(ExitCode::kConfig, "policy unusable: " + loaded.error().full());
    const policy::Policy& policy = loaded.value();
    refusal.policy_sha256 = policy.sha256;
    if (policy.sha256 != first_sha) {
        refusal.first_policy_sha256 = first_sha;
        return refuse(ExitCode::kNoPerm,
                      "the policy changed between bridle's first check and the check as " +
                          request.run_as + " (sha256 " + first_sha + " then, " + policy.sha256 +
                          " now): send the request again");
    }

    // 4. The rule, and that it makes us who we are.
    const policy::Rule* found = policy.rules.with_id(inv.rule_id);
    for (const policy::FileRule& rule : policy.file_rules) {
        if (rule.id == inv.rule_id)
            return run_file_entry(inv, policy, rule, request, refusal, *sink);
    }
    if (found == nullptr)
        return refuse(ExitCode::kNoPerm, "the policy has no rule " + quote_text(inv.rule_id, 80));
    refusal.rule_id = found->id;
    if (found->run_as.empty())
        return refuse(ExitCode::kNoPerm, "rule " + found->id + " has no run_as");
    const passwd* target = os::user_named(found->run_as);
    if (target == nullptr || target->pw_uid != ::geteuid()) {
        return refuse(ExitCode::kNoPerm, "rule " + found->id + " runs as " + found->run_as +
                                             ", not as " + request.run_as);
    }

    // 5. The request: exactly one of the two channels, the one the rule's form uses.
    std::vector<std::string> words;
    const bool env_argv = std::getenv(privilege::kArgvVariable) != nullptr;
    if (privilege::form_of(*found) == privilege::Form::kExact) {
        if (!inv.words || env_argv) {
            return refuse(ExitCode::kNoPerm,
                          "rule " + found->id + " takes its request on the command line only");
        }
        words = *inv.words;
    } else {
        if (inv.words || !env_argv) {
            return refuse(ExitCode::kNoPerm, "rule " + found->id + " takes its request in " +
                                                 privilege::kArgvVariable + " only");
        }
        Result<std::vector<std::string>> decoded =
            privilege::decode_argv(env_or_empty(privilege::kArgvVariable));
        if (!decoded) return refuse(ExitCode::kNoPerm, decoded.error().message);
        words = std::move(decoded).value();
    }
    request.argv = words;
    request.target_rule = found->id;

    // 6. Only this rule decides (keys are the user side's business: sudo knows the account, not
    // the key). The copy keeps the policy's settings and sandboxes. Audit, sandbox after the
    // switch, exec, audit.
    policy::Policy one = policy;
    one.rules = {*found};
    one.rules.front().keys.clear();
    return handle_here(one, request, *sink);
}

}  // namespace bridle::target
