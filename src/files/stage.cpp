// SPDX-License-Identifier: Apache-2.0
// An atomic replacement: the new content in a hidden temporary file in the target's own
// directory (so that rename(2) is atomic), owned and moded as it will be, synced; then, once
// validated and the old version kept, renamed over the target and the directory synced.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "files/files.hpp"
#include "os/error.hpp"
#include "os/random.hpp"

namespace bridle::files {
namespace {

// ".bridle-put.0123456789abcdef.NAME": hidden, so that `*` patterns (nginx's include of
// sites-enabled/*, FNM_PERIOD names) never take it for a file; the target's name last, so
// that a validator's name pattern ("*.conf") still matches.
std::string temp_name(const std::string& name) {
    const std::string hex = os::random_hex(8);
    // NAME_MAX is 255: cut a long name's front, keeping its end (the extension).
    const std::string prefix = ".bridle-put." + hex + ".";
    const std::size_t room = 255 - prefix.size();
    return prefix + (name.size() > room ? name.substr(name.size() - room) : name);
}

Status write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"cannot write the new content: " + os::errno_text(errno), ""};
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
}

}  // namespace

Staged::Staged(Staged&& other) noexcept
    : dirfd_(other.dirfd_),
      directory_(std::move(other.directory_)),
      name_(std::move(other.name_)),
      temp_(std::move(other.temp_)),
      done_(other.done_) {
    other.done_ = true;
}

Staged::~Staged() {
    if (!done_) (void)::unlinkat(dirfd_, temp_.c_str(), 0);
}

Status Staged::commit(bool target_existed) {
    // Where there was no file, none may have appeared meanwhile (a concurrent create): that
    // one is not silently replaced. Where there was one, the directory lock (open_directory)
    // keeps other bridle writers out, and the rename replaces whatever name is there: a
    // regular file, as examine() found under the same lock.
    const unsigned flags = target_existed ? 0 : RENAME_NOREPLACE;
    if (::renameat2(dirfd_, temp_.c_str(), dirfd_, name_.c_str(), flags) != 0) {
        const int err = errno;
        if (err == EEXIST) return Error{"\"" + name_ + "\" appeared while it was written", ""};
        return Error{"cannot put the new file in place: " + os::errno_text(err), ""};
    }
    done_ = true;
    if (::fsync(dirfd_) != 0) {
        return Error{
            "the file is in place, but the directory cannot be synced: " + os::errno_text(errno),
            ""};
    }
    return ok_status();
}

Result<Staged> stage(int dirfd, const std::string& directory, const std::string& name,
                     std::string_view content, const Ownership& owner) {
    const std::string temp = temp_name(name);
    // 0600 until the owner is set: nobody else reads a half-written file.
    os::UniqueFd fd(
        ::openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        return Error{
            "cannot create a temporary file in \"" + directory + "\": " + os::errno_text(errno),
            ""};
    }
    Staged staged(dirfd, directory, name, temp);  // removes the temporary file on every error
    if (Status s = write_all(fd.get(), content); !s) return s.error();
    if (::fchown(fd.get(), owner.uid, owner.gid) != 0) {
        return Error{"cannot give the file to uid " + std::to_string(owner.uid) + ", gid " +
                         std::to_string(owner.gid) + ": " + os::errno_text(errno),
                     ""};
    }
    // After fchown, which clears the set-id bits; the policy allows none anyway.
    if (::fchmod(fd.get(), static_cast<mode_t>(owner.mode)) != 0) {
        return Error{"cannot set the file's mode: " + os::errno_text(errno), ""};
    }
    if (::fsync(fd.get()) != 0) {
        return Error{"cannot sync the new content: " + os::errno_text(errno), ""};
    }
    return staged;
}

}  // namespace bridle::files
