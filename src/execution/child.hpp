// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: start the command (fork, child set-up, execve) and signal our
// children, for runner.cpp.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "execution/kept_init.hpp"
#include "execution/runner.hpp"
#include "os/fd.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/exec_once.hpp"

namespace bridle::execution::detail {

// A started command: its pid (also its process group and session id) and the parent's
// non-blocking read ends of its stdout and stderr pipes.
struct Started {
    pid_t pid = -1;
    os::UniqueFd stdout_fd;
    os::UniqueFd stderr_fd;
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_once;  // with an exec-once sandbox
    // Under the request's init (`pid` is then the init's): the lifeline's write end, held
    // until the request is over, and the non-blocking read end of the init's status report.
    os::UniqueFd lifeline;
    os::UniqueFd report;
    std::optional<sandbox::cgroup::Group> cgroup;  // a root command's pids cgroup
    // Under the process's kept init (`pid` is then the init's, which outlives the request):
    // the init, and the request's number there. Its status comes from the init's report.
    KeptInit* kept = nullptr;
    std::uint64_t call = 0;
};

// Fork and exec `spec.path`. Returns a pid > 0 once execve succeeded; otherwise pid -1, with
// `outcome.error` (and `outcome.exec_errno` when execve itself failed) set and nothing left
// running. The caller blocks its supervision signals first: the child unblocks everything.
// `may_keep` (fits_kept_init): the command starts under the process's kept init
// (kept_init.hpp) where the process keeps one.
Started start_command(const Spec& spec, Outcome& outcome, bool may_keep);

// Whether `spec` may start under a kept init: a sandbox with namespaces, not as root, no
// passed descriptors, its own stdout (not a pipeline's stage).
bool fits_kept_init(const Spec& spec);

// A kept init's start (KeptInit): a clone of this process into new namespaces with
// `clone_flags` (hiding `hidden`, which must outlive the clone), which enters them as a
// request's init does and then serves requests on `control` (run_kept_init). Its pid, or -1.
pid_t clone_kept_init(unsigned long clone_flags, int control,
                      const std::vector<std::string>& hidden);

// In a kept init: the request's command, started as a request's init starts it, in an IPC
// namespace of its own. Returns once it has exec'd or failed (its reason then on the error
// pipe). Its pid, or -1 with errno.
struct KeptCommand {
    const char* path;
    char* const* argv;
    char* const* envp;
    const sandbox::Prepared* sandbox;
    KeptFds fds;
};
pid_t start_under_kept_init(const KeptCommand& command) noexcept;

}  // namespace bridle::execution::detail
