// SPDX-License-Identifier: Apache-2.0
// Run one allowed command: exact environment, no shell, streamed output, timeout, and no
// process it started outliving the request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::sandbox {
struct Prepared;
}

namespace bridle::execution {

enum class Stream { kStdout, kStderr };

// Where the command's output goes. Returns false when the receiver is gone (EPIPE on the
// SSH channel, a closed session): the run then ends as "disconnected".
using OutputSink = std::function<bool(Stream, std::string_view)>;

// At most this many Spec::pass_fds: the child keeps them in a fixed array (no allocation
// after fork).
constexpr std::size_t kMaxPassFds = 16;

struct Spec {
    std::string path;                        // absolute; exec'd as is, never PATH-searched
    std::vector<std::string> argv;           // argv[0] included
    std::map<std::string, std::string> env;  // the whole environment
    bool pass_stdin = false;                 // else stdin is /dev/null
    int stdin_fd = 0;                        // used when pass_stdin
    int stdout_fd = -1;                      // >= 0: the command's stdout is this descriptor,
                                             // and nothing of it reaches the sink (set by
                                             // run_pipeline for every stage but the last)
    std::chrono::milliseconds timeout{60'000};
    std::chrono::milliseconds kill_grace{2'000};  // SIGTERM -> SIGKILL delay
    std::chrono::milliseconds idle_timeout{0};    // > 0: killed after this long without a byte
                                                  // of output (the rule's idle_timeout)
    std::uint64_t max_output = 1024 * 1024;       // per stream; past it: stop forwarding, drain
    std::vector<int> hangup_fds;                  // poll these for POLLHUP/POLLERR: the client left
    std::vector<int> pass_fds;                    // fds the command keeps, at the same numbers
                                                  // and without FD_CLOEXEC (each >= 3, at most
                                                  // kMaxPassFds); the caller owns and closes them
    const sandbox::Prepared* sandbox = nullptr;   // entered right before execve (sandbox.hpp);
                                                  // nullptr: none. Must outlive run().
    // Sees every byte the command writes, also past max_output (the audit's output capture
    // and its SHA-256). Must not throw; empty: none.
    std::function<void(Stream, std::string_view)> observe;
};

struct Outcome {
    bool started = false;  // the exec succeeded
    int exit_status = -1;  // when exited normally
    int signal = 0;        // when killed by a signal
    bool timed_out = false;
    bool idle_timed_out = false;  // killed by Spec::idle_timeout (no output for that long)
    bool disconnected = false;    // the client went away (hangup fd, SIGHUP, sink refused)
    bool stdout_truncated = false, stderr_truncated = false;
    std::uint64_t stdout_bytes = 0, stderr_bytes = 0;  // produced, including what was dropped
    std::chrono::milliseconds duration{0};
    std::string error;                // set-up failure before or at exec (errno text)
    int exec_errno = 0;               // errno of a failed execve (ENOENT -> 127, else 126)
    std::uint64_t exec_blocked = 0;   // exec-once: execve/execveat calls refused after the first
    bool exec_logged = false;         // exec_log: every execve/execveat was recorded in execs
    std::vector<std::string> execs;   // ...the path each named, in order (exec_log.hpp)
    std::uint64_t execs_dropped = 0;  // ...and those past the log's bounds, counted only
    std::string containment;          // namespaces::describe(): "pidns=yes ipcns=yes userns=yes"
    std::string supervision_error;    // trouble after the start (a descendant that would not
                                      // die, a throwing sink); the flags above still hold
};

// Fork, set up the child (fds, signals, environment, process group), exec `spec.path`, and
// supervise until the command and every descendant are gone. Blocks SIGCHLD/SIGHUP/SIGTERM/
// SIGINT/SIGPIPE in the calling thread for the duration and restores the mask afterwards.
// Makes the process a child subreaper and assumes it has no other children: every child of
// the process is treated as part of the command's tree, killed and reaped (but the process's
// kept init, keep_inits(), whose requests' processes are never this process's children).
// Never throws.
Outcome run(const Spec& spec, const OutputSink& sink);

// As run(), for a pipeline: stage i's stdout is stage i+1's stdin, a pipe bridle creates and
// keeps no end of (no shell: a stage sees EOF when the one before it is gone, SIGPIPE when the
// one after it is). The first stage's stdin is its Spec's; the last stage's stdout and every
// stage's stderr go to `sink`. The last stage's timeout, kill_grace, max_output (per stream,
// the stages' stderr together), hangup_fds and observe hold for the whole pipeline; the
// others' are not used. Each stage runs as run() runs a command: its own sandbox, its own
// init and namespaces, its own exec-once listener. If a stage cannot start, the stages
// already started are killed and nothing more starts. One Outcome per stage, in order; each
// has the pipeline's duration. Never throws.
std::vector<Outcome> run_pipeline(const std::vector<Spec>& stages, const OutputSink& sink);

// From now on run() keeps a request's init, with its namespaces, for the next request that fits
// it (a sandbox with namespaces, not as root, a single command without passed descriptors):
// each such command then starts from that init, with no copy of this process (docs/sandbox.md,
// "A kept init"). A request that does not fit ends it first. false: ends the one kept. For a
// single-threaded process that runs one request after another (a session's worker).
void keep_inits(bool keep);

}  // namespace bridle::execution
