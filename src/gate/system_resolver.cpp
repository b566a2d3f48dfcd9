// SPDX-License-Identifier: Apache-2.0
// Canonicalise a client's path: every symlink followed, so a link can never lead a path out of
// the directories a rule allows. The canonical path, not the client's spelling, is exec'd.
#include "gate/system_resolver.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace bridle::gate {

std::optional<matching::PathResolver::Resolved> SystemResolver::resolve(const std::string& path,
                                                                        std::string& why) const {
    if (path.size() >= PATH_MAX) {
        why = "path is too long";
        return std::nullopt;
    }
    char buffer[PATH_MAX];
    if (::realpath(path.c_str(), buffer) == nullptr) {
        why = errno == ENOENT ? "does not exist"
                              : std::string("cannot be resolved: ") + std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::stat(buffer, &st) != 0) {
        why = std::string("cannot be examined: ") + std::strerror(errno);
        return std::nullopt;
    }
    Resolved r;
    r.canonical = buffer;
    r.is_regular = S_ISREG(st.st_mode);
    r.is_directory = S_ISDIR(st.st_mode);
    r.links = st.st_nlink;
    r.size = static_cast<std::uint64_t>(st.st_size);
    struct stat own {};
    r.final_is_symlink = ::lstat(path.c_str(), &own) == 0 && S_ISLNK(own.st_mode);
    return r;
}

// The names in `dir`, for a rule's glob; at most kMaxListed, so a huge directory costs a
// bounded time (the glob's own max is far smaller).
std::optional<std::vector<std::string>> SystemResolver::list(const std::string& dir,
                                                             std::string& why) const {
    constexpr std::size_t kMaxListed = 10000;
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
        why = std::string("cannot be listed: ") + std::strerror(errno);
        return std::nullopt;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (names.size() == kMaxListed) {
            ::closedir(stream);
            why = "has more than " + std::to_string(kMaxListed) + " entries";
            return std::nullopt;
        }
        names.push_back(name);
    }
    ::closedir(stream);
    return names;
}

}  // namespace bridle::gate
