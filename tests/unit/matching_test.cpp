// SPDX-License-Identifier: Apache-2.0
// Matching: default deny, every token consumed, typed values, options in their usual spellings,
// the normalised argv bridle execs, and denials that tell the agent what would work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "command/tokenizer.hpp"
#include "common/text.hpp"
#include "golden.hpp"
#include "loader/cache_codec.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"

namespace bridle::matching {
namespace {

// An in-memory file system: matching is pure and reaches the disk only through PathResolver.
// Symlinks are modelled by mapping a path to its canonical target.
class FakeResolver final : public PathResolver {
  public:
    std::map<std::string, Resolved> entries;
    void file(const std::string& p) { entries[p] = {p, true, false}; }
    void dir(const std::string& p) { entries[p] = {p, false, true}; }
    void link(const std::string& p, const std::string& target) { entries[p] = entries.at(target); }
    // A regular file with `links` names (st_nlink): a hard link made elsewhere shows as > 1.
    void hard_linked(const std::string& p, std::uint64_t links) {
        entries[p] = {p, true, false, links};
    }
    // The entries directly in `dir` (the alias keys with . or .. are not names of their own).
    std::optional<std::vector<std::string>> list(const std::string& dir,
                                                 std::string& why) const override {
        if (!entries.count(dir) || !entries.at(dir).is_directory) {
            why = "cannot be listed";
            return std::nullopt;
        }
        std::vector<std::string> names;
        for (const auto& [path, resolved] : entries) {
            const auto slash = path.rfind('/');
            if (slash == std::string::npos || path.substr(0, slash == 0 ? 1 : slash) != dir)
                continue;
            const std::string name = path.substr(slash + 1);
            if (!name.empty() && name != "." && name != "..") names.push_back(name);
        }
        return names;
    }
    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
        auto it = entries.find(path);
        if (it == entries.end()) {
            why = "does not exist";
            return std::nullopt;
        }
        return it->second;
    }
};

FakeResolver fixture_fs() {
    FakeResolver fs;
    fs.dir("/var/log");
    fs.dir("/var/log/nginx");
    fs.dir("/etc");
    fs.dir("/etc/ssl");
    fs.dir("/root");
    fs.file("/var/log/syslog");
    fs.file("/var/log/auth.log");
    fs.file("/var/log/nginx/access.log");
    fs.file("/etc/shadow");
    fs.file("/etc/passwd");
    fs.link("/var/log/evil.log", "/etc/shadow");
    fs.link("/var/log/../../etc/shadow", "/etc/shadow");
    fs.link("/etc/../root", "/root");
    fs.dir("/etcfoo");
    fs.hard_linked("/var/log/linked.log", 2);
    fs.file("/var/log/nginx/access.log.2.gz");
    fs.file("/var/log/nginx/access.log.12.gz");
    fs.file("/var/log/nginx/access.log.2.gz.bak");
    fs.link("/var/log/nginx/./access.log.2.gz", "/var/log/nginx/access.log.2.gz");
    fs.link("/var/log/nginx/current.gz", "/var/log/nginx/access.log.2.gz");
    fs.entries["/var/log/nginx/current.gz"].final_is_symlink = true;
    fs.dir("/var/backups");
    fs.hard_linked("/var/backups/dpkg.status.0", 2);
    return fs;
}

policy::Policy parse(const std::string& yaml) {
    policy::LoadReport report;
    auto p = policy::parse_policy_text(yaml, "test.yaml", true, report);
    if (!p) {
        for (const auto& e : report.errors) ADD_FAILURE() << e.full();
        return {};
    }
    return std::move(p).value();
}

const char* kPolicy = R"(
version: 1
rules:
  - id: unit-status
    command: /usr/bin/systemctl
    options: {"--no-pager": flag}
    args: [status, {param: unit}]
    params: {unit: {regex: '[A-Za-z0-9@._:-]{1,64}'}}
  - id: journal
    command: /usr/bin/journalctl
    options:
      "-u|--unit": {regex: '[A-Za-z0-9@._:-]{1,64}'}
      "-n|--lines": {int: [1, 2000]}
      "--no-pager": {flag: true, required: true}
  - id: tail-log
    command: /usr/bin/tail
    options: {"-n|--lines": {int: [1, 5000]}}
    end_of_options: true
    args: [{name: file, path: {under: [/var/log], type: file}}]
  - id: ls-dir
    command: /usr/bin/ls
    options: {"-l": flag, "-a": flag}
    args: [{name: dir, path: {under: [/etc, /var/log], type: directory}}]
  - id: restart-web
    command: /usr/bin/systemctl
    args: [restart, {name: unit, enum: [nginx, nginx.service]}]
    keys: [ops-agent]
  - id: uptime
    command: /usr/bin/uptime
  - id: spawn
    command: /bin/sh
    name: spawn-tree
    args: ['-c', 'sleep 1']
)";

struct Case {
    const char* name;
    std::vector<std::string> argv;
    const char* key;
    bool allow;
    const char* rule_or_reason;          // rule id when allowed, reason substring when denied
    std::vector<std::string> exec = {};  // expected exec argv when allowed
};

TEST(Matching, DecidesEachRequestAsTheRuleSays) {
    const auto policy = parse(kPolicy);
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<Case> cases = {
        // Allowed, and the argv bridle execs is the normalised one.
        {"literal and regex param", {"systemctl", "status", "nginx"}, "", true, "unit-status",
         {"systemctl", "status", "nginx"}},
        {"flag anywhere", {"systemctl", "status", "nginx", "--no-pager"}, "", true, "unit-status",
         {"systemctl", "status", "nginx", "--no-pager"}},
        {"options separate", {"journalctl", "-u", "nginx", "-n", "50", "--no-pager"}, "", true, "journal",
         {"journalctl", "-unginx", "-n50", "--no-pager"}},
        {"options attached", {"journalctl", "-unginx", "-n50", "--no-pager"}, "", true, "journal",
         {"journalctl", "-unginx", "-n50", "--no-pager"}},
        {"long options with =", {"journalctl", "--no-pager", "--lines=50", "--unit=ssh"}, "", true, "journal",
         {"journalctl", "--no-pager", "-n50", "-ussh"}},
        {"long options separate", {"journalctl", "--lines", "7", "--no-pager"}, "", true, "journal",
         {"journalctl", "-n7", "--no-pager"}},
        {"path canonical", {"tail", "-n", "5", "/var/log/syslog"}, "", true, "tail-log",
         {"tail", "-n5", "/var/log/syslog"}},
        {"explicit -- where allowed", {"tail", "-n", "5", "--", "/var/log/syslog"}, "", true, "tail-log",
         {"tail", "-n5", "--", "/var/log/syslog"}},
        {"directory param", {"ls", "-l", "/etc"}, "", true, "ls-dir", {"ls", "-l", "/etc"}},
        {"nested directory", {"tail", "/var/log/nginx/access.log"}, "", true, "tail-log",
         {"tail", "/var/log/nginx/access.log"}},
        {"key-restricted rule for its key", {"systemctl", "restart", "nginx"}, "ops-agent", true, "restart-web",
         {"systemctl", "restart", "nginx"}},
        {"no arguments", {"uptime"}, "", true, "uptime", {"uptime"}},
        {"literal that looks like an option", {"spawn-tree", "-c", "sleep 1"}, "", true, "spawn",
         {"spawn-tree", "-c", "sleep 1"}},

        // Denied: default deny, and every token must be consumed.
        {"unknown program", {"rm", "-rf", "/"}, "", false, "no rule allows the program \"rm\""},
        {"absolute path instead of name", {"/usr/bin/uptime"}, "", false, "type the program by its name"},
        {"relative path", {"./uptime"}, "", false, "type the program by its name"},
        {"case differs", {"Uptime"}, "", false, "no rule allows"},
        {"client-side sudo", {"sudo", "systemctl", "restart", "nginx"}, "", false, "no rule allows the program \"sudo\""},
        {"wrapper", {"env", "uptime"}, "", false, "no rule allows"},
        {"env assignment as argv0", {"LD_PRELOAD=/tmp/x.so", "uptime"}, "", false, "environment assignments are not accepted"},
        {"trailing extra argument", {"uptime", "extra"}, "", false, "unexpected argument \"extra\""},
        {"two units where one is allowed", {"systemctl", "status", "nginx", "sshd"}, "", false, "unexpected argument"},
        {"missing param", {"systemctl", "status"}, "", false, "missing argument"},
        {"wrong verb", {"systemctl", "isolate", "rescue.target"}, "", false, "expected"},
        {"option not in rule", {"systemctl", "status", "-H", "root@host", "nginx"}, "", false, "option \"-H\" is not allowed"},
        {"regex is anchored", {"systemctl", "status", "nginx/../sshd"}, "", false, "must match"},
        {"regex length bound", {"systemctl", "status", std::string(65, 'a')}, "", false, "must match"},
        {"glob in unit", {"systemctl", "status", "nginx*"}, "", false, "must match"},
        {"value starting with dash", {"systemctl", "status", "-nginx"}, "", false, "option"},
        {"required option missing", {"journalctl", "-n", "50"}, "", false, "option \"--no-pager\" is required"},
        {"option twice", {"journalctl", "-n", "5", "--lines=6", "--no-pager"}, "", false, "only once"},
        {"option without value", {"journalctl", "--no-pager", "-n"}, "", false, "needs a value"},
        {"int: word", {"journalctl", "-n", "all", "--no-pager"}, "", false, "whole number"},
        {"int: too big", {"journalctl", "-n", "99999999", "--no-pager"}, "", false, "from 1 to 2000"},
        {"int: exponent", {"journalctl", "-n", "1e3", "--no-pager"}, "", false, "whole number"},
        {"int: hex", {"tail", "-n", "0x32", "/var/log/syslog"}, "", false, "whole number"},
        {"int: plus sign", {"tail", "-n", "+1", "/var/log/syslog"}, "", false, "whole number"},
        {"int: leading zero", {"tail", "-n", "050", "/var/log/syslog"}, "", false, "whole number"},
        {"int: negative", {"tail", "-n", "-5", "/var/log/syslog"}, "", false, "may not begin with `-`"},
        {"int: zero below range", {"tail", "-n", "0", "/var/log/syslog"}, "", false, "from 1 to 5000"},
        {"int: fullwidth digits", {"journalctl", "-n", "\xef\xbc\x95\xef\xbc\x90", "--no-pager"}, "", false, "whole number"},
        {"flag with value", {"journalctl", "--no-pager=yes", "-n", "5"}, "", false, "takes no value"},
        {"bundled short flags", {"ls", "-la", "/etc"}, "", false, "cannot be bundled"},
        {"-- not allowed", {"systemctl", "status", "--", "nginx"}, "", false, "`--` is not accepted"},
        {"dash value after --", {"tail", "--", "-n"}, "", false, "may not begin with `-`"},
        {"path outside", {"tail", "/etc/shadow"}, "", false, "outside the allowed directories"},
        {"symlink out of the tree", {"tail", "/var/log/evil.log"}, "", false, "resolves to \"/etc/shadow\""},
        {"dot-dot out of the tree", {"tail", "/var/log/../../etc/shadow"}, "", false, "outside"},
        {"prefix confusion", {"ls", "/etcfoo"}, "", false, "outside"},
        {"dot-dot out of /etc", {"ls", "/etc/../root"}, "", false, "outside"},
        {"relative path param", {"tail", "syslog"}, "", false, "absolute path"},
        {"missing file", {"tail", "/var/log/nope"}, "", false, "does not exist"},
        {"file where dir wanted", {"ls", "/etc/passwd"}, "", false, "not a directory"},
        {"dir where file wanted", {"tail", "/var/log/nginx"}, "", false, "not a regular file"},
        {"second operand", {"tail", "-n", "50", "/var/log/syslog", "/etc/passwd"}, "", false, "unexpected argument"},
        {"key-restricted rule, other key", {"systemctl", "restart", "nginx"}, "laptop", false, "expected"},
        {"key-restricted rule, no key", {"systemctl", "restart", "nginx"}, "", false, "expected"},
        {"enum: not a choice", {"systemctl", "restart", "sshd"}, "ops-agent", false, "must be one of"},
        {"empty argv0", {""}, "", false, "empty command"},
        {"empty value", {"systemctl", "status", ""}, "", false, "may not be empty"},
        {"literal mismatch for literal-looking option", {"spawn-tree", "-c", "id"}, "", false, "expected"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.rule_or_reason);
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_EQ(d.rule, nullptr);
            EXPECT_TRUE(d.exec_argv.empty());
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
}

// Hole 1 (issue 13): a hard link under /var/log to a file outside it canonicalises to a path
// under /var/log; realpath() sees no symlink. A regular file with more than one name is
// refused unless the path spec says `links: allow`. Directories always have several links.
TEST(Matching, HardLinkedFilesAreRefusedUnlessTheRuleAllowsThem) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: tail-log
    command: /usr/bin/tail
    args: [{name: file, path: {under: [/var/log], type: file}}]
  - id: cat-any
    command: /usr/bin/cat
    args: [{name: file, path: {under: [/var/log]}}]
  - id: ls-dir
    command: /usr/bin/ls
    args: [{name: dir, path: {under: [/var/log], type: directory}}]
  - id: head-linked
    command: /usr/bin/head
    args: [{name: file, path: {under: [/var/log], type: file, links: allow}}]
  - id: wc-refuse
    command: /usr/bin/wc
    args: [{name: file, path: {under: [/var/log], type: file, links: refuse}}]
)");
    FakeResolver fs = fixture_fs();
    fs.hard_linked("/var/log/shadow-link", 2);  // ln /etc/shadow /var/log/shadow-link
    fs.hard_linked("/var/log/many-links", 40);
    fs.entries["/var/log/nginx"].links = 3;  // a directory: links count subdirectories
    struct LinkCase {
        const char* name;
        std::vector<std::string> argv;
        bool allow;
        const char* reason;
    };
    // clang-format off
    const std::vector<LinkCase> cases = {
        {"two names, type file", {"tail", "/var/log/shadow-link"}, false, "has 2 hard links"},
        {"many names", {"tail", "/var/log/many-links"}, false, "has 40 hard links"},
        {"two names, type any", {"cat", "/var/log/shadow-link"}, false, "hard links"},
        {"explicit refuse", {"wc", "/var/log/shadow-link"}, false, "hard links"},
        {"through a symlink to it", {"tail", "/var/log/./shadow-link"}, false, "hard links"},
        {"one name", {"tail", "/var/log/syslog"}, true, "tail-log"},
        {"directory with links", {"ls", "/var/log/nginx"}, true, "ls-dir"},
        {"rule allows links", {"head", "/var/log/shadow-link"}, true, "head-linked"},
    };
    // clang-format on
    fs.link("/var/log/./shadow-link", "/var/log/shadow-link");
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, "", fs);
        if (c.allow) {
            EXPECT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.reason);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.reason), std::string::npos) << d.reason;
        }
    }
}

// open: fd paths are noted for the gate, with the exec_argv word and the bytes before the
// path (an option's attached spelling); other values and open: name paths are not.
TEST(Matching, OpenFdPathsAreNotedForTheGate) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: grep-log
    command: /usr/bin/grep
    options:
      "-f|--file": {path: {under: [/var/log], type: file, open: fd}}
      "-i": flag
    args:
      - {name: file, path: {under: [/etc, /var/log], type: file, open: fd}}
  - id: tail-name
    command: /usr/bin/tail
    args: [{name: file, path: {under: [/var/log], type: file, open: name}}]
)");
    const auto fs = fixture_fs();
    const Decision d =
        decide(policy, {"grep", "-i", "--file", "/var/log/auth.log", "/var/log/syslog"}, "", fs);
    ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
    EXPECT_EQ(d.exec_argv,
              (std::vector<std::string>{"grep", "-i", "-f/var/log/auth.log", "/var/log/syslog"}));
    ASSERT_EQ(d.fd_paths.size(), 2u);
    EXPECT_EQ(d.fd_paths[0].argv_index, 2u);
    EXPECT_EQ(d.fd_paths[0].prefix, 2u);  // "-f"
    EXPECT_EQ(d.fd_paths[0].canonical, "/var/log/auth.log");
    EXPECT_EQ(d.fd_paths[0].under, "/var/log");
    EXPECT_EQ(d.fd_paths[0].fd, -1);  // the gate opens it
    EXPECT_EQ(d.fd_paths[1].argv_index, 3u);
    EXPECT_EQ(d.fd_paths[1].prefix, 0u);
    EXPECT_EQ(d.fd_paths[1].under, "/var/log");  // the directory it lies in, not the first listed
    const Decision by_name = decide(policy, {"tail", "/var/log/syslog"}, "", fs);
    ASSERT_EQ(by_name.verdict, Verdict::kAllow) << by_name.reason;
    EXPECT_TRUE(by_name.fd_paths.empty());
    const Decision denied =
        decide(policy, {"grep", "/etc/shadow", "/var/log/../../etc/shadow"}, "", fs);
    EXPECT_EQ(denied.verdict, Verdict::kDeny);
    EXPECT_TRUE(denied.fd_paths.empty());
}

// Fixed words (issue 13, item 5): bridle adds them where the rule says, the client never types
// them, and they cannot be displaced or doubled by what the client sends.
TEST(Matching, FixedWordsAreAddedAndNeverTypedByTheClient) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: journal
    command: /usr/bin/journalctl
    fixed_before: [--no-pager, --output=short-iso]
    options:
      "-u|--unit": {regex: '[A-Za-z0-9@._:-]{1,64}'}
      "-n|--lines": {int: [1, 2000]}
  - id: find-logs
    command: /usr/bin/find
    fixed_before: [-P]
    args: [{name: dir, path: {under: [/var/log], type: directory}}, -name, {name: glob, regex: '[a-z*.]{1,32}'}]
    fixed_after: [-maxdepth, '2']
  - id: status
    command: /usr/bin/systemctl
    fixed_before: [--no-pager]
    options: {"--no-pager": flag, "--full": flag}
    args: [status, {name: unit, regex: '[a-z]{1,16}'}]
)");
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<Case> cases = {
        {"before the client's part", {"journalctl", "-u", "nginx", "-n", "50"}, "", true, "journal",
         {"journalctl", "--no-pager", "--output=short-iso", "-unginx", "-n50"}},
        {"no client words at all", {"journalctl"}, "", true, "journal",
         {"journalctl", "--no-pager", "--output=short-iso"}},
        {"before and after", {"find", "/var/log", "-name", "*.log"}, "", true, "find-logs",
         {"find", "-P", "/var/log", "-name", "*.log", "-maxdepth", "2"}},
        {"before a subcommand", {"systemctl", "status", "nginx"}, "", true, "status",
         {"systemctl", "--no-pager", "status", "nginx"}},
        {"a fixed word that is also a flag of the rule: passed once", {"systemctl", "status", "nginx", "--no-pager", "--full"},
         "", true, "status", {"systemctl", "--no-pager", "status", "nginx", "--full"}},

        {"client types a fixed word", {"journalctl", "--no-pager", "-n", "5"}, "", false,
         "\"--no-pager\" is added by bridle itself"},
        {"client types a fixed word with a value", {"journalctl", "--output=short-iso"}, "", false,
         "added by bridle itself"},
        {"client overrides a fixed value", {"journalctl", "--output=json"}, "", false,
         "option \"--output\" is not allowed"},
        {"client types the fixed -P", {"find", "-P", "/var/log", "-name", "x"}, "", false,
         "added by bridle itself"},
        {"client tries -L instead", {"find", "-L", "/var/log", "-name", "x"}, "", false,
         "option \"-L\" is not allowed"},
        {"client types the fixed tail", {"find", "/var/log", "-name", "x", "-maxdepth", "2"}, "", false,
         "added by bridle itself"},
        {"client adds a deeper maxdepth", {"find", "/var/log", "-name", "x", "-maxdepth", "9"}, "", false,
         "added by bridle itself"},
        {"fixed flag given twice", {"systemctl", "status", "nginx", "--no-pager", "--no-pager"}, "", false,
         "only once"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.rule_or_reason);
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
    EXPECT_EQ(
        policy.rules[1].synopsis(),
        "find DIR:/var/log/... -name GLOB (bridle adds first: -P) (bridle adds last: -maxdepth 2)");
}

// `leading_dash: allow` and `attached: false` (issue 13, item 4): a dash-leading operand only
// after the client's "--" (which stays before it in the exec argv), and an option whose value
// must be its own word (and is passed so).
TEST(Matching, DashOperandsAfterDoubleDashAndSeparateValues) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: grep-log
    command: /usr/bin/grep
    options:
      "-i": flag
      "-m|--max-count": {int: [1, 100], attached: false}
    end_of_options: true
    args:
      - {name: pattern, regex: '.{1,64}', leading_dash: allow}
      - {name: file, path: {under: [/var/log], type: file}}
  - id: tail-log
    command: /usr/bin/tail
    end_of_options: true
    args: [{name: file, path: {under: [/var/log], type: file}}]
)");
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<Case> cases = {
        {"dash pattern after --", {"grep", "--", "-v", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "--", "-v", "/var/log/syslog"}},
        {"options, then -- and a dash pattern", {"grep", "-i", "-m", "5", "--", "--help", "/var/log/syslog"}, "", true,
         "grep-log", {"grep", "-i", "-m", "5", "--", "--help", "/var/log/syslog"}},
        {"plain pattern, no --", {"grep", "error", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "error", "/var/log/syslog"}},
        {"separate value for the long spelling", {"grep", "--max-count", "7", "x", "/var/log/syslog"}, "", true,
         "grep-log", {"grep", "-m", "7", "x", "/var/log/syslog"}},

        {"dash pattern without --", {"grep", "-v", "/var/log/syslog"}, "", false, "option \"-v\" is not allowed"},
        {"dash pattern before a later --", {"grep", "-e", "--", "/var/log/syslog"}, "", false, "option \"-e\" is not allowed"},
        {"the file may still not begin with -", {"grep", "--", "x", "-/var/log/syslog"}, "", false, "may not begin with `-`"},
        {"dash value where the spec does not allow it", {"tail", "--", "-n"}, "", false, "may not begin with `-`"},
        {"attached short value refused", {"grep", "-m5", "x", "/var/log/syslog"}, "", false,
         "option \"-m\" takes its value as a separate word"},
        {"attached long value refused", {"grep", "--max-count=5", "x", "/var/log/syslog"}, "", false,
         "takes its value as a separate word"},
        {"separate value still range-checked", {"grep", "-m", "500", "x", "/var/log/syslog"}, "", false, "from 1 to 100"},
        {"separate value may not begin with -", {"grep", "-m", "-1", "x", "/var/log/syslog"}, "", false, "may not begin with `-`"},
        {"two -- in a row: the second is the pattern", {"grep", "--", "--", "--", "/var/log/syslog"}, "", false,
         "FILE may not begin with `-` (got \"--\")"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.rule_or_reason);
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
}

// bundle_flags (issue 13, item 3): "-la" is "-l -a", each letter checked as its own option;
// a letter that takes a value only last, with the value as the next word.
TEST(Matching, BundledShortFlagsWhereTheRuleAllowsThem) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: ls-dir
    command: /usr/bin/ls
    bundle_flags: true
    options: {"-l": flag, "-a|--all": flag, "-h": flag, "-1": flag}
    args: [{name: dir, path: {under: [/var/log], type: directory}}]
  - id: grep-log
    command: /usr/bin/grep
    bundle_flags: true
    options: {"-i": flag, "-n": flag, "-E": flag, "-m": {int: [1, 100]}}
    args: [{name: pattern, regex: '[a-z]{1,16}'}, {name: file, path: {under: [/var/log], type: file}}]
  - id: tail-log
    command: /usr/bin/tail
    options: {"-q": flag, "-v": flag}
    args: [{name: file, path: {under: [/var/log], type: file}}]
)");
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<Case> cases = {
        {"ls -la", {"ls", "-la", "/var/log"}, "", true, "ls-dir", {"ls", "-l", "-a", "/var/log"}},
        {"three letters and a digit", {"ls", "-lh1", "/var/log"}, "", true, "ls-dir", {"ls", "-l", "-h", "-1", "/var/log"}},
        {"grep -inE", {"grep", "-inE", "x", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "-i", "-n", "-E", "x", "/var/log/syslog"}},
        {"valued letter last, value next", {"grep", "-im", "5", "x", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "-i", "-m5", "x", "/var/log/syslog"}},
        {"valued option alone keeps its attached form", {"grep", "-m5", "x", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "-m5", "x", "/var/log/syslog"}},

        {"unknown letter in a bundle", {"ls", "-lR", "/var/log"}, "", false, "option \"-R\" (in \"-lR\") is not allowed"},
        {"letter twice in a bundle", {"ls", "-ll", "/var/log"}, "", false, "may be given only once"},
        {"letter given again outside the bundle", {"ls", "-la", "-a", "/var/log"}, "", false, "may be given only once"},
        {"long spelling of a bundled letter again", {"ls", "-la", "--all", "/var/log"}, "", false, "only once"},
        {"valued letter first: the rest is its value, as getopt reads it", {"grep", "-mi", "5", "x", "/var/log/syslog"},
         "", false, "the value of -m must be a whole number"},
        {"valued letter in the middle", {"grep", "-imn", "5", "x", "/var/log/syslog"}, "", false,
         "\"-m\" takes a value: only the last letter"},
        {"value glued after a bundle", {"grep", "-im5", "x", "/var/log/syslog"}, "", false,
         "\"-m\" takes a value: only the last letter"},
        {"valued letter last without a value", {"grep", "x", "/var/log/syslog", "-im"}, "", false, "needs a value"},
        {"valued letter's value is checked", {"grep", "-im", "999", "x", "/var/log/syslog"}, "", false, "from 1 to 100"},
        {"equals sign in a bundle", {"ls", "-l=a", "/var/log"}, "", false, "is not allowed"},
        {"rule without bundle_flags", {"tail", "-qv", "/var/log/syslog"}, "", false, "short options cannot be bundled"},
        {"a long option is never a bundle", {"ls", "--la", "/var/log"}, "", false, "option \"--la\" is not allowed"},
        {"non-ASCII letter", {"ls", "-l\xc3\xa9", "/var/log"}, "", false, "is not allowed"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.rule_or_reason);
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
}

// Path checks (issue 13, item 7): a name pattern on the last component, no symlink as the
// final component, a maximum size, and no `.`/`..`/empty components where the spec says so.
TEST(Matching, PathChecksNamesFinalSymlinkSizeAndDots) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: zcat-log
    command: /usr/bin/zcat
    args: [{name: file, path: {under: [/var/log], type: file, names: ['*.gz']}}]
  - id: cat-log
    command: /usr/bin/cat
    args:
      - name: file
        path: {under: [/var/log], type: file, names: ['*.log', '*.log.[0-9]'], final_symlink: refuse,
               max_size: 1KiB, dots: refuse}
  - id: tail-log
    command: /usr/bin/tail
    args: [{name: file, path: {under: [/var/log], type: file, final_symlink: follow, dots: resolve}}]
)");
    FakeResolver fs = fixture_fs();
    fs.file("/var/log/app.log");
    fs.file("/var/log/app.log.1");
    fs.file("/var/log/app.log.10");
    fs.file("/var/log/app.log.gz");
    fs.file("/var/log/.hidden.log");
    fs.file("/var/log/big.log");
    fs.entries["/var/log/big.log"].size = 1025;
    fs.entries["/var/log/app.log"].size = 1024;
    fs.link("/var/log/current.log", "/var/log/app.log");
    fs.entries["/var/log/current.log"].final_is_symlink = true;
    fs.link("/var/log/./app.log", "/var/log/app.log");
    fs.link("/var/log//app.log", "/var/log/app.log");
    fs.link("/var/log/nginx/../app.log", "/var/log/app.log");
    // clang-format off
    const std::vector<Case> cases = {
        {"pattern *.log", {"cat", "/var/log/app.log"}, "", true, "cat-log", {"cat", "/var/log/app.log"}},
        {"pattern *.log.[0-9]", {"cat", "/var/log/app.log.1"}, "", true, "cat-log", {"cat", "/var/log/app.log.1"}},
        {"pattern *.gz", {"zcat", "/var/log/app.log.gz"}, "", true, "zcat-log", {"zcat", "/var/log/app.log.gz"}},
        {"final symlink followed where allowed", {"tail", "/var/log/current.log"}, "", true, "tail-log",
         {"tail", "/var/log/app.log"}},
        {"dots resolved where allowed", {"tail", "/var/log/nginx/../app.log"}, "", true, "tail-log",
         {"tail", "/var/log/app.log"}},

        {"name not matching", {"cat", "/var/log/syslog"}, "", false, "must match one of: *.log *.log.[0-9]"},
        {"two digits after .log", {"cat", "/var/log/app.log.10"}, "", false, "must match one of"},
        {"gz where .log wanted", {"cat", "/var/log/app.log.gz"}, "", false, "must match one of"},
        {"log where gz wanted", {"zcat", "/var/log/app.log"}, "", false, "must match one of: *.gz"},
        {"hidden file needs its dot spelt", {"cat", "/var/log/.hidden.log"}, "", false, "must match one of"},
        {"final symlink refused", {"cat", "/var/log/current.log"}, "", false, "is a symbolic link"},
        {"symlink out, name matches", {"cat", "/var/log/evil.log"}, "", false, "outside"},
        {"too large", {"cat", "/var/log/big.log"}, "", false, "1025 bytes, more than the 1024 allowed"},
        {"dot component", {"cat", "/var/log/./app.log"}, "", false, "has a `.`, `..` or empty component"},
        {"dot-dot component inside", {"cat", "/var/log/nginx/../app.log"}, "", false, "component"},
        {"double slash", {"cat", "/var/log//app.log"}, "", false, "component"},
        {"trailing slash", {"cat", "/var/log/app.log/"}, "", false, "component"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.rule_id(), c.rule_or_reason);
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
}

// max_length (issue 13, item 9): a per-value byte limit, checked before the type.
TEST(Matching, MaxLengthBoundsEachValue) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: grep-log
    command: /usr/bin/grep
    options: {"-m": {int: [1, 100000], max_length: 3}}
    args:
      - {name: pattern, regex: '.{1,512}', max_length: 8}
      - {name: file, path: {under: [/var/log], type: file}, max_length: 16}
)");
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<Case> cases = {
        {"within every limit", {"grep", "-m", "100", "12345678", "/var/log/syslog"}, "", true, "grep-log",
         {"grep", "-m100", "12345678", "/var/log/syslog"}},
        {"pattern one byte too long", {"grep", "123456789", "/var/log/syslog"}, "", false,
         "PATTERN is 9 bytes, longer than the 8 allowed"},
        {"multibyte characters count as bytes", {"grep", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "/var/log/syslog"}, "",
         false, "10 bytes"},
        {"option value too long although in range", {"grep", "-m", "1000", "x", "/var/log/syslog"}, "", false,
         "the value of -m is 4 bytes"},
        {"path too long", {"grep", "x", "/var/log/nginx/access.log"}, "", false, "FILE is 25 bytes"},
        {"empty is still empty", {"grep", "", "/var/log/syslog"}, "", false, "may not be empty"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const Decision d = decide(policy, c.argv, c.key, fs);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            EXPECT_EQ(d.exec_argv, c.exec);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.rule_or_reason), std::string::npos) << d.reason;
        }
    }
}

// Restricted glob (issue 13, item 8): DIR/PATTERN expanded by bridle in one directory inside
// `under`, hidden names only where allowed, at most glob.max matches, each match checked as
// any path; everywhere else an unquoted * is denied.
TEST(Matching, GlobsExpandInOneConfinedDirectory) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: cat-nginx
    command: /usr/bin/cat
    args: [{name: file, path: {under: [/var/log/nginx], type: file, open: fd, glob: {max: 3}}}]
  - id: cat-hidden
    command: /usr/bin/head
    args: [{name: file, path: {under: [/var/log/nginx], type: file, glob: {max: 9, hidden: true}}}]
  - id: tail-log
    command: /usr/bin/tail
    args: [{name: file, path: {under: [/var/log], type: file}}]
  - id: wc-nginx
    command: /usr/bin/wc
    args: [{name: file, path: {under: [/var/log/nginx], type: file, dots: refuse, glob: {max: 3}}}]
)");
    FakeResolver fs = fixture_fs();
    fs.file("/var/log/nginx/error.log");
    fs.file("/var/log/nginx/.secret.log");
    fs.file("/var/log/nginx/b.txt");
    fs.file("/var/log/nginx/c.txt");
    fs.file("/var/log/nginx/d.txt");
    fs.file("/var/log/nginx/e.txt");
    fs.link("/var/log/nginx/z-evil.lnk", "/etc/shadow");
    fs.dir("/var/log/nginx/sub");
    fs.hard_linked("/var/log/nginx/hard.dat", 2);
    fs.link("/var/log/nginx/..", "/var/log");
    struct GlobCase {
        const char* name;
        std::string request;
        bool allow;
        std::string expect;  // the exec argv joined by spaces, or a reason substring
    };
    // clang-format off
    const std::vector<GlobCase> cases = {
        {"two matches, byte order", "cat /var/log/nginx/*.log", true,
         "cat /var/log/nginx/access.log /var/log/nginx/error.log"},
        {"question mark", "cat /var/log/nginx/?rror.log", true, "cat /var/log/nginx/error.log"},
        {"quoted: a literal name, not expanded", "tail '/var/log/syslog'", true, "tail /var/log/syslog"},
        {"hidden allowed", "head /var/log/nginx/.*.log", true, "head /var/log/nginx/.secret.log"},

        {"hidden not matched by *", "cat /var/log/nginx/*secret.log", false, "matches no file"},
        {"no match", "cat /var/log/nginx/*.zip", false, "matches no file"},
        {"too many", "cat /var/log/nginx/*.txt", false, "matches 4 files; this rule expands at most 3"},
        {"a match that is a symlink out", "cat /var/log/nginx/z-*", false, "outside the allowed directories"},
        {"a match that is a directory", "cat /var/log/nginx/su?", false, "is not a regular file"},
        {"a match with two hard links", "cat /var/log/nginx/hard.*", false, "hard links"},
        {"glob in a directory component", "cat /var/log/*/access.log", false, "only the last component"},
        {"directory outside under", "cat /var/log/*.log", false, "outside the allowed directories"},
        {"relative glob", "cat *.log", false, "must be an absolute path"},
        {"dot-dot to leave", "cat /var/log/nginx/../*", false, "outside the allowed directories"},
        {"rule without glob", "tail /var/log/*", false, "globs are not expanded here"},
        {"glob as an option", "tail -* /var/log/syslog", false, "globs are not expanded here"},
        {"glob as the program", "ta* /var/log/syslog", false, "no rule allows"},
        {"dots: refuse holds for the directory of a glob", "wc /var/log/nginx/../nginx/*.log", false,
         "has a `.`, `..` or empty component"},
        {"dots: refuse, plain directory", "wc /var/log/nginx/*.log", true,
         "wc /var/log/nginx/access.log /var/log/nginx/error.log"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<bool> globbed;
        const auto argv = command::tokenize_allowing_globs(c.request, &globbed);
        ASSERT_TRUE(argv) << argv.error().full();
        const Decision d = decide(policy, argv.value(), "", fs, &globbed);
        if (c.allow) {
            ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
            std::string joined;
            for (const auto& w : d.exec_argv) joined += (joined.empty() ? "" : " ") + w;
            EXPECT_EQ(joined, c.expect);
        } else {
            EXPECT_EQ(d.verdict, Verdict::kDeny);
            EXPECT_NE(d.reason.find(c.expect), std::string::npos) << d.reason;
        }
    }
    std::vector<bool> globbed;
    const auto argv = command::tokenize_allowing_globs("cat /var/log/nginx/*.log", &globbed);
    const Decision d = decide(policy, argv.value(), "", fs, &globbed);
    ASSERT_EQ(d.fd_paths.size(), 2u);  // open: fd for each match
    EXPECT_EQ(d.fd_paths[1].argv_index, 2u);
    EXPECT_EQ(d.bindings.size(), 2u);
    // Without the marks (argv sent as words), a * is just a character of a name.
    EXPECT_NE(decide(policy, argv.value(), "", fs).reason.find("does not exist"),
              std::string::npos);
}

// A denial names the rules for the same program, so the agent can correct itself.
TEST(Matching, DenialCarriesTheNearestSynopses) {
    const auto policy = parse(kPolicy);
    const auto fs = fixture_fs();
    const Decision d = decide(policy, {"systemctl", "stop", "nginx"}, "", fs);
    ASSERT_EQ(d.verdict, Verdict::kDeny);
    ASSERT_EQ(d.nearest.size(), 1u);  // restart-web is invisible to this key
    EXPECT_NE(d.nearest[0].find("systemctl"), std::string::npos);
    EXPECT_NE(d.nearest[0].find("status"), std::string::npos);

    const Decision path = decide(policy, {"/usr/bin/systemctl", "status", "nginx"}, "", fs);
    EXPECT_FALSE(path.nearest.empty());
}

// Rules are tried in policy order; the first that consumes every token decides.
TEST(Matching, FirstMatchingRuleWins) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: first
    command: /usr/bin/uptime
  - id: second
    command: /usr/bin/uptime
)");
    const auto fs = fixture_fs();
    EXPECT_EQ(decide(policy, {"uptime"}, "", fs).rule_id(), "first");
}

// A regex that parses but that RE2 cannot compile (too large for its memory budget) loads
// when regexes are compiled lazily (the forced command); the request that reaches it is denied
// and told why, never allowed.
TEST(Matching, RegexThatCannotBeCompiledDenies) {
    auto policy = parse(R"(
version: 1
rules:
  - id: echo-word
    command: /bin/echo
    args: [{name: word, regex: 'x'}]
)");
    ASSERT_EQ(policy.rules.size(), 1u);
    std::string huge;
    for (int i = 0; i < 400; ++i) huge += ".{1000}";
    std::string error;
    auto regex = policy::Regex::parse(huge, error);
    ASSERT_NE(regex, nullptr) << error;
    policy.rules[0].args[0].spec.regex = regex;
    policy.rules[0].args[0].spec.regex_source = huge;
    const auto fs = fixture_fs();
    const auto d = decide(policy, {"echo", "x"}, "", fs);
    EXPECT_EQ(d.verdict, Verdict::kDeny);
    EXPECT_NE(d.reason.find("cannot be compiled"), std::string::npos) << d.reason;
    EXPECT_NE(d.reason.find("bridle check"), std::string::npos) << d.reason;
}

// Bindings carry the values bridle passes on (canonical paths), for the audit record.
TEST(Matching, BindingsHoldCanonicalValues) {
    const auto policy = parse(kPolicy);
    FakeResolver fs = fixture_fs();
    fs.link("/var/log/./syslog", "/var/log/syslog");
    const Decision d = decide(policy, {"tail", "-n", "3", "/var/log/./syslog"}, "", fs);
    ASSERT_EQ(d.verdict, Verdict::kAllow) << d.reason;
    ASSERT_EQ(d.bindings.size(), 2u);
    EXPECT_EQ(d.bindings[0].name, "-n");
    EXPECT_EQ(d.bindings[1].name, "file");
    EXPECT_EQ(d.bindings[1].value, "/var/log/syslog");
    EXPECT_EQ(d.exec_argv.back(), "/var/log/syslog");
}

// A synopsis of literal words, pasted back as a request, is the request it describes: literals
// with spaces or shell characters are shown quoted (regression: they were shown bare, and the
// pasted line was refused as shell syntax).
TEST(Matching, LiteralSynopsisPastedBackIsAllowed) {
    const auto policy = parse(R"(
version: 1
rules:
  - id: spawn
    command: /bin/sh
    name: spawn-tree
    args: ['-c', 'sleep 2718 & wait', "it's", plain]
)");
    const auto fs = fixture_fs();
    const std::string synopsis = policy.rules.at(0).synopsis();
    EXPECT_EQ(synopsis, "spawn-tree -c 'sleep 2718 & wait' 'it'\\''s' plain");
    auto argv = command::tokenize(synopsis);
    ASSERT_TRUE(argv) << argv.error().full();
    EXPECT_EQ(decide(policy, argv.value(), "", fs).rule_id(), "spawn");
}

// A denial lists at most eight usages, those of the rules that got furthest, in policy order:
// a policy with thousands of rules for one program must not answer a typo with thousands of
// lines (`help` lists them all).
TEST(Matching, DenialListsAtMostEightNearestUsagesClosestFirst) {
    std::string yaml = "version: 1\nrules:\n";
    for (int i = 0; i < 12; ++i) {
        yaml += "  - id: r" + std::to_string(i) + "\n    command: /usr/bin/prog\n    args: [a" +
                std::to_string(i) + "]\n";
    }
    const auto policy = parse(yaml);
    const auto fs = fixture_fs();
    const Decision none = decide(policy, {"prog", "zz"}, "", fs);
    ASSERT_EQ(none.nearest.size(), 8u);
    EXPECT_EQ(none.nearest.front(), "prog a0");
    EXPECT_EQ(none.nearest.back(), "prog a7");
    EXPECT_EQ(none.reason, "expected \"a0\" here, got \"zz\"");
    const Decision extra = decide(policy, {"prog", "a11", "more"}, "", fs);
    ASSERT_EQ(extra.nearest.size(), 8u);
    EXPECT_EQ(extra.nearest.back(), "prog a11");
    EXPECT_NE(extra.reason.find("unexpected argument \"more\""), std::string::npos);
}

// An option's missing value is described by its placeholder, as in the synopsis.
TEST(Matching, MissingOptionValueNamesThePlaceholder) {
    const auto policy = parse(kPolicy);
    const auto fs = fixture_fs();
    const Decision d = decide(policy, {"journalctl", "--no-pager", "-u"}, "", fs);
    EXPECT_NE(d.reason.find("option \"-u\" needs a value: UNIT"), std::string::npos) << d.reason;
}

// decide() finds its candidates through the rules' index by name, in policy order. A policy
// from the compiled cache decodes its rules as they are read, and decides as the YAML's does; a
// rule added or renamed by hand is found at once (any write rebuilds the index).
TEST(Matching, IndexByNameDecidesAsTheWholeListWould) {
    const auto yaml = parse(kPolicy);
    EXPECT_EQ(yaml.rules.named("systemctl"), (std::vector<std::size_t>{0, 4}));
    EXPECT_TRUE(yaml.rules.named("nothing").empty());
    std::vector<bridle::Error> warnings;
    auto cached = policy::cache::decode_policy(policy::cache::encode_policy(yaml, {}), warnings);
    ASSERT_TRUE(cached.ok()) << cached.error().full();
    EXPECT_EQ(cached.value().rules.named("systemctl"), (std::vector<std::size_t>{0, 4}));
    const auto fs = fixture_fs();
    // clang-format off
    const std::vector<std::vector<std::string>> requests = {
        {"systemctl", "status", "nginx"}, {"systemctl", "restart", "nginx"},
        {"journalctl", "--no-pager", "-n", "5"}, {"uptime"}, {"spawn-tree", "-c", "sleep 1"},
        {"sh"}, {"/usr/bin/uptime"}, {"tail", "/etc/shadow"}};
    // clang-format on
    for (const auto& argv : requests) {
        for (const std::string key : {"", "ops-agent"}) {
            const Decision a = decide(yaml, argv, key, fs);
            const Decision b = decide(cached.value(), argv, key, fs);
            EXPECT_EQ(a.verdict, b.verdict) << argv[0];
            EXPECT_EQ(a.rule_id(), b.rule_id()) << argv[0];
            EXPECT_EQ(a.reason, b.reason) << argv[0];
            EXPECT_EQ(a.nearest, b.nearest) << argv[0];
        }
    }
    for (policy::Policy changed : {yaml, cached.value()}) {
        changed.rules.push_back(changed.rules.back());
        changed.rules.back().id = "second-spawn";
        changed.rules.back().name = "other-name";
        EXPECT_EQ(decide(changed, {"other-name", "-c", "sleep 1"}, "", fs).rule_id(),
                  "second-spawn");
        changed.rules[0].name = "renamed";
        EXPECT_EQ(changed.rules.named("systemctl"), (std::vector<std::size_t>{4}));
        EXPECT_EQ(changed.rules.named("renamed"), (std::vector<std::size_t>{0}));
    }
}

// An empty policy denies everything: nothing is allowed by default.
TEST(Matching, EmptyPolicyDeniesEverything) {
    const auto policy = parse("version: 1\nrules: []\n");
    const auto fs = fixture_fs();
    for (const auto& argv :
         std::vector<std::vector<std::string>>{{"uptime"}, {"help"}, {"sh"}, {}}) {
        EXPECT_EQ(decide(policy, argv, "", fs).verdict, Verdict::kDeny);
    }
}

// Golden decisions: each tests/golden/decisions/NNN-what.in holds requests (one argv per line,
// words separated by a TAB, escapes as in C) decided against policy/default.yaml, or against
// the policy its first line names ("# policy: policy/examples/reference.yaml", relative to the
// source tree); .ok has the outcome. UPDATE_GOLDEN=1 rewrites the .ok files (review the diff).
std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::string word;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\t') {
            out.push_back(word), word.clear();
        } else if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x') {
            word += static_cast<char>(std::stoi(line.substr(i + 2, 2), nullptr, 16));
            i += 3;
        } else {
            word += line[i];
        }
    }
    out.push_back(word);
    return out;
}

TEST(Matching, GoldenDecisionsAgainstTheShippedPolicy) {
    const std::string root = BRIDLE_SOURCE_DIR;
    const auto load = [&root](const std::string& relative) {
        policy::LoadReport report;
        auto loaded =
            policy::load_policy(root + "/" + relative, policy::LoadOptions{false}, report);
        EXPECT_TRUE(loaded) << relative << ": " << loaded.error().full();
        return loaded ? std::move(loaded).value() : policy::Policy{};
    };
    // clang-format on
    const policy::Policy shipped = load("policy/default.yaml");
    const auto fs = fixture_fs();
    int cases = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(root + "/tests/golden/decisions")) {
        if (entry.path().extension() != ".in") continue;
        SCOPED_TRACE(entry.path().filename().string());
        std::ifstream in(entry.path());
        std::ostringstream out;
        std::string line;
        std::optional<policy::Policy> named;
        constexpr std::string_view kPolicyLine = "# policy: ";
        while (std::getline(in, line)) {
            if (!named && line.rfind(kPolicyLine, 0) == 0) {
                named = load(line.substr(kPolicyLine.size()));
                continue;
            }
            if (line.empty() || line[0] == '#') continue;
            // "$ TEXT": a request as text, tokenized as the gate does (unquoted globs marked).
            std::vector<std::string> argv;
            std::vector<bool> globbed;
            if (line.rfind("$ ", 0) == 0) {
                auto words = command::tokenize_allowing_globs(line.substr(2), &globbed);
                if (!words) {
                    out << "> " << line << "\nunparsable: " << words.error().full() << "\n";
                    continue;
                }
                argv = std::move(words).value();
            } else {
                argv = split_tabs(line);
            }
            const Decision d = decide(named ? *named : shipped, argv, "", fs, &globbed);
            out << "> " << line << "\n";
            if (d.verdict == Verdict::kAllow) {
                out << "allow " << d.rule_id() << ":";
                for (const auto& w : d.exec_argv) out << " " << quote_text(w);
                out << "\n";
                for (const auto& f : d.fd_paths) {
                    out << "  open: fd " << quote_text(f.canonical) << " (word " << f.argv_index
                        << ")\n";
                }
            } else {
                out << "deny: " << d.reason << "\n";
                for (const auto& s : d.nearest) out << "  usage: " << s << "\n";
            }
        }
        auto ok_path = entry.path();
        ok_path.replace_extension(".ok");
        testing::expect_golden(ok_path, out.str());
        ++cases;
    }
    EXPECT_GT(cases, 0) << "no golden decision files";
}

}  // namespace
}  // namespace bridle::matching
