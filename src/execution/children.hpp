// SPDX-License-Identifier: Apache-2.0
// This process's children, whichever thread forked them: for the runner's kill of a request's
// tree, and for session mode's workers and whatever reparents to it.
#pragma once

#include <sys/types.h>

#include <vector>

namespace bridle::execution {

// Calls fn(child, context) for each child. Allocation-free. Only children: no one else can
// reap them, so a child's pid cannot be reused between listing and signalling it (a
// grandchild's could: it is reached once it reparents to us, the subreaper).
using ChildFn = void (*)(pid_t child, void* context);
void for_each_child(ChildFn fn, void* context) noexcept;

// Sends `sig` to every child.
void signal_children(int sig) noexcept;

// The children's pids (allocates).
std::vector<pid_t> list_children();

}  // namespace bridle::execution
