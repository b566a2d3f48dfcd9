// SPDX-License-Identifier: Apache-2.0
// The programs bridle runs for itself (visudo, ssh-keygen), not for an agent: by absolute path
// with the environment given, never through a shell, from a clean slate, waited for.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::execution {

// Where an auxiliary program's stdout or stderr goes.
enum class AuxOutput {
    kDiscard,  // /dev/null
    kCapture,  // into AuxResult
    kInherit,  // bridle's own: e.g. visudo's messages on bridle's stderr, for the administrator
};

struct AuxSpec {
    std::string path;                        // absolute; exec'd as is, never PATH-searched
    std::vector<std::string> argv;           // argv[0] included
    std::map<std::string, std::string> env;  // the whole environment
    std::optional<std::string> stdin_bytes;  // its whole stdin; none: /dev/null
    AuxOutput stdout_to = AuxOutput::kDiscard;
    AuxOutput stderr_to = AuxOutput::kInherit;
    std::size_t max_output = 64 * 1024;  // per captured stream; the rest is read and dropped
    // With a deadline (only without captured outputs): the program runs in a process group of
    // its own, and the group is killed (SIGKILL) when it has not ended within it.
    std::optional<std::chrono::milliseconds> deadline;
};

struct AuxResult {
    int exit_status = -1;    // when it exited
    int signal = 0;          // when a signal killed it
    std::string out, err;    // what it wrote to a captured stream, at most max_output each
    bool truncated = false;  // a captured stream had more than max_output bytes
    bool timed_out = false;  // killed at its deadline
    bool succeeded() const { return exit_status == 0; }
};

// Forks and execs `spec.path`. In the child, before execve: every signal at its default action
// and none blocked (bridle ignores SIGPIPE), stdin and the outputs as `spec` says, every other
// descriptor closed. Then waits for it (blocking; EINTR-safe). An error when it could not be
// started (a bad spec, no pipe, its set-up or execve failed) or not be waited for; nothing of
// it is left running then.
Result<AuxResult> run_auxiliary(const AuxSpec& spec);

}  // namespace bridle::execution
