// SPDX-License-Identifier: Apache-2.0
// Ansible's YAML inventory and the JSON of `ansible-inventory --list`, both read with yaml-cpp
// (JSON is YAML's flow style), so every error has its line and column. A group is a mapping
// with `hosts` (a mapping of host -> variables; a list of names in the JSON form), `vars` and
// `children` (a mapping of nested groups; a list of group names in the JSON form). The JSON
// form's host variables are under `_meta: {hostvars: {HOST: {...}}}`. yaml-cpp's exceptions
// stay in this file.
#include <yaml-cpp/yaml.h>

#include <set>

#include "fleet/inventory_raw.hpp"

namespace bridle::fleet::raw {
namespace {

class YamlReader {
  public:
    explicit YamlReader(const std::string& file) : file_(file) {}

    Inventory read(const std::string& text) {
        YAML::Node root;
        try {
            root = YAML::Load(text);
        } catch (const YAML::ParserException& e) {
            fail(e.mark, "YAML syntax: " + e.msg);
            return std::move(out_);
        } catch (const YAML::Exception& e) {
            fail(e.mark, "YAML: " + e.msg);
            return std::move(out_);
        }
        if (root.IsNull()) return std::move(out_);
        if (!root.IsMap()) {
            fail(root.Mark(), "an inventory is a mapping of group names (all: ...)");
            return std::move(out_);
        }
        for (const auto& [key, value] : entries(root, "the inventory")) {
            if (key == "_meta") {
                read_meta(value);
            } else {
                read_group(key, value);
            }
        }
        return std::move(out_);
    }

  private:
    std::string at(const YAML::Mark& mark) const {
        if (mark.is_null()) return file_;
        return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    void fail(const YAML::Mark& mark, std::string message) {
        out_.errors.push_back({std::move(message), at(mark)});
    }

    // A mapping's entries with scalar keys; duplicate keys are errors (yaml-cpp keeps both).
    std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& map,
                                                            const std::string& what) {
        std::vector<std::pair<std::string, YAML::Node>> out;
        std::set<std::string> seen;
        for (const auto& item : map) {
            if (!item.first.IsScalar()) {
                fail(item.first.Mark(), "a key in " + what + " must be a plain name");
                continue;
            }
            const std::string key = item.first.Scalar();
            if (!seen.insert(key).second) {
                fail(item.first.Mark(), "duplicate key \"" + key + "\" in " + what);
                continue;
            }
            out.emplace_back(key, item.second);
            marks_[key + "@" + what] = item.first.Mark();
        }
        return out;
    }

    Vars read_vars(const YAML::Node& node, const std::string& what) {
        Vars vars;
        if (node.IsNull()) return vars;
        if (!node.IsMap()) {
            fail(node.Mark(), what + " must be a mapping of variables");
            return vars;
        }
        for (const auto& [key, value] : entries(node, what)) {
            const YAML::Mark mark = value.IsNull() ? marks_[key + "@" + what] : value.Mark();
            vars[key] = {value.IsScalar() ? value.Scalar() : std::string(), at(mark),
                         value.IsScalar() || value.IsNull()};
        }
        return vars;
    }

    void read_group(const std::string& name, const YAML::Node& node) {
        const YAML::Mark name_mark = marks_[name + "@the inventory"];
        read_group_at(name, node, name_mark.is_null() ? node.Mark() : name_mark);
    }

    void read_group_at(const std::string& name, const YAML::Node& node, const YAML::Mark& mark) {
        if (!is_valid_name(name)) {
            fail(mark, "invalid group name \"" + name + "\"");
            return;
        }
        Group& g = out_.group(name);
        if (g.location.empty()) g.location = at(mark);
        if (node.IsNull()) return;
        if (!node.IsMap()) {
            fail(node.Mark(), "group \"" + name + "\" must be a mapping (hosts, vars, children)");
            return;
        }
        const std::string what = "group \"" + name + "\"";
        for (const auto& [key, value] : entries(node, what)) {
            if (key == "hosts") {
                read_hosts(name, value);
            } else if (key == "vars") {
                for (auto& [var, v] : read_vars(value, "the vars of " + what)) {
                    out_.group(name).vars[var] = v;
                }
            } else if (key == "children") {
                read_children(name, value);
            } else {
                fail(marks_[key + "@" + what],
                     "unknown key \"" + key + "\" in " + what + " (hosts, vars, children)");
            }
        }
    }

    void read_hosts(const std::string& group, const YAML::Node& node) {
        const std::string what = "the hosts of group \"" + group + "\"";
        if (node.IsNull()) return;
        if (node.IsSequence()) {  // the JSON form: names; variables are in _meta.hostvars
            for (const auto& item : node) {
                if (!item.IsScalar() || !is_valid_name(item.Scalar())) {
                    fail(item.Mark(), "invalid host name in " + what);
                    continue;
                }
                out_.add_host(group, {item.Scalar(), {}, at(item.Mark())});
            }
            return;
        }
        if (!node.IsMap()) {
            fail(node.Mark(), what + " must be a mapping of host names");
            return;
        }
        for (const auto& [name, value] : entries(node, what)) {
            const YAML::Mark mark = marks_[name + "@" + what];
            if (!is_valid_name(name)) {
                fail(mark, "invalid host name \"" + name + "\" in " + what);
                continue;
            }
            HostEntry entry{name, read_vars(value, "host \"" + name + "\""), at(mark)};
            out_.add_host(group, std::move(entry));
        }
    }

    void read_children(const std::string& group, const YAML::Node& node) {
        const std::string what = "the children of group \"" + group + "\"";
        if (node.IsNull()) return;
        if (node.IsSequence()) {  // the JSON form: names of groups defined at the top
            for (const auto& item : node) {
                if (!item.IsScalar() || !is_valid_name(item.Scalar())) {
                    fail(item.Mark(), "invalid group name in " + what);
                    continue;
                }
                out_.group(group).children.emplace_back(item.Scalar(), at(item.Mark()));
            }
            return;
        }
        if (!node.IsMap()) {
            fail(node.Mark(), what + " must be a mapping of groups");
            return;
        }
        for (const auto& [name, value] : entries(node, what)) {
            const YAML::Mark mark = marks_[name + "@" + what];
            out_.group(group).children.emplace_back(name, at(mark));
            read_group_at(name, value, mark);
        }
    }

    void read_meta(const YAML::Node& node) {
        if (!node.IsMap()) {
            fail(node.Mark(), "_meta must be a mapping (hostvars)");
            return;
        }
        for (const auto& [key, value] : entries(node, "_meta")) {
            if (key != "hostvars") continue;  // ansible-inventory writes only hostvars
            if (!value.IsMap()) {
                fail(value.Mark(), "_meta.hostvars must be a mapping of hosts");
                continue;
            }
            for (const auto& [host, vars] : entries(value, "_meta.hostvars")) {
                if (!is_valid_name(host)) {
                    fail(marks_[host + "@_meta.hostvars"], "invalid host name \"" + host + "\"");
                    continue;
                }
                out_.hostvars.push_back({host, read_vars(vars, "host \"" + host + "\""),
                                         at(marks_[host + "@_meta.hostvars"])});
            }
        }
    }

    const std::string& file_;
    Inventory out_;
    std::map<std::string, YAML::Mark> marks_;  // "key@where" -> the key's mark
};

}  // namespace

Inventory read_yaml(const std::string& text, const std::string& file) {
    try {
        return YamlReader(file).read(text);
    } catch (const YAML::Exception& e) {  // a conversion deep inside: still a located error
        Inventory out;
        out.errors.push_back({"YAML: " + e.msg, file + ":" + std::to_string(e.mark.line + 1)});
        return out;
    }
}

}  // namespace bridle::fleet::raw
