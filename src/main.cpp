// SPDX-License-Identifier: Apache-2.0
// bridle: the forced-command shell for LLM agents on SSH hosts. Wiring only: a table of modes
// (the first word of the command line) and a small handler each, which reads the mode's
// options and operands and hands over to its front end.
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "admin/admin.hpp"
#include "admin/approvals.hpp"
#include "admin/audit_review.hpp"
#include "admin/cli.hpp"
#include "admin/enroll.hpp"
#include "admin/learn.hpp"
#include "admin/sudoers.hpp"
#include "admin/tasks.hpp"
#include "common/exit_code.hpp"
#include "fleet/fleet.hpp"
#include "forced/forced.hpp"
#include "target/target_side.hpp"

namespace {

using bridle::ExitCode;
using bridle::to_int;
using Args = std::vector<std::string>;

int usage_error(const std::string& what) {
    std::cerr << "bridle: " << what << "\n" << bridle::admin::usage();
    return to_int(ExitCode::kUsage);
}

// The words after a mode's name: its options (the table in admin/cli.hpp), then its operands.
struct Words {
    std::map<std::string, std::string> options;
    Args operands;

    bool has(const std::string& name) const { return options.count(name) != 0; }
    std::string option(const std::string& name) const {
        const auto it = options.find(name);
        return it == options.end() ? std::string{} : it->second;
    }
};

// Whether one "--" between the options and the operands is dropped, or is an operand.
enum class Dashdash { kOperand, kDropped };

// Reads the options of `mode` from args (after the mode's name; from the start for the forced
// command, mode ""); the operands are the words from the first that is not one of them. On a
// usage error, says so and returns the exit status.
std::optional<int> parse(std::string_view mode, const Args& args, Dashdash dashdash, Words& words) {
    std::size_t i = mode.empty() ? 0 : 1;
    const std::string error = bridle::admin::parse_mode_options(mode, args, i, words.options);
    if (!error.empty()) return usage_error(error);
    if (dashdash == Dashdash::kDropped && i < args.size() && args[i] == "--") ++i;
    words.operands.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return std::nullopt;
}

// For a mode that takes no operand: refuses the first one there is.
std::optional<int> no_operand(std::string_view mode, const Words& words) {
    if (words.operands.empty()) return std::nullopt;
    const std::string to = mode.empty() ? std::string{} : " to " + std::string(mode);
    return usage_error("unexpected argument" + to + ": " + words.operands[0]);
}

// The options, and nothing else.
std::optional<int> options_only(std::string_view mode, const Args& args, Words& words) {
    if (const auto refused = parse(mode, args, Dashdash::kOperand, words)) return refused;
    return no_operand(mode, words);
}

// `bridle -c TEXT`: bridle as the account's login shell.
int login_shell(const Args& args) {
    if (args.size() != 2) return usage_error("-c takes exactly one argument");
    return bridle::forced::run_login_shell(args[1]);
}

// `--help`/`-h` and `--version` ignore whatever follows them.
int help(const Args&) {
    std::cout << bridle::admin::usage();
    return to_int(ExitCode::kOk);
}

int version(const Args&) {
    std::cout << "bridle " << BRIDLE_VERSION << "\n";
    return to_int(ExitCode::kOk);
}

int check(const Args& args) {
    Words words;
    if (const auto refused = options_only("check", args, words)) return *refused;
    return bridle::admin::check(words.option("--policy"), words.has("--compile"));
}

// `bridle explain [--] TEXT...`: the words, joined with spaces, are the request.
int explain(const Args& args) {
    Words words;
    if (const auto refused = parse("explain", args, Dashdash::kDropped, words)) return *refused;
    if (words.operands.empty()) return usage_error("explain needs the command text after --");
    std::string text;
    for (const std::string& word : words.operands) text += (text.empty() ? "" : " ") + word;
    return bridle::admin::explain(words.option("--policy"), words.option("--key"), text);
}

// Review of the audit trail: reads the journal (or the file sink), changes nothing. The
// options of the table, checked by admin::audit_options, then the review.
int audit(const Args& args) {
    Words words;
    if (const auto refused = options_only("audit", args, words)) return *refused;
    bridle::admin::AuditOptions options;
    const std::string error =
        bridle::admin::audit_options(words.options, bridle::admin::Terminal::of_stdout(), options);
    if (!error.empty()) return usage_error(error);
    return bridle::admin::audit_review(options);
}

// Proposals from the denials: reads the audit trail as audit does, changes nothing but
// --write's new file.
int learn(const Args& args) {
    Words words;
    if (const auto refused = options_only("learn", args, words)) return *refused;
    bridle::admin::LearnOptions options;
    const std::string error = bridle::admin::learn_options(words.options, options);
    if (!error.empty()) return usage_error(error);
    return bridle::admin::learn(options);
}

// Key enrolment: edits the root-owned authorized keys file of the agent account.
bridle::admin::KeysOptions keys_options(const Words& words) {
    bridle::admin::KeysOptions options;
    if (words.has("--file")) options.file = words.option("--file");
    options.policy_file = words.option("--policy");
    options.expires = words.option("--expires");
    return options;
}

int enroll(const Args& args) {
    Words words;
    if (const auto refused = parse("enroll", args, Dashdash::kDropped, words)) return *refused;
    if (words.operands.size() != 1) return usage_error("enroll takes exactly one PUBKEY_FILE");
    if (words.has("--name") == words.has("--approver")) {
        return usage_error("enroll needs --name NAME (an agent key) or --approver NAME");
    }
    if (words.has("--expires") && words.option("--expires").empty()) {
        return usage_error("--expires needs a lifetime (30d) or a date (2027-01-31)");
    }
    if (words.has("--approver")) {
        if (words.has("--expires")) {
            return usage_error(
                "--expires is for agent keys: an approver key does not expire "
                "(revoke it with bridle revoke)");
        }
        return bridle::admin::enroll_approver(words.option("--approver"), words.operands[0],
                                              keys_options(words));
    }
    return bridle::admin::enroll(words.option("--name"), words.operands[0], keys_options(words));
}

int revoke(const Args& args) {
    Words words;
    if (const auto refused = parse("revoke", args, Dashdash::kDropped, words)) return *refused;
    if (words.operands.size() != 1) return usage_error("revoke takes exactly one NAME");
    return bridle::admin::revoke(words.operands[0], keys_options(words));
}

int keys(const Args& args) {
    Words words;
    if (const auto refused = parse("keys", args, Dashdash::kDropped, words)) return *refused;
    if (const auto refused = no_operand("keys", words)) return *refused;
    return bridle::admin::list_keys(keys_options(words));
}

// `bridle tasks [--policy FILE]`: every task in the spool.
int tasks(const Args& args) {
    Words words;
    if (const auto refused = options_only("tasks", args, words)) return *refused;
    return bridle::admin::list_all_tasks(words.option("--policy"));
}

// Privilege: compile the run_as rules for sudo; the target side that sudo starts.
int sudoers(const Args& args) {
    Words words;
    if (const auto refused = options_only("sudoers", args, words)) return *refused;
    bridle::admin::SudoersOptions options;
    options.policy_file = words.option("--policy");
    if (words.has("--user")) options.user = words.option("--user");
    options.bridle = words.option("--bridle");
    options.install = words.has("--install");
    return bridle::admin::sudoers(options);
}

// `bridle run-as RULE [-- WORD...]`
int run_as(const Args& args) {
    Words words;
    if (const auto refused = parse("run-as", args, Dashdash::kOperand, words)) return *refused;
    const Args& operands = words.operands;
    if (operands.empty() || operands[0] == "--") return usage_error("run-as needs a RULE");
    bridle::target::TargetInvocation target;
    target.policy_file = words.option("--policy");
    target.rule_id = operands[0];
    if (operands.size() > 1) {
        if (operands[1] != "--") {
            return usage_error("run-as: unexpected argument " + operands[1] +
                               " (the request follows --)");
        }
        target.words = Args(operands.begin() + 2, operands.end());
    }
    return bridle::target::run_target_side(target);
}

// `bridle fleet run|mcp ...`: the controller, on the operator's machine (src/fleet/).
int fleet(const Args& args) {
    if (args.size() < 2 || (args[1] != "run" && args[1] != "mcp")) {
        return usage_error("fleet needs run or mcp");
    }
    const std::string mode = "fleet " + args[1];
    Words words;
    std::size_t i = 2;
    const std::string error = bridle::admin::parse_mode_options(mode, args, i, words.options);
    if (!error.empty()) return usage_error(error);
    bridle::fleet::CommonOptions common;
    if (words.has("-i")) common.inventory = words.option("-i");
    common.ssh_config = words.option("--ssh-config");
    if (args[1] == "mcp") {
        if (i < args.size()) return usage_error("unexpected argument to fleet mcp: " + args[i]);
        return bridle::fleet::serve_mcp(common);
    }
    bridle::fleet::RunOptions options;
    options.common = common;
    if (i >= args.size() || args[i] == "--") return usage_error("fleet run needs HOST|GROUP");
    options.pattern = args[i++];
    if (i >= args.size() || args[i] != "--") {
        return usage_error("fleet run: the command follows -- (fleet run HOST|GROUP -- CMD...)");
    }
    options.words.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
    if (options.words.empty()) return usage_error("fleet run needs a command after --");
    const std::string output = words.has("-o") ? words.option("-o") : "text";
    if (output != "text" && output != "json") return usage_error("-o is text or json");
    options.json = output == "json";
    options.stop_on_failure = words.has("--stop-on-failure");
    for (const auto& [name, max, out] :
         {std::tuple<const char*, int, int*>{"--timeout", 86400, &options.timeout_seconds},
          {"--max-parallel", 64, &options.max_parallel}}) {
        if (!words.has(name)) continue;
        const std::string bad = bridle::fleet::parse_count(words.option(name), max, *out);
        if (!bad.empty()) return usage_error(std::string(name) + ": " + bad);
    }
    return bridle::fleet::run(options);
}

// Approvals on the host (root): `approvals [ID]`, `approve ID`, `reject ID`.
int approvals(const Args& args) {
    Words words;
    if (const auto refused = parse("approvals", args, Dashdash::kDropped, words)) return *refused;
    if (words.operands.size() > 1) return usage_error("approvals takes at most one ID");
    bridle::admin::ApprovalOptions options;
    options.policy_file = words.option("--policy");
    if (!words.operands.empty()) options.id = words.operands[0];
    options.text_only = words.has("--text");
    if (options.text_only && options.id.empty()) return usage_error("--text needs an ID");
    return bridle::admin::list_approvals(options);
}

int answer(const Args& args, const char* mode, bool approve) {
    Words words;
    if (const auto refused = parse(mode, args, Dashdash::kDropped, words)) return *refused;
    if (words.operands.size() != 1) return usage_error(std::string(mode) + " takes exactly one ID");
    bridle::admin::ApprovalOptions options;
    options.policy_file = words.option("--policy");
    options.id = words.operands[0];
    options.signature_file = words.option("--signature");
    return bridle::admin::answer_approval(options, approve);
}

int approve(const Args& args) {
    return answer(args, "approve", true);
}

int reject(const Args& args) {
    return answer(args, "reject", false);
}

// The forced command: options come from authorized_keys `command=` or ForceCommand (the
// administrator's); the request comes from the client, through SSH_ORIGINAL_COMMAND only.
int forced_command(const Args& args) {
    Words words;
    if (const auto refused = options_only("", args, words)) return *refused;
    bridle::forced::Invocation inv;
    inv.key = words.option("--key");
    inv.policy_file = words.option("--policy");
    inv.approver = words.option("--approver");
    inv.approver_key = words.option("--approver-key");
    if (const char* original = std::getenv("SSH_ORIGINAL_COMMAND")) inv.request = original;
    return bridle::forced::run(inv);
}

// A mode: the first word of the command line, and its handler, which gets every word after
// bridle's own name. A command line whose first word is none of these is the forced command's.
struct Mode {
    std::string_view name;
    int (*run)(const Args& args);
};

constexpr std::array<Mode, 18> kModes{{
    {"-c", login_shell},
    {"--help", help},
    {"-h", help},
    {"--version", version},
    {"check", check},
    {"explain", explain},
    {"audit", audit},
    {"approvals", approvals},
    {"approve", approve},
    {"reject", reject},
    {"learn", learn},
    {"enroll", enroll},
    {"revoke", revoke},
    {"keys", keys},
    {"tasks", tasks},
    {"sudoers", sudoers},
    {"run-as", run_as},
    {"fleet", fleet},
}};

// Every mode --help lists (admin::kModes; "" is the forced command) has its handler here, and
// every handler its row there (-h is --help's short form).
// The table's "fleet run" and "fleet mcp" are both the handler "fleet".
constexpr bool handled(std::string_view name) {
    if (name.starts_with("fleet ")) name = "fleet";
    return name.empty() ||
           std::ranges::any_of(kModes, [&](const Mode& m) { return m.name == name; });
}
constexpr bool listed(std::string_view name) {
    if (name == "fleet") {
        return std::ranges::any_of(bridle::admin::kModes,
                                   [](const auto& m) { return m.name.starts_with("fleet "); });
    }
    return name == "-h" || std::ranges::any_of(bridle::admin::kModes,
                                               [&](const auto& m) { return m.name == name; });
}
static_assert(std::ranges::all_of(bridle::admin::kModes,
                                  [](const auto& m) { return handled(m.name); }) &&
                  std::ranges::all_of(kModes, [](const Mode& m) { return listed(m.name); }),
              "the modes of main() and the table in admin/cli.hpp differ");

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
    const Args args(argv + 1, argv + argc);
    for (const Mode& mode : kModes) {
        if (!args.empty() && args[0] == mode.name) return mode.run(args);
    }
    return forced_command(args);
}
