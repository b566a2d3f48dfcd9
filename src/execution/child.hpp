// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: start the command (fork, child set-up, execve) and signal our
// children, for runner.cpp.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "execution/runner.hpp"
#include "os/fd.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/exec_once.hpp"

namespace bridle::execution::detail {

// A started command: its pid (also its process group and session id) and the parent's
// non-blocking read ends of its stdout and stderr pipes.
struct Started {
    pid_t pid = -1;
    os::UniqueFd stdout_fd;
    os::UniqueFd stderr_fd;
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_once;  // with an exec-once sandbox
    // Under the request's init (`pid` is then the init's): the lifeline's write end, held
    // until the request is over, and the non-blocking read end of the init's status report.
    os::UniqueFd lifeline;
    os::UniqueFd report;
    std::optional<sandbox::cgroup::Group> cgroup;  // a root command's pids cgroup
};

// Fork and exec `spec.path`. Returns a pid > 0 once execve succeeded; otherwise pid -1, with
// `outcome.error` (and `outcome.exec_errno` when execve itself failed) set and nothing left
// running. The caller blocks its supervision signals first: the child unblocks everything.
Started start_command(const Spec& spec, Outcome& outcome);

}  // namespace bridle::execution::detail
