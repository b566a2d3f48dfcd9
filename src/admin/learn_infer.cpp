// SPDX-License-Identifier: Apache-2.0
// Typed rules from denied requests. A word is read the way getopt reads it (bridle(8),
// LEARNING): "--name=value" and "-n80" are options with their values attached, "-n" and
// "--name" are options that take the next word as their value when every time they appear
// a word that is not an option follows (and, once at least, not as the last word), and flags
// otherwise; "-tlnp" is a bundle of flags. Every option in a proposal keeps the form it was
// typed in (attached: false when its value always came as its own word), so the examples run
// as they were typed, and a value option given in every example is required.
#include "admin/learn_infer.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

namespace bridle::admin::learning {
namespace {

constexpr std::uint64_t kMaxInt = 1ULL << 53;  // the policy's largest int
constexpr std::string_view kPunctuation = "@._:+,=%";

// Programs whose arguments are an expression of words beginning with '-' (find -name X),
// not getopt options: such a word is a literal at its place.
constexpr std::array<std::string_view, 4> kExpressionPrograms{"find", "ip", "tc", "bridge"};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_alnum(char c) {
    return is_digit(c) || is_lower(c) || is_upper(c);
}

std::optional<std::uint64_t> decimal(const std::string& s) {
    if (s.empty() || s.size() > 16 || !std::all_of(s.begin(), s.end(), is_digit)) return {};
    if (s.size() > 1 && s[0] == '0') return {};
    const std::uint64_t n = std::strtoull(s.c_str(), nullptr, 10);
    if (n > kMaxInt) return {};
    return n;
}

std::string int_spec(const std::vector<std::uint64_t>& numbers) {
    const auto [lo, hi] = std::minmax_element(numbers.begin(), numbers.end());
    return "int: [" + std::to_string(round_down_125(*lo)) + ", " +
           std::to_string(round_up_125(*hi)) + "]";
}

// The parent directories of `path`, each as a list of components.
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    for (std::size_t start = 1; start < path.size();) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        out.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

Result<std::string> path_spec(const std::vector<std::string>& values) {
    std::optional<std::vector<std::string>> common;
    bool files = false, directories = false, others = false;
    for (const std::string& value : values) {
        char resolved[PATH_MAX];
        struct stat st {};
        if (::realpath(value.c_str(), resolved) == nullptr || ::stat(resolved, &st) != 0) {
            return Error{nlohmann::json(value).dump(-1, ' ', true,
                                                    nlohmann::json::error_handler_t::replace) +
                             " does not exist here (a path is typed by what it resolves to)",
                         ""};
        }
        std::vector<std::string> dir = components(resolved);
        if (S_ISDIR(st.st_mode)) {
            directories = true;
        } else {
            (S_ISREG(st.st_mode) ? files : others) = true;
            if (!dir.empty()) dir.pop_back();
        }
        if (!common) {
            common = dir;
            continue;
        }
        std::size_t same = 0;
        while (same < common->size() && same < dir.size() && (*common)[same] == dir[same]) ++same;
        common->resize(same);
    }
    if (!common || common->empty()) {
        return Error{"the paths have no common directory but /", ""};
    }
    std::string under;
    for (const std::string& part : *common) under += "/" + part;
    const char* type = others || (files && directories) ? "any" : files ? "file" : "directory";
    return "path: {under: [" + yaml_scalar(under) + "], type: " + type + "}";
}

Result<std::string> regex_spec(const std::vector<std::string>& values) {
    bool lower = false, upper = false, digit = false, dash = false;
    std::set<char> punctuation;
    std::size_t longest = 0;
    for (const std::string& value : values) {
        longest = std::max(longest, value.size());
        for (const char c : value) {
            if (is_lower(c)) {
                lower = true;
            } else if (is_upper(c)) {
                upper = true;
            } else if (is_digit(c)) {
                digit = true;
            } else if (c == '-') {
                dash = true;
            } else if (kPunctuation.find(c) != std::string_view::npos) {
                punctuation.insert(c);
            } else {
                return Error{"more than " + std::to_string(kMaxEnum) +
                                 " values, with characters other than letters, digits and " +
                                 std::string(kPunctuation) + "-",
                             ""};
            }
        }
    }
    std::string cls = std::string(lower ? "a-z" : "") + (upper ? "A-Z" : "") + (digit ? "0-9" : "");
    for (const char c : kPunctuation) {
        if (punctuation.count(c)) cls += c;
    }
    if (dash) cls += '-';
    return "regex: '[" + cls + "]+', max_length: " + std::to_string(round_up_125(longest));
}

// A positional argument: a literal when every example gave the same word (but a number or a
// path, which are typed), else a typed value. "" with `why` set when neither can be.
std::string literal_or_typed(const std::vector<std::string>& values, std::string& why) {
    const std::set<std::string> distinct(values.begin(), values.end());
    const std::string& only = *distinct.begin();
    if (distinct.size() == 1 && !decimal(only) && only[0] != '/') {
        if (only.find_first_of("*?[") != std::string::npos) {
            why = "the word " + yaml_scalar(only) + " holds a glob character";
            return "";
        }
        return yaml_scalar(only);
    }
    Result<std::string> spec = infer_value(values);
    if (!spec) {
        why = spec.error().message;
        return "";
    }
    return "{" + spec.value() + "}";
}

// ---- getopt-style requests --------------------------------------------------------------------

struct Word {
    enum class Kind { kPositional, kOption, kBundle, kDashDash } kind = Kind::kPositional;
    std::string text;                  // the word; kOption: its spelling; kBundle: the letters
    std::optional<std::string> value;  // kOption: a value attached to it
};

std::vector<Word> lex(const std::vector<std::string>& argv) {
    std::vector<Word> words;
    bool after_dashdash = false;
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& w = argv[i];
        if (after_dashdash || w.size() < 2 || w[0] != '-') {
            words.push_back({Word::Kind::kPositional, w, {}});
        } else if (w == "--") {
            after_dashdash = true;
            words.push_back({Word::Kind::kDashDash, w, {}});
        } else if (w[1] == '-') {
            const std::size_t eq = w.find('=');
            if (eq == std::string::npos) {
                words.push_back({Word::Kind::kOption, w, {}});
            } else {
                words.push_back({Word::Kind::kOption, w.substr(0, eq), w.substr(eq + 1)});
            }
        } else if (w.size() == 2) {
            words.push_back({Word::Kind::kOption, w, {}});
        } else if (is_upper(w[1]) || is_lower(w[1])) {
            if (std::all_of(w.begin() + 2, w.end(), is_digit)) {
                words.push_back({Word::Kind::kOption, w.substr(0, 2), w.substr(2)});
            } else {
                words.push_back({Word::Kind::kBundle, w.substr(1), {}});
            }
        } else {
            words.push_back({Word::Kind::kBundle, w.substr(1), {}});
        }
    }
    return words;
}

// The options that take a value (see the top of this file).
std::set<std::string> value_options(const std::vector<std::vector<Word>>& lexed) {
    std::map<std::string, std::pair<bool, bool>> followed;  // all followed, once not last
    std::set<std::string> attached;
    for (const auto& words : lexed) {
        for (std::size_t i = 0; i < words.size(); ++i) {
            if (words[i].kind != Word::Kind::kOption) continue;
            if (words[i].value) {
                attached.insert(words[i].text);
                continue;
            }
            auto& [all, not_last] = followed.try_emplace(words[i].text, true, false).first->second;
            const bool next_is_value =
                i + 1 < words.size() && words[i + 1].kind == Word::Kind::kPositional;
            all = all && next_is_value;
            not_last = not_last || (next_is_value && i + 2 < words.size());
        }
    }
    std::set<std::string> out = attached;
    for (const auto& [name, seen] : followed) {
        if (seen.first && seen.second) out.insert(name);
    }
    return out;
}

struct Given {
    std::string spelling;
    std::optional<std::string> value;  // nullopt: a flag
    bool attached = false;             // the value was in the option's word
};

struct Parsed {
    std::vector<Given> options;
    std::vector<char> bundled;
    std::vector<std::string> positionals;
    bool dashdash = false;
    std::string bundle;  // the first bundle, for the note
};

Result<Parsed> parse(const std::vector<Word>& words, const std::set<std::string>& takes_value) {
    Parsed p;
    std::set<std::string> given;
    const auto give = [&](const std::string& spelling) { return given.insert(spelling).second; };
    for (std::size_t i = 0; i < words.size(); ++i) {
        const Word& w = words[i];
        switch (w.kind) {
            case Word::Kind::kDashDash:
                p.dashdash = true;
                break;
            case Word::Kind::kPositional:
                if (w.text.empty() || w.text[0] == '-') {
                    return Error{"the operand " + yaml_scalar(w.text) + " begins with -", ""};
                }
                p.positionals.push_back(w.text);
                break;
            case Word::Kind::kOption: {
                if (!give(w.text)) return Error{w.text + " is given twice", ""};
                std::optional<std::string> value = w.value;
                if (!value && takes_value.count(w.text)) {
                    if (i + 1 >= words.size() || words[i + 1].kind != Word::Kind::kPositional) {
                        return Error{w.text + " takes a value elsewhere but has none here", ""};
                    }
                    value = words[++i].text;
                }
                if (value && (value->empty() || (*value)[0] == '-')) {
                    return Error{"the value of " + w.text + " is empty or begins with -", ""};
                }
                p.options.push_back({w.text, value, w.value.has_value()});
                break;
            }
            case Word::Kind::kBundle:
                if (p.bundle.empty()) p.bundle = "-" + w.text;
                for (const char c : w.text) {
                    const std::string spelling{'-', c};
                    if (!is_alnum(c)) return Error{"the bundle -" + w.text + " is not letters", ""};
                    if (takes_value.count(spelling)) {
                        return Error{"the bundle -" + w.text + " holds " + spelling +
                                         ", which takes a value",
                                     ""};
                    }
                    if (!give(spelling)) return Error{spelling + " is given twice", ""};
                    p.bundled.push_back(c);
                }
                break;
            default:
                break;
        }
    }
    return p;
}

std::string option_line(const std::string& spelling, const std::string& spec) {
    return "      " + yaml_scalar(spelling) + ": " + spec + "\n";
}

// One rule from requests parsed alike (the same number of positionals).
Result<std::string> getopt_rule(const std::vector<const Parsed*>& group,
                                std::vector<std::string>& notes) {
    std::vector<std::string> order;  // options, first seen first
    std::map<std::string, std::vector<std::string>> values;
    std::map<std::string, std::size_t> count;
    std::set<std::string> flags, attached;
    bool bundles = false, dashdash = false;
    for (const Parsed* p : group) {
        const auto see = [&](const std::string& spelling) {
            if (!count.count(spelling)) order.push_back(spelling);
            ++count[spelling];
        };
        for (const Given& o : p->options) {
            see(o.spelling);
            if (o.value) {
                values[o.spelling].push_back(*o.value);
                if (o.attached) attached.insert(o.spelling);
            } else {
                flags.insert(o.spelling);
            }
        }
        for (const char c : p->bundled) {
            see(std::string{'-', c});
            flags.insert(std::string{'-', c});
        }
        bundles = bundles || !p->bundled.empty();
        dashdash = dashdash || p->dashdash;
    }
    std::string body;
    if (bundles) {
        body += "    bundle_flags: true\n";
        const auto first = std::find_if(group.begin(), group.end(),
                                        [](const Parsed* p) { return !p->bundle.empty(); });
        std::string split;
        for (const char c : (*first)->bundle.substr(1)) split += std::string(" -") + c;
        notes.push_back("bundled flags are passed one by one: " + (*first)->bundle + " runs as" +
                        split);
    }
    if (dashdash) body += "    end_of_options: true\n";
    if (!order.empty()) body += "    options:\n";
    for (const std::string& spelling : order) {
        if (flags.count(spelling) && values.count(spelling)) {
            return Error{spelling + " is given both with and without a value", ""};
        }
        if (flags.count(spelling)) {
            body += option_line(spelling, "flag");
            continue;
        }
        Result<std::string> spec = infer_value(values[spelling]);
        if (!spec) return Error{"the values of " + spelling + ": " + spec.error().message, ""};
        std::string line = "{" + spec.value();
        if (count[spelling] == group.size()) line += ", required: true";
        if (!attached.count(spelling)) line += ", attached: false";
        body += option_line(spelling, line + "}");
    }
    const std::size_t positionals = group.front()->positionals.size();
    if (positionals > 0) body += "    args:\n";
    for (std::size_t i = 0; i < positionals; ++i) {
        std::vector<std::string> seen;
        for (const Parsed* p : group) seen.push_back(p->positionals[i]);
        std::string why;
        const std::string arg = literal_or_typed(seen, why);
        if (arg.empty()) return Error{"argument " + std::to_string(i + 1) + ": " + why, ""};
        body += "      - " + arg + "\n";
    }
    return body;
}

}  // namespace

std::uint64_t round_down_125(std::uint64_t n) {
    std::uint64_t best = 0;
    for (std::uint64_t scale = 1; scale <= n; scale *= 10) {
        for (const std::uint64_t step : {1, 2, 5}) {
            if (step * scale <= n) best = step * scale;
        }
    }
    return best;
}

std::uint64_t round_up_125(std::uint64_t n) {
    if (n == 0) return 0;
    for (std::uint64_t scale = 1;; scale *= 10) {
        for (const std::uint64_t step : {1, 2, 5}) {
            if (step * scale >= n) return std::min(step * scale, kMaxInt);
        }
    }
}

std::string yaml_scalar(std::string_view text) {
    static const std::set<std::string, std::less<>> kReserved{"y",   "n",    "yes",   "no",  "on",
                                                              "off", "true", "false", "null"};
    std::string lower;
    for (const char c : text) lower += is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
    const auto plain_char = [](char c) {
        return is_alnum(c) || std::string_view("_./@+=-").find(c) != std::string_view::npos;
    };
    const bool plain =
        !text.empty() &&
        (is_lower(text[0]) || is_upper(text[0]) || text[0] == '_' || text[0] == '/') &&
        std::all_of(text.begin(), text.end(), plain_char) && !kReserved.count(lower);
    if (plain) return std::string(text);
    return nlohmann::json(std::string(text))
        .dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

Result<std::string> infer_value(const std::vector<std::string>& values) {
    if (values.empty()) return Error{"no values", ""};
    for (const std::string& value : values) {
        if (value.find_first_of("*?[") != std::string::npos) {
            return Error{"the value " + yaml_scalar(value) + " holds a glob character", ""};
        }
    }
    std::vector<std::uint64_t> numbers;
    for (const std::string& value : values) {
        if (const std::optional<std::uint64_t> n = decimal(value)) numbers.push_back(*n);
    }
    if (numbers.size() == values.size()) return int_spec(numbers);
    if (std::all_of(values.begin(), values.end(), [](const std::string& v) { return v[0] == '/'; }))
        return path_spec(values);
    const std::set<std::string> distinct(values.begin(), values.end());
    if (distinct.size() <= kMaxEnum) {
        std::string list;
        for (const std::string& value : distinct)
            list += (list.empty() ? "" : ", ") + yaml_scalar(value);
        return "enum: [" + list + "]";
    }
    return regex_spec(values);
}

Inference infer_rules(const std::vector<std::vector<std::string>>& argvs) {
    Inference out;
    if (argvs.empty()) return out;
    const std::string_view program = argvs.front().front();
    const bool expression = std::find(kExpressionPrograms.begin(), kExpressionPrograms.end(),
                                      program) != kExpressionPrograms.end();
    if (expression) {
        // Grouped by shape: the dash words in their places, every other word a value.
        std::map<std::vector<std::string>, std::vector<std::size_t>> groups;
        std::vector<std::vector<std::string>> order;
        for (std::size_t i = 0; i < argvs.size(); ++i) {
            std::vector<std::string> shape;
            for (std::size_t j = 1; j < argvs[i].size(); ++j) {
                const std::string& w = argvs[i][j];
                shape.push_back(!w.empty() && w[0] == '-' ? w : std::string());
            }
            if (!groups.count(shape)) order.push_back(shape);
            groups[shape].push_back(i);
        }
        for (const auto& shape : order) {
            const std::vector<std::size_t>& members = groups[shape];
            std::string body = shape.empty() ? "" : "    args:\n";
            std::string why;
            for (std::size_t j = 0; j < shape.size() && why.empty(); ++j) {
                std::vector<std::string> seen;
                for (const std::size_t i : members) seen.push_back(argvs[i][j + 1]);
                const std::string arg = shape[j] == "--" ? "" : literal_or_typed(seen, why);
                if (arg.empty() && why.empty()) why = "-- is not a word a rule can list";
                if (!why.empty()) why = "argument " + std::to_string(j + 1) + ": " + why;
                body += "      - " + arg + "\n";
            }
            if (!why.empty()) {
                for (const std::size_t i : members) out.unlearnable.push_back({i, why});
                continue;
            }
            out.rules.push_back({members, body, {}});
        }
        return out;
    }
    std::vector<std::vector<Word>> lexed;
    for (const auto& argv : argvs) lexed.push_back(lex(argv));
    const std::set<std::string> takes_value = value_options(lexed);
    std::vector<Parsed> parsed(argvs.size());
    std::map<std::size_t, std::vector<std::size_t>> by_arity;
    std::vector<std::size_t> arities;
    for (std::size_t i = 0; i < argvs.size(); ++i) {
        Result<Parsed> p = parse(lexed[i], takes_value);
        if (!p) {
            out.unlearnable.push_back({i, p.error().message});
            continue;
        }
        parsed[i] = std::move(p.value());
        const std::size_t arity = parsed[i].positionals.size();
        if (!by_arity.count(arity)) arities.push_back(arity);
        by_arity[arity].push_back(i);
    }
    for (const std::size_t arity : arities) {
        std::vector<const Parsed*> group;
        for (const std::size_t i : by_arity[arity]) group.push_back(&parsed[i]);
        Inferred rule{by_arity[arity], "", {}};
        Result<std::string> body = getopt_rule(group, rule.notes);
        if (!body) {
            for (const std::size_t i : rule.examples)
                out.unlearnable.push_back({i, body.error().message});
            continue;
        }
        rule.body = body.value();
        out.rules.push_back(std::move(rule));
    }
    return out;
}

}  // namespace bridle::admin::learning
