// SPDX-License-Identifier: Apache-2.0
// Detach a supervisor from the SSH connection: a double fork into a new session that ignores
// SIGHUP, so that a task's command runs on after the client has gone (gate/task_gate.cpp).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bridle::execution {

struct Detached {
    bool in_child = false;  // true in the detached process, which must end with _exit()
    pid_t pid = -1;         // the parent: the detached process's pid (-1: it failed)
    std::string error;      // the parent: why it failed
};

// Forks twice: the detached process is a grandchild of the caller (so it is no child of the
// caller's and never its zombie), in a new session that the middle process led (so it has no
// controlling terminal and can never acquire one), SIGHUP ignored, stdin, stdout and stderr on
// /dev/null. The caller's other descriptors stay open in it (give them O_CLOEXEC as the command
// should never get them; runner closes the rest before execve). The parent returns once the
// detached process exists. `close_fds`: descriptors the detached process closes first (the caller's
// pipes to whoever waits for its end).
Detached detach(const std::vector<int>& close_fds = {});

}  // namespace bridle::execution
