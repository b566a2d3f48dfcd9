// SPDX-License-Identifier: Apache-2.0
// The kept versions of written files: STATE/versions/USER/HASH/{path, N, N.meta}. Only the
// writing user (and root) can reach a user's directory; each level is checked on its
// descriptor before it is trusted, and a content file is written whole before its meta line
// makes it a version.
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "files/files.hpp"
#include "os/accounts.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/ownership.hpp"
#include "policy/model.hpp"
#include "policy/sha256.hpp"

namespace bridle::files {
namespace {

constexpr std::uint64_t kMaxMetaBytes = 4096;

// A directory of the store: made when missing and allowed, opened without following a link,
// and refused when anyone but `owner` (or root) could change it, or, with `private_dir`, when
// anyone else could even read it.
std::string make_it(uid_t owner, const std::string& path) {
    const passwd* pw = os::user_with_uid(owner);
    return "an administrator makes it with `install -d -o " +
           (pw != nullptr ? std::string(pw->pw_name) : std::to_string(owner)) + " -m 0700 " + path +
           "`";
}

Result<os::UniqueFd> open_level(int parent, const std::string& name, const std::string& shown,
                                bool create, mode_t mode, uid_t owner, bool private_dir) {
    if (create && ::mkdirat(parent, name.c_str(), mode) != 0 && errno != EEXIST) {
        return Error{"cannot make " + shown + ": " + os::errno_text(errno), ""};
    }
    // Levels that are only passed through are opened O_PATH: `versions` (0711) may be searched,
    // not listed, by the users whose directories it holds.
    const int access = private_dir ? O_RDONLY : O_PATH;
    os::UniqueFd fd(::openat(parent, name.c_str(), access | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return Error{shown + " does not exist: " + make_it(owner, shown), ""};
        return Error{"cannot open " + shown + ": " + os::errno_text(errno), ""};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Error{"cannot examine " + shown + ": " + os::errno_text(errno), ""};
    }
    const std::vector<std::string> problems = os::ownership_problems(st, owner);
    if (!problems.empty() || (st.st_uid != owner && st.st_uid != 0)) {
        return Error{
            shown + " is not safe to keep versions in: " +
                (problems.empty() ? "owned by uid " + std::to_string(st.st_uid) : problems.front()),
            ""};
    }
    if (private_dir && (st.st_mode & 077) != 0) {
        return Error{shown + " may be read by others (mode " +
                         policy::octal_mode(st.st_mode & 0777) +
                         "): kept versions may hold secrets",
                     ""};
    }
    return fd;
}

Status write_file(int dir, const std::string& name, std::string_view bytes) {
    const std::string temp = "." + name + ".tmp";
    os::UniqueFd fd(
        ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Error{"cannot keep a version: " + os::errno_text(errno), ""};
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"cannot keep a version: " + os::errno_text(errno), ""};
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0 || ::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
        return Error{"cannot keep a version: " + os::errno_text(errno), ""};
    }
    return ok_status();
}

Result<std::string> read_small(int dir, const std::string& name, std::uint64_t max) {
    os::UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Error{"version file " + name + " cannot be read", ""};
    }
    if (static_cast<std::uint64_t>(st.st_size) > max) {
        return Error{"version file " + name + " is larger than expected", ""};
    }
    std::string text;
    if (os::read_to_end(fd.get(), text, static_cast<std::size_t>(st.st_size),
                        static_cast<std::size_t>(max)) != os::ReadEnd::kEnd ||
        text.size() != static_cast<std::size_t>(st.st_size)) {
        return Error{"version file " + name + " cannot be read", ""};
    }
    return text;
}

std::string meta_line(const Version& v) {
    std::ostringstream out;
    out << "number=" << v.number << " absent=" << (v.absent ? 1 : 0) << " size=" << v.size
        << " sha256=" << (v.sha256.empty() ? "-" : v.sha256) << " mode=" << v.mode
        << " time=" << v.time << " request=" << (v.request_id.empty() ? "-" : v.request_id) << "\n";
    return out.str();
}

std::optional<Version> parse_meta(const std::string& line) {
    std::istringstream in(line);
    Version v;
    std::string word;
    int seen = 0;
    while (in >> word) {
        const std::size_t eq = word.find('=');
        if (eq == std::string::npos) return std::nullopt;
        const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
        try {
            if (key == "number") v.number = static_cast<std::uint32_t>(std::stoul(value));
            if (key == "absent") v.absent = value == "1";
            if (key == "size") v.size = std::stoull(value);
            if (key == "sha256") v.sha256 = value == "-" ? "" : value;
            if (key == "mode") v.mode = static_cast<std::uint32_t>(std::stoul(value));
            if (key == "time") v.time = std::stoll(value);
            if (key == "request") v.request_id = value == "-" ? "" : value;
        } catch (const std::exception&) {
            return std::nullopt;
        }
        ++seen;
    }
    if (seen != 7 || v.number == 0) return std::nullopt;
    return v;
}

}  // namespace

Result<VersionStore> VersionStore::open(const std::string& state_dir, const std::string& user,
                                        const std::string& canonical, bool create) {
    const uid_t me = ::geteuid();
    // The package makes the state directory (the agent account's home); root makes it too.
    if (create && me == 0 && ::mkdir(state_dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error{"cannot make " + state_dir + ": " + os::errno_text(errno), ""};
    }
    Result<os::UniqueFd> state = open_directory(state_dir, state_dir, false);
    if (!state && ::access(state_dir.c_str(), F_OK) != 0 && errno == ENOENT) {
        return Error{state_dir + " does not exist: " + make_it(me, state_dir + "/versions/" + user),
                     ""};
    }
    if (!state) return state.error();
    struct stat st {};
    if (::fstat(state.value().get(), &st) != 0 || !os::ownership_problems(st).empty()) {
        return Error{state_dir + " is not root's alone: bridle keeps no versions there", ""};
    }
    const bool root = me == 0;
    Result<os::UniqueFd> versions = open_level(
        state.value().get(), "versions", state_dir + "/versions", create && root, 0711, 0, false);
    if (!versions) return versions.error();
    const std::string user_dir = state_dir + "/versions/" + user;
    Result<os::UniqueFd> own =
        open_level(versions.value().get(), user, user_dir, create && root, 0700, me, true);
    if (!own) return own.error();
    const std::string hash = policy::sha256_hex(canonical);
    Result<os::UniqueFd> path_dir =
        open_level(own.value().get(), hash, user_dir + "/" + hash, create, 0700, me, true);
    if (!path_dir) return path_dir.error();
    // The path's own text, for an administrator looking through the store.
    if (::faccessat(path_dir.value().get(), "path", F_OK, AT_SYMLINK_NOFOLLOW) != 0 && create) {
        if (Status s = write_file(path_dir.value().get(), "path", canonical + "\n"); !s) {
            return s.error();
        }
    }
    return VersionStore(std::move(path_dir).value());
}

std::vector<Version> VersionStore::list() const {
    std::vector<Version> out;
    const int copy = ::openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* stream = copy >= 0 ? ::fdopendir(copy) : nullptr;
    if (stream == nullptr) {
        if (copy >= 0) ::close(copy);
        return out;
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name.size() < 6 || name.compare(name.size() - 5, 5, ".meta") != 0) continue;
        const Result<std::string> line = read_small(dir_.get(), name, kMaxMetaBytes);
        if (!line) continue;
        std::optional<Version> v = parse_meta(line.value());
        if (v && name == std::to_string(v->number) + ".meta") out.push_back(*v);
    }
    ::closedir(stream);
    std::sort(out.begin(), out.end(),
              [](const Version& a, const Version& b) { return a.number < b.number; });
    return out;
}

Result<std::string> VersionStore::content(std::uint32_t number) const {
    return read_small(dir_.get(), std::to_string(number), UINT64_MAX);
}

Result<Version> VersionStore::keep(const Current& current, const std::string& sha256,
                                   const std::string& request_id, std::int64_t now) {
    const std::vector<Version> kept = list();
    Version v;
    v.number = kept.empty() ? 1 : kept.back().number + 1;
    v.absent = !current.exists;
    v.size = current.content.size();
    v.sha256 = current.exists ? sha256 : "";
    v.mode = current.exists ? static_cast<std::uint32_t>(current.st.st_mode & 0777) : 0;
    v.time = now;
    v.request_id = request_id;
    if (!v.absent) {
        if (Status s = write_file(dir_.get(), std::to_string(v.number), current.content); !s) {
            return s.error();
        }
    }
    if (Status s = write_file(dir_.get(), std::to_string(v.number) + ".meta", meta_line(v)); !s) {
        return s.error();
    }
    if (::fsync(dir_.get()) != 0)
        return Error{"cannot keep a version: " + os::errno_text(errno), ""};
    return v;
}

void VersionStore::prune(std::uint32_t count) {
    std::vector<Version> kept = list();
    while (kept.size() > count) {
        const std::string number = std::to_string(kept.front().number);
        (void)::unlinkat(dir_.get(), (number + ".meta").c_str(), 0);
        (void)::unlinkat(dir_.get(), number.c_str(), 0);
        kept.erase(kept.begin());
    }
}

}  // namespace bridle::files
