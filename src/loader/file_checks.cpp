// SPDX-License-Identifier: Apache-2.0
// Is this policy file safe to trust? Every directory from / down is opened and fstat'ed, and
// the file is opened relative to the last one, so what we check is what we read.
#include "loader/file_checks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "os/fd.hpp"
#include "os/ownership.hpp"

namespace bridle::policy {
namespace {

constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;

using Fd = os::UniqueFd;

Error os_error(const std::string& path, int error) {
    return {"cannot open " + path + ": " + std::strerror(error), ""};
}

// Each way a user other than root could change `path` (a file or a directory on the way to
// it), in sudo's words.
std::vector<std::string> ownership_problems(const std::string& path, const struct stat& st) {
    static const std::string kWhy = ": only root may be able to change the policy";
    std::vector<std::string> problems;
    for (const std::string& problem : os::ownership_problems(st)) {
        problems.push_back(path + " " + problem + kWhy);
    }
    return problems;
}

// Strict: the first problem is the error. Relaxed: every problem becomes a warning.
Status judge_ownership(const std::string& path, const struct stat& st, bool require_safe_ownership,
                       std::vector<Error>& warnings) {
    for (std::string& problem : ownership_problems(path, st)) {
        if (require_safe_ownership) return Error{std::move(problem), ""};
        warnings.push_back({std::move(problem), ""});
    }
    return ok_status();
}

// `path` made absolute (against the working directory), split into its components.
Result<std::vector<std::string>> absolute_components(const std::string& path) {
    std::string absolute = path;
    if (path.empty() || path.front() != '/') {
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd) == nullptr) {
            return Error{"cannot resolve " + path + ": " + std::strerror(errno), ""};
        }
        absolute = std::string(cwd) + "/" + path;
    }
    std::vector<std::string> components;
    std::size_t start = 0;
    while (start <= absolute.size()) {
        std::size_t end = absolute.find('/', start);
        if (end == std::string::npos) end = absolute.size();
        if (end > start) components.push_back(absolute.substr(start, end - start));
        start = end + 1;
    }
    return components;
}

std::string join_path(const std::vector<std::string>& components, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count; ++i) path += "/" + components[i];
    return path.empty() ? "/" : path;
}

// Opens "/" and then each of the first `count` components as a directory, without following
// symbolic links (O_NOFOLLOW: a symlink is opened as itself, so O_DIRECTORY refuses it), and
// checks each one's owner and mode. Each step is relative to the fd checked before it, so a
// rename elsewhere cannot swap a directory in after its check.
Result<Fd> open_trusted_directories(const std::vector<std::string>& components, std::size_t count,
                                    bool require_safe_ownership, std::vector<Error>& warnings) {
    Fd current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (current.get() < 0) return os_error("/", errno);
    for (std::size_t i = 0;; ++i) {
        const std::string shown = join_path(components, i);
        struct stat st {};
        if (::fstat(current.get(), &st) != 0) return os_error(shown, errno);
        Status owned = judge_ownership(shown, st, require_safe_ownership, warnings);
        if (!owned) return owned.error();
        if (i == count) return current;

        Fd next(::openat(current.get(), components[i].c_str(),
                         O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0) {
            const int error = errno;
            struct stat link {};
            const std::string path = join_path(components, i + 1);
            if (error == ENOTDIR &&
                ::fstatat(current.get(), components[i].c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISLNK(link.st_mode)) {
                    return Error{path + " is a symbolic link: name the policy by its real path",
                                 ""};
                }
                return Error{path + " is not a directory", ""};
            }
            return os_error(path, error);
        }
        current = std::move(next);
    }
}

Error too_large(const std::string& shown) {
    return Error{shown + " is larger than 4 MiB: refusing to read it as a policy", ""};
}

}  // namespace

Result<TrustedFile> open_trusted_file(const std::string& path, bool require_safe_ownership,
                                      std::vector<Error>& warnings) {
    Result<std::vector<std::string>> components = absolute_components(path);
    if (!components) return components.error();
    const std::vector<std::string>& parts = components.value();
    if (path.empty() || parts.empty() || path.back() == '/')
        return Error{path + " is not a regular file", ""};

    Result<Fd> parent =
        open_trusted_directories(parts, parts.size() - 1, require_safe_ownership, warnings);
    if (!parent) return parent.error();
    const std::string shown = join_path(parts, parts.size());

    // O_NOFOLLOW: a symlink as the last component fails with ELOOP instead of being followed.
    // O_NONBLOCK: opening a FIFO someone put there must not hang; fstat refuses it next.
    Fd fd(::openat(parent.value().get(), parts.back().c_str(),
                   O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ELOOP) {
            return Error{shown +
                             " is a symbolic link: bridle does not follow symbolic links to "
                             "policy files; name the real file",
                         ""};
        }
        return os_error(shown, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return os_error(shown, errno);
    if (!S_ISREG(st.st_mode)) return Error{shown + " is not a regular file", ""};
    Status owned = judge_ownership(shown, st, require_safe_ownership, warnings);
    if (!owned) return owned.error();
    if (static_cast<std::uint64_t>(st.st_size) > kMaxPolicyBytes) return too_large(shown);
    return TrustedFile{std::move(fd), shown, static_cast<std::size_t>(st.st_size)};
}

Result<std::string> read_all(const TrustedFile& file) {
    // Read through the fd we checked, to its end: a file may hold more than its st_size
    // (procfs), and the limit still holds if it grew since the fstat.
    std::string content;
    if (::lseek(file.fd.get(), 0, SEEK_SET) != 0) return os_error(file.shown, errno);
    const os::ReadEnd end = os::read_to_end(file.fd.get(), content, file.size, kMaxPolicyBytes);
    if (end == os::ReadEnd::kEnd) return content;
    if (end == os::ReadEnd::kPastLimit) return too_large(file.shown);
    return Error{"cannot read " + file.shown + ": " + std::strerror(errno), ""};
}

Result<std::size_t> hash_all(const TrustedFile& file, Sha256& hash) {
    constexpr std::size_t kChunk = 64 * 1024;
    const std::unique_ptr<char[]> buffer(new char[kChunk]);  // not zeroed: only read into
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = ::pread(file.fd.get(), buffer.get(), kChunk, static_cast<off_t>(total));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"cannot read " + file.shown + ": " + std::strerror(errno), ""};
        if (n == 0) return total;
        total += static_cast<std::size_t>(n);
        if (total > kMaxPolicyBytes) return too_large(file.shown);
        hash.update(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    }
}

Result<std::string> read_trusted_file(const std::string& path, bool require_safe_ownership,
                                      std::vector<Error>& warnings) {
    Result<TrustedFile> file = open_trusted_file(path, require_safe_ownership, warnings);
    if (!file) return file.error();
    return read_all(file.value());
}

Status check_trusted_directory(const std::string& path, bool require_safe_ownership,
                               std::vector<Error>& warnings) {
    Result<Fd> directory = open_trusted_directory(path, require_safe_ownership, warnings);
    if (!directory) return directory.error();
    return ok_status();
}

Result<os::UniqueFd> open_trusted_directory(const std::string& path, bool require_safe_ownership,
                                            std::vector<Error>& warnings) {
    Result<std::vector<std::string>> components = absolute_components(path);
    if (!components) return components.error();
    return open_trusted_directories(components.value(), components.value().size(),
                                    require_safe_ownership, warnings);
}

}  // namespace bridle::policy
