// SPDX-License-Identifier: Apache-2.0
#include "modes.hpp"

#include <sys/prctl.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "admin/cli.hpp"
#include "common/exit_code.hpp"
#include "forced/forced.hpp"
#include "os/fd.hpp"
#include "target/target_side.hpp"

namespace bridle::modes {

int usage_error(const std::string& what) {
    (void)os::write_all(STDERR_FILENO, "bridle: " + what + "\n" + admin::usage());
    return to_int(ExitCode::kUsage);
}

std::optional<int> parse(std::string_view mode, const Args& args, Dashdash dashdash, Words& words) {
    std::size_t i = mode.empty() ? 0 : 1;
    const std::string error = admin::parse_mode_options(mode, args, i, words.options);
    if (!error.empty()) return usage_error(error);
    if (dashdash == Dashdash::kDropped && i < args.size() && args[i] == "--") ++i;
    words.operands.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return std::nullopt;
}

std::optional<int> no_operand(std::string_view mode, const Words& words) {
    if (words.operands.empty()) return std::nullopt;
    const std::string to = mode.empty() ? std::string{} : " to " + std::string(mode);
    return usage_error("unexpected argument" + to + ": " + words.operands[0]);
}

std::optional<int> options_only(std::string_view mode, const Args& args, Words& words) {
    if (const auto refused = parse(mode, args, Dashdash::kOperand, words)) return refused;
    return no_operand(mode, words);
}

int login_shell(const Args& args, policy::PolicyLoader load) {
    if (args.size() != 2) return usage_error("-c takes exactly one argument");
    return forced::run_login_shell(args[1], load);
}

int version(const Args&) {
    (void)os::write_all(STDOUT_FILENO, "bridle " BRIDLE_VERSION "\n");
    return to_int(ExitCode::kOk);
}

int run_as(const Args& args, policy::PolicyLoader load) {
    Words words;
    if (const auto refused = parse("run-as", args, Dashdash::kOperand, words)) return *refused;
    const Args& operands = words.operands;
    if (operands.empty() || operands[0] == "--") return usage_error("run-as needs a RULE");
    target::TargetInvocation target;
    target.policy_file = words.option("--policy");
    target.rule_id = operands[0];
    if (operands.size() > 1) {
        if (operands[1] != "--") {
            return usage_error("run-as: unexpected argument " + operands[1] +
                               " (the request follows --)");
        }
        target.words = Args(operands.begin() + 2, operands.end());
    }
    return target::run_target_side(target, load);
}

int forced_command(const Args& args, policy::PolicyLoader load) {
    Words words;
    if (const auto refused = options_only("", args, words)) return *refused;
    forced::Invocation inv;
    inv.key = words.option("--key");
    inv.policy_file = words.option("--policy");
    inv.approver = words.option("--approver");
    inv.approver_key = words.option("--approver-key");
    if (const char* original = std::getenv("SSH_ORIGINAL_COMMAND")) inv.request = original;
    return forced::run(inv, load);
}

std::optional<int> start() {
    // First of all, in every mode: no process of the same account may ptrace bridle, or open
    // its /proc/PID/mem, environ or fd (the kernel then asks for CAP_SYS_PTRACE; ptrace(2),
    // "Ptrace access mode checking"). The commands bridle runs are that account. Forked
    // children inherit it; the command's execve resets it for the command alone.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        (void)os::write_all(STDERR_FILENO,
                            "bridle: cannot make this process non-dumpable; refusing to run\n");
        return to_int(ExitCode::kSoftware);
    }
    // A vanished SSH client must show up as EPIPE on write, not kill bridle before it has
    // cleaned up and written the result record. (The command's own SIGPIPE is reset in the child.)
    std::signal(SIGPIPE, SIG_IGN);
    return std::nullopt;
}

}  // namespace bridle::modes
