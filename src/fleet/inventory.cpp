// SPDX-License-Identifier: Apache-2.0
// From what an inventory file says (inventory_raw.hpp) to the hosts the controller reaches:
// the format chosen, groups resolved (an unknown group or a cycle is an error), variables
// merged in Ansible's order (the group `all`, then groups by depth, then the host's own), and
// the variables bridle reads checked: each value ends up in ssh's argv, so none may begin with
// '-' or hold anything but the characters of a name, a port or a path.
#include "fleet/inventory.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "fleet/inventory_raw.hpp"

namespace bridle::fleet {
namespace raw {

bool is_valid_name(const std::string& name) {
    if (name.empty() || name.size() > 253 || name[0] == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
    });
}

}  // namespace raw

namespace {

bool is_plain(const std::string& value, const char* extra) {
    if (value.empty() || value[0] == '-') return false;
    return std::all_of(value.begin(), value.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               std::string_view(extra).find(c) != std::string_view::npos;
    });
}

bool looks_like_yaml(const std::string& text, const std::string& file) {
    const auto ends_with = [&](const char* ext) {
        const std::string e(ext);
        return file.size() >= e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0;
    };
    if (ends_with(".yml") || ends_with(".yaml") || ends_with(".json")) return true;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
        if (line[first] == '{' || line.rfind("---", 0) == 0) return true;
        if (line[first] == '[') return false;
        const auto last = line.find_last_not_of(" \t\r");
        return line[last] == ':';  // `all:` starts a YAML inventory
    }
    return false;
}

class Resolver {
  public:
    Resolver(raw::Inventory& in, const std::string& file) : in_(in) { out_.file = file; }

    Result<Inventory> resolve() {
        in_.group("all");
        in_.group("ungrouped");
        check_groups();
        compute_depths();
        if (!cycle_) build_hosts();  // also after other errors: report every bad variable too
        if (!in_.errors.empty()) return combined();
        return std::move(out_);
    }

  private:
    void fail(std::string location, std::string message) {
        in_.errors.push_back({std::move(message), std::move(location)});
    }

    Error combined() const {
        Error e = in_.errors.front();
        for (std::size_t i = 1; i < in_.errors.size(); ++i)
            e.message += "\n" + in_.errors[i].full();
        return e;
    }

    // Every group named as a child or given variables is defined somewhere.
    void check_groups() {
        for (auto& [name, group] : in_.groups) {
            for (const auto& [child, where] : group.children) {
                const auto it = in_.groups.find(child);
                if (it == in_.groups.end() || it->second.location.empty()) {
                    fail(where, "unknown group \"" + child + "\" in the children of \"" + name +
                                    "\" (define it with its hosts or children)");
                }
                parents_[child].insert(name);
            }
            if (group.location.empty() && name != "all" && !group.vars.empty()) {
                fail(group.vars.begin()->second.location,
                     "variables for the unknown group \"" + name + "\"");
            }
        }
    }

    // Ansible's order: `all` 0, a top-level group 1, a child one more than its deepest parent.
    void compute_depths() {
        std::set<std::string> visiting;
        std::function<int(const std::string&)> depth = [&](const std::string& name) -> int {
            if (name == "all") return 0;
            if (const auto it = depth_.find(name); it != depth_.end()) return it->second;
            if (!visiting.insert(name).second) {
                cycle_ = true;
                fail(in_.groups[name].location, "group \"" + name + "\" is its own descendant");
                return 0;
            }
            int d = 1;
            for (const std::string& parent : parents_[name]) d = std::max(d, depth(parent) + 1);
            visiting.erase(name);
            return depth_[name] = d;
        };
        for (const auto& [name, group] : in_.groups) depth(name);
    }

    // The groups `name` is in, through children: itself and its ancestors.
    void ancestors(const std::string& group, std::set<std::string>& out) {
        if (!out.insert(group).second) return;
        for (const std::string& parent : parents_[group]) ancestors(parent, out);
    }

    void build_hosts() {
        for (const std::string& name : in_.order) {
            std::set<std::string> groups{"all"};
            const raw::HostEntry* first = nullptr;
            for (const auto& [gname, group] : in_.groups) {
                for (const raw::HostEntry& entry : group.hosts) {
                    if (entry.name != name) continue;
                    if (first == nullptr) first = &entry;
                    ancestors(gname, groups);
                }
            }
            if (groups.size() == 1) groups.insert("ungrouped");  // Ansible's: in no group but all
            std::vector<std::string> ordered(groups.begin(), groups.end());
            std::stable_sort(ordered.begin(), ordered.end(),
                             [&](const auto& a, const auto& b) { return depth_[a] < depth_[b]; });
            raw::Vars vars;
            for (const std::string& g : ordered) {
                for (const auto& [k, v] : in_.groups[g].vars) vars[k] = v;
            }
            for (const auto& [gname, group] : in_.groups) {
                for (const raw::HostEntry& entry : group.hosts) {
                    if (entry.name != name) continue;
                    for (const auto& [k, v] : entry.vars) vars[k] = v;
                }
            }
            for (const raw::HostEntry& entry : in_.hostvars) {
                if (entry.name != name) continue;
                for (const auto& [k, v] : entry.vars) vars[k] = v;
            }
            Host host{name, name, 0, {}, {}, {}, first->location};
            read_vars(vars, host);
            for (const std::string& g : groups) {
                if (g != "all") host.groups.push_back(g);
                out_.groups[g].push_back(name);
            }
            out_.hosts.push_back(std::move(host));
        }
        for (const raw::HostEntry& entry : in_.hostvars) {
            if (std::find(in_.order.begin(), in_.order.end(), entry.name) == in_.order.end()) {
                fail(entry.location, "hostvars for \"" + entry.name + "\", which no group lists");
            }
        }
        for (const auto& [name, group] : in_.groups) out_.groups[name];  // empty groups too
    }

    void read_vars(const raw::Vars& vars, Host& host) {
        for (const auto& [key, var] : vars) {
            const bool ours = key == "ansible_host" || key == "ansible_port" ||
                              key == "ansible_user" || key == "bridle_key_file" ||
                              key == "ansible_ssh_private_key_file";
            if (!ours) {
                if (key.rfind("bridle_", 0) == 0) {
                    fail(var.location,
                         "unknown variable \"" + key + "\" (bridle reads bridle_key_file)");
                }
                continue;
            }
            const std::string& v = var.value;
            const std::string bad = "bad variable " + key + " for host \"" + host.name + "\": ";
            if (!var.is_scalar) {
                fail(var.location, bad + "must be a single value");
            } else if (key == "ansible_host") {
                if (!is_plain(v, "._:%-")) {
                    fail(var.location,
                         bad + "a host name or address, not \"" + v.substr(0, 80) + "\"");
                }
                host.address = v;
            } else if (key == "ansible_port") {
                const bool digits =
                    !v.empty() && v.size() <= 5 && std::all_of(v.begin(), v.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c)) != 0;
                    });
                const int port = digits ? std::stoi(v) : 0;
                if (port < 1 || port > 65535) {
                    fail(var.location,
                         bad + "a port number 1-65535, not \"" + v.substr(0, 80) + "\"");
                }
                host.port = port;
            } else if (key == "ansible_user") {
                if (!is_plain(v, "._-") || v.size() > 64) {
                    fail(var.location, bad + "a user name, not \"" + v.substr(0, 80) + "\"");
                }
                host.user = v;
            } else {  // bridle_key_file, or ansible_ssh_private_key_file when there is none
                if (v.empty() || v[0] != '/' || !is_plain(v.substr(1), "._-/@+")) {
                    fail(var.location, bad + "an absolute path, not \"" + v.substr(0, 80) + "\"");
                }
                if (key == "bridle_key_file" || vars.count("bridle_key_file") == 0)
                    host.key_file = v;
            }
        }
    }

    raw::Inventory& in_;
    Inventory out_;
    std::map<std::string, std::set<std::string>> parents_;
    std::map<std::string, int> depth_;
    bool cycle_ = false;
};

}  // namespace

Result<Inventory> parse_inventory(const std::string& text, const std::string& file) {
    raw::Inventory in =
        looks_like_yaml(text, file) ? raw::read_yaml(text, file) : raw::read_ini(text, file);
    return Resolver(in, file).resolve();
}

Result<Inventory> load_inventory(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot read the inventory", path};
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (16u << 20)) return Error{"the inventory is larger than 16 MiB", path};
    return parse_inventory(text.str(), path);
}

Result<std::vector<const Host*>> select_hosts(const Inventory& inventory,
                                              const std::string& pattern) {
    std::set<std::string> chosen;
    std::stringstream parts(pattern);
    for (std::string part; std::getline(parts, part, ',');) {
        if (const auto g = inventory.groups.find(part); g != inventory.groups.end()) {
            chosen.insert(g->second.begin(), g->second.end());
            continue;
        }
        const auto h = std::find_if(inventory.hosts.begin(), inventory.hosts.end(),
                                    [&](const Host& host) { return host.name == part; });
        if (h == inventory.hosts.end()) {
            std::string groups;
            for (const auto& [name, hosts] : inventory.groups)
                groups += (groups.empty() ? "" : ", ") + name;
            return Error{"no host or group \"" + part.substr(0, 80) +
                             "\" in the inventory (groups: " + groups + ")",
                         inventory.file};
        }
        chosen.insert(h->name);
    }
    std::vector<const Host*> out;
    for (const Host& host : inventory.hosts) {
        if (chosen.count(host.name) != 0) out.push_back(&host);
    }
    if (out.empty())
        return Error{"\"" + pattern.substr(0, 80) + "\" names no host", inventory.file};
    return out;
}

}  // namespace bridle::fleet
