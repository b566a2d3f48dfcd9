// SPDX-License-Identifier: Apache-2.0
// The exec log: with `exec_log: true` the exec-once listener lets every execve/execveat of the
// command's tree through and records the path each one named, read from the waiting process's
// memory. A record, not a guarantee: docs/sandbox.md ("The exec log") says why.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::sandbox::exec_log {

constexpr std::size_t kMaxEntries = 512;    // entries kept; the rest are only counted
constexpr std::size_t kMaxPathBytes = 512;  // bytes of one path kept (escaped, then cut)
constexpr std::size_t kMaxRead = 4096;      // PATH_MAX: the kernel refuses a longer path

// The programs one command's tree asked the kernel to run, in order.
struct Log {
    std::vector<std::string> entries;
    std::uint64_t dropped = 0;  // calls past kMaxEntries, counted and not kept

    void add(std::string_view path);
};

// Which call a notification is: execve, execveat, or neither (another architecture's number
// that libseccomp does not name). Pure.
enum class Call { kExecve, kExecveat, kOther };
Call call_of(const seccomp_data& data);

// What a call named, as an entry: `path` as read (`complete`: its NUL was found within
// kMaxRead), joined to `base` (the directory a relative path starts from: the process's cwd
// or execveat's dirfd, as /proc shows it; empty when unknown) when it is relative; an empty
// path with AT_EMPTY_PATH is `base` itself (fexecve). Pure.
std::string describe(std::string_view path, bool complete, std::string_view base,
                     bool empty_path_is_fd);

// Reads, from the process `pid` (waiting in the notified call), the path its call names and
// returns the entry for it. Every read is bounded (kMaxRead bytes, page by page with
// process_vm_readv, so an unmapped page ends the string rather than the read); an address
// that cannot be read gives "<unreadable: ...>". The caller must check that the notification
// is still valid afterwards: only then did `pid` name the waiting task throughout.
std::string read_entry(pid_t pid, const seccomp_data& data);

}  // namespace bridle::sandbox::exec_log
