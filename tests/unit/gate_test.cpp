// SPDX-License-Identifier: Apache-2.0
// The gate: the decision is audited before anything runs, an audit failure runs nothing, every
// started command gets a result record, and each outcome maps to its exit status.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>

#include "approval/store.hpp"
#include "gate/approval_wait.hpp"
#include "gate/gate.hpp"
#include "gate/output_hygiene.hpp"
#include "gate/system_resolver.hpp"
#include "gate/task_spool.hpp"
#include "loader/loader.hpp"
#include "policy/sha256.hpp"

namespace bridle::gate {
namespace {

// Keeps every record it is given, or refuses them all (a journald that is down).
class RecordingSink final : public audit::Sink {
  public:
    bool refuse = false;
    std::vector<audit::Record> records;
    Status write(const audit::Record& record) override {
        if (refuse) return Error{"journald is not accepting records", ""};
        records.push_back(record);
        return ok_status();
    }
};

std::map<std::string, std::string> fields_of(const audit::Record& r) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : r.fields) out[k] = v;
    return out;
}

// What both fixtures share: a scratch directory with a marker path, a policy parsed from
// YAML, a recording audit sink, and run(), which sends one request through the gate as the
// key "test-key" from `client`, capturing stdout.
class GateFixture : public ::testing::Test {
  protected:
    void make_scratch(const std::string& prefix) {
        dir_ = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        marker_ = (dir_ / "ran").string();
    }
    void use_policy(const std::string& yaml) {
        policy::LoadReport report;
        auto p = policy::parse_policy_text(yaml, "gate.yaml", true, report);
        ASSERT_TRUE(p) << p.error().full();
        policy_ = std::move(p).value();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Response run(const std::string& text, std::string* out = nullptr) {
        const Context context{policy_, sink_, resolver_};
        Request request;
        request.text = text;
        request.key = "test-key";
        request.client = client_;
        const execution::OutputSink capture = [out](execution::Stream s, std::string_view bytes) {
            if (out && s == execution::Stream::kStdout) out->append(bytes);
            return true;
        };
        return handle(context, request, capture, {});
    }

    std::filesystem::path dir_;
    std::string marker_;
    std::string client_;
    policy::Policy policy_;
    RecordingSink sink_;
    SystemResolver resolver_;
};

class Gate : public GateFixture {
  protected:
    void SetUp() override {
        make_scratch("bridle-gate-");
        client_ = "127.0.0.1 5555 127.0.0.1 22";
        const std::string yaml = R"(
version: 1
settings: {timeout: 2s, max_output: 100B, env: {PATH: /usr/bin:/bin, ONLY: this}}
rules:
  - id: touch-marker
    command: /usr/bin/touch
    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]
  - id: fail
    command: /bin/false
  - id: sleep
    command: /bin/sleep
    args: [{int: [1, 100]}]
  - id: env
    command: /usr/bin/env
  - id: flood
    command: /usr/bin/yes
    timeout: 300ms
  - id: missing
    command: /nonexistent/program
  - id: kill-self
    command: /bin/sh
    name: kill-self
    args: ['-c', 'kill -9 $$']
)";
        use_policy(yaml);
    }
};

// Invariant 4: the decision record is written before the command runs; the result after.
TEST_F(Gate, AllowedCommandIsAuditedBeforeAndAfter) {
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_TRUE(std::filesystem::exists(marker_));
    ASSERT_EQ(sink_.records.size(), 2u);
    auto decision = fields_of(sink_.records[0]);
    auto result = fields_of(sink_.records[1]);
    EXPECT_EQ(decision["BRIDLE_EVENT"], "decision");
    EXPECT_EQ(decision["BRIDLE_DECISION"], "allow");
    EXPECT_EQ(decision["BRIDLE_RULE"], "touch-marker");
    EXPECT_EQ(decision["BRIDLE_EXECUTABLE"], "/usr/bin/touch");
    EXPECT_EQ(decision["BRIDLE_KEY"], "test-key");
    EXPECT_EQ(decision["BRIDLE_CLIENT"], "127.0.0.1 5555 127.0.0.1 22");
    EXPECT_EQ(decision["BRIDLE_ARGV"], "[\"touch\",\"" + marker_ + "\"]");
    EXPECT_EQ(decision["BRIDLE_POLICY_SHA256"], policy_.sha256);
    EXPECT_EQ(result["BRIDLE_EVENT"], "result");
    EXPECT_EQ(result["BRIDLE_EXIT_STATUS"], "0");
    EXPECT_EQ(result["BRIDLE_REQUEST_ID"], decision["BRIDLE_REQUEST_ID"]);
    EXPECT_EQ(decision["BRIDLE_REQUEST_ID"].size(), 32u);
}

// Fail closed: when the audit sink refuses the decision record, nothing runs (exit 69).
TEST_F(Gate, AuditFailureRunsNothing) {
    sink_.refuse = true;
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.exit_status, 69);
    EXPECT_NE(r.kind, Kind::kRan);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    EXPECT_NE(r.message.find("nothing was run"), std::string::npos);
}

// A denial runs nothing, is audited, and tells the agent what would work.
TEST_F(Gate, DenialRunsNothingAndExplains) {
    const Response r = run("touch /etc/passwd-not " + marker_);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.kind, Kind::kRan);
    ASSERT_EQ(sink_.records.size(), 1u);
    EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_DECISION"], "deny");
    EXPECT_NE(r.message.find("bridle: denied: "), std::string::npos);
    EXPECT_NE(r.message.find("bridle: usage: touch FILE"), std::string::npos);
    EXPECT_NE(r.message.find("`help`"), std::string::npos);
}

// Request limits (issue 13, item 9): a policy may lower the request size and cap the words;
// past either, nothing runs (exit 64, as for the tokenizer's own limit) and the refusal is
// audited. Text and argv requests are measured alike.
TEST_F(Gate, PolicyRequestLimitsRefuseBeforeMatching) {
    use_policy(
        "version: 1\nsettings: {max_request: 40B, max_words: 3}\nrules:\n"
        "  - id: touch-marker\n    command: /usr/bin/touch\n"
        "    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]\n"
        "  - id: echo\n    command: /bin/echo\n"
        "    args: [{regex: '[a-z]+'}, {regex: '[a-z]+'}]\n");
    struct LimitCase {
        std::string text;
        int status;
        const char* reason;
    };
    // clang-format off
    const std::vector<LimitCase> cases = {
        {"echo a b c", 64, "has 4 words; this host's policy allows 3"},
        {"echo a b c d e f", 64, "has 7 words"},
        {"echo " + std::string(36, 'a'), 64, "is 41 bytes; this host's policy allows 40"},
        {"echo " + std::string(35, 'a'), 77, "missing"},  // 40 bytes: matched (and denied)
        {"echo a b", 0, ""},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text.substr(0, 20));
        sink_.records.clear();
        const Response r = run(c.text);
        EXPECT_EQ(r.exit_status, c.status) << r.message;
        if (c.status == 64) {
            EXPECT_NE(r.kind, Kind::kRan);
            EXPECT_NE(r.decision.reason.find(c.reason), std::string::npos) << r.decision.reason;
            ASSERT_EQ(sink_.records.size(), 1u);
            EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_DECISION"], "deny");
        }
    }
    const Context context{policy_, sink_, resolver_};
    Request request;
    request.argv = std::vector<std::string>{"echo", "a", "b", "c"};
    const Response words =
        handle(context, request, [](execution::Stream, std::string_view) { return true; }, {});
    EXPECT_EQ(words.exit_status, 64);
    EXPECT_NE(words.kind, Kind::kRan);
}

// Shell syntax is refused before matching (exit 64) and still audited as an error.
TEST_F(Gate, UnparsableRequestIsAuditedAndRunsNothing) {
    const Response r = run("touch " + marker_ + "; id");
    EXPECT_EQ(r.exit_status, 64);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    ASSERT_EQ(sink_.records.size(), 1u);
    auto f = fields_of(sink_.records[0]);
    EXPECT_EQ(f["BRIDLE_DECISION"], "deny");
    EXPECT_NE(f["BRIDLE_REASON"].find("cannot parse"), std::string::npos);
}

// Each outcome maps to the status DESIGN.md promises.
TEST_F(Gate, ExitStatusesFollowTheConventions) {
    struct Case {
        const char* name;
        const char* request;
        int status;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"command's own status", "false", 1},
        {"timeout", "yes", 124},
        {"program missing", "program", 127},
        {"killed by signal", "kill-self -c 'kill -9 $$'", 137},
        {"denied", "sleep 1000", 77},
        {"unparsable", "sleep 1 || id", 64},
        {"a pipeline with a denied stage", "sleep 1 | id", 77},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(run(c.request).exit_status, c.status);
    }
}

// The environment is exactly the policy's: nothing of bridle's own leaks through.
TEST_F(Gate, CommandSeesOnlyThePolicyEnvironment) {
    ::setenv("LD_PRELOAD", "/nonexistent.so", 1);
    std::string out;
    const Response r = run("env", &out);
    ::unsetenv("LD_PRELOAD");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(out, "ONLY=this\nPATH=/usr/bin:/bin\n");
}

// A rule's env (issue 13, item 6) reaches its command over settings.env; other rules keep
// settings.env as it is.
TEST_F(Gate, RuleEnvIsAddedForThatRuleOnly) {
    use_policy(R"(
version: 1
settings: {timeout: 2s, env: {PATH: /usr/bin:/bin, ONLY: this}}
rules:
  - id: env
    command: /usr/bin/env
  - id: env-c
    name: env-c
    command: /usr/bin/env
    env: {ONLY: that, LC_ALL: C}
)");
    std::string out;
    EXPECT_EQ(run("env-c", &out).exit_status, 0);
    EXPECT_EQ(out, "LC_ALL=C\nONLY=that\nPATH=/usr/bin:/bin\n");
    out.clear();
    EXPECT_EQ(run("env", &out).exit_status, 0);
    EXPECT_EQ(out, "ONLY=this\nPATH=/usr/bin:/bin\n");
}

// `help` lists what this key may run and is audited; it runs nothing.
TEST_F(Gate, HelpListsTheRules) {
    std::string out;
    const Response r = run("help", &out);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_NE(r.kind, Kind::kRan);
    EXPECT_NE(r.message.find("sleep 1..100"), std::string::npos) << r.message;
    ASSERT_EQ(sink_.records.size(), 1u);
    EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_RULE"], "builtin:help");
}

// Output past the cap is dropped, counted and reported.
TEST_F(Gate, TruncationIsReported) {
    std::string out;
    const Response r = run("yes", &out);
    EXPECT_EQ(out.size(), 100u);
    EXPECT_NE(r.message.find("output truncated at 100 bytes"), std::string::npos) << r.message;
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_TRUNCATED"], "1");
}

// ---- The sandbox ----------------------------------------------------------------------------

// A policy with sandboxes; `landlock` is settings.landlock.
class GateSandbox : public GateFixture {
  protected:
    void load(const std::string& landlock) {
        make_scratch("bridle-gate-sbx-");
        const std::string yaml = R"(
version: 1
settings: {timeout: 5s, landlock: )" +
                                 landlock + R"(, env: {PATH: /usr/bin:/bin}}
sandboxes:
  strict: {seccomp: [baseline, no-write], landlock: {mode: require, write: []}}
  prefer: {landlock: {mode: prefer, write: []}}
  readonly: {seccomp: [baseline, no-write, no-network]}
  loose: {seccomp: [], exec_once: false}
rules:
  - id: uptime
    command: /usr/bin/uptime
  - id: strict-uptime
    name: strict-uptime
    command: /usr/bin/uptime
    sandbox: strict
  - id: prefer-uptime
    name: prefer-uptime
    command: /usr/bin/uptime
    sandbox: prefer
  - id: touch-readonly
    command: /usr/bin/touch
    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]
    sandbox: readonly
  - id: two-execs
    name: two-execs
    command: /bin/sh
    args: ['-c', '/bin/true; /bin/true; echo done']
  - id: two-execs-loose
    name: two-execs-loose
    command: /bin/sh
    args: ['-c', '/bin/true; /bin/true; echo done']
    sandbox: loose
)";
        use_policy(yaml);
    }
};

// Without a sandbox of its own a rule runs in the built-in baseline, and both records say so.
TEST_F(GateSandbox, RecordsNameTheSandbox) {
    load("auto");
    const Response r = run("uptime");
    EXPECT_EQ(r.exit_status, 0);
    ASSERT_EQ(sink_.records.size(), 2u);
    for (const auto& record : sink_.records) {
        auto f = fields_of(record);
        EXPECT_EQ(f["BRIDLE_SANDBOX"], "baseline");
        EXPECT_EQ(f["BRIDLE_SECCOMP"], "baseline");
        EXPECT_EQ(f["BRIDLE_EXEC_ONCE"], "1");
        EXPECT_EQ(f["BRIDLE_LANDLOCK"], "none");
    }
    EXPECT_EQ(fields_of(sink_.records[1])["BRIDLE_EXEC_BLOCKED"], "0");
}

// Exec-once: the refused execs are counted in the record and the agent is told.
TEST_F(GateSandbox, ExecOnceRefusalsAreCountedAndExplained) {
    load("auto");
    std::string out;
    const Response r = run("two-execs -c '/bin/true; /bin/true; echo done'", &out);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(out, "done\n");
    EXPECT_NE(r.message.find("bridle: the command tried to start another program 2 time(s); "
                             "this rule allows none (exec-once)"),
              std::string::npos)
        << r.message;
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_EXEC_BLOCKED"], "2");
}

// The explicit opt-out: no seccomp profile, no exec-once; the records say "none" and "0".
TEST_F(GateSandbox, AnExplicitlyLooseSandboxRunsProgramsAndSaysSo) {
    load("auto");
    const Response r = run("two-execs-loose -c '/bin/true; /bin/true; echo done'");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(r.message.find("exec-once"), std::string::npos);
    auto f = fields_of(sink_.records.back());
    EXPECT_EQ(f["BRIDLE_SECCOMP"], "none");
    EXPECT_EQ(f["BRIDLE_EXEC_ONCE"], "0");
    EXPECT_EQ(f["BRIDLE_EXEC_BLOCKED"], "0");
}

// no-write: an allowed touch cannot create its file.
TEST_F(GateSandbox, NoWriteStopsAnAllowedWrite) {
    load("auto");
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_SECCOMP"], "baseline,no-write,no-network");
}

// Landlock required but turned off: a deny before anything runs, audited as a deny.
TEST_F(GateSandbox, RequiredLandlockThatIsOffIsADeny) {
    load("off");
    const Response r = run("strict-uptime");
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.kind, Kind::kRan);
    EXPECT_NE(r.message.find("bridle: denied: the rule's sandbox 'strict' requires Landlock"),
              std::string::npos)
        << r.message;
    ASSERT_EQ(sink_.records.size(), 1u);
    auto f = fields_of(sink_.records[0]);
    EXPECT_EQ(f["BRIDLE_DECISION"], "deny");
    EXPECT_EQ(f["BRIDLE_RULE"], "strict-uptime");
    EXPECT_NE(f["BRIDLE_REASON"].find("settings.landlock: off"), std::string::npos);
    EXPECT_EQ(f["BRIDLE_SANDBOX"], "strict");
    EXPECT_EQ(f["BRIDLE_LANDLOCK"], "off");
}

// Landlock preferred but turned off: runs, and the record says it was not confined.
TEST_F(GateSandbox, PreferredLandlockThatIsOffRunsAndIsRecorded) {
    load("off");
    const Response r = run("prefer-uptime");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_LANDLOCK"], "off");
}

// explain shows the same sandbox decision, without auditing or running.
TEST_F(GateSandbox, ExplainShowsTheSandboxAndTheLandlockDenial) {
    load("off");
    const Context context{policy_, sink_, resolver_};
    Request request;
    request.text = "strict-uptime";
    const Response strict = explain(context, request);
    EXPECT_EQ(strict.decision.verdict, matching::Verdict::kDeny);
    ASSERT_TRUE(strict.sandbox.has_value());
    EXPECT_EQ(strict.sandbox->landlock_text(), "off");
    request.text = "uptime";
    const Response plain = explain(context, request);
    EXPECT_EQ(plain.exit_status, 0);
    ASSERT_TRUE(plain.sandbox.has_value());
    EXPECT_EQ(plain.sandbox->profile.name, "baseline");
    EXPECT_TRUE(sink_.records.empty());
}

// A rule whose sandbox is not in the policy (only possible without the loader) is denied:
// bridle never falls back to running a command unconfined.
TEST_F(GateSandbox, AMissingSandboxIsADenyNeverAnUnconfinedRun) {
    load("auto");
    policy_.sandboxes.erase("readonly");
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.kind, Kind::kRan);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    EXPECT_NE(fields_of(sink_.records.at(0))["BRIDLE_REASON"].find("not defined"),
              std::string::npos);
}

// run_as (privilege/): a rule for a user that does not exist is a deny before anything runs;
// a rule whose run_as is bridle's own account runs directly, without sudo, and the records
// say who it ran as; a rule for another account goes through sudo, and the decision record
// shows the sudo path and the target side's command line.
class GateRunAs : public GateFixture {
  protected:
    void SetUp() override {
        make_scratch("bridle-gate-run-as-");
        const std::string self = ::getuid() == 0 ? "root" : "nobody";
        use_policy(R"(
version: 1
rules:
  - id: nobody-user
    command: /usr/bin/touch
    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]
    run_as: bridle-no-such-user
  - id: self
    command: /usr/bin/id
    options: {"-u": flag}
    run_as: )" + self +
                   "\n");
    }
};

TEST_F(GateRunAs, AMissingUserDeniesBeforeAnythingRuns) {
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.kind, Kind::kRan);
    EXPECT_FALSE(r.sudo.has_value());
    EXPECT_FALSE(std::filesystem::exists(marker_));
    ASSERT_EQ(sink_.records.size(), 1u);
    EXPECT_NE(fields_of(sink_.records[0])["BRIDLE_REASON"].find("does not exist on this host"),
              std::string::npos);
}

TEST_F(GateRunAs, OwnAccountRunsWithoutSudo) {
    if (::getuid() != 0) GTEST_SKIP() << "needs to run as root (the run_as user is root)";
    std::string out;
    const Response r = run("id -u", &out);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_FALSE(r.sudo.has_value());
    EXPECT_EQ(out, "0\n");
    ASSERT_EQ(sink_.records.size(), 2u);
    EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_RUN_AS"], "root");
    EXPECT_EQ(fields_of(sink_.records[0]).count("BRIDLE_SUDO"), 0u);
    EXPECT_EQ(fields_of(sink_.records[1])["BRIDLE_RUN_AS"], "root");
}

TEST_F(GateRunAs, ExplainShowsTheSudoCallForAnotherAccount) {
    policy_.rules[1].run_as = "nobody";
    const Context context{policy_, sink_, resolver_};
    Request request;
    request.text = "id -u";
    policy_.given_path = "/etc/bridle/p.yaml";  // as load_policy sets it for --policy
    const Response r = explain(context, request);
    ASSERT_TRUE(r.sudo.has_value());
    EXPECT_EQ(r.sudo->user, "nobody");
    const std::vector<std::string> head{"sudo", "-n", "-u", "nobody", "--"};
    ASSERT_GT(r.sudo->argv.size(), head.size());
    EXPECT_EQ(std::vector<std::string>(r.sudo->argv.begin(), r.sudo->argv.begin() + 5), head);
    const std::vector<std::string> tail{"run-as", "--policy", "/etc/bridle/p.yaml", "self", "--",
                                        "id",     "-u"};
    EXPECT_EQ(
        std::vector<std::string>(r.sudo->target_command.begin() + 1, r.sudo->target_command.end()),
        tail);
    EXPECT_EQ(r.sudo->env.at("BRIDLE_POLICY_SHA256"), policy_.sha256);
    EXPECT_EQ(r.sudo->env.at("BRIDLE_REQUEST_ID"), r.request_id);
    EXPECT_EQ(r.sudo->env.count("BRIDLE_ARGV"), 0u);  // exact form: the words are on the line
    EXPECT_TRUE(sink_.records.empty());
}

// A rule's capture: the head of each stream and a SHA-256 of everything the command wrote,
// also what max_output dropped.
TEST(GateCapture, RecordsTheHeadAndAHashOfAllOutput) {
    policy::LoadReport report;
    auto p = policy::parse_policy_text(R"(
version: 1
settings: {timeout: 300ms, max_output: 100B}
rules:
  - id: flood
    command: /usr/bin/yes
    capture: 8B
  - id: plain
    command: /usr/bin/yes
)",
                                       "gate.yaml", true, report);
    ASSERT_TRUE(p) << p.error().full();
    RecordingSink sink;
    SystemResolver resolver;
    const Context context{p.value(), sink, resolver};
    Request request;
    request.text = "yes";
    const Response r =
        handle(context, request, [](execution::Stream, std::string_view) { return true; }, {});
    ASSERT_EQ(sink.records.size(), 2u);
    auto result = fields_of(sink.records[1]);
    EXPECT_EQ(result["BRIDLE_CAPTURE_BYTES"], "8");
    EXPECT_EQ(result["BRIDLE_STDOUT"], "y\\ny\\ny\\ny\\n");
    EXPECT_EQ(result["BRIDLE_STDERR"], "");
    const std::uint64_t produced = std::stoull(result["BRIDLE_STDOUT_BYTES"]);
    ASSERT_GT(produced, 100u);  // far past max_output
    std::string all;
    for (std::uint64_t i = 0; i < produced / 2; ++i) all += "y\n";
    if (produced % 2) all += "y";
    EXPECT_EQ(result["BRIDLE_STDOUT_SHA256"], policy::sha256_hex(all));
    EXPECT_EQ(result["BRIDLE_STDERR_SHA256"], policy::sha256_hex(""));
    (void)r;
}

// settings.audit: both, and the second sink refuses: nothing runs, and the sink that took the
// allow decision also gets a result saying the command was not run.
TEST_F(Gate, ASinkThatRefusesLeavesNoDanglingAllowInTheOther) {
    RecordingSink refusing;
    refusing.refuse = true;
    class Borrowed final : public audit::Sink {
      public:
        explicit Borrowed(audit::Sink& s) : s_(s) {}
        Status write(const audit::Record& r) override { return s_.write(r); }

      private:
        audit::Sink& s_;
    };
    auto tee = audit::make_tee_sink(std::make_unique<Borrowed>(sink_),
                                    std::make_unique<Borrowed>(refusing));
    const Context context{policy_, *tee, resolver_};
    Request request;
    request.text = "touch " + marker_;
    const Response r =
        handle(context, request, [](execution::Stream, std::string_view) { return true; }, {});
    EXPECT_EQ(r.exit_status, 69);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    ASSERT_EQ(sink_.records.size(), 2u);
    auto result = fields_of(sink_.records[1]);
    EXPECT_EQ(result["BRIDLE_EVENT"], "result");
    EXPECT_EQ(result["BRIDLE_STARTED"], "0");
    EXPECT_EQ(result["BRIDLE_REQUEST_ID"], fields_of(sink_.records[0])["BRIDLE_REQUEST_ID"]);
    EXPECT_NE(result["BRIDLE_ERROR"].find("not run: journald is not accepting records"),
              std::string::npos);
}

// Path confinement through the real file system (issue 13): a scratch "log" directory, a file
// outside it, and the shapes an agent could plant there to reach that file.
class GatePaths : public GateFixture {
  protected:
    void SetUp() override {
        make_scratch("bridle-gate-paths-");
        log_ = (dir_ / "log").string();
        outside_ = (dir_ / "secret").string();
        std::filesystem::create_directories(log_);
        write(outside_, "SECRET\n");
        write(log_ + "/own.log", "own line\n");
    }
    static void write(const std::string& path, const std::string& text) {
        std::FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs(text.c_str(), f);
        std::fclose(f);
    }
    // With landlock: auto (this kernel has it), reads are confined to the programs' files
    // and log/, as the shipped `logs` sandbox does for /var/log; off: not confined.
    void load(const std::string& landlock, const std::string& extra = "") {
        use_policy("version: 1\nsettings: {timeout: 5s, sandbox: logs, landlock: " + landlock +
                   "}\nsandboxes:\n  logs:\n    seccomp: [baseline, no-write, no-network]\n"
                   "    landlock: {mode: prefer, read: [/usr, /lib, /etc, " +
                   log_ +
                   "], write: []}\n"
                   "rules:\n  - id: cat-log\n    command: /usr/bin/cat\n"
                   "    args: [{name: file, path: {under: [" +
                   log_ + "], type: file" + extra + "}}]\n");
    }
    // Runs `text` with a resolver that calls `between` once, right after the real check:
    // whatever an attacker could do between bridle's check and the program's open.
    Response run_racing(const std::string& text, std::function<void()> between, std::string* out) {
        class Racing final : public matching::PathResolver {
          public:
            explicit Racing(std::function<void()> f) : between_(std::move(f)) {}
            std::optional<Resolved> resolve(const std::string& path,
                                            std::string& why) const override {
                auto resolved = real_.resolve(path, why);
                if (between_) std::exchange(between_, nullptr)();
                return resolved;
            }

          private:
            SystemResolver real_;
            mutable std::function<void()> between_;
        };
        const Racing racing(std::move(between));
        const Context context{policy_, sink_, racing};
        Request request;
        request.text = text;
        const execution::OutputSink capture = [out](execution::Stream s, std::string_view bytes) {
            if (s == execution::Stream::kStdout) out->append(bytes);
            return true;
        };
        return handle(context, request, capture, {});
    }
    std::string log_, outside_;
};

// Hole 1: `ln SECRET log/linked` canonicalises inside log/; it is refused (Landlock on and off),
// and nothing of SECRET reaches the output.
TEST_F(GatePaths, AHardLinkToAFileOutsideIsRefused) {
    ASSERT_EQ(::link(outside_.c_str(), (log_ + "/linked").c_str()), 0);
    for (const std::string landlock : {"auto", "off"}) {
        SCOPED_TRACE(landlock);
        load(landlock);
        sink_.records.clear();
        std::string out;
        const Response r = run("cat " + log_ + "/linked", &out);
        EXPECT_EQ(r.exit_status, 77);
        EXPECT_NE(r.kind, Kind::kRan);
        EXPECT_EQ(out, "");
        EXPECT_NE(r.decision.reason.find("has 2 hard links"), std::string::npos)
            << r.decision.reason;
        out.clear();
        EXPECT_EQ(run("cat " + log_ + "/own.log", &out).exit_status, 0);
        EXPECT_EQ(out, "own line\n");
    }
    load("auto", ", links: allow");
    std::string out;
    EXPECT_EQ(run("cat " + log_ + "/linked", &out).exit_status, 0);
    EXPECT_EQ(out, "SECRET\n");  // what links: allow means, and why it is not the default
}

// open: fd: the program reads the file bridle opened, as /dev/fd/N; the decision record shows
// the argv exec'd and which file each descriptor is; the descriptor is closed afterwards.
TEST_F(GatePaths, OpenFdPassesTheOpenedFileAndRecordsTheMapping) {
    load("auto", ", open: fd");
    std::string out;
    const Response r = run("cat " + log_ + "/own.log", &out);
    ASSERT_EQ(r.exit_status, 0) << r.message;
    EXPECT_EQ(out, "own line\n");
    ASSERT_EQ(r.decision.fd_paths.size(), 1u);
    const int fd = r.decision.fd_paths[0].fd;
    ASSERT_GE(fd, 3);
    const std::string dev_fd = "/dev/fd/" + std::to_string(fd);
    EXPECT_EQ(r.decision.exec_argv, (std::vector<std::string>{"cat", dev_fd}));
    ASSERT_EQ(sink_.records.size(), 2u);
    auto decision = fields_of(sink_.records[0]);
    EXPECT_EQ(decision["BRIDLE_ARGV"],
              "[\"cat\",\"" + log_ + "/own.log\"]");  // as the client sent it
    EXPECT_EQ(decision["BRIDLE_EXEC_ARGV"], "[\"cat\",\"" + dev_fd + "\"]");
    EXPECT_EQ(decision["BRIDLE_FD_PATHS"], "{\"" + dev_fd + "\":\"" + log_ + "/own.log\"}");
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed once the command ran
    EXPECT_EQ(errno, EBADF);
}

// Hole 2: the race between the check and the open. After bridle checked log/app.log (a regular
// file under log/), an attacker who can write in log/ replaces it: by a symlink to the secret,
// a symlinked directory above it, a FIFO, or a hard link. With open: fd, bridle's own open
// follows no symlink and checks the descriptor: nothing of the secret is read, with Landlock
// on or off. With open: name (the default), the program opens the name later and the first
// swap wins: the race bridle-policy(5) documents.
TEST_F(GatePaths, APathSwappedAfterTheCheckIsNotFollowedWithOpenFd) {
    std::filesystem::create_directories(log_ + "/app");
    std::filesystem::create_directories(dir_ / "elsewhere");
    write((dir_ / "elsewhere" / "current.log").string(), "SECRET\n");
    const std::string file = log_ + "/app/current.log";
    struct Swap {
        const char* name;
        std::function<void()> act;
    };
    // clang-format off
    const std::vector<Swap> swaps = {
        {"final component becomes a symlink",
         [&] {
             std::filesystem::remove(file);
             std::filesystem::create_symlink(outside_, file);
         }},
        {"a directory above becomes a symlink",
         [&] {
             std::filesystem::rename(log_ + "/app", log_ + "/app.old");
             std::filesystem::create_directory_symlink(dir_ / "elsewhere", log_ + "/app");
         }},
        {"final component becomes a FIFO",
         [&] {
             std::filesystem::remove(file);
             ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
         }},
        {"final component becomes a hard link",
         [&] {
             std::filesystem::remove(file);
             ASSERT_EQ(::link(outside_.c_str(), file.c_str()), 0);
         }},
    };
    // clang-format on
    const auto reset = [&] {
        std::filesystem::remove_all(log_ + "/app");
        std::filesystem::remove_all(log_ + "/app.old");
        std::filesystem::create_directories(log_ + "/app");
        write(file, "app line\n");
    };
    for (const std::string landlock : {"auto", "off"}) {
        for (const Swap& swap : swaps) {
            SCOPED_TRACE(landlock + ": " + swap.name);
            load(landlock, ", open: fd");
            reset();
            std::string out;
            const Response r = run_racing("cat " + file, swap.act, &out);
            EXPECT_EQ(r.exit_status, 77) << r.message;
            EXPECT_NE(r.kind, Kind::kRan);
            EXPECT_EQ(out, "");
            EXPECT_NE(r.decision.reason.find(file), std::string::npos) << r.decision.reason;
        }
    }
    // Without the race, the same rule reads the file.
    load("auto", ", open: fd");
    reset();
    std::string out;
    EXPECT_EQ(run_racing(
                  "cat " + file, [] {}, &out)
                  .exit_status,
              0);
    EXPECT_EQ(out, "app line\n");
    // open: name: the documented remaining race; without Landlock the program follows the
    // swapped-in symlink. With Landlock confining reads to log/, the kernel stops it instead.
    load("off");
    reset();
    out.clear();
    EXPECT_EQ(run_racing("cat " + file, swaps[0].act, &out).exit_status, 0);
    EXPECT_EQ(out, "SECRET\n");
    load("auto");
    reset();
    out.clear();
    const Response confined = run_racing("cat " + file, swaps[0].act, &out);
    ASSERT_TRUE(confined.sandbox.has_value());
    if (confined.sandbox->landlock_text().find("abi") != std::string::npos) {
        EXPECT_NE(confined.exit_status, 0);  // cat: Permission denied
        EXPECT_EQ(out, "");
    }
}

// explain opens the files too (it checks what a run would), shows /dev/fd/N, and closes them.
TEST_F(GatePaths, ExplainShowsTheSubstitutionAndKeepsNothingOpen) {
    load("auto", ", open: fd");
    const Context context{policy_, sink_, resolver_};
    Request request;
    request.text = "cat " + log_ + "/own.log";
    const Response r = explain(context, request);
    ASSERT_EQ(r.exit_status, 0) << r.decision.reason;
    ASSERT_EQ(r.decision.fd_paths.size(), 1u);
    EXPECT_EQ(r.decision.fd_paths[0].canonical, log_ + "/own.log");
    EXPECT_EQ(r.decision.exec_argv[1], "/dev/fd/" + std::to_string(r.decision.fd_paths[0].fd));
    EXPECT_EQ(r.opened, nullptr);
    EXPECT_EQ(::fcntl(r.decision.fd_paths[0].fd, F_GETFD), -1);
    EXPECT_TRUE(sink_.records.empty());
}

// The opener itself, both ways (openat2 beneath the directory, and the O_NOFOLLOW walk used
// where the kernel has no openat2): what it opens and what it refuses.
TEST_F(GatePaths, ConfinedOpenRefusesEverySymlinkAndNonFile) {
    std::filesystem::create_directories(log_ + "/sub");
    write(log_ + "/sub/a.log", "a\n");
    std::filesystem::create_symlink(outside_, log_ + "/to-secret");
    std::filesystem::create_symlink(log_ + "/own.log", log_ + "/to-own");  // even inside
    std::filesystem::create_directory_symlink(log_ + "/sub", log_ + "/sub-link");
    ASSERT_EQ(::mkfifo((log_ + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::link(outside_.c_str(), (log_ + "/hard").c_str()), 0);
    struct OpenCase {
        std::string path;
        bool links_allowed;
        const char* refusal;  // nullptr: opens
    };
    // clang-format off
    const std::vector<OpenCase> cases = {
        {log_ + "/to-secret", false, "changed after it was checked"},
        {log_ + "/to-own", false, "changed after it was checked"},
        {log_ + "/sub-link/a.log", false, "changed after it was checked"},
        {log_ + "/fifo", false, "is not a regular file"},
        {log_ + "/sub", false, "is not a regular file"},
        {log_ + "/hard", false, "has 2 hard links"},
        {log_ + "/missing", false, "disappeared"},
        {log_ + "/own.log", false, nullptr},
        {log_ + "/sub/a.log", false, nullptr},
        {log_ + "/hard", true, nullptr},
    };
    // clang-format on
    for (const auto& c : cases) {
        for (const bool walk : {false, true}) {
            SCOPED_TRACE(c.path + (walk ? " (walk)" : " (openat2)"));
            const OpenChecks checks{c.links_allowed, std::nullopt};
            const Result<int> fd =
                walk ? open_by_walk(c.path, checks) : open_confined(c.path, log_, checks);
            if (c.refusal == nullptr) {
                ASSERT_TRUE(fd) << fd.error().message;
                EXPECT_GE(fd.value(), 3);
                EXPECT_EQ(::fcntl(fd.value(), F_GETFD), FD_CLOEXEC);
                ::close(fd.value());
            } else {
                ASSERT_FALSE(fd);
                EXPECT_NE(fd.error().message.find(c.refusal), std::string::npos)
                    << fd.error().message;
            }
        }
    }
    // Paths that are not canonical or not inside the directory are refused before any open.
    EXPECT_FALSE(open_confined(outside_, log_, {}));
    EXPECT_FALSE(open_confined(log_ + "x/own.log", log_, {}));
    EXPECT_FALSE(open_by_walk(log_ + "/../secret", {}));
    EXPECT_FALSE(open_by_walk("relative/own.log", {}));
}

// Item 7 through the real file system: a final symlink (lstat) and a size limit that the
// descriptor is checked against again, so a file grown after the check is refused.
TEST_F(GatePaths, FinalSymlinkAndMaxSizeOnTheRealFileSystem) {
    std::filesystem::create_symlink(log_ + "/own.log", log_ + "/current.log");
    load("auto", ", final_symlink: refuse");
    std::string out;
    Response r = run("cat " + log_ + "/current.log", &out);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.decision.reason.find("is a symbolic link"), std::string::npos) << r.decision.reason;
    EXPECT_EQ(run("cat " + log_ + "/own.log", &out).exit_status, 0);

    load("auto", ", open: fd, max_size: 16B");
    out.clear();
    EXPECT_EQ(run_racing(
                  "cat " + log_ + "/own.log", [] {}, &out)
                  .exit_status,
              0);
    EXPECT_EQ(out, "own line\n");
    out.clear();
    r = run_racing(
        "cat " + log_ + "/own.log", [&] { write(log_ + "/own.log", "a line that is too long\n"); },
        &out);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_EQ(out, "");
    EXPECT_NE(r.decision.reason.find("is larger than 16 bytes"), std::string::npos)
        << r.decision.reason;
}

// Output hygiene (issue 13, item 10): what escaping leaves alone and what it writes as \xHH,
// whichever way the bytes are split into chunks.
TEST(OutputHygiene, EscapesControlsAndKeepsText) {
    struct EscapeCase {
        const char* name;
        std::string in;
        std::string out;
    };
    // clang-format off
    const std::vector<EscapeCase> cases = {
        {"plain text, newline and tab", "a b\tc\n", "a b\tc\n"},
        {"UTF-8 text", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"U+00A0, the first character after C1", "\xc2\xa0", "\xc2\xa0"},
        {"ANSI colour", "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
        {"clear screen and title", "\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"},
        {"carriage return", "ok\rFAKE\n", "ok\\x0dFAKE\n"},
        {"backspace and NUL", std::string("a\b\0b", 4), "a\\x08\\x00b"},
        {"DEL", "\x7f", "\\x7f"},
        {"C1 CSI in UTF-8", "\xc2\x9b" "2J", "\\xc2\\x9b2J"},
        {"raw 8-bit CSI", "\x9b" "2J", "\\x9b2J"},
        {"stray continuation byte", "\xa0", "\\xa0"},
        {"invalid lead bytes", "\xc0\xc1\xf5\xff", "\\xc0\\xc1\\xf5\\xff"},
        {"character cut short by ESC", "\xe2\x82\x1b", "\\xe2\\x82\\x1b"},
        {"character cut short at the end", "x\xe2\x82", "x\\xe2\\x82"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        for (std::size_t chunk = 1; chunk <= c.in.size() + 1; ++chunk) {
            OutputEscaper escaper;
            std::string out;
            for (std::size_t at = 0; at < c.in.size(); at += chunk) {
                escaper.escape(std::string_view(c.in).substr(at, chunk), out);
            }
            escaper.finish(out);
            EXPECT_EQ(out, c.out) << "chunks of " << chunk;
            OutputEscaper again;
            std::string twice;
            again.escape(out, twice);
            again.finish(twice);
            EXPECT_EQ(twice, out);  // idempotent
        }
    }
}

// escape_output: true: the client gets the escaped text; a rule without it, the raw bytes.
TEST_F(Gate, EscapeOutputReachesTheClientEscaped) {
    use_policy(R"(
version: 1
settings: {timeout: 5s}
rules:
  - id: printf-raw
    name: printf-raw
    command: /usr/bin/printf
    fixed_before: ['a\033[2Jb\rc\n']
  - id: printf-clean
    name: printf-clean
    command: /usr/bin/printf
    fixed_before: ['a\033[2Jb\rc\n']
    escape_output: true
)");
    std::string out;
    EXPECT_EQ(run("printf-clean", &out).exit_status, 0);
    EXPECT_EQ(out, "a\\x1b[2Jb\\x0dc\n");
    out.clear();
    EXPECT_EQ(run("printf-raw", &out).exit_status, 0);
    EXPECT_EQ(out, "a\x1b[2Jb\rc\n");
}

// redact: true: the client gets the secrets replaced, then escaped (escape_output); the result
// record counts them (BRIDLE_REDACTED) and its capture holds the redacted stream. A rule without
// it gets the raw bytes and no count.
TEST_F(Gate, RedactReachesTheClientAndTheCaptureRedacted) {
    use_policy(R"(
version: 1
settings: {timeout: 5s, redact_patterns: ['employee-[0-9]{6}']}
rules:
  - id: printf-secret
    name: printf-secret
    command: /usr/bin/printf
    fixed_before: ['\033[2J password=hunter2\nemployee-123456 Bearer abcdefgh12345678']
    redact: true
    escape_output: true
    capture: 1KiB
  - id: printf-plain
    name: printf-plain
    command: /usr/bin/printf
    fixed_before: ['password=hunter2\n']
    capture: 1KiB
)");
    std::string out;
    ASSERT_EQ(run("printf-secret", &out).exit_status, 0);
    EXPECT_EQ(out, "\\x1b[2J password=[REDACTED]\n[REDACTED] Bearer [REDACTED]");
    ASSERT_EQ(sink_.records.size(), 2u);
    auto result = fields_of(sink_.records[1]);
    EXPECT_EQ(result["BRIDLE_REDACTED"], "3");
    EXPECT_EQ(result["BRIDLE_STDOUT"].find("hunter2"), std::string::npos);
    EXPECT_NE(result["BRIDLE_STDOUT"].find("password=[REDACTED]"), std::string::npos);
    EXPECT_EQ(result["BRIDLE_STDOUT_SHA256"],
              policy::sha256_hex("\033[2J password=[REDACTED]\n[REDACTED] Bearer [REDACTED]"));

    out.clear();
    ASSERT_EQ(run("printf-plain", &out).exit_status, 0);
    EXPECT_EQ(out, "password=hunter2\n");
    result = fields_of(sink_.records[3]);
    EXPECT_EQ(result.count("BRIDLE_REDACTED"), 0u);
    EXPECT_NE(result["BRIDLE_STDOUT"].find("hunter2"), std::string::npos);
}

// Patterns that cannot be used (here: one that matches the empty string, which `bridle check`
// refuses at load) deny a redacting rule before anything is audited as allowed or run.
TEST_F(Gate, ARedactingRuleWithUnusablePatternsIsDenied) {
    use_policy(
        "version: 1\nrules:\n  - id: touch-marker\n    command: /usr/bin/touch\n"
        "    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]\n    redact: true\n");
    policy_.settings.redaction =
        std::make_shared<const policy::RedactionPatterns>(std::vector<std::string>{"x*"});
    const Response r = run("touch " + marker_);
    EXPECT_EQ(r.kind, Kind::kDenied);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.message.find("matches the empty string"), std::string::npos) << r.message;
    EXPECT_FALSE(std::filesystem::exists(marker_));
}

// Item 8 through the real file system: `cat LOG/*.log` is expanded by bridle (byte order, no
// hidden files), each match opened as /dev/fd/N, and the record shows the expanded argv.
TEST_F(GatePaths, AGlobExpandsToCheckedOpenedFiles) {
    write(log_ + "/b.log", "b line\n");
    write(log_ + "/.hidden.log", "hidden\n");
    write(log_ + "/c.txt", "not a log\n");
    load("auto", ", open: fd, glob: {max: 2}");
    std::string out;
    const Response r = run("cat " + log_ + "/*.log", &out);
    ASSERT_EQ(r.exit_status, 0) << r.message;
    EXPECT_EQ(out, "b line\nown line\n");
    ASSERT_EQ(r.decision.fd_paths.size(), 2u);
    auto decision = fields_of(sink_.records[0]);
    EXPECT_EQ(decision["BRIDLE_EXEC_ARGV"],
              "[\"cat\",\"/dev/fd/" + std::to_string(r.decision.fd_paths[0].fd) + "\",\"/dev/fd/" +
                  std::to_string(r.decision.fd_paths[1].fd) + "\"]");
    EXPECT_NE(decision["BRIDLE_FD_PATHS"].find(log_ + "/b.log"), std::string::npos);
    // One more match than max: denied; quoted, the * is a character and names no file.
    write(log_ + "/d.log", "d\n");
    EXPECT_EQ(run("cat " + log_ + "/*.log").exit_status, 77);
    EXPECT_EQ(run("cat '" + log_ + "/*.log'").exit_status, 77);
}

// Pipelines (bridle-policy(5), PIPELINES): each stage decided alone and in its place, one
// decision record for all, bridle's pipes, one result record with each stage's status.
class GatePipeline : public GateFixture {
  protected:
    void SetUp() override {
        make_scratch("bridle-gate-pipeline-");
        use_policy(R"(
version: 1
settings: {timeout: 5s, env: {PATH: /usr/bin:/bin}}
rules:
  - id: seq
    command: /usr/bin/seq
    args: [{int: [1, 100000]}]
    pipeline: [first]
  - id: yes
    command: /usr/bin/yes
    pipeline: [first]
  - id: grep
    command: /usr/bin/grep
    args: [{regex: '[0-9]+'}]
    pipeline: [middle, last]
  - id: tail
    command: /usr/bin/tail
    options: {"-n": {int: [1, 100]}}
    pipeline: [last]
  - id: head
    command: /usr/bin/head
    options: {"-n": {int: [1, 100]}}
    pipeline: [last]
  - id: touch-alone
    command: /usr/bin/touch
    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]
  - id: touch-first
    command: /usr/bin/touch
    name: touch-first
    args: [{name: file, regex: '/[A-Za-z0-9/._-]+'}]
    pipeline: [first]
  - id: sleep
    command: /bin/sleep
    args: [{int: [1, 100]}]
    timeout: 300ms
    pipeline: [first, last]
  - id: secret
    command: /usr/bin/printf
    name: secret
    fixed_before: ['password=hunter2\nplain\n']
    pipeline: [first]
  - id: head-redacting
    command: /usr/bin/head
    name: rhead
    options: {"-n": {int: [1, 100]}}
    redact: true
    capture: 1KiB
    pipeline: [last]
  - id: exec-again
    command: /bin/sh
    name: exec-again
    fixed_before: ['-c', '/bin/true; exit 0']
    pipeline: [last]
  - id: exec-logged
    command: /bin/sh
    name: exec-logged
    fixed_before: ['-c', 'cat >/dev/null; /bin/true']
    pipeline: [last]
    sandbox: logged
sandboxes:
  logged: {exec_once: false, exec_log: true}
)");
    }

    Response run_stages(const std::vector<std::vector<std::string>>& stages, std::string* out) {
        const Context context{policy_, sink_, resolver_};
        Request request;
        request.pipeline = stages;
        request.key = "test-key";
        const execution::OutputSink capture = [out](execution::Stream s, std::string_view bytes) {
            if (s == execution::Stream::kStdout) out->append(bytes);
            return true;
        };
        return handle(context, request, capture, {});
    }
};

TEST_F(GatePipeline, AllowedStagesRunWiredAndAuditedAsOneRequest) {
    std::string out;
    const Response r = run("seq 20 | grep 1 | tail -n 2", &out);
    EXPECT_EQ(r.kind, Kind::kRan);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(out, "18\n19\n");
    ASSERT_EQ(r.stages.size(), 3U);
    ASSERT_EQ(sink_.records.size(), 2U);
    auto decision = fields_of(sink_.records[0]);
    auto result = fields_of(sink_.records[1]);
    EXPECT_EQ(decision["BRIDLE_DECISION"], "allow");
    EXPECT_EQ(decision["BRIDLE_STAGES"], "3");
    EXPECT_EQ(decision["BRIDLE_RULE"], "seq|grep|tail");
    EXPECT_EQ(decision["BRIDLE_ARGV"], R"([["seq","20"],["grep","1"],["tail","-n","2"]])");
    EXPECT_EQ(decision["BRIDLE_EXEC_ARGV"], R"([["seq","20"],["grep","1"],["tail","-n2"]])");
    EXPECT_EQ(decision["BRIDLE_EXECUTABLE"], R"(["/usr/bin/seq","/usr/bin/grep","/usr/bin/tail"])");
    EXPECT_EQ(decision["BRIDLE_SANDBOX"], "baseline|baseline|baseline");
    EXPECT_EQ(decision["BRIDLE_EXEC_ONCE"], "1|1|1");
    EXPECT_EQ(decision["BRIDLE_COMMAND"], "seq 20 | grep 1 | tail -n 2");
    EXPECT_EQ(decision.count("BRIDLE_DENIED_STAGE"), 0U);
    EXPECT_EQ(result["BRIDLE_RULE"], "seq|grep|tail");
    EXPECT_EQ(result["BRIDLE_STAGES"], "3");
    EXPECT_EQ(result["BRIDLE_PIPESTATUS"], "0 0 0");
    EXPECT_EQ(result["BRIDLE_EXIT_STATUS"], "0");
    EXPECT_EQ(result["BRIDLE_STDOUT_BYTES"], "6");
    EXPECT_EQ(result["BRIDLE_STAGE_EXEC_BLOCKED"], "0 0 0");
    EXPECT_EQ(
        std::count(result["BRIDLE_CONTAINMENT"].begin(), result["BRIDLE_CONTAINMENT"].end(), '|'),
        2);
}

// pipefail: the status is the last failing stage's; a writer ended by SIGPIPE because its
// reader had enough is no failure, though the record shows its 141.
TEST_F(GatePipeline, StatusIsPipefailsWithSigpipeUpstreamNormal) {
    std::string out;
    Response r = run("yes | head -n 2", &out);
    EXPECT_EQ(out, "y\ny\n");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_PIPESTATUS"], "141 0");
    out.clear();
    r = run("seq 3 | grep 9", &out);
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_PIPESTATUS"], "0 1");
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_EXIT_STATUS"], "1");
}

// One stage denied: nothing runs at all (the first stage's side effect never happens), one
// deny record names the stage, and the agent is told which stage and why.
TEST_F(GatePipeline, OneDeniedStageRunsNothing) {
    std::string out;
    Response r = run("touch-first " + marker_ + " | sh", &out);
    EXPECT_EQ(r.kind, Kind::kDenied);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    ASSERT_EQ(sink_.records.size(), 1U);
    auto decision = fields_of(sink_.records[0]);
    EXPECT_EQ(decision["BRIDLE_DECISION"], "deny");
    EXPECT_EQ(decision["BRIDLE_DENIED_STAGE"], "2");
    EXPECT_EQ(decision["BRIDLE_RULE"], "touch-first|-");
    EXPECT_EQ(decision["BRIDLE_STAGES"], "2");
    EXPECT_EQ(decision["BRIDLE_REASON"].rfind("stage 2 of 2 (`sh`): ", 0), 0U)
        << decision["BRIDLE_REASON"];
    EXPECT_NE(r.message.find("bridle: denied: stage 2 of 2 (`sh`): "), std::string::npos);
    EXPECT_NE(r.message.find("nothing was run"), std::string::npos);

    // A rule that runs only on its own, or in another place, is refused in this one.
    r = run("seq 3 | touch " + marker_, &out);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.message.find("stage 2 of 2 (`touch`): rule touch-alone may not run as the last "
                             "stage of a pipeline (its pipeline: lists alone)"),
              std::string::npos)
        << r.message;
    r = run("grep 1 | tail -n 1", &out);
    EXPECT_NE(r.message.find("rule grep may not run as the first stage of a pipeline (its "
                             "pipeline: lists middle, last)"),
              std::string::npos)
        << r.message;
    r = run("help | grep 1", &out);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.message.find("no rule allows the program \"help\""), std::string::npos)
        << r.message;  // bridle's own `help` is an answer, not a program to pipe
    // A rule that takes only pipeline places does not run on its own.
    r = run("grep 1", &out);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_NE(r.message.find("rule grep may not run on its own (its pipeline: lists middle, last)"),
              std::string::npos)
        << r.message;
    EXPECT_FALSE(std::filesystem::exists(marker_));
    EXPECT_TRUE(out.empty());
}

// Lists and redirections stay refused before anything is decided, with today's messages.
TEST_F(GatePipeline, ListsStayUnparsable) {
    for (const char* text : {"seq 3 || tail", "seq 3 |& tail", "seq 3 | tail; seq 2",
                             "seq 3 | tail > /tmp/x", "seq 3 && tail", "seq 3 |"}) {
        SCOPED_TRACE(text);
        const Response r = run(text);
        EXPECT_EQ(r.kind, Kind::kUnparsable);
        EXPECT_EQ(r.exit_status, 64);
    }
}

// The shared timeout is the strictest stage's, and it ends every stage.
TEST_F(GatePipeline, TimeoutEndsEveryStage) {
    const auto start = std::chrono::steady_clock::now();
    const Response r = run("seq 5 | sleep 30");
    EXPECT_EQ(r.exit_status, 124);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_NE(r.message.find("every stage of the pipeline"), std::string::npos);
    EXPECT_EQ(fields_of(sink_.records.back())["BRIDLE_TIMED_OUT"], "1");
}

// Exec-once holds per stage: each stage's own listener refuses its second exec.
TEST_F(GatePipeline, ExecOnceHoldsInEachStage) {
    const Response r = run("seq 3 | exec-again");
    auto result = fields_of(sink_.records.back());
    EXPECT_EQ(result["BRIDLE_STAGE_EXEC_BLOCKED"], "0 1");
    EXPECT_EQ(result["BRIDLE_EXEC_BLOCKED"], "1");
    EXPECT_NE(r.message.find("stage 2 of 2 (`exec-again`) tried to start another program"),
              std::string::npos)
        << r.message;
}

// A stage whose sandbox logs its execs lets them run and lists them in the pipeline's result
// record; the other stages' logs are absent, not empty (they keep exec-once).
TEST_F(GatePipeline, ALoggingStagesExecsAreInTheResultRecord) {
    const Response r = run("seq 3 | exec-logged");
    EXPECT_EQ(r.exit_status, 0) << r.message;
    auto result = fields_of(sink_.records.back());
    EXPECT_EQ(result["BRIDLE_EXECS"], R"(["/bin/sh","/usr/bin/cat","/bin/true"])");
    EXPECT_EQ(result["BRIDLE_EXECS_DROPPED"], "0");
    EXPECT_EQ(result["BRIDLE_STAGE_EXEC_BLOCKED"], "0 0");
    run("seq 3 | exec-again");
    EXPECT_EQ(fields_of(sink_.records.back()).count("BRIDLE_EXECS"), 0U);
}

// A stage that redacts redacts what the whole pipeline shows the client (the secret may come
// from any stage), the result record counts it, and the last rule's capture holds it redacted.
TEST_F(GatePipeline, ARedactingStageRedactsThePipelinesOutput) {
    std::string out;
    Response r = run("secret | rhead -n 5", &out);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_NE(out.find("password="), std::string::npos) << out;
    EXPECT_NE(out.find("plain\n"), std::string::npos) << out;
    auto result = fields_of(sink_.records.back());
    EXPECT_EQ(result["BRIDLE_REDACTED"], "1");
    // The last rule's capture holds what the client got: redacted.
    EXPECT_EQ(result["BRIDLE_STDOUT"].find("hunter2"), std::string::npos);
    EXPECT_NE(result["BRIDLE_STDOUT"].find("password=[REDACTED]"), std::string::npos);
    EXPECT_EQ(result["BRIDLE_STDOUT_SHA256"], policy::sha256_hex(out));
    out.clear();
    r = run("secret | head -n 5", &out);  // no stage redacts, and the last captures nothing
    EXPECT_NE(out.find("hunter2"), std::string::npos) << out;
    result = fields_of(sink_.records.back());
    EXPECT_EQ(result.count("BRIDLE_REDACTED"), 0U);
    EXPECT_EQ(result.count("BRIDLE_STDOUT"), 0U);
}

// MCP's `pipeline`: the stages as argv, under the tokenizer's character rules.
TEST_F(GatePipeline, StagesSentAsArgv) {
    std::string out;
    Response r = run_stages({{"seq", "5"}, {"tail", "-n", "1"}}, &out);
    EXPECT_EQ(out, "5\n");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_COMMAND"], "seq 5 | tail -n 1");
    r = run_stages({{"seq", "5"}}, &out);
    EXPECT_EQ(r.exit_status, 64);
    EXPECT_NE(r.message.find("a pipeline has 2 to 8 stages, not 1"), std::string::npos);
    r = run_stages({{"seq", "5"}, {"tail", "-n", "1\n"}}, &out);
    EXPECT_EQ(r.exit_status, 64);
    EXPECT_NE(r.message.find("stage 2: word 3 contains a"), std::string::npos) << r.message;
}

// The task spool: ids are 16 hex digits and nothing else; a task is running while its lock
// is held, lost when neither lock nor result is there, and swept after its retention.
TEST(TaskSpool, IdsAreSixteenHexDigits) {
    EXPECT_TRUE(tasks::is_task_id("0123456789abcdef"));
    for (const char* bad : {"", "0123456789abcde", "0123456789abcdef0", "0123456789ABCDEF",
                            "../../etc/passwd", "0123456789abcde/", "0123456789abcde\n"}) {
        EXPECT_FALSE(tasks::is_task_id(bad)) << bad;
    }
}

TEST(TaskSpool, StatesFromTheLockAndTheResult) {
    const std::string spool = testing::TempDir() + "/spool-" + std::to_string(::getpid());
    std::filesystem::remove_all(spool);
    ASSERT_FALSE(tasks::make_key_dir(spool, "k").ok()) << "no spool: refused";
    ASSERT_EQ(::mkdir(spool.c_str(), 0700), 0);
    const Result<std::string> dir = tasks::make_key_dir(spool, "k");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    EXPECT_EQ(dir.value(), tasks::key_dir(spool, "k"));
    EXPECT_EQ(tasks::key_dir(spool, ""), spool + "/" + std::to_string(::geteuid()) + "/-");
    const std::string id = "00000000000000aa", task = dir.value() + "/" + id;
    ASSERT_EQ(::mkdir(task.c_str(), 0700), 0);
    ASSERT_TRUE(tasks::write_fields(task + "/" + tasks::kMetaFile,
                                    {{"rule", "r"}, {"command", "a\nb"}, {"started", "100"}})
                    .ok());
    // No lock held, no result: lost.
    EXPECT_EQ(tasks::read_task(dir.value(), id)->state, "lost");
    EXPECT_EQ(tasks::read_task(dir.value(), id)->command, "a b");  // one line per field
    {
        const std::string lock = task + "/" + tasks::kLockFile;
        os::UniqueFd held(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);
        EXPECT_EQ(tasks::read_task(dir.value(), id)->state, "running");
        tasks::sweep(dir.value(), std::chrono::milliseconds(0));  // a running task stays
        EXPECT_TRUE(tasks::read_task(dir.value(), id).has_value());
    }
    ASSERT_TRUE(tasks::write_fields(task + "/" + tasks::kResultFile,
                                    {{"state", "exited"}, {"exit_status", "3"}, {"ended", "200"}})
                    .ok());
    const std::optional<tasks::Task> t = tasks::read_task(dir.value(), id);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->state, "exited");
    EXPECT_EQ(t->exit_status, 3);
    EXPECT_EQ(tasks::list_tasks(dir.value()).size(), 1u);
    EXPECT_FALSE(tasks::read_task(dir.value(), "../k/00000000000000aa").has_value());
    tasks::sweep(dir.value(), std::chrono::hours(24 * 365 * 100));  // kept: within retention
    EXPECT_EQ(tasks::list_tasks(dir.value()).size(), 1u);
    tasks::sweep(dir.value(), std::chrono::hours(1));  // ended in 1970: removed
    EXPECT_TRUE(tasks::list_tasks(dir.value()).empty());
    std::filesystem::remove_all(spool);
}

// wait_for_approval's view of the store (gate/approval_wait.cpp): the key's own requests only
// (another key's id reads as unknown), the state the next use would find, the store never
// changed by looking, and the wait's two records.
class ApprovalWaitTest : public GateFixture {
  protected:
    void SetUp() override {
        make_scratch("bridle-wait-test-");
        store_dir_ = (dir_ / "approvals").string();
        ASSERT_EQ(::mkdir(store_dir_.c_str(), 0700), 0);
        use_policy("version: 1\napprovals:\n  store: " + store_dir_ +
                   "\nrules:\n  - id: up\n    command: /usr/bin/uptime\n"
                   "    approval: {approvers: [admin, bob], required: 2}\n");
    }
    // A request of `key` in `state`, expiring `expires_in` seconds from now.
    std::string add(const std::string& key, approval::State state, std::int64_t expires_in = 600,
                    const std::string& policy_sha256 = "") {
        approval::Entry e;
        e.binding.id = new_request_id();
        e.binding.host = "3d1219c7c4c5404aaa1f6d2a48adfda4";
        e.binding.key = key;
        e.binding.rule = "up";
        e.binding.argv = {"uptime"};
        e.binding.policy_sha256 = policy_sha256.empty() ? policy_.sha256 : policy_sha256;
        e.binding.nonce = new_request_id();
        e.binding.expires = ::time(nullptr) + expires_in;
        e.digest = approval::digest_of(e.binding);
        e.code = approval::short_code(e.digest);
        e.approvers = {"admin", "bob"};
        e.required = 2;
        e.command = "uptime";
        e.state = state;
        if (state == approval::State::kApproved) {
            e.votes = {{"admin", "ssh", "", "", true, 1}, {"bob", "ssh", "", "", true, 2}};
        }
        EXPECT_TRUE(approval::Store::open(store_dir_).value().save(e));
        return e.binding.id;
    }
    Result<approvals::Observation> observe(const std::string& id,
                                           const std::string& key = "test-key") {
        const Context context{policy_, sink_, resolver_};
        return approvals::observe(context, {key, "", "session", "wait"}, id);
    }
    std::string store_dir_;
};

TEST_F(ApprovalWaitTest, OnlyTheKeysOwnRequests) {
    const std::string own = add("test-key", approval::State::kPending);
    const std::string foreign = add("other-key", approval::State::kPending);
    const std::string unknown = "0123456789abcdef0123456789abcdef";
    auto seen = observe(own);
    ASSERT_TRUE(seen) << seen.error().message;
    EXPECT_EQ(seen.value().info.state, "pending");
    EXPECT_EQ(seen.value().info.required, 2u);
    EXPECT_NE(seen.value().advice.find("call wait_for_approval again"), std::string::npos);
    // Another key's request and an unknown one: the same words, the id aside.
    auto other = observe(foreign);
    auto none = observe(unknown);
    ASSERT_FALSE(other);
    ASSERT_FALSE(none);
    std::string a = other.error().message, b = none.error().message;
    a.replace(a.find(foreign), foreign.size(), "ID");
    b.replace(b.find(unknown), unknown.size(), "ID");
    EXPECT_EQ(a, b);
    EXPECT_NE(a.find("of this key"), std::string::npos);
    EXPECT_TRUE(observe(foreign, "other-key"));  // the other key sees it
    for (const char* bad : {"", "../approvals/.lock", "0123456789ABCDEF0123456789ABCDEF",
                            "0123456789abcdef0123456789abcde"}) {
        SCOPED_TRACE(bad);
        auto refused = observe(bad);
        ASSERT_FALSE(refused);
        EXPECT_NE(refused.error().message.find("not an approval id"), std::string::npos);
    }
    EXPECT_TRUE(sink_.records.empty());  // looking writes nothing
}

TEST_F(ApprovalWaitTest, WhatTheNextUseWouldFindWithoutChangingTheStore) {
    using approval::State;
    struct Case {
        std::string name;
        State stored;
        std::int64_t expires_in;
        std::string policy_sha256;  // "": the policy in force
        std::string seen;
        std::string advice;
    };
    const std::vector<Case> cases = {
        {"pending", State::kPending, 600, "", "pending", "still pending"},
        {"approved", State::kApproved, 600, "", "approved", "call run_command again"},
        {"rejected", State::kRejected, 600, "", "rejected", "refused until"},
        {"consumed", State::kConsumed, 600, "", "consumed", "used already"},
        {"pending, past its expiry", State::kPending, -1, "", "expired", "Sending it again"},
        {"approved, past its expiry", State::kApproved, -1, "", "expired", "expired"},
        {"pending, another policy", State::kPending, 600, std::string(64, 'a'), "void", "void"},
        {"approved, another policy", State::kApproved, 600, std::string(64, 'a'), "void", "void"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string id = add("test-key", c.stored, c.expires_in, c.policy_sha256);
        auto seen = observe(id);
        ASSERT_TRUE(seen) << seen.error().message;
        EXPECT_EQ(seen.value().info.state, c.seen);
        EXPECT_NE(seen.value().advice.find(c.advice), std::string::npos) << seen.value().advice;
        EXPECT_EQ(approval::Store::open(store_dir_).value().load(id).value().state, c.stored);
    }
    // An approved entry whose votes were edited to fall short of its requirement: void.
    approval::Store store = approval::Store::open(store_dir_).value();
    const std::string id = add("test-key", State::kApproved);
    approval::Entry e = store.load(id).value();
    e.votes.pop_back();
    ASSERT_TRUE(store.save(e));
    EXPECT_EQ(observe(id).value().info.state, "void");
    // No rule needs approval: nothing to wait for.
    use_policy("version: 1\nrules:\n  - id: up\n    command: /usr/bin/uptime\n");
    auto none = observe(id);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("nothing to wait for"), std::string::npos);
}

TEST_F(ApprovalWaitTest, TheWaitIsRecordedWhenItStartsAndEnds) {
    const std::string id = add("test-key", approval::State::kPending);
    const Context context{policy_, sink_, resolver_};
    const approvals::Waiter waiter{"test-key", "127.0.0.1 5 127.0.0.1 22", "session-1", "wait-1"};
    ASSERT_TRUE(approvals::record_wait(context, waiter, id, "", 0));
    ASSERT_TRUE(approvals::record_wait(context, waiter, id, "cancelled", 420));
    ASSERT_EQ(sink_.records.size(), 2u);
    auto start = fields_of(sink_.records[0]), end = fields_of(sink_.records[1]);
    EXPECT_EQ(sink_.records[0].message_id, std::string(audit::kApprovalWaitMessageId));
    EXPECT_EQ(sink_.records[1].message_id, std::string(audit::kApprovalWaitedMessageId));
    EXPECT_EQ(start["BRIDLE_EVENT"], "approval-wait");
    EXPECT_EQ(end["BRIDLE_EVENT"], "approval-waited");
    for (auto* f : {&start, &end}) {
        EXPECT_EQ((*f)["BRIDLE_APPROVAL_ID"], id);
        EXPECT_EQ((*f)["BRIDLE_REQUEST_ID"], id);
        EXPECT_EQ((*f)["BRIDLE_WAIT_ID"], "wait-1");
        EXPECT_EQ((*f)["BRIDLE_SESSION_ID"], "session-1");
        EXPECT_EQ((*f)["BRIDLE_FRONT_END"], "mcp");
    }
    EXPECT_EQ(start.count("BRIDLE_WAIT_OUTCOME"), 0u);
    EXPECT_EQ(end["BRIDLE_WAIT_OUTCOME"], "cancelled");
    EXPECT_EQ(end["BRIDLE_DURATION_MS"], "420");
    // Another key's request: refused, nothing recorded.
    const std::string foreign = add("other-key", approval::State::kPending);
    EXPECT_FALSE(approvals::record_wait(context, waiter, foreign, "", 0));
    EXPECT_EQ(sink_.records.size(), 2u);
    // A sink that refuses: the caller hears of it (the session then refuses the wait).
    sink_.refuse = true;
    EXPECT_FALSE(approvals::record_wait(context, waiter, id, "", 0));
}

}  // namespace
}  // namespace bridle::gate
