// SPDX-License-Identifier: Apache-2.0
// Matching: every token of the request must be consumed by one rule, or the request is denied.
#include "matching/matcher.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>

#include "common/text.hpp"

namespace bridle::matching {
namespace {

using policy::Arg;
using policy::Option;
using policy::Rule;
using policy::ValueSpec;

std::string q(const std::string& s) {
    return quote_text(s, 200);
}

// Is `path` equal to `dir` or inside it? Both canonical; compared by whole components, so
// /etcfoo is not under /etc.
bool is_within(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

// Has the absolute `path` a ".", ".." or empty component ("//", a trailing "/")?
bool has_dot_component(const std::string& path) {
    std::size_t start = 1;
    while (start <= path.size()) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        const std::string_view part(path.data() + start, slash - start);
        if (part.empty() || part == "." || part == "..") return path != "/";
        start = slash + 1;
    }
    return false;
}

// Does the last component of `path` match one of `patterns` (fnmatch(3); a leading '.' only
// where the pattern spells it)? No patterns: anything does.
bool name_matches(const std::string& path, const std::vector<std::string>& patterns) {
    if (patterns.empty()) return true;
    const std::string name = path.substr(path.rfind('/') + 1);
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
        return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
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
                    for (const std::string& pattern : spec.names) list += (list.empty() ? "" : " ") + pattern;
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
            return label + " " + q(dir) + ": " + (resolved ? std::string("is not a directory") : problem);
        });
    }
    const bool inside = std::any_of(spec.under.begin(), spec.under.end(),
                                    [&](const auto& d) { return is_within(resolved->canonical, d); });
    if (!inside) {
        return refuse([&](const std::string& label) {
            return label + " " + q(dir) + " resolves to " + q(resolved->canonical) +
                   ", which is outside the allowed directories (" + spec.describe(label) + ")";
        });
    }
    auto names = resolver.list(resolved->canonical, problem);
    if (!names) {
        return refuse([&](const std::string& label) { return label + " " + q(dir) + ": " + problem; });
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
        return refuse([&](const std::string& label) { return label + " " + q(token) + " matches no file"; });
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
        if (!check_value(spec, label_of, base + "/" + name, resolver, value, why, explain)) return false;
        values.push_back(std::move(value));
    }
    return true;
}

std::string upper(std::string s) {
    for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return s;
}

bool is_fixed_word(const Rule& rule, const std::string& word) {
    const auto in = [&word](const std::vector<std::string>& words) {
        return std::find(words.begin(), words.end(), word) != words.end();
    };
    return in(rule.fixed_before) || in(rule.fixed_after);
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
    std::string why;  // only in Mode::kFull
    std::vector<Binding> bindings;
    std::vector<std::string> exec_argv;
    std::vector<FdPath> fd_paths;
};

// For an `open: fd` path just appended to exec_argv (after `prefix` bytes of its word): the
// gate's note of what to open. Nothing for any other value.
void note_fd_path(Attempt& a, const ValueSpec& spec, const std::string& value, std::size_t prefix) {
    if (spec.kind != ValueSpec::Kind::kPath || !spec.open_fd) return;
    FdPath fd_path;
    fd_path.argv_index = a.exec_argv.size() - 1;
    fd_path.prefix = prefix;
    fd_path.canonical = value;
    for (const std::string& dir : spec.under) {
        if (is_within(value, dir)) {
            fd_path.under = dir;
            break;
        }
    }
    fd_path.hard_links_allowed = spec.hard_links_allowed;
    fd_path.max_size = spec.max_size;
    a.fd_paths.push_back(std::move(fd_path));
}

// Which of a rule's options the request gave, by index in rule.options (no allocation for
// the usual handful of options).
class SeenOptions {
  public:
    explicit SeenOptions(const Rule& rule) : rule_(rule) {
        if (rule.options.size() > 64) more_.assign(rule.options.size(), false);
    }
    bool count(const Option* option) const {
        const auto i = index(option);
        return more_.empty() ? ((bits_ >> i) & 1U) != 0 : more_[i];
    }
    void insert(const Option* option) {
        const auto i = index(option);
        if (more_.empty())
            bits_ |= std::uint64_t{1} << i;
        else
            more_[i] = true;
    }

  private:
    std::size_t index(const Option* option) const {
        return static_cast<std::size_t>(option - rule_.options.data());
    }
    const Rule& rule_;
    std::uint64_t bits_ = 0;
    std::vector<bool> more_;
};

// How much of an Attempt try_rule fills in. decide tries every candidate in kVerdict mode
// (how far it got, nothing else), then tries again in kFull mode only the rule it shows: the
// one that matched (for its bindings and exec_argv) or, for a denial, the one that got
// furthest (for its reason). The verdict and `consumed` are the same in both modes.
enum class Mode { kVerdict, kFull };

Attempt try_rule(const Rule& rule, const std::vector<std::string>& argv,
                 const PathResolver& resolver, Mode mode, const std::vector<bool>* globbed) {
    const bool full = mode == Mode::kFull;
    Attempt a;
    if (full) {
        a.exec_argv.reserve(argv.size() + 1);
        a.exec_argv.push_back(rule.name);
        // The rule's fixed words come first, so no client word can precede (and so override
        // or re-interpret) them.
        a.exec_argv.insert(a.exec_argv.end(), rule.fixed_before.begin(), rule.fixed_before.end());
    }
    SeenOptions seen(rule);
    std::size_t next_arg = 0;
    bool after_double_dash = false;

    // fail(at, [&] { return "why"; }): the message is built only in Mode::kFull.
    const auto fail = [&](std::size_t at, const auto& why_of) {
        a.consumed = at;
        if (full) a.why = why_of();
        return std::move(a);
    };

    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        const bool literal_expected = next_arg < rule.args.size() && rule.args[next_arg].is_literal;

        // An unquoted * or ?: only a `glob:` path argument takes it, and expands it here.
        if (globbed != nullptr && i < globbed->size() && (*globbed)[i]) {
            const Arg* arg = next_arg < rule.args.size() ? &rule.args[next_arg] : nullptr;
            const bool glob_expected = arg != nullptr && !arg->is_literal &&
                                       arg->spec.kind == ValueSpec::Kind::kPath && arg->spec.glob &&
                                       (after_double_dash || token[0] != '-');
            if (!glob_expected) {
                return fail(i, [&] {
                    return q(token) + ": globs are not expanded here: name the file exactly (or "
                                      "quote the character if you mean it literally)";
                });
            }
            std::vector<std::string> values;
            std::string why;
            const auto label_of = [&] { return upper(arg->name); };
            if (!expand_glob(arg->spec, label_of, token, resolver, values, why, full)) {
                return fail(i, [&] { return why; });
            }
            if (full) {
                for (const std::string& value : values) {
                    a.bindings.push_back({arg->name, value});
                    a.exec_argv.push_back(value);
                    note_fd_path(a, arg->spec, value, 0);
                }
            }
            ++next_arg;
            continue;
        }

        if (!after_double_dash && token == "--" &&
            !(literal_expected && rule.args[next_arg].literal == token)) {
            if (!rule.end_of_options) {
                return fail(i, [] { return std::string("`--` is not accepted by this command"); });
            }
            after_double_dash = true;
            if (full) a.exec_argv.push_back(token);
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
            const Option* option = find_option(rule, spelling);  // reassigned in a bundle
            if (option && has_attached && !option->is_flag && !option->attached) {
                return fail(i, [&] {
                    return "option " + q(spelling) + " takes its value as a separate word: " +
                           spelling + " " + option->value.describe(option->placeholder());
                });
            }
            if (!option) {
                return fail(i, [&] {
                    if (is_fixed_word(rule, token)) {
                        return q(token) + " is added by bridle itself for this command: leave it out";
                    }
                    return "option " + q(spelling) + " is not allowed";
                });
            }
            if (seen.count(option)) {
                return fail(
                    i, [&] { return "option " + q(option->name()) + " may be given only once"; });
            }
            seen.insert(option);
            const auto push_flag = [&](const Option* flag) {
                if (!full) return;
                a.bindings.push_back({flag->name(), "true"});
                // A flag the rule also adds itself (fixed_before/after) is accepted from the
                // client, for agents used to typing it, and passed once.
                if (!is_fixed_word(rule, flag->name())) a.exec_argv.push_back(flag->name());
            };
            if (option->is_flag) {
                const bool is_short = token.compare(0, 2, "--") != 0;
                if (has_attached && !(is_short && rule.bundle_flags)) {
                    return fail(i, [&] {
                        return !is_short ? "option " + q(spelling) + " takes no value"
                                         : "short options cannot be bundled: give " + q(spelling) +
                                               " and the rest as separate words";
                    });
                }
                push_flag(option);
                if (!has_attached) continue;
                // bundle_flags: "-la" is "-l -a", each letter an option of the rule, each once;
                // only the last letter may take a value, and then as the next word ("-nm 5"),
                // so no letter is ever read as the value of another.
                const Option* valued = nullptr;
                for (std::size_t k = 2; k < token.size(); ++k) {
                    const std::string letter{'-', token[k]};
                    const Option* next = find_option(rule, letter);
                    if (next == nullptr) {
                        return fail(i, [&] {
                            return "option " + q(letter) + " (in " + q(token) + ") is not allowed";
                        });
                    }
                    if (seen.count(next)) {
                        return fail(i, [&] {
                            return "option " + q(next->name()) + " may be given only once";
                        });
                    }
                    seen.insert(next);
                    if (next->is_flag) {
                        push_flag(next);
                        continue;
                    }
                    if (k + 1 != token.size()) {
                        return fail(i, [&] {
                            return "in " + q(token) + ", " + q(letter) +
                                   " takes a value: only the last letter of a bundle may, with "
                                   "its value as the next word";
                        });
                    }
                    valued = next;
                    spelling = letter;
                }
                if (valued == nullptr) continue;
                option = valued;
                has_attached = false;  // its value is the next word
            }
            std::string raw;
            if (has_attached) {
                raw = attached;
            } else if (i + 1 < argv.size()) {
                raw = argv[++i];
            } else {
                return fail(i, [&] {
                    return "option " + q(spelling) +
                           " needs a value: " + option->value.describe(option->placeholder());
                });
            }
            std::string value, why;
            const auto label_of = [&] { return "the value of " + option->name(); };
            if (!check_value(option->value, label_of, raw, resolver, value, why, full)) {
                return fail(i, [&] { return why; });
            }
            if (full) {
                a.bindings.push_back({option->name(), value});
                if (!option->attached) {
                    // For programs that are not getopt-style (find, java-style flags).
                    a.exec_argv.push_back(option->name());
                    a.exec_argv.push_back(value);
                    note_fd_path(a, option->value, value, 0);
                } else {
                    // Attached forms are read the same by every getopt-style parser, whether
                    // the option's argument is required or optional: -n50, --lines=50.
                    a.exec_argv.push_back(option->name().compare(0, 2, "--") == 0
                                              ? option->name() + "=" + value
                                              : option->name() + value);
                    note_fd_path(a, option->value, value, a.exec_argv.back().size() - value.size());
                }
            }
            continue;
        }

        if (next_arg >= rule.args.size()) {
            return fail(i, [&] {
                return "unexpected argument " + q(token) + ": this command takes " +
                       std::to_string(rule.args.size()) + " argument(s)";
            });
        }
        const Arg& arg = rule.args[next_arg];
        if (arg.is_literal) {
            if (token != arg.literal) {
                return fail(
                    i, [&] { return "expected " + q(arg.literal) + " here, got " + q(token); });
            }
            if (full) a.exec_argv.push_back(token);
        } else {
            std::string value, why;
            const auto label_of = [&] { return upper(arg.name); };
            if (!check_value(arg.spec, label_of, token, resolver, value, why, full,
                             after_double_dash)) {
                return fail(i, [&] { return why; });
            }
            if (full) {
                a.bindings.push_back({arg.name, value});
                a.exec_argv.push_back(value);
                note_fd_path(a, arg.spec, value, 0);
            }
        }
        ++next_arg;
    }

    if (next_arg < rule.args.size()) {
        const Arg& missing = rule.args[next_arg];
        return fail(argv.size(), [&] {
            return "missing argument " + (missing.is_literal
                                              ? q(missing.literal)
                                              : missing.spec.describe(upper(missing.name)));
        });
    }
    for (const Option& option : rule.options) {
        if (option.required && !seen.count(&option)) {
            return fail(argv.size(), [&] { return "option " + q(option.name()) + " is required"; });
        }
    }
    if (full) a.exec_argv.insert(a.exec_argv.end(), rule.fixed_after.begin(), rule.fixed_after.end());
    a.matched = true;
    a.consumed = argv.size();
    return a;
}

std::string basename_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Remembers what the resolver said about each path during one decision, so that trying the
// deciding rule again to explain it sees exactly the file system the verdict was based on.
class MemoResolver final : public PathResolver {
  public:
    explicit MemoResolver(const PathResolver& inner) : inner_(inner) {}
    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
        auto it = memo_.find(path);
        if (it == memo_.end()) {
            Entry entry;
            entry.resolved = inner_.resolve(path, entry.why);
            it = memo_.emplace(path, std::move(entry)).first;
        }
        if (!it->second.resolved) why = it->second.why;
        return it->second.resolved;
    }
    // Listed once per decision too: the verdict and its explanation see the same names.
    std::optional<std::vector<std::string>> list(const std::string& dir, std::string& why) const override {
        auto it = lists_.find(dir);
        if (it == lists_.end()) {
            ListEntry entry;
            entry.names = inner_.list(dir, entry.why);
            it = lists_.emplace(dir, std::move(entry)).first;
        }
        if (!it->second.names) why = it->second.why;
        return it->second.names;
    }

  private:
    struct Entry {
        std::optional<Resolved> resolved;
        std::string why;
    };
    struct ListEntry {
        std::optional<std::vector<std::string>> names;
        std::string why;
    };
    const PathResolver& inner_;
    mutable std::map<std::string, Entry> memo_;
    mutable std::map<std::string, ListEntry> lists_;
};

// A denial lists the usage of at most this many rules for the program: the ones that got
// furthest, in policy order. A policy with thousands of rules for one program would
// otherwise send (and build) thousands of lines for one mistyped word; `help` lists them all.
constexpr std::size_t kMaxNearest = 8;

}  // namespace

Decision decide(const policy::Policy& policy, const std::vector<std::string>& argv,
                const std::string& key, const PathResolver& resolver,
                const std::vector<bool>* globbed) {
    Decision d;
    if (argv.empty() || argv[0].empty()) {
        d.reason = "empty command";
        return d;
    }
    const std::string& name = argv[0];

    std::vector<const Rule*> candidates;
    const auto consider = [&](const Rule& rule) {
        if (rule.name == name && rule.allows_key(key)) candidates.push_back(&rule);
    };
    if (policy.indexed == policy.rules.size() && !policy.rules.empty()) {
        if (const auto it = policy.rules_by_name.find(name); it != policy.rules_by_name.end()) {
            for (const std::size_t i : it->second) consider(policy.rules[i]);
        }
    } else {
        for (const Rule& rule : policy.rules) consider(rule);
    }

    if (candidates.empty()) {
        // A path where a name belongs: point at the name the policy knows the program by.
        const bool is_path = name.find('/') != std::string::npos;
        if (is_path) {
            const std::string base = basename_of(name);
            for (const Rule& rule : policy.rules) {
                if (d.nearest.size() == kMaxNearest) break;
                if (rule.allows_key(key) && (rule.command == name || rule.name == base)) {
                    d.nearest.push_back(rule.synopsis());
                }
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

    // First match wins. Every candidate is tried for its verdict only; the one decide shows is
    // tried again in full (see Mode), over the same resolutions (MemoResolver).
    const MemoResolver memo(resolver);
    std::vector<std::size_t> consumed;
    consumed.reserve(candidates.size());
    std::size_t best = 0;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
        const Attempt attempt = try_rule(*candidates[c], argv, memo, Mode::kVerdict, globbed);
        if (attempt.matched) {
            Attempt full = try_rule(*candidates[c], argv, memo, Mode::kFull, globbed);
            if (!full.matched) break;  // cannot happen (same rule, same resolutions): deny
            d.verdict = Verdict::kAllow;
            d.rule = candidates[c];
            d.bindings = std::move(full.bindings);
            d.exec_argv = std::move(full.exec_argv);
            d.fd_paths = std::move(full.fd_paths);
            return d;
        }
        consumed.push_back(attempt.consumed);
        if (attempt.consumed > consumed[best]) best = c;  // the first that got furthest
    }
    // The reason of the rule that got furthest, tried again to put it into words.
    if (best < consumed.size()) d.reason = try_rule(*candidates[best], argv, memo, Mode::kFull, globbed).why;
    if (d.reason.empty()) d.reason = "no rule for " + q(name) + " accepts these arguments";

    // Usages: every candidate when there are few; else the kMaxNearest that got furthest
    // (ties: the earlier rule), listed in policy order.
    std::vector<std::size_t> shown(candidates.size());
    for (std::size_t c = 0; c < shown.size(); ++c) shown[c] = c;
    if (shown.size() > kMaxNearest && consumed.size() == candidates.size()) {
        std::partial_sort(shown.begin(), shown.begin() + kMaxNearest, shown.end(),
                          [&](std::size_t x, std::size_t y) {
                              return consumed[x] != consumed[y] ? consumed[x] > consumed[y] : x < y;
                          });
        shown.resize(kMaxNearest);
        std::sort(shown.begin(), shown.end());
    }
    for (const std::size_t c : shown) d.nearest.push_back(candidates[c]->synopsis());
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
