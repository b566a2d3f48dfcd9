// SPDX-License-Identifier: Apache-2.0
// A proposed rule against the ceiling's rule, dimension by dimension (learn_ceiling.hpp).
#include "admin/learn_ceiling.hpp"

#include <algorithm>
#include <cstdint>

namespace bridle::admin::learning {
namespace {

using policy::ValueSpec;
using Kind = ValueSpec::Kind;

bool under(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

bool is_decimal(const std::string& s) {
    return !s.empty() && s.size() <= 16 && (s.size() == 1 || s[0] != '0') &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether the ceiling's spec `c` accepts the word `value` (paths: lexically under).
bool accepts(const ValueSpec& c, const std::string& value) {
    if (c.max_length && value.size() > *c.max_length) return false;
    if (c.kind == Kind::kEnum)
        return std::find(c.choices.begin(), c.choices.end(), value) != c.choices.end();
    if (c.kind == Kind::kInt) {
        if (!is_decimal(value)) return false;
        const std::int64_t n = std::stoll(value);
        return n >= c.min && n <= c.max;
    }
    if (c.kind == Kind::kRegex) return c.regex != nullptr && c.regex->full_match(value);
    return std::any_of(c.under.begin(), c.under.end(),
                       [&](const std::string& d) { return under(value, d); });
}

// "" when `p` accepts nothing `c` refuses, else why not.
std::string spec_exceeds(const ValueSpec& p, const ValueSpec& c) {
    if (p.leading_dash_allowed && !c.leading_dash_allowed) return "takes a leading -";
    if (p.kind == Kind::kEnum) {
        for (const std::string& v : p.choices) {
            if (!accepts(c, v)) return "its value " + v + " is not allowed";
        }
        return "";
    }
    if (p.kind == Kind::kInt && c.kind == Kind::kInt) {
        if (p.min < c.min || p.max > c.max) {
            return "its range " + std::to_string(p.min) + ".." + std::to_string(p.max) +
                   " is not inside " + std::to_string(c.min) + ".." + std::to_string(c.max);
        }
        if (c.max_length && std::to_string(p.max).size() > *c.max_length)
            return "its values may be longer";
        return "";
    }
    if (p.kind == Kind::kInt) {
        if (p.max - p.min >= 64) return "its range is not inside the ceiling's spec";
        for (std::int64_t n = p.min; n <= p.max; ++n) {
            if (!accepts(c, std::to_string(n)))
                return "its value " + std::to_string(n) + " is not allowed";
        }
        return "";
    }
    if (p.kind == Kind::kRegex) {
        if (c.kind != Kind::kRegex || c.regex_source != p.regex_source)
            return "its regex is not the ceiling's";
        if (c.max_length && (!p.max_length || *p.max_length > *c.max_length))
            return "its values may be longer";
        return "";
    }
    if (c.kind != Kind::kPath) return "a path where the ceiling has no path";
    for (const std::string& dir : p.under) {
        if (!std::any_of(c.under.begin(), c.under.end(),
                         [&](const std::string& d) { return under(dir, d); }))
            return "its directory " + dir + " is outside the ceiling's";
    }
    if (c.path_type != ValueSpec::PathType::kAny && p.path_type != c.path_type)
        return "its type is not the ceiling's";
    const bool looser = (!c.names.empty() && p.names != c.names) ||
                        (c.max_size && (!p.max_size || *p.max_size > *c.max_size)) ||
                        (p.hard_links_allowed && !c.hard_links_allowed) ||
                        (c.final_symlink_refused && !p.final_symlink_refused) ||
                        (c.dot_components_refused && !p.dot_components_refused) ||
                        (c.open_fd && !p.open_fd) || (p.glob && !c.glob) ||
                        (c.max_length && (!p.max_length || *p.max_length > *c.max_length));
    return looser ? "it lacks a limit of the ceiling's path" : "";
}

const policy::Option* option_named(const policy::Rule& rule, const std::string& spelling) {
    for (const policy::Option& o : rule.options) {
        if (std::find(o.spellings.begin(), o.spellings.end(), spelling) != o.spellings.end())
            return &o;
    }
    return nullptr;
}

}  // namespace

std::string exceeds(const policy::Rule& p, const policy::Rule& c) {
    if (p.command != c.command) return "the ceiling's rule " + c.id + " runs " + c.command;
    const std::string in = " (the ceiling's rule " + c.id + ")";
    if (!c.keys.empty()) {
        if (p.keys.empty()) return "it is for every key" + in;
        for (const std::string& key : p.keys) {
            if (!c.allows_key(key)) return "it is for the key " + key + in;
        }
    }
    if (p.bundle_flags && !c.bundle_flags) return "it bundles flags" + in;
    if (p.end_of_options && !c.end_of_options) return "it takes --" + in;
    for (const policy::Option& o : p.options) {
        const policy::Option* co = option_named(c, o.name());
        if (co == nullptr) return "it has the option " + o.name() + in;
        for (const std::string& s : o.spellings) {
            if (option_named(c, s) != co) return "it spells " + o.name() + " as " + s + in;
        }
        if (o.is_flag != co->is_flag) return o.name() + " is a flag in one rule only" + in;
        if (o.is_flag) continue;
        if (o.attached && !co->attached) return o.name() + " takes an attached value" + in;
        const std::string why = spec_exceeds(o.value, co->value);
        if (!why.empty()) return o.name() + ": " + why + in;
    }
    for (const policy::Option& co : c.options) {
        if (!co.required) continue;
        const policy::Option* o = option_named(p, co.name());
        if (o == nullptr || !o->required) return "it does not require " + co.name() + in;
    }
    if (p.args.size() != c.args.size()) return "it has another number of arguments" + in;
    for (std::size_t i = 0; i < p.args.size(); ++i) {
        const policy::Arg& a = p.args[i];
        const policy::Arg& ca = c.args[i];
        const std::string at = "argument " + std::to_string(i + 1) + ": ";
        if (ca.is_literal) {
            if (!a.is_literal || a.literal != ca.literal)
                return at + "the ceiling has the word " + ca.literal + in;
            continue;
        }
        if (a.is_literal) {
            if (!accepts(ca.spec, a.literal)) return at + a.literal + " is not allowed" + in;
            continue;
        }
        const std::string why = spec_exceeds(a.spec, ca.spec);
        if (!why.empty()) return at + why + in;
    }
    return "";
}

}  // namespace bridle::admin::learning
