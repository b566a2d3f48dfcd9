// SPDX-License-Identifier: Apache-2.0
// bridle: the forced-command shell for LLM agents on SSH hosts. Wiring only: pick the front
// end from the command line and hand over.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "admin/admin.hpp"
#include "common/exit_code.hpp"
#include "forced/forced.hpp"

namespace {

using bridle::ExitCode;
using bridle::to_int;

constexpr const char* kUsage =
    "usage:\n"
    "  bridle [--key NAME] [--policy FILE]      forced command: run SSH_ORIGINAL_COMMAND\n"
    "  bridle -c TEXT                           as the account's login shell\n"
    "  bridle check [--policy FILE]             validate the policy\n"
    "  bridle explain [--policy FILE] [--key NAME] -- TEXT\n"
    "                                           show the decision for TEXT; runs nothing\n"
    "  bridle --help | --version\n"
    "See bridle(8) and bridle-policy(5).\n";

int usage_error(const std::string& what) {
    std::cerr << "bridle: " << what << "\n" << kUsage;
    return to_int(ExitCode::kUsage);
}

// Options shared by every mode: --key NAME, --policy FILE (also --key=NAME). Stops at "--"
// or at the first word that is not one of them; `i` is left there.
bool parse_options(const std::vector<std::string>& args, std::size_t& i, std::string& key,
                   std::string& policy, bool allow_key, std::string& error) {
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string name = a, value;
        bool has_value = false;
        if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = a.substr(0, eq), value = a.substr(eq + 1), has_value = true;
        }
        if (name != "--key" && name != "--policy") return true;
        if (name == "--key" && !allow_key) {
            error = "--key is not an option of this command";
            return false;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) {
                error = name + " needs a value";
                return false;
            }
            value = args[++i];
        }
        (name == "--key" ? key : policy) = value;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    // A vanished SSH client must show up as EPIPE on write, not kill bridle before it has
    // cleaned up and written the result record. (The command's own SIGPIPE is reset in the child.)
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> args(argv + 1, argv + argc);
    std::string key, policy, error;
    std::size_t i = 0;

    if (!args.empty() && args[0] == "-c") {
        if (args.size() != 2) return usage_error("-c takes exactly one argument");
        return bridle::forced::run_login_shell(args[1]);
    }
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << kUsage;
        return to_int(ExitCode::kOk);
    }
    if (!args.empty() && args[0] == "--version") {
        std::cout << "bridle " << BRIDLE_VERSION << "\n";
        return to_int(ExitCode::kOk);
    }
    if (!args.empty() && args[0] == "check") {
        i = 1;
        if (!parse_options(args, i, key, policy, false, error)) return usage_error(error);
        if (i != args.size()) return usage_error("unexpected argument to check: " + args[i]);
        return bridle::admin::check(policy);
    }
    if (!args.empty() && args[0] == "explain") {
        i = 1;
        if (!parse_options(args, i, key, policy, true, error)) return usage_error(error);
        if (i < args.size() && args[i] == "--") ++i;
        if (i >= args.size()) return usage_error("explain needs the command text after --");
        std::string text;
        for (; i < args.size(); ++i) text += (text.empty() ? "" : " ") + args[i];
        return bridle::admin::explain(policy, key, text);
    }

    // The forced command: options come from authorized_keys `command=` or ForceCommand (the
    // administrator's); the request comes from the client, through SSH_ORIGINAL_COMMAND only.
    if (!parse_options(args, i, key, policy, true, error)) return usage_error(error);
    if (i != args.size()) return usage_error("unexpected argument: " + args[i]);
    bridle::forced::Invocation inv;
    inv.key = key;
    inv.policy_file = policy;
    if (const char* original = std::getenv("SSH_ORIGINAL_COMMAND")) inv.request = original;
    return bridle::forced::run(inv);
}
