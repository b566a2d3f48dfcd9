// SPDX-License-Identifier: Apache-2.0
// Supervise one command: stream its output, enforce the timeout, notice a departed client,
// and make sure that nothing it started outlives the request.
#include "execution/runner.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

#include "execution/child.hpp"
#include "execution/children.hpp"
#include "execution/init.hpp"
#include "os/error.hpp"

namespace bridle::execution {
namespace {

using Clock = std::chrono::steady_clock;
using os::errno_text;
using os::UniqueFd;
using std::chrono::milliseconds;

constexpr std::size_t kChunk = 64 * 1024;
constexpr milliseconds kDisconnectGrace{1000};  // a departed client does not wait long
constexpr milliseconds kReapLimit{2000};        // for descendants that will not die (D state)
constexpr milliseconds kDrainLimit{1000};       // for pipes someone outside the tree still holds
constexpr milliseconds kMaxPollWait{1000};      // re-check the child even if a SIGCHLD is lost
constexpr milliseconds kLongest{std::chrono::hours(24 * 366)};  // keeps time_point math finite

// Blocks the signals that supervision handles in the calling thread and reads them from a
// signalfd. On destruction it consumes what is still pending (SIGPIPE from a dead channel,
// a SIGHUP already acted on) before restoring the old mask: otherwise the default action
// would kill bridle before it writes the result record (DESIGN.md invariant 4).
class SignalWatch {
  public:
    SignalWatch() {
        ::sigemptyset(&set_);
        for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGPIPE}) ::sigaddset(&set_, sig);
        error_ = ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
        if (error_ != 0) return;
        blocked_ = true;
        fd_.reset(::signalfd(-1, &set_, SFD_NONBLOCK | SFD_CLOEXEC));
        if (fd_.get() < 0) error_ = errno;
    }
    ~SignalWatch() {
        signalfd_siginfo info;
        while (fd_.get() >= 0 && ::read(fd_.get(), &info, sizeof info) == sizeof info) {
        }
        fd_.reset();
        if (blocked_) ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

    int fd() const { return fd_.get(); }
    int error() const { return error_; }

  private:
    sigset_t set_{}, old_{};
    bool blocked_ = false;
    int error_ = 0;
    UniqueFd fd_;
};

// Watches one started command to the end. run() assumes the calling process has no other
// children (true for the forced-command front end): supervision kills and reaps every child
// of this process, since orphaned descendants of the command reparent to us as subreaper
// and are indistinguishable from other children.
class Supervisor {
  public:
    Supervisor(const Spec& spec, const OutputSink& sink, Outcome& outcome, detail::Started& child,
               int signal_fd, Clock::time_point start)
        : spec_(spec),
          sink_(sink),
          outcome_(outcome),
          pid_(child.pid),
          signal_fd_(signal_fd),
          grace_(std::clamp(spec.kill_grace, milliseconds(0), kLongest)),
          deadline_(start + std::clamp(spec.timeout, milliseconds(0), kLongest)),
          buffer_(kChunk) {
        outputs_[0] = {std::move(child.stdout_fd), Stream::kStdout, &outcome.stdout_bytes,
                       &outcome.stdout_truncated, 0};
        outputs_[1] = {std::move(child.stderr_fd), Stream::kStderr, &outcome.stderr_bytes,
                       &outcome.stderr_truncated, 0};
        // Readable once the child exits, even if another thread ate the SIGCHLD. Linux 5.3;
        // without it, SIGCHLD and the poll cap do the job. (A raw syscall: bookworm's
        // <sys/pidfd.h> lacks extern "C".)
        pid_fd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
        exec_once_ = std::move(child.exec_once);
        watch_exec_once_ = exec_once_ != nullptr;
        lifeline_ = std::move(child.lifeline);
        report_ = std::move(child.report);
        cgroup_ = std::move(child.cgroup);
    }

    // Normally a no-op. If an exception left supervise() early, still keep invariant 5.
    ~Supervisor() {
        if (finished_) return;
        if (!main_exited_) {
            signal_tree(SIGKILL);
            siginfo_t info{};
            while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 &&
                   errno == EINTR) {
            }
            main_exited_ = true;
        }
        reap_everything();
    }
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    void supervise() {
        std::vector<pollfd> fds;
        fds.reserve(5 + spec_.hangup_fds.size());
        constexpr std::size_t kExecOnce = 4, kFirstHangup = 5;
        while (!main_exited_) {
            fds.clear();
            fds.push_back({outputs_[0].fd.get(), POLLIN, 0});
            fds.push_back({outputs_[1].fd.get(), POLLIN, 0});
            fds.push_back({signal_fd_, POLLIN, 0});
            fds.push_back({pid_fd_.get(), POLLIN, 0});
            // Exec-once: a process of the tree waits in execve for an answer (always "no").
            fds.push_back({watch_exec_once_ ? exec_once_->fd() : -1, POLLIN, 0});
            // events 0: poll still reports POLLHUP/POLLERR/POLLNVAL, i.e. the client left.
            if (watch_hangups_) {
                for (int fd : spec_.hangup_fds) fds.push_back({fd, 0, 0});
            }
            const int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms());
            if (ready < 0 && errno != EINTR) {
                note("poll failed: " + errno_text(errno) + "; killed the command");
                signal_tree(SIGKILL);
                siginfo_t info{};
                while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 &&
                       errno == EINTR) {
                }
                record_exit(info);
                break;
            }
            for (std::size_t i = 0; ready > 0 && i < 2; ++i) {
                if (fds[i].revents != 0) read_output(outputs_[i]);
            }
            if (ready > 0 && fds[2].revents != 0) handle_signals();
            if (ready > 0 && fds[kExecOnce].revents != 0) refuse_execs(fds[kExecOnce].revents);
            for (std::size_t i = kFirstHangup; ready > 0 && i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                    disconnect();
                    break;
                }
            }
            check_timers();
            check_main_exit();
        }
        reap_everything();
        drain_outputs();
        finished_ = true;
    }

  private:
    enum class Phase { kRunning, kTerminating, kKilled };
    struct Output {
        UniqueFd fd;
        Stream stream = Stream::kStdout;
        std::uint64_t* bytes = nullptr;  // into outcome_
        bool* truncated = nullptr;
        std::uint64_t forwarded = 0;
    };

    void note(const std::string& text) noexcept {
        try {
            if (!outcome_.supervision_error.empty()) outcome_.supervision_error += "; ";
            outcome_.supervision_error += text;
        } catch (...) {  // out of memory: the outcome flags still tell the story
        }
    }

    int poll_timeout_ms() const {
        const Clock::time_point now = Clock::now();
        Clock::duration wait = kMaxPollWait;
        if (phase_ == Phase::kRunning) wait = std::min(wait, deadline_ - now);
        if (phase_ == Phase::kTerminating) wait = std::min(wait, kill_at_ - now);
        return wait <= Clock::duration::zero()
                   ? 0
                   : static_cast<int>(std::chrono::ceil<milliseconds>(wait).count());
    }

    void read_output(Output& out) {
        const ssize_t n = ::read(out.fd.get(), buffer_.data(), buffer_.size());
        if (n > 0) {
            account(out, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            out.fd.reset();  // EOF: every holder of the write end has closed it
        }
    }

    // Counts every byte; forwards up to max_output per stream, drops the rest but keeps
    // reading, so the command never blocks on a full pipe.
    void account(Output& out, std::size_t n) {
        *out.bytes += n;
        if (spec_.observe) {
            try {
                spec_.observe(out.stream, std::string_view(buffer_.data(), n));
            } catch (...) {  // an observer that throws loses its view, never the command
                note("the output observer threw");
            }
        }
        const std::uint64_t room = spec_.max_output - std::min(spec_.max_output, out.forwarded);
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, room));
        if (take < n) *out.truncated = true;
        if (take == 0 || !sink_open_) return;
        out.forwarded += take;
        if (!deliver(out.stream, std::string_view(buffer_.data(), take))) {
            sink_open_ = false;
            disconnect();
        }
    }

    bool deliver(Stream stream, std::string_view bytes) {
        if (!sink_) return true;  // no receiver: discard
        try {
            return sink_(stream, bytes);
        } catch (...) {  // a throwing sink must not leave the command running unsupervised
            note("the output sink threw; treated as a disconnect");
            return false;
        }
    }

    // Every exec after the first is refused and counted. POLLHUP: no process of the tree is
    // left under the filter, so nothing more can come.
    void refuse_execs(short revents) {
        if ((revents & POLLIN) != 0) exec_once_->refuse_pending();
        if ((revents & POLLIN) == 0 && (revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            watch_exec_once_ = false;
        }
        outcome_.exec_blocked = exec_once_->blocked();
    }

    void handle_signals() {
        signalfd_siginfo info;
        bool departed = false;
        while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
            const int sig = static_cast<int>(info.ssi_signo);
            departed = departed || sig == SIGHUP || sig == SIGTERM || sig == SIGINT;
            // SIGCHLD: check_main_exit() runs every round. SIGPIPE: the sink sees EPIPE.
        }
        if (departed) disconnect();
    }

    void disconnect() {
        outcome_.disconnected = true;
        watch_hangups_ = false;  // the hangup stays reported; polling it again would spin
        begin_kill(std::min(grace_, kDisconnectGrace));
    }

    // SIGTERM now, SIGKILL after `grace` (check_timers); a second reason can only shorten it.
    void begin_kill(milliseconds grace) {
        const Clock::time_point now = Clock::now();
        if (phase_ == Phase::kRunning) {
            signal_tree(SIGTERM);
            signal_tree(SIGCONT);  // a stopped process acts on SIGTERM only once continued
            phase_ = Phase::kTerminating;
            kill_at_ = now + grace;
        } else if (phase_ == Phase::kTerminating) {
            kill_at_ = std::min(kill_at_, now + grace);
        }
    }

    void check_timers() {
        const Clock::time_point now = Clock::now();
        if (phase_ == Phase::kRunning && now >= deadline_) {
            outcome_.timed_out = true;
            begin_kill(grace_);
        }
        if (phase_ == Phase::kTerminating && now >= kill_at_) {
            signal_tree(SIGKILL);
            phase_ = Phase::kKilled;
        }
    }

    // The command's process group, plus our direct children: descendants that left the group
    // (setsid/setpgid) are reached once their parent dies and they reparent to us.
    void signal_tree(int sig) noexcept {
        // The group id is the main child's pid, which stays reserved until we reap it.
        if (!main_reaped_) ::kill(-pid_, sig);
        signal_children(sig);
    }

    void record_exit(const siginfo_t& info) {
        main_exited_ = true;
        if (report_.get() >= 0) return record_init_exit(info);
        if (info.si_code == CLD_EXITED) {
            outcome_.exit_status = info.si_status;
        } else if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
            outcome_.signal = info.si_status;
        }
    }

    // Under the request's init, `info` is the init's: the command's status is what the init
    // reported before it exited. Without a report the init was killed (by us, after the
    // grace: SIGKILL, as the command would have been) or ended the request itself.
    void record_init_exit(const siginfo_t& info) {
        int status = 0;
        if (::read(report_.get(), &status, sizeof status) == static_cast<ssize_t>(sizeof status)) {
            if (WIFEXITED(status)) outcome_.exit_status = WEXITSTATUS(status);
            if (WIFSIGNALED(status)) outcome_.signal = WTERMSIG(status);
            return;
        }
        if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
            outcome_.signal = info.si_status;
        } else if (info.si_code == CLD_EXITED && info.si_status == detail::kInitBackstop) {
            outcome_.timed_out = true;
            outcome_.signal = SIGKILL;
            note("the request's init ended it at its own deadline (bridle did not)");
        } else {
            outcome_.signal = SIGKILL;
            note("the request's init ended without the command's status (" +
                 std::to_string(info.si_status) + ")");
        }
    }

    // WNOWAIT: leave the main child a zombie for now, so that its pid, which is also the
    // process group id, cannot be reused before reap_everything() kills the group.
    void check_main_exit() {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid_) {
            record_exit(info);
        }
    }

    // Kills whatever remains of the tree and reaps it, level by level: each round kills our
    // children, whose own children then reparent to us (subreaper) for the next round. Ends
    // when waitpid reports ECHILD, or gives up after kReapLimit.
    void reap_everything() noexcept {
        ::kill(-pid_, SIGKILL);
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        main_reaped_ = true;
        const Clock::time_point give_up = Clock::now() + kReapLimit;
        for (;;) {
            signal_children(SIGKILL);
            pid_t reaped;
            while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
            }
            if (reaped < 0 && errno == ECHILD) return;
            if (Clock::now() >= give_up) {
                note("descendants of the command did not die within 2 s of SIGKILL");
                return;
            }
            pollfd sigchld{signal_fd_, POLLIN, 0};  // wait for the next SIGCHLD, briefly
            if (::poll(&sigchld, 1, 20) > 0) {
                signalfd_siginfo info;
                while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
                    const int sig = static_cast<int>(info.ssi_signo);
                    if (sig == SIGHUP || sig == SIGTERM || sig == SIGINT)
                        outcome_.disconnected = true;
                }
            }
        }
    }

    // Every writer is dead now, so the pipes reach EOF after what they buffer, unless the
    // command passed a write end to a process outside its tree (SCM_RIGHTS): bounded.
    void drain_outputs() {
        const Clock::time_point give_up = Clock::now() + kDrainLimit;
        while (outputs_[0].fd.get() >= 0 || outputs_[1].fd.get() >= 0) {
            const Clock::duration left = give_up - Clock::now();
            std::array<pollfd, 2> fds{
                {{outputs_[0].fd.get(), POLLIN, 0}, {outputs_[1].fd.get(), POLLIN, 0}}};
            const int ready =
                left <= Clock::duration::zero()
                    ? 0
                    : ::poll(fds.data(), fds.size(),
                             static_cast<int>(std::chrono::ceil<milliseconds>(left).count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) {
                note("an output pipe stayed open after the command's tree was gone");
                break;
            }
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents != 0) read_output(outputs_[i]);
            }
        }
        outputs_[0].fd.reset();
        outputs_[1].fd.reset();
    }

    const Spec& spec_;
    const OutputSink& sink_;
    Outcome& outcome_;
    const pid_t pid_;  // the command, or the request's init; either way its process group
    const int signal_fd_;
    const milliseconds grace_;
    const Clock::time_point deadline_;
    Clock::time_point kill_at_{};
    Phase phase_ = Phase::kRunning;
    bool main_exited_ = false, main_reaped_ = false, finished_ = false;
    bool watch_hangups_ = true, sink_open_ = true;
    UniqueFd pid_fd_;
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_once_;
    bool watch_exec_once_ = false;
    UniqueFd lifeline_, report_;                    // under the request's init
    std::optional<sandbox::cgroup::Group> cgroup_;  // removed last, once the request is gone
    std::array<Output, 2> outputs_;
    std::vector<char> buffer_;
};

void run_supervised(const Spec& spec, const OutputSink& sink, Outcome& outcome,
                    Clock::time_point start) {
    // Orphaned descendants (double forks, daemons) reparent to us rather than to init, so we
    // can find and kill them (prctl(2), Linux 3.4). Process-wide, set once, never undone.
    static const bool is_subreaper = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    if (!is_subreaper) {
        outcome.error =
            "cannot become a child subreaper; refusing to run what could outlive the request";
        return;
    }
    const SignalWatch signals;
    if (signals.error() != 0) {
        outcome.error = "cannot watch signals: " + errno_text(signals.error());
        return;
    }
    detail::Started child = detail::start_command(spec, outcome);
    if (child.pid < 0) return;
    outcome.started = true;
    Supervisor supervisor(spec, sink, outcome, child, signals.fd(), start);
    supervisor.supervise();
}

}  // namespace

Outcome run(const Spec& spec, const OutputSink& sink) {
    Outcome outcome;
    const Clock::time_point start = Clock::now();
    try {
        run_supervised(spec, sink, outcome, start);
    } catch (...) {  // only bad_alloc can get here; no exception crosses the module boundary
        (outcome.started ? outcome.supervision_error : outcome.error) = "out of memory";
    }
    outcome.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    return outcome;
}

}  // namespace bridle::execution
