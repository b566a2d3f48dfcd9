// SPDX-License-Identifier: Apache-2.0
// The small helpers of the value checks (value_checks.hpp): quoting, path containment and
// components, file name patterns, plain decimal numbers.
#include "matching/value_checks.hpp"

#include <cstddef>
#include <string_view>

#include "common/text.hpp"

namespace bridle::matching::detail {

std::string q(const std::string& s) {
    return quote_text(s, 200);
}

bool is_within(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

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

bool name_matches(const std::string& path, const std::vector<std::string>& patterns) {
    if (patterns.empty()) return true;
    const std::string name = path.substr(path.rfind('/') + 1);
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
        return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
}

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

}  // namespace bridle::matching::detail
