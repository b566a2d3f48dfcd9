// SPDX-License-Identifier: Apache-2.0
// A host's MCP session over the system's ssh: spawned in a process group of its own, spoken to
// over pipes, one JSON-RPC line at a time (session/jsonrpc frames and bounds the lines). Every
// wait is a poll() on the session's output, ssh's stderr and the cancel descriptor with the
// call's deadline, so a host that hangs costs its own call its timeout and nothing else.
#include "fleet/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <thread>

#include "os/error.hpp"

namespace bridle::fleet {
namespace {

namespace jsonrpc = session::jsonrpc;

constexpr const char* kProtocolVersion = "2025-06-18";
constexpr std::size_t kStderrTail = 2048;

int remaining_ms(const Wait& wait) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(wait.deadline - Clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<long>(left.count(), 60'000));
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

bool is_cancelled(int fd) {
    if (fd < 0) return false;
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

}  // namespace

std::vector<std::string> Connection::ssh_argv() const {
    std::vector<std::string> argv{
        ssh_.program, "-T",
        "-o",         "BatchMode=yes",
        "-o",         "ConnectTimeout=" + std::to_string(ssh_.connect_timeout_s),
        "-o",         "ServerAliveInterval=15",
        "-o",         "ServerAliveCountMax=3"};
    if (!ssh_.config_file.empty()) argv.insert(argv.end(), {"-F", ssh_.config_file});
    if (host_.port != 0) argv.insert(argv.end(), {"-p", std::to_string(host_.port)});
    if (!host_.user.empty()) argv.insert(argv.end(), {"-l", host_.user});
    if (!host_.key_file.empty()) {
        argv.insert(argv.end(), {"-i", host_.key_file, "-o", "IdentitiesOnly=yes"});
    }
    // The inventory's values were checked (no leading '-'); "--" ends ssh's options anyway.
    argv.insert(argv.end(), {"--", host_.address, "mcp"});
    return argv;
}

bool Connection::spawn(std::string& error) {
    os::UniqueFd in_r, in_w, out_r, out_w, err_r, err_w;
    if (!os::make_pipe(in_r, in_w) || !os::make_pipe(out_r, out_w) ||
        !os::make_pipe(err_r, err_w)) {
        error = "cannot make a pipe: " + os::errno_text(errno);
        return false;
    }
    const std::vector<std::string> words = ssh_argv();
    std::vector<char*> argv;
    for (const std::string& w : words) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = "cannot fork: " + os::errno_text(errno);
        return false;
    }
    if (pid == 0) {
        // Its own process group: a Ctrl-C at the controller's terminal reaches the controller,
        // which cancels each host's call itself, rather than killing every ssh at once.
        ::setpgid(0, 0);
        if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) {
            ::_exit(127);
        }
        ::signal(SIGPIPE, SIG_DFL);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    pid_ = pid;
    to_ssh_ = std::move(in_w);
    from_ssh_ = std::move(out_r);
    ssh_err_ = std::move(err_r);
    ::fcntl(from_ssh_.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(ssh_err_.get(), F_SETFL, O_NONBLOCK);
    reader_ = jsonrpc::LineReader();
    stderr_tail_.clear();
    return true;
}

void Connection::close() {
    if (pid_ <= 0) return;
    to_ssh_.reset();  // EOF: the host's session ends, and with it any command it runs
    from_ssh_.reset();
    ssh_err_.reset();
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) != 0) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void Connection::drain_stderr() {
    std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(ssh_err_.get(), buf.data(), buf.size());
        if (n == 0) ssh_err_.reset();  // ssh closed it: poll() skips the -1 from now on
        if (n <= 0) return;
        stderr_tail_.append(buf.data(), static_cast<std::size_t>(n));
        if (stderr_tail_.size() > kStderrTail) {
            stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
        }
    }
}

// A session that was open may have ended since its last call (the host rebooted, the network
// dropped, ssh's keep-alive gave up): its ssh has exited, or its output is at end of file.
bool Connection::still_open() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        to_ssh_.reset(), from_ssh_.reset(), ssh_err_.reset();
        return false;
    }
    std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(from_ssh_.get(), buf.data(), buf.size());
        if (n > 0) {
            reader_.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0) {
            close();
            return false;
        }
        return true;  // EAGAIN: open, nothing to read
    }
}

// ssh's words as the agent may see them: the key file, the user and the address (which the
// inventory keeps from the model) replaced by what the model knows, the host's name.
std::string Connection::without_paths(std::string text) const {
    replace_all(text, host_.key_file, "[key file]");
    if (!host_.user.empty()) replace_all(text, host_.user + "@" + host_.address, host_.name);
    if (host_.address != host_.name) replace_all(text, host_.address, host_.name);
    return text;
}

CallOutcome Connection::open(const Wait& wait) {
    std::string error;
    if (!spawn(error)) return {CallOutcome::Kind::kUnreachable, error, nullptr};
    const Json params{{"protocolVersion", kProtocolVersion},
                      {"capabilities", Json::object()},
                      {"clientInfo", {{"name", "bridle-fleet"}, {"version", BRIDLE_VERSION}}}};
    const Json id = next_id_++;
    if (!os::write_all(to_ssh_.get(), jsonrpc::request_line(id, "initialize", params))) {
        close();
        return {CallOutcome::Kind::kUnreachable, "ssh exited at once", nullptr};
    }
    CallOutcome out = exchange(id, wait, {});
    if (out.kind == CallOutcome::Kind::kDropped) {
        out.kind = CallOutcome::Kind::kUnreachable;
        out.message =
            stderr_tail_.empty() ? "ssh ended the session before bridle answered" : stderr_tail_;
        while (!out.message.empty() && out.message.back() == '\n') out.message.pop_back();
        out.message = without_paths(out.message);
        return out;
    }
    if (out.kind != CallOutcome::Kind::kResult) {
        if (out.kind == CallOutcome::Kind::kRpcError) {
            out.message = "the host's bridle refused initialize: " + out.message;
        }
        close();
        return out;
    }
    const Json& info =
        out.result.is_object() ? out.result.value("serverInfo", Json::object()) : Json::object();
    server_version_ = info.is_object() ? info.value("version", std::string()) : std::string();
    os::write_all(to_ssh_.get(),
                  jsonrpc::notification_line("notifications/initialized", Json::object()));
    return out;
}

CallOutcome Connection::exchange(const Json& id, const Wait& wait,
                                 const std::function<void(const Json&)>& notify) {
    for (;;) {
        jsonrpc::LineReader::Line line;
        while (reader_.next(line)) {
            if (line.too_long) continue;
            const Json m = Json::parse(line.text, nullptr, false);
            if (!m.is_object()) continue;
            if (m.contains("method") && !m.contains("id")) {
                if (notify) notify(m);
                continue;
            }
            if (!m.contains("id") || m["id"] != id) continue;  // a late answer to a cancelled call
            if (m.contains("result")) return {CallOutcome::Kind::kResult, "", m["result"]};
            const Json& e = m.value("error", Json::object());
            return {CallOutcome::Kind::kRpcError,
                    e.is_object() ? e.value("message", std::string("error")) : "error", nullptr};
        }
        std::array<pollfd, 3> fds{{{from_ssh_.get(), POLLIN, 0},
                                   {ssh_err_.get(), POLLIN, 0},
                                   {wait.cancel_fd, POLLIN, 0}}};
        const int timeout = remaining_ms(wait);
        if (timeout == 0) {
            close();
            return {CallOutcome::Kind::kTimeout, "no answer before the deadline", nullptr};
        }
        const int ready = ::poll(fds.data(), wait.cancel_fd >= 0 ? 3 : 2, timeout);
        if (ready < 0 && errno != EINTR) {
            close();
            return {CallOutcome::Kind::kDropped, "poll: " + os::errno_text(errno), nullptr};
        }
        if (ready <= 0) continue;
        if (fds[1].revents != 0) drain_stderr();
        if (fds[2].revents != 0) {
            // MCP cancellation: the host kills the command and records its result; it sends
            // no response to a cancelled request, so none is awaited.
            os::write_all(to_ssh_.get(),
                          jsonrpc::notification_line(
                              "notifications/cancelled",
                              Json{{"requestId", id}, {"reason", "cancelled by the controller"}}));
            return {CallOutcome::Kind::kCancelled, "cancelled", nullptr};
        }
        if (fds[0].revents == 0) continue;
        const ssize_t n = ::read(from_ssh_.get(), read_buffer_.data(), read_buffer_.size());
        if (n > 0) {
            reader_.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            drain_stderr();
            close();
            return {CallOutcome::Kind::kDropped, "the session ended", nullptr};
        }
    }
}

CallOutcome Connection::call(const std::string& method, const Json& params, const Wait& wait,
                             const std::function<void(const Json&)>& notify) {
    if (is_cancelled(wait.cancel_fd)) return {CallOutcome::Kind::kCancelled, "cancelled", nullptr};
    if (!still_open()) {
        CallOutcome opened = open(wait);
        if (opened.kind != CallOutcome::Kind::kResult) return opened;
    }
    const Json id = next_id_++;
    if (!os::write_all(to_ssh_.get(), jsonrpc::request_line(id, method, params))) {
        // ssh is gone, and the host never saw this request: once more on a new session.
        close();
        CallOutcome opened = open(wait);
        if (opened.kind != CallOutcome::Kind::kResult) return opened;
        if (!os::write_all(to_ssh_.get(), jsonrpc::request_line(id, method, params))) {
            close();
            return {CallOutcome::Kind::kDropped, "the session ended", nullptr};
        }
    }
    return exchange(id, wait, notify);
}

}  // namespace bridle::fleet
