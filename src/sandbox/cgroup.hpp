// SPDX-License-Identifier: Apache-2.0
// A per-request pids cgroup, for commands that run as root: the kernel exempts root from
// RLIMIT_NPROC, so a run_as: root rule's process count is capped by the cgroup's pids.max
// instead. Only root can make one; the request's init joins it before forking the command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bridle::sandbox::cgroup {

// Where the pids controller is mounted, from /proc/self/mountinfo: a cgroup2 mount whose
// cgroup.subtree_control has pids, else a cgroup (v1) mount with the pids option. nullopt:
// none (no cgroups, or pids not enabled at the root).
std::optional<std::string> pids_root();

// One request's cgroup: made with pids.max set, joined by the init (write "0" to procs_fd),
// removed when the owner is destroyed (it is empty then: the init's exit waits for its
// namespace). A group left behind by a SIGKILLed bridle is empty; the next create() removes
// it (the group's name holds its bridle's pid).
class Group {
  public:
    // nullopt, with `why`, when there is no pids controller or the group cannot be made.
    static std::optional<Group> create(std::uint64_t max_tasks, std::string& why);

    Group(Group&& other) noexcept;
    Group& operator=(Group&& other) noexcept;
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    ~Group();

    int procs_fd() const { return procs_fd_; }  // cgroup.procs, open for writing, close-on-exec

  private:
    void release() noexcept;
    Group(std::string path, int procs_fd) : path_(std::move(path)), procs_fd_(procs_fd) {}
    std::string path_;
    int procs_fd_ = -1;
};

}  // namespace bridle::sandbox::cgroup
