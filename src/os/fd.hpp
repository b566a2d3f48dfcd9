// SPDX-License-Identifier: Apache-2.0
// File descriptors: an owning handle, pipes, whole writes, passing one over a Unix socket.
// Nothing but libc.
#pragma once

#include <unistd.h>

#include <string_view>

namespace bridle::os {

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

// A close-on-exec pipe; false with errno set (both ends left as they were).
bool make_pipe(UniqueFd& read_end, UniqueFd& write_end);

// Write all of `bytes` to `fd`, retrying on EINTR and short writes; false when the reader is
// gone (EPIPE) or the fd is broken, with errno set (EIO for a write that wrote nothing).
// Async-signal-safe.
bool write_all(int fd, std::string_view bytes);

// Sends `fd` over the Unix socket `socket` (SCM_RIGHTS) with `data` as the message's bytes
// (empty: none, e.g. for a datagram that is only the fd). MSG_NOSIGNAL, retried on EINTR.
// Returns 0, or an errno value (EMSGSIZE for a partial send). Async-signal-safe: no
// allocation, for a child between fork and execve.
int send_fd(int socket, int fd, std::string_view data) noexcept;

}  // namespace bridle::os
