// SPDX-License-Identifier: Apache-2.0
#include "os/ownership.hpp"

#include <cstdio>

namespace bridle::os {
namespace {

std::string octal_mode(mode_t mode) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
    return buffer;
}

}  // namespace

std::vector<std::string> ownership_problems(const struct stat& st, uid_t also_trusted) {
    std::vector<std::string> problems;
    if (st.st_uid != 0 && st.st_uid != also_trusted) {
        problems.push_back("is owned by uid " + std::to_string(st.st_uid) + ", not root");
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        problems.push_back("is writable by others (mode " + octal_mode(st.st_mode) + ")");
    } else if ((st.st_mode & S_IWGRP) != 0) {
        problems.push_back("is writable by group " + std::to_string(st.st_gid) + " (mode " +
                           octal_mode(st.st_mode) + ")");
    }
    return problems;
}

}  // namespace bridle::os
