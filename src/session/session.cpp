// SPDX-License-Identifier: Apache-2.0
// The session's processes and event loop: read messages from stdin, run each run_command
// in a worker, answer on stdout, and make sure nothing the session started outlives it. A
// worker serves one call after another (worker.hpp): after a whole report it goes back to the
// idle ones; after anything else, or once signalled, its request pipe is closed and it ends.
//
// Signals, in order:
//  1. serve() blocks SIGCHLD, SIGHUP, SIGTERM and SIGINT before anything else and reads
//     them from a signalfd in the loop; SIGPIPE is ignored (main), so a dead stdout is EPIPE.
//  2. Workers inherit that mask. A SIGTERM (cancellation) or SIGHUP (the session died:
//     PR_SET_PDEATHSIG) that reaches a worker before its command starts stays pending, and
//     execution::run, which blocks the same set and reads it from its own signalfd, sees it
//     as soon as the command is up: it kills the command's tree and writes the result
//     record. A worker whose request is denied never starts anything, so the pending
//     signal does not matter: it discards it before its report, and it is not given another
//     call (keep_worker), so a signal that comes later cannot end the next one either.
//  3. The session is a child subreaper: if a worker dies without cleaning up (SIGKILL), its
//     command's orphans reparent to the session, which kills them (kill_orphans) and, at
//     the end, kills and reaps every child it has left.
#include "session/session.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/text.hpp"
#include "execution/children.hpp"
#include "os/fd.hpp"
#include "session/file_tools.hpp"
#include "session/task_extension.hpp"
#include "session/task_tools.hpp"
#include "session/tools.hpp"
#include "session/worker.hpp"

namespace bridle::session {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxQueued = 64;
constexpr std::size_t kMaxReportBytes = 16 * 1024 * 1024;  // 2 x 128 KiB output, escaped
constexpr milliseconds kProgressInterval{1000};
constexpr milliseconds kShutdownLimit{5000};  // workers kill their command within ~1 s
constexpr milliseconds kReapLimit{2000};

std::size_t worker_slots() {
    // A Pi has four cores at most, and the commands share them with its real work.
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<std::size_t>(std::clamp<long>(cpus, 1, 4));
}

}  // namespace

Session::Session(const gate::Context& context, const Options& options, int signal_fd)
    : context_(context),
      options_(options),
      session_id_(gate::new_request_id()),
      signal_fd_(signal_fd),
      max_running_(worker_slots()),
      read_buffer_(kReadChunk) {}

void Session::send(const std::string& line) {
    if (!stdout_open_) return;
    if (!os::write_all(STDOUT_FILENO, line)) {
        stdout_open_ = false;  // the client is gone: end the session
        ending_ = true;
    }
}

bool Session::is_busy(const Json& id) const {
    return std::any_of(calls_.begin(), calls_.end(),
                       [&](const Call& c) { return c.id == id && !c.answered; }) ||
           std::any_of(queue_.begin(), queue_.end(),
                       [&](const Pending& p) { return p.id == id; }) ||
           std::any_of(waits_.begin(), waits_.end(), [&](const Wait& w) { return w.id == id; });
}

void Session::enqueue(Pending pending) {
    if (queue_.size() >= kMaxQueued) {
        reply(pending.id,
              tools::error_result("too many calls waiting (" + std::to_string(kMaxQueued) +
                                      "); at most " + std::to_string(max_running_) +
                                      " commands run at once: wait for some to finish",
                                  true),
              pending.era);
        return;
    }
    queue_.push_back(std::move(pending));
    start_pending();
}

std::vector<int> Session::own_fds() const {
    std::vector<int> fds{signal_fd_};
    const auto add = [&fds](const Worker& w) {
        for (const int fd : {w.request_fd, w.fd, w.tail_fd}) {
            if (fd >= 0) fds.push_back(fd);
        }
    };
    for (const Call& c : calls_) add(c.worker);
    for (const Worker& w : idle_) add(w);
    return fds;
}

Result<Worker> Session::hand_over(const std::string& line) {
    for (;;) {
        const bool idle = !idle_.empty();
        Result<Worker> worker =
            idle ? Result<Worker>(idle_.back()) : start_worker(context_, own_fds());
        if (idle) idle_.pop_back();
        if (!worker) return worker;
        if (os::write_all(worker.value().request_fd, line)) return worker;
        // Gone (EPIPE: SIGPIPE is ignored); reap_children reaps it. An idle one died while it
        // waited: the next one takes the call.
        const int err = errno;
        close_fds(worker.value());
        if (!idle) {
            return Error{
                "the worker ended before it took the call: " + std::string(std::strerror(err)), ""};
        }
    }
}

void Session::start_pending() {
    while (!ending_ && !queue_.empty() && calls_.size() < max_running_) {
        Pending p = std::move(queue_.front());
        queue_.pop_front();
        Result<std::string> line = request_line(CallRequest{p.request, std::move(p.upload)});
        auto worker = line ? hand_over(line.value()) : Result<Worker>(line.error());
        if (!worker) {
            reply(p.id, tools::error_result(worker.error().message, true), p.era);
            continue;
        }
        Call call;
        call.id = std::move(p.id);
        call.worker = worker.value();
        call.progress_token = std::move(p.progress_token);
        call.era = p.era;
        call.tool = p.tool;
        call.task_tool = p.task_tool;
        call.carried = std::move(p.carried);
        call.fanout_id = p.request.fanout_id;
        call.started = Clock::now();
        call.next_progress = call.started + kProgressInterval;
        call.label = escape_text(p.request.argv ? join(*p.request.argv, " ") : p.request.text, 120);
        calls_.push_back(std::move(call));
    }
}

void Session::read_stdin() {
    std::vector<char>& buffer = read_buffer_;
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        stdin_open_ = false;
        jsonrpc::LineReader::Line line;
        while (!ending_ && reader_.finish(line)) handle_line(line);  // a last line without "\n"
        ending_ = true;
        return;
    }
    reader_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    jsonrpc::LineReader::Line line;
    while (!ending_ && reader_.next(line)) handle_line(line);
}

void Session::read_report(Call& call) {
    std::vector<char>& buffer = read_buffer_;
    for (;;) {
        const ssize_t n = ::read(call.worker.fd, buffer.data(), buffer.size());
        if (n > 0) {
            if (call.report.size() + static_cast<std::size_t>(n) > kMaxReportBytes) {
                // Cannot happen with kMaxToolOutputBytes; bounded anyway. The worker writes
                // its report only after gate::handle returned (the command is gone and
                // recorded), and its signals are blocked: SIGKILL is what ends it.
                if (!call.reaped) ::kill(call.worker.pid, SIGKILL);
                call.report.clear();
                call.pipe_closed = true;
                return;
            }
            call.report.append(buffer.data(), static_cast<std::size_t>(n));
            // One line per call: its end is the report's, and the worker now waits for the
            // next request (it writes nothing more until then).
            if (call.report_complete()) {
                call.pipe_closed = true;
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        call.pipe_closed = true;  // EOF: the worker is exiting
        return;
    }
}

void Session::read_tail(Call& call) {
    std::vector<char>& buffer = read_buffer_;
    for (;;) {
        const ssize_t n = ::read(call.worker.tail_fd, buffer.data(), buffer.size());
        if (n > 0) {
            tools::keep_tail(call.tail,
                             std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        ::close(call.worker.tail_fd);  // EOF: the worker is exiting
        call.worker.tail_fd = -1;
        return;
    }
}

void Session::handle_signals() {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGHUP || sig == SIGTERM || sig == SIGINT) ending_ = true;
        // SIGCHLD: reap_children() runs every round.
    }
}

// Reaps whatever has exited. A child that is not a worker is an orphan of a worker that
// died without cleaning up (it reparented to us, the subreaper): it is killed here.
void Session::reap_children() {
    int status;
    pid_t pid;
    bool orphan_seen = false;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        const auto call = std::find_if(calls_.begin(), calls_.end(),
                                       [&](const Call& c) { return c.worker.pid == pid; });
        if (call != calls_.end()) {
            call->reaped = true;
            if (!WIFEXITED(status)) orphan_seen = true;  // it may have left its command behind
        }
        // An idle worker that died (killed from outside): it had no command; forget it.
        const auto idle =
            std::find_if(idle_.begin(), idle_.end(), [&](const Worker& w) { return w.pid == pid; });
        if (idle != idle_.end()) {
            close_fds(*idle);
            idle_.erase(idle);
        }
        tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), pid), tasks_.end());
    }
    if (!orphan_seen) return;
    for (const pid_t child : execution::list_children()) {
        const bool is_worker =
            std::any_of(calls_.begin(), calls_.end(),
                        [&](const Call& c) { return c.worker.pid == child && !c.reaped; }) ||
            std::any_of(idle_.begin(), idle_.end(),
                        [&](const Worker& w) { return w.pid == child; });
        if (!is_worker && !is_task(child)) ::kill(child, SIGKILL);
    }
}

bool Session::is_task(pid_t pid) const {
    return std::find(tasks_.begin(), tasks_.end(), pid) != tasks_.end();
}

bool Session::keep_worker(Call& call) {
    // Not after a signal (a cancellation, the session's end: one that came late would end
    // the next call), nor after anything but a whole report, nor when the session ends.
    if (ending_ || call.cancelled || call.ending || call.reaped || !call.report_complete() ||
        call.worker.request_fd < 0 || idle_.size() >= max_running_) {
        return false;
    }
    // The finished call's last output is in the tail pipe already (the worker wrote it before
    // its report): take it now, so that the next call's progress starts empty.
    if (call.worker.tail_fd >= 0) read_tail(call);
    if (call.worker.tail_fd < 0) return false;  // its end: the worker is going
    idle_.push_back(call.worker);
    call.worker = Worker{};  // the call's copy: its pipes are the idle worker's now
    return true;
}

// Answers the calls whose worker is done, then fills the slots. A complete report is
// answered as soon as its line ends (the worker writes it after gate::handle returned: the
// command's tree is gone and recorded by then), and the worker goes back to the idle ones;
// anything else (no report, a broken one) only once the worker is reaped, when its orphans are
// killed (reap_children). Such a call keeps its slot until its worker is reaped.
void Session::finish_calls() {
    for (auto it = calls_.begin(); it != calls_.end();) {
        if (it->answered && it->reaped) {
            it = calls_.erase(it);
            continue;
        }
        if (!it->pipe_closed || it->answered) {
            ++it;
            continue;
        }
        Json parsed = Json::parse(it->report, nullptr, false);
        auto report = parsed.is_discarded()
                          ? Result<CallReport>(Error{"the worker ended without a report", ""})
                          : report_from_json(parsed);
        if (!report && !it->reaped) {
            // A broken report line from a live worker: end it, and answer once it is reaped.
            close_fds(it->worker);
            ++it;
            continue;
        }
        it->answered = true;
        if (!it->cancelled) {
            if (report && report.value().detached_pid > 0) {
                tasks_.push_back(report.value().detached_pid);
            }
            if (report && task_extension::is_step(it->tool)) {
                answer_task_step(*it, report.value());
            } else if (report && (it->tool == tools::kReadFile || it->tool == tools::kWriteFile)) {
                reply(it->id, tools::file_result(it->tool, report.value()), it->era);
            } else if (report) {
                reply(it->id,
                      it->task_tool ? tools::task_result(report.value())
                                    : tools::run_result(report.value(), it->ending),
                      it->era);
            } else {
                reply(it->id,
                      tools::error_result(
                          report.error().message + "; the host's journal has the request's records",
                          true),
                      it->era);
            }
        }
        if (report && keep_worker(*it)) {
            it = calls_.erase(it);
            continue;
        }
        close_fds(it->worker);
        if (it->reaped) {
            it = calls_.erase(it);
        } else {
            ++it;
        }
    }
    start_pending();
}

void Session::send_progress() {
    const Clock::time_point now = Clock::now();
    for (Call& call : calls_) {
        if (call.progress_token.is_null() || call.cancelled || now < call.next_progress) continue;
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(now - call.started).count();
        call.next_progress = now + kProgressInterval;
        notify_progress(call.progress_token, call.progress, seconds,
                        tools::progress_message(call.label, seconds, call.tail));
    }
}

void Session::notify_progress(const Json& token, std::int64_t& progress, std::int64_t seconds,
                              const std::string& message) {
    progress = std::max<std::int64_t>(progress + 1, seconds);  // it must increase (MCP)
    send(jsonrpc::notification_line(
        "notifications/progress",
        Json{{"progressToken", token}, {"progress", progress}, {"message", message}}));
}

int Session::run() {
    std::vector<pollfd> fds;
    while (!ending_) {
        fds.clear();
        fds.push_back({STDIN_FILENO, POLLIN, 0});
        fds.push_back({signal_fd_, POLLIN, 0});
        for (const Call& c : calls_) fds.push_back({c.pipe_closed ? -1 : c.worker.fd, POLLIN, 0});
        for (const Call& c : calls_) fds.push_back({c.worker.tail_fd, POLLIN, 0});  // -1: skipped
        const bool progress_due = std::any_of(calls_.begin(), calls_.end(), [](const Call& c) {
            return !c.progress_token.is_null();
        });
        const int ready =
            ::poll(fds.data(), fds.size(), progress_due || !waits_.empty() ? 200 : 1000);
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0 && fds[1].revents != 0) handle_signals();
        for (std::size_t i = 0; ready > 0 && i < calls_.size(); ++i) {
            if (fds[2 + i].revents != 0) read_report(calls_[i]);
            if (fds[2 + calls_.size() + i].revents != 0) read_tail(calls_[i]);
        }
        reap_children();
        finish_calls();
        send_progress();
        poll_waits();
        if (ready > 0 && fds[0].revents != 0 && !ending_) read_stdin();
    }
    shut_down();
    return 0;
}

// The end: queued calls are answered as cancelled, running ones are cancelled (their
// workers kill their commands and write the result records) and answered if stdout is
// still there, then every child left is killed and reaped.
void Session::shut_down() {
    ending_ = true;
    // Idle workers end at their request pipe's end (and are reaped below).
    for (Worker& w : idle_) close_fds(w);
    idle_.clear();
    // Waits end at once, answered with the state seen last if stdout is still there.
    for (Wait& wait : waits_) end_wait(wait, "ended", true);
    waits_.clear();
    while (!queue_.empty()) {
        reply(queue_.front().id, tools::not_started_result("not started: the session ended"),
              queue_.front().era);
        queue_.pop_front();
    }
    for (Call& call : calls_) {
        call.ending = true;
        if (!call.reaped) ::kill(call.worker.pid, SIGTERM);  // a reaped pid may be someone else's
    }
    const Clock::time_point give_up = Clock::now() + kShutdownLimit;
    std::vector<pollfd> fds;
    while (!calls_.empty() && Clock::now() < give_up) {
        fds.clear();
        fds.push_back({signal_fd_, POLLIN, 0});
        for (const Call& c : calls_) fds.push_back({c.pipe_closed ? -1 : c.worker.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 100) > 0) {
            if (fds[0].revents != 0) handle_signals();
            for (std::size_t i = 0; i < calls_.size(); ++i) {
                if (fds[1 + i].revents != 0) read_report(calls_[i]);
            }
        }
        reap_children();
        finish_calls();
    }
    // Workers that would not finish: SIGKILL them, then everything that reparented to us.
    for (Call& call : calls_) {
        if (!call.reaped) ::kill(call.worker.pid, SIGKILL);
        close_fds(call.worker);
    }
    calls_.clear();
    const Clock::time_point reap_until = Clock::now() + kReapLimit;
    for (;;) {
        std::size_t others = 0;
        for (const pid_t child : execution::list_children()) {
            if (is_task(child)) continue;  // a task's supervisor runs on (init reaps it)
            ::kill(child, SIGKILL);
            ++others;
        }
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), pid), tasks_.end());
        }
        if (pid < 0 && errno == ECHILD) break;
        if (others == 0) break;  // only tasks' supervisors are left
        if (Clock::now() >= reap_until) break;
        ::usleep(10'000);
    }
}

int serve(const gate::Context& context, const Options& options) {
    // 1. Signals first (see the top of this file), so none is lost or acted on by default.
    sigset_t set;
    ::sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) ::sigaddset(&set, sig);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return 71;
    const int signal_fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0) return 71;
    // 2. Orphans of a worker come to us, not to init (prctl(2), Linux 3.4).
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        (void)os::write_all(STDERR_FILENO,
                            "bridle: cannot become a child subreaper; session mode refused\n");
        return 71;
    }
    Session session(context, options, signal_fd);
    const int status = session.run();
    ::close(signal_fd);
    return status;
}

}  // namespace bridle::session
