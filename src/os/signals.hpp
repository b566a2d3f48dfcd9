// SPDX-License-Identifier: Apache-2.0
// Signals for a child between fork and execve: every disposition and the mask back to the
// defaults, so that what bridle ignores or blocks does not carry over to a program it runs.
#pragma once

namespace bridle::os {

// Every signal's disposition to SIG_DFL, then an empty mask. 0, or -1 with errno set.
// Async-signal-safe.
int reset_signals() noexcept;

}  // namespace bridle::os
