// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: start the command (fork, child set-up, execve) and signal our
// children, for runner.cpp.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "execution/runner.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/exec_once.hpp"

namespace bridle::execution::detail {

// "No such file or directory" for ENOENT; thread-safe, unlike strerror().
inline std::string errno_text(int err) {
    const char* text = ::strerrordesc_np(err);
    return text != nullptr ? text : "errno " + std::to_string(err);
}

// An owned file descriptor; closes on destruction.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// A started command: its pid (also its process group and session id) and the parent's
// non-blocking read ends of its stdout and stderr pipes.
struct Started {
    pid_t pid = -1;
    UniqueFd stdout_fd;
    UniqueFd stderr_fd;
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_once;  // with an exec-once sandbox
    // Under the request's init (`pid` is then the init's): the lifeline's write end, held
    // until the request is over, and the non-blocking read end of the init's status report.
    UniqueFd lifeline;
    UniqueFd report;
    std::optional<sandbox::cgroup::Group> cgroup;  // a root command's pids cgroup
};

// Fork and exec `spec.path`. Returns a pid > 0 once execve succeeded; otherwise pid -1, with
// `outcome.error` (and `outcome.exec_errno` when execve itself failed) set and nothing left
// running. The caller blocks its supervision signals first: the child unblocks everything.
Started start_command(const Spec& spec, Outcome& outcome);

}  // namespace bridle::execution::detail
