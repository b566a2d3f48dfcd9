// SPDX-License-Identifier: Apache-2.0
// Approvals (src/approval/): the canonical text is a one-to-one function of the fields it
// binds (every field changes the digest; no two argvs share a text), the short code, the id
// rule, the store's round trip and its refusals (an unsafe directory, a malformed id or file),
// and the loader's approval section and the cache codec's round trip of it.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "approval/canonical.hpp"
#include "approval/store.hpp"
#include "loader/cache_codec.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"

namespace bridle::approval {
namespace {

Binding sample() {
    Binding b;
    b.id = "0123456789abcdef0123456789abcdef";
    b.host = "3d1219c7c4c5404aaa1f6d2a48adfda4";
    b.key = "laptop-agent";
    b.rule = "restart-nginx";
    b.run_as = "root";
    b.argv = {"systemctl", "restart", "nginx"};
    b.policy_sha256 = std::string(64, 'a');
    b.nonce = "fedcba9876543210fedcba9876543210";
    b.expires = 1796546659;
    return b;
}

TEST(ApprovalCanonical, TextIsStableAndReadable) {
    EXPECT_EQ(canonical_text(sample()),
              "bridle approval request v1\n"
              "id: \"0123456789abcdef0123456789abcdef\"\n"
              "host: \"3d1219c7c4c5404aaa1f6d2a48adfda4\"\n"
              "key: \"laptop-agent\"\n"
              "rule: \"restart-nginx\"\n"
              "run_as: \"root\"\n"
              "argv: [\"systemctl\",\"restart\",\"nginx\"]\n"
              "policy: \"" +
                  std::string(64, 'a') +
                  "\"\n"
                  "nonce: \"fedcba9876543210fedcba9876543210\"\n"
                  "expires: 1796546659\n");
    EXPECT_EQ(digest_of(sample()).size(), 64u);
    EXPECT_EQ(digest_of(sample()), digest_of(sample()));
}

TEST(ApprovalCanonical, EveryFieldChangesTheDigest) {
    const std::string base = digest_of(sample());
    const std::vector<std::pair<const char*, std::function<void(Binding&)>>> changes = {
        {"id", [](Binding& b) { b.id[0] = '1'; }},
        {"host", [](Binding& b) { b.host[0] = '4'; }},
        {"key", [](Binding& b) { b.key = "other-agent"; }},
        {"rule", [](Binding& b) { b.rule = "restart-nginx2"; }},
        {"run_as", [](Binding& b) { b.run_as = ""; }},
        {"argv word", [](Binding& b) { b.argv[2] = "apache2"; }},
        {"argv extra", [](Binding& b) { b.argv.push_back("--now"); }},
        {"argv split",
         [](Binding& b) {
             b.argv = {"systemctl", "restart nginx"};
         }},
        {"policy", [](Binding& b) { b.policy_sha256[0] = 'b'; }},
        {"nonce", [](Binding& b) { b.nonce[0] = '0'; }},
        {"expires", [](Binding& b) { b.expires += 1; }},
    };
    std::set<std::string> seen{base};
    for (const auto& [name, change] : changes) {
        SCOPED_TRACE(name);
        Binding b = sample();
        change(b);
        EXPECT_TRUE(seen.insert(digest_of(b)).second);
    }
}

TEST(ApprovalCanonical, NoWordCanForgeAnotherLine) {
    // Quotes, backslashes, newlines and commas in a word stay inside its JSON string.
    const std::vector<std::vector<std::string>> argvs = {
        {"echo", "a\",\"b"},       {"echo", "a", "b"},
        {"echo", "a\nkey: \"x\""}, {"echo", "a\\", "b"},
        {"echo", "a\\\",\"b"},     {"echo", "\x7f"},
        {"echo", "a\\u0000"},      {"echo", std::string("a\0b", 3)},
    };
    std::set<std::string> texts;
    for (const auto& argv : argvs) {
        Binding b = sample();
        b.argv = argv;
        const std::string text = canonical_text(b);
        EXPECT_TRUE(texts.insert(text).second) << text;
        // Exactly the ten lines: a word never adds one.
        EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10) << text;
    }
}

TEST(ApprovalCanonical, ShortCode) {
    EXPECT_EQ(short_code(std::string(64, '0')), "2222-2222");
    EXPECT_EQ(short_code("ffffffffff" + std::string(54, '0')), "ZZZZ-ZZZZ");
    const std::string code = short_code(digest_of(sample()));
    ASSERT_EQ(code.size(), 9u);
    EXPECT_EQ(code[4], '-');
    EXPECT_EQ(code.find_first_of("01IO"), std::string::npos);
    Binding other = sample();
    other.nonce[1] = '0';
    EXPECT_NE(short_code(digest_of(other)), code);
}

TEST(ApprovalCanonical, Ids) {
    EXPECT_TRUE(is_approval_id("0123456789abcdef0123456789abcdef"));
    for (const char* bad :
         {"", "0123456789abcdef0123456789abcde", "0123456789ABCDEF0123456789abcdef",
          "../3456789abcdef0123456789abcdef", ".lock", "0123456789abcdef0123456789abcdef0"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(is_approval_id(bad));
    }
}

class StoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/bridle-approval-test-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
        ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

Entry sample_entry() {
    Entry e;
    e.binding = sample();
    e.digest = digest_of(e.binding);
    e.code = short_code(e.digest);
    e.approvers = {"admin", "bob"};
    e.required = 2;
    e.command = "systemctl restart nginx";
    e.client = "127.0.0.1 40000 127.0.0.1 22";
    e.created = 1796546000;
    return e;
}

TEST_F(StoreTest, RoundTripAndCounting) {
    Result<Store> store = Store::open(dir_);
    ASSERT_TRUE(store) << store.error().message;
    Entry e = sample_entry();
    e.votes.push_back({"admin", "ssh", "SHA256:abc", "", true, 1796546100});
    e.votes.push_back({"mallory", "signature", "SHA256:x", "sig", true, 1796546101});  // not listed
    ASSERT_TRUE(store.value().save(e));
    Result<Entry> back = store.value().load(e.binding.id);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(to_json(back.value()), to_json(e));
    EXPECT_EQ(back.value().approvals(), 1u);  // mallory is no approver of this request
    e.votes.push_back({"admin", "signature", "SHA256:abc", "sig", true, 1796546102});
    EXPECT_EQ(e.approvals(), 1u);  // one approver counts once
    e.votes.push_back({"root", "host", "", "", true, 1796546103});
    EXPECT_EQ(e.approvals(), 2u);  // root on the host approves on its own
    ASSERT_EQ(store.value().list().size(), 1u);
    ASSERT_TRUE(store.value().remove(e.binding.id));
    EXPECT_TRUE(store.value().list().empty());
}

TEST_F(StoreTest, Refusals) {
    ASSERT_EQ(::chmod(dir_.c_str(), 0750), 0);
    EXPECT_FALSE(Store::open(dir_));  // open to its group
    ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
    EXPECT_FALSE(Store::open(dir_ + "/missing"));
    const std::string link = dir_ + "-link";
    ASSERT_EQ(::symlink(dir_.c_str(), link.c_str()), 0);
    EXPECT_FALSE(Store::open(link));  // never through a symlink
    ::unlink(link.c_str());

    Result<Store> store = Store::open(dir_);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store.value().load("../etc/passwd"));
    EXPECT_FALSE(store.value().load("0123456789abcdef0123456789abcdef"));  // none
    Entry e = sample_entry();
    e.binding.id = "not-an-id";
    EXPECT_FALSE(store.value().save(e));
    // A file that is not an entry, or an entry under another id's name, is skipped.
    std::ofstream(dir_ + "/0123456789abcdef0123456789abcdee") << "{\"id\": 1}";
    Entry other = sample_entry();
    std::ofstream(dir_ + "/00000000000000000000000000000000") << to_json(other);
    EXPECT_TRUE(store.value().list().empty());
    EXPECT_FALSE(store.value().load("00000000000000000000000000000000"));
    EXPECT_FALSE(entry_from_json("[]"));
    EXPECT_FALSE(entry_from_json("{"));
    std::string bad_state = to_json(sample_entry());
    bad_state.replace(bad_state.find("\"pending\""), 9, "\"granted\"");
    EXPECT_FALSE(entry_from_json(bad_state));
}

TEST(ApprovalPolicy, LoaderAndCache) {
    const std::string yaml = R"(version: 1
approvals:
  signers: /etc/bridle/approvers
  notify: [/usr/lib/bridle/notify/notify-webhook, "https://ntfy.example/t"]
  notify_timeout: 5s
  sets:
    admin: {approvers: [admin]}
rules:
  - id: a
    command: /usr/bin/uptime
    approval: admin
  - id: b
    command: /usr/bin/true
    approval: {approvers: [admin, bob], required: 2, timeout: 30m}
  - id: c
    command: /usr/bin/false
)";
    policy::LoadReport report;
    Result<policy::Policy> p = policy::parse_policy_text(yaml, "t.yaml", true, report);
    ASSERT_TRUE(p) << p.error().full();
    EXPECT_EQ(p.value().approvals.signers, "/etc/bridle/approvers");
    EXPECT_EQ(p.value().approvals.store, "/var/lib/bridle/approvals");
    EXPECT_EQ(p.value().approvals.notify.size(), 2u);
    EXPECT_EQ(p.value().approvals.notify_timeout, std::chrono::seconds(5));
    ASSERT_TRUE(p.value().rules[0].approval);
    EXPECT_EQ(p.value().rules[0].approval->set, "admin");
    EXPECT_EQ(p.value().rules[0].approval->timeout, std::chrono::minutes(10));
    EXPECT_EQ(p.value().rules[1].approval->required, 2u);
    EXPECT_EQ(p.value().rules[1].approval->timeout, std::chrono::minutes(30));
    EXPECT_FALSE(p.value().rules[2].approval);

    std::vector<Error> warnings;
    const std::string body = policy::cache::encode_policy(p.value(), {});
    Result<policy::Policy> back = policy::cache::decode_policy(body, warnings);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(policy::cache::encode_policy(back.value(), {}), body);
    EXPECT_EQ(back.value().approvals.notify, p.value().approvals.notify);
    EXPECT_EQ(back.value().rules[1].approval->approvers,
              (std::vector<std::string>{"admin", "bob"}));
}

TEST(ApprovalPolicy, LoaderRefusals) {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"unknown set", "    approval: nobody\n"},
        {"no approvers", "    approval: {required: 1}\n"},
        {"empty approvers", "    approval: {approvers: []}\n"},
        {"required too high", "    approval: {approvers: [a], required: 2}\n"},
        {"required zero", "    approval: {approvers: [a], required: 0}\n"},
        {"too long", "    approval: {approvers: [a], timeout: 25h}\n"},
        {"too short", "    approval: {approvers: [a], timeout: 10ms}\n"},
        {"twice", "    approval: {approvers: [a, a]}\n"},
        {"bad name", "    approval: {approvers: [\"a b\"]}\n"},
        {"unknown key", "    approval: {approvers: [a], reuse: 5m}\n"},
        {"pipeline", "    pipeline: [alone, first]\n    approval: {approvers: [a]}\n"},
        {"task", "    task: true\n    approval: {approvers: [a]}\n"},
    };
    for (const char* approvals :
         {"approvals: {notify: [notify-webhook]}\n", "approvals: {notify: []}\n",
          "approvals: {notify: [/bin/true], notify_timeout: 2m}\n",
          "approvals: {store: relative}\n"}) {
        SCOPED_TRACE(approvals);
        policy::LoadReport report;
        EXPECT_FALSE(policy::parse_policy_text(
            std::string("version: 1\n") + approvals + "rules: []\n", "t.yaml", true, report));
    }
    for (const auto& [name, extra] : cases) {
        SCOPED_TRACE(name);
        const std::string yaml =
            std::string("version: 1\nrules:\n  - id: a\n    command: /usr/bin/true\n") + extra;
        policy::LoadReport report;
        EXPECT_FALSE(policy::parse_policy_text(yaml, "t.yaml", true, report));
    }
}

// No path is resolved in these requests.
class NoPaths final : public matching::PathResolver {
  public:
    std::optional<Resolved> resolve(const std::string&, std::string& why) const override {
        why = "no paths here";
        return std::nullopt;
    }
};

TEST(ApprovalPolicy, ARuleWithApprovalIsNeverBypassedByAWiderOne) {
    // The shipped policy allows `uptime --pretty` (its uptime rule takes -p|--pretty); a
    // fragment loaded after it asks for approval of exactly that: the approval rule decides.
    const std::string yaml = R"(version: 1
rules:
  - id: uptime
    command: /usr/bin/uptime
    options: {"-p|--pretty": flag}
  - id: uptime-pretty
    command: /usr/bin/uptime
    args: [--pretty]
    approval: {approvers: [admin]}
)";
    policy::LoadReport report;
    Result<policy::Policy> p = policy::parse_policy_text(yaml, "t.yaml", true, report);
    ASSERT_TRUE(p) << p.error().full();
    const NoPaths resolver;
    const matching::Decision pretty =
        matching::decide(p.value(), {"uptime", "--pretty"}, "k", resolver);
    ASSERT_NE(pretty.rule, nullptr);
    EXPECT_EQ(pretty.rule->id, "uptime-pretty");
    const matching::Decision plain = matching::decide(p.value(), {"uptime"}, "k", resolver);
    ASSERT_NE(plain.rule, nullptr);
    EXPECT_EQ(plain.rule->id, "uptime");
    const matching::Decision other = matching::decide(p.value(), {"uptime", "-p"}, "k", resolver);
    ASSERT_NE(other.rule, nullptr);
    EXPECT_EQ(other.rule->id, "uptime");  // another spelling is another request
}

}  // namespace
}  // namespace bridle::approval
