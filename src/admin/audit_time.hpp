// SPDX-License-Identifier: Apache-2.0
// Times for `bridle audit --since/--until`, in journalctl's syntax (systemd.time(7)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bridle::admin {

// Microseconds since the epoch for TEXT, relative to `now_usec`; nullopt when TEXT is not one
// of: "YYYY-MM-DD [HH:MM[:SS]]" or "HH:MM[:SS]" (today) in local time, either with " UTC"
// appended for UTC; now, today, yesterday, tomorrow; @SECONDS; a time span with "-" or "+"
// in front or " ago" behind ("-1h", "-2d 6h", "30min ago", "+1w"), with the units us, ms, s,
// sec, m, min, h, hr, d, w, M (month, 30.44 days), y (365.25 days) and their long forms.
std::optional<std::uint64_t> parse_audit_time(const std::string& text, std::uint64_t now_usec);

// A time span alone ("30d", "1h 30min", "2w"; the units above; a bare number is seconds) in
// microseconds; nullopt when TEXT is not one.
std::optional<std::uint64_t> parse_time_span(const std::string& text);

// The realtime clock, in microseconds since the epoch (what records carry).
std::uint64_t now_usec();

// A record's time (microseconds since the epoch) in strftime's `format`, local or UTC.
std::string format_time(std::uint64_t usec, const char* format, bool utc);

}  // namespace bridle::admin
