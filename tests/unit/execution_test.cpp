// SPDX-License-Identifier: Apache-2.0
// execution::run against real processes: exec hygiene, output streaming and caps, timeouts,
// disconnects, and that nothing the command started outlives the request; run_auxiliary's
// programs start from the same clean slate.
#include "execution/detach.hpp"
#include "execution/kept_init.hpp"
#include "execution/runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "execution/auxiliary.hpp"

namespace bridle::execution {
namespace {

using namespace std::chrono_literals;

struct Captured {
    std::string out, err;
    int calls = 0;
};

OutputSink capture_into(Captured& captured) {
    return [&captured](Stream stream, std::string_view bytes) {
        ++captured.calls;
        (stream == Stream::kStdout ? captured.out : captured.err).append(bytes);
        return true;
    };
}

// Short timeouts: the test machine has two cores and this file should stay under ~15 s.
Spec make_spec(std::vector<std::string> argv) {
    Spec spec;
    spec.path = argv.at(0);
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.timeout = 5s;
    spec.kill_grace = 300ms;
    return spec;
}

Spec shell(const std::string& script) {
    return make_spec({"/bin/sh", "-c", script});
}

struct Ran {
    Outcome outcome;
    Captured output;
};

Ran run_capturing(const Spec& spec) {
    Ran ran;
    ran.outcome = run(spec, capture_into(ran.output));
    return ran;
}

// A sleep duration no other test or process uses, so /proc can be searched for it.
std::string unique_marker(int base) {
    return std::to_string(base) + std::to_string(::getpid());
}

// Whether a live process runs exactly `sleep MARKER` (zombies have an empty cmdline).
bool sleeper_alive(const std::string& marker) {
    const std::string wanted = std::string("sleep") + '\0' + marker + '\0';
    DIR* proc = ::opendir("/proc");
    bool found = false;
    while (const dirent* entry = proc != nullptr ? ::readdir(proc) : nullptr) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        std::ifstream file(std::string("/proc/") + entry->d_name + "/cmdline", std::ios::binary);
        std::string cmdline;
        try {
            cmdline.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
        } catch (const std::ios_base::failure&) {
            continue;  // it exited between open and read (ESRCH): libstdc++'s underflow throws
        }
        if (cmdline.size() >= wanted.size() &&
            cmdline.compare(cmdline.size() - wanted.size(), wanted.size(), wanted) == 0 &&
            (cmdline.size() == wanted.size() ||
             cmdline[cmdline.size() - wanted.size() - 1] == '/')) {
            found = true;
        }
    }
    if (proc != nullptr) ::closedir(proc);
    return found;
}

// Polls /proc while a run is in progress, to prove the marked process did exist.
class SleeperWatch {
  public:
    explicit SleeperWatch(std::string marker)
        : thread_([this, marker = std::move(marker)] {
              while (!stop_ && !seen_) {
                  if (sleeper_alive(marker)) seen_ = true;
                  std::this_thread::sleep_for(5ms);
              }
          }) {}
    ~SleeperWatch() { stop(); }
    bool seen() {
        stop();
        return seen_;
    }

  private:
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::atomic<bool> stop_{false}, seen_{false};
    std::thread thread_;
};

// The command's own exit status is reported unchanged.
TEST(Execution, ExitStatusPassesThrough) {
    struct Case {
        const char* name;
        Spec spec;
        int status;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"true", make_spec({"/bin/true"}), 0},
        {"false", make_spec({"/bin/false"}), 1},
        {"exit 42", shell("exit 42"), 42},
        {"exit 255", shell("exit 255"), 255},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Ran ran = run_capturing(c.spec);
        EXPECT_TRUE(ran.outcome.started);
        EXPECT_EQ(ran.outcome.exit_status, c.status);
        EXPECT_EQ(ran.outcome.signal, 0);
        EXPECT_FALSE(ran.outcome.timed_out);
        EXPECT_FALSE(ran.outcome.disconnected);
        EXPECT_TRUE(ran.outcome.error.empty()) << ran.outcome.error;
        EXPECT_TRUE(ran.outcome.supervision_error.empty()) << ran.outcome.supervision_error;
    }
}

// A command that dies from a signal reports the signal, not an exit status.
TEST(Execution, DeathBySignalIsReported) {
    for (int sig : {SIGKILL, SIGTERM, SIGSEGV}) {
        SCOPED_TRACE(sig);
        const Ran ran = run_capturing(shell("kill -" + std::to_string(sig) + " $$"));
        EXPECT_TRUE(ran.outcome.started);
        EXPECT_EQ(ran.outcome.signal, sig);
        EXPECT_EQ(ran.outcome.exit_status, -1);
        EXPECT_FALSE(ran.outcome.timed_out);
    }
}

// The command sees exactly spec.env: nothing from bridle's own environment leaks in.
TEST(Execution, EnvironmentIsExactlySpecEnv) {
    ::setenv("BRIDLE_TEST_LEAK", "1", 1);
    ::setenv("LD_PRELOAD", "/nonexistent.so", 1);
    Spec spec = make_spec({"/usr/bin/env"});
    spec.env = {{"A", "1"}, {"EMPTY", ""}, {"LANG", "C.UTF-8"}, {"WITH_SPACE", "two words"}};
    Ran ran = run_capturing(spec);
    EXPECT_EQ(ran.output.out, "A=1\nEMPTY=\nLANG=C.UTF-8\nWITH_SPACE=two words\n");
    EXPECT_EQ(ran.outcome.exit_status, 0);

    spec.env.clear();
    ran = run_capturing(spec);
    EXPECT_EQ(ran.output.out, "");
    EXPECT_EQ(ran.outcome.exit_status, 0);
    ::unsetenv("BRIDLE_TEST_LEAK");
    ::unsetenv("LD_PRELOAD");
}

// A path that is not absolute is never searched for, neither in PATH nor relative to the
// child's working directory "/" (where "usr/bin/env" would otherwise resolve).
TEST(Execution, RelativePathIsNeverSearched) {
    for (const char* path : {"env", "usr/bin/env", "./usr/bin/env", ""}) {
        SCOPED_TRACE(path);
        Spec spec = make_spec({"env"});
        spec.path = path;
        const Ran ran = run_capturing(spec);
        EXPECT_FALSE(ran.outcome.started);
        EXPECT_EQ(ran.outcome.exec_errno, ENOENT);
        EXPECT_NE(ran.outcome.error.find(std::string("cannot execute ") + path), std::string::npos)
            << ran.outcome.error;
        EXPECT_EQ(ran.output.out, "");
    }
}

// execve failures come back as started=false with the errno and a message naming the path.
TEST(Execution, ExecFailureNamesThePath) {
    char dir_template[] = "/tmp/bridle-exec-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string garbage = std::string(dir_template) + "/garbage";
    std::ofstream(garbage) << "\x01\x02\x03 not a program";
    ::chmod(garbage.c_str(), 0755);

    struct Case {
        std::string path;
        int err;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"/nonexistent/bridle-test", ENOENT},
        {"/etc/passwd", EACCES},  // not executable
        {"/", EACCES},            // a directory
        {garbage, ENOEXEC},       // executable bit, unknown format
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.path);
        const Ran ran = run_capturing(make_spec({c.path}));
        EXPECT_FALSE(ran.outcome.started);
        EXPECT_EQ(ran.outcome.exec_errno, c.err);
        EXPECT_NE(ran.outcome.error.find("cannot execute " + c.path + ": "), std::string::npos)
            << ran.outcome.error;
        EXPECT_EQ(ran.outcome.exit_status, -1);
    }
    ::unlink(garbage.c_str());
    ::rmdir(dir_template);
}

// Strings execve would silently cut at a NUL byte are refused before anything runs.
TEST(Execution, NulBytesAreRefusedBeforeFork) {
    Spec in_argument = make_spec({"/bin/echo", std::string("a\0b", 3)});
    Spec in_env_value = make_spec({"/bin/true"});
    in_env_value.env["X"] = std::string("1\0LD_PRELOAD=x", 14);
    Spec in_env_name = make_spec({"/bin/true"});
    in_env_name.env["A=B"] = "1";
    for (const Spec* spec : {&in_argument, &in_env_value, &in_env_name}) {
        const Ran ran = run_capturing(*spec);
        EXPECT_FALSE(ran.outcome.started);
        EXPECT_EQ(ran.outcome.exec_errno, 0);
        EXPECT_NE(ran.outcome.error.find("refusing to execute"), std::string::npos)
            << ran.outcome.error;
    }
}

// stdin is /dev/null: cat ends at once even though the test's own stdin is a pipe that
// never reaches EOF. With pass_stdin, the given fd is the command's stdin.
TEST(Execution, StdinIsDevNullUnlessPassed) {
    int never_ending[2];
    ASSERT_EQ(::pipe(never_ending), 0);
    const int saved_stdin = ::dup(0);
    ::dup2(never_ending[0], 0);
    const Ran ran = run_capturing(make_spec({"/bin/cat"}));
    ::dup2(saved_stdin, 0);
    ::close(saved_stdin);
    ::close(never_ending[0]);
    ::close(never_ending[1]);
    EXPECT_EQ(ran.outcome.exit_status, 0);
    EXPECT_EQ(ran.output.out, "");
    EXPECT_FALSE(ran.outcome.timed_out);
    EXPECT_LT(ran.outcome.duration, 2s);

    int input[2];
    ASSERT_EQ(::pipe(input), 0);
    ASSERT_EQ(::write(input[1], "hello\n", 6), 6);
    ::close(input[1]);
    Spec spec = make_spec({"/bin/cat"});
    spec.pass_stdin = true;
    spec.stdin_fd = input[0];
    const Ran passed = run_capturing(spec);
    ::close(input[0]);
    EXPECT_EQ(passed.output.out, "hello\n");
    EXPECT_EQ(passed.outcome.exit_status, 0);
}

// Descriptors other than 0, 1, 2 never reach the command, even ones opened without
// O_CLOEXEC; 0 is /dev/null and 1, 2 are two different pipes.
TEST(Execution, OnlyStdioIsInherited) {
    const int leaked_file = ::open("/dev/null", O_RDONLY);  // deliberately no O_CLOEXEC
    int leaked_pipe[2];
    ASSERT_EQ(::pipe(leaked_pipe), 0);
    const Ran ran = run_capturing(make_spec({"/bin/ls", "-l", "/proc/self/fd"}));
    ::close(leaked_file);
    ::close(leaked_pipe[0]);
    ::close(leaked_pipe[1]);
    ASSERT_EQ(ran.outcome.exit_status, 0) << ran.output.err;

    std::map<int, std::string> targets;  // fd -> link target
    std::istringstream lines(ran.output.out);
    for (std::string line; std::getline(lines, line);) {
        const std::size_t arrow = line.find(" -> ");
        if (arrow == std::string::npos) continue;
        const std::size_t space = line.rfind(' ', arrow - 1);
        targets[std::stoi(line.substr(space + 1, arrow - space - 1))] = line.substr(arrow + 4);
    }
    std::set<int> fds;
    for (const auto& [fd, target] : targets) fds.insert(fd);
    EXPECT_EQ(fds, (std::set<int>{0, 1, 2, 3})) << ran.output.out;  // 3: ls's own directory fd
    EXPECT_EQ(targets[0], "/dev/null");
    EXPECT_EQ(targets[1].rfind("pipe:", 0), 0u);
    EXPECT_EQ(targets[2].rfind("pipe:", 0), 0u);
    EXPECT_NE(targets[1], targets[2]);
}

// Spec::pass_fds (issue 13, files bridle opened for the command): those fds, and only those,
// reach the command at the same numbers, although they were opened close-on-exec; numbers
// below 3 and too many are refused before fork.
TEST(Execution, PassFdsAndNothingElseSurviveExec) {
    const int passed = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    const int other = ::open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(passed, 3);
    ASSERT_GE(other, 3);
    const std::string fd_path = "/dev/fd/" + std::to_string(passed);
    Spec spec = make_spec({"/bin/cat", fd_path});
    spec.pass_fds = {passed};
    const Ran ran = run_capturing(spec);
    EXPECT_EQ(ran.outcome.exit_status, 0) << ran.output.err;
    std::ifstream hostname("/etc/hostname");
    std::stringstream expected;
    expected << hostname.rdbuf();
    EXPECT_EQ(ran.output.out, expected.str());

    Spec not_passed = make_spec({"/bin/cat", "/dev/fd/" + std::to_string(other)});
    not_passed.pass_fds = {passed};
    const Ran refused = run_capturing(not_passed);
    EXPECT_NE(refused.outcome.exit_status, 0);  // cat: No such file or directory
    EXPECT_EQ(refused.output.out, "");
    // The caller still owns both (the child's F_SETFD is its own copy).
    EXPECT_EQ(::fcntl(passed, F_GETFD), FD_CLOEXEC);
    ::close(passed);
    ::close(other);

    for (const std::vector<int>& bad :
         {std::vector<int>{0}, std::vector<int>{2}, std::vector<int>(kMaxPassFds + 1, 5)}) {
        Spec spec_bad = make_spec({"/bin/true"});
        spec_bad.pass_fds = bad;
        const Ran r = run_capturing(spec_bad);
        EXPECT_FALSE(r.outcome.started);
        EXPECT_NE(r.outcome.error.find("refusing to pass"), std::string::npos) << r.outcome.error;
    }
}

// The command leads a new session and process group and has no controlling terminal
// (/proc/PID/stat fields 5 pgrp, 6 session, 7 tty_nr).
TEST(Execution, CommandLeadsItsOwnSessionWithoutTerminal) {
    const Ran ran = run_capturing(shell("cat /proc/$$/stat"));
    ASSERT_EQ(ran.outcome.exit_status, 0) << ran.output.err;
    const std::string& stat = ran.output.out;
    const int pid = std::stoi(stat);
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    char state;
    int ppid, pgrp, session, tty;
    rest >> state >> ppid >> pgrp >> session >> tty;
    EXPECT_EQ(ppid, ::getpid());
    EXPECT_EQ(pgrp, pid);
    EXPECT_EQ(session, pid);
    EXPECT_EQ(tty, 0);
}

// Ignores one signal and blocks another in this thread while it lives, as bridle may.
class IgnoreAndBlock {
  public:
    IgnoreAndBlock(int ignored, int blocked) : ignored_(ignored) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(ignored, &ignore, &old_action_);
        sigset_t block;
        ::sigemptyset(&block);
        ::sigaddset(&block, blocked);
        ::pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
    }
    ~IgnoreAndBlock() {
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
        ::sigaction(ignored_, &old_action_, nullptr);
    }
    IgnoreAndBlock(const IgnoreAndBlock&) = delete;
    IgnoreAndBlock& operator=(const IgnoreAndBlock&) = delete;

  private:
    int ignored_;
    struct sigaction old_action_ {};
    sigset_t old_mask_{};
};

// Ignored and blocked signals in bridle do not carry over: the command starts with every
// signal at its default action and none blocked.
TEST(Execution, SignalsStartDefaultAndUnblocked) {
    const IgnoreAndBlock in_bridle(SIGUSR1, SIGUSR2);
    const Ran ran =
        run_capturing(make_spec({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
    EXPECT_EQ(ran.output.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

// Regression: GNU make (and so dh_auto_test) starts its children with signals 32 and 33, which
// glibc reserves for itself, ignored. glibc's sigaction refuses to touch them, so the command
// inherited them ignored. The raw system call resets them.
TEST(Execution, GlibcReservedSignalsStartDefaultToo) {
    struct KernelAction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        std::uint64_t mask;
    };
    KernelAction ignore{SIG_IGN, 0, nullptr, 0}, old32{}, old33{};
    ASSERT_EQ(::syscall(SYS_rt_sigaction, 32, &ignore, &old32, sizeof(std::uint64_t)), 0);
    ASSERT_EQ(::syscall(SYS_rt_sigaction, 33, &ignore, &old33, sizeof(std::uint64_t)), 0);

    const Ran ran = run_capturing(make_spec({"/bin/grep", "-E", "^SigIgn", "/proc/self/status"}));

    ::syscall(SYS_rt_sigaction, 32, &old32, nullptr, sizeof(std::uint64_t));
    ::syscall(SYS_rt_sigaction, 33, &old33, nullptr, sizeof(std::uint64_t));
    EXPECT_EQ(ran.output.out, "SigIgn:\t0000000000000000\n");
}

// The command starts in / with umask 022, whatever bridle's own are.
TEST(Execution, StartsInRootWithUmask022) {
    const mode_t old_umask = ::umask(077);
    const Ran ran = run_capturing(shell("umask; pwd"));
    ::umask(old_umask);
    EXPECT_EQ(ran.output.out, "0022\n/\n");
}

// stdout and stderr arrive on their own streams, each counted.
TEST(Execution, StdoutAndStderrAreSeparate) {
    const Ran ran = run_capturing(shell("echo out; echo error >&2; echo more"));
    EXPECT_EQ(ran.output.out, "out\nmore\n");
    EXPECT_EQ(ran.output.err, "error\n");
    EXPECT_EQ(ran.outcome.stdout_bytes, 9u);
    EXPECT_EQ(ran.outcome.stderr_bytes, 6u);
    EXPECT_FALSE(ran.outcome.stdout_truncated || ran.outcome.stderr_truncated);
}

// Past max_output a stream is truncated but still read to the end: the command is not
// blocked or killed by SIGPIPE, and every produced byte is counted.
TEST(Execution, OutputCapTruncatesButDrains) {
    struct Case {
        const char* name;
        std::uint64_t produced, cap;
        bool to_stderr, truncated;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"under the cap", 999, 1000, false, false},
        {"exactly the cap", 1000, 1000, false, false},
        {"one past the cap", 1001, 1000, false, true},
        {"10 MB past the cap", 10'000'000, 1000, false, true},
        {"zero cap", 10, 0, false, true},
        {"stderr past the cap", 5000, 1000, true, true},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Spec spec = shell("head -c " + std::to_string(c.produced) + " /dev/zero" +
                          (c.to_stderr ? " >&2" : ""));
        spec.max_output = c.cap;
        const Ran ran = run_capturing(spec);
        EXPECT_EQ(ran.outcome.exit_status, 0);
        EXPECT_EQ(ran.outcome.signal, 0);
        const std::string& forwarded = c.to_stderr ? ran.output.err : ran.output.out;
        EXPECT_EQ(forwarded.size(), std::min(c.produced, c.cap));
        EXPECT_EQ(c.to_stderr ? ran.outcome.stderr_bytes : ran.outcome.stdout_bytes, c.produced);
        EXPECT_EQ(c.to_stderr ? ran.outcome.stderr_truncated : ran.outcome.stdout_truncated,
                  c.truncated);
        EXPECT_FALSE(c.to_stderr ? ran.outcome.stdout_truncated : ran.outcome.stderr_truncated);
    }
}

// The timeout sends SIGTERM, and the run ends well within timeout + grace.
TEST(Execution, TimeoutTerminatesTheCommand) {
    Spec spec = make_spec({"/bin/sleep", "30"});
    spec.timeout = 300ms;
    const Ran ran = run_capturing(spec);
    EXPECT_TRUE(ran.outcome.started);
    EXPECT_TRUE(ran.outcome.timed_out);
    EXPECT_FALSE(ran.outcome.disconnected);
    EXPECT_EQ(ran.outcome.signal, SIGTERM);
    EXPECT_GE(ran.outcome.duration, 300ms);
    EXPECT_LT(ran.outcome.duration, 1500ms);
}

// A command that ignores SIGTERM gets SIGKILL once kill_grace has passed.
TEST(Execution, TimeoutEscalatesToSigkill) {
    Spec spec = shell("trap '' TERM; sleep 30");  // the ignored TERM is inherited by sleep
    spec.timeout = 300ms;
    const Ran ran = run_capturing(spec);
    EXPECT_TRUE(ran.outcome.timed_out);
    EXPECT_EQ(ran.outcome.signal, SIGKILL);
    EXPECT_GE(ran.outcome.duration, 600ms);
    EXPECT_LT(ran.outcome.duration, 2s);
}

// On timeout the whole tree dies: background children in the command's process group,
// and descendants that left it with setsid or by double-forking.
TEST(Execution, TimeoutKillsTheWholeTree) {
    const std::string m = unique_marker(3141);
    // clang-format off
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"background children", "sleep " + m + " & sleep " + m + " & wait"},
        {"escaped with setsid", "setsid sleep " + m + " & sleep " + m},
        {"double fork into a new session",
         "(setsid sleep " + m + " >/dev/null 2>&1 &); sleep " + m},
    };
    // clang-format on
    for (const auto& [name, script] : cases) {
        SCOPED_TRACE(name);
        Spec spec = shell(script);
        spec.timeout = 300ms;
        SleeperWatch watch(m);
        const Ran ran = run_capturing(spec);
        EXPECT_TRUE(watch.seen());
        EXPECT_TRUE(ran.outcome.timed_out);
        EXPECT_LT(ran.outcome.duration, 2s);
        EXPECT_FALSE(sleeper_alive(m));
        EXPECT_TRUE(ran.outcome.supervision_error.empty()) << ran.outcome.supervision_error;
    }
}

// When the main command exits, run() returns promptly with its status and kills what it
// left running in the background, whether or not that still holds the output pipes.
TEST(Execution, MainExitKillsLeftoverDescendants) {
    const std::string m = unique_marker(2718);
    // clang-format off
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"background child", "sleep " + m + " & sleep 0.1; exit 0"},
        {"escaped with setsid", "setsid sleep " + m + " & sleep 0.1; exit 0"},
        {"daemonized, pipes closed",
         "(setsid sleep " + m + " >/dev/null 2>&1 &); sleep 0.1; exit 0"},
    };
    // clang-format on
    for (const auto& [name, script] : cases) {
        SCOPED_TRACE(name);
        Spec spec = shell(script);
        spec.timeout = 10s;
        SleeperWatch watch(m);
        const Ran ran = run_capturing(spec);
        EXPECT_TRUE(watch.seen());
        EXPECT_EQ(ran.outcome.exit_status, 0);
        EXPECT_FALSE(ran.outcome.timed_out);
        EXPECT_LT(ran.outcome.duration, 2s);
        EXPECT_FALSE(sleeper_alive(m));
    }
}

// A sink that reports the client gone (false) or throws ends the run as a disconnect: the
// command is killed and the sink is not called again.
TEST(Execution, SinkFailureDisconnectsAndKills) {
    for (bool throws : {false, true}) {
        SCOPED_TRACE(throws ? "sink throws" : "sink returns false");
        int calls = 0;
        const Outcome outcome =
            run(make_spec({"/usr/bin/yes"}), [&](Stream, std::string_view) -> bool {
                ++calls;
                if (throws) throw std::runtime_error("channel closed");
                return false;
            });
        EXPECT_TRUE(outcome.disconnected);
        EXPECT_FALSE(outcome.timed_out);
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(outcome.signal, SIGTERM);
        EXPECT_GT(outcome.stdout_bytes, 0u);
        EXPECT_LT(outcome.duration, 2s);
        EXPECT_EQ(outcome.supervision_error.empty(), !throws) << outcome.supervision_error;
    }
}

// POLLHUP on a hangup fd (the client's side closed) ends the run as a disconnect.
TEST(Execution, HangupFdDisconnects) {
    for (bool use_socket : {false, true}) {
        SCOPED_TRACE(use_socket ? "socketpair" : "pipe");
        int fds[2];
        ASSERT_EQ(use_socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)
                             : ::pipe2(fds, O_CLOEXEC),
                  0);
        Spec spec = make_spec({"/bin/sleep", "30"});
        spec.hangup_fds = {fds[0]};
        // The thread starts before run() starts its clock: 250 ms, so that the close always
        // comes at least 200 ms into the run (a 200 ms sleep once measured 199 ms).
        std::thread client([peer = fds[1]] {
            std::this_thread::sleep_for(250ms);
            ::close(peer);
        });
        const Ran ran = run_capturing(spec);
        client.join();
        ::close(fds[0]);
        EXPECT_TRUE(ran.outcome.disconnected);
        EXPECT_FALSE(ran.outcome.timed_out);
        EXPECT_EQ(ran.outcome.signal, SIGTERM);
        EXPECT_GE(ran.outcome.duration, 200ms);
        EXPECT_LT(ran.outcome.duration, 1500ms);
    }
}

// SIGHUP, SIGTERM or SIGINT sent to bridle during a run end it as a disconnect; bridle
// survives them, and its signal mask is restored with nothing left pending.
TEST(Execution, SignalToBridleDisconnectsAndIsConsumed) {
    for (int sig : {SIGHUP, SIGTERM, SIGINT}) {
        SCOPED_TRACE(sig);
        sigset_t before, after, pending;
        ::pthread_sigmask(SIG_SETMASK, nullptr, &before);
        const pthread_t runner = ::pthread_self();
        std::thread sender([runner, sig] {
            std::this_thread::sleep_for(200ms);
            ::pthread_kill(runner, sig);  // thread-directed: this thread blocks it during run()
        });
        const Ran ran = run_capturing(make_spec({"/bin/sleep", "30"}));
        sender.join();
        ::pthread_sigmask(SIG_SETMASK, nullptr, &after);
        ::sigpending(&pending);
        EXPECT_TRUE(ran.outcome.disconnected);
        EXPECT_EQ(ran.outcome.signal, SIGTERM);
        EXPECT_LT(ran.outcome.duration, 1500ms);
        EXPECT_EQ(::sigismember(&after, sig), ::sigismember(&before, sig));
        EXPECT_EQ(::sigismember(&after, SIGCHLD), ::sigismember(&before, SIGCHLD));
        EXPECT_FALSE(::sigismember(&pending, sig));
    }
}

// ---- run_auxiliary (visudo, ssh-keygen) ------------------------------------------------------

AuxSpec aux_spec(std::vector<std::string> argv) {
    AuxSpec spec;
    spec.path = argv.at(0);
    spec.argv = std::move(argv);
    spec.stdout_to = AuxOutput::kCapture;
    spec.stderr_to = AuxOutput::kCapture;
    return spec;
}

// Pipelines: stage i's stdout is stage i+1's stdin, bridle's pipe and no shell's.
std::vector<Outcome> run_stages(const std::vector<Spec>& stages, Captured& captured) {
    return run_pipeline(stages, capture_into(captured));
}

TEST(Pipeline, StagesAreWiredInOrder) {
    Captured c;
    const std::vector<Outcome> o =
        run_stages({shell("printf 'b\\na\\nc\\n'; echo one >&2"), make_spec({"/usr/bin/sort"}),
                    shell("cat; echo three >&2")},
                   c);
    ASSERT_EQ(o.size(), 3U);
    EXPECT_EQ(c.out, "a\nb\nc\n");  // the last stage's stdout alone reaches the sink
    EXPECT_NE(c.err.find("one\n"), std::string::npos);  // every stage's stderr does
    EXPECT_NE(c.err.find("three\n"), std::string::npos);
    for (const Outcome& stage : o) {
        EXPECT_TRUE(stage.started);
        EXPECT_EQ(stage.exit_status, 0);
    }
    EXPECT_EQ(o[0].stdout_bytes, 0U);  // into the pipe: nothing of it was read by bridle
    EXPECT_EQ(o[2].stdout_bytes, 6U);
}

// The last stage's stdin is the pipe; bridle holds no end of it, so EOF comes when the
// writer exits, and a writer whose reader is gone gets SIGPIPE: a normal result.
TEST(Pipeline, EarlyExitOfAReaderEndsItsWriterBySigpipe) {
    Captured c;
    const std::vector<Outcome> o =
        run_stages({make_spec({"/usr/bin/yes"}), make_spec({"/usr/bin/head", "-n", "2"})}, c);
    EXPECT_EQ(c.out, "y\ny\n");
    EXPECT_EQ(o[0].signal, SIGPIPE);
    EXPECT_EQ(o[1].exit_status, 0);
    EXPECT_FALSE(o[0].timed_out);
    EXPECT_LT(o[1].duration, 2s);
}

// The first stage's stdin is its Spec's (here /dev/null); a middle stage sees its
// writer's EOF.
TEST(Pipeline, EofFlowsDownThePipeline) {
    Captured c;
    const std::vector<Outcome> o = run_stages(
        {make_spec({"/bin/cat"}), make_spec({"/usr/bin/wc", "-c"}), make_spec({"/bin/cat"})}, c);
    EXPECT_EQ(c.out, "0\n");
    for (const Outcome& stage : o) EXPECT_EQ(stage.exit_status, 0);
}

// One shared timeout (the last stage's) kills every stage and what each started.
TEST(Pipeline, TimeoutKillsEveryStage) {
    const std::string m = unique_marker(1618);
    std::vector<Spec> stages = {shell("sleep " + m + " & sleep " + m), shell("cat; sleep " + m)};
    stages.back().timeout = 300ms;
    SleeperWatch watch(m);
    Captured c;
    const std::vector<Outcome> o = run_stages(stages, c);
    EXPECT_TRUE(watch.seen());
    EXPECT_TRUE(o[0].timed_out);
    EXPECT_TRUE(o[1].timed_out);
    EXPECT_LT(o[1].duration, 2s);
    EXPECT_FALSE(sleeper_alive(m));
}

// A stage that cannot start ends the ones already running; nothing after it starts.
TEST(Pipeline, AStageThatCannotStartEndsThePipeline) {
    const std::string m = unique_marker(1414);
    Captured c;
    const std::vector<Outcome> o = run_stages(
        {shell("sleep " + m), make_spec({"/nonexistent/program"}), shell("touch /nonexistent")}, c);
    EXPECT_TRUE(o[0].started);
    EXPECT_FALSE(o[1].started);
    EXPECT_EQ(o[1].exec_errno, ENOENT);
    EXPECT_FALSE(o[2].started);
    EXPECT_EQ(o[0].signal, SIGKILL);
    EXPECT_LT(o[0].duration, 2s);
    EXPECT_FALSE(sleeper_alive(m));
}

// The output cap holds for what reaches the client: the last stage's stdout, and all the
// stages' stderr together.
TEST(Pipeline, OutputCapIsTheLastStagesAndStderrIsShared) {
    std::vector<Spec> stages = {shell("head -c 5000 /dev/zero >&2; head -c 100000 /dev/zero"),
                                shell("cat; head -c 5000 /dev/zero >&2")};
    stages.back().max_output = 4096;
    Captured c;
    const std::vector<Outcome> o = run_stages(stages, c);
    EXPECT_EQ(c.out.size(), 4096U);
    EXPECT_EQ(c.err.size(), 4096U);
    EXPECT_EQ(o[1].stdout_bytes, 100000U);
    EXPECT_EQ(o[0].stderr_bytes + o[1].stderr_bytes, 10000U);
    EXPECT_TRUE(o[1].stdout_truncated);
    EXPECT_EQ(o[0].exit_status, 0);
}

// A departed client ends every stage.
TEST(Pipeline, SinkFailureEndsEveryStage) {
    int calls = 0;
    const std::vector<Outcome> o =
        run_pipeline({shell("sleep 30"), shell("echo hi; sleep 30")},
                     [&calls](Stream, std::string_view) { return ++calls > 1; });
    EXPECT_TRUE(o[0].disconnected);
    EXPECT_TRUE(o[1].disconnected);
    EXPECT_LT(o[1].duration, 3s);
}

// What bridle ignores (SIGPIPE, main() sets SIG_IGN) or blocks does not carry over, and no
// descriptor but 0, 1, 2 does, not even one opened without O_CLOEXEC. A plain fork + execve or
// posix_spawn without attributes and file actions would pass all three on.
TEST(Auxiliary, StartsWithDefaultSignalsAndOnlyStdio) {
    const IgnoreAndBlock in_bridle(SIGPIPE, SIGUSR2);  // main() ignores SIGPIPE
    const int leaked = ::open("/dev/null", O_RDONLY);  // deliberately no O_CLOEXEC
    ASSERT_GE(leaked, 3);

    const Result<AuxResult> signals =
        run_auxiliary(aux_spec({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
    const Result<AuxResult> fds = run_auxiliary(aux_spec({"/bin/ls", "/proc/self/fd"}));
    AuxSpec stdio = aux_spec({"/bin/readlink", "/proc/self/fd/0", "/proc/self/fd/2"});
    stdio.stderr_to = AuxOutput::kDiscard;
    const Result<AuxResult> targets = run_auxiliary(stdio);

    ::close(leaked);
    ASSERT_TRUE(signals.ok()) << signals.error().message;
    EXPECT_EQ(signals.value().out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    ASSERT_TRUE(fds.ok()) << fds.error().message;
    EXPECT_EQ(fds.value().out, "0\n1\n2\n3\n") << fds.value().err;  // 3: ls's own directory fd
    ASSERT_TRUE(targets.ok()) << targets.error().message;
    EXPECT_EQ(targets.value().out, "/dev/null\n/dev/null\n");  // no stdin bytes; discarded
}

// Stdin bytes reach it, both streams come back apart, the exit status passes through.
TEST(Auxiliary, StdinBytesAndCapturedOutput) {
    AuxSpec cat = aux_spec({"/bin/cat"});
    cat.stdin_bytes = "ssh-ed25519 AAAA\n";
    const Result<AuxResult> echoed = run_auxiliary(cat);
    ASSERT_TRUE(echoed.ok()) << echoed.error().message;
    EXPECT_EQ(echoed.value().out, "ssh-ed25519 AAAA\n");
    EXPECT_EQ(echoed.value().err, "");
    EXPECT_TRUE(echoed.value().succeeded());

    const Result<AuxResult> failed = run_auxiliary(aux_spec({"/bin/ls", "/nonexistent"}));
    ASSERT_TRUE(failed.ok()) << failed.error().message;
    EXPECT_EQ(failed.value().exit_status, 2);
    EXPECT_FALSE(failed.value().succeeded());
    EXPECT_EQ(failed.value().out, "");
    EXPECT_NE(failed.value().err.find("/nonexistent"), std::string::npos);
}

// The environment is exactly the spec's (empty: none at all).
TEST(Auxiliary, EnvironmentIsExactlyTheSpecs) {
    AuxSpec env = aux_spec({"/usr/bin/env"});
    const Result<AuxResult> empty = run_auxiliary(env);
    ASSERT_TRUE(empty.ok()) << empty.error().message;
    EXPECT_EQ(empty.value().out, "");
    env.env = {{"LC_ALL", "C"}, {"PATH", "/usr/sbin:/usr/bin"}};
    const Result<AuxResult> fixed = run_auxiliary(env);
    ASSERT_TRUE(fixed.ok()) << fixed.error().message;
    EXPECT_EQ(fixed.value().out, "LC_ALL=C\nPATH=/usr/sbin:/usr/bin\n");
}

// A captured stream keeps max_output bytes; the rest is read, so the program is not stuck.
TEST(Auxiliary, OutputCapTruncatesButDrains) {
    AuxSpec cat = aux_spec({"/bin/cat"});
    cat.stdin_bytes = std::string(300 * 1024, 'x');
    cat.max_output = 1000;
    const Result<AuxResult> ran = run_auxiliary(cat);
    ASSERT_TRUE(ran.ok()) << ran.error().message;
    EXPECT_EQ(ran.value().out, std::string(1000, 'x'));
    EXPECT_TRUE(ran.value().truncated);
    EXPECT_TRUE(ran.value().succeeded());
}

// Never a PATH search; a failed execve is an error that names the program.
TEST(Auxiliary, RelativePathAndExecFailureAreErrors) {
    const Result<AuxResult> relative = run_auxiliary(aux_spec({"ls"}));
    ASSERT_FALSE(relative.ok());
    EXPECT_NE(relative.error().message.find("not an absolute path"), std::string::npos)
        << relative.error().message;
    const Result<AuxResult> missing = run_auxiliary(aux_spec({"/nonexistent/visudo"}));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              "cannot execute /nonexistent/visudo: No such file or directory");
    const Result<AuxResult> nul = run_auxiliary(aux_spec({"/bin/echo", std::string("a\0b", 3)}));
    ASSERT_FALSE(nul.ok());
    EXPECT_NE(nul.error().message.find("NUL byte"), std::string::npos) << nul.error().message;
}

// idle_timeout: a command silent for that long is killed; one whose output keeps coming is
// not, however long it runs; and the wall-clock timeout stays apart from it.
TEST(Execution, IdleTimeoutKillsASilentCommand) {
    Spec spec = make_spec({"/bin/sleep", "30"});
    spec.idle_timeout = 300ms;
    const Ran ran = run_capturing(spec);
    EXPECT_TRUE(ran.outcome.idle_timed_out);
    EXPECT_FALSE(ran.outcome.timed_out);
    EXPECT_EQ(ran.outcome.signal, SIGTERM);
    EXPECT_GE(ran.outcome.duration, 300ms);
    EXPECT_LT(ran.outcome.duration, 1500ms);
}

TEST(Execution, IdleTimeoutSparesACommandWhoseOutputFlows) {
    Spec spec = shell("for i in 1 2 3 4 5 6; do echo $i; sleep 0.2; done");
    spec.idle_timeout = 600ms;
    const Ran ran = run_capturing(spec);
    EXPECT_FALSE(ran.outcome.idle_timed_out);
    EXPECT_EQ(ran.outcome.exit_status, 0);
    EXPECT_EQ(ran.output.out, "1\n2\n3\n4\n5\n6\n");
    EXPECT_GE(ran.outcome.duration, 1000ms);  // longer than the idle timeout, all told
}

TEST(Execution, IdleTimeoutCountsFromTheLastOutput) {
    Spec spec = shell("echo early; sleep 30");
    spec.idle_timeout = 400ms;
    const Ran ran = run_capturing(spec);
    EXPECT_TRUE(ran.outcome.idle_timed_out);
    EXPECT_EQ(ran.output.out, "early\n");
}

// detach(): the detached process is in a session of its own, ignores SIGHUP, has /dev/null
// for stdio, is not the caller's child, and has closed the descriptors it was given.
TEST(Detach, TheSupervisorLeavesTheCallersSessionAndPipes) {
    int report[2], held[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(held, O_CLOEXEC), 0);
    const auto null_stdio = [] {
        struct stat null {
        }, fd{};
        if (::stat("/dev/null", &null) != 0) return false;
        for (int i = 0; i <= 2; ++i) {
            if (::fstat(i, &fd) != 0 || fd.st_rdev != null.st_rdev) return false;
        }
        return true;
    };
    const pid_t caller_sid = ::getsid(0);
    const Detached d = detach({held[1]});
    if (d.in_child) {
        struct sigaction hup {};
        ::sigaction(SIGHUP, nullptr, &hup);
        const std::string facts =
            // A new session, led by the middle process: the supervisor itself is no leader,
            // so it can never acquire a controlling terminal again.
            std::string(::getsid(0) != caller_sid && ::getsid(0) != ::getpid() ? "new-session "
                                                                               : "old-session ") +
            (hup.sa_handler == SIG_IGN ? "hup-ignored " : "hup-default ") +
            (::fcntl(held[1], F_GETFD) < 0 ? "closed " : "open ") +
            (null_stdio() ? "null-stdio" : "stdio");
        (void)!::write(report[1], facts.data(), facts.size());
        ::_exit(0);
    }
    ::close(report[1]);
    ::close(held[1]);
    ASSERT_GT(d.pid, 0) << d.error;
    std::string facts;
    char buffer[128];
    ssize_t n;
    while ((n = ::read(report[0], buffer, sizeof buffer)) > 0) facts.append(buffer, n);
    ::close(report[0]);
    EXPECT_EQ(facts, "new-session hup-ignored closed null-stdio");
    // The held pipe's last write end went with the detached process: EOF here.
    EXPECT_EQ(::read(held[0], buffer, sizeof buffer), 0);
    ::close(held[0]);
    // Not our child, unless this process is a subreaper (execution::run makes it one).
    int subreaper = 0;
    ::prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
    if (subreaper != 0) {
        (void)::waitpid(d.pid, nullptr, 0);
    } else {
        EXPECT_EQ(::waitpid(d.pid, nullptr, WNOHANG), -1);
    }
}

// A caller that is a child subreaper (a session's worker once it has run a command) does not
// adopt the detached process: it goes to the subreaper above (the session), not to the caller,
// whose next run would kill it as an orphan of its own. The caller is one again afterwards.
TEST(Detach, ASubreaperCallerDoesNotAdoptTheDetachedProcess) {
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    const pid_t session = ::fork();
    ASSERT_GE(session, 0);
    if (session == 0) {
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) ::_exit(10);
        const pid_t worker = ::fork();
        if (worker == 0) {
            if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) ::_exit(11);
            const Detached d = detach({});
            if (d.in_child) {
                ::pause();  // until the worker kills it
                ::_exit(0);
            }
            // detach() returned after the middle process was reaped: the reparenting is done.
            std::ifstream stat("/proc/" + std::to_string(d.pid) + "/stat");
            const std::string line{std::istreambuf_iterator<char>(stat), {}};
            std::istringstream fields(line.substr(line.rfind(')') + 1));
            std::string state, parent;
            fields >> state >> parent;
            int subreaper = 0;
            ::prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
            const std::string facts =
                (parent == std::to_string(::getppid()) ? "session-adopted "
                                                       : "parent=" + parent + " ") +
                (subreaper != 0 ? "still-subreaper" : "no-longer-subreaper");
            (void)!::write(report[1], facts.data(), facts.size());
            if (d.pid > 0) ::kill(d.pid, SIGKILL);
            ::_exit(0);
        }
        ::close(report[1]);
        while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {  // the worker and the orphan
        }
        ::_exit(worker > 0 ? 0 : 12);
    }
    ::close(report[1]);
    std::string facts;
    char buffer[128];
    ssize_t n;
    while ((n = ::read(report[0], buffer, sizeof buffer)) > 0) facts.append(buffer, n);
    ::close(report[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(session, &status, 0), session);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(facts, "session-adopted still-subreaper");
}

// A kept init's plan crosses as bytes (execution/kept_init.hpp): every field comes back, and
// anything that is not exactly an encoded plan is refused.
TEST(KeptInit, APlanCrossesAsBytesAndNothingElseIsTaken) {
    detail::KeptPlan plan;
    plan.path = "/bin/echo";
    plan.argv = {"/bin/echo", "a b", std::string("nul\0inside", 10), ""};
    plan.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}};
    plan.backstop_ms = 62'000;
    plan.limits.settings[0] = {RLIMIT_NPROC, {256, 256}};
    plan.limits.settings[1] = {RLIMIT_AS, {RLIM_INFINITY, RLIM_INFINITY}};
    plan.limits.count = 2;
    plan.umask = 077;
    plan.no_new_privs = true;
    plan.exec_once = true;
    plan.has_landlock = true;
    plan.wall = {{0x20, 0, 0, 4}, {0x06, 0, 0, 0x7fff0000}};
    plan.filter = {{0x06, 0, 0, 0x7fff0000}};
    const std::string bytes = detail::encode(plan);
    const std::optional<detail::KeptPlan> back = detail::decode(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->path, plan.path);
    EXPECT_EQ(back->argv, plan.argv);
    EXPECT_EQ(back->env, plan.env);
    EXPECT_EQ(back->backstop_ms, plan.backstop_ms);
    ASSERT_EQ(back->limits.count, 2U);
    EXPECT_EQ(back->limits.settings[1].resource, RLIMIT_AS);
    EXPECT_EQ(back->limits.settings[1].value.rlim_max, RLIM_INFINITY);
    EXPECT_EQ(back->umask, 077U);
    EXPECT_TRUE(back->no_new_privs && back->exec_once && back->has_landlock);
    EXPECT_FALSE(back->has_stdin);
    ASSERT_EQ(back->wall.size(), 2U);
    EXPECT_EQ(back->wall[1].k, 0x7fff0000U);
    EXPECT_TRUE(back->ceiling.empty());
    EXPECT_EQ(back->filter.size(), 1U);

    // Every cut short, one byte more, another version, a name twice: refused.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_FALSE(detail::decode(bytes.substr(0, n))) << n;
    }
    EXPECT_FALSE(detail::decode(bytes + '\0'));
    std::string other = bytes;
    other[0] = 2;
    EXPECT_FALSE(detail::decode(other));
    detail::KeptPlan twice = plan;
    twice.env = {{"A", "1"}, {"B", "2"}};
    std::string doubled = detail::encode(twice);
    const std::size_t b = doubled.find("\x01\0\0\0B");
    ASSERT_NE(b, std::string::npos);
    doubled[b + 4] = 'A';
    EXPECT_FALSE(detail::decode(doubled));
}

}  // namespace
}  // namespace bridle::execution
