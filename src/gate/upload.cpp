// SPDX-License-Identifier: Apache-2.0
// Reading a put's content from a descriptor (the SSH channel's stdin, or sudo's on the target
// side): until EOF, at most one byte past the bound, within a deadline; and an EOF counts as
// the end of the content only while the client is still there.
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "gate/gate.hpp"
#include "os/error.hpp"

namespace bridle::gate {
namespace {

// sshd closes every descriptor of the session at once when the connection is lost, so the
// channel's stdin reads EOF just as its stdout and stderr hang up. A moment after the EOF, a
// hangup on those says that the EOF was the connection's end, not the client's.
constexpr int kSettleMs = 50;

bool hung_up(const std::vector<int>& fds) {
    if (fds.empty()) return false;
    std::vector<pollfd> polled;
    for (const int fd : fds) polled.push_back({fd, 0, 0});
    ::poll(polled.data(), polled.size(), kSettleMs);
    for (const pollfd& p : polled) {
        if ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return true;
    }
    return false;
}

}  // namespace

Upload read_upload(int fd, std::uint64_t max_bytes, std::chrono::milliseconds timeout,
                   const std::vector<int>& hangup_fds) {
    Upload upload;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buffer(64 * 1024, '\0');
    while (upload.bytes.size() <= max_bytes) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            upload.problem =
                "no end of the content within " + std::to_string(timeout.count()) + " ms";
            return upload;
        }
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) {
            upload.problem = "cannot wait for the content: " + os::errno_text(errno);
            return upload;
        }
        if (ready <= 0) continue;
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(buffer.size(), max_bytes + 1 - upload.bytes.size()));
        const ssize_t n = ::read(fd, buffer.data(), want);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) {
            upload.problem = "cannot read the content: " + os::errno_text(errno);
            return upload;
        }
        if (n == 0) {
            if (hung_up(hangup_fds)) {
                upload.problem = "the connection closed";
            } else {
                upload.complete = true;
            }
            return upload;
        }
        upload.bytes.append(buffer.data(), static_cast<std::size_t>(n));
    }
    upload.problem = "more than " + std::to_string(max_bytes) + " bytes";
    return upload;
}

}  // namespace bridle::gate
