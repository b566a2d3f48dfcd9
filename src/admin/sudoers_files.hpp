// SPDX-License-Identifier: Apache-2.0
// Internal to `bridle sudoers` (sudoers.cpp): the file-system steps, each failing closed.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::admin {

// Prints "bridle: MESSAGE" on stderr; returns the configuration error's exit status.
int sudoers_error(const std::string& message);

// Root owns the binary and every directory above it, no one else can write them, and it is
// neither a symbolic link nor set-uid/set-gid: sudo will run this file as root for the agent.
Status check_trusted_binary(const std::string& path);

// Runs /usr/sbin/visudo with `args` (execution::run_auxiliary: a fixed environment, PATH and
// LC_ALL=C; stdin /dev/null); true when it exits 0. Its error messages go to our stderr.
bool visudo(const std::vector<std::string>& args);

// A new file in `dir` named .bridle.XXXXXX (sudo skips names with a dot), 0440 (root:root when
// we are root), holding `text`, fsync'ed. Returns its path.
Result<std::string> write_temporary(const std::string& dir, const std::string& text);

// --install: `text` becomes /etc/sudoers.d/bridle (checked, renamed in one step, the whole
// configuration checked again, the previous drop-in restored on failure). bridle's status.
int install(const std::string& text);

}  // namespace bridle::admin
