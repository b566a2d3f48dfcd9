// SPDX-License-Identifier: Apache-2.0
// The fleet's inventory, in Ansible's formats (INI, YAML, and `ansible-inventory --list` JSON):
// the hosts, how to reach each, and the groups they are in. Read once by the controller; every
// error names the file and line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::fleet {

// One host as the controller reaches it: `ssh [-p PORT] [-l USER] [-i KEY_FILE] ADDRESS mcp`.
// What is empty (or 0) is left to ssh_config.
struct Host {
    std::string name;      // the inventory's name: what the model and the records see
    std::string address;   // ansible_host, else the name
    int port = 0;          // ansible_port
    std::string user;      // ansible_user
    std::string key_file;  // bridle_key_file (else ansible_ssh_private_key_file): never shown
    std::vector<std::string> groups;  // every group the host is in, sorted, without "all"
    std::string location;             // file:line where it was first defined
};

struct Inventory {
    std::string file;
    std::vector<Host> hosts;                                 // in the order of the file
    std::map<std::string, std::vector<std::string>> groups;  // group -> its hosts (children's too)
};

// Reads `path`: YAML (.yml, .yaml, or a document whose first line is `KEY:`), the JSON of
// `ansible-inventory --list` (starts with `{`), otherwise INI. The variables bridle reads are
// ansible_host, ansible_port, ansible_user, bridle_key_file and ansible_ssh_private_key_file;
// other ansible_* and unrelated variables are ignored, an unknown bridle_* one is an error.
Result<Inventory> load_inventory(const std::string& path);
// The same, from text (tests; `file` is only for the locations).
Result<Inventory> parse_inventory(const std::string& text, const std::string& file);

// The hosts a pattern names: a host, a group (or "all"), or several of these joined by ','.
// Inventory order, each host once. An unknown name is an error that lists the groups.
Result<std::vector<const Host*>> select_hosts(const Inventory& inventory,
                                              const std::string& pattern);

}  // namespace bridle::fleet
