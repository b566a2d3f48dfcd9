// SPDX-License-Identifier: Apache-2.0
// privilege/: run_as in the loader, normal forms, the two sudoers forms (exact expansion, its
// cap, words sudoers cannot hold), BRIDLE_ARGV encoding, the compiled drop-in, and the
// warnings `bridle check` prints about root grants. The real sudo: tests/integration/privilege.sh.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "admin/sudoers.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::privilege {
namespace {

// The sudoers compiler is the admin's (src/admin/sudoers.cpp); its input is this stage's forms.
using admin::compile_sudoers;
using admin::risky_grants;
using admin::SudoersOptions;

policy::Policy parse(const std::string& yaml) {
    policy::LoadReport report;
    auto loaded = policy::parse_policy_text(yaml, "test.yaml", true, report);
    EXPECT_TRUE(loaded.ok()) << (report.errors.empty() ? "" : report.errors.front().full());
    return loaded.ok() ? loaded.value() : policy::Policy{};
}

const std::string kPolicy = R"(version: 1
sandboxes:
  loose: {exec_once: false}
rules:
  - id: id-root
    command: /usr/bin/id
    options: {"-u": flag, "-n": flag}
    run_as: root
  - id: restart
    command: /usr/bin/systemctl
    args: [restart, {name: unit, enum: [nginx, nginx.service]}]
    run_as: root
  - id: grep-root
    command: /usr/bin/grep
    options: {"-m|--max-count": {int: [1, 9]}, "-i": flag}
    end_of_options: true
    args: [{name: pattern, regex: '[a-z]{1,9}'}, /var/log/syslog]
    run_as: root
    sandbox: loose
  - id: as-agent
    command: /usr/bin/id
    name: whoami
    run_as: ai-agent
  - id: plain
    command: /usr/bin/uptime
)";

std::vector<std::string> normal(const policy::Policy& p, const std::vector<std::string>& argv) {
    gate::SystemResolver resolver;
    const matching::Decision d = matching::decide(p, argv, "", resolver);
    EXPECT_EQ(d.verdict, matching::Verdict::kAllow) << d.reason;
    return d.rule != nullptr ? normal_form(*d.rule, d) : std::vector<std::string>{};
}

TEST(RunAs, LoaderAcceptsUserNamesOnly) {
    const struct {
        const char* name;
        const char* value;
        bool ok;
    } cases[] = {
        {"root", "root", true},
        {"underscore", "_apt", true},
        {"dash", "www-data", true},
        {"empty", "\"\"", false},
        {"upper", "Root", false},
        {"digit-first", "1root", false},
        {"space", "'a b'", false},
        {"colon", "'a:b'", false},
        {"long", "abcdefghijabcdefghijabcdefghijabc", false},
        {"list", "[root]", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        policy::LoadReport report;
        const std::string yaml =
            std::string("version: 1\nrules:\n  - id: r\n    command: /usr/bin/id\n    run_as: ") +
            c.value + "\n";
        auto loaded = policy::parse_policy_text(yaml, "t.yaml", true, report);
        EXPECT_EQ(c.ok, loaded.ok());
        if (loaded.ok()) {
            EXPECT_EQ(loaded.value().rules.front().run_as, std::string(c.value));
        }
    }
}

TEST(SudoForm, ExactOnlyForLiteralsEnumsAndFlags) {
    const policy::Policy p = parse(kPolicy);
    ASSERT_EQ(p.rules.size(), 5U);
    EXPECT_EQ(form_of(p.rules[0]), Form::kExact);
    EXPECT_EQ(form_of(p.rules[1]), Form::kExact);
    EXPECT_EQ(form_of(p.rules[2]), Form::kOpen);
}

TEST(SudoForm, NormalFormHasOneSpellingPerRequest) {
    const policy::Policy p = parse(kPolicy);
    const std::vector<std::string> want{"id", "-u", "-n"};
    EXPECT_EQ(normal(p, {"id", "-u", "-n"}), want);
    EXPECT_EQ(normal(p, {"id", "-n", "-u"}), want);
    const std::vector<std::string> grep{"grep", "-m5", "-i", "--", "abc", "/var/log/syslog"};
    EXPECT_EQ(normal(p, {"grep", "-i", "abc", "--max-count", "5", "/var/log/syslog"}), grep);
    EXPECT_EQ(normal(p, {"grep", "--max-count=5", "-i", "--", "abc", "/var/log/syslog"}), grep);
    EXPECT_EQ(normal(p, {"systemctl", "restart", "nginx"}),
              (std::vector<std::string>{"systemctl", "restart", "nginx"}));
}

TEST(SudoForm, ExactRequestsAreEveryNormalForm) {
    const policy::Policy p = parse(kPolicy);
    auto ids = exact_requests(p.rules[0]);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(ids.value(), (std::vector<std::vector<std::string>>{
                               {"id"}, {"id", "-n"}, {"id", "-u"}, {"id", "-u", "-n"}}));
    auto restarts = exact_requests(p.rules[1]);
    ASSERT_TRUE(restarts.ok());
    EXPECT_EQ(restarts.value().size(), 2U);
    EXPECT_FALSE(exact_requests(p.rules[2]).ok());  // open
}

// attached: false (issue 13): the value is its own word in the normal form and in every exact
// line, as the matcher passes it (the target side compares the two).
TEST(SudoForm, SeparateValuesStaySeparateWords) {
    const policy::Policy p = parse(R"(version: 1
rules:
  - id: ps-root
    command: /usr/bin/ps
    options: {"-o": {enum: [pid, comm], attached: false}}
    run_as: root
)");
    auto ps = exact_requests(p.rules.at(0));
    ASSERT_TRUE(ps.ok());
    EXPECT_EQ(ps.value(), (std::vector<std::vector<std::string>>{
                              {"ps"}, {"ps", "-o", "pid"}, {"ps", "-o", "comm"}}));
    EXPECT_EQ(normal(p, {"ps", "-o", "comm"}), (std::vector<std::string>{"ps", "-o", "comm"}));
}

TEST(SudoForm, RefusesTooManyLinesAndWordsSudoersCannotHold) {
    const struct {
        const char* name;
        const char* rule;
        const char* error;
    } cases[] = {
        {"seven-flags",
         R"(options: {"-a": flag, "-b": flag, "-c": flag, "-d": flag, "-e": flag, "-f": flag, "-g": flag})",
         "more than 64"},
        {"space", "args: [{name: x, enum: ['a b']}]", "cannot be written exactly"},
        {"star", "args: ['*']", "cannot be written exactly"},
        {"quote", "args: ['\"']", "cannot be written exactly"},
        {"backslash", "args: ['a\\b']", "cannot be written exactly"},
        {"hash", "args: ['#1']", "cannot be written exactly"},
        {"enum-option", R"(options: {"-o": {enum: [a, 'b c']}})", "cannot be written exactly"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const policy::Policy p = parse(
            std::string(
                "version: 1\nrules:\n  - id: r\n    command: /usr/bin/x\n    run_as: root\n    ") +
            c.rule + "\n");
        ASSERT_EQ(p.rules.size(), 1U);
        auto lines = exact_requests(p.rules[0]);
        ASSERT_FALSE(lines.ok());
        EXPECT_NE(lines.error().message.find(c.error), std::string::npos) << lines.error().message;
        EXPECT_FALSE(
            compile_sudoers(p, SudoersOptions{"", "ai-agent", "/usr/bin/bridle", false}).ok());
    }
}

TEST(SudoForm, EscapesWhatSudoersTreatsAsSyntax) {
    EXPECT_EQ(sudoers_escape("--lines=5"), "--lines\\=5");
    EXPECT_EQ(sudoers_escape("getty@tty1:x,y"), "getty@tty1\\:x\\,y");
    EXPECT_TRUE(is_sudoers_safe("/usr/bin/systemctl"));
    for (const char* bad : {"", "a b", "a\tb", "*", "?", "[", "]", "\\", "\"", "'", "#", "!", "(",
                            ")", "$x", "a\nb"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(is_sudoers_safe(bad));
    }
}

TEST(SudoForm, ArgvEncodingRoundTripsAndRejectsJunk) {
    const std::vector<std::string> words{"tail", "-n5", "--", "/var/log/a b", "\xc3\xa9"};
    auto back = decode_argv(encode_argv(words));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), words);
    EXPECT_EQ(encode_argv({"ab"}), "616200");
    for (const char* bad : {"", "6", "6162", "61620", "6G00", "6A00", "61 200"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(decode_argv(bad).ok());
    }
}

TEST(Sudoers, CompilesOneAliasPerTargetUserWithFixedLines) {
    const policy::Policy p = parse(kPolicy);
    auto text =
        compile_sudoers(p, SudoersOptions{"/etc/b/p.yaml", "ai-agent", "/usr/bin/bridle", false});
    ASSERT_TRUE(text.ok()) << text.error().message;
    const std::string& t = text.value();
    for (const char* line : {
             "/usr/bin/bridle run-as --policy /etc/b/p.yaml id-root -- id, \\\n",
             "/usr/bin/bridle run-as --policy /etc/b/p.yaml id-root -- id -u -n, \\\n",
             "/usr/bin/bridle run-as --policy /etc/b/p.yaml restart -- systemctl restart "
             "nginx.service, \\\n",
             "    /usr/bin/bridle run-as --policy /etc/b/p.yaml grep-root\n",
             "Defaults!BRIDLE_AS_ROOT !use_pty, !requiretty, env_reset, env_keep = "
             "\"BRIDLE_REQUEST_ID BRIDLE_POLICY_SHA256 BRIDLE_ARGV\"\n",
             "ai-agent ALL = (root) NOPASSWD: BRIDLE_AS_ROOT\n",
             "# rule as-agent: runs as ai-agent itself, without sudo\n",
         }) {
        EXPECT_NE(t.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << t;
    }
    EXPECT_EQ(t.find("uptime"), std::string::npos);
    EXPECT_EQ(t.find('*'), std::string::npos);
    auto none =
        compile_sudoers(parse("version: 1\nrules:\n  - id: u\n    command: /usr/bin/uptime\n"),
                        SudoersOptions{"", "ai-agent", "/usr/bin/bridle", false});
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none.value().find("NOPASSWD"), std::string::npos);
    EXPECT_FALSE(compile_sudoers(
                     p, SudoersOptions{"/etc/my policy.yaml", "ai-agent", "/usr/bin/bridle", false})
                     .ok());
}

TEST(Sudoers, CheckWarnsAboutRiskyRootGrants) {
    const std::vector<std::string> warnings = risky_grants(parse(kPolicy));
    ASSERT_EQ(warnings.size(), 2U);
    EXPECT_NE(
        warnings[0].find("rule grep-root runs as root with an open path or regex value (pattern)"),
        std::string::npos)
        << warnings[0];
    EXPECT_NE(
        warnings[1].find("rule grep-root runs as root in sandbox loose, which has exec-once off"),
        std::string::npos)
        << warnings[1];
    EXPECT_TRUE(risky_grants(parse("version: 1\nrules:\n  - id: u\n    command: /usr/bin/uptime\n"))
                    .empty());
}

// A pipeline stage after the first reads what the stage before wrote: a program that runs what
// it reads is warned about there (not as the first stage, nor on its own).
TEST(Sudoers, CheckWarnsAboutPipelineStagesThatRunTheirInput) {
    const std::vector<std::string> warnings =
        risky_grants(parse("version: 1\nrules:\n"
                           "  - {id: py, command: /usr/bin/python3.11, pipeline: [last]}\n"
                           "  - {id: sh, command: /bin/sh, pipeline: [middle]}\n"
                           "  - {id: xargs, command: /usr/bin/xargs, pipeline: [first]}\n"
                           "  - {id: awk, command: /usr/bin/awk}\n"
                           "  - {id: grep, command: /usr/bin/grep, pipeline: [middle, last]}\n"
                           "  - {id: shasum, command: /usr/bin/sha256sum, pipeline: [last]}\n"));
    ASSERT_EQ(warnings.size(), 2U);
    EXPECT_NE(warnings[0].find("rule py may take a pipeline's last place, and /usr/bin/python3.11 "
                               "runs what it reads"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[1].find("rule sh may take a pipeline's middle place"), std::string::npos)
        << warnings[1];
}

}  // namespace
}  // namespace bridle::privilege
