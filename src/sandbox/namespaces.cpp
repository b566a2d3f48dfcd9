// SPDX-License-Identifier: Apache-2.0
// The request's namespaces: clone flags, the self-mapping of ids, and the probe.
#include "sandbox/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bridle::sandbox::namespaces {
namespace {

// Writes all of `text` to `path` in one write(2): the kernel takes an id map in one write.
int write_file(const char* path, const char* text, std::size_t length) noexcept {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    const ssize_t n = ::write(fd, text, length);
    const int err = errno;
    ::close(fd);
    if (n == static_cast<ssize_t>(length)) return 0;
    errno = n < 0 ? err : EIO;
    return -1;
}

// "ID ID 1\n" without snprintf (not async-signal-safe): decimal digits of `id`, twice.
std::size_t identity_map_line(unsigned long id, char* out) noexcept {
    char digits[24];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + id % 10);
        id /= 10;
    } while (id != 0);
    std::size_t length = 0;
    for (int copy = 0; copy < 2; ++copy) {
        for (std::size_t i = n; i > 0; --i) out[length++] = digits[i - 1];
        out[length++] = ' ';
    }
    out[length++] = '1';
    out[length++] = '\n';
    return length;
}

}  // namespace

unsigned long clone_flags(bool as_root, bool mount) {
    const unsigned long flags = CLONE_NEWPID | CLONE_NEWIPC | (mount ? CLONE_NEWNS : 0);
    return as_root ? flags : flags | CLONE_NEWUSER;
}

pid_t clone_process(unsigned long flags) noexcept {
    // With no new stack, the child runs on a copy of the parent's, like fork. The remaining
    // arguments (parent_tid, child_tid, tls) are unused; their order differs between
    // architectures, but all are zero.
    return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

pid_t clone_shared_until_exec(int (*entry)(void*), void* arg, unsigned long flags) noexcept {
    // The set-up before execve (signals, descriptors, the sandbox) needs a few KiB. The
    // stack's lowest page is PROT_NONE, so an overflow faults instead of writing into this
    // process's memory. One stack per process, made on first use and kept: each child is
    // done with it (exec'd or exited) before clone returns here (CLONE_VFORK).
    constexpr std::size_t kStack = 256 * 1024;
    static char* top = nullptr;
    if (top == nullptr) {
        const long page = ::sysconf(_SC_PAGESIZE);
        void* const base = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (base == MAP_FAILED) return -1;
        if (page <= 0 || ::mprotect(base, static_cast<std::size_t>(page), PROT_NONE) != 0) {
            ::munmap(base, kStack);
            return -1;
        }
        top = static_cast<char*>(base) + kStack;
    }
    return ::clone(entry, top, CLONE_VM | CLONE_VFORK | SIGCHLD | flags, arg);
}

int map_own_ids(uid_t uid, gid_t gid) noexcept {
    char line[64];
    if (write_file("/proc/self/setgroups", "deny", 4) != 0) return -1;
    std::size_t length = identity_map_line(uid, line);
    if (write_file("/proc/self/uid_map", line, length) != 0) return -1;
    length = identity_map_line(gid, line);
    return write_file("/proc/self/gid_map", line, length);
}

bool available(bool as_root, std::string& why) {
    struct Answer {
        bool known = false, ok = false;
        std::string why;
    };
    static Answer answers[2];
    Answer& answer = answers[as_root ? 1 : 0];
    if (!answer.known) {
        const pid_t child = clone_process(clone_flags(as_root));
        if (child == 0) ::_exit(0);
        if (child < 0) {
            answer.why = std::string("clone: ") + std::strerror(errno);
        } else {
            int status = 0;
            while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
            }
            answer.ok = true;
        }
        answer.known = true;
    }
    why = answer.why;
    return answer.ok;
}

std::string describe(bool applied, bool as_root, bool mount) {
    if (!applied) return "pidns=no ipcns=no userns=no";
    return std::string("pidns=yes ipcns=yes userns=") + (as_root ? "no" : "yes") +
           (mount ? " mntns=yes" : "");
}

}  // namespace bridle::sandbox::namespaces
