// SPDX-License-Identifier: Apache-2.0
// The forced-command front end: one request per process, output streamed to the SSH channel,
// bridle's own words on stderr prefixed "bridle: ".
#include "forced/forced.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "audit/sink_for_policy.hpp"
#include "command/tokenizer.hpp"
#include "common/exit_code.hpp"
#include "common/names.hpp"
#include "common/text.hpp"
#include "execution/runner.hpp"
#include "gate/approvals.hpp"
#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "os/accounts.hpp"
#include "os/fd.hpp"
#include "session/session.hpp"

namespace bridle::forced {
namespace {

// The request that starts session mode (MCP over this channel); reserved, like `help`.
constexpr const char* kSessionRequest = "mcp";

void say(std::string_view text) {
    (void)os::write_all(STDERR_FILENO, text);
}

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string current_user() {
    return os::own_account_name().value_or(std::to_string(::geteuid()));
}

// A signature on stdin (`approve ID --signature -`): at most 64 KiB, the rest dropped.
std::string read_signature() {
    constexpr std::size_t kMax = 64 * 1024;
    std::string bytes;
    char buffer[4096];
    while (bytes.size() <= kMax) {
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
    return bytes;
}

int print(const gate::approvals::Answer& answer) {
    (void)os::write_all(STDOUT_FILENO, answer.out);
    say(answer.err);
    return answer.exit_status;
}

// The request as the gate sees it, before any policy is read.
gate::Request request_of(const Invocation& inv) {
    gate::Request request;
    request.text = inv.request.value_or("");
    request.key = inv.key;
    request.client = env_or_empty("SSH_CONNECTION");
    request.front_end = inv.front_end;
    request.run_as = current_user();
    return request;
}

}  // namespace

int run(const Invocation& inv, policy::PolicyLoader load) {
    auto sink = audit::make_journald_sink();
    gate::Request request = request_of(inv);
    const auto refuse = [&](ExitCode code, const std::string& reason, const std::string& text,
                            const std::string& policy_sha) {
        gate::Refusal refusal;
        refusal.code = code;
        refusal.reason = reason;
        refusal.text = text;
        refusal.policy_sha256 = policy_sha;
        say(gate::refuse(*sink, request, refusal).message);
        return to_int(code);
    };
    if (!inv.approver.empty() && (!inv.key.empty() || !is_key_name(inv.approver))) {
        return refuse(ExitCode::kUsage, "invalid --approver in the forced command",
                      "bridle: an approver key's forced command is --approver NAME alone: ask "
                      "the administrator to fix authorized_keys\n",
                      "");
    }
    if (!inv.key.empty() && !is_key_name(inv.key)) {
        return refuse(ExitCode::kUsage, "invalid --key in the forced command",
                      "bridle: invalid --key " + quote_text(inv.key, 80) +
                          " in the forced command: ask the administrator to fix authorized_keys\n",
                      "");
    }

    // Fail closed: no policy, no run (loader.hpp, enforcing_load_options: strict ownership,
    // regexes compiled by the request that reaches them, root's compiled cache). Nothing has
    // been recorded on the way here but a refusal, which ends the request: `load` may hand the
    // request to bridle-full.
    policy::LoadReport report;
    auto loaded = load(inv.policy_file, policy::enforcing_load_options(), report);
    if (!loaded) {
        std::string text = "bridle: the policy cannot be used: " + loaded.error().full() + "\n";
        if (report.errors.size() > 1) {
            text += "bridle: (" + std::to_string(report.errors.size()) +
                    " problems; an administrator can run `bridle check`)\n";
        }
        text += "bridle: nothing was run\n";
        return refuse(ExitCode::kConfig, "policy unusable: " + loaded.error().full(), text, "");
    }
    const policy::Policy& policy = loaded.value();
    // From here on, records go where the policy says (settings.audit); until now, refusals
    // went to journald.
    sink = audit::make_sink(policy.settings);

    if (!inv.request) {
        // A login attempt (no command): the help text, never a shell.
        return refuse(
            ExitCode::kUsage, "no command: interactive login refused",
            (inv.approver.empty() ? gate::help_text(policy, inv.key)
                                  : "bridle: an approver key may send: approvals | show ID "
                                    "[--text] | approve ID [--signature -] | reject ID\n") +
                "bridle: interactive logins are not available: run one command per connection, e.g. `ssh HOST uptime`\n",
            policy.sha256);
    }

    gate::SystemResolver resolver;
    const gate::Context context{policy, *sink, resolver};
    if (!inv.approver.empty()) {
        // An approver key: its words answer approval requests; nothing else, nothing runs.
        const gate::approvals::Actor actor{"ssh", inv.approver, inv.approver_key, request.client};
        Result<std::vector<std::string>> words = command::tokenize(*inv.request);
        if (!words) {
            return refuse(ExitCode::kUsage, "an approver key's request: " + words.error().full(),
                          "bridle: cannot parse the request: " + words.error().full() + "\n",
                          policy.sha256);
        }
        gate::approvals::Answer answer =
            gate::approvals::serve_approver(context, actor, words.value(), read_signature);
        if (answer.exit_status == to_int(ExitCode::kUsage) && answer.out.empty()) {
            // Not one of the approver's words: a refusal on the record, like any other.
            request.key = inv.approver;
            return refuse(ExitCode::kUsage, "not an approver's request", answer.err, policy.sha256);
        }
        return print(answer);
    }
    // The agent's own approval words: the state of its request, a signature it delivers.
    if (auto answer = gate::approvals::serve_agent(context, request, read_signature)) {
        if (answer->exit_status == to_int(ExitCode::kUsage) && answer->out.empty()) {
            return refuse(ExitCode::kUsage, "not an approval request this key may send",
                          answer->err, policy.sha256);  // on the record, like any refusal
        }
        return print(*answer);
    }
    if (*inv.request == kSessionRequest) {
        // Session mode: many requests over this channel, each through the same gate.
        return session::serve(context, session::Options{inv.key, env_or_empty("SSH_CONNECTION"),
                                                        current_user(), BRIDLE_VERSION});
    }

    const execution::OutputSink to_channel = [](execution::Stream stream, std::string_view bytes) {
        return os::write_all(stream == execution::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO,
                             bytes);
    };
    // A put's content is the rest of the channel's stdin.
    request.upload = [](std::uint64_t max_bytes, std::chrono::milliseconds timeout) {
        return gate::read_upload(STDIN_FILENO, max_bytes, timeout, {STDOUT_FILENO, STDERR_FILENO});
    };
    // The key's guardrails first: a request over them is refused before it is decided. The
    // slot is held until this process ends; a task's detached supervisor lets go of it.
    os::UniqueFd slot;
    if (const std::optional<gate::Response> over = gate::admit(context, request, slot)) {
        say(over->message);
        return over->exit_status;
    }
    if (slot.get() >= 0) request.detach_close_fds.push_back(slot.get());
    // stdout and stderr are the SSH channel: a hangup there means the client is gone.
    const gate::Response response =
        gate::handle(context, request, to_channel, {STDOUT_FILENO, STDERR_FILENO});
    // The help text is the answer, on stdout; everything else bridle says goes to stderr.
    if (response.kind == gate::Kind::kHelp) {
        (void)os::write_all(STDOUT_FILENO, response.message);
    } else {
        say(response.message);
    }
    return response.exit_status;
}

int run_login_shell(const std::string& text, policy::PolicyLoader load) {
    const char* original = std::getenv("SSH_ORIGINAL_COMMAND");
    if (original != nullptr) {
        // A forced command is configured: `text` is the administrator's command line. Take only
        // bridle's own options from it; the request is the client's SSH_ORIGINAL_COMMAND.
        auto words = command::tokenize(text);
        Invocation inv;
        inv.front_end = "login-shell";
        inv.request = original;
        if (!words || words.value().empty() || words.value()[0].empty() ||
            words.value()[0].substr(words.value()[0].rfind('/') + 1) != "bridle") {
            say("bridle: the forced command is not a bridle command line: ask the administrator to fix sshd_config or authorized_keys\n");
            return to_int(ExitCode::kUsage);
        }
        const auto& argv = words.value();
        for (std::size_t i = 1; i < argv.size(); ++i) {
            if ((argv[i] == "--key" || argv[i] == "--policy" || argv[i] == "--approver" ||
                 argv[i] == "--approver-key") &&
                i + 1 < argv.size()) {
                std::string& value = argv[i] == "--key"        ? inv.key
                                     : argv[i] == "--policy"   ? inv.policy_file
                                     : argv[i] == "--approver" ? inv.approver
                                                               : inv.approver_key;
                value = argv[i + 1];
                ++i;
            } else {
                say("bridle: unsupported word " + quote_text(argv[i], 80) +
                    " in the forced command\n");
                return to_int(ExitCode::kUsage);
            }
        }
        return run(inv, load);
    }
    // No forced command applies: `text` is the client's own request, untrusted. A client that
    // asked for nothing gets sshd's forced command line here: treat it as a login attempt and
    // never read options out of it.
    Invocation inv;
    inv.front_end = "login-shell";
    auto words = command::tokenize(text);
    const bool names_bridle = words && !words.value().empty() &&
                              words.value()[0].substr(words.value()[0].rfind('/') + 1) == "bridle";
    if (!names_bridle) inv.request = text;
    return run(inv, load);
}

}  // namespace bridle::forced
