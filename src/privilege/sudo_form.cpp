// SPDX-License-Identifier: Apache-2.0
// Normal forms and sudoers forms of run_as rules (sudo_form.hpp).
#include "privilege/sudo_form.hpp"

#include <algorithm>
#include <map>
#include <string_view>

namespace bridle::privilege {
namespace {

using policy::Arg;
using policy::Option;
using policy::ValueSpec;

bool is_exact_value(const ValueSpec& spec) {
    return spec.kind == ValueSpec::Kind::kEnum;
}

std::string with_value(const Option& option, const std::string& value) {
    const std::string name = option.name();
    return name.compare(0, 2, "--") == 0 ? name + "=" + value : name + value;
}

// Index of the first positional that is not a leading literal.
std::size_t leading_literals(const policy::Rule& rule) {
    std::size_t i = 0;
    while (i < rule.args.size() && rule.args[i].is_literal) ++i;
    return i;
}

}  // namespace

Form form_of(const policy::Rule& rule) {
    for (const Arg& arg : rule.args) {
        if (!arg.is_literal && !is_exact_value(arg.spec)) return Form::kOpen;
    }
    for (const Option& option : rule.options) {
        if (!option.is_flag && !is_exact_value(option.value)) return Form::kOpen;
    }
    return Form::kExact;
}

std::vector<std::string> normal_form(const policy::Rule& rule, const matching::Decision& decision) {
    // Option bindings are named by their canonical spelling (a leading '-'); parameter
    // bindings by a name that starts with a letter, in the order of the positionals.
    std::map<std::string, std::string> options;
    std::vector<std::string> positionals;
    for (const matching::Binding& b : decision.bindings) {
        if (!b.name.empty() && b.name[0] == '-') {
            options[b.name] = b.value;
        } else {
            positionals.push_back(b.value);
        }
    }
    std::vector<std::string> words{rule.name};
    const std::size_t first_open = leading_literals(rule);
    for (std::size_t i = 0; i < first_open; ++i) words.push_back(rule.args[i].literal);
    for (const Option& option : rule.options) {
        const auto given = options.find(option.name());
        if (given == options.end()) continue;
        if (option.is_flag) {
            words.push_back(option.name());
        } else if (!option.attached) {
            words.push_back(option.name());
            words.push_back(given->second);
        } else {
            words.push_back(with_value(option, given->second));
        }
    }
    if (rule.end_of_options && first_open < rule.args.size()) words.emplace_back("--");
    std::size_t next = 0;
    for (std::size_t i = first_open; i < rule.args.size(); ++i) {
        if (rule.args[i].is_literal) {
            words.push_back(rule.args[i].literal);
        } else if (next < positionals.size()) {
            words.push_back(positionals[next++]);
        }
    }
    return words;
}

Result<std::vector<std::vector<std::string>>> exact_requests(const policy::Rule& rule) {
    if (form_of(rule) != Form::kExact) {
        return Error{
            "rule " + rule.id +
                " has an open value (regex, integer or path): it has no exact sudoers lines",
            rule.source};
    }
    // Each slot contributes one of its alternatives; an empty alternative adds no word. The
    // slots are in normal-form order, so each combination is a normal form.
    std::vector<std::vector<std::vector<std::string>>> slots;
    slots.push_back({{rule.name}});
    const std::size_t first_open = leading_literals(rule);
    for (std::size_t i = 0; i < first_open; ++i) slots.push_back({{rule.args[i].literal}});
    for (const Option& option : rule.options) {
        std::vector<std::vector<std::string>> alternatives;
        if (!option.required) alternatives.emplace_back();
        if (option.is_flag) {
            alternatives.push_back({option.name()});
        } else {
            for (const std::string& choice : option.value.choices) {
                if (option.attached) {
                    alternatives.push_back({with_value(option, choice)});
                } else {
                    alternatives.push_back({option.name(), choice});
                }
            }
        }
        slots.push_back(std::move(alternatives));
    }
    if (rule.end_of_options && first_open < rule.args.size()) slots.push_back({{"--"}});
    for (std::size_t i = first_open; i < rule.args.size(); ++i) {
        const Arg& arg = rule.args[i];
        std::vector<std::vector<std::string>> alternatives;
        if (arg.is_literal) {
            alternatives.push_back({arg.literal});
        } else {
            for (const std::string& choice : arg.spec.choices) alternatives.push_back({choice});
        }
        slots.push_back(std::move(alternatives));
    }

    std::size_t count = 1;
    for (const auto& slot : slots) {
        if (slot.empty()) return std::vector<std::vector<std::string>>{};  // nothing can match
        count *= slot.size();
        if (count > kMaxExactLines) {
            return Error{"rule " + rule.id + " expands to more than " +
                             std::to_string(kMaxExactLines) +
                             " exact sudoers lines (each combination of its enums, flags and "
                             "options is one line): "
                             "split it into several rules, or reduce its choices",
                         rule.source};
        }
    }
    std::vector<std::vector<std::string>> out{{}};
    for (const auto& slot : slots) {
        std::vector<std::vector<std::string>> next;
        for (const auto& prefix : out) {
            for (const auto& alternative : slot) {
                std::vector<std::string> words = prefix;
                words.insert(words.end(), alternative.begin(), alternative.end());
                next.push_back(std::move(words));
            }
        }
        out = std::move(next);
    }
    for (const auto& words : out) {
        for (const std::string& word : words) {
            if (!is_sudoers_safe(word)) {
                return Error{"rule " + rule.id + ": the word \"" + word +
                                 "\" cannot be written exactly in sudoers (allowed: letters, "
                                 "digits and @ % + . / _ - = : ,)",
                             rule.source};
            }
        }
    }
    return out;
}

bool is_sudoers_safe(const std::string& word) {
    if (word.empty() || word.size() > 255) return false;
    return std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("@%+./_-=:,").find(c) != std::string_view::npos;
    });
}

std::string sudoers_escape(const std::string& word) {
    std::string out;
    for (const char c : word) {
        if (c == '=' || c == ':' || c == ',') out += '\\';
        out += c;
    }
    return out;
}

std::string encode_argv(const std::vector<std::string>& words) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const std::string& word : words) {
        for (const char c : word) {
            const auto byte = static_cast<unsigned char>(c);
            out += kHex[byte >> 4];
            out += kHex[byte & 15];
        }
        out += "00";
    }
    return out;
}

Result<std::vector<std::string>> decode_argv(const std::string& hex) {
    const auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 2 * 65536) {
        return Error{"BRIDLE_ARGV is empty, odd or too long", ""};
    }
    std::vector<std::string> words;
    std::string word;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = digit(hex[i]), low = digit(hex[i + 1]);
        if (high < 0 || low < 0)
            return Error{"BRIDLE_ARGV holds a character that is not lower-case hex", ""};
        const char c = static_cast<char>(high * 16 + low);
        if (c == '\0') {
            words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) return Error{"BRIDLE_ARGV does not end with a NUL byte", ""};
    return words;
}

}  // namespace bridle::privilege
