// SPDX-License-Identifier: Apache-2.0
// Landlock: probe, masks by ABI (the pattern of minijail's landlock_util.c), ruleset, restrict.
#include "sandbox/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/fd.hpp"

namespace bridle::sandbox::landlock {
namespace {

long create_ruleset(const void* attr, std::size_t size, std::uint32_t flags) {
    return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

}  // namespace

int abi_version() {
    const long abi = create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi > 0 ? static_cast<int>(abi) : 0;
}

std::uint64_t read_rights(int abi) {
    return abi >= 1 ? kReadFile | kReadDir : 0;
}

std::uint64_t write_rights(int abi) {
    if (abi < 1) return 0;
    std::uint64_t rights = kWriteFile | kRemoveDir | kRemoveFile | kMakeChar | kMakeDir | kMakeReg |
                           kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
    if (abi >= 2) rights |= kRefer;     // renames and links across directories
    if (abi >= 3) rights |= kTruncate;  // truncate(2) and O_TRUNC
    if (abi >= 5) rights |= kIoctlDev;  // ioctl on device files opened under the path
    return rights;
}

std::uint64_t execute_rights(int abi) {
    return abi >= 1 ? kExecute : 0;
}

std::uint64_t file_rights(std::uint64_t rights) {
    return rights & (kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev);
}

std::uint64_t handled_rights(const policy::LandlockRules& rules, int abi) {
    return (rules.read ? read_rights(abi) : 0) | (rules.write ? write_rights(abi) : 0) |
           (rules.execute ? execute_rights(abi) : 0);
}

Result<int> build_ruleset(const policy::LandlockRules& rules, int abi) {
    // Only handled_access_fs: the kernel reads a shorter struct as zero-extended.
    const landlock_ruleset_attr attr{handled_rights(rules, abi)};
    os::UniqueFd ruleset(static_cast<int>(create_ruleset(&attr, sizeof attr, 0)));
    if (ruleset.get() < 0) {
        return Error{std::string("cannot create the Landlock ruleset: ") + std::strerror(errno),
                     ""};
    }
    const std::pair<const std::optional<std::vector<std::string>>*, std::uint64_t> classes[] = {
        {&rules.read, read_rights(abi)},
        {&rules.write, write_rights(abi)},
        {&rules.execute, execute_rights(abi)}};
    for (const auto& [paths, rights] : classes) {
        if (!*paths) continue;
        for (const std::string& path : **paths) {
            os::UniqueFd parent(::open(path.c_str(), O_PATH | O_CLOEXEC));
            if (parent.get() < 0 && errno == ENOENT) continue;
            struct stat st {};
            if (parent.get() < 0 || ::fstat(parent.get(), &st) != 0) {
                return Error{"cannot open " + path + " for Landlock: " + std::strerror(errno), ""};
            }
            // Several rules for one path add up; a file takes only the rights files have.
            landlock_path_beneath_attr beneath{};
            beneath.allowed_access = S_ISDIR(st.st_mode) ? rights : file_rights(rights);
            beneath.parent_fd = parent.get();
            if (beneath.allowed_access != 0 &&
                ::syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH,
                          &beneath, 0) != 0) {
                return Error{
                    "cannot add " + path + " to the Landlock ruleset: " + std::strerror(errno), ""};
            }
        }
    }
    return ruleset.release();
}

int restrict_self(int ruleset_fd) noexcept {
    return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset_fd, 0));
}

}  // namespace bridle::sandbox::landlock
