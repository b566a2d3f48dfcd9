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
#include "execution/stage_end.hpp"
#include "os/error.hpp"

namespace bridle::execution {
namespace {

using Clock = std::chrono::steady_clock;
using detail::gone_kept;
using detail::record_exit;
using detail::record_kept_exit;
using detail::Tracked;
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

// Watches the started stages of one request to the end (one stage for a plain command).
// run() assumes the calling process has no other children (true for the forced-command front
// end): supervision kills and reaps every child of this process, since orphaned descendants of
// the command reparent to us as subreaper and are indistinguishable from other children.
class Supervisor {
  public:
    // `shared`: the timeout, kill grace, output cap, hangup fds and observer of the request
    // (a pipeline's last stage's).
    Supervisor(const Spec& shared, const OutputSink& sink, int signal_fd, Clock::time_point start)
        : spec_(shared),
          sink_(sink),
          signal_fd_(signal_fd),
          grace_(std::clamp(shared.kill_grace, milliseconds(0), kLongest)),
          deadline_(start + std::clamp(shared.timeout, milliseconds(0), kLongest)),
          idle_(std::clamp(shared.idle_timeout, milliseconds(0), kLongest)),
          last_output_(start),
          buffer_(kChunk) {}

    // Normally a no-op. If an exception left supervise() early, still keep invariant 5.
    ~Supervisor() {
        if (!finished_) end_now();
    }
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Takes over a started stage. Its stdout is read when the child has one for us (the last
    // stage's; the others write into the next stage's pipe).
    void add(detail::Started& child, Outcome& outcome) {
        Tracked& t = stages_.emplace_back();
        t.outcome = &outcome;
        t.pid = child.pid;
        t.under_kept = child.kept != nullptr;
        t.kept = child.kept;
        t.call = child.call;
        // Readable once the child exits, even if another thread ate the SIGCHLD. Linux 5.3;
        // without it, SIGCHLD and the poll cap do the job. (A raw syscall: bookworm's
        // <sys/pidfd.h> lacks extern "C".) A kept init outlives the request: its report says.
        if (!t.under_kept) {
            t.pid_fd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
        }
        t.exec_once = std::move(child.exec_once);
        t.watch_exec_once = t.exec_once != nullptr;
        if (t.watch_exec_once) copy_exec_log(t);  // the first exec, already let through
        t.lifeline = std::move(child.lifeline);
        t.report = std::move(child.report);
        t.cgroup = std::move(child.cgroup);
        if (child.stdout_fd.get() >= 0) {
            outputs_.push_back({std::move(child.stdout_fd), Stream::kStdout, &outcome});
        }
        outputs_.push_back({std::move(child.stderr_fd), Stream::kStderr, &outcome});
    }

    // A stage could not start: end the ones already running, as SIGKILL would.
    void end_now() noexcept {
        finished_ = true;
        if (stages_.empty()) return;  // nothing started: nothing of ours to kill
        signal_tree(SIGKILL);
        for (Tracked& t : stages_) {
            if (t.exited) continue;
            if (t.under_kept) {
                end_kept(t);
                continue;
            }
            siginfo_t info{};
            while (::waitid(P_PID, static_cast<id_t>(t.pid), &info, WEXITED | WNOWAIT) < 0 &&
                   errno == EINTR) {
            }
            record_exit(t, info);
        }
        reap_everything();
        for (Output& out : outputs_) out.fd.reset();
    }

    void supervise() {
        std::vector<pollfd> fds;
        while (running()) {
            // [outputs][signals][one pidfd per stage][one exec-once fd per stage][hangups]
            fds.clear();
            for (const Output& out : outputs_) fds.push_back({out.fd.get(), POLLIN, 0});
            const std::size_t signals = fds.size(), pid_fds = signals + 1;
            const std::size_t exec_onces = pid_fds + stages_.size();
            const std::size_t hangups = exec_onces + stages_.size();
            fds.push_back({signal_fd_, POLLIN, 0});
            // A kept init's request: its report on the control socket says it is done.
            for (const Tracked& t : stages_) {
                // Once over, a kept init's request has nothing left to watch (-1: skipped).
                const int watched = !t.under_kept ? t.pid_fd.get() : t.exited ? -1 : t.kept->fd();
                fds.push_back({watched, POLLIN, 0});
            }
            // Exec-once: a process of the tree waits in execve for an answer ("no", or with the
            // exec log "yes, recorded").
            for (const Tracked& t : stages_) {
                fds.push_back({t.watch_exec_once ? t.exec_once->fd() : -1, POLLIN, 0});
            }
            // events 0: poll still reports POLLHUP/POLLERR/POLLNVAL, i.e. the client left.
            if (watch_hangups_) {
                for (int fd : spec_.hangup_fds) fds.push_back({fd, 0, 0});
            }
            const int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms());
            if (ready < 0 && errno != EINTR) {
                note("poll failed: " + errno_text(errno) + "; killed the command");
                end_now();
                break;
            }
            for (std::size_t i = 0; ready > 0 && i < signals; ++i) {
                if (fds[i].revents != 0) read_output(outputs_[i]);
            }
            if (ready > 0 && fds[signals].revents != 0) handle_signals();
            for (std::size_t s = 0; ready > 0 && s < stages_.size(); ++s) {
                if (fds[exec_onces + s].revents != 0) {
                    answer_execs(stages_[s], fds[exec_onces + s].revents);
                }
            }
            for (std::size_t i = hangups; ready > 0 && i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                    disconnect();
                    break;
                }
            }
            check_timers();
            check_exits();
        }
        if (finished_) return;
        reap_everything();
        drain_outputs();
        finished_ = true;
    }

  private:
    enum class Phase { kRunning, kTerminating, kKilled };
    struct Output {
        UniqueFd fd;
        Stream stream = Stream::kStdout;
        Outcome* outcome = nullptr;  // the stage it comes from: its byte count, truncation
    };
    bool running() const {
        return std::any_of(stages_.begin(), stages_.end(),
                           [](const Tracked& t) { return !t.exited; });
    }

    // Troubles of supervision belong to the request: the last stage's outcome reports them.
    void note(const std::string& text) noexcept {
        if (!stages_.empty()) detail::add_note(*stages_.back().outcome, text);
    }

    int poll_timeout_ms() const {
        const Clock::time_point now = Clock::now();
        Clock::duration wait = kMaxPollWait;
        if (phase_ == Phase::kRunning) wait = std::min(wait, deadline_ - now);
        if (phase_ == Phase::kRunning && idle_ > milliseconds(0)) {
            wait = std::min(wait, last_output_ + idle_ - now);
        }
        if (phase_ == Phase::kTerminating) wait = std::min(wait, kill_at_ - now);
        return wait <= Clock::duration::zero()
                   ? 0
                   : static_cast<int>(std::chrono::ceil<milliseconds>(wait).count());
    }

    void read_output(Output& out) {
        const ssize_t n = ::read(out.fd.get(), buffer_.data(), buffer_.size());
        if (n > 0) {
            last_output_ = Clock::now();  // the idle timeout counts from the last output
            account(out, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            out.fd.reset();  // EOF: every holder of the write end has closed it
        }
    }

    // Counts every byte; forwards up to max_output per stream (all stages' stderr together),
    // drops the rest but keeps reading, so the command never blocks on a full pipe.
    void account(Output& out, std::size_t n) {
        const bool is_stdout = out.stream == Stream::kStdout;
        (is_stdout ? out.outcome->stdout_bytes : out.outcome->stderr_bytes) += n;
        if (spec_.observe) {
            try {
                spec_.observe(out.stream, std::string_view(buffer_.data(), n));
            } catch (...) {  // an observer that throws loses its view, never the command
                note("the output observer threw");
            }
        }
        std::uint64_t& forwarded = forwarded_[is_stdout ? 0 : 1];
        const std::uint64_t room = spec_.max_output - std::min(spec_.max_output, forwarded);
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, room));
        if (take < n)
            (is_stdout ? out.outcome->stdout_truncated : out.outcome->stderr_truncated) = true;
        if (take == 0 || !sink_open_) return;
        forwarded += take;
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

    // Every exec after the first is refused and counted, or with the exec log let through and
    // recorded. POLLHUP: no process of the stage is left under the filter, so nothing more
    // can come.
    static void answer_execs(Tracked& t, short revents) {
        if ((revents & POLLIN) != 0) t.exec_once->answer_pending();
        if ((revents & POLLIN) == 0 && (revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            t.watch_exec_once = false;
        }
        t.outcome->exec_blocked = t.exec_once->blocked();
        copy_exec_log(t);
    }

    static void copy_exec_log(Tracked& t) {
        if (t.exec_once->mode() != sandbox::exec_once::Mode::kLog) return;
        t.outcome->exec_logged = true;
        t.outcome->execs = t.exec_once->log().entries;
        t.outcome->execs_dropped = t.exec_once->log().dropped;
    }

    void handle_signals() {
        signalfd_siginfo info;
        bool departed = false;
        while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
            const int sig = static_cast<int>(info.ssi_signo);
            departed = departed || sig == SIGHUP || sig == SIGTERM || sig == SIGINT;
            // SIGCHLD: check_exits() runs every round. SIGPIPE: the sink sees EPIPE.
        }
        if (departed) disconnect();
    }

    void disconnect() {
        for (Tracked& t : stages_) {
            if (!t.exited) t.outcome->disconnected = true;
        }
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
            for (Tracked& t : stages_) {
                if (!t.exited) t.outcome->timed_out = true;
            }
            begin_kill(grace_);
        }
        if (phase_ == Phase::kRunning && idle_ > milliseconds(0) && now >= last_output_ + idle_) {
            for (Tracked& t : stages_) {
                if (!t.exited) t.outcome->idle_timed_out = true;
            }
            begin_kill(grace_);
        }
        if (phase_ == Phase::kTerminating && now >= kill_at_) {
            signal_tree(SIGKILL);
            phase_ = Phase::kKilled;
        }
    }

    // Each stage's process group, plus our direct children: descendants that left a group
    // (setsid/setpgid) are reached once their parent dies and they reparent to us.
    void signal_tree(int sig) noexcept {
        // A group id is its stage's pid, which stays reserved until we reap it.
        for (const Tracked& t : stages_) {
            // Under a kept init: an order naming the request, which the init drops once the
            // request is over; never a signal to the init, which outlives it.
            if (t.under_kept) {
                if (!t.exited) (void)t.kept->signal(t.call, sig);
                return;  // a kept init's request is the only stage, and the init our only child
            }
            if (!t.reaped) ::kill(-t.pid, sig);
        }
        signal_children(sig);
    }

    // A kept init's request is over when the init reports it done: every process of it killed
    // and reaped. An init that does not, or is gone, is ended (with everything in its
    // namespaces), and the request counts as killed.
    void end_kept(Tracked& t) noexcept {
        int status = 0;
        detail::KeptEnd end = detail::KeptEnd::kExited;
        if (!t.kept->signal(t.call, SIGKILL) || !t.kept->await(t.call, kReapLimit, status, end)) {
            note("the kept init did not end the request; ended it with everything in it");
            gone_kept(t);
            return;
        }
        record_kept_exit(t, status, end);
    }

    // WNOWAIT: leave each stage's main child a zombie for now, so that its pid, which is also
    // the process group id, cannot be reused before reap_everything() kills the group.
    void check_exits() {
        for (Tracked& t : stages_) {
            if (t.exited) continue;
            if (t.under_kept) {
                int status = 0;
                detail::KeptEnd end = detail::KeptEnd::kExited;
                const detail::KeptInit::State state = t.kept->poll(t.call, status, end);
                if (state == detail::KeptInit::State::kDone) record_kept_exit(t, status, end);
                if (state == detail::KeptInit::State::kGone) {
                    note("the kept init ended during the request");
                    gone_kept(t);
                }
                continue;
            }
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(t.pid), &info, WEXITED | WNOHANG | WNOWAIT) ==
                    0 &&
                info.si_pid == t.pid) {
                record_exit(t, info);
            }
        }
    }

    // Kills whatever remains of the tree and reaps it, level by level: each round kills our
    // children, whose own children then reparent to us (subreaper) for the next round. Ends
    // when waitpid reports ECHILD, or gives up after kReapLimit.
    void reap_everything() noexcept {
        for (Tracked& t : stages_) {
            // Under a kept init nothing of the request can be our child: it is all in the
            // init's PID namespace, whose processes the init reaps.
            if (t.under_kept) {
                if (!t.exited) end_kept(t);
                return;
            }
            ::kill(-t.pid, SIGKILL);
            int status;
            while (::waitpid(t.pid, &status, 0) < 0 && errno == EINTR) {
            }
            t.reaped = true;
        }
        const Clock::time_point give_up = Clock::now() + kReapLimit;
        for (;;) {
            signal_children(SIGKILL);
            pid_t reaped;
            int status;
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
                    if (sig == SIGHUP || sig == SIGTERM || sig == SIGINT) {
                        for (Tracked& t : stages_) t.outcome->disconnected = true;
                    }
                }
            }
        }
    }

    // Every writer is dead now, so the pipes reach EOF after what they buffer, unless the
    // command passed a write end to a process outside its tree (SCM_RIGHTS): bounded.
    void drain_outputs() {
        const Clock::time_point give_up = Clock::now() + kDrainLimit;
        std::vector<pollfd> fds;
        for (;;) {
            fds.clear();
            for (const Output& out : outputs_) fds.push_back({out.fd.get(), POLLIN, 0});
            if (std::all_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.fd < 0; })) {
                break;
            }
            const Clock::duration left = give_up - Clock::now();
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
        for (Output& out : outputs_) out.fd.reset();
    }

    const Spec& spec_;
    const OutputSink& sink_;
    const int signal_fd_;
    const milliseconds grace_;
    const Clock::time_point deadline_;
    const milliseconds idle_;        // 0: no idle timeout
    Clock::time_point last_output_;  // the start, then the last byte read from the command
    Clock::time_point kill_at_{};
    Phase phase_ = Phase::kRunning;
    bool finished_ = false;
    bool watch_hangups_ = true, sink_open_ = true;
    std::vector<Tracked> stages_;
    std::vector<Output> outputs_;
    std::array<std::uint64_t, 2> forwarded_{};  // to the sink: stdout, stderr
    std::vector<char> buffer_;
};

// Starts the stages left to right, each stage's stdout the write end of a pipe whose read
// end is the next stage's stdin. bridle keeps neither end: a stage sees EOF when the one
// before it is gone, and SIGPIPE (or EPIPE) when the one after it is.
void run_supervised(const std::vector<Spec>& stages, const OutputSink& sink,
                    std::vector<Outcome>& outcomes, Clock::time_point start) {
    // Orphaned descendants (double forks, daemons) reparent to us rather than to init, so we
    // can find and kill them (prctl(2), Linux 3.4). Process-wide and never undone, but set on
    // every run: a fork does not inherit it, and a process that forked after an earlier run
    // (a task's detached supervisor, execution/detach.cpp) would otherwise remember it wrongly.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        outcomes.front().error =
            "cannot become a child subreaper; refusing to run what could outlive the request";
        return;
    }
    const SignalWatch signals;
    if (signals.error() != 0) {
        outcomes.front().error = "cannot watch signals: " + errno_text(signals.error());
        return;
    }
    // A request that does not start under the process's kept init ends it first: every child
    // of the process is then the request's, as supervision assumes.
    const bool may_keep = stages.size() == 1 && detail::fits_kept_init(stages.front());
    if (!may_keep) detail::KeptInit::retire();
    Supervisor supervisor(stages.back(), sink, signals.fd(), start);
    UniqueFd next_stdin;  // the read end of the pipe from the stage before
    for (std::size_t i = 0; i < stages.size(); ++i) {
        Spec stage = stages[i];
        UniqueFd read_end, write_end;
        if (i + 1 < stages.size() && !os::make_pipe(read_end, write_end)) {
            outcomes[i].error = "cannot create the pipe to the next stage: " + errno_text(errno);
            return supervisor.end_now();
        }
        if (i > 0) {
            stage.pass_stdin = true;
            stage.stdin_fd = next_stdin.get();
        }
        if (i + 1 < stages.size()) stage.stdout_fd = write_end.get();
        detail::Started child = detail::start_command(stage, outcomes[i], may_keep);
        next_stdin = std::move(read_end);
        if (child.pid < 0) return supervisor.end_now();
        outcomes[i].started = true;
        supervisor.add(child, outcomes[i]);
    }
    next_stdin.reset();
    supervisor.supervise();
}

std::vector<Outcome> run_all(const std::vector<Spec>& stages, const OutputSink& sink) {
    std::vector<Outcome> outcomes(stages.size());
    if (stages.empty()) return outcomes;
    const Clock::time_point start = Clock::now();
    try {
        run_supervised(stages, sink, outcomes, start);
    } catch (...) {  // only bad_alloc can get here; no exception crosses the module boundary
        Outcome& last = outcomes.back();
        (last.started ? last.supervision_error : last.error) = "out of memory";
    }
    const auto duration = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    for (Outcome& outcome : outcomes) outcome.duration = duration;
    return outcomes;
}

}  // namespace

Outcome run(const Spec& spec, const OutputSink& sink) {
    return run_all({spec}, sink).front();
}

std::vector<Outcome> run_pipeline(const std::vector<Spec>& stages, const OutputSink& sink) {
    return run_all(stages, sink);
}

}  // namespace bridle::execution
