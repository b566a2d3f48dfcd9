// SPDX-License-Identifier: Apache-2.0
// The file operations behind `get`, `put`, `versions` and `restore`: a directory reached
// without following links, the current file read through it, an atomic replacement staged in
// the same directory, and the kept versions. Every step works on descriptors, never on a name
// looked up twice; the caller (gate/file_gate.cpp) decides the order and audits each step.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "os/fd.hpp"

namespace bridle::files {

// The parent directory of a request's file, opened O_RDONLY | O_DIRECTORY: `root` is reached
// from / without a symlink (RESOLVE_NO_SYMLINKS), then `directory` beneath it (RESOLVE_BENEATH),
// without a symlink and without crossing a mount (RESOLVE_NO_XDEV). Both are canonical, and
// `directory` is `root` or inside it. The descriptor is also locked (flock LOCK_EX): requests
// that change files in one directory take turns, so two writes of one path never interleave.
// A kernel without openat2(2) (before Linux 5.6) is refused.
Result<os::UniqueFd> open_directory(const std::string& root, const std::string& directory,
                                    bool lock);

// What is at dirfd/name now. Anything but a regular file, or nothing, is refused by the
// caller: bridle never writes through, or replaces, a symlink, directory, device or FIFO.
struct Current {
    bool exists = false;
    bool regular = false;
    std::string type;     // "regular file", "symbolic link", "directory", ... (for messages)
    struct stat st {};    // when it exists
    std::string content;  // a regular file's bytes, when read
};

// Examines dirfd/name without following a link; reads a regular file's content when
// `read_content` (refused when larger than `max_bytes`: the version store keeps whole files).
Result<Current> examine(int dirfd, const std::string& name, bool read_content,
                        std::uint64_t max_bytes);

// Streams bytes [offset, offset + limit) of the regular file dirfd/name to `sink`; the file
// must have one link (a hard link could name a file outside the allowed directories). Returns
// the file's size.
using ChunkSink = std::function<bool(std::string_view)>;
Result<std::uint64_t> read_range(int dirfd, const std::string& name, std::uint64_t offset,
                                 std::uint64_t limit, const ChunkSink& sink);

// Who a written file belongs to, and its mode.
struct Ownership {
    uid_t uid = 0;
    gid_t gid = 0;
    std::uint32_t mode = 0644;
};

// A replacement written to a hidden temporary file beside the target and synced, not yet in
// place. Destroying it without commit() removes the temporary file.
class Staged {
  public:
    Staged(int dirfd, std::string directory, std::string name, std::string temp)
        : dirfd_(dirfd),
          directory_(std::move(directory)),
          name_(std::move(name)),
          temp_(std::move(temp)) {}
    Staged(Staged&& other) noexcept;
    Staged(const Staged&) = delete;
    Staged& operator=(const Staged&) = delete;
    Staged& operator=(Staged&&) = delete;
    ~Staged();

    // The temporary file's absolute path, for a validator.
    std::string path() const { return directory_ + "/" + temp_; }
    // Renames it over the target (RENAME_NOREPLACE when there was none: a file that appeared
    // meanwhile is not replaced), then syncs the directory.
    Status commit(bool target_existed);

  private:
    int dirfd_;
    std::string directory_, name_, temp_;
    bool done_ = false;
};

Result<Staged> stage(int dirfd, const std::string& directory, const std::string& name,
                     std::string_view content, const Ownership& owner);

// Removes dirfd/name (a regular file) and syncs the directory: `restore` of a version in which
// the file did not exist.
Status remove(int dirfd, const std::string& name);

// One kept version of a file: the content the file had before a change, or its absence.
struct Version {
    std::uint32_t number = 0;  // 1, 2, ...: increasing per path, never reused
    bool absent = false;       // the file did not exist then
    std::uint64_t size = 0;
    std::string sha256;
    std::uint32_t mode = 0;
    std::int64_t time = 0;   // when it was replaced (seconds since the epoch)
    std::string request_id;  // the request that replaced it
};

// The versions of one path, under STATE/versions/USER/HASH/ (HASH: SHA-256 of the path):
// `path` (the path's text), N (the content) and N.meta (one line: the Version's fields). The
// user's directory belongs to the writing user, mode 0700; root's is made on first use, any
// other user's by the administrator (an absent one refuses the write: nothing is lost).
class VersionStore {
  public:
    static Result<VersionStore> open(const std::string& state_dir, const std::string& user,
                                     const std::string& canonical, bool create);
    std::vector<Version> list() const;  // oldest first
    Result<std::string> content(std::uint32_t number) const;
    // Keeps `current` (its content, or its absence) as the next version.
    Result<Version> keep(const Current& current, const std::string& sha256,
                         const std::string& request_id, std::int64_t now);
    // Removes all but the newest `count`.
    void prune(std::uint32_t count);

  private:
    explicit VersionStore(os::UniqueFd dir) : dir_(std::move(dir)) {}
    os::UniqueFd dir_;
};

constexpr const char* kStateDir = "/var/lib/bridle";

}  // namespace bridle::files
