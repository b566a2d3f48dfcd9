// SPDX-License-Identifier: Apache-2.0
// bridle-full: the forced-command shell for LLM agents on SSH hosts, every mode. Wiring only: a
// table of modes (the first word of the command line) and a small handler each, which reads the
// mode's options and operands and hands over to its front end. The forced command's own binary,
// `bridle`, runs the modes of an agent's connection and hands the rest to this one
// (src/front.cpp).
#include <algorithm>
#include <array>
#include <iostream>
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
#include "loader/loader.hpp"
#include "modes.hpp"

namespace {

using bridle::ExitCode;
using bridle::to_int;
using bridle::modes::Args;
using bridle::modes::Dashdash;
using bridle::modes::no_operand;
using bridle::modes::options_only;
using bridle::modes::parse;
using bridle::modes::usage_error;
using bridle::modes::version;
using bridle::modes::Words;

// `--help`/`-h` and `--version` ignore whatever follows them.
int help(const Args&) {
    std::cout << bridle::admin::usage();
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

// The modes of an agent's connection, reading the policy with load_policy (the YAML, or the
// compiled cache when it answers).
int login_shell(const Args& args) {
    return bridle::modes::login_shell(args, bridle::policy::load_policy);
}
int run_as(const Args& args) {
    return bridle::modes::run_as(args, bridle::policy::load_policy);
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
    if (const auto refused = bridle::modes::start()) return *refused;
    const Args args(argv + 1, argv + argc);
    for (const Mode& mode : kModes) {
        if (!args.empty() && args[0] == mode.name) return mode.run(args);
    }
    return bridle::modes::forced_command(args, bridle::policy::load_policy);
}
