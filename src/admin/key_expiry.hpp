// SPDX-License-Identifier: Apache-2.0
// Key lifetimes: `bridle enroll --expires 30d|DATE` as OpenSSH's expiry-time="..." option (sshd
// refuses the key from then on), and that option read back for `bridle keys`. No OS calls but
// the time-zone rules of a timespec without Z, which sshd reads in the system time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace bridle::admin {

// The longest lifetime --expires accepts (about ten years): a longer one is a typo.
constexpr std::int64_t kMaxKeyLifetimeSeconds = 3650LL * 86400;

// When a key enrolled at `now` (seconds since the epoch) expires: "30d", "12h", "2w" from
// now, or a date or time in UTC: "2027-01-31" (its first second), "2027-01-31T18:00",
// "2027-01-31T18:00:30" (a trailing Z is accepted). Refuses a time not after `now`, one more
// than kMaxKeyLifetimeSeconds away, and anything else.
Result<std::int64_t> parse_expires(std::string_view text, std::int64_t now);

// The option's value for a time: "YYYYMMDDHHMMSSZ" (UTC, as sshd 8.8 and later read it).
std::string expiry_timespec(std::int64_t when);

// An expiry-time value as sshd reads it: YYYYMMDD or YYYYMMDDHHMM[SS], with Z in UTC and
// without it in the system time zone. nullopt: not a timespec (sshd refuses such a line).
std::optional<std::int64_t> parse_timespec(std::string_view spec);

// "2027-01-31T18:00:00Z".
std::string utc_text(std::int64_t when);

}  // namespace bridle::admin
