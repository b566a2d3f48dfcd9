// SPDX-License-Identifier: Apache-2.0
// The name and character rules of a policy (lexical.hpp), as bridle-policy(5) states them; the
// readers (read_*.cpp) apply them to what yaml-cpp hands over.
#include "loader/lexical.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace bridle::policy::read {
namespace {

struct CharClass {
    bool lower = false, upper = false, digit = false;
    std::string_view extra;
    bool has(char c) const {
        return (lower && c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') ||
               (digit && c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    }
};

// One character of `first`, then any number of `rest`, at most max_length in all.
bool is_word(std::string_view text, CharClass first, CharClass rest, std::size_t max_length) {
    if (text.empty() || text.size() > max_length || !first.has(text.front())) return false;
    return std::all_of(text.begin() + 1, text.end(), [&](char c) { return rest.has(c); });
}

constexpr std::size_t kMaxNameLength = 255;

}  // namespace

bool is_rule_id(std::string_view s) {
    return is_word(s, {true, false, true, ""}, {true, false, true, "._-"}, 64);
}
bool is_program_name(std::string_view s) {
    return is_word(s, {true, true, true, ""}, {true, true, true, "._+-"}, kMaxNameLength);
}
// A Debian user name (adduser's NAME_REGEX, without the trailing $ of machine accounts).
bool is_user_name(std::string_view s) {
    return is_word(s, {true, false, false, "_"}, {true, false, true, "_-"}, 32);
}
bool is_binding_name(std::string_view s) {
    return is_word(s, {true, false, false, ""}, {true, false, true, "_"}, kMaxNameLength);
}
bool is_env_name(std::string_view s) {
    return is_word(s, {true, true, false, "_"}, {true, true, true, "_"}, kMaxNameLength);
}
bool is_short_option(std::string_view s) {
    return s.size() == 2 && s[0] == '-' && CharClass{true, true, true, ""}.has(s[1]);
}
bool is_long_option(std::string_view s) {
    return s.size() > 2 && s.substr(0, 2) == "--" &&
           is_word(s.substr(2), {true, true, true, ""}, {true, true, true, "-"}, kMaxNameLength);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> pieces;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(separator, start);
        pieces.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return pieces;
        start = end + 1;
    }
}

bool is_normal_absolute_path(std::string_view path) {
    if (path == "/") return true;
    if (path.empty() || path.front() != '/') return false;
    const std::vector<std::string_view> parts = split(path.substr(1), '/');
    return std::none_of(parts.begin(), parts.end(), [](std::string_view part) {
        return part.empty() || part == "." || part == "..";
    });
}

std::optional<std::string> text_problem(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<CodePoint> cp = decode_utf8(text, i);
        if (!cp) return "invalid UTF-8 at byte " + std::to_string(i);
        if (std::optional<std::string> name = forbidden_character_name(cp->value)) return name;
        i += cp->length;
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    if (text.empty() || text.size() > 16 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    if (value > kMaxInteger) return std::nullopt;
    return negative ? -value : value;
}

Quantity split_quantity(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    Quantity q{std::nullopt, text.substr(digits)};
    if (digits == 0) return q;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        if (value > 1'000'000'000'000'000ull) return {UINT64_MAX, q.unit};
        value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    q.number = value;
    return q;
}

std::string quoted(std::string_view text) {
    return "'" + escape_text(text, 80) + "'";
}

std::string join(std::initializer_list<std::string_view> words) {
    std::string out;
    for (const std::string_view word : words) {
        if (!out.empty()) out += ", ";
        out += word;
    }
    return out;
}

}  // namespace bridle::policy::read
