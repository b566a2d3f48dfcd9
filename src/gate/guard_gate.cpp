// SPDX-License-Identifier: Apache-2.0
// Guardrails at the gate's door (gate.hpp admit): the key's entry of settings.guardrails, its
// counters in the task spool (task_spool/UID/KEY/guard, src/guard/), and the refusal when over.
#include <chrono>

#include "gate/gate.hpp"
#include "gate/task_spool.hpp"
#include "guard/guard.hpp"

namespace bridle::gate {
namespace {

std::string limit_text(const guard::Over& over) {
    const std::string n = std::to_string(over.value);
    if (over.limit == "concurrent") return n + " concurrent requests";
    if (over.limit == "requests_per_day") return n + " requests per day (UTC)";
    return n + " requests per minute";
}

}  // namespace

std::optional<Response> admit(const Context& context, const Request& request, os::UniqueFd& slot) {
    const policy::Guardrail* limits = context.policy.settings.guardrail_for(request.key);
    if (limits == nullptr) return std::nullopt;
    const std::string key = request.key.empty() ? "(no --key)" : request.key;
    Refusal refusal;
    refusal.policy_sha256 = context.policy.sha256;
    const Result<std::string> dir =
        tasks::make_key_dir(context.policy.settings.task_spool, request.key);
    Result<guard::Admission> admitted = Error{};
    if (dir) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
        admitted = guard::admit(dir.value() + "/guard", *limits, now.count());
    }
    if (!dir || !admitted) {
        // Fail closed: a key under guardrails whose counts cannot be kept runs nothing.
        refusal.code = ExitCode::kUnavailable;
        refusal.reason = "guardrails: " + (dir ? admitted.error().message : dir.error().message);
        return refuse(context.audit, request, refusal);
    }
    if (const std::optional<guard::Over>& over = admitted.value().over) {
        const std::string retry = guard::retry_text(over->retry_after_ms);
        refusal.code = ExitCode::kTempFail;
        refusal.reason = "guardrail " + over->limit + ": key " + key + " is at its " +
                         limit_text(*over) + " (" + limits->source + "); retry in " + retry;
        refusal.text = "bridle: over the guardrail of key " + key + ": at most " +
                       limit_text(*over) + "; retry in " + retry + "\nbridle: nothing was run\n";
        return refuse(context.audit, request, refusal);
    }
    slot = std::move(admitted.value().slot);
    return std::nullopt;
}

}  // namespace bridle::gate
