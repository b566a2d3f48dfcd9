// SPDX-License-Identifier: Apache-2.0
// The loader's lexical rules: which names, paths, numbers and texts a policy may spell, and how
// its messages quote them. No YAML here: plain strings in, yes/no (or a value) out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::policy::read {

// The largest integer a policy may write, either way: 2^53.
constexpr std::int64_t kMaxInteger = std::int64_t{1} << 53;

// Names, each a first character and then more, bounded (lexical.cpp spells out each set).
bool is_rule_id(std::string_view s);       // also a sandbox name
bool is_program_name(std::string_view s);  // what the client types as argv[0]
bool is_user_name(std::string_view s);     // run_as
bool is_binding_name(std::string_view s);  // a parameter or argument name
bool is_env_name(std::string_view s);      // an environment variable
bool is_short_option(std::string_view s);  // -X
bool is_long_option(std::string_view s);   // --word

// Every piece between separators, empty ones included: "a||b" -> {"a", "", "b"}.
std::vector<std::string_view> split(std::string_view text, char separator);

// Absolute and lexically normal: no empty, "." or ".." component, no trailing slash.
bool is_normal_absolute_path(std::string_view path);

// What makes `text` unfit for a policy string, if anything: bad UTF-8 or a character that is
// invisible or controls the terminal.
std::optional<std::string> text_problem(std::string_view text);

// Decimal digits with an optional "-" (so that a negative bound gets its own message), no "+",
// no leading zeros; nullopt when malformed or beyond 2^53 either way.
std::optional<std::int64_t> parse_integer(std::string_view text);

// "123unit" -> {123, "unit"}; the number is nullopt when it has no digits. Long digit runs
// saturate to UINT64_MAX so that callers report them as out of range.
struct Quantity {
    std::optional<std::uint64_t> number;
    std::string_view unit;
};
Quantity split_quantity(std::string_view text);

// `text` in single quotes, escaped (escape_text), cut after 80 bytes: how messages show a value.
std::string quoted(std::string_view text);
// "a, b, c": how messages list the allowed keys.
std::string join(std::initializer_list<std::string_view> words);

}  // namespace bridle::policy::read
