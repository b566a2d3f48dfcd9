// SPDX-License-Identifier: Apache-2.0
// The words `bridle audit`'s views print (audit_format.hpp).
#include "admin/audit_format.hpp"

#include <iomanip>
#include <sstream>

#include "admin/audit_time.hpp"
#include "common/text.hpp"

namespace bridle::admin {

std::string safe(std::string_view s) {
    return escape_text(s, std::string_view::npos, Quotes::kAsIs);
}

std::string cut(const std::string& s, std::size_t width) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
        if (++chars > width) return s.substr(0, i) + "…";
    }
    return s;
}

std::string pad(const std::string& s, std::size_t width) {
    const std::string shown = cut(s, width);
    std::size_t chars = 0;
    for (const char c : shown) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return shown + std::string(chars < width ? width - chars : 0, ' ') + " ";
}

std::string local_time(std::uint64_t usec) {
    return format_time(usec, "%Y-%m-%d %H:%M:%S", false);
}

std::string short_time(std::uint64_t usec) {
    return format_time(usec, "%m-%d %H:%M:%S", false);
}

std::string iso_time(std::uint64_t usec) {
    std::ostringstream fraction;
    fraction << '.' << std::setw(6) << std::setfill('0') << usec % 1'000'000 << 'Z';
    return format_time(usec, "%Y-%m-%dT%H:%M:%S", true) + fraction.str();
}

std::optional<long long> number(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    const std::size_t start = s[0] == '-' ? 1 : 0;
    if (start == s.size() || s.find_first_not_of("0123456789", start) != std::string::npos)
        return std::nullopt;
    return std::stoll(s);
}

nlohmann::json number_or_null(const std::string& s) {
    const std::optional<long long> n = number(s);
    return n ? nlohmann::json(*n) : nlohmann::json(nullptr);
}

}  // namespace bridle::admin
