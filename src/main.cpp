// SPDX-License-Identifier: Apache-2.0
// bridle: the forced-command shell for LLM agents on SSH hosts. Wiring only: pick the front
// end from the command line and hand over.
#include <sys/prctl.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin.hpp"
#include "admin/audit_review.hpp"
#include "admin/cli.hpp"
#include "admin/enroll.hpp"
#include "common/exit_code.hpp"
#include "forced/forced.hpp"
#include "admin/sudoers.hpp"
#include "target/target_side.hpp"

namespace {

using bridle::ExitCode;
using bridle::to_int;

int usage_error(const std::string& what) {
    std::cerr << "bridle: " << what << "\n" << bridle::admin::usage();
    return to_int(ExitCode::kUsage);
}

// The options of `mode` (see the table in admin/cli.hpp) from args[i...]; `i` is left at the
// first word that is not one of them.
bool parse_options(std::string_view mode, const std::vector<std::string>& args, std::size_t& i,
                   std::map<std::string, std::string>& values, std::string& error) {
    error = bridle::admin::parse_mode_options(mode, args, i, values);
    return error.empty();
}

std::string value_of(const std::map<std::string, std::string>& values, const std::string& name) {
    const auto it = values.find(name);
    return it == values.end() ? std::string{} : it->second;
}

// `bridle audit`: the options of the table, checked by admin::audit_options, then the review.
int audit_command(const std::vector<std::string>& args) {
    std::map<std::string, std::string> values;
    std::string error;
    std::size_t i = 1;
    if (!parse_options("audit", args, i, values, error)) return usage_error(error);
    if (i != args.size()) return usage_error("unexpected argument to audit: " + args[i]);
    bridle::admin::AuditOptions options;
    error = bridle::admin::audit_options(values, bridle::admin::Terminal::of_stdout(), options);
    if (!error.empty()) return usage_error(error);
    return bridle::admin::audit_review(options);
}

}  // namespace

int main(int argc, char** argv) {
    // First of all, in every mode: no process of the same account may ptrace bridle, or open
    // its /proc/PID/mem, environ or fd (the kernel then asks for CAP_SYS_PTRACE; ptrace(2),
    // "Ptrace access mode checking"). The commands bridle runs are that account. Forked
    // children inherit it; the command's execve resets it for the command alone.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        std::cerr << "bridle: cannot make this process non-dumpable; refusing to run\n";
        return to_int(ExitCode::kSoftware);
    }
    // A vanished SSH client must show up as EPIPE on write, not kill bridle before it has
    // cleaned up and written the result record. (The command's own SIGPIPE is reset in the child.)
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> args(argv + 1, argv + argc);
    std::map<std::string, std::string> values;
    std::string error;
    std::size_t i = 0;

    if (!args.empty() && args[0] == "-c") {
        if (args.size() != 2) return usage_error("-c takes exactly one argument");
        return bridle::forced::run_login_shell(args[1]);
    }
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << bridle::admin::usage();
        return to_int(ExitCode::kOk);
    }
    if (!args.empty() && args[0] == "--version") {
        std::cout << "bridle " << BRIDLE_VERSION << "\n";
        return to_int(ExitCode::kOk);
    }
    if (!args.empty() && args[0] == "check") {
        i = 1;
        if (!parse_options("check", args, i, values, error)) return usage_error(error);
        if (i != args.size()) return usage_error("unexpected argument to check: " + args[i]);
        return bridle::admin::check(value_of(values, "--policy"));
    }
    if (!args.empty() && args[0] == "explain") {
        i = 1;
        if (!parse_options("explain", args, i, values, error)) return usage_error(error);
        if (i < args.size() && args[i] == "--") ++i;
        if (i >= args.size()) return usage_error("explain needs the command text after --");
        std::string text;
        for (; i < args.size(); ++i) text += (text.empty() ? "" : " ") + args[i];
        return bridle::admin::explain(value_of(values, "--policy"), value_of(values, "--key"), text);
    }
    // Review of the audit trail: reads the journal (or the file sink), changes nothing.
    if (!args.empty() && args[0] == "audit") return audit_command(args);
    // Key enrolment: edits the root-owned authorized keys file of the agent account.
    if (!args.empty() && (args[0] == "enroll" || args[0] == "revoke" || args[0] == "keys")) {
        const std::string mode = args[0];
        i = 1;
        if (!parse_options(mode, args, i, values, error)) return usage_error(error);
        if (i < args.size() && args[i] == "--") ++i;
        bridle::admin::KeysOptions options;
        if (values.count("--file")) options.file = values["--file"];
        options.policy_file = value_of(values, "--policy");
        const std::size_t operands = args.size() - i;
        if (mode == "keys") {
            if (operands != 0) return usage_error("unexpected argument to keys: " + args[i]);
            return bridle::admin::list_keys(options);
        }
        if (operands != 1) return usage_error(mode + " takes exactly one " + (mode == "enroll" ? "PUBKEY_FILE" : "NAME"));
        if (mode == "revoke") return bridle::admin::revoke(args[i], options);
        if (!values.count("--name")) return usage_error("enroll needs --name NAME");
        return bridle::admin::enroll(values["--name"], args[i], options);
    }

    // Privilege: compile the run_as rules for sudo; the target side that sudo starts.
    if (!args.empty() && args[0] == "sudoers") {
        i = 1;
        if (!parse_options("sudoers", args, i, values, error)) return usage_error(error);
        if (i != args.size()) return usage_error("unexpected argument to sudoers: " + args[i]);
        bridle::admin::SudoersOptions options;
        options.policy_file = value_of(values, "--policy");
        if (values.count("--user")) options.user = values["--user"];
        options.bridle = value_of(values, "--bridle");
        options.install = values.count("--install") != 0;
        return bridle::admin::sudoers(options);
    }
    if (!args.empty() && args[0] == "run-as") {
        i = 1;
        if (!parse_options("run-as", args, i, values, error)) return usage_error(error);
        if (i >= args.size() || args[i] == "--") return usage_error("run-as needs a RULE");
        bridle::target::TargetInvocation target;
        target.policy_file = value_of(values, "--policy");
        target.rule_id = args[i++];
        if (i < args.size()) {
            if (args[i] != "--") return usage_error("run-as: unexpected argument " + args[i] + " (the request follows --)");
            target.words = std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
        }
        return bridle::target::run_target_side(target);
    }

    // The forced command: options come from authorized_keys `command=` or ForceCommand (the
    // administrator's); the request comes from the client, through SSH_ORIGINAL_COMMAND only.
    if (!parse_options("", args, i, values, error)) return usage_error(error);
    if (i != args.size()) return usage_error("unexpected argument: " + args[i]);
    bridle::forced::Invocation inv;
    inv.key = value_of(values, "--key");
    inv.policy_file = value_of(values, "--policy");
    if (const char* original = std::getenv("SSH_ORIGINAL_COMMAND")) inv.request = original;
    return bridle::forced::run(inv);
}
