// SPDX-License-Identifier: Apache-2.0
// Signals for a child between fork and execve: every disposition and the mask back to the
// defaults, so that what bridle ignores or blocks does not carry over to a program it runs.
#pragma once

#include <cstdint>
#include <string_view>

namespace bridle::os {

// Every signal's disposition to SIG_DFL, then an empty mask. 0, or -1 with errno set.
// Only the signals /proc/self/status reports as ignored or caught need a system call; every
// signal gets one where that file cannot be read. Async-signal-safe.
int reset_signals() noexcept;

// The signals to reset, as /proc/self/status's text says (SigIgn | SigCgt; bit N-1 is signal
// N), or every signal when either line is missing or not 16 hex digits.
std::uint64_t signals_to_reset(std::string_view proc_status) noexcept;

}  // namespace bridle::os
