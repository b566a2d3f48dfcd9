// SPDX-License-Identifier: Apache-2.0
// `bridle learn`: which program a denied request named, and whether the agent's account can
// change it. A rule is never proposed for a program that the account could replace or edit.
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::admin::learning {

// Where a program's name is looked up: a fixed list, never the agent's PATH.
inline constexpr std::array<const char*, 4> kSystemDirs{"/usr/sbin", "/usr/bin", "/sbin", "/bin"};

// The account the agent's commands run as, with its groups.
struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};
// nullopt when there is no such user.
std::optional<Account> lookup_account(const std::string& name);

// A program as a rule would name it (`path`, its `command:`) and the file it is (`canonical`,
// every symbolic link resolved).
struct Program {
    std::string path;
    std::string canonical;
};

// What `typed` (a request's argv[0]) names: an absolute, lexically normal path as it is, or
// a name (no '/') looked up in kSystemDirs, in order; an executable regular file either way.
// The error says why not ("not found in /usr/sbin /usr/bin /sbin /bin").
Result<Program> resolve_program(const std::string& typed);

// Whether `account` could change what runs: the first of the program's path and canonical
// path, and every directory above each, that it owns, may write through its group or as
// anyone, or that has a POSIX ACL (not read: taken as writable). Says which and why
// ("/opt/tool is mode 0777"); nullopt when none is.
std::optional<std::string> writable_by(const Account& account, const Program& program);

}  // namespace bridle::admin::learning
