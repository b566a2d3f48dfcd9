// SPDX-License-Identifier: Apache-2.0
// Files entries (issue 16): the loader's checks of `files:`, the pure decision of a file request
// (matching/file_match), the content types, the unified diff (checked against GNU diff), and
// the file operations on a real directory (files/): links never followed, a parent swapped
// during a write, atomic replacement, the kept versions.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "common/unified_diff.hpp"
#include "files/files.hpp"
#include "loader/loader.hpp"
#include "matching/file_match.hpp"
#include "policy/sha256.hpp"

namespace bridle {
namespace {

namespace fs = std::filesystem;
using matching::FileDecision;
using matching::PathResolver;
using matching::Verdict;
using policy::FileVerb;

Result<policy::Policy> parse(const std::string& yaml, policy::LoadReport& report) {
    return policy::parse_policy_text(yaml, "t.yaml", true, report);
}

// ---- the loader -------------------------------------------------------------------------------

constexpr const char* kGoodPolicy = R"(version: 1
rules:
  - id: check
    command: /usr/bin/true
    args: [{param: f}]
    params: {f: {path: {under: [/srv/site], names: ['.bridle-put.*']}}}
files:
  - id: site
    summary: the site
    under: [/srv/site]
    names: ['*.conf']
    except: ['*.key']
    access: [get, put]
    mode: '0640'
    modes: ['0644']
    max_size: 4KiB
    content: utf-8
    create: true
    validator: check
    diff: true
    versions: 3
    timeout: 5s
  - id: motd
    paths: [/etc/motd]
    access: [get]
)";

TEST(FilesLoader, ReadsEveryKeyOfAFilesEntry) {
    policy::LoadReport report;
    const Result<policy::Policy> p = parse(kGoodPolicy, report);
    ASSERT_TRUE(p) << p.error().full();
    ASSERT_EQ(p.value().file_rules.size(), 2u);
    const policy::FileRule& site = p.value().file_rules[0];
    EXPECT_EQ(site.under, std::vector<std::string>{"/srv/site"});
    EXPECT_EQ(site.names, std::vector<std::string>{"*.conf"});
    EXPECT_EQ(site.except, std::vector<std::string>{"*.key"});
    EXPECT_TRUE(site.get && site.put);
    EXPECT_EQ(site.mode, 0640u);
    EXPECT_EQ(site.modes, std::vector<std::uint32_t>{0644});
    EXPECT_EQ(site.max_size, 4096u);
    EXPECT_EQ(site.content, policy::ContentType::kUtf8);
    EXPECT_TRUE(site.create && site.diff);
    EXPECT_EQ(site.validator, "check");
    EXPECT_EQ(site.versions, 3u);
    EXPECT_EQ(site.timeout, std::chrono::milliseconds(5000));
    const policy::FileRule& motd = p.value().file_rules[1];
    EXPECT_EQ(motd.exact, std::vector<std::string>{"/etc/motd"});
    EXPECT_TRUE(motd.get && !motd.put);
    EXPECT_EQ(motd.content, policy::ContentType::kText);  // the defaults
    EXPECT_EQ(motd.versions, 5u);
}

TEST(FilesLoader, RefusesEachInvalidEntryWithItsReason) {
    const std::string head = "version: 1\nrules: []\nfiles:\n  - id: f\n";
    struct Case {
        const char* name;
        std::string entry;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"no place", "    access: [get]\n", "needs paths (exact files), under (directories)"},
        {"no access", "    paths: [/etc/motd]\n", "needs access"},
        {"unknown access", "    paths: [/etc/motd]\n    access: [write]\n",
         "unknown access 'write'"},
        {"access twice", "    paths: [/etc/motd]\n    access: [get, get]\n", "lists 'get' twice"},
        {"unknown key", "    paths: [/a]\n    access: [get]\n    owner_id: 0\n",
         "unknown key 'owner_id'"},
        {"relative path", "    paths: [etc/motd]\n    access: [get]\n", "must be an absolute path"},
        {"dot dot", "    under: [/srv/../etc]\n    access: [get]\n", "must be an absolute path"},
        {"names alone", "    paths: [/a]\n    names: ['*']\n    access: [get]\n", "add under"},
        {"names with slash", "    under: [/srv]\n    names: ['a/*']\n    access: [get]\n",
         "without /"},
        {"world-writable mode", "    under: [/srv]\n    access: [put]\n    mode: '0666'\n",
         "lets every account write the file"},
        {"set-id mode", "    under: [/srv]\n    access: [put]\n    mode: '4755'\n", "set-user-id"},
        {"mode not octal", "    under: [/srv]\n    access: [put]\n    mode: '0648'\n",
         "must be octal digits"},
        {"write key on a read entry", "    under: [/srv]\n    access: [get]\n    create: true\n",
         "create applies to writes"},
        {"diff of bytes",
         "    under: [/srv]\n    access: [put]\n    content: bytes\n    diff: true\n",
         "diff needs text or utf-8 content"},
        {"unknown content", "    under: [/srv]\n    access: [put]\n    content: binary\n",
         "unknown content 'binary'"},
        {"too large", "    under: [/srv]\n    access: [put]\n    max_size: 65MiB\n",
         "max_size must be between"},
        {"too many versions", "    under: [/srv]\n    access: [put]\n    versions: 101\n",
         "versions must be between 0 and 100"},
        {"paths: [/]", "    paths: [/]\n    access: [get]\n",
         "paths lists files, and / is a directory"},
        {"no such validator", "    under: [/srv]\n    access: [put]\n    validator: nope\n",
         "the policy has no rule with that id"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        policy::LoadReport report;
        const Result<policy::Policy> p = parse(head + c.entry, report);
        EXPECT_FALSE(p);
        std::string all;
        for (const Error& e : report.errors) all += e.full() + "\n";
        EXPECT_NE(all.find(c.message), std::string::npos) << all;
    }
}

TEST(FilesLoader, AValidatorIsARuleOfOnePathValueRunningAsTheEntryDoes) {
    const std::string rules = R"(version: 1
rules:
  - id: two
    command: /usr/bin/true
    args: [{param: a}, {param: b}]
    params: {a: {path: {under: [/srv]}}, b: {path: {under: [/srv]}}}
  - id: regex
    command: /usr/bin/true
    args: [{param: a}]
    params: {a: {regex: '[a-z]+'}}
  - id: as-root
    command: /usr/bin/true
    args: [{param: a}]
    params: {a: {path: {under: [/srv]}}}
    run_as: root
files:
)";
    for (const auto& [validator, message] : std::vector<std::pair<std::string, std::string>>{
             {"two", "exactly one value, a path"},
             {"regex", "exactly one value, a path"},
             {"as-root", "the rule runs as root, the files entry as bridle's account"}}) {
        SCOPED_TRACE(validator);
        policy::LoadReport report;
        const std::string yaml = rules +
                                 "  - id: f\n    under: [/srv]\n    access: [put]\n"
                                 "    validator: " +
                                 validator + "\n";
        EXPECT_FALSE(parse(yaml, report));
        ASSERT_FALSE(report.errors.empty());
        EXPECT_NE(report.errors.front().message.find(message), std::string::npos)
            << report.errors.front().full();
    }
}

TEST(FilesLoader, AThenRuleTakesNoValueAndRunsAsTheEntryDoes) {
    const std::string rules = R"(version: 1
rules:
  - id: reload
    command: /usr/sbin/nginx
    args: [-s, reload]
  - id: valued
    command: /usr/bin/true
    args: [{param: a}]
    params: {a: {regex: '[a-z]+'}}
files:
  - id: f
    under: [/srv]
    access: [put]
)";
    policy::LoadReport ok_report;
    const Result<policy::Policy> ok = parse(rules + "    then: [reload]\n", ok_report);
    ASSERT_TRUE(ok) << ok.error().full();
    EXPECT_EQ(ok.value().file_rules.front().then, std::vector<std::string>{"reload"});
    for (const auto& [then, message] : std::vector<std::pair<std::string, std::string>>{
             {"[valued]", "must take no value"},
             {"[nope]", "the policy has no rule with that id"},
             {"[reload, reload]", "lists 'reload' twice"},
             {"[]", "then may not be empty"}}) {
        SCOPED_TRACE(then);
        policy::LoadReport report;
        EXPECT_FALSE(parse(rules + "    then: " + then + "\n", report));
        std::string all;
        for (const Error& e : report.errors) all += e.full() + "\n";
        EXPECT_NE(all.find(message), std::string::npos) << all;
    }
}

TEST(FilesLoader, IdsAreUniqueAcrossRulesAndFilesEntries) {
    policy::LoadReport report;
    EXPECT_FALSE(
        parse("version: 1\nrules:\n  - id: x\n    command: /usr/bin/true\nfiles:\n"
              "  - id: x\n    paths: [/a]\n    access: [get]\n",
              report));
    ASSERT_FALSE(report.errors.empty());
    EXPECT_NE(report.errors.front().message.find("duplicate rule id 'x'"), std::string::npos);
}

TEST(FilesLoader, CheckWarnsAboutEntriesThatReachWhatTheHostTrusts) {
    policy::LoadReport report;
    const Result<policy::Policy> p = parse(R"(version: 1
rules:
  - id: ls
    command: /usr/bin/ls
files:
  - id: wide
    under: [/etc]
    access: [put]
    run_as: root
  - id: sshd
    paths: [/etc/ssh/sshd_config]
    access: [put]
  - id: bins
    under: [/usr/bin]
    access: [put]
  - id: reads
    under: [/]
    access: [get]
)",
                                           report);
    ASSERT_TRUE(p) << p.error().full();
    std::string all;
    for (const Error& w : report.warnings) all += w.full() + "\n";
    EXPECT_NE(all.find("'wide' may write /etc/sudoers (sudo's rules)"), std::string::npos) << all;
    EXPECT_NE(all.find("'wide' may write /etc/pam.d"), std::string::npos) << all;
    EXPECT_NE(all.find("'sshd' may write /etc/ssh (sshd's configuration) without a validator"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("'bins' may write /usr/bin/ls, which rule 'ls' executes"), std::string::npos)
        << all;
    EXPECT_EQ(all.find("'reads'"), std::string::npos) << all;  // reading changes nothing
}

// ---- the decision -----------------------------------------------------------------------------

class FakeResolver final : public PathResolver {
  public:
    std::map<std::string, Resolved> entries;
    void file(const std::string& p) { entries[p] = {p, true, false}; }
    void dir(const std::string& p) { entries[p] = {p, false, true}; }
    void link(const std::string& p, const std::string& target) { entries[p] = entries.at(target); }
    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
        const auto it = entries.find(path);
        if (it == entries.end()) {
            why = "does not exist";
            return std::nullopt;
        }
        return it->second;
    }
};

struct Decide {
    policy::Policy policy;
    FakeResolver fs;
    FileDecision operator()(const std::vector<std::string>& argv, const std::string& key = "k") {
        return matching::decide_file(
            policy, argv, key, fs,
            matching::protected_paths(policy, *matching::file_verb(argv[0]), "/usr/bin/bridle"));
    }
};

Decide decide_with(const std::string& files) {
    Decide d;
    policy::LoadReport report;
    Result<policy::Policy> p = parse("version: 1\nrules: []\nfiles:\n" + files, report);
    EXPECT_TRUE(p) << (p ? "" : p.error().full());
    if (p) d.policy = std::move(p).value();
    d.policy.files = {"/etc/bridle/policy.yaml"};
    for (const char* dir : {"/", "/etc", "/etc/bridle", "/etc/bridle/policy.d", "/srv", "/srv/site",
                            "/srv/site/sub", "/etc/nginx", "/var/lib/bridle", "/usr/bin"}) {
        d.fs.dir(dir);
    }
    for (const char* file : {"/etc/bridle/policy.yaml", "/srv/site/a.conf", "/srv/site/b.key",
                             "/srv/site/sub/c.conf", "/etc/passwd", "/usr/bin/bridle"}) {
        d.fs.file(file);
    }
    d.fs.link("/srv/site/link.conf", "/etc/passwd");  // a file link leading out
    d.fs.link("/srv/site/out", "/etc");               // a directory link leading out
    return d;
}

TEST(FileRequests, ParsesEachVerbAndRefusesWhatIsNotOne) {
    struct Case {
        std::vector<std::string> argv;
        const char* error;  // nullptr: parses
    };
    const std::vector<Case> cases = {
        {{"get", "/a"}, nullptr},
        {{"get", "/a", "--offset", "10", "--limit=20"}, nullptr},
        {{"put", "--mode", "0640", "/a", "--size=3"}, nullptr},
        {{"versions", "/a"}, nullptr},
        {{"restore", "/a", "--version", "2"}, nullptr},
        {{"get"}, "needs the file's path"},
        {{"get", "/a", "/b"}, "takes one path"},
        {{"get", "a"}, "must be absolute"},
        {{"get", "/a/../b"}, "must be absolute"},
        {{"get", "/a/./b"}, "must be absolute"},
        {{"get", "/a//b"}, "must be absolute"},
        {{"get", "/a/"}, "must be absolute"},
        {{"get", "/a", "--mode", "0644"}, "get has no option \"--mode\""},
        {{"versions", "/a", "--version=1"}, "versions has no option"},
        {{"put", "/a", "--mode", "644x"}, "not an octal file mode"},
        {{"put", "/a", "--mode", "0644", "--mode=0600"}, "given twice"},
        {{"put", "/a", "--size"}, "needs a value"},
        {{"put", "/a", "--size", "-1"}, "not a decimal number"},
        {{"put", "/a", "--size", "012"}, "not a decimal number"},
        {{"restore", "/a", "--version", "0"}, "not a version number"},
        {{"delete", "/a"}, "not a file request"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.argv.front() + " " + (c.argv.size() > 1 ? c.argv[1] : ""));
        const Result<matching::FileRequest> r = matching::parse_file_request(c.argv);
        if (c.error == nullptr) {
            ASSERT_TRUE(r) << r.error().message;
            // The normal form parses to itself: what the target side receives.
            const std::vector<std::string> normal = matching::normal_form(r.value());
            const Result<matching::FileRequest> again = matching::parse_file_request(normal);
            ASSERT_TRUE(again);
            EXPECT_EQ(matching::normal_form(again.value()), normal);
        } else {
            ASSERT_FALSE(r);
            EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
        }
    }
}

TEST(FileRequests, TheFirstEntryThatTakesThePathDecides) {
    Decide d = decide_with(R"(  - id: site
    under: [/srv/site]
    names: ['*.conf']
    except: ['*.key']
    access: [get, put]
    modes: ['0600']
    max_size: 10B
  - id: keys
    under: [/srv/site]
    access: [get]
    keys: [admin]
)");
    struct Case {
        std::vector<std::string> argv;
        std::string key;
        const char* entry;   // nullptr: denied
        const char* reason;  // part of the denial
    };
    const std::vector<Case> cases = {
        {{"get", "/srv/site/a.conf"}, "k", "site", ""},
        {{"put", "/srv/site/a.conf"}, "k", "site", ""},
        {{"put", "/srv/site/sub/c.conf"}, "k", "site", ""},  // any depth
        {{"put", "/srv/site/new.conf"},
         "k",
         nullptr,
         "does not exist, and entry site may only "
         "replace existing files"},
        {{"put", "/srv/site/a.conf", "--mode=0600"}, "k", "site", ""},
        {{"put", "/srv/site/a.conf", "--mode=0640"}, "k", nullptr, "mode 0640 is not one"},
        {{"put", "/srv/site/a.conf", "--size=11"}, "k", nullptr, "takes at most 10"},
        {{"put", "/srv/site/a.conf", "--then=rm"}, "k", nullptr, "entry site runs no rule \"rm\""},
        {{"get", "/srv/site/b.key"}, "k", nullptr, "no files entry lets this key get"},
        {{"get", "/srv/site/b.key"}, "admin", "keys", ""},
        {{"put", "/srv/site/b.key"}, "admin", nullptr, "no files entry"},
        {{"get", "/srv/site/.hidden.conf"}, "k", nullptr, "does not exist"},
        // Links: a file link is followed by get, and the target is what must be allowed.
        {{"get", "/srv/site/link.conf"}, "k", nullptr, "(\"/etc/passwd\")"},
        {{"put", "/srv/site/out/x.conf"}, "k", nullptr, "no files entry"},
        {{"get", "/srv/nowhere/a.conf"}, "k", nullptr, "does not exist"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.argv[0] + " " + c.argv[1] + " as " + c.key);
        const FileDecision r = d(c.argv, c.key);
        if (c.entry != nullptr) {
            EXPECT_EQ(r.verdict, Verdict::kAllow) << r.reason;
            EXPECT_EQ(r.rule_id(), c.entry);
        } else {
            EXPECT_EQ(r.verdict, Verdict::kDeny);
            EXPECT_NE(r.reason.find(c.reason), std::string::npos) << r.reason;
        }
    }
    EXPECT_EQ(d({"put", "/srv/site/sub/c.conf"}).root, "/srv/site");
    EXPECT_EQ(d({"put", "/srv/site/sub/c.conf"}).directory, "/srv/site/sub");
}

// bridle's own files through every entry shape that could name them: never.
TEST(FileRequests, BridlesOwnFilesAreNeverWritableWhateverAnEntrySays) {
    for (const char* entry :
         {"    under: [/]\n", "    under: [/etc]\n", "    under: [/etc/bridle]\n",
          "    paths: [/etc/bridle/policy.yaml]\n", "    under: [/etc]\n    names: ['*.yaml']\n",
          "    under: [/usr/bin]\n", "    under: [/var/lib]\n"}) {
        SCOPED_TRACE(entry);
        Decide d = decide_with(std::string("  - id: wide\n") + entry +
                               "    access: [get, put]\n    create: true\n");
        for (const char* path : {"/etc/bridle/policy.yaml", "/etc/bridle/policy.d/x.yaml",
                                 "/usr/bin/bridle", "/var/lib/bridle/versions"}) {
            SCOPED_TRACE(path);
            for (const char* verb : {"put", "restore", "versions"}) {
                const FileDecision r = d({verb, path});
                EXPECT_EQ(r.verdict, Verdict::kDeny);
                if (std::string(r.reason).find("bridle's own") == std::string::npos &&
                    std::string(r.reason).find("no files entry") == std::string::npos) {
                    ADD_FAILURE() << r.reason;
                }
            }
        }
        const FileDecision through_link = d({"put", "/srv/site/out/bridle/policy.yaml"});
        EXPECT_EQ(through_link.verdict, Verdict::kDeny) << through_link.reason;
    }
}

// ---- content types and the diff --------------------------------------------------------------

TEST(FileContent, EachTypeTakesWhatItSaysAndNamesTheFirstBadCharacter) {
    using policy::ContentType;
    struct Case {
        ContentType type;
        std::string content;
        const char* problem;  // nullptr: fits
    };
    const std::vector<Case> cases = {
        {ContentType::kText, "server {\n\tlisten 80;\r\n}\n", nullptr},
        {ContentType::kText, "caf\xc3\xa9\n", nullptr},
        {ContentType::kText, std::string("a\0b", 3), "NUL byte at line 1, column 2"},
        {ContentType::kText, "ok\n\x1b[31m", "control character U+001B at line 2, column 1"},
        {ContentType::kText, "\xc2\x85", "control character U+0085"},
        {ContentType::kText, "\xff", "not valid UTF-8 at line 1, column 1"},
        {ContentType::kUtf8, "\x1b[31m\n", nullptr},
        {ContentType::kUtf8, "\xc0\xaf", "not valid UTF-8"},      // overlong '/'
        {ContentType::kUtf8, "\xed\xa0\x80", "not valid UTF-8"},  // a surrogate
        {ContentType::kBytes, std::string("\0\xff\x1b", 3), nullptr},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.content);
        const std::optional<std::string> problem = policy::content_problem(c.type, c.content);
        if (c.problem == nullptr) {
            EXPECT_FALSE(problem) << *problem;
        } else {
            ASSERT_TRUE(problem);
            EXPECT_NE(problem->find(c.problem), std::string::npos) << *problem;
        }
    }
}

// Applies a unified diff's hunks to `before` (the test's own reading of the format).
std::string apply_diff(const std::string& before, const std::string& diff) {
    std::vector<std::string> in, out;
    std::istringstream lines(before);
    for (std::string l; std::getline(lines, l);) in.push_back(l);
    std::istringstream d(diff);
    std::size_t next = 0;  // the next line of `in` not yet copied
    for (std::string l; std::getline(d, l);) {
        if (l.rfind("@@ -", 0) == 0) {
            std::size_t start = std::stoul(l.substr(4));
            const std::size_t comma = l.find(',', 4), space = l.find(' ', 4);
            const bool empty = comma < space && std::stoul(l.substr(comma + 1)) == 0;
            if (!empty) --start;
            while (next < start) out.push_back(in[next++]);
        } else if (!l.empty() && l[0] == ' ') {
            out.push_back(in[next++]);
        } else if (!l.empty() && l[0] == '-' && l.rfind("---", 0) != 0) {
            ++next;
        } else if (!l.empty() && l[0] == '+' && l.rfind("+++", 0) != 0) {
            out.push_back(l.substr(1));
        }
    }
    while (next < in.size()) out.push_back(in[next++]);
    std::string text;
    for (const std::string& l : out) text += l + "\n";
    return text;
}

std::size_t changed_lines(const std::string& diff) {
    std::size_t n = 0;
    std::istringstream d(diff);
    for (std::string l; std::getline(d, l);) {
        if ((l[0] == '+' && l.rfind("+++", 0) != 0) || (l[0] == '-' && l.rfind("---", 0) != 0)) ++n;
    }
    return n;
}

// Random line files against GNU diff: our diff applies back to the new text, and is as short
// (both are shortest edit scripts, though they may align equal lines differently).
TEST(UnifiedDiff, IsAShortestEditScriptThatAppliesLikeGnuDiffs) {
    const fs::path dir = fs::temp_directory_path() / ("bridle-diff-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::mt19937 rng(20261206);
    for (int round = 0; round < 60; ++round) {
        SCOPED_TRACE(round);
        std::string a, b;
        const int lines = static_cast<int>(rng() % 40);
        for (int i = 0; i < lines; ++i) {
            const std::string line = "line " + std::to_string(rng() % 12) + "\n";
            const unsigned what = rng() % 6;
            if (what != 0) a += line;
            if (what != 1) b += (what == 2 ? "changed " : "") + line;
        }
        std::ofstream(dir / "a") << a;
        std::ofstream(dir / "b") << b;
        const std::string command = "diff -u " + (dir / "a").string() + " " + (dir / "b").string();
        std::string gnu;
        if (FILE* p = ::popen(command.c_str(), "r")) {
            char buf[4096];
            std::size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) gnu.append(buf, n);
            ::pclose(p);
        }
        const std::string ours = unified_diff(a, b, "/x");
        if (a == b) {
            EXPECT_EQ(ours, "");
            continue;
        }
        EXPECT_EQ(ours.rfind("--- a/x\n+++ b/x\n@@ -", 0), 0u) << ours;
        EXPECT_EQ(apply_diff(a, ours), b) << ours;
        EXPECT_EQ(changed_lines(ours), changed_lines(gnu)) << ours << "\nGNU:\n" << gnu;
    }
    fs::remove_all(dir);
}

TEST(UnifiedDiff, SaysWhereALimitStopsIt) {
    std::string a, b;
    for (int i = 0; i < 100; ++i)
        a += "a" + std::to_string(i) + "\n", b += "b" + std::to_string(i) + "\n";
    EXPECT_EQ(unified_diff(a, b, "/x", {150, 2000, 16384, 3}), "(no diff: more than 150 lines)\n");
    EXPECT_EQ(unified_diff(a, b, "/x", {20000, 50, 16384, 3}),
              "(no diff: more than 50 lines changed)\n");
    const std::string cut = unified_diff(a, b, "/x", {20000, 2000, 100, 3});
    EXPECT_NE(cut.find("(diff cut at 100 bytes)"), std::string::npos) << cut;
    EXPECT_EQ(unified_diff("x", "x\n", "/x"),
              "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n");
}

// ---- the operations on a real directory ------------------------------------------------------

class FilesOnDisk : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/bridle-files-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ + "/site/sub");
        fs::create_directories(root_ + "/elsewhere");
        fs::create_directories(root_ + "/state");
        ::chmod((root_ + "/state").c_str(), 0755);
        write(root_ + "/site/a.conf", "old\n");
    }
    void TearDown() override { fs::remove_all(root_); }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    files::Ownership me() const { return {::geteuid(), ::getegid(), 0640}; }
    std::string root_;
};

TEST_F(FilesOnDisk, ADirectoryIsReachedWithoutFollowingAnyLink) {
    EXPECT_TRUE(files::open_directory(root_ + "/site", root_ + "/site/sub", true));
    fs::create_directory_symlink(root_ + "/elsewhere", root_ + "/site/link");
    const Result<os::UniqueFd> through =
        files::open_directory(root_ + "/site", root_ + "/site/link", false);
    ASSERT_FALSE(through);
    EXPECT_NE(through.error().message.find("changed after it was checked"), std::string::npos)
        << through.error().message;
    fs::create_directory_symlink(root_ + "/site", root_ + "/rootlink");
    EXPECT_FALSE(files::open_directory(root_ + "/rootlink", root_ + "/rootlink", false));
    EXPECT_FALSE(files::open_directory(root_ + "/site", root_ + "/elsewhere", false));
}

TEST_F(FilesOnDisk, ExamineNamesWhatIsThereAndNeverFollowsIt) {
    Result<os::UniqueFd> dir = files::open_directory(root_ + "/site", root_ + "/site", false);
    ASSERT_TRUE(dir);
    fs::create_symlink(root_ + "/elsewhere", root_ + "/site/link");
    ::mkfifo((root_ + "/site/fifo").c_str(), 0600);
    const int d = dir.value().get();
    EXPECT_EQ(files::examine(d, "a.conf", true, 100).value().content, "old\n");
    EXPECT_FALSE(files::examine(d, "none", true, 100).value().exists);
    EXPECT_EQ(files::examine(d, "link", true, 100).value().type, "symbolic link");
    EXPECT_EQ(files::examine(d, "sub", true, 100).value().type, "directory");
    EXPECT_EQ(files::examine(d, "fifo", true, 100).value().type, "FIFO");  // and did not block
    EXPECT_FALSE(files::examine(d, "a.conf", true, 2));                    // too large to keep
}

TEST_F(FilesOnDisk, AStagedFileIsInvisibleUntilCommittedAndGoneIfNot) {
    Result<os::UniqueFd> dir = files::open_directory(root_ + "/site", root_ + "/site", true);
    ASSERT_TRUE(dir);
    std::string staged_path;
    {
        Result<files::Staged> staged =
            files::stage(dir.value().get(), root_ + "/site", "a.conf", "new\n", me());
        ASSERT_TRUE(staged) << staged.error().message;
        staged_path = staged.value().path();
        EXPECT_EQ(read(staged_path), "new\n");
        EXPECT_EQ(read(root_ + "/site/a.conf"), "old\n");
        struct stat st {};
        ASSERT_EQ(::stat(staged_path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0640u);
    }  // not committed: removed
    EXPECT_FALSE(fs::exists(staged_path));
    Result<files::Staged> staged =
        files::stage(dir.value().get(), root_ + "/site", "a.conf", "new\n", me());
    ASSERT_TRUE(staged);
    ASSERT_TRUE(staged.value().commit(true));
    EXPECT_EQ(read(root_ + "/site/a.conf"), "new\n");
    // A file that appears after bridle found none is not replaced.
    Result<files::Staged> created =
        files::stage(dir.value().get(), root_ + "/site", "b.conf", "mine\n", me());
    ASSERT_TRUE(created);
    write(root_ + "/site/b.conf", "theirs\n");
    EXPECT_FALSE(created.value().commit(false));
    EXPECT_EQ(read(root_ + "/site/b.conf"), "theirs\n");
}

// The parent is swapped for a link to another directory while a write is under way: the write
// goes on in the directory that was checked (its descriptor), never through the new link.
TEST_F(FilesOnDisk, AParentSwappedDuringTheWriteIsNotFollowed) {
    Result<os::UniqueFd> dir = files::open_directory(root_ + "/site", root_ + "/site/sub", true);
    ASSERT_TRUE(dir);
    Result<files::Staged> staged =
        files::stage(dir.value().get(), root_ + "/site/sub", "x.conf", "payload\n", me());
    ASSERT_TRUE(staged);
    fs::rename(root_ + "/site/sub", root_ + "/moved");
    fs::create_directory_symlink(root_ + "/elsewhere", root_ + "/site/sub");
    ASSERT_TRUE(staged.value().commit(false));
    EXPECT_FALSE(fs::exists(root_ + "/elsewhere/x.conf"));
    EXPECT_EQ(read(root_ + "/moved/x.conf"), "payload\n");
    // And a new request finds the link and refuses it.
    EXPECT_FALSE(files::open_directory(root_ + "/site", root_ + "/site/sub", true));
}

TEST_F(FilesOnDisk, VersionsKeepTheOldContentAndItsAbsenceNewestLast) {
    const std::string user = "tester";
    if (::geteuid() != 0) GTEST_SKIP() << "the version store's levels are root's";
    Result<files::VersionStore> store =
        files::VersionStore::open(root_ + "/state", user, root_ + "/site/a.conf", true);
    ASSERT_TRUE(store) << store.error().message;
    files::Current absent;
    ASSERT_TRUE(store.value().keep(absent, "", "r1", 100));
    Result<os::UniqueFd> dir = files::open_directory(root_ + "/site", root_ + "/site", false);
    const files::Current cur = files::examine(dir.value().get(), "a.conf", true, 100).value();
    ASSERT_TRUE(store.value().keep(cur, policy::sha256_hex(cur.content), "r2", 200));
    const std::vector<files::Version> kept = store.value().list();
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_TRUE(kept[0].absent);
    EXPECT_EQ(kept[1].number, 2u);
    EXPECT_EQ(kept[1].request_id, "r2");
    EXPECT_EQ(store.value().content(2).value(), "old\n");
    store.value().prune(1);
    ASSERT_EQ(store.value().list().size(), 1u);
    EXPECT_EQ(store.value().list().front().number, 2u);
    // A store others could read is refused: old contents may be secret.
    const std::string mine = root_ + "/state/versions/" + user;
    ::chmod(mine.c_str(), 0755);
    const Result<files::VersionStore> open_again =
        files::VersionStore::open(root_ + "/state", user, root_ + "/site/a.conf", true);
    ASSERT_FALSE(open_again);
    EXPECT_NE(open_again.error().message.find("may be read by others"), std::string::npos);
}

}  // namespace
}  // namespace bridle
