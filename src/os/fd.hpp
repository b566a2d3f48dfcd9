// SPDX-License-Identifier: Apache-2.0
// File descriptors: an owning handle, pipes, whole reads and writes, passing one over a Unix
// socket, and the fd steps of a child between fork and execve. Nothing but libc.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <string>
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

// How read_to_end ended.
enum class ReadEnd {
    kEnd,        // at the end of the file: all of it is in `out`
    kPastLimit,  // the file holds more than `limit` bytes (`out` is emptied)
    kFailed,     // a read failed, errno set (`out` is emptied)
};

// Reads `fd` from where it is to its end into `out`, at most `limit` (< SIZE_MAX) bytes,
// retrying EINTR.
// `expected` (a file's st_size, or a guess) sizes `out` once, one byte over, so that a file
// that did not change is read into it without growing it, and one that grew is still read to
// its end. No stack buffer: the hardened build zeroes one on every call. Callers judge the size
// read against what they stat'ed: some files may grow (procfs), others must not have changed.
ReadEnd read_to_end(int fd, std::string& out, std::size_t expected, std::size_t limit);

// Sends `fd` over the Unix socket `socket` (SCM_RIGHTS) with `data` as the message's bytes
// (empty: none, e.g. for a datagram that is only the fd). MSG_NOSIGNAL, retried on EINTR.
// Returns 0, or an errno value (EMSGSIZE for a partial send). Async-signal-safe: no
// allocation, for a child between fork and execve.
int send_fd(int socket, int fd, std::string_view data) noexcept;

// `fd` itself when it is above 2, else a close-on-exec duplicate above 2 (-1, errno set):
// installing stdio with dup2 then cannot overwrite it. When bridle itself was started with
// 0-2 closed, pipe2/open hand out 0-2. Async-signal-safe.
int above_stdio(int fd) noexcept;

// Closes every fd from 3 up except those in keep[0..count) (each >= 3; sorted in place).
// 0, or -1 with errno set. close_range: Linux 5.9. Async-signal-safe.
int close_all_but(int* keep, std::size_t count) noexcept;

}  // namespace bridle::os
