// SPDX-License-Identifier: Apache-2.0
// A request's init kept from one request to the next (kept_init.hpp): the plan's encoding,
// bridle's side of the control socket, and the init's.
#include "execution/kept_init.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "execution/child.hpp"
#include "execution/init.hpp"
#include "execution/runner.hpp"
#include "execution/setup.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::execution {
namespace {

bool g_keep = false;                       // keep_inits()
std::unique_ptr<detail::KeptInit> g_kept;  // the process's kept init, if any

}  // namespace

void keep_inits(bool keep) {
    g_keep = keep;
    if (!keep) detail::KeptInit::retire();
}

}  // namespace bridle::execution

namespace bridle::execution::detail {
namespace {

constexpr std::uint32_t kPlanVersion = 1;
constexpr std::size_t kMaxPlanBytes = 64 * 1024 * 1024;  // far above any request's
constexpr std::size_t kMaxFds = 7;                       // the plan's memfd and KeptFds' six
constexpr auto kReadyLimit = std::chrono::seconds(5);

// One message per datagram on the control socket.
enum class Kind : std::uint32_t {
    kReady = 1,  // init -> bridle, once, after its set-up
    kStart,      // bridle -> init: a request; its plan's memfd and descriptors come along
    kSignal,     // bridle -> init: pass `value` (a signal) on to request `call`
    kDone,       // init -> bridle: request `call` is over, nothing of it is left; `value` is
                 // the command's wait status, `end` how it ended
};

struct Message {
    Kind kind;
    std::int32_t value;
    std::int32_t end;
    std::uint32_t fd_count;  // kStart: the descriptors that come along; kDone: 1 when the init
                             // ends after it (kept_init.hpp: what a request changed in it)
    std::uint64_t call;
};

// ------------------------------------------------------------------------ the plan's bytes

class Writer {
  public:
    void u32(std::uint32_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void i64(std::int64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void text(const std::string& t) {
        u32(static_cast<std::uint32_t>(t.size()));
        bytes_ += t;
    }
    void program(const std::vector<sock_filter>& p) {
        u32(static_cast<std::uint32_t>(p.size()));
        if (p.empty()) return;  // data() may be null, which not even a 0-byte copy may take
        bytes_.append(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(sock_filter));
    }
    std::string take() { return std::move(bytes_); }

  private:
    std::string bytes_;
};

class Reader {
  public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}
    bool raw(void* out, std::size_t n) {
        if (!ok_ || bytes_.size() < n) return ok_ = false;
        if (n == 0) return true;  // `out` may be an empty vector's null data()
        std::memcpy(out, bytes_.data(), n);
        bytes_.remove_prefix(n);
        return true;
    }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::int64_t i64() {
        std::int64_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::string text() {
        const std::uint32_t n = u32();
        if (!ok_ || bytes_.size() < n) return ok_ = false, std::string();
        std::string t(bytes_.substr(0, n));
        bytes_.remove_prefix(n);
        return t;
    }
    std::vector<sock_filter> program() {
        const std::uint32_t n = u32();
        // A classic BPF program has at most BPF_MAXINSNS instructions.
        if (!ok_ || n > BPF_MAXINSNS || bytes_.size() < n * sizeof(sock_filter)) {
            return ok_ = false, std::vector<sock_filter>();
        }
        std::vector<sock_filter> p(n);
        raw(p.data(), n * sizeof(sock_filter));
        return p;
    }
    bool count(std::uint32_t n) const { return ok_ && n <= bytes_.size(); }  // each >= 1 byte
    bool done() const { return ok_ && bytes_.empty(); }

  private:
    std::string_view bytes_;
    bool ok_ = true;
};

// ------------------------------------------------------------------------ the control socket

// Sends one message, with `fds` (at most kMaxFds) as SCM_RIGHTS. 0, or errno.
int send_message(int socket, const Message& m, const int* fds, std::size_t count) noexcept {
    iovec io{const_cast<Message*>(&m), sizeof m};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msghdr header{};
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    if (count > 0) {
        header.msg_control = control;
        header.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        cmsghdr* c = CMSG_FIRSTHDR(&header);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    ssize_t n;
    while ((n = ::sendmsg(socket, &header, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof m)) return 0;
    return n < 0 ? errno : EPROTO;
}

// Receives one message and its descriptors (close-on-exec; `count` set). 1: a message; 0: the
// other end is gone; -1: an error, or anything that is not exactly a message (whatever
// descriptors came are closed).
int receive_message(int socket, Message& m, int* fds, std::size_t& count) noexcept {
    iovec io{&m, sizeof m};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))] = {};
    msghdr header{};
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    count = 0;
    ssize_t n;
    while ((n = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (n == 0) return 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < got; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (count < kMaxFds) {
                fds[count++] = fd;
            } else {
                ::close(fd);
            }
        }
    }
    const bool whole = n == static_cast<ssize_t>(sizeof m) &&
                       (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
                       count == (m.kind == Kind::kStart ? m.fd_count : 0);
    if (whole) return 1;
    for (std::size_t i = 0; i < count; ++i) ::close(fds[i]);
    count = 0;
    return -1;
}

// What the command's set-up would have written: the request did not start, for `err`.
void report_failure(int error_fd, int err) noexcept {
    const SetupFailure failure{Step::kInit, err};
    while (::write(error_fd, &failure, sizeof failure) < 0 && errno == EINTR) {
    }
}

// ------------------------------------------------------------------------ the init's side

// What the next command inherits from the init and a request's processes could change from
// inside, as the init's uid: its resource limits (prlimit(2)), its scheduling (setpriority(2),
// sched_setscheduler(2), sched_setaffinity(2), ioprio_set(2)) and its cgroup (a delegated
// one's cgroup.procs). Compared whole, so it is zeroed first.
struct Inherited {
    rlimit limits[RLIM_NLIMITS];
    int nice;
    int policy;
    sched_param param;
    cpu_set_t cpus;
    long ioprio;
    char cgroup[1024];
    ssize_t cgroup_length;
};

// false: one of them could not be read (the init then ends too).
bool read_inherited(Inherited& out) noexcept {
    std::memset(&out, 0, sizeof out);
    for (int r = 0; r < RLIM_NLIMITS; ++r) {
        if (::getrlimit(static_cast<__rlimit_resource>(r), &out.limits[r]) != 0) return false;
    }
    errno = 0;
    out.nice = ::getpriority(PRIO_PROCESS, 0);
    if (errno != 0) return false;
    out.policy = ::sched_getscheduler(0);
    constexpr int kIoprioWhoProcess = 1;
    out.ioprio = ::syscall(SYS_ioprio_get, kIoprioWhoProcess, 0);
    if (out.policy < 0 || ::sched_getparam(0, &out.param) != 0 ||
        ::sched_getaffinity(0, sizeof out.cpus, &out.cpus) != 0 || out.ioprio < 0) {
        return false;
    }
    const int fd = ::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out.cgroup_length = ::read(fd, out.cgroup, sizeof out.cgroup);
    ::close(fd);
    return out.cgroup_length >= 0;
}

// A request in the init: its plan, its descriptors and its command.
struct Request {
    std::uint64_t call = 0;  // 0: none
    pid_t command = -1;      // until reaped
    int status = 0;
    std::int64_t backstop = 0;
};

// Kills every process of the namespace but the init and reaps them all (kill(2): -1 from
// inside a PID namespace reaches only it, never the caller), then reports the request done.
// If the request changed what the next command would inherit from the init (`kept`, read when
// the init started), the init ends after its report: the next request gets a new one.
void end_request(int control, Request& r, KeptEnd end, const Inherited& kept) noexcept {
    ::kill(-1, SIGKILL);
    int status;
    while (::waitpid(-1, &status, 0) > 0 || errno == EINTR) {
    }
    Inherited now;
    const bool changed = !read_inherited(now) || std::memcmp(&now, &kept, sizeof now) != 0;
    const Message done{Kind::kDone, r.status, static_cast<std::int32_t>(end), changed ? 1U : 0U,
                       r.call};
    if (send_message(control, done, nullptr, 0) != 0) ::_exit(kInitOrphaned);
    if (changed) ::_exit(0);
    r = Request{};
}

// The request's plan from its memfd, its command started. False: not started, and the reason
// is on the error pipe. [memfd, stdout, stderr, error, stdin?, landlock?, exec-once?]: without
// the first four it is not a request, and the init ends.
bool start_request(const Message& m, const int* fds, std::size_t count, Request& r) {
    if (count < 4) ::_exit(kInitBroken);
    r.call = m.call;
    const int error_fd = fds[3];
    const auto failed = [error_fd](int err) {
        report_failure(error_fd, err);
        return false;
    };
    struct stat st {};
    if (::fstat(fds[0], &st) != 0 || st.st_size < 0 ||
        static_cast<std::size_t>(st.st_size) > kMaxPlanBytes) {
        return failed(EPROTO);
    }
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    if (::pread(fds[0], bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
        return failed(EPROTO);
    }
    std::optional<KeptPlan> plan = decode(bytes);
    if (!plan) return failed(EPROTO);
    const std::size_t wanted =
        4 + (plan->has_stdin ? 1 : 0) + (plan->has_landlock ? 1 : 0) + (plan->exec_once ? 1 : 0);
    if (count != wanted) return failed(EPROTO);
    std::size_t next = 4;
    KeptFds kept{fds[1], fds[2], error_fd};
    if (plan->has_stdin) kept.stdin_fd = fds[next++];
    if (plan->has_landlock) kept.landlock_fd = fds[next++];
    if (plan->exec_once) kept.exec_once_fd = fds[next++];
    sandbox::Prepared sandbox;
    sandbox.limits = plan->limits;
    sandbox.namespaces = policy::NamespaceMode::kPrefer;
    sandbox.umask = static_cast<mode_t>(plan->umask);
    sandbox.no_new_privs = plan->no_new_privs;
    sandbox.landlock_ruleset = kept.landlock_fd;  // received, closed by the caller: not owned
    sandbox.wall = std::move(plan->wall);
    sandbox.ceiling = std::move(plan->ceiling);
    sandbox.filter = std::move(plan->filter);
    sandbox.exec_once = plan->exec_once;
    const ExecArgs args(plan->path, plan->argv, plan->env);
    r.backstop = now_ms() + plan->backstop_ms;
    r.command =
        start_under_kept_init({plan->path.c_str(), args.argv(), args.envp(), &sandbox, kept});
    const int err = errno;
    sandbox.landlock_ruleset = -1;
    return r.command > 0 || failed(err);
}

}  // namespace

std::string encode(const KeptPlan& plan) {
    Writer w;
    w.u32(kPlanVersion);
    w.text(plan.path);
    w.u32(static_cast<std::uint32_t>(plan.argv.size()));
    for (const std::string& a : plan.argv) w.text(a);
    w.u32(static_cast<std::uint32_t>(plan.env.size()));
    for (const auto& [name, value] : plan.env) {
        w.text(name);
        w.text(value);
    }
    w.i64(plan.backstop_ms);
    w.u32(static_cast<std::uint32_t>(plan.limits.count));
    for (std::size_t i = 0; i < plan.limits.count; ++i) {
        const sandbox::limits::Setting& s = plan.limits.settings[i];
        w.u32(static_cast<std::uint32_t>(s.resource));
        w.i64(static_cast<std::int64_t>(s.value.rlim_cur));
        w.i64(static_cast<std::int64_t>(s.value.rlim_max));
    }
    w.u32(plan.umask);
    w.u32((plan.no_new_privs ? 1U : 0U) | (plan.exec_once ? 2U : 0U) | (plan.has_stdin ? 4U : 0U) |
          (plan.has_landlock ? 8U : 0U));
    w.program(plan.wall);
    w.program(plan.ceiling);
    w.program(plan.filter);
    return w.take();
}

std::optional<KeptPlan> decode(std::string_view bytes) {
    Reader r(bytes);
    KeptPlan plan;
    if (r.u32() != kPlanVersion) return std::nullopt;
    plan.path = r.text();
    const std::uint32_t argc = r.u32();
    if (!r.count(argc)) return std::nullopt;
    for (std::uint32_t i = 0; i < argc; ++i) plan.argv.push_back(r.text());
    const std::uint32_t envc = r.u32();
    if (!r.count(envc)) return std::nullopt;
    for (std::uint32_t i = 0; i < envc; ++i) {
        std::string name = r.text();
        std::string value = r.text();
        plan.env.emplace(std::move(name), std::move(value));  // a name twice: refused below
    }
    plan.backstop_ms = r.i64();
    plan.limits.count = r.u32();
    if (plan.limits.count > plan.limits.settings.size()) return std::nullopt;
    for (std::size_t i = 0; i < plan.limits.count; ++i) {
        sandbox::limits::Setting& s = plan.limits.settings[i];
        s.resource = static_cast<int>(r.u32());
        s.value.rlim_cur = static_cast<rlim_t>(r.i64());
        s.value.rlim_max = static_cast<rlim_t>(r.i64());
    }
    plan.umask = r.u32();
    const std::uint32_t flags = r.u32();
    plan.no_new_privs = (flags & 1U) != 0;
    plan.exec_once = (flags & 2U) != 0;
    plan.has_stdin = (flags & 4U) != 0;
    plan.has_landlock = (flags & 8U) != 0;
    plan.wall = r.program();
    plan.ceiling = r.program();
    plan.filter = r.program();
    if (!r.done() || flags > 15U || plan.umask > 0777U || plan.env.size() != envc ||
        plan.backstop_ms < 0) {
        return std::nullopt;
    }
    return plan;
}

[[noreturn]] void run_kept_init(int control, int signals) noexcept {
    Inherited kept;
    if (!read_inherited(kept)) ::_exit(kInitBroken);
    if (send_message(control, {Kind::kReady, 0, 0, 0, 0}, nullptr, 0) != 0) ::_exit(kInitOrphaned);
    Request r;
    for (;;) {
        // Reap first: the command may have exited before the init started to listen. Its end
        // is the request's end, as under an init of its own.
        int status = 0;
        pid_t reaped;
        while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped != r.command) continue;
            r.command = -1;
            r.status = status;
            end_request(control, r, KeptEnd::kExited, kept);
        }
        int wait = -1;
        if (r.call != 0) {
            const std::int64_t left = r.backstop - now_ms();
            if (left <= 0) {
                end_request(control, r, KeptEnd::kBackstop, kept);
                continue;
            }
            wait = left > INT_MAX ? INT_MAX : static_cast<int>(left);
        }
        pollfd fds[2] = {{signals, POLLIN, 0}, {control, POLLIN, 0}};
        const int ready = ::poll(fds, 2, wait);
        if (ready < 0 && errno != EINTR) ::_exit(kInitBroken);
        if (ready <= 0) continue;
        if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0) ::_exit(kInitBroken);
        // SIGCHLD is acted on above; what the request's processes send the init is dropped.
        signalfd_siginfo info;
        while (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        }
        if (fds[1].revents == 0) continue;
        Message m{};
        int received[kMaxFds];
        std::size_t count = 0;
        // The end of the socket or anything else on it: bridle is gone or broken, and the
        // kernel ends the namespace with the init.
        if (receive_message(control, m, received, count) != 1) ::_exit(kInitOrphaned);
        if (m.kind == Kind::kSignal) {
            // Only to the request it names, and only while it runs.
            if (m.call == r.call && r.call != 0 && m.value > 0 && m.value < NSIG) {
                ::kill(-1, m.value);
            }
            continue;
        }
        if (m.kind != Kind::kStart || r.call != 0 || m.call == 0) ::_exit(kInitBroken);
        bool started = false;
        try {
            started = start_request(m, received, count, r);
        } catch (...) {  // out of memory; start_request has made sure there is an error pipe
            report_failure(received[3], ENOMEM);
        }
        for (std::size_t i = 0; i < count; ++i) ::close(received[i]);
        if (!started) {
            r.command = -1;
            end_request(control, r, KeptEnd::kNotStarted, kept);
        }
    }
}

// ------------------------------------------------------------------------ bridle's side

KeptInit* KeptInit::for_request(unsigned long clone_flags, const std::vector<std::string>& hidden) {
    if (!g_keep) return nullptr;
    if (g_kept && !g_kept->ending_ && g_kept->flags_ == clone_flags && g_kept->hidden_ == hidden) {
        return g_kept.get();
    }
    retire();
    g_kept = start_init(clone_flags, hidden);
    return g_kept.get();
}

std::unique_ptr<KeptInit> KeptInit::start_init(unsigned long flags,
                                               const std::vector<std::string>& hidden) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return nullptr;
    const pid_t pid = clone_kept_init(flags, pair[1], hidden);
    ::close(pair[1]);
    if (pid < 0) {
        ::close(pair[0]);
        return nullptr;
    }
    std::unique_ptr<KeptInit> kept(new KeptInit(pid, pair[0], flags, hidden));
    // Ready, or it ended (its set-up failed): then the request gets an init of its own, which
    // reports why.
    pollfd ready{pair[0], POLLIN, 0};
    Message m{};
    int fds[kMaxFds];
    std::size_t count = 0;
    const int waited = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kReadyLimit).count());
    if (::poll(&ready, 1, waited) != 1 || receive_message(pair[0], m, fds, count) != 1 ||
        m.kind != Kind::kReady) {
        return nullptr;  // the destructor ends it
    }
    return kept;
}

void KeptInit::retire() noexcept {
    g_kept.reset();
}

void KeptInit::forget() noexcept {
    g_keep = false;
    if (!g_kept) return;
    ::close(g_kept->control_);
    g_kept->pid_ = -1;
    g_kept->control_ = -1;
    g_kept.reset();
}

KeptInit::~KeptInit() {
    if (control_ >= 0) ::close(control_);
    if (pid_ <= 0) return;
    // Our child, not yet reaped, so its pid is still its own. The kernel ends the namespace
    // with it; the wait returns once nothing of it is left.
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
}

std::uint64_t KeptInit::start(const KeptPlan& plan, const KeptFds& fds) {
    const int memfd = ::memfd_create("bridle-request", MFD_CLOEXEC);
    if (memfd < 0) return 0;
    const std::string bytes = encode(plan);
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(memfd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(memfd);
            return 0;
        }
        written += static_cast<std::size_t>(n);
    }
    int sent[kMaxFds] = {memfd, fds.stdout_fd, fds.stderr_fd, fds.error_fd};
    std::uint32_t count = 4;
    if (plan.has_stdin) sent[count++] = fds.stdin_fd;
    if (plan.has_landlock) sent[count++] = fds.landlock_fd;
    if (plan.exec_once) sent[count++] = fds.exec_once_fd;
    const std::uint64_t call = last_call_ + 1;
    const int err = send_message(control_, {Kind::kStart, 0, 0, count, call}, sent, count);
    ::close(memfd);
    if (err != 0) {
        errno = err;
        return 0;
    }
    last_call_ = call;
    return call;
}

bool KeptInit::signal(std::uint64_t call, int sig) noexcept {
    return send_message(control_, {Kind::kSignal, sig, 0, 0, call}, nullptr, 0) == 0;
}

KeptInit::State KeptInit::poll(std::uint64_t call, int& status, KeptEnd& end) noexcept {
    pollfd p{control_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return State::kRunning;
    Message m{};
    int fds[kMaxFds];
    std::size_t count = 0;
    // Requests go one at a time, and one given up on ends the init: anything but this
    // request's report is a broken init.
    if (receive_message(control_, m, fds, count) != 1 || m.kind != Kind::kDone || m.call != call ||
        m.end < 0 || m.end > static_cast<std::int32_t>(KeptEnd::kNotStarted)) {
        return State::kGone;
    }
    status = m.value;
    end = static_cast<KeptEnd>(m.end);
    ending_ = m.fd_count != 0;
    return State::kDone;
}

bool KeptInit::await(std::uint64_t call, std::chrono::milliseconds limit, int& status,
                     KeptEnd& end) noexcept {
    const std::int64_t give_up = now_ms() + limit.count();
    for (;;) {
        const State s = poll(call, status, end);
        if (s != State::kRunning) return s == State::kDone;
        const std::int64_t left = give_up - now_ms();
        if (left <= 0) return false;
        pollfd p{control_, POLLIN, 0};
        (void)::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, INT_MAX)));
    }
}

}  // namespace bridle::execution::detail
