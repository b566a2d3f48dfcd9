// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: the request's init, PID 1 of its namespaces (init.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace bridle::execution::detail {

// How the init ended when it wrote no status of the command (its own exit status).
constexpr int kInitBackstop = 124;  // the backstop deadline passed: everything was ended
constexpr int kInitOrphaned = 125;  // bridle, its parent, is gone
constexpr int kInitBroken = 126;    // poll or signalfd failed; it ended everything

// CLOCK_MONOTONIC in milliseconds: an init's deadlines. Async-signal-safe.
std::int64_t now_ms() noexcept;

struct InitPlan {
    int lifeline = -1;   // read end of a pipe only bridle writes to: POLLHUP once it is gone
    int report = -1;     // write end: the command's wait status, sizeof(int), then exit 0
    int signals = -1;    // signalfd of the signals the init passes on (and SIGCHLD)
    pid_t command = -1;  // the command (in our PID namespace)
    std::int64_t backstop_ms = 0;  // from now: end everything, whatever bridle does
};

// The init's whole life, after it has forked the command: reaps every process of the
// namespace, passes the signals bridle sends it on to all of them, and exits when the command
// has exited (after writing its status), when bridle is gone, or at the backstop. The kernel
// then kills what is left of the namespace and the init's exit waits for it (pid_namespaces(7)),
// so once bridle has reaped the init, nothing of the request is left. Async-signal-safe only:
// bridle may be multithreaded, and the init never execs.
[[noreturn]] void run_init(const InitPlan& plan) noexcept;

}  // namespace bridle::execution::detail
