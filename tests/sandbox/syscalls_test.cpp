// SPDX-License-Identifier: Apache-2.0
// The sandbox at the system-call level, on this machine's kernel: try_syscall (one call, exit
// status = its errno) runs through execution::run in each seccomp profile, natively, through
// the x32 ABI and as an i386 binary, and must get exactly the expected errno (or be killed,
// for a foreign architecture; never let through). Then exec-once, Landlock, resource limits,
// and the fail-closed paths of the child's set-up.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "execution/runner.hpp"
#include "sandbox/exec_once.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::sandbox {
namespace {

using namespace std::chrono_literals;
using policy::SeccompProfile;
namespace fs = std::filesystem;

constexpr int kNotStarted = -1000;  // the helper could not even be exec'd

const std::vector<SeccompProfile> kBaseline = {SeccompProfile::kBaseline};
const std::vector<SeccompProfile> kNoNetwork = {SeccompProfile::kNoNetwork};
const std::vector<SeccompProfile> kNoWrite = {SeccompProfile::kNoWrite};

policy::SandboxProfile profile_of(std::vector<SeccompProfile> seccomp, bool exec_once) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.name = "test";
    profile.seccomp = std::move(seccomp);
    profile.exec_once = exec_once;
    return profile;
}

Prepared prepared_for(const policy::SandboxProfile& profile,
                      policy::LandlockSetting setting = policy::LandlockSetting::kAuto) {
    const Plan plan = plan_for_this_kernel(profile, setting);
    Result<Prepared> prepared = prepare(plan);
    EXPECT_TRUE(prepared.ok()) << (prepared.ok() ? "" : prepared.error().full());
    return prepared.ok() ? std::move(prepared).value() : Prepared{};
}

// A scratch directory with the fixtures the file system calls act on.
class Scratch {
  public:
    Scratch() {
        std::string templ = fs::temp_directory_path().string() + "/bridle-sbx.XXXXXX";
        path_ = ::mkdtemp(templ.data());
        std::ofstream(path_ + "/existing") << "x";
        std::ofstream(path_ + "/file") << "x";
        fs::create_directory(path_ + "/dir");
        fs::create_directory(path_ + "/allowed");
    }
    ~Scratch() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

struct Ran {
    execution::Outcome outcome;
    std::string out, err;
    // The helper's verdict: its errno, -signal when killed, kNotStarted.
    int code() const {
        if (!outcome.started) return kNotStarted;
        if (outcome.signal != 0) return -outcome.signal;
        return outcome.exit_status;
    }
};

Ran run(const std::vector<std::string>& argv, const Prepared* sandbox) {
    execution::Spec spec;
    spec.path = argv.at(0);
    spec.argv = argv;
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C"}};
    spec.timeout = 10s;
    spec.kill_grace = 200ms;
    spec.sandbox = sandbox;
    Ran ran;
    ran.outcome = execution::run(spec, [&ran](execution::Stream s, std::string_view bytes) {
        (s == execution::Stream::kStdout ? ran.out : ran.err).append(bytes);
        return true;
    });
    return ran;
}

std::string show(int code) {
    if (code == kNotStarted) return "not started";
    if (code < 0) return std::string("killed by ") + sigabbrev_np(-code);
    if (code == 0) return "success";
    if (code == 100) return "unknown call (helper exit 100)";
    const char* name = strerrorname_np(code);
    return name != nullptr ? name : "exit " + std::to_string(code);
}

// ---- One call per profile --------------------------------------------------------------------

struct Row {
    std::string call;
    std::vector<SeccompProfile> profiles;
    bool exec_once;
    std::set<int> expected;  // any of these
};

// Negative rows first and most: what each profile must stop. The allowed rows prove that
// the helper works and that each profile leaves alone what it does not name.
const std::vector<Row>& rows() {
    // clang-format off
    static const std::vector<Row> table = {
        // baseline
        {"mount", kBaseline, true, {EPERM}},
        {"umount2", kBaseline, true, {EPERM}},
        {"chroot", kBaseline, true, {EPERM}},
        {"ptrace", kBaseline, true, {EPERM}},
        {"unshare-user", kBaseline, true, {EPERM}},
        {"unshare-none", kBaseline, true, {EPERM}},
        {"setns", kBaseline, true, {EPERM}},
        {"clone-newuser", kBaseline, true, {EPERM}},
        {"clone-newns", kBaseline, true, {EPERM}},
        {"clone-newnet", kBaseline, true, {EPERM}},
        {"clone3", kBaseline, true, {ENOSYS}},
        {"bpf", kBaseline, true, {EPERM}},
        {"keyctl", kBaseline, true, {EPERM}},
        {"add_key", kBaseline, true, {EPERM}},
        {"userfaultfd", kBaseline, true, {EPERM}},
        {"io_uring_setup", kBaseline, true, {EPERM}},
        {"perf_event_open", kBaseline, true, {EPERM}},
        {"process_vm_readv", kBaseline, true, {EPERM}},
        {"personality-no-aslr", kBaseline, true, {EPERM}},
        {"personality-linux32", kBaseline, true, {EPERM}},
        {"ioctl-tiocsti", kBaseline, true, {EPERM}},
        {"ioctl-tiocsti-high-bits", kBaseline, true, {EPERM}},
        {"ioctl-tioclinux", kBaseline, true, {EPERM}},
        {"settimeofday", kBaseline, true, {EPERM}},
        {"clock_settime", kBaseline, true, {EPERM}},
        {"reboot", kBaseline, true, {EPERM}},
        {"init_module", kBaseline, true, {EPERM}},
        {"swapon", kBaseline, true, {EPERM}},
        {"modify_ldt", kBaseline, true, {EPERM}},
        {"setxattrat", kBaseline, true, {ENOSYS}},  // newer than libseccomp: the ceiling
        {"file_setattr", kBaseline, true, {ENOSYS}},
        {"seccomp-listener", kBaseline, true, {EPERM}},
        {"getpid", kBaseline, true, {0}},
        {"fork", kBaseline, true, {0}},
        {"open-rdonly", kBaseline, true, {0}},
        {"personality-query", kBaseline, true, {0}},
        {"personality-linux", kBaseline, true, {0}},
        {"ioctl-tcgets", kBaseline, true, {ENOTTY}},
        {"seccomp-filter", kBaseline, true, {0}},
        {"socket-inet", kBaseline, true, {0}},
        {"open-wronly", kBaseline, true, {0}},
        // no-network
        {"socket-inet", kNoNetwork, false, {EAFNOSUPPORT}},
        {"socket-inet6", kNoNetwork, false, {EAFNOSUPPORT}},
        {"socket-netlink", kNoNetwork, false, {EAFNOSUPPORT}},
        {"socket-inet-high-bits", kNoNetwork, false, {EAFNOSUPPORT}},
        {"socketpair-inet", kNoNetwork, false, {EAFNOSUPPORT}},
        {"io_uring_setup", kNoNetwork, false, {EPERM}},
        {"socket-unix", kNoNetwork, false, {0}},
        {"socketpair-unix", kNoNetwork, false, {0}},
        {"mount", kNoNetwork, false, {ENOENT}},  // not this profile's business
        // no-write
        {"open-wronly", kNoWrite, false, {EPERM}},
        {"open-rdwr", kNoWrite, false, {EPERM}},
        {"open-creat", kNoWrite, false, {EPERM}},
        {"open-trunc", kNoWrite, false, {EPERM}},
        {"open-append", kNoWrite, false, {EPERM}},
        {"open-tmpfile", kNoWrite, false, {EPERM}},
        {"openat2", kNoWrite, false, {ENOSYS}},
        {"creat", kNoWrite, false, {EPERM}},
        {"mkdir", kNoWrite, false, {EPERM}},
        {"rmdir", kNoWrite, false, {EPERM}},
        {"unlink", kNoWrite, false, {EPERM}},
        {"rename", kNoWrite, false, {EPERM}},
        {"link", kNoWrite, false, {EPERM}},
        {"symlink", kNoWrite, false, {EPERM}},
        {"mkfifo", kNoWrite, false, {EPERM}},
        {"chmod", kNoWrite, false, {EPERM}},
        {"chown", kNoWrite, false, {EPERM}},
        {"truncate", kNoWrite, false, {EPERM}},
        {"utimensat", kNoWrite, false, {EPERM}},
        {"setxattr", kNoWrite, false, {EPERM}},
        {"io_uring_setup", kNoWrite, false, {EPERM}},
        {"open-rdonly", kNoWrite, false, {0}},
        {"open-rdonly-high-bits", kNoWrite, false, {0}},
        {"socket-inet", kNoWrite, false, {0}},
        // exec-once
        {"execve", {}, true, {EPERM}},
        {"execveat", {}, true, {EPERM}},
        {"seccomp-listener", {}, true, {EPERM}},
        {"execve", kBaseline, false, {0}},
        {"execveat", kBaseline, false, {0}},
        {"seccomp-listener", kBaseline, false, {0}},
        // x32 (x86_64 only; this kernel may not run x32 at all: then ENOSYS when allowed)
        {"x32-socket-inet", kNoNetwork, false, {EAFNOSUPPORT}},
        {"x32-unshare-user", kBaseline, false, {EPERM}},
        {"x32-mkdir", kNoWrite, false, {EPERM}},
        {"x32-execve", {}, true, {EPERM}},
        {"x32-getpid", kBaseline, true, {0, ENOSYS}},
    };
    // clang-format on
    return table;
}

bool is_x32(const std::string& call) {
    return call.rfind("x32-", 0) == 0;
}
#if defined(__x86_64__)
constexpr bool kHostHasX32Abi = true;
#else
constexpr bool kHostHasX32Abi = false;
#endif

std::string profile_name(const Row& row) {
    std::string name;
    for (const SeccompProfile p : row.profiles)
        name += std::string(policy::seccomp_profile_name(p)) + "+";
    return name + (row.exec_once ? "exec-once" : "no-exec-once");
}

void check_rows(const std::string& helper, bool i386) {
    Scratch scratch;
    for (const Row& row : rows()) {
        if (is_x32(row.call) && (i386 || !kHostHasX32Abi)) continue;
        if (i386 && row.call.find("high-bits") != std::string::npos) continue;  // 32-bit registers
        SCOPED_TRACE(row.call + " under " + profile_name(row));
        const Prepared prepared = prepared_for(profile_of(row.profiles, row.exec_once));
        const Ran ran = run({helper, row.call, scratch.path()}, &prepared);
        // i386's glibc makes socket() and socketpair() through socketcall(2), whose
        // arguments lie behind a pointer: no-network denies socketcall's SOCKET and
        // SOCKETPAIR whatever the family (docs/sandbox.md), AF_UNIX included.
        const bool through_socketcall =
            i386 && (row.call == "socket-unix" || row.call == "socketpair-unix");
        if (through_socketcall) {
            EXPECT_EQ(show(ran.code()), show(EAFNOSUPPORT)) << ran.outcome.error;
            continue;
        }
        EXPECT_TRUE(row.expected.count(ran.code()) == 1)
            << "got " << show(ran.code()) << ", expected " << show(*row.expected.begin())
            << "; error: " << ran.outcome.error;
        const bool execs = row.exec_once && (row.call.find("execve") != std::string::npos);
        EXPECT_EQ(ran.outcome.exec_blocked, execs ? 1u : 0u);
    }
}

TEST(SyscallsNative, EachProfileGivesTheExpectedErrno) {
    check_rows(TRY_SYSCALL, false);
}

// The compat ABI: an i386 binary's calls carry AUDIT_ARCH_I386 and i386 numbers. They must be
// filtered like native ones (or killed), never let through. A kernel booted without i386
// emulation (ia32_emulation=off, as this CI's is) refuses to exec such a binary at all
// (ENOEXEC), which is "never let through" too; the BPF for i386 is then checked call by call
// in sandbox_test (SeccompFilter.EveryCallOnEveryArchitectureGetsItsAction).
bool kernel_runs_i386(const std::string& helper) {
    return run({helper, "getpid"}, nullptr).outcome.started;
}

#if !defined(__x86_64__)
#define SKIP_UNLESS_X86_64() GTEST_SKIP() << "the i386 compat ABI exists on x86_64 hosts only"
#else
#define SKIP_UNLESS_X86_64() static_cast<void>(0)
#endif

TEST(SyscallsI386, NoDeniedCallGetsThroughTheCompatAbi) {
    SKIP_UNLESS_X86_64();
    const std::string helper = TRY_SYSCALL32;
    ASSERT_FALSE(helper.empty())
        << "no i386 helper: install libc6-dev-i386 lib32gcc-12-dev (install/deps.sh)";
    const Prepared prepared = prepared_for(profile_of(
        {SeccompProfile::kBaseline, SeccompProfile::kNoNetwork, SeccompProfile::kNoWrite}, true));
    Scratch scratch;
    for (const char* call : {"mount", "ptrace", "unshare-user", "bpf", "socket-inet", "mkdir",
                             "open-wronly", "execve", "clone-newuser", "setxattrat"}) {
        SCOPED_TRACE(call);
        const Ran ran = run({helper, call, scratch.path()}, &prepared);
        if (!ran.outcome.started) {
            EXPECT_EQ(ran.outcome.exec_errno, ENOEXEC) << ran.outcome.error;  // no i386 at all
        } else {
            EXPECT_TRUE(ran.code() == EPERM || ran.code() == EAFNOSUPPORT || ran.code() == ENOSYS ||
                        ran.code() == -SIGSYS)
                << "got " << show(ran.code());
        }
    }
}

TEST(SyscallsI386, EachProfileGivesTheExpectedErrno) {
    SKIP_UNLESS_X86_64();
    const std::string helper = TRY_SYSCALL32;
    ASSERT_FALSE(helper.empty())
        << "no i386 helper: install libc6-dev-i386 lib32gcc-12-dev (install/deps.sh)";
    if (!kernel_runs_i386(helper)) {
        GTEST_SKIP() << "this kernel does not run i386 binaries (ENOEXEC: booted without "
                        "ia32_emulation); SyscallsI386.NoDeniedCallGetsThroughTheCompatAbi and "
                        "the BPF tests in sandbox_test cover i386";
    }
    check_rows(helper, true);
    // socketcall(2): i386's other way to socket(), whose arguments BPF cannot read.
    const Prepared no_network = prepared_for(profile_of(kNoNetwork, false));
    EXPECT_EQ(run({helper, "socketcall-unix"}, &no_network).code(), EAFNOSUPPORT);
}

// As root, the same calls unsandboxed get the kernel's own answers: the errnos above come
// from the filter, not from the helper or the machine.
TEST(SyscallsNative, UnsandboxedTheSameCallsReachTheKernel) {
    if (::geteuid() != 0) GTEST_SKIP() << "the control values assume root";
    Scratch scratch;
    // clang-format off
    const std::vector<std::pair<std::string, int>> controls = {
        {"mount", ENOENT},
        {"umount2", ENOENT},
        {"setns", EBADF},
        {"bpf", EINVAL},
        {"clone3", 0},
        {"ioctl-tiocsti", ENOTTY},
        {"reboot", EINVAL},
        {"socket-inet", 0},
        {"open-wronly", 0},
        {"mkdir", 0},
        {"execve", 0},
        {"seccomp-listener", 0},
        {"personality-no-aslr", 0},
        {"fork", 0},
    };
    // clang-format on
    for (const auto& [call, expected] : controls) {
        SCOPED_TRACE(call);
        EXPECT_EQ(show(run({TRY_SYSCALL, call, scratch.path()}, nullptr).code()), show(expected));
    }
}

// ---- Exec-once -------------------------------------------------------------------------------

TEST(ExecOnce, EveryLaterExecIsRefusedAndCounted) {
    const Prepared prepared = prepared_for(profile_of(kBaseline, true));
    const Ran ran =
        run({"/bin/sh", "-c", "/bin/true; /bin/true; /bin/true; echo survived"}, &prepared);
    ASSERT_TRUE(ran.outcome.started) << ran.outcome.error;
    EXPECT_EQ(ran.outcome.exec_blocked, 3u);
    EXPECT_EQ(ran.out, "survived\n");
    EXPECT_NE(ran.err.find("Operation not permitted"), std::string::npos) << ran.err;
}

// A PATH search tries each directory: each attempt is refused and counted.
TEST(ExecOnce, PathSearchesAreRefusedAtEveryAttempt) {
    const Prepared prepared = prepared_for(profile_of({}, true));
    const Ran ran = run({"/bin/sh", "-c", "ls /; exit 3"}, &prepared);
    EXPECT_EQ(ran.code(), 3);
    EXPECT_EQ(ran.out, "");
    EXPECT_EQ(ran.outcome.exec_blocked, 2u);  // PATH=/usr/bin:/bin
}

// Grandchildren and background processes are in the same tree, under the same filter.
TEST(ExecOnce, DescendantsCannotExecEither) {
    const Prepared prepared = prepared_for(profile_of(kBaseline, true));
    const Ran ran =
        run({"/bin/sh", "-c", "( ( /bin/echo deep ) & wait ) ; wait; echo done"}, &prepared);
    EXPECT_EQ(ran.out, "done\n");
    EXPECT_EQ(ran.outcome.exec_blocked, 1u);
}

// The first exec may fail on its own (a missing program): reported as usual, not blocked.
TEST(ExecOnce, AFailedFirstExecIsReportedNormally) {
    const Prepared prepared = prepared_for(profile_of(kBaseline, true));
    const Ran ran = run({"/nonexistent/bridle-program"}, &prepared);
    EXPECT_FALSE(ran.outcome.started);
    EXPECT_EQ(ran.outcome.exec_errno, ENOENT);
    EXPECT_EQ(ran.outcome.exec_blocked, 0u);
}

// Without exec-once the same script runs its programs.
TEST(ExecOnce, OffLetsProgramsRun) {
    const Prepared prepared = prepared_for(profile_of(kBaseline, false));
    const Ran ran = run({"/bin/sh", "-c", "/bin/echo ran"}, &prepared);
    EXPECT_EQ(ran.out, "ran\n");
    EXPECT_EQ(ran.outcome.exec_blocked, 0u);
}

// If bridle's listener goes away, the kernel fails every later exec (ENOSYS): fail closed.
// Driven by hand here: fork, apply(), let the first exec through, then close the listener.
TEST(ExecOnce, ExecsFailWhenTheSupervisorIsGone) {
    const Prepared prepared = prepared_for(profile_of({}, true));
    int sockets[2], status[2], out[2], in[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), 0);
    ASSERT_EQ(::pipe2(status, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        if (apply(prepared, {-1, sockets[1]}) != Stage::kDone) ::_exit(71);
        char sh[] = "/bin/sh", c[] = "-c";
        char script[] = "read line; /bin/true; echo \"exit $?\"";
        char* argv[] = {sh, c, script, nullptr};
        char* envp[] = {nullptr};
        ::execve("/bin/sh", argv, envp);
        ::_exit(72);
    }
    ::close(sockets[1]);
    ::close(status[1]);
    ::close(out[1]);
    ::close(in[0]);
    pid_t sender = -1;
    const int listener = exec_once::receive_listener(sockets[0], &sender);
    ASSERT_GE(listener, 0);
    {
        exec_once::Supervisor supervisor(listener, pid);
        EXPECT_EQ(supervisor.allow_first_exec(status[0]), exec_once::FirstExec::kContinued);
        char eof;
        EXPECT_EQ(::read(status[0], &eof, 1), 0);  // the exec happened
    }  // the listener closes here, while the shell waits in `read` for its first line
    ASSERT_EQ(::write(in[1], "\n", 1), 1);
    ::close(in[1]);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    char buf[64] = {};
    const ssize_t n = ::read(out[0], buf, sizeof buf - 1);
    EXPECT_GT(n, 0);
    EXPECT_STRNE(buf, "exit 0\n") << "an exec ran without bridle's answer";
    EXPECT_TRUE(std::string(buf) == "exit 126\n" || std::string(buf) == "exit 127\n") << buf;
    ::close(sockets[0]);
    ::close(status[0]);
    ::close(out[0]);
}

// ---- Landlock --------------------------------------------------------------------------------

class Landlock : public ::testing::Test {
  protected:
    void SetUp() override {
        if (landlock::abi_version() == 0) GTEST_SKIP() << "this kernel has no Landlock";
    }
    static std::string helper_dir() { return fs::path(TRY_SYSCALL).parent_path().string(); }
    static policy::SandboxProfile with(policy::LandlockRules rules) {
        policy::SandboxProfile profile = profile_of({}, false);
        profile.landlock = std::move(rules);
        return profile;
    }
};

TEST_F(Landlock, WritesOutsideTheWriteSetAreRefused) {
    Scratch scratch;
    policy::LandlockRules rules;
    rules.write = std::vector<std::string>{scratch.path() + "/allowed", "/nonexistent-is-skipped"};
    const Prepared prepared = prepared_for(with(rules));
    EXPECT_GE(prepared.landlock_ruleset, 0);
    EXPECT_EQ(show(run({TRY_SYSCALL, "open-wronly", scratch.path()}, &prepared).code()), "EACCES");
    EXPECT_EQ(show(run({TRY_SYSCALL, "mkdir", scratch.path()}, &prepared).code()), "EACCES");
    EXPECT_EQ(show(run({TRY_SYSCALL, "unlink", scratch.path()}, &prepared).code()), "EACCES");
    EXPECT_EQ(show(run({TRY_SYSCALL, "truncate", scratch.path()}, &prepared).code()), "EACCES");
    EXPECT_EQ(show(run({TRY_SYSCALL, "open-rdonly", scratch.path()}, &prepared).code()), "success");
    EXPECT_EQ(show(run({TRY_SYSCALL, "mkdir", scratch.path() + "/allowed"}, &prepared).code()),
              "success");
    // Forced off (settings.landlock: off), the same profile does not confine.
    const Prepared off = prepared_for(with(rules), policy::LandlockSetting::kOff);
    EXPECT_EQ(off.landlock_ruleset, -1);
    EXPECT_EQ(show(run({TRY_SYSCALL, "open-wronly", scratch.path()}, &off).code()), "success");
}

TEST_F(Landlock, ReadsOutsideTheReadSetAreRefused) {
    Scratch scratch;
    policy::LandlockRules rules;
    // The program and its libraries must stay readable (ld.so maps them with open(2)).
    rules.read =
        std::vector<std::string>{"/usr", "/lib", "/lib64", "/etc/ld.so.cache", helper_dir()};
    const Prepared prepared = prepared_for(with(rules));
    EXPECT_EQ(show(run({TRY_SYSCALL, "open-rdonly", scratch.path()}, &prepared).code()), "EACCES");
    EXPECT_EQ(show(run({TRY_SYSCALL, "getpid", scratch.path()}, &prepared).code()), "success");
}

TEST_F(Landlock, ExecutesOutsideTheExecuteSetAreRefused) {
    policy::LandlockRules rules;
    // The helper and its ELF interpreter (/usr/lib/...), but not /usr/bin.
    rules.execute = std::vector<std::string>{helper_dir(), "/usr/lib", "/lib"};
    const Prepared prepared = prepared_for(with(rules));
    EXPECT_EQ(show(run({TRY_SYSCALL, "execve"}, &prepared).code()), "EACCES");
    // Even the first exec: Landlock applies before bridle's own execve.
    policy::LandlockRules only_usr_bin;
    only_usr_bin.execute = std::vector<std::string>{"/usr/bin"};
    const Prepared strict = prepared_for(with(only_usr_bin));
    const Ran ran = run({TRY_SYSCALL, "getpid"}, &strict);
    EXPECT_FALSE(ran.outcome.started);
    EXPECT_EQ(ran.outcome.exec_errno, EACCES);
}

TEST_F(Landlock, RequireRefusesWhenForcedOff) {
    policy::LandlockRules rules;
    rules.mode = policy::LandlockRules::Mode::kRequire;
    rules.write = std::vector<std::string>{};
    EXPECT_TRUE(plan_for_this_kernel(with(rules), policy::LandlockSetting::kAuto).refusal.empty());
    EXPECT_FALSE(plan_for_this_kernel(with(rules), policy::LandlockSetting::kOff).refusal.empty());
}

// ---- Resource limits and umask -------------------------------------------------------------

TEST(Limits, TheCommandSeesItsLimitsAndUmask) {
    policy::SandboxProfile profile = profile_of(kBaseline, true);
    profile.limits.open_files = 64;
    profile.limits.cpu = std::chrono::seconds(30);
    profile.umask = 077;
    const Prepared prepared = prepared_for(profile);
    const Ran ran = run({"/bin/sh", "-c", "ulimit -n; ulimit -c; ulimit -t; umask"}, &prepared);
    EXPECT_EQ(ran.out, "64\n0\n30\n0077\n") << ran.err;
}

TEST(Limits, CpuTimeIsCutOff) {
    policy::SandboxProfile profile = profile_of(kBaseline, true);
    profile.limits.cpu = std::chrono::seconds(1);
    const Prepared prepared = prepared_for(profile);
    const Ran ran = run({"/bin/sh", "-c", "while :; do :; done"}, &prepared);
    EXPECT_TRUE(ran.outcome.signal == SIGXCPU || ran.outcome.signal == SIGKILL)
        << "signal " << ran.outcome.signal;
    EXPECT_FALSE(ran.outcome.timed_out);
}

TEST(Limits, FileSizeIsCutOff) {
    Scratch scratch;
    policy::SandboxProfile profile = profile_of(kBaseline, true);
    profile.limits.file_size = 1024;
    const Prepared prepared = prepared_for(profile);
    const Ran ran =
        run({"/bin/sh", "-c", "printf '%2000s' x > " + scratch.path() + "/big"}, &prepared);
    EXPECT_EQ(ran.outcome.signal, SIGXFSZ);
    EXPECT_LE(fs::file_size(scratch.path() + "/big"), 1024u);
}

// ---- Fail closed -------------------------------------------------------------------------------

// A sandbox the child cannot enter runs nothing, and says which step failed.
TEST(FailClosed, ABrokenLandlockRulesetRunsNothing) {
    Prepared prepared = prepared_for(profile_of(kBaseline, true));
    prepared.landlock_ruleset = 987;  // not an open fd
    const Ran ran = run({"/bin/echo", "ran"}, &prepared);
    prepared.landlock_ruleset = -1;
    EXPECT_FALSE(ran.outcome.started);
    EXPECT_EQ(ran.out, "");
    EXPECT_NE(ran.outcome.error.find("could not enter its Landlock sandbox"), std::string::npos)
        << ran.outcome.error;
}

TEST(FailClosed, AFilterTheKernelRefusesRunsNothing) {
    Prepared prepared = prepared_for(profile_of(kBaseline, false));
    prepared.filter = {sock_filter{BPF_JMP | BPF_JA, 0, 0, 5}};  // jumps out of the program
    const Ran ran = run({"/bin/echo", "ran"}, &prepared);
    EXPECT_FALSE(ran.outcome.started);
    EXPECT_EQ(ran.out, "");
    EXPECT_NE(ran.outcome.error.find("could not load its seccomp filter"), std::string::npos)
        << ran.outcome.error;
}

TEST(FailClosed, AnImpossibleLimitRunsNothing) {
    Prepared prepared = prepared_for(profile_of(kBaseline, false));
    prepared.limits.settings[0] = {RLIMIT_NOFILE, rlimit{10, 5}};      // soft above hard: EINVAL
    prepared.limits_shared.settings[0] = prepared.limits.settings[0];  // as root: no user ns
    const Ran ran = run({"/bin/echo", "ran"}, &prepared);
    EXPECT_FALSE(ran.outcome.started);
    EXPECT_NE(ran.outcome.error.find("could not set its resource limits"), std::string::npos)
        << ran.outcome.error;
}

}  // namespace
}  // namespace bridle::sandbox
