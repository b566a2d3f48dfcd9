// SPDX-License-Identifier: Apache-2.0
// The compiled policy cache (src/loader/policy_cache.hpp, cache_codec.hpp): a hit gives the very
// policy the YAML gives; every cache that is stale, corrupt, truncated, foreign-owned, writable
// by others, a symlink, from another build or format, or in an untrusted directory is ignored
// with its reason and the YAML is used; the codec round-trips every policy the project ships.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit.hpp"
#include "audit/records.hpp"
#include "gate/gate.hpp"
#include "gate/system_resolver.hpp"
#include "loader/cache_codec.hpp"
#include "loader/compiled_load.hpp"
#include "loader/file_checks.hpp"
#include "loader/loader.hpp"
#include "loader/policy_cache.hpp"
#include "matching/matcher.hpp"
#include "policy/sha256.hpp"
#include "scratch.hpp"

namespace bridle::policy {
namespace {

namespace fs = std::filesystem;

using Scratch = test::TrustedScratch;

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A policy with something in every section: settings, a sandbox, options, a regex shared by two
// rules, an enum, an int, a path, redaction patterns, and a lint warning (a weak sandbox).
const char* kPolicy = R"(version: 1
settings:
  timeout: 5s
  max_output: 4096
  env: {PATH: /usr/bin, LC_ALL: C}
  redact_patterns: ['token-[0-9]+']
  guardrails:
    - {keys: [claude, ci], requests_per_minute: 30, concurrent: 2}
    - {requests_per_day: 1000}
sandboxes:
  loose: {seccomp: [baseline], exec_once: false, limits: {cpu: 10s, open_files: 64}, umask: "0077"}
rules:
  - id: unit-status
    command: /usr/bin/systemctl
    fixed_before: [--no-pager]
    args: [status, {name: unit, regex: '[a-z0-9@._-]{1,64}'}]
    redact: true
  - id: journal
    command: /usr/bin/journalctl
    options:
      "-u|--unit": {regex: '[a-z0-9@._-]{1,64}'}
      "-n|--lines": {int: [1, 2000]}
      "-o|--output": {enum: [short, json]}
    fixed_after: [--no-pager]
  - id: tail-log
    command: /usr/bin/tail
    sandbox: loose
    args: [{name: file, path: {under: [/var/log], type: file}}]
    pipeline: [alone, first]
    timeout: 2s
)";

struct Loaded {
    Result<Policy> policy = Error{"not loaded", ""};
    LoadReport report;
};

// Loads `main` as an enforcing front end would, with the cache in `cache_dir`.
Loaded load(const std::string& main, const std::string& cache_dir, bool write = false,
            bool compile = false) {
    Loaded out;
    LoadOptions options;
    options.compile_regexes = compile;
    options.cache_dir = cache_dir;
    options.write_cache = write;
    out.policy = load_policy_files(main, "", options, out.report);
    return out;
}

std::string encoded(const Policy& policy, const std::vector<Error>& warnings = {}) {
    return cache::encode_policy(policy, warnings);
}

std::string messages(const std::vector<Error>& errors) {
    std::string out;
    for (const Error& e : errors) out += e.full() + "\n";
    return out;
}

// A fixture: the policy written, then compiled into the cache by a root load.
class Cache : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!scratch_.safe()) GTEST_SKIP() << "needs root (the cache trusts only root's files)";
        main_ = scratch_.file("policy.yaml", kPolicy);
        dir_ = scratch_.path("cache");
        Loaded compiled = load(main_, dir_, true, true);
        ASSERT_TRUE(compiled.policy.ok()) << compiled.policy.error().full();
        ASSERT_FALSE(compiled.report.cache_written.empty()) << compiled.report.cache_not_written;
        cache_file_ = compiled.report.cache_written;
        yaml_ = std::move(compiled.policy).value();
        yaml_warnings_ = compiled.report.warnings;
    }

    // The outcome of the next lazy load, which must succeed and give the YAML's policy.
    std::string outcome() {
        Loaded again = load(main_, dir_);
        EXPECT_TRUE(again.policy.ok()) << again.policy.error().full();
        if (!again.policy.ok()) return "";
        EXPECT_EQ(encoded(again.policy.value()), encoded(yaml_));
        return again.policy.value().cache;
    }

    Scratch scratch_;
    std::string main_, dir_, cache_file_;
    Policy yaml_;
    std::vector<Error> yaml_warnings_;
};

// A hit is the YAML's policy, field for field (the codec writes every field), with the same
// warnings, and decides requests as the YAML's does.
TEST_F(Cache, HitGivesThePolicyTheYamlGives) {
    struct stat st {};
    ASSERT_EQ(::stat(cache_file_.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);

    Loaded hit = load(main_, dir_);
    ASSERT_TRUE(hit.policy.ok()) << hit.policy.error().full();
    const Policy& cached = hit.policy.value();
    EXPECT_EQ(cached.cache, "hit");
    EXPECT_EQ(encoded(cached, hit.report.warnings), encoded(yaml_, yaml_warnings_));
    EXPECT_EQ(messages(hit.report.warnings), messages(yaml_warnings_));
    EXPECT_FALSE(yaml_warnings_.empty()) << "the fixture has a weak sandbox to warn about";
    for (const Rule& rule : yaml_.rules) {
        EXPECT_EQ(cached.rules.named(rule.name), yaml_.rules.named(rule.name)) << rule.name;
    }
    EXPECT_EQ(cached.settings.redaction->own(), yaml_.settings.redaction->own());
    ASSERT_EQ(cached.settings.guardrails.size(), 2u);
    EXPECT_EQ(cached.settings.guardrails[0].keys, (std::vector<std::string>{"claude", "ci"}));
    EXPECT_EQ(cached.settings.guardrails[0].concurrent, 2u);
    EXPECT_EQ(cached.settings.guardrails[1].per_day, 1000u);
    EXPECT_FALSE(cached.settings.guardrails[1].per_minute);

    class NoFiles final : public matching::PathResolver {
      public:
        std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
            if (path != "/var/log/syslog") {
                why = "does not exist";
                return std::nullopt;
            }
            Resolved r;
            r.canonical = path;
            r.is_regular = true;
            return r;
        }
    } files;
    const std::vector<std::vector<std::string>> requests = {{"systemctl", "status", "ssh.service"},
                                                            {"systemctl", "status", "a b"},
                                                            {"journalctl", "-u", "ssh", "-n", "50"},
                                                            {"journalctl", "-n", "5000"},
                                                            {"journalctl", "--output=json"},
                                                            {"tail", "/var/log/syslog"},
                                                            {"tail", "/etc/shadow"},
                                                            {"rm", "-rf", "/"}};
    for (const auto& argv : requests) {
        SCOPED_TRACE(argv[0] + " " + (argv.size() > 1 ? argv[1] : ""));
        const matching::Decision a = matching::decide(cached, argv, "", files);
        const matching::Decision b = matching::decide(yaml_, argv, "", files);
        EXPECT_EQ(a.verdict, b.verdict);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.exec_argv, b.exec_argv);
        EXPECT_EQ(a.rule ? a.rule->id : "", b.rule ? b.rule->id : "");
    }
}

// Regexes from the cache are created, not compiled: the request that reaches one compiles it.
TEST_F(Cache, HitCompilesNoRegexUntilARequestReachesIt) {
    Loaded hit = load(main_, dir_);
    ASSERT_TRUE(hit.policy.ok());
    const Policy& p = hit.policy.value();
    // The two rules share '[a-z0-9@._-]{1,64}': one Regex, as the YAML loader's pool gives.
    EXPECT_EQ(p.rules[0].args[1].spec.regex, p.rules[1].options[0].value.regex);
    EXPECT_TRUE(p.rules[0].args[1].spec.regex->full_match("ssh.service"));
}

// The YAML stays the truth: a policy changed after compiling has another key, so the cache
// is not found and the changed YAML is what loads.
TEST_F(Cache, APolicyChangedAfterCompilingIsReadFromTheYaml) {
    scratch_.file("policy.yaml", std::string(kPolicy) + "  - id: more\n    command: /bin/true\n");
    Loaded changed = load(main_, dir_);
    ASSERT_TRUE(changed.policy.ok()) << changed.policy.error().full();
    EXPECT_EQ(changed.policy.value().cache, "none");
    EXPECT_EQ(changed.policy.value().rules.size(), yaml_.rules.size() + 1);
}

// Another path with the same bytes is another key: a cache is never shared between files.
TEST_F(Cache, TheSameBytesUnderAnotherPathAreAnotherKey) {
    const std::string other = scratch_.file("other.yaml", kPolicy);
    Loaded loaded = load(other, dir_);
    ASSERT_TRUE(loaded.policy.ok());
    EXPECT_EQ(loaded.policy.value().cache, "none");
    EXPECT_EQ(loaded.policy.value().files, std::vector<std::string>{other});
}

// A cache file renamed to another key's name is ignored: its header names its own key.
TEST_F(Cache, AFileUnderAnotherKeysNameIsIgnored) {
    const std::string other_main = scratch_.file("other.yaml", "version: 1\nrules: []\n");
    const std::vector<std::pair<std::string, std::size_t>> files = {
        {other_main, read_bytes(other_main).size()}};
    const std::string other =
        cache::file_for(dir_, cache::key_of(files, sha256_hex(read_bytes(other_main))));
    fs::copy_file(cache_file_, other);
    Loaded loaded = load(other_main, dir_);
    ASSERT_TRUE(loaded.policy.ok());
    EXPECT_EQ(loaded.policy.value().cache, "ignored: another key");
    EXPECT_TRUE(loaded.policy.value().rules.empty());
}

// Every damaged or untrusted cache: ignored with its reason, and the YAML's policy loads.
TEST_F(Cache, ADamagedOrUntrustedCacheIsIgnoredWithItsReason) {
    const std::string good = read_bytes(cache_file_);
    const std::size_t version_at = 8, build_at = 16;
    const auto flipped = [&](std::size_t at) {
        std::string b = good;
        b[at] = static_cast<char>(b[at] ^ 0x20);
        return b;
    };
    struct Case {
        const char* name;
        std::function<void()> damage;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {"a byte of the body flipped", [&] { write_bytes(cache_file_, flipped(good.size() - 3)); },
         "ignored: corrupt: checksum mismatch"},
        {"truncated in the body",
         [&] { write_bytes(cache_file_, good.substr(0, good.size() - 7)); },
         "ignored: truncated or overlong body"},
        {"truncated in the header", [&] { write_bytes(cache_file_, good.substr(0, 30)); },
         "ignored: truncated header"},
        {"bytes appended", [&] { write_bytes(cache_file_, good + "x"); },
         "ignored: truncated or overlong body"},
        {"empty", [&] { write_bytes(cache_file_, ""); }, "ignored: not a cache file"},
        {"another magic", [&] { write_bytes(cache_file_, flipped(0)); },
         "ignored: not a cache file"},
        {"another format version",
         [&] {
             std::string b = good;
             b[version_at] = static_cast<char>(cache::kFormatVersion + 1);
             write_bytes(cache_file_, b);
         },
         "ignored: format version " + std::to_string(cache::kFormatVersion + 1) + ", not " +
             std::to_string(cache::kFormatVersion)},
        {"another bridle build", [&] { write_bytes(cache_file_, flipped(build_at + 3)); },
         "ignored: written by another bridle build"},
        {"owned by nobody", [&] { ASSERT_EQ(::chown(cache_file_.c_str(), 65534, 65534), 0); },
         "ignored: the file is owned by uid 65534, not root"},
        {"group-writable", [&] { ::chmod(cache_file_.c_str(), 0664); },
         "ignored: the file is writable by group 0 (mode 0664)"},
        {"writable by others", [&] { ::chmod(cache_file_.c_str(), 0646); },
         "ignored: the file is writable by others (mode 0646)"},
        {"a symlink to a good copy",
         [&] {
             fs::rename(cache_file_, dir_ + "/copy");
             fs::create_symlink(dir_ + "/copy", cache_file_);
         },
         "ignored: a symbolic link"},
        {"a directory in its place",
         [&] {
             fs::remove(cache_file_);
             fs::create_directory(cache_file_);
         },
         "ignored: not a regular file"},
        {"the directory owned by nobody",
         [&] { ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0); },
         "ignored: the directory: " + dir_ +
             " is owned by uid 65534, not root: only root may be able to change the policy"},
        {"the directory group-writable", [&] { ::chmod(dir_.c_str(), 0775); },
         "ignored: the directory: " + dir_ +
             " is writable by group 0 (mode 0775): only root may be able to change the policy"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        c.damage();
        EXPECT_EQ(outcome(), c.reason);
        // Put the good cache back as it was written.
        fs::remove_all(dir_);
        ASSERT_TRUE(fs::create_directory(dir_));
        ::chmod(dir_.c_str(), 0755);
        write_bytes(cache_file_, good);
        ::chmod(cache_file_.c_str(), 0644);
        EXPECT_EQ(outcome(), "hit");
    }
}

// No directory, or no file: "none".
TEST_F(Cache, NoCacheIsNone) {
    fs::remove_all(dir_);
    EXPECT_EQ(outcome(), "none");
    ASSERT_TRUE(fs::create_directory(dir_));
    EXPECT_EQ(outcome(), "none");
}

// bridle's own load (the forced command's binary, which has no YAML parser): the cache's
// policy on a hit, exactly as load_policy gives it; on a miss an error that says so and asks
// for the YAML (bridle hands the request to bridle-full); the files' own problems as they are.
TEST_F(Cache, TheCompiledLoadTakesAHitAndAsksForTheYamlOnAMiss) {
    LoadOptions options = enforcing_load_options();
    options.cache_dir = dir_;
    bool needs_yaml = true;
    LoadReport report;
    Result<Policy> hit = load_compiled(main_, options, report, needs_yaml);
    ASSERT_TRUE(hit.ok()) << hit.error().full();
    EXPECT_FALSE(needs_yaml);
    EXPECT_EQ(hit.value().cache, "hit");
    EXPECT_EQ(hit.value().given_path, main_);
    EXPECT_EQ(encoded(hit.value()), encoded(yaml_));
    EXPECT_EQ(messages(report.warnings), messages(yaml_warnings_));

    fs::remove(cache_file_);
    LoadReport missed_report;
    Result<Policy> missed = load_compiled(main_, options, missed_report, needs_yaml);
    ASSERT_FALSE(missed.ok());
    EXPECT_TRUE(needs_yaml);
    EXPECT_EQ(missed.error().full(),
              main_ + ": the compiled policy cache has no policy for these files (none)");

    LoadReport absent_report;
    Result<Policy> absent =
        load_compiled(scratch_.path("absent.yaml"), options, absent_report, needs_yaml);
    ASSERT_FALSE(absent.ok());
    EXPECT_FALSE(needs_yaml);  // load_policy would refuse it too: nothing to hand over
}

// A load that compiles every regex (bridle check) reads the YAML, and only says what the cache
// holds; no cache asked, nothing said.
TEST_F(Cache, ACheckReadsTheYamlAndOnlyLooksAtTheCache) {
    Loaded checked = load(main_, dir_, false, true);
    ASSERT_TRUE(checked.policy.ok());
    EXPECT_EQ(checked.policy.value().cache, "hit");
    Loaded uncached = load(main_, "");
    ASSERT_TRUE(uncached.policy.ok());
    EXPECT_EQ(uncached.policy.value().cache, "");
}

// Writing keeps the directory small: at most kKeptFiles cache files, the newest; no
// temporary file is left behind.
TEST_F(Cache, WritingKeepsOnlyTheNewestFiles) {
    for (int i = 0; i < 6; ++i) {
        const std::string main =
            scratch_.file("p" + std::to_string(i) + ".yaml", "version: 1\nrules: []\n");
        Loaded written = load(main, dir_, true, true);
        ASSERT_FALSE(written.report.cache_written.empty()) << written.report.cache_not_written;
    }
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
        names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names.size(), cache::kKeptFiles) << ::testing::PrintToString(names);
    for (const std::string& name : names) EXPECT_EQ(name.rfind("policy-", 0), 0u) << name;
    EXPECT_FALSE(fs::exists(cache_file_)) << "the oldest went first";
}

// The writer refuses a directory it cannot trust rather than write there.
TEST_F(Cache, TheWriterRefusesAnUntrustedDirectory) {
    ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);
    Loaded written = load(main_, dir_, true, true);
    ASSERT_TRUE(written.policy.ok());
    EXPECT_TRUE(written.report.cache_written.empty());
    EXPECT_NE(written.report.cache_not_written.find("is owned by uid 65534"), std::string::npos)
        << written.report.cache_not_written;
}

// The decision record carries what the loader found.
TEST(CacheAudit, TheRecordCarriesTheCacheOutcome) {
    audit::RequestInfo info;
    info.policy_cache = "ignored: corrupt: checksum mismatch";
    const audit::Record r = audit::decision_record(info, "deny", "", "no rule");
    bool found = false;
    for (const auto& [name, value] : r.fields) {
        if (name == "BRIDLE_POLICY_CACHE") found = value == info.policy_cache;
    }
    EXPECT_TRUE(found);
    audit::RequestInfo none;
    for (const auto& [name, value] : audit::decision_record(none, "deny", "", "x").fields) {
        EXPECT_NE(name, "BRIDLE_POLICY_CACHE") << "no cache asked: no field";
    }
}

// The gate puts what the loader found into the records of a request and of a pipeline.
TEST(CacheAudit, TheGatePassesTheOutcomeToTheRecords) {
    class Recording final : public audit::Sink {
      public:
        std::vector<audit::Record> records;
        Status write(const audit::Record& record) override {
            records.push_back(record);
            return ok_status();
        }
    } sink;
    LoadReport report;
    Result<Policy> policy = parse_policy_text(kPolicy, "p.yaml", true, report);
    ASSERT_TRUE(policy.ok());
    policy.value().cache = "hit";
    gate::SystemResolver resolver;
    const gate::Context context{policy.value(), sink, resolver};
    for (const char* text : {"rm -rf /", "journalctl -n 5 | rm x"}) {
        SCOPED_TRACE(text);
        sink.records.clear();
        gate::Request request;
        request.text = text;
        (void)gate::handle(context, request,
                           [](execution::Stream, std::string_view) { return true; }, {});
        ASSERT_FALSE(sink.records.empty());
        std::string cache;
        for (const auto& [name, value] : sink.records.front().fields) {
            if (name == "BRIDLE_POLICY_CACHE") cache = value;
        }
        EXPECT_EQ(cache, "hit");
    }
}

// Every policy the project has that loads: encode, decode, encode gives the same bytes, and
// every truncation of the bytes is refused with a reason, never a crash.
TEST(CacheCodec, RoundTripsEveryShippedAndTestPolicy) {
    std::vector<fs::path> files;
    for (const char* dir : {"policy", "policy/examples", "tests/golden/policy",
                            "tests/integration/policies", "tests/policies"}) {
        const fs::path path = fs::path(BRIDLE_SOURCE_DIR) / dir;
        if (!fs::is_directory(path)) continue;
        for (const auto& entry : fs::directory_iterator(path)) {
            if (entry.path().extension() == ".yaml") files.push_back(entry.path());
        }
    }
    std::size_t loaded = 0;
    for (const fs::path& file : files) {
        SCOPED_TRACE(file.string());
        LoadReport report;
        Result<Policy> policy =
            parse_policy_text(read_bytes(file.string()), file.string(), true, report);
        if (!policy) continue;
        ++loaded;
        const std::string bytes = encoded(policy.value(), report.warnings);
        std::vector<Error> warnings;
        Result<Policy> decoded = cache::decode_policy(bytes, warnings);
        ASSERT_TRUE(decoded.ok()) << decoded.error().full();
        EXPECT_EQ(encoded(decoded.value(), warnings), bytes);
        for (const Rule& rule : policy.value().rules) {
            EXPECT_EQ(decoded.value().rules.named(rule.name),
                      policy.value().rules.named(rule.name));
        }
        for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 97) {
            std::vector<Error> unused;
            EXPECT_FALSE(cache::decode_policy(bytes.substr(0, cut), unused).ok()) << cut;
        }
    }
    EXPECT_GE(loaded, 5u);
}

// Forty rules for twenty programs: prog7 is the command of r7 and r27.
std::string forty_rules() {
    std::string yaml = "version: 1\nrules:\n";
    for (int i = 0; i < 40; ++i) {
        yaml += "  - {id: r" + std::to_string(i) + ", command: /usr/bin/prog" +
                std::to_string(i % 20) + "}\n";
    }
    return yaml;
}

// A policy from the cache decodes a rule when it is first read: a request decodes the rules
// for its program and no others; read whole, it is the policy the YAML gave.
TEST(CacheCodec, ARequestDecodesOnlyTheRulesForItsProgram) {
    LoadReport report;
    Result<Policy> yaml = parse_policy_text(forty_rules(), "p.yaml", true, report);
    ASSERT_TRUE(yaml.ok()) << yaml.error().full();
    std::vector<Error> warnings;
    Result<Policy> cached = cache::decode_policy(encoded(yaml.value()), warnings);
    ASSERT_TRUE(cached.ok()) << cached.error().full();
    const Policy& p = cached.value();
    ASSERT_EQ(p.rules.size(), 40u);
    EXPECT_EQ(p.rules.decoded(), 0u);
    gate::SystemResolver resolver;
    EXPECT_EQ(matching::decide(p, {"prog7", "x"}, "", resolver).verdict, matching::Verdict::kDeny);
    EXPECT_EQ(p.rules.decoded(), 2u);  // r7 and r27, both candidates
    EXPECT_EQ(matching::decide(p, {"prog7"}, "", resolver).rule_id(), "r7");
    EXPECT_EQ(matching::decide(p, {"nothing"}, "", resolver).verdict, matching::Verdict::kDeny);
    EXPECT_EQ(p.rules.decoded(), 2u);
    // A rule's id, command and name are read without decoding it; so is a rule found by id
    // (the target side of run_as, a files entry's --then), and the hint for a path typed where
    // a name belongs.
    EXPECT_EQ(p.rules.head(13).id, "r13");
    EXPECT_EQ(p.rules.head(13).command, "/usr/bin/prog13");
    EXPECT_EQ(p.rules.head(13).name, "prog13");
    ASSERT_NE(p.rules.with_id("r33"), nullptr);
    EXPECT_EQ(p.rules.with_id("r33")->command, "/usr/bin/prog13");
    EXPECT_EQ(p.rules.with_id("r40"), nullptr);
    EXPECT_EQ(p.rules.decoded(), 3u);
    const matching::Decision path = matching::decide(p, {"/usr/bin/prog5"}, "", resolver);
    EXPECT_NE(path.reason.find("type the program by its name"), std::string::npos) << path.reason;
    EXPECT_EQ(path.nearest, (std::vector<std::string>{"prog5", "prog5"}));
    EXPECT_EQ(p.rules.decoded(), 5u);  // r5 and r25
    const Policy copy = p;  // keeps what was decoded; the rest is read from the same bytes
    EXPECT_EQ(copy.rules.decoded(), 5u);
    EXPECT_EQ(copy.rules.back().id, "r39");
    EXPECT_EQ(copy.rules.decoded(), 6u);
    EXPECT_EQ(p.rules.decoded(), 5u);
    EXPECT_THROW((void)p.rules.at(40), std::out_of_range);
    EXPECT_EQ(encoded(p), encoded(yaml.value()));
    EXPECT_EQ(p.rules.decoded(), 40u);
}

// Every rule's bytes are checked when the policy is decoded, not when a request first reads
// the rule: damage in a rule no request names refuses the whole cache file.
TEST(CacheCodec, DamageInARuleNoRequestReadsIsRefusedAtOnce) {
    LoadReport report;
    Result<Policy> yaml = parse_policy_text(forty_rules(), "p.yaml", true, report);
    ASSERT_TRUE(yaml.ok()) << yaml.error().full();
    std::string bytes = encoded(yaml.value());
    // The last rule: id "r39", summary, command, name "prog19", then five empty lists, then
    // bundle_flags, a boolean.
    const std::size_t name = bytes.find("\x06prog19", bytes.find("r39"));
    ASSERT_NE(name, std::string::npos);
    const std::size_t flag = name + 7 + 5;
    ASSERT_EQ(bytes[flag], '\0');
    bytes[flag] = '\x05';
    std::vector<Error> warnings;
    Result<Policy> decoded = cache::decode_policy(bytes, warnings);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().message.find("bad boolean 5"), std::string::npos)
        << decoded.error().message;
}

// The decoder's own refusals: counts past the end, bad enums, trailing bytes.
TEST(CacheCodec, RefusesBytesThatAreNoPolicy) {
    LoadReport report;
    Result<Policy> policy = parse_policy_text(kPolicy, "p.yaml", true, report);
    ASSERT_TRUE(policy.ok());
    const std::string good = encoded(policy.value());
    struct Case {
        const char* name;
        std::string bytes;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {"empty", "", "truncated at byte 0"},
        {"a bad audit sink", std::string("\x07", 1), "bad audit sink 7 at byte 1"},
        {"an overlong integer", std::string(11, '\xff'), "integer too long at byte 10"},
        {"a string longer than the input", std::string("\x00\x7f", 2),
         "count 127 past the end at byte 2"},
        {"trailing bytes", good + std::string(1, '\0'), "bytes after the policy at byte"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<Error> warnings;
        Result<Policy> decoded = cache::decode_policy(c.bytes, warnings);
        ASSERT_FALSE(decoded.ok());
        EXPECT_NE(decoded.error().message.find(c.reason), std::string::npos)
            << decoded.error().message;
        EXPECT_TRUE(warnings.empty());
    }
}

}  // namespace
}  // namespace bridle::policy
