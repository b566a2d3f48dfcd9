// SPDX-License-Identifier: Apache-2.0
// `bridle fleet`: the controller's front ends. `fleet run` fans one command out and prints each
// host's result (prefixed text, or JSON); `fleet mcp` serves the fan-out to an agent as an MCP
// server on stdio. Both read an Ansible inventory and reach each host as `ssh HOST mcp`.
#pragma once

#include <string>
#include <vector>

namespace bridle::fleet {

struct CommonOptions {
    std::string inventory = "/etc/ansible/hosts";  // -i
    std::string ssh_config;                        // --ssh-config: ssh -F
};

struct RunOptions {
    CommonOptions common;
    std::string pattern;             // HOST, GROUP, or several joined by ','
    std::vector<std::string> words;  // the command: argv, or one word holding a command line
    bool json = false;               // -o json
    int timeout_seconds = 0;         // 0: the default
    int max_parallel = 0;            // 0: the default
    bool stop_on_failure = false;
};

// Parses the numbers of --timeout and --max-parallel; "" or an error message.
std::string parse_count(const std::string& text, int max, int& out);

int run(const RunOptions& options);
int serve_mcp(const CommonOptions& options);

}  // namespace bridle::fleet
