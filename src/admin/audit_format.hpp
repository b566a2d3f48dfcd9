// SPDX-License-Identifier: Apache-2.0
// The words `bridle audit`'s views print: stored values escaped, cut and padded to columns,
// record times, numbers read from records. Shared by the request table (audit_review.cpp) and
// the fan-out view (audit_fanout.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bridle::admin {

// Bold on and off, for a terminal (the views' --color).
inline constexpr const char* kBold = "\033[1m";
inline constexpr const char* kReset = "\033[0m";

// Printable as stored, but never a control character, an invisible one or bad UTF-8: those
// are shown escaped (bridle's own records hold none; a forged one might).
std::string safe(std::string_view s);

// At most `width` characters (code points), "…" marking a cut.
std::string cut(const std::string& s, std::size_t width);

// `s` cut to `width` characters, padded with spaces to it, and one space after.
std::string pad(const std::string& s, std::size_t width);

std::string local_time(std::uint64_t usec);  // "2026-11-24 08:00:03"
std::string short_time(std::uint64_t usec);  // "11-24 08:00:03": the table's time
std::string iso_time(std::uint64_t usec);    // "2026-11-24T07:00:03.000123Z"

// A record's decimal field (at most 18 digits, an optional "-"); nullopt for anything else.
std::optional<long long> number(const std::string& s);
nlohmann::json number_or_null(const std::string& s);

}  // namespace bridle::admin
