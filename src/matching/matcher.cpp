// SPDX-License-Identifier: Apache-2.0
// Matching: every token of the request must be consumed by one rule, or the request is denied.
#include "matching/matcher.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <set>

#include "common/text.hpp"

namespace bridle::matching {
namespace {

using policy::Arg;
using policy::Option;
using policy::Rule;
using policy::ValueSpec;

std::string q(const std::string& s) { return quote_text(s, 200); }

// Is `path` equal to `dir` or inside it? Both canonical; compared by whole components, so
// /etcfoo is not under /etc.
bool is_within(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

// Decimal digits only: no sign, no leading zero, no hex, no exponent, no "all".
bool parse_decimal(const std::string& token, std::int64_t& out) {
    if (token.empty() || token.size() > 16) return false;
    if (token.size() > 1 && token[0] == '0') return false;
    std::int64_t value = 0;
    for (const char c : token) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

// Check one client-supplied value against its type. On success `value` is what bridle passes
// to the program (for paths, the canonical path); on failure `why` says what was expected.
bool check_value(const ValueSpec& spec, const std::string& label, const std::string& token,
                 const PathResolver& resolver, std::string& value, std::string& why) {
    if (token.empty()) {
        why = label + " may not be empty";
        return false;
    }
    // Whatever the type: a value that starts with '-' would be read by the program as an
    // option. Closing that here closes argument injection for every rule at once.
    if (token[0] == '-') {
        why = label + " may not begin with `-` (got " + q(token) + ")";
        return false;
    }
    switch (spec.kind) {
        case ValueSpec::Kind::kRegex:
            if (!spec.regex || !RE2::FullMatch(token, *spec.regex)) {
                why = label + " must match " + q(spec.regex_source) + " (got " + q(token) + ")";
                return false;
            }
            value = token;
            return true;
        case ValueSpec::Kind::kEnum:
            if (std::find(spec.choices.begin(), spec.choices.end(), token) == spec.choices.end()) {
                why = label + " must be one of " + spec.describe(label) + " (got " + q(token) + ")";
                return false;
            }
            value = token;
            return true;
        case ValueSpec::Kind::kInt: {
            std::int64_t number = 0;
            if (!parse_decimal(token, number) || number < spec.min || number > spec.max) {
                why = label + " must be a whole number from " + std::to_string(spec.min) + " to " +
                      std::to_string(spec.max) + " in plain decimal digits (got " + q(token) + ")";
                return false;
            }
            value = token;
            return true;
        }
        case ValueSpec::Kind::kPath: {
            if (token[0] != '/') {
                why = label + " must be an absolute path (got " + q(token) + ")";
                return false;
            }
            std::string problem;
            const auto resolved = resolver.resolve(token, problem);
            if (!resolved) {
                why = label + " " + q(token) + ": " + problem;
                return false;
            }
            const bool inside = std::any_of(spec.under.begin(), spec.under.end(), [&](const auto& d) {
                return is_within(resolved->canonical, d);
            });
            if (!inside) {
                why = label + " " + q(token) + " resolves to " + q(resolved->canonical) +
                      ", which is outside the allowed directories (" + spec.describe(label) + ")";
                return false;
            }
            if (spec.path_type == ValueSpec::PathType::kFile && !resolved->is_regular) {
                why = label + " " + q(token) + " is not a regular file";
                return false;
            }
            if (spec.path_type == ValueSpec::PathType::kDirectory && !resolved->is_directory) {
                why = label + " " + q(token) + " is not a directory";
                return false;
            }
            value = resolved->canonical;
            return true;
        }
        default:
            break;
    }
    why = "internal error: unknown value type";
    return false;
}

std::string upper(std::string s) {
    for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return s;
}

const Option* find_option(const Rule& rule, const std::string& spelling) {
    for (const Option& option : rule.options) {
        if (std::find(option.spellings.begin(), option.spellings.end(), spelling) !=
            option.spellings.end()) {
            return &option;
        }
    }
    return nullptr;
}

// How far a rule got before it failed: the rule that consumed the most tokens gives the
// reason an agent sees.
struct Attempt {
    bool matched = false;
    std::size_t consumed = 0;
    std::string why;
    std::vector<Binding> bindings;
    std::vector<std::string> exec_argv;
};

Attempt try_rule(const Rule& rule, const std::vector<std::string>& argv,
                 const PathResolver& resolver) {
    Attempt a;
    a.exec_argv.push_back(rule.name);
    std::set<const Option*> seen;
    std::size_t next_arg = 0;
    bool after_double_dash = false;

    const auto fail = [&](std::size_t at, std::string why) {
        a.consumed = at;
        a.why = std::move(why);
        return a;
    };

    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        const bool literal_expected = next_arg < rule.args.size() && rule.args[next_arg].is_literal;

        if (!after_double_dash && token == "--" &&
            !(literal_expected && rule.args[next_arg].literal == token)) {
            if (!rule.end_of_options) return fail(i, "`--` is not accepted by this command");
            after_double_dash = true;
            a.exec_argv.push_back(token);
            continue;
        }

        const bool looks_like_option = !after_double_dash && token.size() > 1 && token[0] == '-' &&
                                       !(literal_expected && rule.args[next_arg].literal == token);
        if (looks_like_option) {
            std::string spelling = token;
            std::string attached;
            bool has_attached = false;
            if (token.compare(0, 2, "--") == 0) {
                const auto eq = token.find('=');
                if (eq != std::string::npos) {
                    spelling = token.substr(0, eq);
                    attached = token.substr(eq + 1);
                    has_attached = true;
                }
            } else if (token.size() > 2) {
                spelling = token.substr(0, 2);
                attached = token.substr(2);
                has_attached = true;
            }
            const Option* option = find_option(rule, spelling);
            if (!option) return fail(i, "option " + q(spelling) + " is not allowed");
            if (seen.count(option)) return fail(i, "option " + q(option->name()) + " may be given only once");
            seen.insert(option);
            if (option->is_flag) {
                if (has_attached) {
                    return fail(i, token.compare(0, 2, "--") == 0
                                       ? "option " + q(spelling) + " takes no value"
                                       : "short options cannot be bundled: give " + q(spelling) +
                                             " and the rest as separate words");
                }
                a.bindings.push_back({option->name(), "true"});
                a.exec_argv.push_back(option->name());
                continue;
            }
            std::string raw;
            if (has_attached) {
                raw = attached;
            } else if (i + 1 < argv.size()) {
                raw = argv[++i];
            } else {
                return fail(i, "option " + q(spelling) + " needs a value: " +
                                   option->value.describe(option->placeholder()));
            }
            std::string value, why;
            if (!check_value(option->value, "the value of " + option->name(), raw, resolver, value, why)) {
                return fail(i, why);
            }
            a.bindings.push_back({option->name(), value});
            // Attached forms are read the same by every getopt-style parser, whether the
            // option's argument is required or optional: -n50, --lines=50.
            a.exec_argv.push_back(option->name().compare(0, 2, "--") == 0 ? option->name() + "=" + value
                                                                          : option->name() + value);
            continue;
        }

        if (next_arg >= rule.args.size()) {
            return fail(i, "unexpected argument " + q(token) + ": this command takes " +
                               std::to_string(rule.args.size()) + " argument(s)");
        }
        const Arg& arg = rule.args[next_arg];
        if (arg.is_literal) {
            if (token != arg.literal) {
                return fail(i, "expected " + q(arg.literal) + " here, got " + q(token));
            }
            a.exec_argv.push_back(token);
        } else {
            std::string value, why;
            if (!check_value(arg.spec, upper(arg.name), token, resolver, value, why)) return fail(i, why);
            a.bindings.push_back({arg.name, value});
            a.exec_argv.push_back(value);
        }
        ++next_arg;
    }

    if (next_arg < rule.args.size()) {
        const Arg& missing = rule.args[next_arg];
        return fail(argv.size(), "missing argument " +
                                     (missing.is_literal ? q(missing.literal)
                                                         : missing.spec.describe(upper(missing.name))));
    }
    for (const Option& option : rule.options) {
        if (option.required && !seen.count(&option)) {
            return fail(argv.size(), "option " + q(option.name()) + " is required");
        }
    }
    a.matched = true;
    a.consumed = argv.size();
    return a;
}

std::string basename_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Decision decide(const policy::Policy& policy, const std::vector<std::string>& argv,
                const std::string& key, const PathResolver& resolver) {
    Decision d;
    if (argv.empty() || argv[0].empty()) {
        d.reason = "empty command";
        return d;
    }
    const std::string& name = argv[0];

    std::vector<const Rule*> candidates;
    for (const Rule& rule : policy.rules) {
        if (rule.name == name && rule.allows_key(key)) candidates.push_back(&rule);
    }

    if (candidates.empty()) {
        // A path where a name belongs: point at the name the policy knows the program by.
        const bool is_path = name.find('/') != std::string::npos;
        for (const Rule& rule : policy.rules) {
            if (is_path && rule.allows_key(key) &&
                (rule.command == name || rule.name == basename_of(name))) {
                d.nearest.push_back(rule.synopsis());
            }
        }
        if (is_path && !d.nearest.empty()) {
            d.reason = "type the program by its name, not a path: " + q(basename_of(name));
        } else if (name.find('=') != std::string::npos) {
            d.reason = "environment assignments are not accepted (" + q(name) +
                       "): the command's environment comes from the policy";
        } else {
            d.reason = "no rule allows the program " + q(name);
        }
        return d;
    }

    const Attempt* best = nullptr;
    std::vector<Attempt> attempts;
    attempts.reserve(candidates.size());
    for (const Rule* rule : candidates) {
        attempts.push_back(try_rule(*rule, argv, resolver));
        Attempt& attempt = attempts.back();
        if (attempt.matched) {
            d.verdict = Verdict::kAllow;
            d.rule = rule;
            d.bindings = std::move(attempt.bindings);
            d.exec_argv = std::move(attempt.exec_argv);
            return d;
        }
    }
    for (const Attempt& attempt : attempts) {
        if (!best || attempt.consumed > best->consumed) best = &attempt;
    }
    d.reason = best->why;
    for (const Rule* rule : candidates) d.nearest.push_back(rule->synopsis());
    return d;
}

std::vector<std::string> allowed_synopses(const policy::Policy& policy, const std::string& key) {
    std::vector<std::string> out;
    for (const Rule& rule : policy.rules) {
        if (rule.allows_key(key)) out.push_back(rule.synopsis());
    }
    return out;
}

}  // namespace bridle::matching
