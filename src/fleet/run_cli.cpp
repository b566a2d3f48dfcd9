// SPDX-License-Identifier: Apache-2.0
// `bridle fleet run [-i INVENTORY] HOST|GROUP -- CMD...`: the wrapper-script front end (the
// `pi_exec "uptime"` pattern). Each host's output is printed as the host finishes, every line
// prefixed with the host's name; then a summary. Ctrl-C cancels every host's call.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <mutex>

#include "common/exit_code.hpp"
#include "common/text.hpp"
#include "fleet/fanout.hpp"
#include "fleet/fleet.hpp"
#include "fleet/journal.hpp"
#include "os/fd.hpp"

namespace bridle::fleet {
namespace {

int g_cancel_write = -1;  // the write end of the cancel pipe, for the signal handler

extern "C" void on_signal(int) {
    if (g_cancel_write >= 0) {
        const char byte = 'x';
        [[maybe_unused]] const ssize_t n = ::write(g_cancel_write, &byte, 1);
    }
}

// Each line of `text` after `prefix`. The command's output comes escaped by the host's bridle
// (gate/client_stream); the controller's and the host's own messages are escaped here.
void print_prefixed(std::ostream& out, const std::string& prefix, const std::string& text,
                    bool escape = false) {
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        out << prefix << (escape ? escape_text(line, 4096, Quotes::kAsIs) : line) << "\n";
        start = end + 1;
    }
}

std::string field(const Json& s, const char* name) {
    return s.is_object() && s.contains(name) && s[name].is_string() ? s[name].get<std::string>()
                                                                    : std::string();
}

void print_text(const HostResult& r) {
    const Json& s = r.structured;
    if (!field(s, "stdout").empty()) print_prefixed(std::cout, r.host + " | ", field(s, "stdout"));
    if (!field(s, "stderr").empty()) print_prefixed(std::cout, r.host + " ! ", field(s, "stderr"));
    std::string line = r.host + ": " + status_name(r.status);
    if (s.is_object() && s.contains("exit_code")) line += " (exit " + s["exit_code"].dump() + ")";
    line += " " + std::to_string(r.duration_ms) + " ms";
    std::cout << line << "\n";
    if (r.status != HostStatus::kOk && r.status != HostStatus::kExitNonzero && !r.message.empty()) {
        print_prefixed(std::cout, r.host + " # ", r.message, true);
    }
    std::cout.flush();
}

}  // namespace

std::string parse_count(const std::string& text, int max, int& out) {
    if (text.empty() || text.size() > 6 ||
        text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) < 1 ||
        std::stoi(text) > max) {
        return "a whole number from 1 to " + std::to_string(max) + ", not \"" + text.substr(0, 20) +
               "\"";
    }
    out = std::stoi(text);
    return "";
}

int run(const RunOptions& options) {
    auto inventory = load_inventory(options.common.inventory);
    if (!inventory) {
        std::cerr << "bridle: fleet: " << inventory.error().full() << "\n";
        return to_int(ExitCode::kConfig);
    }
    auto hosts = select_hosts(inventory.value(), options.pattern);
    if (!hosts) {
        std::cerr << "bridle: fleet: " << hosts.error().full() << "\n";
        return to_int(ExitCode::kUsage);
    }
    std::vector<std::string> names;
    for (const Host* h : hosts.value()) names.push_back(h->name);
    Fleet fleet(inventory.value(), SshSettings{"ssh", options.common.ssh_config, 10});
    // The selected hosts point into the fleet's own copy of the inventory.
    std::vector<const Host*> selected = select_hosts(fleet.inventory(), options.pattern).value();

    os::UniqueFd cancel_read, cancel_write;
    if (!os::make_pipe(cancel_read, cancel_write)) {
        std::cerr << "bridle: fleet: cannot make a pipe\n";
        return to_int(ExitCode::kSoftware);
    }
    g_cancel_write = cancel_write.get();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    FanoutRequest request;
    request.tool = "run_command";
    request.arguments = options.words.size() == 1 && options.words[0].find(' ') != std::string::npos
                            ? Json{{"command", options.words[0]}}
                            : Json{{"argv", options.words}};
    request.timeout_seconds =
        options.timeout_seconds > 0 ? options.timeout_seconds : kDefaultTimeoutSeconds;
    request.arguments["timeout_seconds"] = request.timeout_seconds;
    request.max_parallel = options.max_parallel > 0 ? options.max_parallel : kDefaultMaxParallel;
    request.stop_on_failure = options.stop_on_failure;
    request.cancel_fd = cancel_read.get();
    request.fanout_id = new_fanout_id();
    std::mutex print;
    if (!options.json) {
        request.on_done = [&](const HostResult& r) {
            std::lock_guard lock(print);
            print_text(r);
        };
    }
    const FanoutRecord record{request.fanout_id, "fleet-run", request.tool, request.arguments,
                              names};
    if (const bridle::Status s = record_fanout_start(record); !s) {
        std::cerr << "bridle: fleet: warning: the controller's journal record was not written ("
                  << s.error().message << "); the hosts record their part\n";
    }
    const std::vector<HostResult> results = fleet.run(selected, request);
    (void)record_fanout_result(record, results);
    g_cancel_write = -1;

    const Json counts = summary(results);
    if (options.json) {
        Json out{{"fanout_id", request.fanout_id}, {"summary", counts}, {"hosts", Json::array()}};
        for (const HostResult& r : results) out["hosts"].push_back(host_json(r));
        std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
        std::string line = "summary: " + std::to_string(results.size()) + " hosts";
        for (const char* name : {"ok", "exit_nonzero", "denied", "approval_required", "timeout",
                                 "unreachable", "error", "cancelled", "skipped"}) {
            if (counts.contains(name)) line += ", " + counts[name].dump() + " " + name;
        }
        std::cout << line << " (fan-out " << request.fanout_id << ")\n";
    }
    return exit_status(results);
}

}  // namespace bridle::fleet
