// SPDX-License-Identifier: Apache-2.0
// The per-request pids cgroup of root commands: find the controller, make the group, remove it.
#include "sandbox/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace bridle::sandbox::cgroup {
namespace {

bool contains_word(const std::string& text, const std::string& word, char separator) {
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, separator);) {
        if (item == word) return true;
    }
    return false;
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

bool write_file(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

constexpr std::string_view kPrefix = "bridle-request-";

// Groups whose bridle is gone (SIGKILLed before it could remove them): empty, since their
// init's exit emptied them; rmdir refuses any that is not.
void remove_orphans(const std::string& root) {
    DIR* dir = ::opendir(root.c_str());
    if (dir == nullptr) return;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name.substr(0, kPrefix.size()) != kPrefix) continue;
        const pid_t owner = static_cast<pid_t>(std::atoi(entry->d_name + kPrefix.size()));
        if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) {
            ::rmdir((root + "/" + entry->d_name).c_str());
        }
    }
    ::closedir(dir);
}

}  // namespace

std::optional<std::string> pids_root() {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::optional<std::string> v1;
    for (std::string line; std::getline(mountinfo, line);) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        std::istringstream fields(line);
        std::string id, parent, dev, root, point, options, word;
        fields >> id >> parent >> dev >> root >> point >> options;
        while (fields >> word && word != "-") {
        }
        std::string type, source, super;
        fields >> type >> source >> super;
        if (type == "cgroup2" &&
            contains_word(first_line(point + "/cgroup.subtree_control"), "pids", ' ')) {
            return point;
        }
        if (type == "cgroup" && contains_word(super, "pids", ',') && !v1) v1 = point;
    }
    return v1;
}

std::optional<Group> Group::create(std::uint64_t max_tasks, std::string& why) {
    const std::optional<std::string> root = pids_root();
    if (!root) {
        why = "no pids cgroup controller";
        return std::nullopt;
    }
    remove_orphans(*root);
    static std::atomic<unsigned> counter{0};
    const std::string path = *root + "/" + std::string(kPrefix) + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++);
    if (::mkdir(path.c_str(), 0700) != 0) {
        why = "cannot make " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    const int fd = ::open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !write_file(path + "/pids.max", std::to_string(max_tasks))) {
        why = "cannot set up " + path + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        ::rmdir(path.c_str());
        return std::nullopt;
    }
    return Group(path, fd);
}

Group::Group(Group&& other) noexcept : path_(std::move(other.path_)), procs_fd_(other.procs_fd_) {
    other.path_.clear();
    other.procs_fd_ = -1;
}

Group& Group::operator=(Group&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        procs_fd_ = other.procs_fd_;
        other.path_.clear();
        other.procs_fd_ = -1;
    }
    return *this;
}

Group::~Group() {
    release();
}

void Group::release() noexcept {
    if (procs_fd_ >= 0) ::close(procs_fd_);
    procs_fd_ = -1;
    if (!path_.empty()) ::rmdir(path_.c_str());  // EBUSY only if a process survived: then keep it
    path_.clear();
}

}  // namespace bridle::sandbox::cgroup
