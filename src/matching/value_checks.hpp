// SPDX-License-Identifier: Apache-2.0
// Internal to matching: one client value checked against its ValueSpec (check_value), and a
// glob: path expanded (expand_glob). Templates over the label, which is made only for a message
// that is shown; so they are defined here, for attempt.cpp.
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "matching/matcher.hpp"

namespace bridle::matching::detail {

using policy::ValueSpec;

// A client's word as messages show it (quote_text, cut after 200 bytes).
std::string q(const std::string& s);

// Is `path` equal to `dir` or inside it? Both canonical; compared by whole components, so
// /etcfoo is not under /etc.
bool is_within(const std::string& path, const std::string& dir);

// Has the absolute `path` a ".", ".." or empty component ("//", a trailing "/")?
bool has_dot_component(const std::string& path);

// Does the last component of `path` match one of `patterns` (fnmatch(3); a leading '.' only
// where the pattern spells it)? No patterns: anything does.
bool name_matches(const std::string& path, const std::vector<std::string>& patterns);

// Decimal digits only: no sign, no leading zero, no hex, no exponent, no "all".
bool parse_decimal(const std::string& token, std::int64_t& out);

// Check one client-supplied value against its type. On success `value` is what bridle passes
// to the program (for paths, the canonical path). On failure, when `explain` is set, `why`
// says what was expected, naming the value `label_of()`; otherwise no message is built (most
// candidates' failures are never shown: see decide).
template <class LabelOf>
bool check_value(const ValueSpec& spec, const LabelOf& label_of, const std::string& token,
                 const PathResolver& resolver, std::string& value, std::string& why, bool explain,
                 bool after_double_dash = false) {
    const auto refuse = [&](const auto& message_for) {
        if (explain) why = message_for(label_of());
        return false;
    };
    if (token.empty()) {
        return refuse([&](const std::string& label) { return label + " may not be empty"; });
    }
    // Before any type check: a regex or the file system never sees an over-long value.
    if (spec.max_length && token.size() > *spec.max_length) {
        return refuse([&](const std::string& label) {
            return label + " is " + std::to_string(token.size()) + " bytes, longer than the " +
                   std::to_string(*spec.max_length) + " allowed";
        });
    }
    // Whatever the type: a value that starts with '-' would be read by the program as an
    // option. Closing that here closes argument injection for every rule at once. The one
    // exception, `leading_dash: allow`, holds only after the client's "--", which stays in
    // the exec argv before this value (try_rule), so the program reads it as an operand.
    if (token[0] == '-' && !(spec.leading_dash_allowed && after_double_dash)) {
        return refuse([&](const std::string& label) {
            return label + " may not begin with `-` (got " + q(token) + ")";
        });
    }
    switch (spec.kind) {
        case ValueSpec::Kind::kRegex:
            if (spec.regex && !spec.regex->compile_error().empty()) {
                return refuse([&](const std::string& label) {
                    return label + ": the policy's regex " + q(spec.regex_source) +
                           " cannot be compiled (" + spec.regex->compile_error() +
                           "); the administrator's `bridle check` shows it";
                });
            }
            if (!spec.regex || !spec.regex->full_match(token)) {
                return refuse([&](const std::string& label) {
                    return label + " must match " + q(spec.regex_source) + " (got " + q(token) +
                           ")";
                });
            }
            value = token;
            return true;
        case ValueSpec::Kind::kEnum:
            if (std::find(spec.choices.begin(), spec.choices.end(), token) == spec.choices.end()) {
                return refuse([&](const std::string& label) {
                    return label + " must be one of " + spec.describe(label) + " (got " + q(token) +
                           ")";
                });
            }
            value = token;
            return true;
        case ValueSpec::Kind::kInt: {
            std::int64_t number = 0;
            if (!parse_decimal(token, number) || number < spec.min || number > spec.max) {
                return refuse([&](const std::string& label) {
                    return label + " must be a whole number from " + std::to_string(spec.min) +
                           " to " + std::to_string(spec.max) + " in plain decimal digits (got " +
                           q(token) + ")";
                });
            }
            value = token;
            return true;
        }
        case ValueSpec::Kind::kPath: {
            if (token[0] != '/') {
                return refuse([&](const std::string& label) {
                    return label + " must be an absolute path (got " + q(token) + ")";
                });
            }
            // dots: refuse: the client spells the path as it is, or not at all.
            if (spec.dot_components_refused && has_dot_component(token)) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) +
                           " has a `.`, `..` or empty component: give the path without them";
                });
            }
            std::string problem;
            const auto resolved = resolver.resolve(token, problem);
            if (!resolved) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + ": " + problem;
                });
            }
            const bool inside =
                std::any_of(spec.under.begin(), spec.under.end(),
                            [&](const auto& d) { return is_within(resolved->canonical, d); });
            if (!inside) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " resolves to " + q(resolved->canonical) +
                           ", which is outside the allowed directories (" + spec.describe(label) +
                           ")";
                });
            }
            if (spec.path_type == ValueSpec::PathType::kFile && !resolved->is_regular) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " is not a regular file";
                });
            }
            if (spec.final_symlink_refused && resolved->final_is_symlink) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " is a symbolic link; give the file itself";
                });
            }
            // A second name for a regular file may have been made anywhere on the same file
            // system: realpath() shows the name under `under`, not where the file "lives".
            // Directories always have several links (., .., subdirectories); they cannot be
            // hard-linked, so only regular files are checked.
            if (resolved->is_regular && resolved->links > 1 && !spec.hard_links_allowed) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " has " + std::to_string(resolved->links) +
                           " hard links: it may be a link to a file outside the allowed "
                           "directories (the rule would need `links: allow`)";
                });
            }
            if (spec.path_type == ValueSpec::PathType::kDirectory && !resolved->is_directory) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " is not a directory";
                });
            }
            if (!name_matches(resolved->canonical, spec.names)) {
                return refuse([&](const std::string& label) {
                    std::string list;
                    for (const std::string& pattern : spec.names)
                        list += (list.empty() ? "" : " ") + pattern;
                    return label + " " + q(token) + ": the file name must match one of: " + list;
                });
            }
            if (spec.max_size && resolved->is_regular && resolved->size > *spec.max_size) {
                return refuse([&](const std::string& label) {
                    return label + " " + q(token) + " is " + std::to_string(resolved->size) +
                           " bytes, more than the " + std::to_string(*spec.max_size) + " allowed";
                });
            }
            value = resolved->canonical;
            return true;
        }
        default:
            break;
    }
    return refuse(
        [](const std::string&) { return std::string("internal error: unknown value type"); });
}

// glob: DIR/PATTERN, an unquoted * or ? in PATTERN only, expanded in the one directory DIR
// (no recursion), which must lie inside the spec's `under`. Every match passes the spec's
// whole check (check_value), in byte order of the names; no match, or more than glob.max,
// denies. `values` gets what bridle passes for each.
template <class LabelOf>
bool expand_glob(const ValueSpec& spec, const LabelOf& label_of, const std::string& token,
                 const PathResolver& resolver, std::vector<std::string>& values, std::string& why,
                 bool explain) {
    const auto refuse = [&](const auto& message_for) {
        if (explain) why = message_for(label_of());
        return false;
    };
    const std::size_t slash = token.rfind('/');
    if (token.empty() || token[0] != '/' || slash == std::string::npos) {
        return refuse([&](const std::string& label) {
            return label + " must be an absolute path (got " + q(token) + ")";
        });
    }
    const std::string dir = slash == 0 ? "/" : token.substr(0, slash);
    const std::string pattern = token.substr(slash + 1);
    if (pattern.empty() || dir.find_first_of("*?") != std::string::npos) {
        return refuse([&](const std::string& label) {
            return label + " " + q(token) + ": only the last component may hold * or ?";
        });
    }
    // The matches are built from the canonical directory; the client's own spelling of it is
    // held to `dots: refuse` here.
    if (spec.dot_components_refused && has_dot_component(dir)) {
        return refuse([&](const std::string& label) {
            return label + " " + q(token) +
                   " has a `.`, `..` or empty component: give the path without them";
        });
    }
    std::string problem;
    const auto resolved = resolver.resolve(dir, problem);
    if (!resolved || !resolved->is_directory) {
        return refuse([&](const std::string& label) {
            return label + " " + q(dir) + ": " +
                   (resolved ? std::string("is not a directory") : problem);
        });
    }
    const bool inside = std::any_of(spec.under.begin(), spec.under.end(), [&](const auto& d) {
        return is_within(resolved->canonical, d);
    });
    if (!inside) {
        return refuse([&](const std::string& label) {
            return label + " " + q(dir) + " resolves to " + q(resolved->canonical) +
                   ", which is outside the allowed directories (" + spec.describe(label) + ")";
        });
    }
    auto names = resolver.list(resolved->canonical, problem);
    if (!names) {
        return refuse(
            [&](const std::string& label) { return label + " " + q(dir) + ": " + problem; });
    }
    std::vector<std::string> matches;
    const int flags = spec.glob->hidden ? 0 : FNM_PERIOD;
    for (const std::string& name : *names) {
        if (name != "." && name != ".." && ::fnmatch(pattern.c_str(), name.c_str(), flags) == 0) {
            matches.push_back(name);
        }
    }
    std::sort(matches.begin(), matches.end());
    if (matches.empty()) {
        return refuse(
            [&](const std::string& label) { return label + " " + q(token) + " matches no file"; });
    }
    if (matches.size() > spec.glob->max) {
        return refuse([&](const std::string& label) {
            return label + " " + q(token) + " matches " + std::to_string(matches.size()) +
                   " files; this rule expands at most " + std::to_string(spec.glob->max);
        });
    }
    const std::string base = resolved->canonical == "/" ? "" : resolved->canonical;
    for (const std::string& name : matches) {
        std::string value;
        if (!check_value(spec, label_of, base + "/" + name, resolver, value, why, explain))
            return false;
        values.push_back(std::move(value));
    }
    return true;
}

}  // namespace bridle::matching::detail
