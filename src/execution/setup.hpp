// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: what every child bridle execs shares (child.cpp's commands,
// auxiliary.cpp's programs): argv and envp built before fork, the child's set-up steps, and
// the report of the one that failed through a close-on-exec error pipe.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace bridle::execution::detail {

// A child's set-up steps, in the order become_command() (child.cpp) takes them.
enum class Step : int {
    kNamespaces,  // the init's steps (become_init), where the sandbox has namespaces
    kHide,
    kCgroup,
    kInit,
    kSignals,
    kParentDeath,
    kSession,
    kStdio,
    kCloseFds,
    kDirectory,
    kCapabilities,
    kLimits,  // sandbox::apply() from here to kExecOnce, in its order
    kNoNewPrivs,
    kLandlock,
    kSeccomp,
    kExecOnce,
    kExec
};

// What the child writes to the error pipe; 8 bytes, below PIPE_BUF, so the write is atomic.
struct SetupFailure {
    Step step;
    int err;
};

// Child side: reports `step` and errno on `error_fd` and exits 71, so that nothing ever runs
// half set up. Async-signal-safe.
[[noreturn]] void fail(int error_fd, Step step) noexcept;

// Parent side, once every write end of the error pipe but the child's is closed: blocks until
// the exec closed it (true) or the child reported a failure. Then the child is reaped (killed
// first when its report is short: that proves nothing about it) unless `pid` is -1 (not our
// child: a kept init's command), `why` says what failed, and `exec_errno` is execve's errno
// when execve itself failed.
bool await_exec(int error_fd, pid_t pid, const std::string& path, std::string& why,
                int& exec_errno);

// Why `path`, `argv` and `env` cannot be handed to execve as they are, or empty: a NUL byte
// (execve would silently cut the string there) or an invalid variable name.
std::string check_exec(const std::string& path, const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env);

// execve's argv and envp, built before fork (after it, the child must not allocate). argv
// points into `argv` (or `path`, when `argv` is empty), which must outlive the exec.
class ExecArgs {
  public:
    ExecArgs(const std::string& path, const std::vector<std::string>& argv,
             const std::map<std::string, std::string>& env);
    ExecArgs(const ExecArgs&) = delete;
    ExecArgs& operator=(const ExecArgs&) = delete;

    char* const* argv() const { return argv_.data(); }
    char* const* envp() const { return envp_.data(); }

  private:
    std::vector<std::string> env_lines_;
    std::vector<char*> argv_, envp_;
};

}  // namespace bridle::execution::detail
