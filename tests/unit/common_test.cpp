// SPDX-License-Identifier: Apache-2.0
// common: UTF-8 decoding, the forbidden-character table, log-safe quoting, byte counts.
#include "common/names.hpp"
#include "common/text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace bridle {
namespace {

using namespace std::string_literals;  // "...\0..."s keeps an embedded NUL

// The UTF-8 encoding of one code point (no validity checks: tests feed it surrogates too).
std::string encode_utf8(char32_t cp) {
    std::string out;
    const auto put = [&](unsigned value) { out += static_cast<char>(value & 0xFFu); };
    const auto v = static_cast<unsigned>(cp);
    if (v < 0x80) {
        put(v);
    } else if (v < 0x800) {
        put(0xC0u | (v >> 6)), put(0x80u | (v & 0x3Fu));
    } else if (v < 0x10000) {
        put(0xE0u | (v >> 12)), put(0x80u | ((v >> 6) & 0x3Fu)), put(0x80u | (v & 0x3Fu));
    } else {
        put(0xF0u | (v >> 18)), put(0x80u | ((v >> 12) & 0x3Fu)), put(0x80u | ((v >> 6) & 0x3Fu)),
            put(0x80u | (v & 0x3Fu));
    }
    return out;
}

// True when `text` is valid UTF-8 holding no character forbidden_character_name names: what
// a log line or an agent-facing message may contain.
bool is_safe_to_show(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<CodePoint> cp = decode_utf8(text, i);
        if (!cp || forbidden_character_name(cp->value)) return false;
        i += cp->length;
    }
    return true;
}

struct DecodeCase {
    std::string name;
    std::string bytes;
    std::size_t offset;
    std::optional<char32_t> value;  // nullopt: the decoder must refuse
    std::size_t length;
};

TEST(DecodeUtf8, DecodesValidAndRefusesInvalidSequences) {
    // clang-format off
    const std::vector<DecodeCase> cases = {
        {"ASCII", "A", 0, U'A', 1},
        {"NUL is a valid one-byte sequence", "\0"s, 0, U'\0', 1},
        {"two bytes", "\xc2\xa9", 0, 0xA9, 2},
        {"three bytes", "\xe2\x82\xac", 0, 0x20AC, 3},
        {"four bytes", "\xf0\x9f\x98\x80", 0, 0x1F600, 4},
        {"smallest two-byte", "\xc2\x80", 0, 0x80, 2},
        {"largest two-byte", "\xdf\xbf", 0, 0x7FF, 2},
        {"smallest three-byte", "\xe0\xa0\x80", 0, 0x800, 3},
        {"just below the surrogates", "\xed\x9f\xbf", 0, 0xD7FF, 3},
        {"just above the surrogates", "\xee\x80\x80", 0, 0xE000, 3},
        {"largest three-byte", "\xef\xbf\xbf", 0, 0xFFFF, 3},
        {"smallest four-byte", "\xf0\x90\x80\x80", 0, 0x10000, 4},
        {"U+10FFFF", "\xf4\x8f\xbf\xbf", 0, 0x10FFFF, 4},
        {"at an offset", "ab\xc2\xa9", 2, 0xA9, 2},
        {"trailing bytes are not read", "\xc2\xa9zz", 0, 0xA9, 2},
        // Refused.
        {"overlong two-byte /", "\xc0\xaf", 0, std::nullopt, 0},
        {"overlong two-byte NUL", "\xc0\x80", 0, std::nullopt, 0},
        {"overlong 0xC1", "\xc1\xbf", 0, std::nullopt, 0},
        {"overlong three-byte /", "\xe0\x80\xaf", 0, std::nullopt, 0},
        {"overlong three-byte U+07FF", "\xe0\x9f\xbf", 0, std::nullopt, 0},
        {"overlong four-byte /", "\xf0\x80\x80\xaf", 0, std::nullopt, 0},
        {"overlong four-byte U+FFFF", "\xf0\x8f\xbf\xbf", 0, std::nullopt, 0},
        {"first surrogate", "\xed\xa0\x80", 0, std::nullopt, 0},
        {"last surrogate", "\xed\xbf\xbf", 0, std::nullopt, 0},
        {"U+110000", "\xf4\x90\x80\x80", 0, std::nullopt, 0},
        {"lead 0xF5", "\xf5\x80\x80\x80", 0, std::nullopt, 0},
        {"lead 0xF7 (would be U+1FFFFF)", "\xf7\xbf\xbf\xbf", 0, std::nullopt, 0},
        {"five-byte lead", "\xf8\x88\x80\x80\x80", 0, std::nullopt, 0},
        {"0xFE", "\xfe", 0, std::nullopt, 0},
        {"0xFF", "\xff", 0, std::nullopt, 0},
        {"truncated two-byte", "\xc2", 0, std::nullopt, 0},
        {"truncated three-byte", "\xe2\x82", 0, std::nullopt, 0},
        {"truncated four-byte", "\xf0\x9f\x98", 0, std::nullopt, 0},
        {"lone continuation 0x80", "\x80", 0, std::nullopt, 0},
        {"lone continuation 0xBF", "\xbf", 0, std::nullopt, 0},
        {"offset inside a character", "\xc2\xa9", 1, std::nullopt, 0},
        {"ASCII where a continuation belongs", "\xc2\x41", 0, std::nullopt, 0},
        {"bad second of three", "\xe2\x28\xa1", 0, std::nullopt, 0},
        {"bad third of three", "\xe2\x82\x28", 0, std::nullopt, 0},
        {"bad fourth of four", "\xf0\x9f\x98\x41", 0, std::nullopt, 0},
        {"offset at the end", "abc", 3, std::nullopt, 0},
        {"offset past the end", "abc", 7, std::nullopt, 0},
        {"empty", "", 0, std::nullopt, 0},
    };
    // clang-format on
    for (const DecodeCase& c : cases) {
        SCOPED_TRACE(c.name);
        const std::optional<CodePoint> cp = decode_utf8(c.bytes, c.offset);
        if (!c.value) {
            EXPECT_FALSE(cp.has_value())
                << "decoded U+" << std::hex << static_cast<unsigned>(cp->value);
            continue;
        }
        ASSERT_TRUE(cp.has_value());
        EXPECT_EQ(cp->value, *c.value);
        EXPECT_EQ(cp->length, c.length);
    }
}

// Guards against reading past the view: a sequence cut by the end of a string_view whose
// buffer goes on must be refused, not completed from the bytes beyond.
TEST(DecodeUtf8, StopsAtTheEndOfTheView) {
    const std::string buffer = "\xe2\x82\xac";
    EXPECT_FALSE(decode_utf8(std::string_view(buffer).substr(0, 2), 0).has_value());
    EXPECT_FALSE(decode_utf8(std::string_view(buffer).substr(0, 1), 0).has_value());
}

// Every scalar value round-trips; every surrogate is refused.
TEST(DecodeUtf8, RoundTripsEveryScalarValue) {
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        const std::string bytes = encode_utf8(cp);
        const std::optional<CodePoint> decoded = decode_utf8(bytes, 0);
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            ASSERT_FALSE(decoded.has_value()) << std::hex << static_cast<unsigned>(cp);
            continue;
        }
        ASSERT_TRUE(decoded.has_value()) << std::hex << static_cast<unsigned>(cp);
        ASSERT_EQ(decoded->value, cp);
        ASSERT_EQ(decoded->length, bytes.size());
    }
}

struct ForbiddenCase {
    char32_t cp;
    std::optional<std::string> name;  // nullopt: allowed
};

TEST(ForbiddenCharacterName, NamesControlInvisibleAndBidiCharacters) {
    // clang-format off
    const std::vector<ForbiddenCase> cases = {
        {0x00, "control character U+0000"},
        {0x09, "control character U+0009"},
        {0x0A, "control character U+000A"},
        {0x0D, "control character U+000D"},
        {0x1B, "control character U+001B"},
        {0x1F, "control character U+001F"},
        {0x7F, "control character U+007F"},
        {0x80, "control character U+0080"},
        {0x85, "control character U+0085"},
        {0x9F, "control character U+009F"},
        {0x061C, "bidirectional control U+061C"},
        {0x200E, "bidirectional control U+200E"},
        {0x200F, "bidirectional control U+200F"},
        {0x202A, "bidirectional control U+202A"},
        {0x202E, "bidirectional control U+202E"},
        {0x2066, "bidirectional control U+2066"},
        {0x2069, "bidirectional control U+2069"},
        {0x00AD, "invisible format character U+00AD"},
        {0x180E, "invisible format character U+180E"},
        {0x200B, "invisible format character U+200B"},
        {0x200D, "invisible format character U+200D"},
        {0x2060, "invisible format character U+2060"},
        {0x2064, "invisible format character U+2064"},
        {0x206A, "invisible format character U+206A"},
        {0x206F, "invisible format character U+206F"},
        {0xFEFF, "invisible format character U+FEFF"},
        {0xFFF9, "invisible format character U+FFF9"},
        {0xFE00, "invisible character U+FE00"},
        {0xFE0F, "invisible character U+FE0F"},
        {0xE0100, "invisible character U+E0100"},
        {0x034F, "invisible character U+034F"},
        {0x3164, "invisible character U+3164"},
        {0xFFA0, "invisible character U+FFA0"},
        {0xFFFB, "invisible format character U+FFFB"},
        {0xE0001, "invisible format character U+E0001"},  // LANGUAGE TAG
        {0xE0041, "invisible format character U+E0041"},  // TAG LATIN CAPITAL LETTER A
        {0xE007F, "invisible format character U+E007F"},  // CANCEL TAG
        {0x2028, "line or paragraph separator U+2028"},
        {0x2029, "line or paragraph separator U+2029"},
        // Allowed: printable, including look-alikes the policy (not the tokenizer) refuses.
        {0x20, std::nullopt},
        {U'A', std::nullopt},
        {U'~', std::nullopt},
        {0xA0, std::nullopt},  // NO-BREAK SPACE
        {0xA9, std::nullopt},
        {0x061B, std::nullopt},  // just below ALM
        {0x2027, std::nullopt},  // just below U+2028
        {0x202F, std::nullopt},  // just above the embedding/override block
        {0x2070, std::nullopt},  // just above the deprecated format characters
        {0xFF43, std::nullopt},  // FULLWIDTH LATIN SMALL LETTER C
        {0xFFFC, std::nullopt},  // OBJECT REPLACEMENT CHARACTER (visible)
        {0x1F600, std::nullopt},
        {0xE0080, std::nullopt},  // just above the tag block
        {0x10FFFF, std::nullopt},
    };
    // clang-format on
    for (const ForbiddenCase& c : cases) {
        SCOPED_TRACE(static_cast<unsigned>(c.cp));
        EXPECT_EQ(forbidden_character_name(c.cp), c.name);
    }
}

struct EscapeCase {
    std::string name;
    std::string bytes;
    std::size_t max_bytes;
    std::string expected;
};

TEST(EscapeText, ShowsUntrustedBytesSafely) {
    // clang-format off
    const std::vector<EscapeCase> cases = {
        {"empty", "", 900, ""},
        {"printable ASCII as itself", "cat /var/log/syslog", 900, "cat /var/log/syslog"},
        {"quote and backslash escaped", R"(a"b\c)", 900, R"(a\"b\\c)"},
        {"newline, tab, CR by name", "a\nb\tc\rd", 900, R"(a\nb\tc\rd)"},
        {"other C0 controls in hex", "\x01\x1b[2J\x07", 900, R"(\x01\x1B[2J\x07)"},
        {"NUL in hex", "a\0b"s, 900, R"(a\x00b)"},
        {"DEL in hex", "\x7f", 900, R"(\x7F)"},
        {"printable non-ASCII stays readable", "caf\xc3\xa9 \xef\xbd\x83", 900,
         "caf\xc3\xa9 \xef\xbd\x83"},
        {"C1 control as a code point", "\xc2\x85", 900, R"(\u{0085})"},
        {"right-to-left override as a code point", "a\xe2\x80\xae.", 900, R"(a\u{202E}.)"},
        {"zero width space as a code point", "\xe2\x80\x8b", 900, R"(\u{200B})"},
        {"tag character as a code point", "\xf3\xa0\x81\x81", 900, R"(\u{E0041})"},
        {"invalid byte in hex", "\xff", 900, R"(\xFF)"},
        {"overlong sequence byte by byte", "\xc0\xaf", 900, R"(\xC0\xAF)"},
        {"surrogate byte by byte", "\xed\xa0\x80", 900, R"(\xED\xA0\x80)"},
        {"lone continuation", "a\x80", 900, R"(a\x80)"},
        {"cut with the original length", "abcdef", 3, "abc...(6 bytes)"},
        {"exactly the limit is not cut", "abc", 3, "abc"},
        {"cut at zero", "abc", 0, "...(3 bytes)"},
        {"cut inside a character shows its bytes", "\xc3\xa9", 1, R"(\xC3...(2 bytes))"},
        {"cut counts input bytes, not output", "\n\n\n\n", 2, R"(\n\n...(4 bytes))"},
    };
    // clang-format on
    for (const EscapeCase& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(escape_text(c.bytes, c.max_bytes), c.expected);
        EXPECT_EQ(quote_text(c.bytes, c.max_bytes), "\"" + c.expected + "\"");
    }
}

TEST(EscapeText, DefaultLimitIs900Bytes) {
    EXPECT_EQ(escape_text(std::string(900, 'a')), std::string(900, 'a'));
    EXPECT_EQ(escape_text(std::string(901, 'a')), std::string(900, 'a') + "...(901 bytes)");
}

// Guards the "never emits a control character" promise: no escaped output, for any one or
// two bytes or any single code point, holds a byte below 0x20, DEL, invalid UTF-8 or a
// forbidden character.
TEST(EscapeText, NeverEmitsAControlOrInvisibleCharacter) {
    std::string input;
    for (int a = 0; a < 256; ++a) {
        for (int b = -1; b < 256; ++b) {
            input.assign(1, static_cast<char>(a));
            if (b >= 0) input += static_cast<char>(b);
            const std::string shown = escape_text(input);
            ASSERT_TRUE(is_safe_to_show(shown)) << a << " " << b;
        }
    }
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        const std::string shown = escape_text(encode_utf8(cp));
        ASSERT_TRUE(is_safe_to_show(shown)) << std::hex << static_cast<unsigned>(cp);
    }
}

TEST(FormatBytes, ShowsExactCountsInTheLargestWholeUnit) {
    // clang-format off
    const std::vector<std::pair<std::uint64_t, std::string>> cases = {
        {0, "0 bytes"},
        {1, "1 byte"},
        {2, "2 bytes"},
        {1023, "1023 bytes"},
        {1024, "1 KiB"},
        {1536, "1536 bytes"},  // never rounded: a limit message must not hide one byte
        {65536, "64 KiB"},
        {65537, "65537 bytes"},
        {1024 * 1024, "1 MiB"},
        {1024 * 1024 + 1024, "1025 KiB"},
        {1024ull * 1024 * 1024, "1024 MiB"},
        {std::numeric_limits<std::uint64_t>::max(), "18446744073709551615 bytes"},
    };
    // clang-format on
    for (const auto& [bytes, expected] : cases) {
        SCOPED_TRACE(bytes);
        EXPECT_EQ(format_bytes(bytes), expected);
    }
}

// Nesting is counted outside strings only, and counting stops past the limit (a line of a
// million brackets costs one pass and nothing more).
TEST(JsonNestingDepth, CountsOutsideStringsAndStopsPastTheLimit) {
    EXPECT_EQ(json_nesting_depth("", 5), 0);
    EXPECT_EQ(json_nesting_depth(R"({"a": "b"})", 5), 1);
    EXPECT_EQ(json_nesting_depth(R"({"a": [1, {"b": []}], "c": {}})", 5), 4);
    EXPECT_EQ(json_nesting_depth(R"({"a": "[[[[{{{{"})", 5), 1);
    EXPECT_EQ(json_nesting_depth(R"({"a": "\"[[[["})", 5), 1);  // escaped quote stays inside
    EXPECT_EQ(json_nesting_depth(R"({"a": "\\"}[[)", 5),
              2);  // an escaped backslash, then the quote ends it
    EXPECT_EQ(json_nesting_depth(std::string(1000000, '['), 64), 65);
    EXPECT_EQ(json_nesting_depth("[[]][[]]", 5), 2);
}

TEST(EscapeText, KeepsQuotesAndBackslashesAsIsOnlyWhenAsked) {
    EXPECT_EQ(escape_text("a\"b\\c\x01\xff", 900), "a\\\"b\\\\c\\x01\\xFF");
    EXPECT_EQ(escape_text("a\"b\\c\x01\xff", std::string_view::npos, Quotes::kAsIs),
              "a\"b\\c\\x01\\xFF");
    EXPECT_EQ(escape_text("caf\xc3\xa9\xe2\x80\x8b", std::string_view::npos, Quotes::kAsIs),
              "caf\xc3\xa9\\u{200B}");
}

// The one key-name rule (common/names.hpp): the policy's keys:, --key and enroll all ask it.
TEST(KeyName, AcceptsOnlyTheDocumentedAlphabet) {
    struct Case {
        std::string name;
        bool valid;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"", false},
        {"-bad", false},
        {".bad", false},
        {"_bad", false},
        {"@bad", false},
        {"a b", false},
        {"a/b", false},
        {"a\"b", false},
        {"a,b", false},
        {"a\nb", false},
        {"a;b", false},
        {"caf\xc3\xa9", false},
        {std::string(65, 'a'), false},
        {"a", true},
        {"laptop-agent", true},
        {"ci.runner_1@build-host", true},
        {std::string(64, 'a'), true},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(c.valid, is_key_name(c.name));
    }
}

}  // namespace
}  // namespace bridle
