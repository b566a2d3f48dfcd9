// SPDX-License-Identifier: Apache-2.0
// The built-in `task` request: `task start CMD...` decides CMD as a request of its own and runs
// it through handle() in a detached supervisor whose output goes to the key's spool;
// `task list|status|output|cancel` read and act on the key's own tasks only.
#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "audit/records.hpp"
#include "command/tokenizer.hpp"
#include "common/text.hpp"
#include "execution/detach.hpp"
#include "gate/internal.hpp"
#include "gate/task_spool.hpp"
#include "os/error.hpp"

namespace bridle::gate::detail {
namespace {

constexpr const char* kTaskRequest = "task";
constexpr const char* kTaskRuleId = "builtin:task";
constexpr const char* kUsage =
    "bridle: usage: task start CMD... | task list | task status ID | "
    "task output ID [--offset N] [--follow] | task cancel ID\n";
// How often `task output --follow` looks for more output and for the task's end.
constexpr std::chrono::milliseconds kFollowPoll{200};

// Every `task` request leaves a decision record (allow or deny) with the rule builtin:task.
Response answer(const Context& context, const Request& request, Response r, bool allowed,
                const std::string& reason, std::string message, ExitCode code) {
    audit::RequestInfo info = info_of(request, r.request_id, context.policy);
    if (request.argv) info.argv = *request.argv;
    const Status s = context.audit.write(
        audit::decision_record(info, allowed ? "allow" : "deny", kTaskRuleId, reason));
    if (!s) {
        r.kind = Kind::kUnaudited;
        r.exit_status = to_int(ExitCode::kUnavailable);
        r.message = "bridle: " + s.error().full() + "\nbridle: nothing was done\n";
        return r;
    }
    r.kind = allowed ? Kind::kHelp : Kind::kDenied;  // kHelp: bridle's own answer, on stdout
    r.decision.verdict = allowed ? matching::Verdict::kAllow : matching::Verdict::kDeny;
    r.decision.reason = reason;
    r.exit_status = to_int(code);
    r.message = std::move(message);
    return r;
}

Response refused(const Context& context, const Request& request, Response r,
                 const std::string& reason, ExitCode code = ExitCode::kNoPerm) {
    return answer(context, request, std::move(r), false, reason, "bridle: " + reason + "\n", code);
}

std::string describe(const tasks::Task& t) {
    std::string text = "id: " + t.id + "\nstate: " + t.state + "\nrule: " + t.rule +
                       "\ncommand: " + t.command + "\nrequest_id: " + t.request_id +
                       "\nstarted: " + std::to_string(t.started) +
                       "\noutput_bytes: " + std::to_string(t.output_bytes) + "\n";
    if (t.state != "running") {
        text += "ended: " + std::to_string(t.ended) +
                "\nexit_status: " + std::to_string(t.exit_status) + "\n";
    }
    return text;
}

// The state a finished run leaves in its result file.
std::string state_of(const Response& done, bool cancelled) {
    if (done.kind != Kind::kRan) return "failed";  // denied on the second look, or unaudited
    if (!done.outcome.started) return "failed";
    if (done.outcome.timed_out) return "timed-out";
    if (done.outcome.idle_timed_out) return "idle-timeout";
    if (cancelled || done.outcome.disconnected) return "cancelled";
    return "exited";
}

// The detached supervisor: the whole pipeline (decision record, sandboxed run, result
// record) with the output going to the spool. Never returns.
[[noreturn]] void supervise(const Context& context, Request task, const std::string& dir) {
    const std::string output = dir + "/" + tasks::kOutputFile;
    os::UniqueFd out(
        ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    const int fd = out.get();
    const execution::OutputSink to_spool = [fd](execution::Stream, std::string_view bytes) {
        // A full disk loses output, not supervision: the command runs on to its end.
        (void)os::write_all(fd, bytes);
        return true;
    };
    Response done;
    if (fd >= 0) {
        done = handle(context, task, to_spool, {});
        if (!done.message.empty()) (void)os::write_all(fd, done.message);
    } else {
        done.message = "cannot open " + output + ": " + os::errno_text(errno);
    }
    const bool cancelled = ::access((dir + "/" + tasks::kCancelFile).c_str(), F_OK) == 0;
    (void)tasks::write_fields(dir + "/" + tasks::kResultFile,
                              {{"state", fd >= 0 ? state_of(done, cancelled) : "failed"},
                               {"exit_status", std::to_string(done.exit_status)},
                               {"ended", std::to_string(now_seconds())},
                               {"request_id", done.request_id}});
    ::_exit(0);
}

Response start(const Context& context, const Request& request, Response r,
               const std::vector<std::string>& words) {
    Request task = request;
    task.text.clear();
    task.pipeline.reset();
    task.argv = std::vector<std::string>(words.begin() + 2, words.end());
    task.task_id = new_request_id().substr(0, 16);
    if (task.argv->empty()) {
        return refused(context, request, std::move(r), "task start needs a command",
                       ExitCode::kUsage);
    }
    if ((*task.argv)[0] == kTaskRequest) {
        return refused(context, request, std::move(r), "a task cannot start a task",
                       ExitCode::kUsage);
    }
    // The verdict now, for the client's answer; the supervisor's handle() decides again, and
    // its decision record is the one that counts (a path may change in between).
    const Response d = explain(context, task);
    if (d.kind != Kind::kAllowed) {
        const ExitCode code = d.kind == Kind::kUnparsable ? ExitCode::kUsage : ExitCode::kNoPerm;
        Response a =
            answer(context, request, std::move(r), false, d.decision.reason, d.message, code);
        if (a.kind == Kind::kDenied) a.exit_status = d.exit_status;
        return a;
    }
    if (!d.stages.empty()) {
        return refused(context, request, std::move(r), "a task is one command, not a pipeline");
    }
    const policy::Rule& rule = *d.decision.rule;
    if (!rule.task) {
        return refused(context, request, std::move(r),
                       "rule " + rule.id + " does not allow tasks (it has no `task: true`)");
    }
    const policy::Settings& settings = context.policy.settings;
    const Result<std::string> dir = tasks::make_key_dir(settings.task_spool, request.key);
    if (!dir) {
        return refused(context, request, std::move(r), dir.error().message, ExitCode::kUnavailable);
    }
    tasks::sweep(dir.value(), settings.task_retention);
    std::uint64_t running = 0;
    for (const tasks::Task& t : tasks::list_tasks(dir.value())) running += t.state == "running";
    if (running >= settings.task_max_running) {
        return refused(context, request, std::move(r),
                       std::to_string(running) + " tasks of this key are running, the most " +
                           "settings.task_max_running allows; wait for one to end or cancel one",
                       ExitCode::kTempFail);
    }
    const std::string task_dir = dir.value() + "/" + task.task_id;
    if (::mkdir(task_dir.c_str(), 0700) != 0) {
        return refused(context, request, std::move(r),
                       "cannot create " + task_dir + ": " + os::errno_text(errno),
                       ExitCode::kUnavailable);
    }
    // Locked before the fork: the supervisor inherits the lock (the same open file), so the
    // task is `running` from the moment its id is known until the supervisor is gone.
    const std::string lock_path = task_dir + "/" + tasks::kLockFile;
    os::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (lock.get() < 0 || ::flock(lock.get(), LOCK_EX) != 0) {
        return refused(context, request, std::move(r), "cannot lock " + lock_path,
                       ExitCode::kUnavailable);
    }
    task.request_id = new_request_id();
    std::vector<std::pair<std::string, std::string>> meta = {
        {"rule", rule.id},
        {"command", escape_text(join(*task.argv, " "), 900)},
        {"request_id", task.request_id},
        {"started", std::to_string(now_seconds())}};
    (void)tasks::write_fields(task_dir + "/" + tasks::kMetaFile, meta);
    // The answer's own record first: the supervisor's decision record follows it.
    Response a = answer(context, request, std::move(r), true, "task " + task.task_id,
                        task.task_id + "\n", ExitCode::kOk);
    if (a.kind != Kind::kHelp) return a;
    const execution::Detached detached = execution::detach(request.detach_close_fds);
    if (detached.in_child) supervise(context, task, task_dir);
    if (detached.pid < 0) {
        a.message = "bridle: the task could not start: " + detached.error + "\n";
        a.exit_status = to_int(ExitCode::kSetupFailed);
        (void)tasks::write_fields(task_dir + "/" + tasks::kResultFile,
                                  {{"state", "failed"}, {"ended", std::to_string(now_seconds())}});
        return a;
    }
    meta.emplace_back("pid", std::to_string(detached.pid));
    a.detached_pid = detached.pid;
    (void)tasks::write_fields(task_dir + "/" + tasks::kMetaFile, meta);
    return a;
}

// `task output ID [--offset N] [--follow]`: the output from byte N on; with --follow, on until
// the task ends (or the client goes). The next offset goes to stderr.
Response output(const Context& context, const Request& request, Response r, const std::string& dir,
                const tasks::Task& t, const std::vector<std::string>& words,
                const execution::OutputSink& sink, const std::vector<int>& hangup_fds) {
    std::uint64_t offset = 0;
    bool follow = false;
    for (std::size_t i = 3; i < words.size(); ++i) {
        if (words[i] == "--follow") {
            follow = true;
        } else if (words[i] == "--offset" && i + 1 < words.size() && !words[i + 1].empty() &&
                   words[i + 1].size() <= 19 &&
                   words[i + 1].find_first_not_of("0123456789") == std::string::npos) {
            offset = std::stoull(words[++i]);
        } else {
            return refused(
                context, request, std::move(r),
                "task output: " + quote_text(words[i], 100) + " is not --offset N or --follow",
                ExitCode::kUsage);
        }
    }
    Response a =
        answer(context, request, std::move(r), true, "task output " + t.id, "", ExitCode::kOk);
    if (a.kind != Kind::kHelp) return a;
    const std::string task_dir = dir + "/" + t.id;
    os::UniqueFd fd(
        ::open((task_dir + "/" + tasks::kOutputFile).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    std::vector<char> buffer(64 * 1024);
    bool client_here = true;
    while (client_here) {
        // Whether it still runs, before reading: output written before its end is then read.
        const bool running = tasks::is_running(task_dir);
        while (fd.get() >= 0) {
            const ssize_t n =
                ::pread(fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
            if (n <= 0) break;
            if (!sink(execution::Stream::kStdout,
                      std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
                client_here = false;
                break;
            }
            offset += static_cast<std::uint64_t>(n);
        }
        if (!follow || !running) break;
        // Waits for the next look, or for the client to leave (POLLHUP/POLLERR on its
        // channel): a silent task must not keep a departed client's follower alive.
        std::vector<pollfd> fds;
        for (const int hangup : hangup_fds) fds.push_back({hangup, 0, 0});
        if (fds.empty()) {
            std::this_thread::sleep_for(kFollowPoll);
        } else if (::poll(fds.data(), fds.size(), static_cast<int>(kFollowPoll.count())) > 0) {
            client_here = false;
        }
        if (fd.get() < 0) {
            fd.reset(::open((task_dir + "/" + tasks::kOutputFile).c_str(),
                            O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        }
    }
    // The note goes to the sink's stderr, after the output: the answer's own message (stdout,
    // as for every kHelp answer) stays empty, so the output is the whole of stdout.
    const std::optional<tasks::Task> now = tasks::read_task(dir, t.id);
    if (client_here) {
        (void)sink(execution::Stream::kStderr,
                   "bridle: task " + t.id + ": " + (now ? now->state : std::string("gone")) +
                       "; next offset " + std::to_string(offset) + "\n");
    }
    return a;
}

Response cancel(const Context& context, const Request& request, Response r, const std::string& dir,
                const tasks::Task& t) {
    if (t.state != "running" || t.pid <= 0) {
        return refused(context, request, std::move(r),
                       "task " + t.id + " is not running (" + t.state + ")", ExitCode::kUsage);
    }
    const std::string task_dir = dir + "/" + t.id;
    (void)tasks::write_fields(task_dir + "/" + tasks::kCancelFile,
                              {{"at", std::to_string(now_seconds())}});
    // Checked again right before the signal: the lock is held only while that supervisor
    // lives, so its pid has not been reused. SIGTERM: it ends the command and its tree as a
    // departed client would, then writes the result.
    if (!tasks::is_running(task_dir) || ::kill(t.pid, SIGTERM) != 0) {
        return refused(context, request, std::move(r), "task " + t.id + " has just ended",
                       ExitCode::kUsage);
    }
    return answer(context, request, std::move(r), true, "task cancel " + t.id,
                  "bridle: task " + t.id + ": cancelled\n", ExitCode::kOk);
}

}  // namespace

std::optional<std::vector<std::string>> task_words(const Context& context, const Request& request) {
    if (request.front_end == kTargetFrontEnd || request.pipeline) return std::nullopt;
    std::vector<std::string> words;
    if (request.argv) {
        words = *request.argv;
    } else {
        auto tokens = command::tokenize(request.text);
        if (!tokens) return std::nullopt;  // handle() reports why
        words = std::move(tokens.value());
    }
    if (words.empty() || words[0] != kTaskRequest) return std::nullopt;
    if (context.policy.has_rule_for(kTaskRequest, request.key)) return std::nullopt;
    return words;
}

Response handle_task(const Context& context, const Request& request, Response r,
                     const std::vector<std::string>& words, const execution::OutputSink& sink,
                     const std::vector<int>& hangup_fds) {
    const std::string verb = words.size() > 1 ? words[1] : "";
    if (verb == "start") return start(context, request, std::move(r), words);
    const bool needs_id = verb == "status" || verb == "output" || verb == "cancel";
    if (!(verb == "list" && words.size() == 2) && !(needs_id && words.size() >= 3) &&
        !(verb == "status" && words.size() == 3) && !(verb == "cancel" && words.size() == 3)) {
        return answer(context, request, std::move(r), false, "not a task request",
                      std::string("bridle: not a task request\n") + kUsage, ExitCode::kUsage);
    }
    const std::string dir = tasks::key_dir(context.policy.settings.task_spool, request.key);
    if (verb == "list") {
        tasks::sweep(dir, context.policy.settings.task_retention);
        std::string text;
        for (const tasks::Task& t : tasks::list_tasks(dir)) {
            text += t.id + " " + t.state + " " + t.rule + " " + t.command + "\n";
        }
        return answer(context, request, std::move(r), true, "task list", text, ExitCode::kOk);
    }
    // Only the key's own directory is looked in: another key's task id is simply unknown.
    const std::optional<tasks::Task> t = tasks::read_task(dir, words[2]);
    if (!t) {
        return refused(context, request, std::move(r),
                       "no task " + quote_text(words[2], 40) + " of this key", ExitCode::kUsage);
    }
    if (verb == "status") {
        return answer(context, request, std::move(r), true, "task status " + t->id, describe(*t),
                      ExitCode::kOk);
    }
    if (verb == "output") {
        return output(context, request, std::move(r), dir, *t, words, sink, hangup_fds);
    }
    return cancel(context, request, std::move(r), dir, *t);
}

}  // namespace bridle::gate::detail
