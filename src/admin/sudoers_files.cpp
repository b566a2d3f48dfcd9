// SPDX-License-Identifier: Apache-2.0
// The file-system side of `bridle sudoers` (sudoers_files.hpp): the binary sudo will run, visudo,
// and the atomic install of /etc/sudoers.d/bridle.
#include "admin/sudoers_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "admin/sudoers.hpp"
#include "common/exit_code.hpp"
#include "execution/auxiliary.hpp"
#include "os/fd.hpp"
#include "os/ownership.hpp"

namespace bridle::admin {
namespace {

constexpr const char* kVisudo = "/usr/sbin/visudo";

}  // namespace

int sudoers_error(const std::string& message) {
    std::cerr << "bridle: " << message << "\n";
    return to_int(ExitCode::kConfig);
}

// Root owns the binary and every directory above it, and no one else can write them: sudo
// will run this file as root for the agent.
Status check_trusted_binary(const std::string& path) {
    if (path.empty() || path[0] != '/' || path.find("/./") != std::string::npos ||
        path.find("/../") != std::string::npos || path.find("//") != std::string::npos) {
        return Error{"the bridle path " + path + " is not an absolute, normal path", ""};
    }
    // "/" first, then each prefix up to the file itself.
    std::size_t start = 0;
    for (bool root = true;; root = false) {
        const std::size_t slash = root ? 0 : path.find('/', start + 1);
        const std::string prefix = root                         ? "/"
                                   : slash == std::string::npos ? path
                                                                : path.substr(0, slash);
        struct stat st {};
        if (::lstat(prefix.c_str(), &st) != 0) {
            return Error{"cannot check " + prefix + ": " + std::strerror(errno), ""};
        }
        if (S_ISLNK(st.st_mode))
            return Error{prefix + " is a symbolic link: give bridle's real path", ""};
        if (!os::ownership_problems(st).empty()) {
            return Error{prefix +
                             " is not owned by root, or others can write it: sudo would run "
                             "whatever is put there",
                         ""};
        }
        if (root) continue;
        if (slash == std::string::npos) {
            if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0)
                return Error{path + " is not an executable file", ""};
            if ((st.st_mode & (S_ISUID | S_ISGID)) != 0)
                return Error{path + " is set-uid or set-gid: bridle must never be", ""};
            return ok_status();
        }
        start = slash;
    }
}

// Runs visudo with `args` (absolute path, a fixed environment); true when it exits 0. Its own
// messages go to our stderr, where the administrator sees them.
bool visudo(const std::vector<std::string>& args) {
    execution::AuxSpec spec;
    spec.path = kVisudo;
    spec.argv = {"visudo"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"LC_ALL", "C"}};
    spec.stdout_to = execution::AuxOutput::kDiscard;  // "parsed OK" lines; errors stay on stderr
    spec.stderr_to = execution::AuxOutput::kInherit;
    const Result<execution::AuxResult> ran = execution::run_auxiliary(spec);
    return ran.ok() && ran.value().succeeded();
}

// A new file in `dir` named .bridle.XXXXXX (sudo skips names with a dot), 0440 root:root when
// we are root, holding `text`. Returns its path.
Result<std::string> write_temporary(const std::string& dir, const std::string& text) {
    std::string path = dir + "/.bridle.XXXXXX";
    const int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return Error{"cannot create a file in " + dir + ": " + std::strerror(errno), ""};
    bool ok = ::fchmod(fd, 0440) == 0 && (::geteuid() != 0 || ::fchown(fd, 0, 0) == 0) &&
              os::write_all(fd, text) && ::fsync(fd) == 0;
    const int error = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
        ::unlink(path.c_str());
        return Error{"cannot write " + path + ": " + std::strerror(error), ""};
    }
    return path;
}

int install(const std::string& text) {
    if (::geteuid() != 0)
        return sudoers_error("--install needs root: it writes " + std::string(kDropIn));
    const std::string dir = "/etc/sudoers.d";
    Result<std::string> temporary = write_temporary(dir, text);
    if (!temporary) return sudoers_error(temporary.error().message);
    if (!visudo({"-c", "-f", temporary.value()})) {
        ::unlink(temporary.value().c_str());
        return sudoers_error("visudo rejected the drop-in; nothing was installed");
    }
    std::ifstream old_file(kDropIn, std::ios::binary);
    const bool had_old = old_file.good();
    std::stringstream old;
    old << old_file.rdbuf();
    // rename(2) replaces the drop-in in one step: sudo sees the old file or the new one.
    if (::rename(temporary.value().c_str(), kDropIn) != 0) {
        const int error = errno;
        ::unlink(temporary.value().c_str());
        return sudoers_error("cannot install " + std::string(kDropIn) + ": " +
                             std::strerror(error));
    }
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    // The whole configuration as sudo will read it; put the old state back if it broke.
    if (!visudo({"-c"})) {
        Result<std::string> restore =
            had_old ? write_temporary(dir, old.str()) : Result<std::string>(std::string());
        const bool restored = had_old ? (restore && ::rename(restore.value().c_str(), kDropIn) == 0)
                                      : ::unlink(kDropIn) == 0;
        return sudoers_error(
            std::string("the sudo configuration does not check with the new drop-in; ") +
            (restored ? "the previous state was restored"
                      : "restoring the previous state FAILED: check /etc/sudoers.d now"));
    }
    std::cout << "installed " << kDropIn << "\n";
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::admin
