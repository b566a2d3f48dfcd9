// SPDX-License-Identifier: Apache-2.0
// bridle's own state, hidden from the command: the request's init gets a mount namespace of
// its own, in which an empty, read-only tmpfs lies over each of bridle's state directories
// (versions, the task spool, the approval store). The account's own command runs as the same
// account as bridle, so without Landlock file ownership alone could not keep it from them.
// Not for a root command (a run_as target): root is not that account, and the package manager
// upgrading bridle must reach /var/lib/bridle. docs/sandbox.md, "Tasks".
#pragma once

#include <string>
#include <vector>

namespace bridle::sandbox::hide {

// Of `candidates` (absolute paths), the directories that exist, resolved (realpath: the mount
// must land on the directory itself, not on a link to it), without duplicates and without
// any that lies inside another. Before fork.
std::vector<std::string> directories(const std::vector<std::string>& candidates);

// In the request's init, right after its clone with CLONE_NEWNS (and the id maps): stops
// propagation back to the host (every mount a slave, recursively), then an empty read-only
// tmpfs over each of `dirs`. A command after execve holds no capability in the namespace, so
// it cannot unmount them, and a namespace it makes itself gets them locked (mount_namespaces(7)).
// 0, or -1 with errno. Async-signal-safe.
int apply(const std::vector<std::string>& dirs) noexcept;

}  // namespace bridle::sandbox::hide
