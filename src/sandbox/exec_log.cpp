// SPDX-License-Identifier: Apache-2.0
// The exec log (exec_log.hpp): reading the path an execve/execveat names from the waiting
// process, bounded in bytes and time, and keeping the log bounded in entries and bytes.
//
// Why process_vm_readv and not /proc/PID/mem: no fd to open per exec, and a page that is not
// mapped ends the read of that page alone (the string is read page by page). The kernel
// checks ptrace access (PTRACE_MODE_ATTACH_REALCREDS): bridle runs as the command's user,
// and owns the request's user namespace (or is root), so it may read a command that has
// exec'd. The command's seccomp filter keeps userfaultfd from it (exec_log needs baseline):
// no page of its memory can make this read wait on the command.
#include "sandbox/exec_log.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/text.hpp"
#include "os/error.hpp"

namespace bridle::sandbox::exec_log {
namespace {

constexpr std::size_t kMaxLogBytes = 32 * 1024;  // all entries together, so that the record
                                                 // field stays one JSON array of bounded size

// The bytes at `address` in `pid` up to the first NUL, at most kMaxRead. `complete`: the NUL
// was found. `error`: errno of the read that ended it early.
std::string read_string(pid_t pid, std::uint64_t address, bool& complete, int& error) {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::array<char, kMaxRead> buffer{};
    std::size_t got = 0;
    complete = false;
    error = 0;
    while (got < kMaxRead) {
        const std::uint64_t at = address + got;
        if (at < address) break;  // wrapped around the address space
        const std::size_t chunk = std::min<std::size_t>(page - (at % page), kMaxRead - got);
        iovec local{buffer.data() + got, chunk};
        iovec remote{reinterpret_cast<void*>(at), chunk};
        const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0) {
            error = n < 0 ? errno : EFAULT;
            break;
        }
        const auto* nul = static_cast<const char*>(
            std::memchr(buffer.data() + got, '\0', static_cast<std::size_t>(n)));
        if (nul != nullptr) {
            complete = true;
            return std::string(buffer.data(), static_cast<std::size_t>(nul - buffer.data()));
        }
        got += static_cast<std::size_t>(n);
    }
    return std::string(buffer.data(), got);
}

// The target of /proc/PID/NAME (cwd, fd/N), or "" when it cannot be read.
std::string link_of(pid_t pid, const std::string& name) {
    const std::string proc = "/proc/" + std::to_string(pid) + "/" + name;
    std::array<char, kMaxRead> target{};
    const ssize_t n = ::readlink(proc.c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<std::size_t>(n) >= target.size()) return "";
    return std::string(target.data(), static_cast<std::size_t>(n));
}

}  // namespace

void Log::add(std::string_view path) {
    std::size_t bytes = 0;
    for (const std::string& e : entries) bytes += e.size();
    if (entries.size() >= kMaxEntries || bytes + path.size() > kMaxLogBytes) {
        ++dropped;
        return;
    }
    entries.emplace_back(path);
}

Call call_of(const seccomp_data& data) {
    const int nr = data.nr;
    if (nr == seccomp_syscall_resolve_name_arch(data.arch, "execve")) return Call::kExecve;
    if (nr == seccomp_syscall_resolve_name_arch(data.arch, "execveat")) return Call::kExecveat;
    return Call::kOther;
}

std::string describe(std::string_view path, bool complete, std::string_view base,
                     bool empty_path_is_fd) {
    std::string whole;
    if (!complete) {
        // The kernel refuses it (ENAMETOOLONG or EFAULT), unless another thread ends the string
        // meanwhile: record what was there.
        return "<unterminated> " + escape_text(path, kMaxPathBytes);
    }
    if (path.empty() && empty_path_is_fd) {
        whole = base.empty() ? std::string("<fd>") : std::string(base);
    } else if (!path.empty() && path.front() == '/') {
        whole = path;
    } else {
        whole = base.empty() ? std::string("<unknown directory>") : std::string(base);
        if (whole.back() != '/') whole += '/';
        whole += path;
    }
    return escape_text(whole, kMaxPathBytes);
}

std::string read_entry(pid_t pid, const seccomp_data& data) {
    const Call call = call_of(data);
    if (call == Call::kOther) return "<unknown call " + std::to_string(data.nr) + ">";
    const std::uint64_t address = call == Call::kExecve ? data.args[0] : data.args[1];
    bool complete = false;
    int error = 0;
    const std::string path = read_string(pid, address, complete, error);
    if (path.empty() && !complete) return "<unreadable: " + os::errno_text(error) + ">";
    // The kernel reads int arguments as their low 32 bits (execveat's dirfd and flags).
    const bool empty_path_is_fd =
        call == Call::kExecveat && (static_cast<std::uint32_t>(data.args[4]) & AT_EMPTY_PATH) != 0;
    std::string base;
    if (complete && (path.empty() || path.front() != '/')) {
        const int dirfd = call == Call::kExecveat
                              ? static_cast<int>(static_cast<std::uint32_t>(data.args[0]))
                              : AT_FDCWD;
        base = link_of(pid, dirfd == AT_FDCWD ? "cwd" : "fd/" + std::to_string(dirfd));
    }
    return describe(path, complete, base, empty_path_is_fd);
}

}  // namespace bridle::sandbox::exec_log
