// SPDX-License-Identifier: Apache-2.0
// What an allowed rule needs before anything is audited or run (gate.cpp's `decide` calls
// them in this order): the target side's normal form, the sandbox, the user switch, the
// redaction patterns, the `open: fd` files. Each refuses with a reason, or fills in Response.
#include <memory>

#include "gate/confined_open.hpp"
#include "gate/internal.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::gate::detail {

// Decides the sandbox of an allowed rule. Landlock required but not available refuses,
// before anything is audited or run (DESIGN.md invariant 2).
std::optional<Refused> plan_sandbox(const Context& context, Response& r) {
    const policy::SandboxProfile* profile = context.policy.sandbox_for(*r.decision.rule);
    std::string refusal;
    if (profile == nullptr) {
        refusal = "the rule's sandbox is not defined in the policy";  // the loader prevents this
    } else {
        r.sandbox = sandbox::plan_for_this_kernel(*profile, context.policy.settings.landlock);
        // Versions, the task spool and pending approvals are the account's files: its
        // commands must not see them.
        r.sandbox->hidden = {context.state_dir, context.policy.settings.task_spool,
                             context.policy.approvals.store};
        refusal = r.sandbox->refusal;
    }
    if (refusal.empty()) return std::nullopt;
    return Refused{refusal,
                   "nothing was run; ask the administrator, or send `help` to list the "
                   "commands you may run"};
}

// A run_as rule for another user goes through sudo: decide the sudo command line now, so the
// decision record can show it. A missing run_as user or an unusable bridle path refuses.
std::optional<Refused> plan_privilege(const Context& context, Response& r) {
    const policy::Rule& rule = *r.decision.rule;
    const Result<bool> needs = privilege::needs_switch(rule);
    if (!needs) return Refused{needs.error().message, "nothing was run; ask the administrator"};
    if (!needs.value()) return std::nullopt;
    const Result<std::string> self = privilege::own_executable();
    if (!self) return Refused{self.error().message, "nothing was run; ask the administrator"};
    r.sudo = privilege::sudo_call(rule, r.decision, self.value(), context.policy.given_path,
                                  r.request_id, context.policy.sha256);
    return std::nullopt;
}

// A rule with redact: true needs the policy's patterns to compile (together with the built-in
// ones); `bridle check` reports what fails here. Nothing unredacted reaches the client.
std::optional<Refused> plan_redaction(const Context& context, const Response& r) {
    if (!r.decision.rule->redact) return std::nullopt;
    const std::string& error = context.policy.settings.redaction->compile_error();
    if (error.empty()) return std::nullopt;
    return Refused{error, "nothing was run; ask the administrator"};
}

// Opens the rule's `open: fd` paths without following symlinks and checks the descriptors
// (confined_open.hpp), then puts /dev/fd/N in their place in exec_argv. A path that changed
// since the matcher's check refuses, before anything is audited or run. Not for a user switch:
// sudo closes inherited descriptors, and the target side opens the files itself.
std::optional<Refused> open_fd_paths(Response& r) {
    if (r.decision.fd_paths.empty()) return std::nullopt;
    if (r.decision.fd_paths.size() > execution::kMaxPassFds) {
        return Refused{"too many files to open (at most " + std::to_string(execution::kMaxPassFds) +
                       ")"};
    }
    auto opened = std::make_shared<OpenedFiles>();  // closes what it holds on every return
    for (matching::FdPath& path : r.decision.fd_paths) {
        const Result<int> fd =
            open_confined(path.canonical, path.under, {path.hard_links_allowed, path.max_size});
        if (!fd) return Refused{fd.error().message};
        opened->add(fd.value());
        path.fd = fd.value();
        std::string& word = r.decision.exec_argv.at(path.argv_index);
        word = word.substr(0, path.prefix) + "/dev/fd/" + std::to_string(path.fd);
    }
    r.opened = std::move(opened);
    return std::nullopt;
}

// The target side's request must be the user side's normal form of its rule (one spelling
// per request on the way through sudo; docs/privilege.md).
std::optional<Refused> check_normal_form(const std::vector<std::string>& argv, const Response& r) {
    if (privilege::normal_form(*r.decision.rule, r.decision) == argv) return std::nullopt;
    return Refused{
        "the request is not in the normal form of rule " + r.decision.rule->id +
        " (bridle sends exactly that form; a path may have changed since the first check)"};
}

}  // namespace bridle::gate::detail
