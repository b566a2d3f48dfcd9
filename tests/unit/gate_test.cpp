// SPDX-License-Identifier: Apache-2.0
// The gate: the decision is audited before anything runs, an audit failure runs nothing, every
// started command gets a result record, and each outcome maps to its exit status.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "policy/loader.hpp"

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

class Gate : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("bridle-gate-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        marker_ = (dir_ / "ran").string();
        policy::LoadReport report;
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
        request.client = "127.0.0.1 5555 127.0.0.1 22";
        const execution::OutputSink capture = [out](execution::Stream s, std::string_view bytes) {
            if (out && s == execution::Stream::kStdout) out->append(bytes);
            return true;
        };
        return handle(context, request, capture, {});
    }

    std::filesystem::path dir_;
    std::string marker_;
    policy::Policy policy_;
    RecordingSink sink_;
    SystemResolver resolver_;
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
    EXPECT_FALSE(r.ran);
    EXPECT_FALSE(std::filesystem::exists(marker_));
    EXPECT_NE(r.message.find("nothing was run"), std::string::npos);
}

// A denial runs nothing, is audited, and tells the agent what would work.
TEST_F(Gate, DenialRunsNothingAndExplains) {
    const Response r = run("touch /etc/passwd-not " + marker_);
    EXPECT_EQ(r.exit_status, 77);
    EXPECT_FALSE(r.ran);
    ASSERT_EQ(sink_.records.size(), 1u);
    EXPECT_EQ(fields_of(sink_.records[0])["BRIDLE_DECISION"], "deny");
    EXPECT_NE(r.message.find("bridle: denied: "), std::string::npos);
    EXPECT_NE(r.message.find("bridle: usage: touch FILE"), std::string::npos);
    EXPECT_NE(r.message.find("`help`"), std::string::npos);
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
    struct Case { const char* name; const char* request; int status; };
    const std::vector<Case> cases = {
        {"command's own status", "false", 1},
        {"timeout", "yes", 124},
        {"program missing", "program", 127},
        {"killed by signal", "kill-self -c 'kill -9 $$'", 137},
        {"denied", "sleep 1000", 77},
        {"unparsable", "sleep 1 | id", 64},
    };
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

// `help` lists what this key may run and is audited; it runs nothing.
TEST_F(Gate, HelpListsTheRules) {
    std::string out;
    const Response r = run("help", &out);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_FALSE(r.ran);
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

}  // namespace
}  // namespace bridle::gate
