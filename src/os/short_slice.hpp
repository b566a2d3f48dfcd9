// SPDX-License-Identifier: Apache-2.0
// A scheduling hint for the forced command's process: a short time slice, so that journald,
// which the process's audit record wakes onto the same CPU, does not preempt it between the
// record and its answer (docs/benchmarks.md, "The journal's wake-up").
#pragma once

namespace bridle::os {

// Asks the kernel (Linux 6.12 or later: sched_attr's sched_runtime for SCHED_OTHER) for a
// 0.1 ms slice for this process, with its nice value and policy kept, and the default slice
// again for every child it forks (SCHED_FLAG_RESET_ON_FORK): the commands bridle runs are
// scheduled as before. Only for a process under SCHED_OTHER. A hint: whether the kernel takes
// it changes no behaviour. False when the call failed or the process is not under SCHED_OTHER;
// true does not say the kernel took the slice (before 6.12 it ignores it).
bool ask_short_slice();

}  // namespace bridle::os
