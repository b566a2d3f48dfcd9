// SPDX-License-Identifier: Apache-2.0
// Finding and signalling this process's children, through /proc (execution/children.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "execution/children.hpp"

#include "execution/child.hpp"

namespace bridle::execution::detail {

// Parses the decimal pids in `fd` ("12 345 ") and calls fn on each.
template <class Fn>
void for_each_pid_in(int fd, Fn fn) {
    char buf[4096];
    pid_t pid = 0;
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = pid * 10 + (buf[i] - '0');
            } else if (pid > 0) {
                fn(pid);
                pid = 0;
            }
        }
    }
    if (pid > 0) fn(pid);
}

// The parent pid in /proc/PID/stat ("PID (comm) S PPID ..."; comm may hold spaces and ')').
pid_t parent_of(const char* pid_dir) {
    char path[320], buf[512];  // d_name is at most 255 bytes
    std::snprintf(path, sizeof path, "/proc/%s/stat", pid_dir);
    const os::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    const ssize_t n = fd.get() < 0 ? -1 : ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char* end_of_comm = std::strrchr(buf, ')');
    int ppid = -1;
    if (end_of_comm == nullptr || std::sscanf(end_of_comm + 1, " %*c %d", &ppid) != 1) return -1;
    return ppid;
}

}  // namespace bridle::execution::detail

namespace bridle::execution {

// Children are listed in /proc/PID/task/TID/children only with CONFIG_PROC_CHILDREN (absent
// on some kernels); without it, scan /proc for processes whose parent we are.
void for_each_child(ChildFn fn, void* context) noexcept {
    static const bool have_children_files = ::access("/proc/thread-self/children", R_OK) == 0;
    const char* dir_path = have_children_files ? "/proc/self/task" : "/proc";
    DIR* dir = ::opendir(dir_path);
    if (dir == nullptr) return;
    const pid_t self = ::getpid();
    const auto call = [fn, context](pid_t child) { fn(child, context); };
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        if (!have_children_files) {
            if (detail::parent_of(entry->d_name) == self)
                call(static_cast<pid_t>(std::atoi(entry->d_name)));
            continue;
        }
        char path[320];
        std::snprintf(path, sizeof path, "/proc/self/task/%s/children", entry->d_name);
        const os::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
        if (fd.get() >= 0) detail::for_each_pid_in(fd.get(), call);
    }
    ::closedir(dir);
}

void signal_children(int sig) noexcept {
    for_each_child([](pid_t child, void* context) { ::kill(child, *static_cast<int*>(context)); },
                   &sig);
}

std::vector<pid_t> list_children() {
    std::vector<pid_t> children;
    for_each_child(
        [](pid_t child, void* context) {
            static_cast<std::vector<pid_t>*>(context)->push_back(child);
        },
        &children);
    return children;
}

}  // namespace bridle::execution
