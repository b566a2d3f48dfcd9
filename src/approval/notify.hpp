// SPDX-License-Identifier: Apache-2.0
// approvals.notify: the program the policy names, told of each new request (its id, code, the
// host, the key and the command as argv, never through a shell), within a bounded time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace bridle::approval {

// Runs `argv` with `words` appended: an environment of PATH and LANG only, stdin and output on
// /dev/null, its process group killed at `timeout`. "" when it exited 0; else why not ("exit
// status 7", "killed after 10000 ms", "cannot run ..."). It holds nothing that approves: a
// failure leaves the request pending, as it was.
std::string run_notify(const std::vector<std::string>& argv, const std::vector<std::string>& words,
                       std::chrono::milliseconds timeout);

}  // namespace bridle::approval
