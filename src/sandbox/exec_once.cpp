// SPDX-License-Identifier: Apache-2.0
// Exec-once through seccomp user notification (Linux 5.5 for SECCOMP_USER_NOTIF_FLAG_CONTINUE).
//
// Why answering "continue" is safe here, although seccomp_unotify(2) warns that CONTINUE
// cannot implement a policy: the warning is about deciding on syscall *arguments*, which
// the target may rewrite between the check and the continue. bridle never reads arguments.
// It continues exactly one call: the first notification, which must come from the pid it
// forked, be the native execve, and still be pending (SECCOMP_IOCTL_NOTIF_ID_VALID). At that
// moment the child is single-threaded and runs only bridle's code (set-up, then execve of
// the rule's program): no code of the command exists yet that could race for the slot.
// Everything after it is refused without looking at it. If bridle dies, the listener closes
// and the kernel fails every pending and later exec with ENOSYS: fail closed.
//
// In the exec log's mode (exec_log: true, exec-once off) every later call is let through, as
// without exec-once, after its path was read and recorded. Here bridle does read an argument,
// and a racing thread of the command can change it after the read: the log is a record of
// what each call named when bridle looked, not a policy, and continuing is no weaker than the
// sandbox without exec-once. What the log must not allow is stalling or confusing bridle: the
// read is bounded (exec_log.cpp), an answer goes only to a notification still pending after
// the read, and one call of answer_pending() handles a bounded number of notifications.
#include "sandbox/exec_once.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/text.hpp"
#include "os/fd.hpp"

namespace bridle::sandbox::exec_once {

std::vector<seccomp::SyscallRule> filter_rules() {
    using seccomp::ArgTest;
    const ArgTest set_mode_filter{0, ArgTest::Op::kMaskedEq, 0xffffffff, SECCOMP_SET_MODE_FILTER,
                                  true};
    const ArgTest new_listener{1, ArgTest::Op::kMaskedEq, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                               SECCOMP_FILTER_FLAG_NEW_LISTENER, true};
    return {
        {"execve", 0, {}, true},
        {"execveat", 0, {}, true},
        {"seccomp", EPERM, {set_mode_filter, new_listener}, false},
    };
}

int send_listener(int socket, int listener) noexcept {
    return os::send_fd(socket, listener, "L");  // one byte, which receive_listener expects
}

int receive_listener(int socket, pid_t* sender) {
    *sender = -1;
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(ucred))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t got;
    while ((got = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (got != 1) return -1;
    int fd = -1;
    for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr; h = CMSG_NXTHDR(&message, h)) {
        if (h->cmsg_level != SOL_SOCKET) continue;
        if (h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0) {
            std::memcpy(&fd, CMSG_DATA(h), sizeof(int));
        } else if (h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len == CMSG_LEN(sizeof(ucred))) {
            ucred credentials{};
            std::memcpy(&credentials, CMSG_DATA(h), sizeof credentials);
            *sender = credentials.pid;  // the kernel's, in our PID namespace
        }
    }
    // MSG_CTRUNC: more fds than one were sent, and the kernel dropped some. Never ours.
    if ((message.msg_flags & MSG_CTRUNC) != 0 && fd >= 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

Supervisor::Supervisor(int listener, pid_t main_pid, Mode mode)
    : listener_(listener), main_pid_(main_pid), mode_(mode) {
    if (seccomp_notify_alloc(&request_, &response_) != 0) {
        request_ = nullptr;
        response_ = nullptr;
    }
}

Supervisor::~Supervisor() {
    if (request_ != nullptr) seccomp_notify_free(request_, response_);
    if (listener_ >= 0) ::close(listener_);
}

bool Supervisor::receive() {
    if (request_ == nullptr) return false;
    // The kernel refuses a request buffer that is not zeroed (Linux 5.5).
    std::memset(request_, 0, sizeof *request_);
    return seccomp_notify_receive(listener_, request_) == 0;
}

bool Supervisor::respond(bool allow) {
    std::memset(response_, 0, sizeof *response_);
    response_->id = request_->id;
    if (allow) {
        response_->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        response_->error = -EPERM;
    }
    // A failure is ENOENT (the caller died or was interrupted meanwhile: nothing left to
    // answer) or, for "continue", a kernel older than 5.5 that does not know the flag.
    return seccomp_notify_respond(listener_, response_) == 0;
}

FirstExec Supervisor::allow_first_exec(int status_fd, std::string_view program) {
    if (request_ == nullptr) return FirstExec::kBroken;  // could not allocate the buffers
    for (;;) {
        pollfd fds[2] = {{listener_, POLLIN, 0}, {status_fd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return FirstExec::kBroken;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            if (!receive()) continue;  // the caller is gone already
            const bool expected = static_cast<pid_t>(request_->pid) == main_pid_ &&
                                  request_->data.nr == seccomp_syscall_resolve_name("execve") &&
                                  request_->data.arch == seccomp_arch_native();
            // Valid: still pending, so the pid above names the task that is waiting.
            const bool allow = expected && seccomp_notify_id_valid(listener_, request_->id) == 0;
            // The child is not dumpable before its execve: its memory is not readable, and
            // what it execs is bridle's own choice anyway.
            if (allow && mode_ == Mode::kLog)
                log_.add(escape_text(program, exec_log::kMaxPathBytes));
            const bool answered = respond(allow);
            if (!allow) return FirstExec::kRefused;
            return answered ? FirstExec::kContinued : FirstExec::kBroken;
        }
        if (fds[1].revents != 0 || (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            return FirstExec::kNoExec;  // the child reported a failure, or died, before execve
        }
    }
}

void Supervisor::answer_pending() {
    // Bounded, so that a listener that keeps reporting POLLIN without a request to receive
    // cannot spin here, and a flood of execs cannot keep bridle from its timers; the caller's
    // poll loop comes back.
    for (int round = 0; round < 64; ++round) {
        pollfd fd{listener_, POLLIN, 0};
        if (::poll(&fd, 1, 0) <= 0 || (fd.revents & POLLIN) == 0) return;
        if (!receive()) continue;  // the caller died meanwhile
        if (mode_ == Mode::kLog) {
            record_and_continue();
            continue;
        }
        (void)respond(false);
        ++blocked_;
    }
}

void Supervisor::record_and_continue() {
    const std::string entry =
        exec_log::read_entry(static_cast<pid_t>(request_->pid), request_->data);
    // Still pending: the task waits in this very call, so the pid named it throughout the read
    // (a pid is not reused while its task lives). Otherwise it died, and nothing will run.
    if (seccomp_notify_id_valid(listener_, request_->id) != 0) return;
    log_.add(entry);
    (void)respond(true);
}

}  // namespace bridle::sandbox::exec_once
