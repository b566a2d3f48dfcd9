// SPDX-License-Identifier: Apache-2.0
// settings.guardrails: per-key limits on requests (a rate, a concurrency cap, a daily quota),
// enforced by the gate across all of a key's connections (src/guard/, bridle-policy(5)).
#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {
namespace {

struct Bound {
    const char* name;
    std::uint64_t max;
    std::optional<std::uint64_t> Guardrail::*field;
};
constexpr Bound kBounds[] = {
    {"requests_per_minute", kMaxPerMinute, &Guardrail::per_minute},
    {"concurrent", kMaxConcurrent, &Guardrail::concurrent},
    {"requests_per_day", kMaxPerDay, &Guardrail::per_day},
};

}  // namespace

void PolicyReader::read_guardrails(const Field& field, Settings& settings) {
    const std::optional<std::vector<Field>> items = list(field, "settings.guardrails");
    if (!items) return;
    for (const Field& item : *items) {
        const std::optional<Entries> entries = mapping(item, "a guardrails entry");
        if (!entries) continue;
        reject_unknown(*entries, {"keys", "requests_per_minute", "concurrent", "requests_per_day"},
                       "a guardrails entry");
        Guardrail g;
        g.source = location(file_, item.mark);
        if (const Entry* keys = find(*entries, "keys")) read_keys(keys->value, g.keys);
        bool any = false;
        for (const Bound& bound : kBounds) {
            const Entry* entry = find(*entries, bound.name);
            if (entry == nullptr) continue;
            const std::string what = std::string("guardrails ") + bound.name;
            const std::optional<std::int64_t> value = integer(entry->value, what);
            if (value && (*value < 1 || static_cast<std::uint64_t>(*value) > bound.max)) {
                fail(entry->value.mark,
                     what + " must be between 1 and " + std::to_string(bound.max));
            } else if (value) {
                g.*bound.field = static_cast<std::uint64_t>(*value);
                any = true;
            }
        }
        if (!any) {
            fail(item.mark,
                 "a guardrails entry needs requests_per_minute, concurrent or requests_per_day");
            continue;
        }
        settings.guardrails.push_back(std::move(g));
    }
}

}  // namespace bridle::policy::read
