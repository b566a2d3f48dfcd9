// SPDX-License-Identifier: Apache-2.0
// The program of a denied request and what its account may write, from stat(2) alone: the
// account is not the one running `bridle learn` (root, usually), so access(2) cannot answer.
#include "admin/learn_program.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "common/text.hpp"
#include "os/accounts.hpp"

namespace bridle::admin::learning {
namespace {

// No empty, "." or ".." component and no trailing '/'.
bool is_normal_absolute(const std::string& path) {
    if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
    for (std::size_t start = 1; start <= path.size();) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view part(path.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// Why `account` may write the object at `path` (not followed if a symlink: a link's own
// mode means nothing, and the directory holding it is checked as well), or "".
std::string why_writable(const Account& account, const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "";
    if (S_ISLNK(st.st_mode)) return "";
    const std::string shown = quote_text(path, 200);
    if (st.st_uid == account.uid) return shown + " is owned by " + account.name;
    if ((st.st_mode & S_IWOTH) != 0)
        return shown + " is writable by anyone (mode " + mode_text(st.st_mode) + ")";
    const bool member =
        std::find(account.groups.begin(), account.groups.end(), st.st_gid) != account.groups.end();
    if ((st.st_mode & S_IWGRP) != 0 && member) {
        return shown + " is writable by its group " + std::to_string(st.st_gid) + " (mode " +
               mode_text(st.st_mode) + "), which " + account.name + " is in";
    }
    if (::lgetxattr(path.c_str(), "system.posix_acl_access", nullptr, 0) >= 0) {
        return shown + " has a POSIX ACL";
    }
    return "";
}

// `path` and every directory above it, from the top.
std::vector<std::string> chain(const std::string& path) {
    std::vector<std::string> out{"/"};
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        out.push_back(path.substr(0, slash));
    }
    if (path != "/") out.push_back(path);
    return out;
}

}  // namespace

std::optional<Account> lookup_account(const std::string& name) {
    const passwd* pw = os::user_named(name);
    if (pw == nullptr) return std::nullopt;
    Account account{name, pw->pw_uid, pw->pw_gid, {}};
    int count = 64;
    for (int attempt = 0; attempt < 4; ++attempt) {
        account.groups.resize(static_cast<std::size_t>(count));
        if (os::group_list(name, pw->pw_gid, account.groups.data(), &count) >= 0) {
            account.groups.resize(static_cast<std::size_t>(count));
            return account;
        }
    }
    // A user in more groups than getgrouplist would report: none of them is trusted.
    return std::nullopt;
}

Result<Program> resolve_program(const std::string& typed) {
    std::string path;
    if (!typed.empty() && typed[0] == '/') {
        if (!is_normal_absolute(typed)) {
            return Error{quote_text(typed, 200) + " is not a lexically normal absolute path", ""};
        }
        if (!is_executable_file(typed)) {
            return Error{quote_text(typed, 200) + " is not an executable file here", ""};
        }
        path = typed;
    } else {
        if (typed.empty() || typed.find('/') != std::string::npos || typed == "." ||
            typed == "..") {
            return Error{quote_text(typed, 200) + " is not a program name", ""};
        }
        for (const char* dir : kSystemDirs) {
            const std::string candidate = std::string(dir) + "/" + typed;
            if (is_executable_file(candidate)) {
                path = candidate;
                break;
            }
        }
        if (path.empty()) {
            std::string dirs;
            for (const char* dir : kSystemDirs) dirs += std::string(dirs.empty() ? "" : " ") + dir;
            return Error{"not found in " + dirs, ""};
        }
    }
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
        return Error{"cannot resolve " + quote_text(path, 200), ""};
    }
    return Program{path, resolved};
}

std::optional<std::string> writable_by(const Account& account, const Program& program) {
    for (const std::string& path : {program.path, program.canonical}) {
        for (const std::string& step : chain(path)) {
            const std::string why = why_writable(account, step);
            if (!why.empty()) return why;
        }
    }
    return std::nullopt;
}

}  // namespace bridle::admin::learning
