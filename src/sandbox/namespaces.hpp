// SPDX-License-Identifier: Apache-2.0
// The second wall's namespaces: a request's init is cloned into new PID and IPC namespaces
// (through a new user namespace unless bridle runs as root), so that the command can name no
// process outside its request and what it creates dies with it. docs/sandbox.md, "The second
// wall", has the threat model.
#pragma once

#include <sys/types.h>

#include <string>

namespace bridle::sandbox::namespaces {

// The clone(2) flags of a request's init: CLONE_NEWPID | CLONE_NEWIPC, CLONE_NEWNS when it
// hides bridle's state (hide.hpp), and CLONE_NEWUSER when `as_root` is false (an unprivileged
// process may create the others only inside a user namespace it owns). Pure.
unsigned long clone_flags(bool as_root, bool mount = false);

// clone(2) with `flags` | SIGCHLD and no new stack: fork semantics (0 in the child), but
// without glibc's fork handlers, whose locks another thread may hold. The child may only make
// async-signal-safe calls. -1 with errno on failure.
pid_t clone_process(unsigned long flags) noexcept;

// Starts `entry(arg)` in a child that shares this process's memory until its execve
// (CLONE_VM | CLONE_VFORK, as posix_spawn does), on a stack of its own with a guard page:
// no page tables are copied, no page is copied on write, and the execve throws away no copy
// of this process. This process stays suspended until the child has exec'd or exited, so
// the child must end in execve or _exit, may only make async-signal-safe calls, and must not
// wait for this process. Its signal handlers, descriptors, limits, credentials, Landlock
// domain and seccomp filters are its own (no CLONE_SIGHAND, CLONE_FILES or CLONE_THREAD).
// `flags`: more clone(2) flags (a kept init's CLONE_NEWIPC: the command's own IPC namespace).
// The stack is made once per process and reused, so only one thread may call this (an init,
// which has no other). The child's pid, or -1 with errno.
pid_t clone_shared_until_exec(int (*entry)(void*), void* arg, unsigned long flags = 0) noexcept;

// In the child, first thing after a clone with CLONE_NEWUSER: maps `uid` and `gid` (the
// caller's own ids in the parent namespace) to themselves, the one mapping an unprivileged
// process may write (user_namespaces(7)), after writing "deny" to setgroups as the kernel
// requires for gid_map. The command keeps its identity, supplementary groups included (the
// kernel still checks them; unmapped ones read as the overflow gid). 0, or -1 with errno.
// Async-signal-safe.
int map_own_ids(uid_t uid, gid_t gid) noexcept;

// Whether this process can create a request's namespaces: clones a child with
// clone_flags(as_root) that exits at once. Cached per process. On false, `why` says what the
// kernel answered. For `namespaces: require`, before the decision record.
bool available(bool as_root, std::string& why);

// "pidns=yes ipcns=yes userns=yes", "pidns=yes ipcns=yes userns=no" (as root), or
// "pidns=no ipcns=no userns=no", then " mntns=yes" when `mount` (bridle's state hidden): what
// the result record's BRIDLE_CONTAINMENT starts with. Pure.
std::string describe(bool applied, bool as_root, bool mount = false);

}  // namespace bridle::sandbox::namespaces
