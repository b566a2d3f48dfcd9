// SPDX-License-Identifier: Apache-2.0
// Is this policy file safe to trust? Opened once, checked through the fd.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "os/fd.hpp"
#include "policy/sha256.hpp"

namespace bridle::policy {

// Open `path` (O_RDONLY|O_NOFOLLOW|O_CLOEXEC), fstat the fd and require a regular file owned
// by root that neither group nor others can write; also require that every directory from
// / down to the file is root-owned and not group/world-writable (sticky or not), so no
// non-root user can replace it. Returns the file's contents, read through that same fd.
// When require_safe_ownership is false, ownership problems are appended to `warnings` instead.
Result<std::string> read_trusted_file(const std::string& path, bool require_safe_ownership,
                                      std::vector<Error>& warnings);

// A policy file opened and checked as read_trusted_file does, not yet read: `shown` names it
// in messages; `size` is its size when it was checked.
struct TrustedFile {
    os::UniqueFd fd;
    std::string shown;
    std::size_t size = 0;
};
Result<TrustedFile> open_trusted_file(const std::string& path, bool require_safe_ownership,
                                      std::vector<Error>& warnings);

// Its bytes from the first to the last (at most 4 MiB), read through the checked fd.
Result<std::string> read_all(const TrustedFile& file);

// The same bytes, passed to `hash` through a small buffer and not kept: their count. What a
// load from the compiled policy cache needs of a policy file, without the memory for all of it.
Result<std::size_t> hash_all(const TrustedFile& file, Sha256& hash);

// The same ownership rules for a directory (policy.d) and its ancestors.
Status check_trusted_directory(const std::string& path, bool require_safe_ownership,
                               std::vector<Error>& warnings);

// check_trusted_directory's checks, and an O_PATH descriptor of the directory they checked,
// for *at() calls relative to it (the compiled policy cache reads and writes through one).
Result<os::UniqueFd> open_trusted_directory(const std::string& path, bool require_safe_ownership,
                                            std::vector<Error>& warnings);

}  // namespace bridle::policy
