// SPDX-License-Identifier: Apache-2.0
// The guardrails' counting (guard.hpp) on plain values: the sliding minute, the UTC day, and
// the text of their files. Pure: the store passes the time in.
#include <algorithm>
#include <charconv>

#include "guard/guard.hpp"

namespace bridle::guard {
namespace {

std::optional<std::int64_t> decimal(std::string_view text) {
    std::int64_t v = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (error != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

}  // namespace

std::optional<Over> check_minute(std::vector<std::int64_t>& times, std::int64_t now_ms,
                                 std::uint64_t limit) {
    // A time in the future (the clock stepped back) stays counted until it is a minute old.
    times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](std::int64_t t) {
                    return t > now_ms - kMinuteMs;
                }));
    if (times.size() < limit) return std::nullopt;
    const std::int64_t oldest = times[times.size() - limit];
    return Over{"requests_per_minute", limit,
                std::max<std::int64_t>(oldest + kMinuteMs - now_ms, 1)};
}

std::optional<Over> check_day(DayCount& day, std::int64_t now_ms, std::uint64_t limit) {
    const std::int64_t today = now_ms / kDayMs;
    if (day.day != today) day = DayCount{today, 0};
    if (day.count < limit) return std::nullopt;
    return Over{"requests_per_day", limit,
                std::max<std::int64_t>((today + 1) * kDayMs - now_ms, 1)};
}

std::string format_times(const std::vector<std::int64_t>& times) {
    std::string out;
    for (const std::int64_t t : times) out += std::to_string(t) + "\n";
    return out;
}

std::optional<std::vector<std::int64_t>> parse_times(std::string_view text) {
    std::vector<std::int64_t> times;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos) return std::nullopt;  // bridle ends every line
        const std::optional<std::int64_t> t = decimal(text.substr(0, nl));
        if (!t || (!times.empty() && *t < times.back())) return std::nullopt;
        times.push_back(*t);
        text.remove_prefix(nl + 1);
    }
    return times;
}

std::string format_day(const DayCount& day) {
    return std::to_string(day.day) + " " + std::to_string(day.count) + "\n";
}

std::optional<DayCount> parse_day(std::string_view text) {
    if (text.empty()) return DayCount{};
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos || text.back() != '\n') return std::nullopt;
    const std::optional<std::int64_t> day = decimal(text.substr(0, space));
    const std::optional<std::int64_t> count =
        decimal(text.substr(space + 1, text.size() - space - 2));
    if (!day || !count) return std::nullopt;
    return DayCount{*day, static_cast<std::uint64_t>(*count)};
}

std::string retry_text(std::int64_t ms) {
    // Rounded up, never down: the client may come back at the time it is told.
    const std::int64_t s = std::max<std::int64_t>((ms + 999) / 1000, 1);
    if (s >= 3600) {
        const std::int64_t minutes = (s + 59) / 60;
        return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
    }
    if (s > 60) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    return std::to_string(s) + " s";
}

}  // namespace bridle::guard
