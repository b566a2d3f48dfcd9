// SPDX-License-Identifier: Apache-2.0
// journalctl's time syntax, the part an administrator types (systemd.time(7)).
#include "admin/audit_time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>
#include <string_view>

namespace bridle::admin {
namespace {

constexpr std::uint64_t kSecond = 1'000'000;

std::string trim_spaces(const std::string& s) {
    const std::size_t a = s.find_first_not_of(' ');
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<std::uint64_t> parse_time_span(const std::string& text) {
    static const std::map<std::string, std::uint64_t, std::less<>> kUnits = {
        {"us", 1},
        {"usec", 1},
        {"ms", 1000},
        {"msec", 1000},
        {"s", kSecond},
        {"sec", kSecond},
        {"second", kSecond},
        {"seconds", kSecond},
        {"m", 60 * kSecond},
        {"min", 60 * kSecond},
        {"minute", 60 * kSecond},
        {"minutes", 60 * kSecond},
        {"h", 3600 * kSecond},
        {"hr", 3600 * kSecond},
        {"hour", 3600 * kSecond},
        {"hours", 3600 * kSecond},
        {"d", 86400 * kSecond},
        {"day", 86400 * kSecond},
        {"days", 86400 * kSecond},
        {"w", 7 * 86400 * kSecond},
        {"week", 7 * 86400 * kSecond},
        {"weeks", 7 * 86400 * kSecond},
        {"M", 2'629'800 * kSecond},
        {"month", 2'629'800 * kSecond},
        {"months", 2'629'800 * kSecond},
        {"y", 31'557'600 * kSecond},
        {"year", 31'557'600 * kSecond},
        {"years", 31'557'600 * kSecond}};
    std::uint64_t total = 0;
    std::size_t i = 0, parts = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        if (i == text.size()) break;
        std::uint64_t number = 0;
        std::size_t digits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 9) {
            number = number * 10 + static_cast<std::uint64_t>(text[i++] - '0');
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        while (i < text.size() && text[i] == ' ') ++i;
        std::size_t start = i;
        while (i < text.size() &&
               ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')))
            ++i;
        const std::string unit = text.substr(start, i - start);
        const auto it = kUnits.find(unit.empty() ? "s" : unit);  // a bare number is seconds
        if (it == kUnits.end()) return std::nullopt;
        total += number * it->second;
        ++parts;
    }
    if (parts == 0) return std::nullopt;
    return total;
}

namespace {

std::optional<std::uint64_t> from_tm(std::tm tm, bool utc) {
    tm.tm_isdst = -1;
    const std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
    if (t < 0) return std::nullopt;  // also mktime's error, (time_t)-1
    return static_cast<std::uint64_t>(t) * kSecond;
}

std::tm broken_down(std::uint64_t usec, bool utc) {
    const std::time_t t = static_cast<std::time_t>(usec / kSecond);
    std::tm tm{};
    if (utc)
        ::gmtime_r(&t, &tm);
    else
        ::localtime_r(&t, &tm);
    return tm;
}

// "YYYY-MM-DD[ HH:MM[:SS]]" or "HH:MM[:SS]".
std::optional<std::uint64_t> parse_calendar(const std::string& text, std::uint64_t now, bool utc) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char tail = 0;
    std::tm tm = broken_down(now, utc);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail) ==
            6 ||
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail) ==
            6) {
    } else if (s = 0, std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi,
                                  &tail) == 5) {
    } else if (h = mi = 0, std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3) {
    } else if (std::sscanf(text.c_str(), "%2d:%2d:%2d%c", &h, &mi, &s, &tail) == 3 ||
               (s = 0, std::sscanf(text.c_str(), "%2d:%2d%c", &h, &mi, &tail) == 2)) {
        y = tm.tm_year + 1900, mo = tm.tm_mon + 1, d = tm.tm_mday;
    } else {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970) {
        return std::nullopt;
    }
    std::tm out{};
    out.tm_year = y - 1900, out.tm_mon = mo - 1, out.tm_mday = d;
    out.tm_hour = h, out.tm_min = mi, out.tm_sec = s;
    const std::optional<std::uint64_t> result = from_tm(out, utc);
    // mktime normalises 2026-02-31 into March: refuse a date that does not exist.
    if (result && broken_down(*result, utc).tm_mday != d) return std::nullopt;
    return result;
}

}  // namespace

std::optional<std::uint64_t> parse_audit_time(const std::string& raw, std::uint64_t now) {
    std::string text = trim_spaces(raw);
    if (text.empty() || text.size() > 64) return std::nullopt;
    if (text == "now") return now;
    if (text.front() == '@') {
        const std::string digits = text.substr(1);
        if (digits.empty() || digits.size() > 12 ||
            digits.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        return std::stoull(digits) * kSecond;
    }
    if (text.front() == '-' || text.front() == '+') {
        const std::optional<std::uint64_t> span = parse_time_span(text.substr(1));
        if (!span) return std::nullopt;
        if (text.front() == '+') return now + *span;
        return *span > now ? 0 : now - *span;
    }
    if (ends_with(text, " ago")) {
        const std::optional<std::uint64_t> span = parse_time_span(text.substr(0, text.size() - 4));
        if (!span) return std::nullopt;
        return *span > now ? 0 : now - *span;
    }
    bool utc = false;
    if (ends_with(text, " UTC")) {
        utc = true;
        text = trim_spaces(text.substr(0, text.size() - 4));
    }
    if (text == "today" || text == "yesterday" || text == "tomorrow") {
        std::tm tm = broken_down(now, utc);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += text == "yesterday" ? -1 : text == "tomorrow" ? 1 : 0;
        return from_tm(tm, utc);
    }
    return parse_calendar(text, now, utc);
}

std::uint64_t now_usec() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

std::string format_time(std::uint64_t usec, const char* format, bool utc) {
    const std::tm tm = broken_down(usec, utc);
    std::ostringstream out;
    out << std::put_time(&tm, format);
    return out.str();
}

}  // namespace bridle::admin
