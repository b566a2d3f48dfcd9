// SPDX-License-Identifier: Apache-2.0
// Redaction (src/policy/redaction.hpp): the golden input and output for every pattern class,
// secrets split across every read boundary, binary output, long lines, private key blocks, the
// count, and the policy's own patterns.
#include "policy/redaction.hpp"

#include <cstddef>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bridle::policy {
namespace {

std::string read_golden(const std::string& name) {
    std::ifstream in(std::string(BRIDLE_SOURCE_DIR) + "/tests/golden/redaction/" + name,
                     std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Redacted {
    std::string text;
    std::uint64_t count = 0;
};

// `input` fed in the given chunk sizes (the last chunk takes the rest), then finished.
Redacted redact(std::string_view input, const std::vector<std::size_t>& chunks = {},
                std::shared_ptr<const RedactionPatterns> patterns = RedactionPatterns::builtin()) {
    Redactor redactor(std::move(patterns));
    Redacted out;
    std::size_t pos = 0;
    for (const std::size_t size : chunks) {
        redactor.feed(input.substr(pos, size), out.text);
        pos = std::min(input.size(), pos + size);
    }
    redactor.feed(input.substr(pos), out.text);
    redactor.finish(out.text);
    out.count = redactor.count();
    return out;
}

TEST(Redaction, MatchesTheGoldenOutput) {
    const std::string input = read_golden("input.txt");
    const std::string expected = read_golden("expected.txt");
    ASSERT_FALSE(input.empty());
    const Redacted whole = redact(input);
    EXPECT_EQ(whole.text, expected);
    EXPECT_EQ(whole.count, 27u);
}

// The runner delivers output in arbitrary chunks: the result never depends on them.
TEST(Redaction, GivesTheSameOutputForEveryReadBoundary) {
    const std::string input = read_golden("input.txt");
    const std::string expected = read_golden("expected.txt");
    const Redacted bytewise = redact(input, std::vector<std::size_t>(input.size(), 1));
    EXPECT_EQ(bytewise.text, expected);
    EXPECT_EQ(bytewise.count, 27u);
    for (std::size_t split = 0; split <= input.size(); ++split) {
        const Redacted two = redact(input, {split});
        ASSERT_EQ(two.text, expected) << "split at byte " << split;
        ASSERT_EQ(two.count, 27u) << "split at byte " << split;
    }
}

TEST(Redaction, FindsASecretSplitAcrossThreeReads) {
    const std::string input = "x password=hunter2 ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 y";
    const std::string expected = "x password=[REDACTED] [REDACTED] y";
    for (std::size_t a = 0; a <= input.size(); ++a) {
        for (std::size_t b = 0; a + b <= input.size(); ++b) {
            ASSERT_EQ(redact(input, {a, b}).text, expected) << a << "+" << b;
        }
    }
}

// Random bytes without a letter cannot hold a secret: they pass unchanged, NULs and invalid
// UTF-8 included. Random bytes of every value: no crash, and the length changes only where
// something was replaced.
TEST(Redaction, PassesBinaryOutputThrough) {
    std::mt19937 random(19);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 50; ++round) {
        std::string noise(4096 + static_cast<std::size_t>(round) * 997, '\0');
        for (char& c : noise) {
            const int b = byte(random);
            c = static_cast<char>((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ? b ^ 0x80 : b);
        }
        const Redacted out = redact(noise, {1000, 1, 3000});
        ASSERT_EQ(out.text, noise) << "round " << round;
        EXPECT_EQ(out.count, 0u);

        std::string any(noise.size(), '\0');
        for (char& c : any) c = static_cast<char>(byte(random));
        const Redacted mixed = redact(any, {7, 2000});
        if (mixed.count == 0) {
            EXPECT_EQ(mixed.text, any);
        }
    }
    // A secret among invalid UTF-8, or made of it, is found: the patterns match bytes.
    const std::string binary("\x00\xff token=abc\xff\x00z def \xc3\x28\n\x9b[2J secret: \xe2\x82\n",
                             39);
    const std::string expected(
        "\x00\xff token=[REDACTED] def \xc3\x28\n\x9b[2J secret: [REDACTED]\n", 51);
    const Redacted out = redact(binary, {12});
    EXPECT_EQ(out.text, expected);
    EXPECT_EQ(out.count, 2u);
}

// A line with no line break is searched in overlapping windows: a secret anywhere in it,
// across a window's cut too, is found, and what is held back stays bounded.
TEST(Redaction, FindsSecretsAnywhereInAVeryLongLine) {
    const std::string token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    std::string line(1 << 20, '.');
    std::vector<std::size_t> at;
    for (std::size_t window = 0; window < 16; ++window) {
        at.push_back(window * (kRedactWindow - kRedactOverlap) + kRedactWindow - kRedactOverlap -
                     token.size() / 2);  // straddling the cut
    }
    at.push_back(5);
    at.push_back(line.size() - token.size());
    std::sort(at.begin(), at.end());
    std::string expected;
    std::size_t done = 0;
    for (const std::size_t pos : at) {
        line.replace(pos, token.size(), token);
        line[pos - 1] = ' ';
        expected += line.substr(done, pos - done) + std::string(kRedactedMarker);
        done = pos + token.size();
    }
    expected += line.substr(done);

    Redactor redactor(RedactionPatterns::builtin());
    std::string out;
    for (std::size_t pos = 0; pos < line.size(); pos += 4096) {
        redactor.feed(std::string_view(line).substr(pos, 4096), out);
        ASSERT_LE(pos + 4096 - out.size(), kRedactWindow + 4096 + token.size()) << pos;
    }
    redactor.finish(out);
    EXPECT_EQ(redactor.count(), at.size());
    EXPECT_EQ(out, expected);
    EXPECT_EQ(redact(line).text, expected);  // in one read, too
}

TEST(Redaction, RedactsAPrivateKeyBlockAcrossReadsAndToTheEndOfTheStream) {
    const std::string key =
        "before\r\n-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBg\r\nkqhkiG9w0BAQE\r\n"
        "-----END PRIVATE KEY----- token=x\r\nafter\n";
    const std::string expected =
        "before\r\n-----BEGIN PRIVATE KEY-----\r\n[REDACTED]\r\n-----END PRIVATE KEY----- "
        "token=[REDACTED]\r\nafter\n";
    for (std::size_t split = 0; split <= key.size(); ++split) {
        const Redacted out = redact(key, {split, 3});
        ASSERT_EQ(out.text, expected) << split;
        ASSERT_EQ(out.count, 2u);
    }
    // No END: everything after BEGIN is the secret, also past a window of a long line.
    const std::string open = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n" +
                             std::string(3 * kRedactWindow, 'A') + "\nbnNz";
    EXPECT_EQ(redact(open, {100, 70000}).text, "-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]");
    EXPECT_EQ(redact("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n").text,
              "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n");
    // An END marker without a BEGIN, and public keys, are not secrets.
    const std::string pub = "-----END RSA PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n";
    EXPECT_EQ(redact(pub).text, pub);
}

TEST(Redaction, CountsEachReplacement) {
    EXPECT_EQ(redact("").count, 0u);
    EXPECT_EQ(redact("nothing to see\n").count, 0u);
    const Redacted three = redact("token=a token=b\nhttps://u:p@h/ \n");
    EXPECT_EQ(three.text, "token=[REDACTED] token=[REDACTED]\nhttps://u:[REDACTED]@h/ \n");
    EXPECT_EQ(three.count, 3u);
}

// The policy's own patterns follow the built-in ones: the first capturing group is replaced,
// else the whole match; ^ and $ are the line's.
TEST(Redaction, AppliesThePolicysOwnPatterns) {
    const auto patterns = std::make_shared<const RedactionPatterns>(
        std::vector<std::string>{"employee-[0-9]{6}", "X-Internal: (\\S+)", "^serial (.*)$"});
    ASSERT_EQ(patterns->compile_error(), "");
    const Redacted out =
        redact("id employee-123456 X-Internal: abc token=t\nserial 42 and more\nno serial 7\n", {9},
               patterns);
    EXPECT_EQ(out.text,
              "id [REDACTED] X-Internal: [REDACTED] token=[REDACTED]\nserial [REDACTED]\n"
              "no serial 7\n");
    EXPECT_EQ(out.count, 4u);
}

TEST(Redaction, RefusesPatternsThatMatchTheEmptyString) {
    const RedactionPatterns empty(std::vector<std::string>{"x*"});
    EXPECT_EQ(empty.compile_error(),
              "a pattern of settings.redact_patterns matches the empty string");
    EXPECT_FALSE(empty.find("abc", 0).has_value());
    EXPECT_EQ(RedactionPatterns::builtin()->compile_error(), "");
}

}  // namespace
}  // namespace bridle::policy
