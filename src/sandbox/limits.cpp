// SPDX-License-Identifier: Apache-2.0
// Resource limits: clamp to what the process may set, then setrlimit in the child.
#include "sandbox/limits.hpp"

#include <algorithm>

namespace bridle::sandbox::limits {

rlimit clamp(rlim_t soft, rlim_t hard, const rlimit& current) {
    rlimit value{};
    value.rlim_max = std::min(hard, current.rlim_max);  // RLIM_INFINITY is the largest value
    value.rlim_cur = std::min(soft, value.rlim_max);
    return value;
}

Plan plan(const policy::ResourceLimits& limits, const std::function<rlimit(int)>& current) {
    Plan plan;
    const auto add = [&](int resource, rlim_t soft, rlim_t hard) {
        plan.settings[plan.count++] = {resource, clamp(soft, hard, current(resource))};
    };
    add(RLIMIT_CORE, 0, 0);
    if (limits.cpu) {
        const auto seconds = static_cast<rlim_t>(limits.cpu->count());
        add(RLIMIT_CPU, seconds, seconds + 1);
    }
    const std::pair<int, const std::optional<std::uint64_t>*> others[] = {
        {RLIMIT_AS, &limits.address_space},
        {RLIMIT_NPROC, &limits.processes},
        {RLIMIT_FSIZE, &limits.file_size},
        {RLIMIT_NOFILE, &limits.open_files}};
    for (const auto& [resource, value] : others) {
        if (*value) add(resource, static_cast<rlim_t>(**value), static_cast<rlim_t>(**value));
    }
    return plan;
}

Plan plan_for_this_process(const policy::ResourceLimits& limits) {
    return plan(limits, [](int resource) {
        rlimit value{RLIM_INFINITY, RLIM_INFINITY};
        ::getrlimit(static_cast<__rlimit_resource_t>(resource), &value);
        return value;
    });
}

int apply(const Plan& plan) noexcept {
    for (std::size_t i = 0; i < plan.count; ++i) {
        const Setting& s = plan.settings[i];
        if (::setrlimit(static_cast<__rlimit_resource_t>(s.resource), &s.value) != 0) return -1;
    }
    return 0;
}

}  // namespace bridle::sandbox::limits
