// SPDX-License-Identifier: Apache-2.0
// The command as a process: build argv/envp, fork (under the request's init, in its own
// namespaces, where the sandbox asks), set up the child in a fixed order, execve, carry any
// set-up error back through a close-on-exec pipe. (children.cpp finds our children.)
#include "execution/child.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "execution/init.hpp"
#include "execution/kept_init.hpp"
#include "execution/setup.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"
#include "sandbox/exec_once.hpp"
#include "sandbox/hide.hpp"
#include "sandbox/namespaces.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::execution::detail {
namespace {

using os::errno_text;

// The capabilities a root command never gets (become_command). CAP_PERFMON is Linux 5.8's
// number 38, absent from older headers.
constexpr int kDroppedFromRoot[] = {CAP_SYS_PTRACE, CAP_SYS_ADMIN, 38};

// Everything the child needs, built before fork: after fork the child only makes
// async-signal-safe calls (the caller may be multithreaded; another thread may hold the
// malloc lock at the moment of fork).
struct ChildPlan {
    const char* path;
    char* const* argv;
    char* const* envp;
    int stdin_fd;   // -1: /dev/null
    int stdout_fd;  // write ends of the output pipes
    int stderr_fd;
    int error_fd;  // close-on-exec write end of the error pipe
    pid_t parent;
    const sandbox::Prepared* sandbox;  // nullptr: none (tests of execution alone)
    int landlock_fd;                   // the sandbox's ruleset, or -1
    int exec_once_socket;              // child's end of the listener socket, or -1
    const int* pass_fds;               // Spec::pass_fds: kept open across execve
    std::size_t pass_fd_count;
    // Under the request's init (clone_flags != 0), become_init's share:
    unsigned long clone_flags;  // namespaces::clone_flags(), or 0: a plain fork
    bool map_ids;               // CLONE_NEWUSER: map uid and gid to themselves
    uid_t uid;
    gid_t gid;
    int lifeline_fd;                         // read end; bridle holds the write end
    int report_fd;                           // write end of the status pipe
    int cgroup_procs_fd;                     // a root command's cgroup.procs, or -1
    const std::vector<std::string>* hidden;  // CLONE_NEWNS: hide::apply() these, or nullptr
    std::int64_t backstop_ms;                // the init's own deadline
};

Step step_of(sandbox::Stage stage) {
    switch (stage) {
        case sandbox::Stage::kLimits:
            return Step::kLimits;
        case sandbox::Stage::kNoNewPrivs:
            return Step::kNoNewPrivs;
        case sandbox::Stage::kLandlock:
            return Step::kLandlock;
        case sandbox::Stage::kSeccomp:
            return Step::kSeccomp;
        case sandbox::Stage::kExecOnce:
        case sandbox::Stage::kDone:
        default:
            return Step::kExecOnce;
    }
}

// `under_init`: started by the request's init (become_init), which is then its parent, its
// process group and its session.
[[noreturn]] void become_command(const ChildPlan& plan, bool under_init) noexcept {
    const int error_fd = os::above_stdio(plan.error_fd);
    if (error_fd < 0) fail(plan.error_fd, Step::kStdio);
    const int landlock_fd = plan.landlock_fd >= 0 ? os::above_stdio(plan.landlock_fd) : -1;
    const int exec_once_socket =
        plan.exec_once_socket >= 0 ? os::above_stdio(plan.exec_once_socket) : -1;
    if ((plan.landlock_fd >= 0 && landlock_fd < 0) ||
        (plan.exec_once_socket >= 0 && exec_once_socket < 0)) {
        fail(error_fd, Step::kStdio);
    }

    // Every signal at its default action and none blocked: SIG_IGN survives execve, so a
    // SIGPIPE that bridle ignores would otherwise be ignored by the command too.
    if (os::reset_signals() != 0) fail(error_fd, Step::kSignals);

    // If bridle is SIGKILLed it cannot reap the tree; at least the command dies with it.
    // The signal fires when the forking *thread* exits, which run() outlives. Re-check the
    // parent afterwards: it may have died before prctl. (A set-uid execve, e.g. sudo,
    // clears it: defence in depth, not the mechanism behind invariant 5.)
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(error_fd, Step::kParentDeath);
    if (::getppid() != (under_init ? 1 : plan.parent)) {
        errno = ESRCH;
        fail(error_fd, Step::kParentDeath);
    }

    // New session and process group (pgid = sid = our pid) and no controlling terminal:
    // the command cannot open /dev/tty or receive the terminal's signals, and kill(-pid)
    // reaches everything that does not call setsid/setpgid itself. Under the init, the init
    // did this, and the command stays in its group, which bridle's kill(-init) reaches.
    if (!under_init && ::setsid() < 0) fail(error_fd, Step::kSession);

    const int in = os::above_stdio(plan.stdin_fd >= 0 ? plan.stdin_fd
                                                      : ::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int out = os::above_stdio(plan.stdout_fd);
    const int err = os::above_stdio(plan.stderr_fd);
    if (in < 0 || out < 0 || err < 0) fail(error_fd, Step::kStdio);
    // All sources are >= 3 now, so each dup2 makes a fresh descriptor without FD_CLOEXEC.
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(error_fd, Step::kStdio);

    // Close everything else, except the error pipe, which execve closes (FD_CLOEXEC) and
    // whose EOF tells the parent that the exec happened, and what the sandbox still needs
    // (close-on-exec too; apply() closes them itself).
    int keep[3 + kMaxPassFds] = {error_fd, -1, -1};
    std::size_t kept = 1;
    if (landlock_fd >= 0) keep[kept++] = landlock_fd;
    if (exec_once_socket >= 0) keep[kept++] = exec_once_socket;
    for (std::size_t i = 0; i < plan.pass_fd_count; ++i) keep[kept++] = plan.pass_fds[i];
    if (os::close_all_but(keep, kept) != 0) fail(error_fd, Step::kCloseFds);
    // The files bridle opened for the command (/dev/fd/N in its argv) survive execve.
    for (std::size_t i = 0; i < plan.pass_fd_count; ++i) {
        if (::fcntl(plan.pass_fds[i], F_SETFD, 0) != 0) fail(error_fd, Step::kCloseFds);
    }

    ::umask(022);
    if (::chdir("/") != 0) fail(error_fd, Step::kDirectory);

    // A command that runs as root (a run_as: root rule's target side) could otherwise open
    // /proc/PID/mem, environ and fd of bridle, non-dumpable or not: the kernel lets
    // CAP_SYS_PTRACE do that, and reading environ also CAP_SYS_ADMIN or CAP_PERFMON (tried on
    // Linux 6.18). A root execve grants the bounding set; without root it grants nothing.
    // Part of the second wall: a sandbox with namespaces: off (and no sandbox) keeps them.
    const bool walled =
        plan.sandbox != nullptr && plan.sandbox->namespaces != policy::NamespaceMode::kOff;
    if (walled && ::geteuid() == 0) {
        for (const int cap : kDroppedFromRoot) {
            if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) fail(error_fd, Step::kCapabilities);
        }
    }

    // The sandbox last, as its seccomp filter may deny what the steps above need.
    if (plan.sandbox != nullptr) {
        const sandbox::Stage stage =
            sandbox::apply(*plan.sandbox, {landlock_fd, exec_once_socket, plan.map_ids});
        if (stage != sandbox::Stage::kDone) fail(error_fd, step_of(stage));
    }

    ::execve(plan.path, plan.argv, plan.envp);  // never execvp: no PATH search
    fail(error_fd, Step::kExec);
}

// become_command under the init, as clone_shared_until_exec's entry.
int command_under_init(void* plan) noexcept {
    become_command(*static_cast<const ChildPlan*>(plan), true);
}

// What an init does first, right after the clone into its namespaces: map the ids, hide
// bridle's state, tie its life to bridle's (`lifeline_fd`: nothing is ever written to it, so
// any event is bridle's end), start a session, block every signal. The signalfd of those it
// reads, or -1 with `step` set. Async-signal-safe.
int enter_init(const ChildPlan& plan, int lifeline_fd, Step& step) noexcept {
    // Into the request's pids cgroup first, so that every process of the request counts.
    if (plan.cgroup_procs_fd >= 0 && ::write(plan.cgroup_procs_fd, "0", 1) != 1) {
        step = Step::kCgroup;
        return -1;
    }
    // A non-dumpable process's /proc/self files are root's (proc(5)), so not even the init
    // could open its own uid_map: it is dumpable for the two writes alone. In that window a
    // process of the account outside every PID namespace (a `namespaces: off` sandbox's
    // command) could reach it through /proc; docs/sandbox.md says so.
    step = Step::kNamespaces;
    if (plan.map_ids) {
        if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return -1;
        const int mapped = sandbox::namespaces::map_own_ids(plan.uid, plan.gid);
        const int err = errno;
        if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return -1;
        errno = err;
        if (mapped != 0) return -1;
    }
    // bridle's state out of the command's sight, while the init still holds its capabilities
    // in the namespaces (the command loses them at execve).
    step = Step::kHide;
    if (plan.hidden != nullptr && sandbox::hide::apply(*plan.hidden) != 0) return -1;
    // If bridle dies the init dies, and the kernel kills the namespace with it. getppid() is
    // 0 here (the parent is outside the namespace), so the lifeline tells whether bridle was
    // already gone before prctl: its other end closes with bridle.
    step = Step::kParentDeath;
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    pollfd lifeline{lifeline_fd, POLLIN, 0};
    if (::poll(&lifeline, 1, 0) != 0) {
        errno = ESRCH;
        return -1;
    }
    step = Step::kSession;
    if (::setsid() < 0) return -1;
    // Every signal stays blocked in the init (the command resets its own mask): those it
    // passes on arrive through the signalfd, SIGKILL from bridle ends the namespace, and the
    // kernel drops what the command sends it unless blocked or handled (pid_namespaces(7)).
    step = Step::kSignals;
    sigset_t all, passed;
    ::sigfillset(&all);
    if (::sigprocmask(SIG_SETMASK, &all, nullptr) != 0) return -1;
    ::sigemptyset(&passed);
    for (const int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGCONT}) ::sigaddset(&passed, sig);
    return os::above_stdio(::signalfd(-1, &passed, SFD_NONBLOCK | SFD_CLOEXEC));
}

// The request's init: enter it, start the command, and supervise the namespace from inside
// (init.cpp). Its failures before the start go to the error pipe like the command's; after
// it, the command's do.
[[noreturn]] void become_init(const ChildPlan& plan) noexcept {
    const int error_fd = os::above_stdio(plan.error_fd);
    if (error_fd < 0) fail(plan.error_fd, Step::kStdio);
    const int lifeline_fd = os::above_stdio(plan.lifeline_fd);
    const int report_fd = os::above_stdio(plan.report_fd);
    if (lifeline_fd < 0 || report_fd < 0) fail(error_fd, Step::kInit);
    Step step = Step::kInit;
    const int signals = enter_init(plan, lifeline_fd, step);
    if (signals < 0) fail(error_fd, step);

    // The command shares the init's memory until its execve (the init waits meanwhile): the
    // init is a copy of bridle's whole process, which a fork would copy again only for the
    // execve to throw it away. The worker, not the init, lets the first execve through.
    const pid_t command = sandbox::namespaces::clone_shared_until_exec(
        command_under_init, const_cast<ChildPlan*>(&plan));
    if (command < 0) fail(error_fd, Step::kInit);

    // The init keeps only what it needs: the output pipes, the error pipe and the sandbox's
    // fds are the command's alone (the exec closes the error pipe's last write end).
    for (int fd = 0; fd < 3; ++fd) ::close(fd);
    int keep[3] = {lifeline_fd, report_fd, signals};
    if (os::close_all_but(keep, 3) != 0) ::_exit(kInitBroken);
    run_init({lifeline_fd, report_fd, signals, command, plan.backstop_ms});
}

// A kept init (kept_init.hpp): entered as a request's init is, then it serves requests until
// bridle is gone. The control socket is its lifeline and its only descriptor but the
// signalfd; a failure ends it before it says it is ready.
[[noreturn]] void become_kept_init(const ChildPlan& plan, int control) noexcept {
    control = os::above_stdio(control);
    if (control < 0) ::_exit(kInitBroken);
    Step step = Step::kInit;
    const int signals = enter_init(plan, control, step);
    if (signals < 0) ::_exit(kInitBroken);
    for (int fd = 0; fd < 3; ++fd) ::close(fd);
    int keep[2] = {control, signals};
    if (os::close_all_but(keep, 2) != 0) ::_exit(kInitBroken);
    run_kept_init(control, signals);
}

// What a kept init needs of `spec` to start it (kept_init.hpp): the plan as data.
KeptPlan kept_plan_of(const Spec& spec, std::chrono::milliseconds backstop) {
    const sandbox::Prepared& sandbox = *spec.sandbox;
    KeptPlan plan;
    plan.path = spec.path;
    plan.argv = spec.argv;
    plan.env = spec.env;
    plan.backstop_ms = backstop.count();
    plan.limits = sandbox.limits;  // always inside the kept init's user namespace
    plan.umask = sandbox.umask;
    plan.no_new_privs = sandbox.no_new_privs;
    plan.exec_once = sandbox.exec_once;
    plan.has_stdin = spec.pass_stdin;
    plan.has_landlock = sandbox.landlock_ruleset >= 0;
    plan.wall = sandbox.wall;
    plan.ceiling = sandbox.ceiling;
    plan.filter = sandbox.filter;
    return plan;
}

// A request under a kept init that could not start: make sure that nothing of it is left
// before the start is reported failed, or end the kept init.
void end_kept_call(KeptInit& kept, std::uint64_t call) {
    int status = 0;
    KeptEnd end = KeptEnd::kExited;
    if (!kept.signal(call, SIGKILL) || !kept.await(call, std::chrono::seconds(2), status, end)) {
        KeptInit::retire();
    }
}

// Why `spec` cannot be executed as given, or empty.
std::string check_spec(const Spec& spec) {
    if (std::string why = check_exec(spec.path, spec.argv, spec.env); !why.empty()) return why;
    // Above stdio (dup2 onto 0-2 would replace them) and few enough for the child's array.
    if (spec.pass_fds.size() > kMaxPassFds)
        return "refusing to pass more than " + std::to_string(kMaxPassFds) + " descriptors";
    for (const int fd : spec.pass_fds) {
        if (fd < 3) return "refusing to pass descriptor " + std::to_string(fd) + " (below 3)";
    }
    return {};
}

}  // namespace

bool fits_kept_init(const Spec& spec) {
    // A root command gets a pids cgroup of its own (its init joins it), and passed descriptors
    // keep their numbers, which the init cannot promise: both get an init of their own.
    return spec.sandbox != nullptr && spec.sandbox->namespaces != policy::NamespaceMode::kOff &&
           spec.pass_fds.empty() && spec.stdout_fd < 0 && ::geteuid() != 0;
}

Started start_command(const Spec& spec, Outcome& outcome, bool may_keep) {
    Started started;
    if (spec.path.empty() || spec.path.front() != '/') {
        // Invariant 1: exec'd by absolute path only. execve would resolve a relative path
        // against the cwd, which is just as wrong as a PATH search.
        outcome.exec_errno = ENOENT;
        outcome.error =
            "cannot execute " + spec.path + ": not an absolute path (bridle never searches PATH)";
        return started;
    }
    if (std::string why = check_spec(spec); !why.empty()) {
        outcome.error = std::move(why);
        return started;
    }

    // argv and envp point into `spec`, which outlives the fork.
    const ExecArgs args(spec.path, spec.argv, spec.env);

    // stdout: a pipe we read, or the caller's descriptor (a pipeline stage's, into the next).
    os::UniqueFd out_read, out_write, err_read, err_write, status_read, status_write;
    if ((spec.stdout_fd < 0 && !os::make_pipe(out_read, out_write)) ||
        !os::make_pipe(err_read, err_write) || !os::make_pipe(status_read, status_write)) {
        outcome.error = "cannot create pipes: " + errno_text(errno);
        return started;
    }
    // Exec-once: the child sends its seccomp listener back over this socket pair.
    os::UniqueFd listener_socket, child_socket;
    const bool exec_once = spec.sandbox != nullptr && spec.sandbox->exec_once;
    if (exec_once) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
            outcome.error = "cannot create the exec-once socket: " + errno_text(errno);
            return started;
        }
        listener_socket.reset(pair[0]);
        child_socket.reset(pair[1]);
        // The kernel then tells us which process sent the listener (the command, which
        // under the init is not the child we fork).
        const int on = 1;
        if (::setsockopt(pair[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
            outcome.error = "cannot set up the exec-once socket: " + errno_text(errno);
            return started;
        }
    }
    // The second wall (docs/sandbox.md): the command under the request's init, in its own
    // namespaces. The lifeline's write end stays with us alone: its hangup tells the init
    // that bridle is gone. The init reports the command's status on the other pipe.
    const policy::NamespaceMode namespaces =
        spec.sandbox != nullptr ? spec.sandbox->namespaces : policy::NamespaceMode::kOff;
    const bool as_root = ::geteuid() == 0;
    // bridle's state is hidden from the account's own commands (sandbox/hide.hpp). A root
    // command (a run_as target) is not the account that owns that state, and may be the
    // package manager upgrading bridle, whose postinst writes /var/lib/bridle.
    const bool hide =
        namespaces != policy::NamespaceMode::kOff && !as_root && !spec.sandbox->hidden.empty();
    os::UniqueFd lifeline_read, lifeline_write, report_read, report_write;
    if (namespaces != policy::NamespaceMode::kOff &&
        (!os::make_pipe(lifeline_read, lifeline_write) ||
         !os::make_pipe(report_read, report_write))) {
        outcome.error = "cannot create pipes: " + errno_text(errno);
        return started;
    }
    // The init's own deadline: later than every kill bridle would send, so it only acts when
    // bridle cannot (stopped, or gone without the kernel's PDEATHSIG reaching the init).
    const auto backstop = spec.timeout + spec.kill_grace + std::chrono::seconds(2);
    // Root is exempt from RLIMIT_NPROC: a root command's process count is its cgroup's.
    // Without a pids controller the record says processes=unbounded.
    std::optional<sandbox::cgroup::Group> group;
    if (namespaces != policy::NamespaceMode::kOff && as_root) {
        std::string why_not;
        group = sandbox::cgroup::Group::create(spec.sandbox->max_processes, why_not);
    }
    ChildPlan plan{spec.path.c_str(),
                   args.argv(),
                   args.envp(),
                   spec.pass_stdin ? spec.stdin_fd : -1,
                   spec.stdout_fd >= 0 ? spec.stdout_fd : out_write.get(),
                   err_write.get(),
                   status_write.get(),
                   ::getpid(),
                   spec.sandbox,
                   spec.sandbox != nullptr ? spec.sandbox->landlock_ruleset : -1,
                   child_socket.get(),
                   spec.pass_fds.data(),
                   spec.pass_fds.size(),
                   sandbox::namespaces::clone_flags(as_root, hide),
                   !as_root,
                   ::geteuid(),
                   ::getegid(),
                   lifeline_read.get(),
                   report_write.get(),
                   group ? group->procs_fd() : -1,
                   hide ? &spec.sandbox->hidden : nullptr,
                   std::chrono::duration_cast<std::chrono::milliseconds>(backstop).count()};

    pid_t pid = -1;
    // The process's kept init, where it keeps one and the request fits it (kept_init.hpp). If
    // the request cannot be handed to it, it is ended, and the request gets an init of its own.
    KeptInit* kept =
        may_keep ? KeptInit::for_request(plan.clone_flags, spec.sandbox->hidden) : nullptr;
    std::uint64_t call = 0;
    if (kept != nullptr) {
        call = kept->start(kept_plan_of(spec, backstop),
                           {plan.stdout_fd, plan.stderr_fd, plan.error_fd, plan.stdin_fd,
                            plan.landlock_fd, plan.exec_once_socket});
        if (call != 0) pid = kept->pid();
        if (call == 0) KeptInit::retire();
        if (call == 0) kept = nullptr;
    }
    if (kept == nullptr && namespaces != policy::NamespaceMode::kOff) {
        pid = sandbox::namespaces::clone_process(plan.clone_flags);
        if (pid == 0) become_init(plan);
        if (pid < 0 && namespaces == policy::NamespaceMode::kRequire) {
            outcome.error =
                "cannot start " + spec.path +
                ": its sandbox requires its own namespaces, and clone failed: " + errno_text(errno);
            return started;
        }
    }
    const bool isolated = pid > 0;
    // Which cap on the number of processes holds: the request's own (the user namespace's
    // RLIMIT_NPROC, or a root command's cgroup), the account's (a policy's RLIMIT_NPROC
    // outside a user namespace), or none.
    const bool account_cap =
        spec.sandbox != nullptr && spec.sandbox->processes_from_policy && !as_root;
    const bool request_cap = isolated && (as_root ? group.has_value() : true);
    outcome.containment = sandbox::namespaces::describe(isolated, as_root, hide) + " processes=" +
                          (request_cap   ? "request"
                           : account_cap ? "account"
                                         : "unbounded");
    if (!isolated) {
        // No namespaces (off, or refused under prefer): a plain fork, no init.
        plan.clone_flags = 0;
        plan.map_ids = false;
        plan.hidden = nullptr;
        pid = ::fork();
        if (pid == 0) become_command(plan, false);
    }
    if (pid < 0) {
        outcome.error = "cannot start " + spec.path + ": fork: " + errno_text(errno);
        return started;
    }
    out_write.reset();
    err_write.reset();
    status_write.reset();
    child_socket.reset();
    lifeline_read.reset();
    report_write.reset();

    // Exec-once: the child's own execve waits for bridle's answer, so take the listener and
    // let that first execve through before waiting for the exec (below). No listener: the
    // child failed earlier and its reason is on the error pipe.
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_supervisor;
    if (exec_once) {
        pid_t sender = -1;
        const int listener = sandbox::exec_once::receive_listener(listener_socket.get(), &sender);
        if (listener >= 0) {
            // Without credentials nothing could let the first exec through: it stays refused.
            exec_supervisor = std::make_unique<sandbox::exec_once::Supervisor>(
                listener, sender,
                spec.sandbox->exec_log ? sandbox::exec_once::Mode::kLog
                                       : sandbox::exec_once::Mode::kRefuse);
            if (exec_supervisor->allow_first_exec(status_read.get(), spec.path) ==
                sandbox::exec_once::FirstExec::kBroken) {
                // Its execve would wait for an answer forever: kill it before it runs anything.
                if (kept != nullptr) {
                    end_kept_call(*kept, call);
                } else {
                    ::kill(pid, SIGKILL);
                    int status;
                    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                    }
                }
                outcome.error = "cannot start " + spec.path +
                                ": could not let its first exec through (exec-once needs "
                                "seccomp user notification with continue, Linux 5.5)";
                return started;
            }
        }
    }

    // Under a kept init the command is the init's child, not ours: the init reaps it.
    const bool execed = await_exec(status_read.get(), kept != nullptr ? -1 : pid, spec.path,
                                   outcome.error, outcome.exec_errno);
    if (!execed && kept != nullptr) end_kept_call(*kept, call);
    if (execed) {
        if (out_read.get() >= 0) ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
        ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
        started.pid = pid;
        started.stdout_fd = std::move(out_read);
        started.stderr_fd = std::move(err_read);
        started.exec_once = std::move(exec_supervisor);
        started.kept = kept;
        started.call = call;
        if (isolated && kept == nullptr) {
            ::fcntl(report_read.get(), F_SETFL, O_NONBLOCK);
            started.lifeline = std::move(lifeline_write);
            started.report = std::move(report_read);
            started.cgroup = std::move(group);
        }
    }
    return started;
}

pid_t clone_kept_init(unsigned long clone_flags, int control,
                      const std::vector<std::string>& hidden) {
    ChildPlan plan{};
    plan.clone_flags = clone_flags;
    plan.map_ids = (clone_flags & CLONE_NEWUSER) != 0;
    plan.uid = ::geteuid();
    plan.gid = ::getegid();
    plan.cgroup_procs_fd = -1;
    plan.hidden = hidden.empty() ? nullptr : &hidden;
    const pid_t pid = sandbox::namespaces::clone_process(clone_flags);
    if (pid == 0) become_kept_init(plan, control);
    return pid;
}

pid_t start_under_kept_init(const KeptCommand& command) noexcept {
    ChildPlan plan{};
    plan.path = command.path;
    plan.argv = command.argv;
    plan.envp = command.envp;
    plan.stdin_fd = command.fds.stdin_fd;
    plan.stdout_fd = command.fds.stdout_fd;
    plan.stderr_fd = command.fds.stderr_fd;
    plan.error_fd = command.fds.error_fd;
    plan.parent = 1;
    plan.sandbox = command.sandbox;
    plan.landlock_fd = command.fds.landlock_fd;
    plan.exec_once_socket = command.fds.exec_once_fd;
    plan.pass_fds = nullptr;
    plan.pass_fd_count = 0;
    plan.map_ids = true;  // a kept init is always in its own user namespace
    plan.lifeline_fd = plan.report_fd = plan.cgroup_procs_fd = -1;
    // Its own IPC namespace: what it creates there dies with its last process, as with an
    // init of its own.
    return sandbox::namespaces::clone_shared_until_exec(command_under_init, &plan, CLONE_NEWIPC);
}

}  // namespace bridle::execution::detail
