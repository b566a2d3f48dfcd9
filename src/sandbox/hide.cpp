// SPDX-License-Identifier: Apache-2.0
// bridle's state hidden from the command (hide.hpp).
#include "sandbox/hide.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace bridle::sandbox::hide {
namespace {

bool inside(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           (dir == "/" || path[dir.size()] == '/');
}

}  // namespace

std::vector<std::string> directories(const std::vector<std::string>& candidates) {
    std::vector<std::string> found;
    for (const std::string& candidate : candidates) {
        char resolved[PATH_MAX];
        struct stat st {};
        if (candidate.empty() || candidate.front() != '/' ||
            ::realpath(candidate.c_str(), resolved) == nullptr || ::stat(resolved, &st) != 0 ||
            !S_ISDIR(st.st_mode)) {
            continue;  // nothing there to hide
        }
        found.emplace_back(resolved);
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    // A directory inside another is hidden with it (and a tmpfs over the outer one would
    // leave no mount point for it).
    std::vector<std::string> outermost;
    for (const std::string& path : found) {
        if (std::none_of(found.begin(), found.end(),
                         [&](const std::string& dir) { return inside(path, dir); })) {
            outermost.push_back(path);
        }
    }
    return outermost;
}

int apply(const std::vector<std::string>& dirs) noexcept {
    // The kernel already makes a new user namespace's copies slaves (mount_namespaces(7)); said
    // here too, so that nothing mounted below can ever propagate back to the host's mounts.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return -1;
    for (const std::string& dir : dirs) {
        if (::mount("bridle-hidden", dir.c_str(), "tmpfs",
                    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=4k,nr_inodes=2,mode=555") != 0) {
            return -1;
        }
    }
    return 0;
}

}  // namespace bridle::sandbox::hide
