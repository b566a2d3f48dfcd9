// SPDX-License-Identifier: Apache-2.0
// An inventory as its file says it, before groups are resolved and variables merged: what the
// INI and YAML readers produce, each value with the place it came from.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace bridle::fleet::raw {

struct Var {
    std::string value;
    std::string location;   // file:line[:col]
    bool is_scalar = true;  // false: a list or a mapping (YAML), which no bridle variable takes
};
using Vars = std::map<std::string, Var>;

struct HostEntry {
    std::string name;
    Vars vars;
    std::string location;
};

struct Group {
    std::vector<HostEntry> hosts;
    std::vector<std::pair<std::string, std::string>> children;  // name, location
    Vars vars;
    std::string location;  // where the group is defined ("" while only referred to)
};

struct Inventory {
    std::map<std::string, Group> groups;
    std::vector<HostEntry> hostvars;  // the JSON form's _meta.hostvars
    std::vector<Error> errors;
    std::vector<std::string> order;  // host names in the order of their first appearance
    // The group `name`, created on first mention.
    Group& group(const std::string& name) { return groups[name]; }
    void add_host(const std::string& group_name, HostEntry entry) {
        if (std::find(order.begin(), order.end(), entry.name) == order.end()) {
            order.push_back(entry.name);
        }
        group(group_name).hosts.push_back(std::move(entry));
    }
};

// The readers (inventory_ini.cpp, inventory_yaml.cpp). Syntax errors land in `errors`.
Inventory read_ini(const std::string& text, const std::string& file);
Inventory read_yaml(const std::string& text, const std::string& file);

// Host and group names: what Ansible allows, less what ssh or a terminal would read otherwise.
bool is_valid_name(const std::string& name);

}  // namespace bridle::fleet::raw
