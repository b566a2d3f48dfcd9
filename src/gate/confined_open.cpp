// SPDX-License-Identifier: Apache-2.0
// Open a checked path without following any symbolic link, and check the descriptor, not the
// name: the race between bridle's check and the program's own open (issue 13, hole 2) ends here.
#include "gate/confined_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/fd.hpp"

namespace bridle::gate {
namespace {

constexpr std::uint64_t kNoLinks = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// O_NONBLOCK: a FIFO swapped in after the check must not block bridle in open(2); the fstat
// below refuses it anyway. O_NOCTTY: a terminal device never becomes ours.
constexpr int kFileFlags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

Error refusal(const std::string& canonical, const std::string& what) {
    return Error{"path \"" + canonical + "\" " + what, ""};
}

Error open_error(const std::string& canonical, int err) {
    switch (err) {
        case ELOOP:
        case ENOTDIR:
        case EXDEV:
            return refusal(canonical,
                           "changed after it was checked: a component is now a "
                           "symbolic link or leaves the allowed directory");
        case ENOENT:
            return refusal(canonical, "disappeared after it was checked");
        default:
            return refusal(canonical, std::string("cannot be opened: ") + std::strerror(err));
    }
}

// The checks of the path spec, made on what was opened; closes `fd` when they fail.
Result<int> checked(int fd, const std::string& canonical, const OpenChecks& checks) {
    struct stat st {};
    const auto fail = [fd, &canonical](const std::string& what) {
        ::close(fd);
        return refusal(canonical, what);
    };
    if (::fstat(fd, &st) != 0)
        return fail(std::string("cannot be examined: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("is not a regular file");
    if (st.st_nlink > 1 && !checks.hard_links_allowed) {
        return fail("has " + std::to_string(st.st_nlink) + " hard links");
    }
    if (checks.max_size && static_cast<std::uint64_t>(st.st_size) > *checks.max_size) {
        return fail("is larger than " + std::to_string(*checks.max_size) + " bytes");
    }
    // The command reopens /dev/fd/N itself; this descriptor only pins the file.
    if (::fcntl(fd, F_SETFL, 0) != 0) return fail("cannot be prepared");
    // Above stdio: the child installs 0-2 with dup2 and keeps passed descriptors by number.
    const int lifted = os::above_stdio(fd);
    if (lifted != fd) ::close(fd);
    if (lifted < 0) return refusal(canonical, "cannot be prepared");
    return lifted;
}

}  // namespace

OpenedFiles::~OpenedFiles() {
    for (const int fd : fds_) ::close(fd);
}

Result<int> open_by_walk(const std::string& canonical, const OpenChecks& checks) {
    if (canonical.size() < 2 || canonical.front() != '/')
        return refusal(canonical, "is not absolute");
    int dir = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return open_error(canonical, errno);
    std::size_t start = 1;
    while (true) {
        const std::size_t slash = canonical.find('/', start);
        const std::string part =
            canonical.substr(start, slash == std::string::npos ? slash : slash - start);
        if (part.empty() || part == "." || part == "..") {
            ::close(dir);
            return refusal(canonical, "is not canonical");
        }
        const bool last = slash == std::string::npos;
        // O_NOFOLLOW with O_PATH | O_DIRECTORY: a symlink here is not a directory (ENOTDIR);
        // on the last component O_NOFOLLOW gives ELOOP.
        const int next = ::openat(
            dir, part.c_str(),
            last ? kFileFlags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        const int err = errno;
        ::close(dir);
        if (next < 0) return open_error(canonical, err);
        if (last) return checked(next, canonical, checks);
        dir = next;
        start = slash + 1;
    }
}

Result<int> open_confined(const std::string& canonical, const std::string& under,
                          const OpenChecks& checks) {
    const bool inside = under == "/" || (canonical.size() > under.size() + 1 &&
                                         canonical.compare(0, under.size(), under) == 0 &&
                                         canonical[under.size()] == '/');
    if (!inside) return refusal(canonical, "is not inside " + under);
    const std::string relative = canonical.substr(under == "/" ? 1 : under.size() + 1);

    // The allowed directory itself, reached without a symlink either.
    const int dir = openat2_fd(AT_FDCWD, under.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, kNoLinks);
    if (dir < 0 && errno == ENOSYS) return open_by_walk(canonical, checks);  // before Linux 5.6
    if (dir < 0) return open_error(canonical, errno);
    const int fd = openat2_fd(dir, relative.c_str(), kFileFlags, RESOLVE_BENEATH | kNoLinks);
    const int err = errno;
    ::close(dir);
    if (fd < 0) return open_error(canonical, err);
    return checked(fd, canonical, checks);
}

}  // namespace bridle::gate
