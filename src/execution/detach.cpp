// SPDX-License-Identifier: Apache-2.0
// The double fork of a task's supervisor (detach.hpp).
#include "execution/detach.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "execution/kept_init.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::execution {

namespace {

// The caller is no child subreaper while it lives: otherwise the detached process would
// reparent to the caller when the middle process exits (a session's worker is one once it
// has run a command, and the next call would kill the task as an orphan of its own). It
// goes to the nearest subreaper above (the session) or to init instead. Restored at the end:
// execution::run sets it again on every run anyway.
class NoSubreaper {
  public:
    NoSubreaper() {
        int was = 0;
        if (::prctl(PR_GET_CHILD_SUBREAPER, &was) != 0) return;
        was_ = was != 0;
        ok_ = !was_ || ::prctl(PR_SET_CHILD_SUBREAPER, 0) == 0;
    }
    ~NoSubreaper() {
        if (was_) (void)::prctl(PR_SET_CHILD_SUBREAPER, 1);
    }
    NoSubreaper(const NoSubreaper&) = delete;
    NoSubreaper& operator=(const NoSubreaper&) = delete;
    bool ok() const { return ok_; }

  private:
    bool was_ = false, ok_ = false;
};

}  // namespace

Detached detach(const std::vector<int>& close_fds) {
    Detached result;
    os::UniqueFd read_end, write_end;
    if (!os::make_pipe(read_end, write_end)) {
        result.error = "cannot make a pipe: " + os::errno_text(errno);
        return result;
    }
    const NoSubreaper no_subreaper;
    if (!no_subreaper.ok()) {
        result.error = "cannot stop being a child subreaper: " + os::errno_text(errno);
        return result;
    }
    const pid_t middle = ::fork();
    if (middle < 0) {
        result.error = "cannot fork: " + os::errno_text(errno);
        return result;
    }
    if (middle == 0) {
        // The middle process: a new session (no controlling terminal, so no SIGHUP when the
        // connection's session ends), then the grandchild, then gone at once.
        read_end.reset();
        for (const int fd : close_fds) {
            if (fd > 2) ::close(fd);
        }
        // The caller's kept init is not ours (nor our child): its requests are the caller's.
        detail::KeptInit::forget();
        if (::setsid() < 0) ::_exit(1);
        const pid_t grandchild = ::fork();
        if (grandchild < 0) ::_exit(1);
        if (grandchild > 0) ::_exit(0);
        // SIG_IGN, not a handler: the runner blocks SIGHUP and reads a signalfd, and an
        // ignored signal is discarded before it could arrive there as "the client left".
        ::signal(SIGHUP, SIG_IGN);
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0) ::_exit(1);
        for (int fd = 0; fd <= 2; ++fd) {
            if (::dup2(null, fd) < 0) ::_exit(1);
        }
        ::close(null);
        const pid_t self = ::getpid();
        if (!os::write_all(write_end.get(), {reinterpret_cast<const char*>(&self), sizeof self})) {
            ::_exit(1);
        }
        result.in_child = true;
        return result;
    }
    write_end.reset();
    int status = 0;
    while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    pid_t pid = -1;
    std::size_t got = 0;
    while (got < sizeof pid) {
        const ssize_t n =
            ::read(read_end.get(), reinterpret_cast<char*>(&pid) + got, sizeof pid - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    if (got != sizeof pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        result.error = "the detached supervisor did not start";
        return result;
    }
    result.pid = pid;
    return result;
}

}  // namespace bridle::execution
