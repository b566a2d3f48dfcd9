// SPDX-License-Identifier: Apache-2.0
// The exec log (exec_log: true) on this machine's kernel, through execution::run: every execve
// and execveat of the command's tree runs and is recorded, in order, bounded; and
// exec_log_probe's attempts to stall, confuse or slip past the supervisor fail.
#include <cerrno>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "execution/runner.hpp"
#include "sandbox/exec_log.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::sandbox {
namespace {

using namespace std::chrono_literals;

policy::SandboxProfile logging_profile() {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.name = "logged";
    profile.exec_once = false;
    profile.exec_log = true;
    return profile;
}

struct Ran {
    execution::Outcome outcome;
    std::string out, err;
};

Ran run_logged(const std::vector<std::string>& argv,
               policy::NamespaceMode namespaces = policy::NamespaceMode::kPrefer) {
    policy::SandboxProfile profile = logging_profile();
    profile.namespaces = namespaces;
    Result<Prepared> prepared = prepare(plan_for_this_kernel(profile, {}));
    EXPECT_TRUE(prepared.ok()) << (prepared.ok() ? "" : prepared.error().full());
    if (!prepared.ok()) return {};
    execution::Spec spec;
    spec.path = argv.at(0);
    spec.argv = argv;
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C"}};
    spec.timeout = std::chrono::seconds(20);
    spec.kill_grace = 200ms;
    spec.sandbox = &prepared.value();
    Ran ran;
    ran.outcome = execution::run(spec, [&ran](execution::Stream s, std::string_view bytes) {
        (s == execution::Stream::kStdout ? ran.out : ran.err).append(bytes);
        return true;
    });
    return ran;
}

// Every program a script starts runs and is in the log, after the script itself, in order.
TEST(ExecLog, EveryExecRunsAndIsRecordedInOrder) {
    const Ran ran = run_logged({"/bin/sh", "-c",
                                "/bin/echo one; /usr/bin/printf two; cd /usr && "
                                "./bin/true && exec /bin/echo three"});
    ASSERT_TRUE(ran.outcome.started) << ran.outcome.error;
    EXPECT_EQ(ran.outcome.exit_status, 0) << ran.err;
    EXPECT_EQ(ran.out, "one\ntwothree\n");
    EXPECT_TRUE(ran.outcome.exec_logged);
    EXPECT_EQ(ran.outcome.exec_blocked, 0u);
    const std::vector<std::string> expected = {"/bin/sh", "/bin/echo", "/usr/bin/printf",
                                               "/usr/./bin/true", "/bin/echo"};
    EXPECT_EQ(ran.outcome.execs, expected);
    EXPECT_EQ(ran.outcome.execs_dropped, 0u);
}

// execvp's PATH search is one call per directory tried: the misses are recorded too (the log
// is of calls, not of successes; docs/sandbox.md).
TEST(ExecLog, PathSearchesRecordEveryAttempt) {
    const Ran ran = run_logged({"/usr/bin/env", "PATH=/nonexistent-dir:/usr/bin", "ls", "/"});
    EXPECT_EQ(ran.outcome.exit_status, 0) << ran.err;
    const std::vector<std::string> expected = {"/usr/bin/env", "/nonexistent-dir/ls",
                                               "/usr/bin/ls"};
    EXPECT_EQ(ran.outcome.execs, expected);
}

// Descendants in the background are under the same listener.
TEST(ExecLog, DescendantsAreRecorded) {
    const Ran ran = run_logged({"/bin/sh", "-c", "( ( /bin/echo deep ) & wait ); wait"});
    EXPECT_EQ(ran.out, "deep\n");
    const std::vector<std::string> expected = {"/bin/sh", "/bin/echo"};
    EXPECT_EQ(ran.outcome.execs, expected);
}

// Without exec_log nothing is recorded, with exec-once or without.
TEST(ExecLog, OnlyALoggingSandboxKeepsALog) {
    for (const bool exec_once : {true, false}) {
        policy::SandboxProfile profile = logging_profile();
        profile.exec_log = false;
        profile.exec_once = exec_once;
        Result<Prepared> prepared = prepare(plan_for_this_kernel(profile, {}));
        ASSERT_TRUE(prepared.ok());
        EXPECT_EQ(prepared.value().exec_log, false);
        execution::Spec spec;
        spec.path = "/bin/sh";
        spec.argv = {"/bin/sh", "-c", "/bin/true"};
        spec.timeout = 10s;
        spec.sandbox = &prepared.value();
        const execution::Outcome outcome =
            execution::run(spec, [](execution::Stream, std::string_view) { return true; });
        EXPECT_FALSE(outcome.exec_logged);
        EXPECT_TRUE(outcome.execs.empty());
        EXPECT_EQ(outcome.exec_blocked, exec_once ? 1u : 0u);
    }
}

// ---- exec_log_probe: the supervisor cannot be stalled, confused or slipped past --------------

// Paths bridle cannot read, or only partly: each call is still recorded, as unreadable or cut,
// and the request ends at once (no read waits, none runs past PATH_MAX).
TEST(ExecLogProbe, UnreadablePathsAreRecordedAndNothingWaits) {
    const auto start = std::chrono::steady_clock::now();
    const Ran ran = run_logged({EXEC_LOG_PROBE, "pointers"});
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    ASSERT_EQ(ran.outcome.exit_status, 0) << ran.out << ran.err;
    EXPECT_NE(ran.out.find("ATTEMPT null errno=14"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("ATTEMPT longer-than-path-max errno=36"), std::string::npos) << ran.out;
    const std::vector<std::string>& log = ran.outcome.execs;
    ASSERT_EQ(log.size(), 7u) << ::testing::PrintToString(log);
    EXPECT_EQ(log[0], EXEC_LOG_PROBE);
    EXPECT_EQ(log[1], "<unreadable: Bad address>");  // NULL
    EXPECT_EQ(log[2], "<unreadable: Bad address>");  // the kernel's half
    // One page of 'a' after the '/', then the unmapped page: cut, marked, escaped, bounded.
    EXPECT_EQ(log[3].rfind("<unterminated> /aaaa", 0), 0u) << log[3];
    EXPECT_LE(log[3].size(), exec_log::kMaxPathBytes + 40);
    EXPECT_EQ(log[4], "<unreadable: Bad address>");  // the truncated file's page
    EXPECT_EQ(log[5].rfind("<unterminated> /bbbb", 0), 0u) << log[5];
    EXPECT_EQ(log[6], "/no-such-program");  // relative to the command's cwd, /
}

// userfaultfd, with which a page of the command could make bridle's read wait forever, is
// denied by baseline (which exec_log requires).
TEST(ExecLogProbe, UserfaultfdIsDenied) {
    const Ran ran = run_logged({EXEC_LOG_PROBE, "userfaultfd"});
    EXPECT_NE(ran.out.find("ATTEMPT userfaultfd errno=1\n"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("ATTEMPT userfaultfd-user-mode-only errno=1\n"), std::string::npos);
}

// fexecve names no path: the log shows the file the fd refers to.
TEST(ExecLogProbe, AnExecThroughAnFdShowsItsFile) {
    const Ran ran = run_logged({EXEC_LOG_PROBE, "fexecve"});
    EXPECT_NE(ran.out.find("ATTEMPT fexecve errno=0"), std::string::npos) << ran.out << ran.err;
    const std::vector<std::string> expected = {EXEC_LOG_PROBE, "/usr/bin/true"};
    EXPECT_EQ(ran.outcome.execs, expected);
}

// A thread that is not the leader execs: the notification names the thread; still recorded.
TEST(ExecLogProbe, AnExecFromAThreadIsRecorded) {
    const Ran ran = run_logged({EXEC_LOG_PROBE, "thread"});
    EXPECT_NE(ran.out.find("ATTEMPT thread errno=0"), std::string::npos) << ran.out << ran.err;
    const std::vector<std::string> expected = {EXEC_LOG_PROBE, "/bin/true"};
    EXPECT_EQ(ran.outcome.execs, expected);
}

// Thousands of execs: the log keeps its first kMaxEntries and counts the rest, and bridle
// answers them all (the probe finishes).
TEST(ExecLogProbe, AFloodIsBoundedAndCounted) {
    const Ran ran = run_logged({EXEC_LOG_PROBE, "flood", "3000"});
    EXPECT_NE(ran.out.find("ATTEMPT flood errno=2"), std::string::npos) << ran.out << ran.err;
    EXPECT_EQ(ran.outcome.execs.size(), exec_log::kMaxEntries);
    EXPECT_EQ(ran.outcome.execs.size() + ran.outcome.execs_dropped, 3001u);
    EXPECT_EQ(ran.outcome.execs.back(), "/nonexistent/bridle-flood");
}

// A command that makes itself non-dumpable before an exec cannot hide the call: bridle reads it
// where it may (root, or in the request's user namespace, which bridle owns) and otherwise
// lists it as unreadable (namespaces off, unprivileged: no CAP_SYS_PTRACE over the command).
TEST(ExecLogProbe, ANonDumpableCommandsExecIsStillListed) {
    for (const auto mode : {policy::NamespaceMode::kPrefer, policy::NamespaceMode::kOff}) {
        SCOPED_TRACE(policy::namespace_mode_name(mode));
        const Ran ran = run_logged({EXEC_LOG_PROBE, "nondumpable"}, mode);
        EXPECT_NE(ran.out.find("ATTEMPT set-nondumpable errno=0"), std::string::npos) << ran.out;
        ASSERT_EQ(ran.outcome.execs.size(), 2u) << ::testing::PrintToString(ran.outcome.execs);
        const bool readable = ::geteuid() == 0 || mode != policy::NamespaceMode::kOff;
        EXPECT_EQ(ran.outcome.execs[1], readable ? "/nonexistent/after-nondumpable"
                                                 : "<unreadable: Operation not permitted>");
    }
}

// A path rewritten by another thread while bridle reads it: the log may show either name (it
// is a record, not a guarantee: docs/sandbox.md), but no exec goes unrecorded.
TEST(ExecLogProbe, ARacingRewriteCannotHideAnExec) {
    const Ran ran = run_logged({EXEC_LOG_PROBE, "race", "200"});
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ran.out, m, std::regex("RACE ran=(\\d+) failed=(\\d+)")))
        << ran.out << ran.err;
    EXPECT_EQ(std::stoul(m[1]) + std::stoul(m[2]), 200u);
    EXPECT_EQ(ran.outcome.execs.size(), 201u);  // the probe, then one per child
    for (std::size_t i = 1; i < ran.outcome.execs.size(); ++i) {
        EXPECT_FALSE(ran.outcome.execs[i].empty());
        EXPECT_EQ(ran.outcome.execs[i].front(), '/') << ran.outcome.execs[i];
    }
}

}  // namespace
}  // namespace bridle::sandbox
