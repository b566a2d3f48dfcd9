// SPDX-License-Identifier: Apache-2.0
// Guardrails per key (settings.guardrails): a sliding one-minute rate, a cap on concurrent
// requests and a daily quota, counted in files that every connection of the key shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "os/fd.hpp"
#include "policy/model.hpp"

namespace bridle::guard {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMs = 86'400'000;
// What a request over the concurrency cap is told to wait: a slot frees when a request ends.
constexpr std::int64_t kSlotRetryMs = 1'000;

// A limit that turned a request away, and when the same request could be admitted.
struct Over {
    std::string limit;                // requests_per_minute | concurrent | requests_per_day
    std::uint64_t value = 0;          // the policy's number
    std::int64_t retry_after_ms = 0;  // > 0
};

// ---- counters.cpp: the counting, on values (no files) --------------------------------------

// The start times (ms since the epoch) of the requests admitted in the last minute, oldest
// first. Drops those older than a minute before `now_ms`; with `limit` of them left, the request
// is over, and may come back when the oldest of the last `limit` is a minute old.
std::optional<Over> check_minute(std::vector<std::int64_t>& times, std::int64_t now_ms,
                                 std::uint64_t limit);

// Requests admitted on one UTC day (days since the epoch).
struct DayCount {
    std::int64_t day = 0;
    std::uint64_t count = 0;
};
// Starts a new count on a new day; over at `limit`, until the next UTC midnight.
std::optional<Over> check_day(DayCount& day, std::int64_t now_ms, std::uint64_t limit);

// The files' text: one decimal per line; "DAY COUNT". nullopt: not what bridle writes.
std::string format_times(const std::vector<std::int64_t>& times);
std::optional<std::vector<std::int64_t>> parse_times(std::string_view text);
std::string format_day(const DayCount& day);
std::optional<DayCount> parse_day(std::string_view text);

// "12 s", "3 min 20 s", "5 h 2 min": the time to retry, rounded up to the second.
std::string retry_text(std::int64_t ms);

// ---- store.cpp: the key's directory of counters ---------------------------------------------

// What admit() decided. Admitted: `slot` is open (when the entry caps concurrency) and holds
// one of the key's slots until it is closed, by the request's end or by the process's death.
struct Admission {
    os::UniqueFd slot;
    std::optional<Over> over;  // set: refused, nothing counted
};

// Counts one request in `dir` (created 0700 when missing, the account's own, no symlink)
// under `limits`, at `now_ms`: the state lock (flock) first, so that concurrent connections
// count one at a time; then a free slot, the day, the minute. A request turned away counts
// nowhere. Any failure to keep the counts is an error: the caller refuses (fail closed).
Result<Admission> admit(const std::string& dir, const policy::Guardrail& limits,
                        std::int64_t now_ms);

}  // namespace bridle::guard
