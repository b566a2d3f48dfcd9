// SPDX-License-Identifier: Apache-2.0
// check and explain: the admin's view of a policy and of one decision.
#include "admin/admin.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "admin/approvals.hpp"
#include "admin/sudoers.hpp"
#include "audit/audit.hpp"
#include "audit/records.hpp"
#include "common/exit_code.hpp"
#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::admin {
namespace {

// explain never audits: it decides nothing that runs.
class NoAudit final : public audit::Sink {
  public:
    Status write(const audit::Record&) override { return ok_status(); }
};

}  // namespace

// An explicit --policy FILE is a draft being reviewed: unsafe ownership is a warning here (the
// forced command refuses it). The installed policy is checked as strictly as it is enforced.
// check compiles every regex (a pattern RE2 cannot compile is an error there); explain loads
// as the forced command does, compiling only what the request reaches.
namespace {

Result<policy::Policy> load_and_print(const std::string& policy_file,
                                      const policy::LoadOptions& options,
                                      policy::LoadReport& report) {
    auto loaded = policy::load_policy(policy_file, options, report);
    for (const auto& w : report.warnings) {
        std::cerr << "bridle: warning: " << w.full() << "\n";
    }
    for (const auto& e : report.errors) std::cerr << "bridle: error: " << e.full() << "\n";
    if (!loaded && report.errors.empty())
        std::cerr << "bridle: error: " << loaded.error().full() << "\n";
    return loaded;
}

policy::LoadOptions options_for(const std::string& policy_file, bool compile_regexes) {
    policy::LoadOptions options;
    options.require_safe_ownership = policy_file.empty();
    options.compile_regexes = compile_regexes;
    return options;
}

// What check says of the compiled policy cache, after a load that looked in it (and wrote it).
int report_cache(const policy::Policy& policy, const policy::LoadReport& report, bool compile) {
    if (compile) {
        if (report.cache_written.empty()) {
            std::cerr << "bridle: error: the compiled policy cache was not written: "
                      << report.cache_not_written << "\n";
            return to_int(ExitCode::kCantCreate);
        }
        std::cout << "compiled: " << report.cache_written << "\n";
    } else if (policy.cache == "hit") {
        std::cout << "compiled: up to date\n";
    } else {
        std::cout << "compiled: " << policy.cache << " (bridle check --compile stores it)\n";
    }
    return to_int(ExitCode::kOk);
}

}  // namespace

Result<policy::Policy> load_and_report(const std::string& policy_file, bool compile_regexes) {
    policy::LoadReport report;
    return load_and_print(policy_file, options_for(policy_file, compile_regexes), report);
}

namespace {

// What explain says of one decided command: its rule, what runs, the sandbox.
// `piped`: a pipeline stage after the first, whose stdin is the stage before.
void print_details(const gate::Response& r, const policy::Policy& policy, bool piped = false) {
    const auto& d = r.decision;
    const bool allowed = d.verdict == matching::Verdict::kAllow;
    if (d.rule) {
        std::cout << "rule: " << d.rule->id << " (" << d.rule->source << ")\n";
        std::cout << "exec: " << d.rule->command << " "
                  << nlohmann::json(d.exec_argv)
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
        // The environment differences: what this rule sets over settings.env.
        for (const auto& [name, value] : d.rule->env) {
            const auto base = policy.settings.env.find(name);
            std::cout << "env: " << name << "="
                      << nlohmann::json(value).dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace)
                      << (base == policy.settings.env.end() ? " (added by the rule)"
                                                            : " (the rule's, over settings.env)")
                      << "\n";
        }
        for (const auto& path : d.fd_paths) {
            const std::string file =
                nlohmann::json(path.canonical)
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            if (path.fd >= 0) {
                std::cout
                    << "fd: /dev/fd/" << path.fd << " = " << file
                    << " (opened by bridle, no symlink followed; the number differs per run)\n";
            } else {
                // A run_as rule: the target side opens it after the user switch.
                std::cout << "fd: " << file
                          << " (opened as /dev/fd/N by the target side, after the user switch)\n";
            }
        }
        for (const auto& b : d.bindings) {
            std::cout << "bind: " << b.name << " = "
                      << nlohmann::json(b.value).dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace)
                      << "\n";
        }
    } else if (allowed) {
        std::cout << "rule: " << audit::kHelpRuleId << "\n";
    }
    if (d.rule != nullptr && !d.rule->run_as.empty()) {
        std::cout << "run_as: " << d.rule->run_as;
        if (r.sudo) {
            std::cout << " (through " << privilege::kSudo << ":";
            for (const auto& word : r.sudo->target_command) std::cout << " " << word;
            std::cout << ")";
        }
        std::cout << "\n";
    }
    if (d.rule != nullptr && allowed) {
        const policy::Settings& settings = policy.settings;
        std::cout << "limits: timeout " << d.rule->timeout.value_or(settings.timeout).count()
                  << " ms, output " << d.rule->max_output.value_or(settings.max_output)
                  << " bytes per stream, stdin "
                  << (piped                   ? "the stage before"
                      : d.rule->stdin_allowed ? "passed"
                                              : "/dev/null")
                  << "\n";
    }
    if (r.sandbox) {
        std::cout << "sandbox: " << r.sandbox->profile.name
                  << " (seccomp: " << r.sandbox->seccomp_text() << "; exec-once: "
                  << (r.sandbox->profile.exec_once  ? "yes"
                      : r.sandbox->profile.exec_log ? "no, execs logged"
                                                    : "no")
                  << "; landlock: " << r.sandbox->landlock_text() << ")\n";
    }
}

// What explain says of a file request: the entry, the resolved path, how a write is made.
void print_file_details(const gate::FileOutcome& f, const policy::Policy& policy, bool allowed) {
    const auto entry = std::find_if(policy.file_rules.begin(), policy.file_rules.end(),
                                    [&](const policy::FileRule& e) { return e.id == f.entry; });
    std::cout << "path: "
              << nlohmann::json(f.path).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
              << "\n";
    if (!allowed || entry == policy.file_rules.end()) return;
    std::cout << "files entry: " << entry->id << " (" << entry->source << ")\n";
    if (!entry->run_as.empty()) std::cout << "run_as: " << entry->run_as << " (through sudo)\n";
    if (f.verb == "put" || f.verb == "restore") {
        std::cout << "write: " << policy::content_type_name(entry->content) << ", at most "
                  << entry->max_size << " bytes, mode " << policy::octal_mode(entry->mode)
                  << (entry->create ? ", may create" : ", existing files only")
                  << "; validator: " << (entry->validator.empty() ? "none" : entry->validator)
                  << "; versions kept: " << entry->versions
                  << "; diff audited: " << (entry->diff ? "yes" : "no") << "\n";
    }
}

}  // namespace

int check(const std::string& policy_file, bool compile, const std::string& cache_dir) {
    policy::LoadReport report;
    policy::LoadOptions options = options_for(policy_file, true);
    options.cache_dir = cache_dir;
    options.write_cache = compile;
    auto loaded = load_and_print(policy_file, options, report);
    if (!loaded) {
        std::cerr
            << "bridle: the policy is not valid; the forced command would refuse every request\n";
        return to_int(ExitCode::kConfig);
    }
    const auto& p = loaded.value();
    for (const std::string& w : risky_grants(p)) std::cerr << "bridle: warning: " << w << "\n";
    const ApprovalFindings approvals = check_approvals(p);
    for (const std::string& w : approvals.warnings) std::cerr << "bridle: warning: " << w << "\n";
    if (!approvals.errors.empty()) {
        for (const std::string& e : approvals.errors) std::cerr << "bridle: error: " << e << "\n";
        std::cerr << "bridle: the policy's approvals cannot work; fix the allowed-signers file or "
                     "the approvers\n";
        return to_int(ExitCode::kConfig);
    }
    std::cout << "policy OK: " << p.rules.size() << " rule(s)";
    if (!p.file_rules.empty()) std::cout << " and " << p.file_rules.size() << " files entries";
    std::cout << " from";
    for (const auto& f : p.files) std::cout << " " << f;
    std::cout << "\nsha256: " << p.sha256 << "\n";
    return report_cache(p, report, compile);
}

int explain(const std::string& policy_file, const std::string& key, const std::string& text) {
    auto loaded = load_and_report(policy_file, false);
    if (!loaded) return to_int(ExitCode::kConfig);
    NoAudit no_audit;
    gate::SystemResolver resolver;
    const gate::Context context{loaded.value(), no_audit, resolver};
    gate::Request request;
    request.text = text;
    request.key = key;
    request.front_end = "explain";
    const gate::Response r = gate::explain(context, request);

    const auto& d = r.decision;
    if (r.kind == gate::Kind::kUnparsable) {
        std::cout << "decision: unparsable\nreason: " << d.reason << "\n";
        return r.exit_status;
    }
    const bool allowed = d.verdict == matching::Verdict::kAllow;
    std::cout << "decision: " << (allowed ? "allow" : "deny") << "\n";
    if (r.file) {
        print_file_details(*r.file, loaded.value(), allowed);
    } else if (r.stages.empty()) {
        print_details(r, loaded.value());
    } else {
        // A pipeline: each stage as it would be explained alone, then the whole.
        for (std::size_t i = 0; i < r.stages.size(); ++i) {
            const gate::Response& stage = r.stages[i];
            const bool stage_allowed = stage.decision.verdict == matching::Verdict::kAllow;
            std::cout << "stage " << (i + 1) << ": " << (stage_allowed ? "allow" : "deny") << "\n";
            print_details(stage, loaded.value(), i > 0);
            if (!stage_allowed) std::cout << "  reason: " << stage.decision.reason << "\n";
        }
        if (allowed) {
            // The whole pipeline runs under the strictest stage's limits.
            const policy::Settings& settings = loaded.value().settings;
            auto timeout = settings.timeout;
            std::uint64_t output = settings.max_output;
            for (const gate::Response& stage : r.stages) {
                timeout =
                    std::min(timeout, stage.decision.rule->timeout.value_or(settings.timeout));
                output =
                    std::min(output, stage.decision.rule->max_output.value_or(settings.max_output));
            }
            std::cout << "pipeline: timeout " << timeout.count() << " ms, output " << output
                      << " bytes per stream (the strictest stage's, for the whole pipeline)\n";
        }
    }
    if (!allowed) {
        std::cout << "reason: " << d.reason << "\n";
        for (const auto& s : d.nearest) std::cout << "usage: " << s << "\n";
    }
    return r.exit_status;
}

}  // namespace bridle::admin
