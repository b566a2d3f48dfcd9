// SPDX-License-Identifier: Apache-2.0
// Key lifetimes (key_expiry.hpp): --expires to a time, a time to sshd's expiry-time timespec
// and back. Calendar arithmetic by timegm(3) and gmtime_r(3), which normalise nothing we pass
// unchecked: each field is range-checked first, and a date that does not exist is refused.
#include "admin/key_expiry.hpp"

#include <algorithm>
#include <ctime>

namespace bridle::admin {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int digits_value(std::string_view digits) {
    int v = 0;
    for (const char c : digits) v = v * 10 + (c - '0');
    return v;
}

// A calendar time in UTC (utc) or the system time zone; nullopt for fields out of range or a
// date that does not exist (2027-02-30).
std::optional<std::int64_t> make_time(int year, int month, int day, int hour, int minute,
                                      int second, bool utc) {
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
        minute > 59 || second > 59) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900, tm.tm_mon = month - 1, tm.tm_mday = day;
    tm.tm_hour = hour, tm.tm_min = minute, tm.tm_sec = second;
    tm.tm_isdst = -1;
    const std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1) || tm.tm_mday != day || tm.tm_mon != month - 1) {
        return std::nullopt;  // normalised: the day does not exist in that month
    }
    return static_cast<std::int64_t>(t);
}

// "2027-01-31", "2027-01-31T18:00", "2027-01-31T18:00:30", each with an optional Z: UTC.
std::optional<std::int64_t> parse_utc_date(std::string_view s) {
    if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
    if (s.size() != 10 && s.size() != 16 && s.size() != 19) return std::nullopt;
    const auto at = [&](std::size_t i, std::size_t n) { return s.substr(i, n); };
    if (s[4] != '-' || s[7] != '-' || !all_digits(at(0, 4)) || !all_digits(at(5, 2)) ||
        !all_digits(at(8, 2))) {
        return std::nullopt;
    }
    int hour = 0, minute = 0, second = 0;
    if (s.size() >= 16) {
        if (s[10] != 'T' || s[13] != ':' || !all_digits(at(11, 2)) || !all_digits(at(14, 2))) {
            return std::nullopt;
        }
        hour = digits_value(at(11, 2)), minute = digits_value(at(14, 2));
    }
    if (s.size() == 19) {
        if (s[16] != ':' || !all_digits(at(17, 2))) return std::nullopt;
        second = digits_value(at(17, 2));
    }
    return make_time(digits_value(at(0, 4)), digits_value(at(5, 2)), digits_value(at(8, 2)), hour,
                     minute, second, true);
}

// `when` in UTC: "YYYYMMDDHHMMSSZ" (compact) or "YYYY-MM-DDTHH:MM:SSZ".
std::string formatted(std::int64_t when, bool compact) {
    const std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char out[96];
    const std::size_t n = compact ? std::strftime(out, sizeof out, "%Y%m%d%H%M%SZ", &tm)
                                  : std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(out, n);
}

}  // namespace

Result<std::int64_t> parse_expires(std::string_view text, std::int64_t now) {
    const Error bad{"--expires " + std::string(text.substr(0, 40)) +
                        ": give a lifetime (30d, 12h, 2w) or a UTC date or time "
                        "(2027-01-31, 2027-01-31T18:00)",
                    ""};
    std::optional<std::int64_t> when;
    if (text.size() >= 2 && text.size() <= 6 && all_digits(text.substr(0, text.size() - 1))) {
        const std::int64_t n = digits_value(text.substr(0, text.size() - 1));
        const char unit = text.back();
        const std::int64_t seconds = unit == 'h'   ? 3600
                                     : unit == 'd' ? 86400
                                     : unit == 'w' ? 604800
                                                   : 0;
        if (seconds == 0) return bad;
        when = now + n * seconds;
    } else {
        when = parse_utc_date(text);
        if (!when) return bad;
    }
    if (*when <= now) {
        return Error{
            "--expires " + std::string(text) + " is not in the future (" + utc_text(*when) + ")",
            ""};
    }
    if (*when - now > kMaxKeyLifetimeSeconds) {
        return Error{"--expires " + std::string(text) +
                         " is more than 3650 days away: enrol without --expires for a key "
                         "that does not expire",
                     ""};
    }
    return *when;
}

std::string expiry_timespec(std::int64_t when) {
    return formatted(when, true);
}

std::optional<std::int64_t> parse_timespec(std::string_view spec) {
    bool utc = false;
    if (!spec.empty() && spec.back() == 'Z') spec.remove_suffix(1), utc = true;
    if ((spec.size() != 8 && spec.size() != 12 && spec.size() != 14) || !all_digits(spec)) {
        return std::nullopt;
    }
    const auto two = [&](std::size_t i) {
        return spec.size() > i ? digits_value(spec.substr(i, 2)) : 0;
    };
    return make_time(digits_value(spec.substr(0, 4)), two(4), two(6), two(8), two(10), two(12),
                     utc);
}

std::string utc_text(std::int64_t when) {
    return formatted(when, false);
}

}  // namespace bridle::admin
