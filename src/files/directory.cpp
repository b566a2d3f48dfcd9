// SPDX-License-Identifier: Apache-2.0
// Reaching a request's directory without following a link or crossing a mount, and looking at
// (or reading, or removing) the one name in it, always through the directory's descriptor.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "files/files.hpp"
#include "os/error.hpp"

namespace bridle::files {
namespace {

constexpr std::uint64_t kNoLinks = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

Error open_failure(const std::string& directory, int err) {
    switch (err) {
        case ENOSYS:
            return Error{
                "this kernel has no openat2(2) (Linux 5.6): bridle cannot reach a file "
                "without the risk of following a link, so it reaches none",
                ""};
        case ELOOP:
        case EXDEV:
        case ENOTDIR:
            return Error{"directory \"" + directory +
                             "\" changed after it was checked: a component is now a symbolic "
                             "link, not a directory, or another mount",
                         ""};
        default:
            return Error{"directory \"" + directory + "\" cannot be opened: " + os::errno_text(err),
                         ""};
    }
}

const char* type_of(mode_t mode) {
    if (S_ISREG(mode)) return "regular file";
    if (S_ISLNK(mode)) return "symbolic link";
    if (S_ISDIR(mode)) return "directory";
    if (S_ISFIFO(mode)) return "FIFO";
    if (S_ISSOCK(mode)) return "socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "device";
    return "special file";
}

// The regular file dirfd/name, opened without following a link and without blocking on a
// FIFO swapped in; refused unless it is a regular file.
Result<os::UniqueFd> open_regular(int dirfd, const std::string& name, struct stat& st) {
    os::UniqueFd fd(
        ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ELOOP) return Error{"\"" + name + "\" is a symbolic link", ""};
        return Error{"\"" + name + "\" cannot be opened: " + os::errno_text(err), ""};
    }
    if (::fstat(fd.get(), &st) != 0) {
        return Error{"\"" + name + "\" cannot be examined: " + os::errno_text(errno), ""};
    }
    if (!S_ISREG(st.st_mode)) {
        return Error{"\"" + name + "\" is a " + type_of(st.st_mode) + ", not a regular file", ""};
    }
    return fd;
}

}  // namespace

Result<os::UniqueFd> open_directory(const std::string& root, const std::string& directory,
                                    bool lock) {
    const bool same = directory == root;
    const bool inside =
        same || root == "/" ||
        (directory.size() > root.size() && directory.compare(0, root.size(), root) == 0 &&
         directory[root.size()] == '/');
    if (!inside) return Error{"\"" + directory + "\" is not inside \"" + root + "\"", ""};
    constexpr std::uint64_t kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    os::UniqueFd top(openat2_fd(AT_FDCWD, root.c_str(), kDirFlags, kNoLinks));
    if (top.get() < 0) return open_failure(root, errno);
    os::UniqueFd dir;
    if (same) {
        dir = std::move(top);
    } else {
        const std::string relative = directory.substr(root == "/" ? 1 : root.size() + 1);
        dir.reset(openat2_fd(top.get(), relative.c_str(), kDirFlags,
                             RESOLVE_BENEATH | RESOLVE_NO_XDEV | kNoLinks));
        if (dir.get() < 0) return open_failure(directory, errno);
    }
    if (lock) {
        while (::flock(dir.get(), LOCK_EX) != 0) {
            if (errno != EINTR) {
                return Error{
                    "directory \"" + directory + "\" cannot be locked: " + os::errno_text(errno),
                    ""};
            }
        }
    }
    return dir;
}

Result<Current> examine(int dirfd, const std::string& name, bool read_content,
                        std::uint64_t max_bytes) {
    Current current;
    if (::fstatat(dirfd, name.c_str(), &current.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return current;
        return Error{"\"" + name + "\" cannot be examined: " + os::errno_text(errno), ""};
    }
    current.exists = true;
    current.type = type_of(current.st.st_mode);
    current.regular = S_ISREG(current.st.st_mode);
    if (!current.regular || !read_content) return current;
    Result<os::UniqueFd> fd = open_regular(dirfd, name, current.st);
    if (!fd) return fd.error();
    if (static_cast<std::uint64_t>(current.st.st_size) > max_bytes) {
        return Error{"\"" + name + "\" is " + std::to_string(current.st.st_size) +
                         " bytes, more than the " + std::to_string(max_bytes) +
                         " bridle keeps as a version",
                     ""};
    }
    current.content.resize(static_cast<std::size_t>(current.st.st_size));
    std::size_t got = 0;
    while (got < current.content.size()) {
        const ssize_t n =
            ::read(fd.value().get(), current.content.data() + got, current.content.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"\"" + name + "\" cannot be read: " + os::errno_text(errno), ""};
        if (n == 0) break;  // shrank while read: what was there is what is kept
        got += static_cast<std::size_t>(n);
    }
    current.content.resize(got);
    return current;
}

Result<std::uint64_t> read_range(int dirfd, const std::string& name, std::uint64_t offset,
                                 std::uint64_t limit, const ChunkSink& sink) {
    struct stat st {};
    Result<os::UniqueFd> fd = open_regular(dirfd, name, st);
    if (!fd) return fd.error();
    if (st.st_nlink > 1) {
        return Error{"\"" + name + "\" has " + std::to_string(st.st_nlink) +
                         " hard links: another name of it may lie outside the allowed "
                         "directories",
                     ""};
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::string buffer(64 * 1024, '\0');
    std::uint64_t at = offset;
    const std::uint64_t end = offset + std::min(limit, size > offset ? size - offset : 0);
    while (at < end) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - at));
        const ssize_t n = ::pread(fd.value().get(), buffer.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"\"" + name + "\" cannot be read: " + os::errno_text(errno), ""};
        if (n == 0) break;
        if (!sink(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) break;
        at += static_cast<std::uint64_t>(n);
    }
    return size;
}

Status remove(int dirfd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        return Error{"\"" + name + "\" is no longer a regular file", ""};
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0) {
        return Error{"\"" + name + "\" cannot be removed: " + os::errno_text(errno), ""};
    }
    if (::fsync(dirfd) != 0) {
        return Error{"the directory cannot be synced: " + os::errno_text(errno), ""};
    }
    return ok_status();
}

}  // namespace bridle::files
