// SPDX-License-Identifier: Apache-2.0
// File descriptors (fd.hpp). All of it but read_to_end, which allocates, is async-signal-safe.
#include "os/fd.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bridle::os {

bool make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = EIO;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

ReadEnd read_to_end(int fd, std::string& out, std::size_t expected, std::size_t limit) {
    out.assign(std::min(expected, limit) + 1, '\0');
    std::size_t used = 0;
    while (used <= limit) {
        if (used == out.size()) out.resize(std::min(2 * used, limit + 1));
        const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            out.clear();
            errno = err;
            return ReadEnd::kFailed;
        }
        if (n == 0) {
            out.resize(used);
            return ReadEnd::kEnd;
        }
        used += static_cast<std::size_t>(n);
    }
    out.clear();
    return ReadEnd::kPastLimit;
}

int send_fd(int socket, int fd, std::string_view data) noexcept {
    iovec bytes{const_cast<char*>(data.data()), data.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    if (!data.empty()) {
        message.msg_iov = &bytes;
        message.msg_iovlen = 1;
    }
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
    ssize_t sent;
    while ((sent = ::sendmsg(socket, &message, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (sent < 0) return errno;
    return static_cast<std::size_t>(sent) == data.size() ? 0 : EMSGSIZE;
}

int above_stdio(int fd) noexcept {
    return fd > 2 ? fd : ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int close_all_but(int* keep, std::size_t count) noexcept {
    std::sort(keep, keep + count);  // a few ints: no allocation
    unsigned from = 3;
    for (std::size_t i = 0; i < count; ++i) {
        const unsigned kept = static_cast<unsigned>(keep[i]);
        if (kept > from && ::close_range(from, kept - 1, 0) != 0) return -1;
        from = std::max(from, kept + 1);
    }
    return ::close_range(from, ~0U, 0);
}

}  // namespace bridle::os
