// SPDX-License-Identifier: Apache-2.0
// Open a checked path without following any symbolic link, so that the file the command reads
// (through /dev/fd/N) is the file bridle checked, not whatever the name points at later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace bridle::gate {

// Descriptors bridle opened for one command; closed on destruction (every path out of the
// gate, including errors), after the command has run.
class OpenedFiles {
  public:
    OpenedFiles() = default;
    OpenedFiles(const OpenedFiles&) = delete;
    OpenedFiles& operator=(const OpenedFiles&) = delete;
    ~OpenedFiles();
    void add(int fd) { fds_.push_back(fd); }
    const std::vector<int>& fds() const { return fds_; }

  private:
    std::vector<int> fds_;
};

// What a path spec asks of the opened file.
struct OpenChecks {
    bool hard_links_allowed = false;
    std::optional<std::uint64_t> max_size;  // bytes
};

// Opens `canonical` read-only, close-on-exec, at a descriptor >= 3. `canonical` is absolute
// and has no symlink, `.` or `..` (the resolver's answer) and lies inside `under`. Every
// component is opened without following symlinks: openat2(2) beneath `under` with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (Linux 5.6), or where the
// kernel has no openat2, open_by_walk. Then the checks are made on the descriptor (fstat): a
// regular file, and one hard link unless allowed. The error's message is for the agent.
Result<int> open_confined(const std::string& canonical, const std::string& under,
                          const OpenChecks& checks);

// The fallback, exposed for tests: from "/", one openat(2) per component with O_NOFOLLOW
// (O_PATH | O_DIRECTORY for directories), so a component that is a symlink fails (ENOTDIR or
// ELOOP) instead of being followed. Same checks as open_confined.
Result<int> open_by_walk(const std::string& canonical, const OpenChecks& checks);

}  // namespace bridle::gate
