// SPDX-License-Identifier: Apache-2.0
// bridle learn: the deny-list, the typing of values, the ceiling, and golden files of whole
// runs over seeded journals (tests/golden/learn/NNN-what/).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "admin/learn_ceiling.hpp"
#include "admin/learn_deny_list.hpp"
#include "admin/learn_infer.hpp"
#include "golden.hpp"
#include "loader/loader.hpp"
#include "run_bridle.hpp"

namespace bridle::admin {
namespace {

namespace fs = std::filesystem;
using namespace learning;

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
        text.replace(at, from.size(), to);
    return text;
}

TEST(LearnDenyList, RefusesEveryClassWithItsVersionedNames) {
    for (const char* name : {"sh", "bash", "python3", "python3.11", "perl5.36", "ruby3.1",
                             "sh.distrib", "awk", "mawk"})
        EXPECT_EQ(deny_class_of(name), "shells and interpreters") << name;
    for (const char* name : {"sudo", "su", "doas", "pkexec", "bridle"})
        EXPECT_EQ(deny_class_of(name), "sudo, su and other user switches") << name;
    for (const char* name : {"env", "nice", "timeout", "xargs", "nohup", "setsid", "busybox"})
        EXPECT_EQ(deny_class_of(name), "programs that run programs") << name;
    for (const char* name : {"vim.basic", "vi", "nano", "less", "more", "editor", "pager"})
        EXPECT_EQ(deny_class_of(name), "editors and pagers") << name;
    // Names that only begin like one.
    for (const char* name : {"ss", "journalctl", "sha256sum", "timedatectl", "envsubst", "shred",
                             "lessecho", "sudoreplay2x", "pgrep", "nicely"})
        EXPECT_EQ(deny_class_of(name), std::nullopt) << name;
}

TEST(LearnDenyList, RefusesFindActionsAndNetworkWrites) {
    using V = std::vector<std::string>;
    EXPECT_EQ(refused_use(V{"find", "/var/log", "-exec", "cat", "{}", ";"}),
              "find with -exec/-delete: -exec");
    for (const char* action :
         {"-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprintf", "-fls"})
        EXPECT_TRUE(refused_use(V{"find", "/tmp", action})) << action;
    EXPECT_EQ(refused_use(V{"find", "/var/log", "-name", "x", "-type", "f"}), std::nullopt);
    EXPECT_TRUE(refused_use(V{"curl", "-o", "/tmp/x", "http://a/"}));
    EXPECT_TRUE(refused_use(V{"curl", "-sSLO", "http://a/"}));
    EXPECT_TRUE(refused_use(V{"curl", "--output=/tmp/x", "http://a/"}));
    EXPECT_TRUE(refused_use(V{"curl", "--upload-file", "/etc/passwd", "http://a/"}));
    EXPECT_EQ(refused_use(V{"curl", "-sS", "http://a/"}), std::nullopt);
    for (const char* tool : {"wget", "scp", "rsync", "nc", "nc.openbsd", "socat", "ncat"})
        EXPECT_TRUE(refused_use(V{tool, "x"})) << tool;
}

// bridle(8) and policy/README.md list every program of the compiled deny-list.
TEST(LearnDenyList, IsDocumentedWhereAdminsLook) {
    const std::string page = read_text(fs::path(BRIDLE_SOURCE_DIR) / "install/man/bridle.8");
    const std::size_t section = page.find("\n.SH LEARNING\n");
    ASSERT_NE(section, std::string::npos) << "bridle(8) has no LEARNING section";
    const std::string man = page.substr(section, page.find("\n.SH ", section + 1) - section);
    const std::string readme = read_text(fs::path(BRIDLE_SOURCE_DIR) / "policy/README.md");
    std::vector<std::string_view> names = conditional_programs();
    for (const DenyClass& c : deny_classes()) {
        EXPECT_NE(man.find(std::string(c.name)), std::string::npos) << c.name;
        names.insert(names.end(), c.programs.begin(), c.programs.end());
    }
    for (const std::string_view name : names) {
        const std::string n(name);
        EXPECT_NE(readme.find("`" + n + "`"), std::string::npos) << n << " in policy/README.md";
        // In the man page's section as a word of its own.
        std::string roff;
        for (const char ch : n) roff += ch == '-' ? std::string("\\-") : std::string(1, ch);
        const std::regex word("(^|[ \\n])" +
                              std::regex_replace(roff, std::regex(R"([\\.+])"), R"(\$&)") +
                              "[,. \\n]");
        EXPECT_TRUE(std::regex_search(man, word)) << n << " in bridle(8) LEARNING";
    }
}

TEST(LearnInfer, TypesValuesNarrowly) {
    EXPECT_EQ(infer_value({"80"}).value(), "int: [50, 100]");
    EXPECT_EQ(infer_value({"3", "1200"}).value(), "int: [2, 2000]");
    EXPECT_EQ(infer_value({"0"}).value(), "int: [0, 0]");
    EXPECT_EQ(infer_value({"app", "nginx"}).value(), "enum: [app, nginx]");
    EXPECT_EQ(infer_value({"true", "80x"}).value(), "enum: [\"80x\", \"true\"]");
    EXPECT_EQ(infer_value({"eth0", "wlan0", "lo", "br-lan", "usb0", "wg0"}).value(),
              "regex: '[a-z0-9-]+', max_length: 10");
    EXPECT_EQ(infer_value({"a@b.service", "c.socket", "d", "e", "f", "G_1"}).value(),
              "regex: '[a-zA-Z0-9@._]+', max_length: 20");
    EXPECT_EQ(infer_value({"/var/log/dpkg.log", "/var/log/apt/history.log"}).value(),
              "path: {under: [/var/log], type: file}");
    EXPECT_EQ(infer_value({"/var/log", "/var/log/apt"}).value(),
              "path: {under: [/var/log], type: directory}");
    // Never a glob, never .*, never "/" as the directory, never a path that is not there.
    EXPECT_FALSE(infer_value({"*.log"}));
    EXPECT_FALSE(infer_value({"a b", "c", "d", "e", "f", "g"}));
    EXPECT_FALSE(infer_value({"x/y", "c", "d", "e", "f", "g"}));
    EXPECT_FALSE(infer_value({"/etc/hostname", "/var/log/dpkg.log"}));
    EXPECT_FALSE(infer_value({"/no/such/file"}));
    EXPECT_EQ(round_down_125(80), 50u);
    EXPECT_EQ(round_up_125(80), 100u);
    EXPECT_EQ(round_up_125(1ULL << 53), 1ULL << 53);
}

TEST(LearnInfer, ReadsOptionsFlagsBundlesAndArguments) {
    const Inference ss = infer_rules({{"ss", "-tlnp"}, {"ss", "-tlnp"}});
    ASSERT_EQ(ss.rules.size(), 1u);
    EXPECT_EQ(ss.rules[0].body,
              "    bundle_flags: true\n    options:\n      \"-t\": flag\n      \"-l\": flag\n"
              "      \"-n\": flag\n      \"-p\": flag\n");
    const Inference j = infer_rules({{"journalctl", "-u", "app", "-n", "80", "--no-pager"},
                                     {"journalctl", "--lines=20", "-u", "app"}});
    ASSERT_EQ(j.rules.size(), 1u);
    EXPECT_EQ(j.rules[0].body,
              "    options:\n      \"-u\": {enum: [app], required: true, attached: false}\n"
              "      \"-n\": {int: [50, 100], attached: false}\n      \"--no-pager\": flag\n"
              "      \"--lines\": {int: [20, 20]}\n");
    // Requests with another number of arguments get a rule of their own; a word that is an
    // option in one place and given a value in another is not learnt from.
    const Inference t = infer_rules({{"tail", "-n", "5", "/var/log/dpkg.log"},
                                     {"tail", "-n60", "/var/log/dpkg.log"},
                                     {"tail", "/var/log/dpkg.log"},
                                     {"tail", "-n"}});
    ASSERT_EQ(t.rules.size(), 1u);
    EXPECT_EQ(t.rules[0].body,
              "    options:\n      \"-n\": {int: [5, 100]}\n"
              "    args:\n      - {path: {under: [/var/log], type: file}}\n");
    ASSERT_EQ(t.unlearnable.size(), 1u);
    EXPECT_EQ(t.unlearnable[0].why, "-n takes a value elsewhere but has none here");
    const Inference f = infer_rules({{"find", "/var/log", "-name", "syslog"}});
    ASSERT_EQ(f.rules.size(), 1u);
    EXPECT_EQ(f.rules[0].body,
              "    args:\n      - {path: {under: [/var/log], type: directory}}\n"
              "      - \"-name\"\n      - syslog\n");
}

TEST(LearnInfer, QuotesWhatYamlWouldReadOtherwise) {
    EXPECT_EQ(yaml_scalar("app"), "app");
    EXPECT_EQ(yaml_scalar("/var/log"), "/var/log");
    for (const char* s : {"yes", "No", "null", "80", "-n", "a b", "a:b", "a,b", "#x", ""})
        EXPECT_EQ(yaml_scalar(s).front(), '"') << s;
    EXPECT_EQ(yaml_scalar("a\nb\u2028"), "\"a\\nb\\u2028\"");
}

policy::Rule only_rule(const std::string& yaml) {
    policy::LoadReport report;
    Result<policy::Policy> p =
        policy::parse_policy_text("version: 1\nrules:\n" + yaml, "t", false, report);
    EXPECT_TRUE(p) << (p ? "" : p.error().full());
    return p ? p.value().rules.front() : policy::Rule{};
}

TEST(LearnCeiling, AProposalMayNotGoPastItsRule) {
    const policy::Rule ceiling = only_rule(
        "  - id: c\n    command: /usr/bin/journalctl\n    options:\n"
        "      \"-u|--unit\": {regex: '[a-z]+'}\n      \"-n|--lines\": {int: [1, 90], required: true}\n");
    const auto proposal = [](const std::string& options) {
        return only_rule("  - id: p\n    command: /usr/bin/journalctl\n    options:\n" + options);
    };
    EXPECT_EQ(
        exceeds(proposal(
                    "      \"-u\": {enum: [app]}\n      \"-n\": {int: [50, 90], required: true}\n"),
                ceiling),
        "");
    EXPECT_EQ(exceeds(proposal("      \"-n\": {int: [50, 100], required: true}\n"), ceiling),
              "-n: its range 50..100 is not inside 1..90 (the ceiling's rule c)");
    EXPECT_EQ(exceeds(proposal("      \"-n\": {int: [50, 90]}\n"), ceiling),
              "it does not require -n (the ceiling's rule c)");
    EXPECT_EQ(
        exceeds(
            proposal("      \"-u\": {enum: [App]}\n      \"-n\": {int: [5, 9], required: true}\n"),
            ceiling),
        "-u: its value App is not allowed (the ceiling's rule c)");
    EXPECT_EQ(exceeds(proposal("      \"-n\": {int: [5, 9], required: true}\n      \"-f\": flag\n"),
                      ceiling),
              "it has the option -f (the ceiling's rule c)");
}

// tests/golden/learn/NNN-what/: records.jsonl (the file sink's format), policy.yaml, perhaps
// ceiling.yaml, and args (bridle learn's arguments, one a line). Each case runs in a copy under
// /tmp, with @DIR@ standing for that copy and a program bin/tool that anyone may write.
// expected.ok holds stdout, the summary line of stderr and the exit status. UPDATE_GOLDEN=1
// rewrites it; review the diff.
TEST(LearnGolden, ProposalsFromSeededJournals) {
    const fs::path root = fs::path(BRIDLE_SOURCE_DIR) / "tests/golden/learn";
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (!entry.is_directory()) continue;
        ++cases;
        SCOPED_TRACE(entry.path().filename().string());
        const fs::path dir = fs::path("/tmp") / ("bridle-learn-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir / "bin");
        for (const auto& file : fs::directory_iterator(entry.path())) {
            std::ofstream(dir / file.path().filename())
                << replace_all(read_text(file.path()), "@DIR@", dir.string());
        }
        fs::copy_file("/usr/bin/true", dir / "bin/tool");
        ::chmod((dir / "bin/tool").c_str(), 0777);
        std::vector<std::string> args{"learn"};
        std::istringstream lines(read_text(dir / "args"));
        for (std::string line; std::getline(lines, line);) args.push_back(line);
        const Ran ran = run_bridle(args);
        std::string got = ran.out + "--- stderr: the summary\n";
        std::istringstream err(ran.err);
        for (std::string line; std::getline(err, line);) {
            if (line.rfind("bridle: learn:", 0) == 0) got += line + "\n";
        }
        got += "--- exit status " + std::to_string(ran.status) + "\n";
        got = replace_all(got, dir.string(), "@DIR@");
        fs::remove_all(dir);
        testing::expect_golden(entry.path() / "expected.ok", got);
    }
    EXPECT_GE(cases, 3);
}

}  // namespace
}  // namespace bridle::admin
