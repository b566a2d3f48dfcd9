// SPDX-License-Identifier: Apache-2.0
// try_rule (attempt.hpp): the shape of a request against one rule, word by word: options and
// their values, bundled flags, "--", literal and checked positional arguments, fixed words.
#include "matching/attempt.hpp"

#include <algorithm>
#include <cstdint>

#include "matching/value_checks.hpp"

namespace bridle::matching::detail {
namespace {

using policy::Arg;
using policy::Option;
using policy::Rule;

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

}  // namespace

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
                    return q(token) +
                           ": globs are not expanded here: name the file exactly (or "
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
                    return "option " + q(spelling) +
                           " takes its value as a separate word: " + spelling + " " +
                           option->value.describe(option->placeholder());
                });
            }
            if (!option) {
                return fail(i, [&] {
                    if (is_fixed_word(rule, token)) {
                        return q(token) +
                               " is added by bridle itself for this command: leave it out";
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
    if (full)
        a.exec_argv.insert(a.exec_argv.end(), rule.fixed_after.begin(), rule.fixed_after.end());
    a.matched = true;
    a.consumed = argv.size();
    return a;
}

}  // namespace bridle::matching::detail
