// SPDX-License-Identifier: Apache-2.0
// The request's init: PID 1 of the command's PID namespace. It holds the request together
// when bridle cannot: a SIGKILLed, stopped or crashed bridle still ends the request on time.
#include "execution/init.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace bridle::execution::detail {

std::int64_t now_ms() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1'000'000;
}

[[noreturn]] void run_init(const InitPlan& plan) noexcept {
    const std::int64_t backstop = now_ms() + plan.backstop_ms;
    for (;;) {
        // Reap first: the command may have exited before the init started to listen.
        int status = 0;
        pid_t reaped;
        while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped != plan.command) continue;
            // The status for bridle (atomic: below PIPE_BUF). The kernel ends the rest of the
            // namespace as we exit.
            while (::write(plan.report, &status, sizeof status) < 0 && errno == EINTR) {
            }
            ::_exit(0);
        }
        if (reaped < 0 && errno == ECHILD) ::_exit(kInitBroken);  // cannot happen: fail closed

        const std::int64_t left = backstop - now_ms();
        if (left <= 0) ::_exit(kInitBackstop);
        pollfd fds[2] = {{plan.signals, POLLIN, 0}, {plan.lifeline, POLLIN, 0}};
        const int ready = ::poll(fds, 2, left > INT_MAX ? INT_MAX : static_cast<int>(left));
        if (ready < 0 && errno != EINTR) ::_exit(kInitBroken);
        if (ready <= 0) continue;
        // Nobody writes to the lifeline: any event is its hangup, bridle's end.
        if (fds[1].revents != 0) ::_exit(kInitOrphaned);
        if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0) ::_exit(kInitBroken);
        signalfd_siginfo info;
        while (::read(plan.signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            const int sig = static_cast<int>(info.ssi_signo);
            // SIGTERM, SIGCONT and the rest from bridle's begin_kill(): to every process of the
            // namespace but the init (kill(2): -1 never includes the caller, and from inside
            // a PID namespace reaches only that namespace). A process of the request may send
            // the init signals too; all it can reach that way is its own request.
            if (sig != SIGCHLD) ::kill(-1, sig);
        }
    }
}

}  // namespace bridle::execution::detail
