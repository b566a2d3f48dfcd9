// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: a request's init kept from one request to the next, with its PID,
// user and (hiding bridle's state) mount namespaces, by a process that runs one request after
// another (a session's worker: execution::keep_inits). Starting each command from it costs no
// copy of bridle's process: the init starts it with CLONE_VM | CLONE_VFORK, in an IPC namespace
// of its own (docs/sandbox.md, "A kept init").
//
// What the per-request init guarantees, the kept one keeps:
// - Nothing of a request reaches the next: when the command has exited (or at its deadline)
//   the init kills every other process of its namespace (kill(-1, SIGKILL) from PID 1 reaches
//   them all) and reaps them, and only then reports the request done. SysV and POSIX IPC
//   objects die with the command's own IPC namespace.
// - What the next command inherits from the init (resource limits, scheduling, cgroup) and a
//   request's processes could change, as the init's uid, is read after each request; if it
//   changed, the init ends once it has reported, and the next request gets a new one.
// - Orders, never signals: bridle asks the init to pass a signal on with a message naming the
//   request; one for a request already done is dropped, so a late SIGTERM cannot reach the next
//   command. Signals the command sends the init are read and dropped.
// - The plan crosses as data: argv, environment, limits and BPF programs in a memfd, the
//   descriptors with SCM_RIGHTS. Nothing in the init points into the worker's memory.
// - bridle's end is the init's end: the control socket's hangup and PR_SET_PDEATHSIG.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/limits.hpp"

namespace bridle::execution::detail {

// How a request under a kept init ended (KeptInit's done report).
enum class KeptEnd : std::int32_t {
    kExited = 0,      // the command's wait status is reported
    kBackstop = 1,    // the init's own deadline: it ended everything
    kNotStarted = 2,  // the command could not start (its reason is on the error pipe)
};

// What the init needs of a request besides its descriptors. Encoded into a memfd.
struct KeptPlan {
    std::string path;
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::int64_t backstop_ms = 0;
    sandbox::limits::Plan limits;
    std::uint32_t umask = 022;
    bool no_new_privs = false;
    bool exec_once = false;
    bool has_stdin = false, has_landlock = false;  // which descriptors come (below)
    std::vector<sock_filter> wall, ceiling, filter;
};

// The bytes of a plan, and back: nullopt for anything that is not exactly an encoded plan.
std::string encode(const KeptPlan& plan);
std::optional<KeptPlan> decode(std::string_view bytes);

// The descriptors of a request, in the order they cross: stdout's and stderr's write ends, the
// error pipe's write end, then stdin, the Landlock ruleset and the exec-once socket, each only
// when the plan says it comes.
struct KeptFds {
    int stdout_fd = -1, stderr_fd = -1, error_fd = -1;
    int stdin_fd = -1, landlock_fd = -1, exec_once_fd = -1;
};

// The worker's side. At most one per process; only a single-threaded process may keep one
// (the init is a copy of it that allocates).
class KeptInit {
  public:
    enum class State { kRunning, kDone, kGone };

    // The process's kept init for a request with these clone flags and hidden directories:
    // the one there when it has them, else a new one (ending the other). nullptr when inits
    // are not kept (keep_inits) or one cannot start: the request then gets an init of its own.
    static KeptInit* for_request(unsigned long clone_flags, const std::vector<std::string>& hidden);
    // Ends the process's kept init, if any, and waits for it: run() calls it before a request
    // that does not use it, which then treats every child of the process as its own.
    static void retire() noexcept;
    // In a process forked from the worker (a task's supervisor): forgets the kept init without
    // ending it; it is not this process's child.
    static void forget() noexcept;

    pid_t pid() const { return pid_; }
    int fd() const { return control_; }

    // Sends a request: its number (> 0), or 0 with errno when it could not be sent (the init
    // must then be retired: the request may or may not have reached it).
    std::uint64_t start(const KeptPlan& plan, const KeptFds& fds);
    // Asks the init to send `sig` to every process of the request `call`. False: the init is
    // gone, or the message could not be sent.
    bool signal(std::uint64_t call, int sig) noexcept;
    // Non-blocking: whether `call` is done (`status` and `end` then set) or the init is gone.
    State poll(std::uint64_t call, int& status, KeptEnd& end) noexcept;
    // Blocks up to `limit` for `call` to be done. False: it was not; the caller retires the init.
    bool await(std::uint64_t call, std::chrono::milliseconds limit, int& status,
               KeptEnd& end) noexcept;

    ~KeptInit();
    KeptInit(const KeptInit&) = delete;
    KeptInit& operator=(const KeptInit&) = delete;

  private:
    KeptInit(pid_t pid, int control, unsigned long flags, const std::vector<std::string>& hidden)
        : pid_(pid), control_(control), flags_(flags), hidden_(hidden) {}
    static std::unique_ptr<KeptInit> start_init(unsigned long flags,
                                                const std::vector<std::string>& hidden);

    pid_t pid_ = -1;
    int control_ = -1;  // our end of the control socket (SOCK_SEQPACKET, close-on-exec)
    unsigned long flags_ = 0;
    std::vector<std::string> hidden_;
    std::uint64_t last_call_ = 0;
    bool ending_ = false;  // its last report said it ends: a request changed it
};

// The init's side, after its set-up (child.cpp's become_kept_init): one request at a time
// until bridle is gone. Never returns.
[[noreturn]] void run_kept_init(int control, int signals) noexcept;

}  // namespace bridle::execution::detail
