// SPDX-License-Identifier: Apache-2.0
// A child's set-up and its report to the parent (setup.hpp).
#include "execution/setup.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/exit_code.hpp"
#include "os/error.hpp"

namespace bridle::execution::detail {
namespace {

const char* step_name(Step step) {
    switch (step) {
        case Step::kNamespaces:
            return "enter its own user, PID and IPC namespaces";
        case Step::kHide:
            return "hide bridle's state directories in its own mount namespace";
        case Step::kCgroup:
            return "join its pids cgroup";
        case Step::kInit:
            return "start it under the request's init";
        case Step::kSignals:
            return "reset signals";
        case Step::kParentDeath:
            return "tie its life to bridle";
        case Step::kSession:
            return "start a new session";
        case Step::kStdio:
            return "set up stdin, stdout and stderr";
        case Step::kCloseFds:
            return "close inherited file descriptors";
        case Step::kDirectory:
            return "change to /";
        case Step::kCapabilities:
            return "drop CAP_SYS_PTRACE, CAP_SYS_ADMIN and CAP_PERFMON from its bounding set";
        case Step::kLimits:
            return "set its resource limits";
        case Step::kNoNewPrivs:
            return "set no_new_privs";
        case Step::kLandlock:
            return "enter its Landlock sandbox";
        case Step::kSeccomp:
            return "load its seccomp filter";
        case Step::kExecOnce:
            return "hand the exec-once listener to bridle";
        case Step::kExec:
            return "execute";
        default:
            return "set up";
    }
}

// A byte that execve would silently cut the string at.
bool has_nul(const std::string& s) {
    return s.find('\0') != std::string::npos;
}

}  // namespace

[[noreturn]] void fail(int error_fd, Step step) noexcept {
    const SetupFailure failure{step, errno};
    while (::write(error_fd, &failure, sizeof failure) < 0 && errno == EINTR) {
    }
    ::_exit(to_int(ExitCode::kSetupFailed));  // fail closed: never run half set up
}

bool await_exec(int error_fd, pid_t pid, const std::string& path, std::string& why,
                int& exec_errno) {
    // EOF: the exec closed the last write end. Blocks only for the child's set-up.
    SetupFailure failure{};
    ssize_t n;
    while ((n = ::read(error_fd, &failure, sizeof failure)) < 0 && errno == EINTR) {
    }
    if (n == 0) return true;

    // The child exits with 71 right after reporting; reap it (it started nothing). A short
    // or failed read proves nothing about the child, so kill it first.
    if (pid > 0 && n != static_cast<ssize_t>(sizeof failure)) ::kill(pid, SIGKILL);
    int status;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof failure)) {
        why = "cannot start " + path + ": set-up failed without a reason";
    } else if (failure.step == Step::kExec) {
        exec_errno = failure.err;
        why = "cannot execute " + path + ": " + os::errno_text(failure.err);
    } else {
        why = "cannot start " + path + ": could not " + step_name(failure.step) + ": " +
              os::errno_text(failure.err);
    }
    return false;
}

std::string check_exec(const std::string& path, const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env) {
    if (has_nul(path)) return "refusing to execute a path that contains a NUL byte";
    for (const std::string& arg : argv) {
        if (has_nul(arg))
            return "refusing to execute " + path + ": an argument contains a NUL byte";
    }
    for (const auto& [name, value] : env) {
        if (name.empty() || name.find('=') != std::string::npos || has_nul(name) ||
            has_nul(value)) {
            return "refusing to execute " + path + ": invalid environment variable name or value";
        }
    }
    return {};
}

ExecArgs::ExecArgs(const std::string& path, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env) {
    for (const std::string& arg : argv) argv_.push_back(const_cast<char*>(arg.c_str()));
    if (argv_.empty()) argv_.push_back(const_cast<char*>(path.c_str()));
    argv_.push_back(nullptr);
    for (const auto& [name, value] : env) env_lines_.push_back(name + "=" + value);
    for (std::string& line : env_lines_) envp_.push_back(line.data());
    envp_.push_back(nullptr);
}

}  // namespace bridle::execution::detail
