// SPDX-License-Identifier: Apache-2.0
// Resource limits of the command (setrlimit(2)): values worked out before fork, set in the
// child. Core dumps are always off.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstddef>
#include <functional>

#include "policy/model.hpp"

namespace bridle::sandbox::limits {

struct Setting {
    int resource = 0;  // RLIMIT_*
    rlimit value{};
};

// What the child sets, in order; a fixed array so that the child needs no allocation.
struct Plan {
    std::array<Setting, 6> settings{};
    std::size_t count = 0;
};

// The limit to set for a wanted soft/hard pair when the process has `current`: never above
// the current hard limit (an unprivileged process cannot raise it, and the command gets the
// stricter of the two), and soft never above hard. Pure.
rlimit clamp(rlim_t soft, rlim_t hard, const rlimit& current);

// RLIMIT_CORE 0, then each limit the profile sets. RLIMIT_CPU gets a hard limit one second
// above the soft one: SIGXCPU first, SIGKILL a second later. `current` gives the process's
// present limit of a resource. Pure given `current`.
Plan plan(const policy::ResourceLimits& limits, const std::function<rlimit(int)>& current);

// plan() with the calling process's limits (getrlimit). Before fork.
Plan plan_for_this_process(const policy::ResourceLimits& limits);

// In the child: sets every limit of `plan`. 0, or -1 with errno. Async-signal-safe.
int apply(const Plan& plan) noexcept;

}  // namespace bridle::sandbox::limits
