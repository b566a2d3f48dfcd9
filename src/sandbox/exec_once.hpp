// SPDX-License-Identifier: Apache-2.0
// Exec-once: after bridle's own execve of the allowed program, nothing in its process tree
// can execve or execveat anything else. The child's filter sends execve/execveat to a seccomp
// user-notification listener that bridle (the parent) holds; bridle lets the first one
// through and refuses every later one. docs/sandbox.md has the design and why it is sound.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "sandbox/exec_log.hpp"
#include "sandbox/seccomp.hpp"

struct seccomp_notif;
struct seccomp_notif_resp;

namespace bridle::sandbox::exec_once {

// The filter rows: execve and execveat notify the listener, and creating another listener is
// refused (a newer filter's listener would take precedence over bridle's for the same
// syscall, and could answer "continue"). Pure.
std::vector<seccomp::SyscallRule> filter_rules();

// Child side, async-signal-safe: pass `listener` to the parent over the Unix socket `socket`
// (SCM_RIGHTS, os::send_fd). Returns 0 or an errno value.
int send_listener(int socket, int listener) noexcept;

// Parent side: the listener the child sent, or -1 when the child closed its end without
// sending one (it failed earlier and says why on the error pipe). With SO_PASSCRED on `socket`
// (set before the child can send), `sender` is the pid of the process that sent it, as the
// kernel saw it and in our PID namespace: under a request's init that is the command, not the
// child bridle forked. -1 without credentials.
int receive_listener(int socket, pid_t* sender);

enum class FirstExec { kContinued, kRefused, kNoExec, kBroken };

// What the supervisor answers to the execs after the first: kRefuse (exec-once: EPERM, counted)
// or kLog (exec_log: let through and recorded in log()).
enum class Mode { kRefuse, kLog };

// Parent side: answers the notifications of one command's process tree.
class Supervisor {
  public:
    // Takes ownership of `listener`. `main_pid` is the process that will execve (the sender
    // of the listener).
    Supervisor(int listener, pid_t main_pid, Mode mode = Mode::kRefuse);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Waits for the main child's own execve and lets it continue (kContinued). If the first
    // notification is anything else it is refused (kRefused: the child then reports EPERM);
    // kNoExec: `status_fd` (the child's error pipe) became readable first; kBroken: bridle
    // cannot answer, and the caller must kill the child, whose execve would wait forever.
    // kLog records `program` (the rule's, which bridle itself execs) as the log's first entry.
    FirstExec allow_first_exec(int status_fd, std::string_view program = {});

    // Answers every notification that is waiting now, as the mode says: refused with EPERM
    // and counted, or read, checked still pending, recorded and let through. Call on POLLIN.
    void answer_pending();

    int fd() const { return listener_; }
    Mode mode() const { return mode_; }
    std::uint64_t blocked() const { return blocked_; }
    const exec_log::Log& log() const { return log_; }

  private:
    bool receive();
    bool respond(bool allow);
    void record_and_continue();

    int listener_ = -1;
    pid_t main_pid_ = -1;
    Mode mode_ = Mode::kRefuse;
    std::uint64_t blocked_ = 0;
    exec_log::Log log_;
    seccomp_notif* request_ = nullptr;
    seccomp_notif_resp* response_ = nullptr;
};

}  // namespace bridle::sandbox::exec_once
