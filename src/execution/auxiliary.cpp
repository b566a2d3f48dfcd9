// SPDX-License-Identifier: Apache-2.0
// Auxiliary programs (auxiliary.hpp): the child's clean slate before execve, then the parent
// reads what it captures and waits.
#include "execution/auxiliary.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "execution/setup.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"

namespace bridle::execution {
namespace {

using detail::fail;
using detail::Step;

// Everything the child needs, built before fork: after it, only async-signal-safe calls.
struct AuxPlan {
    const char* path;
    char* const* argv;
    char* const* envp;
    int stdio[3];            // what becomes 0, 1 and 2; -1: bridle's own stays
    int error_fd;            // close-on-exec write end of the error pipe
    bool own_group = false;  // a process group of its own (a deadline kills the whole group)
};

[[noreturn]] void become_auxiliary(const AuxPlan& plan) noexcept {
    const int error_fd = os::above_stdio(plan.error_fd);
    if (error_fd < 0) fail(plan.error_fd, Step::kStdio);
    if (os::reset_signals() != 0) fail(error_fd, Step::kSignals);
    if (plan.own_group && ::setpgid(0, 0) != 0) fail(error_fd, Step::kSignals);
    // Every source above 2 first, so that no dup2 overwrites one that is still to be installed.
    int sources[3];
    for (int fd = 0; fd < 3; ++fd) {
        sources[fd] = plan.stdio[fd] >= 0 ? os::above_stdio(plan.stdio[fd]) : fd;
        if (sources[fd] < 0) fail(error_fd, Step::kStdio);
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (sources[fd] != fd && ::dup2(sources[fd], fd) < 0) fail(error_fd, Step::kStdio);
    }
    // The error pipe stays: execve closes it (FD_CLOEXEC), and its EOF tells the parent.
    int keep[1] = {error_fd};
    if (os::close_all_but(keep, 1) != 0) fail(error_fd, Step::kCloseFds);
    ::execve(plan.path, plan.argv, plan.envp);  // never execvp: no PATH search
    fail(error_fd, Step::kExec);
}

// Reads `from` (stdout's and stderr's pipes; -1: not captured) to EOF into `into`, at most
// `limit` bytes each. False with errno set when poll or read fails.
bool collect(const int (&from)[2], std::string* const (&into)[2], std::size_t limit,
             bool& truncated) {
    pollfd fds[2] = {{from[0], POLLIN, 0}, {from[1], POLLIN, 0}};  // poll skips fd -1
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[8192];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return false;
            if (n == 0) {
                fds[i].fd = -1;  // EOF
                continue;
            }
            const std::size_t got = static_cast<std::size_t>(n);
            const std::size_t room = limit - std::min(limit, into[i]->size());
            into[i]->append(buf, std::min(room, got));
            truncated = truncated || got > room;
        }
    }
    return true;
}

}  // namespace

Result<AuxResult> run_auxiliary(const AuxSpec& spec) {
    if (spec.path.empty() || spec.path.front() != '/') {
        return Error{
            "cannot execute " + spec.path + ": not an absolute path (bridle never searches PATH)",
            ""};
    }
    if (std::string why = detail::check_exec(spec.path, spec.argv, spec.env); !why.empty()) {
        return Error{std::move(why), ""};
    }
    const auto cannot = [&spec](const std::string& what) {
        return Error{"cannot run " + spec.path + ": " + what + ": " + os::errno_text(errno), ""};
    };
    const detail::ExecArgs args(spec.path, spec.argv, spec.env);

    // Its stdin: /dev/null, or a memfd holding the bytes (no writer to deadlock with).
    const os::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (null.get() < 0) return cannot("cannot open /dev/null");
    os::UniqueFd input;
    if (spec.stdin_bytes) {
        input.reset(::memfd_create("bridle-auxiliary-stdin", MFD_CLOEXEC));
        if (input.get() < 0 || !os::write_all(input.get(), *spec.stdin_bytes) ||
            ::lseek(input.get(), 0, SEEK_SET) != 0) {
            return cannot("cannot hold its stdin");
        }
    }
    int stdio[3] = {spec.stdin_bytes ? input.get() : null.get(), -1, -1};
    const AuxOutput outputs[2] = {spec.stdout_to, spec.stderr_to};
    os::UniqueFd read_ends[2], write_ends[2], error_read, error_write;
    for (int i = 0; i < 2; ++i) {
        if (outputs[i] == AuxOutput::kCapture && !os::make_pipe(read_ends[i], write_ends[i])) {
            return cannot("cannot create a pipe");
        }
        stdio[i + 1] = outputs[i] == AuxOutput::kCapture   ? write_ends[i].get()
                       : outputs[i] == AuxOutput::kDiscard ? null.get()
                                                           : -1;
    }
    if (!os::make_pipe(error_read, error_write)) return cannot("cannot create a pipe");

    if (spec.deadline && (outputs[0] == AuxOutput::kCapture || outputs[1] == AuxOutput::kCapture)) {
        return Error{"cannot run " + spec.path +
                         ": a deadline is for programs whose output is "
                         "not captured",
                     ""};
    }
    const AuxPlan plan{spec.path.c_str(), args.argv(),
                       args.envp(),       {stdio[0], stdio[1], stdio[2]},
                       error_write.get(), spec.deadline.has_value()};
    const pid_t pid = ::fork();
    if (pid == 0) become_auxiliary(plan);
    if (pid < 0) return cannot("fork");
    for (os::UniqueFd& end : write_ends) end.reset();
    error_write.reset();

    std::string why;
    int exec_errno = 0;
    if (!detail::await_exec(error_read.get(), pid, spec.path, why, exec_errno)) {
        return Error{why, ""};  // reaped
    }
    AuxResult result;
    const bool collected = collect({read_ends[0].get(), read_ends[1].get()},
                                   {&result.out, &result.err}, spec.max_output, result.truncated);
    const int read_errno = errno;
    if (!collected) ::kill(pid, SIGKILL);  // it might block on a full pipe forever
    int status = 0;
    pid_t waited;
    if (spec.deadline) {
        // Looked at every 10 ms until the deadline; then the whole group is killed and reaped.
        const auto until = std::chrono::steady_clock::now() + *spec.deadline;
        while ((waited = ::waitpid(pid, &status, WNOHANG)) == 0 || (waited < 0 && errno == EINTR)) {
            if (std::chrono::steady_clock::now() >= until) {
                ::kill(-pid, SIGKILL);
                ::kill(pid, SIGKILL);
                result.timed_out = true;
                while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
                }
                break;
            }
            ::usleep(10'000);
        }
    } else {
        while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
    }
    if (waited < 0) return cannot("cannot wait for it");
    errno = read_errno;
    if (!collected) return cannot("cannot read its output");
    if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    return result;
}

}  // namespace bridle::execution
