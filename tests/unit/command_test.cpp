// SPDX-License-Identifier: Apache-2.0
// Tokenizer: every rule of the grammar in tokenizer.hpp, the escape corpus, and the golden files.
#include "command/tokenizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "golden.hpp"

namespace bridle::command {
namespace {

using namespace std::string_literals;  // "...\0..."s keeps an embedded NUL

struct Case {
    std::string name;
    std::string input;              // the exact bytes of the request
    std::vector<std::string> argv;  // expected words, when `error` is empty
    std::string error;              // a substring of the expected message; empty: success
    std::size_t column = 0;         // the expected error column
};

Case ok(std::string name, std::string input, std::vector<std::string> argv) {
    return Case{std::move(name), std::move(input), std::move(argv), "", 0};
}

Case fail(std::string name, std::string input, std::string error, std::size_t column) {
    return Case{std::move(name), std::move(input), {}, std::move(error), column};
}

constexpr const char* kNoShell = "no pipes, redirections, command lists or substitutions";
constexpr const char* kGlob = "globs are never expanded: name the file exactly";
constexpr const char* kDollar = "`$` is never expanded: bridle runs no shell";

void check(const Case& c) {
    SCOPED_TRACE(c.name);
    const Result<std::vector<std::string>> result = tokenize(c.input);
    if (c.error.empty()) {
        ASSERT_TRUE(result.ok()) << result.error().full();
        EXPECT_EQ(result.value(), c.argv);
        return;
    }
    ASSERT_FALSE(result.ok()) << "tokenized to " << result.value().size() << " words";
    EXPECT_NE(result.error().message.find(c.error), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().location, "column " + std::to_string(c.column));
}

// What the grammar accepts, and the words it yields.
TEST(Tokenize, AcceptsPosixQuotingWithoutExpansion) {
    // clang-format off
    const std::vector<Case> cases = {
        ok("one word", "uptime", {"uptime"}),
        ok("two words", "df -h", {"df", "-h"}),
        ok("leading, trailing and repeated spaces are ignored", "   df    -h  ", {"df", "-h"}),
        ok("single quotes keep shell syntax literal", "grep 'a|b;c&d<e>f(g)' log",
           {"grep", "a|b;c&d<e>f(g)", "log"}),
        ok("single quotes keep $ and backquote literal", "echo '$HOME `id` $(id)'",
           {"echo", "$HOME `id` $(id)"}),
        ok("single quotes keep backslashes", R"(printf 'a\nb\')", {"printf", R"(a\nb\)"}),
        ok("single quotes keep double quotes", R"(echo 'say "hi"')", {"echo", R"(say "hi")"}),
        ok("single quotes keep globs, braces, # ~ !", "x '*?[a]{b,c}#~!'", {"x", "*?[a]{b,c}#~!"}),
        ok("double quotes keep spaces", R"(grep "two  words" f)", {"grep", "two  words", "f"}),
        ok("double quotes: \\\" is a quote", R"("a\"b")", {R"(a"b)"}),
        ok("double quotes: \\\\ is a backslash", R"("a\\b")", {R"(a\b)"}),
        ok("double quotes keep a backslash before anything else", R"("a\nb\'c\ d")",
           {R"(a\nb\'c\ d)"}),
        ok("double quotes keep shell syntax, globs, braces, # ~ !",
           R"("a;b|c&d<e>f(g)h{i}j!k*l?m[n]#~")", {"a;b|c&d<e>f(g)h{i}j!k*l?m[n]#~"}),
        ok("double quotes keep single quotes", R"("it's")", {"it's"}),
        ok("backslash makes a space literal", R"(cat a\ b)", {"cat", "a b"}),
        ok("backslash makes shell syntax literal", R"(x \; \| \& \< \> \( \) \$ \`)",
           {"x", ";", "|", "&", "<", ">", "(", ")", "$", "`"}),
        ok("backslash makes globs, braces, # ~ ! literal", R"(x \* \? \[ \{ \} \# \~ \!)",
           {"x", "*", "?", "[", "{", "}", "#", "~", "!"}),
        ok("backslash makes quotes and backslash literal", R"(x \' \" \\)", {"x", "'", "\"", "\\"}),
        ok("backslash before an ordinary character is dropped", R"(\u\p)", {"up"}),
        ok("backslash before a multi-byte character", "\\\xc3\xa9t\xc3\xa9", {"\xc3\xa9t\xc3\xa9"}),
        ok("adjacent pieces join into one word", R"(a"b"'c'\d)", {"abcd"}),
        ok("# and ~ inside a word are literal", "issue#3 a~b", {"issue#3", "a~b"}),
        ok("] = % ^ , @ : + - . / are ordinary", "--fmt=%H^@,:+-./ a]b",
           {"--fmt=%H^@,:+-./", "a]b"}),
        ok("'' standing alone is the empty word", "''", {""}),
        ok("\"\" standing alone is the empty word", "\"\"", {""}),
        ok("empty words between others", "a '' \"\" b", {"a", "", "", "b"}),
        ok("an empty piece next to text adds nothing", "a''b \"\"c", {"ab", "c"}),
        ok("non-ASCII letters are word characters", "grep caf\xc3\xa9 f",
           {"grep", "caf\xc3\xa9", "f"}),
        ok("no-break space is not a separator", "cat\xc2\xa0/etc/shadow",
           {"cat\xc2\xa0/etc/shadow"}),
        ok("exactly the size limit", std::string(kMaxRequestBytes, 'a'),
           {std::string(kMaxRequestBytes, 'a')}),
    };
    // clang-format on
    for (const Case& c : cases) check(c);
}

// tokenize_allowing_globs (issue 13, item 8): unquoted * and ? are kept and mark their word;
// [ stays refused, and a word may not mix unquoted with quoted or escaped glob characters.
TEST(Tokenize, GlobsAreMarkedOnlyWhenAsked) {
    struct GlobCase {
        const char* name;
        std::string text;
        std::vector<std::string> words;  // empty: refused
        std::vector<bool> globbed;
        const char* error = "";
    };
    // clang-format off
    const std::vector<GlobCase> cases = {
        {"star in the last component", "cat /var/log/nginx/*.log", {"cat", "/var/log/nginx/*.log"}, {false, true}},
        {"question mark", "cat /var/log/a?.log x", {"cat", "/var/log/a?.log", "x"}, {false, true, false}},
        {"quoted star is literal, not a glob", "cat '/var/log/*.log'", {"cat", "/var/log/*.log"}, {false, false}},
        {"escaped star is literal", "cat /var/log/\\*.log", {"cat", "/var/log/*.log"}, {false, false}},

        {"bracket stays refused", "cat /var/log/[ab].log", {}, {}, "globs are never expanded"},
        {"unquoted and quoted star in one word", "cat /var/log/*'*'.log", {}, {}, "may not also hold a quoted"},
        {"unquoted star and escaped bracket", "cat /var/log/*\\[.log", {}, {}, "may not also hold a quoted"},
        {"unquoted star and double-quoted ?", "cat \"/var/log/?\"*", {}, {}, "may not also hold"},
        {"other shell syntax still refused", "cat /var/log/*.log; id", {}, {}, "it "},
        {"brace still refused", "cat /var/log/{a,b}*.log", {}, {}, "brace expansion"},
        {"tilde still refused at a word start", "cat ~/*", {}, {}, "tilde"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<bool> globbed;
        const auto words = tokenize_allowing_globs(c.text, &globbed);
        if (c.words.empty()) {
            ASSERT_FALSE(words);
            EXPECT_NE(words.error().message.find(c.error), std::string::npos)
                << words.error().message;
        } else {
            ASSERT_TRUE(words) << words.error().full();
            EXPECT_EQ(words.value(), c.words);
            EXPECT_EQ(globbed, c.globbed);
        }
        // Without the marks, every unquoted glob is refused as before.
        if (c.text.find('*') != std::string::npos && c.text.find('\'') == std::string::npos &&
            c.text.find('\\') == std::string::npos) {
            EXPECT_FALSE(tokenize(c.text));
        }
    }
}

// What the grammar refuses, with the column of the offending byte.
TEST(Tokenize, RefusesWhatAShellWouldInterpret) {
    // clang-format off
    const std::vector<Case> cases = {
        // Size, checked first.
        fail("one byte over the limit", std::string(kMaxRequestBytes + 1, 'a'),
             "request is 65537 bytes; the limit is 64 KiB", 65537),
        fail("size is checked before characters", std::string(kMaxRequestBytes + 1, '\n'),
             "the limit is 64 KiB", 65537),
        // Nothing to run.
        fail("empty", "", "empty command: send `help` to list what you may run", 1),
        fail("only spaces", "   ", "empty command", 1),
        // Encoding.
        fail("lone continuation byte", "a\x80", "invalid UTF-8 at byte 2", 2),
        fail("overlong /", "ls \xc0\xaf", "invalid UTF-8 at byte 4", 4),
        fail("overlong NUL", "ls \xc0\x80", "invalid UTF-8 at byte 4", 4),
        fail("truncated at the end", "ab\xe2\x80", "invalid UTF-8 at byte 3", 3),
        fail("surrogate", "\xed\xa0\x80", "invalid UTF-8 at byte 1", 1),
        fail("above U+10FFFF", "x \xf4\x90\x80\x80", "invalid UTF-8 at byte 3", 3),
        fail("byte 0xFF", "\xff", "invalid UTF-8 at byte 1 (0xFF)", 1),
        fail("invalid UTF-8 inside single quotes", "'a\xfe'", "invalid UTF-8 at byte 3", 3),
        // Forbidden characters, quoted or not.
        fail("newline", "uptime\nid",
             "U+000A (newline) is not allowed: send one command per request", 7),
        fail("newline inside single quotes", "echo 'a\nb'", "U+000A (newline)", 8),
        fail("carriage return", "uptime\r",
             "U+000D (carriage return) is not allowed: send one command per request", 7),
        fail("tab", "df\t-h", "U+0009 (tab)", 3),
        fail("tab inside double quotes", "\"a\tb\"", "U+0009 (tab)", 3),
        fail("DEL", "a\x7f", "control character U+007F", 2),
        fail("escape", "a\x1b[2J", "U+001B (escape)", 2),
        fail("NUL between words", "a\0b"s, "U+0000 (NUL)", 2),
        fail("U+2028 line separator inside quotes", "'a\xe2\x80\xa8'",
             "line or paragraph separator U+2028", 3),
        fail("byte order mark", "\xef\xbb\xbfuptime", "invisible format character U+FEFF", 1),
        fail("soft hyphen", "up\xc2\xadtime", "invisible format character U+00AD", 3),
        fail("left-to-right isolate", "\xe2\x81\xa6x", "bidirectional control U+2066", 1),
        fail("tag character (invisible ASCII)", "uptime\xf3\xa0\x81\x81", "U+E0041", 7),
        // Shell syntax outside quotes.
        fail("semicolon", "a;b", "`;` is shell syntax", 2),
        fail("semicolon after a word", "systemctl status nginx; journalctl --vacuum-time=1s",
             kNoShell, 23),
        fail("ampersand", "uptime &", "`&` is shell syntax", 8),
        fail("and-list", "a&&b", "`&`", 2),
        fail("pipe", "a|b", "`|` is shell syntax", 2),
        fail("redirect out", "a>b", "`>` is shell syntax", 2),
        fail("redirect in", "a<b", "`<` is shell syntax", 2),
        fail("subshell", "(uptime)", "`(` is shell syntax", 1),
        fail("closing paren", "a)", "`)` is shell syntax", 2),
        fail("the message says how to mean it literally", "a|b",
             "quote `|` if you mean it literally", 2),
        fail("dollar", "echo $HOME", kDollar, 6),
        fail("dollar paren", "echo $(id)", kDollar, 6),
        fail("backquote", "echo `id`", "backquote (`) is never expanded", 6),
        fail("open brace", "a{b", "brace expansion is not performed", 2),
        fail("close brace", "a}", "brace expansion is not performed", 2),
        fail("find's {} must be quoted", "find . -exec ls {} +", "brace expansion", 17),
        fail("bang", "! true", "`!` means history expansion", 1),
        fail("bang inside a word", "a!b", "`!`", 2),
        fail("star", "ls *.log", kGlob, 4),
        fail("question mark", "ls a?", kGlob, 5),
        fail("bracket", "ls [ab]", kGlob, 4),
        fail("# at the start of the request", "#uptime", "would begin a comment", 1),
        fail("# at the start of a later word", "uptime #c", "would begin a comment", 8),
        fail("~ alone", "ls ~", "tilde expansion is never performed; give an absolute path", 4),
        fail("~/path", "ls ~/x", "tilde expansion", 4),
        fail("~user", "ls ~root", "tilde expansion", 4),
        // Inside double quotes.
        fail("$ inside double quotes", "echo \"$HOME\"", kDollar, 7),
        fail("backquote inside double quotes", "echo \"`id`\"", "backquote (`) is never expanded",
             7),
        fail("\\$ inside double quotes", R"(echo "\$HOME")", kDollar, 8),
        fail("\\` inside double quotes", R"(echo "a\`")", "backquote", 9),
        // Backslash and quotes left open.
        fail("trailing backslash", "uptime \\", "a trailing backslash escapes nothing", 8),
        fail("trailing backslash in a word", "a\\", "trailing backslash", 2),
        fail("unterminated single quote", "echo 'abc", "unterminated single quote", 6),
        fail("lone single quote", "'", "unterminated single quote", 1),
        fail("unterminated double quote", "echo \"abc", "unterminated double quote", 6),
        fail("lone double quote", "\"", "unterminated double quote", 1),
        fail("backslash at the end inside double quotes", "\"abc\\", "unterminated double quote",
             1),
        fail("a double quote inside single quotes does not close", "a'b\"c",
             "unterminated single quote", 2),
        fail("third double quote opens again", "\"a\"b\"", "unterminated double quote", 5),
        // The first error wins; character errors come before syntax.
        fail("first syntax error wins", "a|b;c", "`|`", 2),
        fail("a forbidden character beats earlier syntax", "a|b\nc", "newline", 4),
    };
    // clang-format on
    for (const Case& c : cases) check(c);
}

// The escape corpus (/work/shared/corpus_escape_public.tsv) rows that reach the tokenizer:
// the exact bytes an SSH client can put in SSH_ORIGINAL_COMMAND.
TEST(Tokenize, EscapeCorpus) {
    // clang-format off
    const std::vector<Case> cases = {
        fail("SH-003 or-list", "uptime || sh", kNoShell, 8),
        fail("SH-004 pipeline", "uptime | sh", kNoShell, 8),
        fail("SH-007 backquote substitution", "cat /var/log/`id`.log", "backquote", 14),
        fail("SH-009 output redirection", "df -h > /etc/motd", kNoShell, 7),
        fail("SH-011 input redirection", "grep root < /etc/shadow", kNoShell, 11),
        fail("SH-012 process substitution", "cat <(cat /etc/shadow)", kNoShell, 5),
        fail("SH-014 here-document", "cat <<EOF\n/etc/shadow\nEOF", "send one command per request",
             10),
        ok("SH-020 assignment prefix is just a word", "LD_PRELOAD=/tmp/x.so uptime",
           {"LD_PRELOAD=/tmp/x.so", "uptime"}),
        ok("SH-022 exec is just a word", "exec /bin/sh", {"exec", "/bin/sh"}),
        fail("SH-027 brace expansion", "cat /var/log/{auth,syslog}.log", "brace expansion", 14),
        ok("TOK-001 quote splicing", "c'a't /etc/shadow", {"cat", "/etc/shadow"}),
        fail("TOK-004 escaped quote hides the closing one", R"(cat "/var/log/auth.log\")",
             "unterminated double quote", 5),
        ok("TOK-005 quoted and unquoted pieces join", R"(cat "/var/log/"auth.log)",
           {"cat", "/var/log/auth.log"}),
        ok("TOK-007 escaped space", R"(cat /var/log/auth\ .log)", {"cat", "/var/log/auth .log"}),
        fail("TOK-010 empty", "", "empty command", 1),
        fail("TOK-011 whitespace only", "   ", "empty command", 1),
        fail("TOK-014 $() inside double quotes", R"(cat "/var/log/$(id).log")", kDollar, 15),
        ok("TOK-018 escaped quotes inside double quotes",
           R"(grep "foo\" /etc/shadow \"" /var/log/syslog)",
           {"grep", R"(foo" /etc/shadow ")", "/var/log/syslog"}),
        fail("UNI-004 zero width space", "cat /var/log/auth.log\xe2\x80\x8b",
             "invisible format character U+200B", 22),
        fail("UNI-005 right-to-left override", "cat /var/log/\xe2\x80\xaegol.htua",
             "bidirectional control U+202E", 14),
        fail("UNI-007 overlong /",
             "cat /var/log\xc0\xaf"
             "auth.log",
             "invalid UTF-8 at byte 13", 13),
        ok("UNI-009 fullwidth digits are a word", "journalctl -n \xef\xbc\x95\xef\xbc\x90",
           {"journalctl", "-n", "\xef\xbc\x95\xef\xbc\x90"}),
        ok("UNI-010 fullwidth letters are a word",
           "\xef\xbd\x83\xef\xbd\x81\xef\xbd\x94 /var/log/auth.log",
           {"\xef\xbd\x83\xef\xbd\x81\xef\xbd\x94", "/var/log/auth.log"}),
        fail("UNI-011 bidi control as a pattern", "grep \xe2\x80\xae /var/log/syslog",
             "bidirectional control U+202E", 6),
        fail("WS-004 trailing CR", "uptime\r", "carriage return", 7),
        fail("WS-006 trailing NUL", "uptime\0"s, "U+0000 (NUL)", 7),
        fail("WS-010 OSC 52 in a pattern", "grep \"\x1b]52;c;Y3VybCBldmls\x07\" /var/log/syslog",
             "U+001B (escape)", 7),
        fail("WS-011 next line U+0085", "uptime\xc2\x85id", "control character U+0085", 7),
        fail("GLOB-004 glob and traversal", "cat /var/log/*/../../../etc/*.log", kGlob, 14),
        fail("GLOB-005 bracket expression", "cat /var/log/[a-z]*.log", kGlob, 14),
        fail("GLOB-008 unquoted glob as a pattern", "find /var/log -name *.log", kGlob, 21),
        ok("SYSCTL-015 quoted glob", "systemctl restart 'nginx*'",
           {"systemctl", "restart", "nginx*"}),
        ok("PING-012 quoted metacharacter", "ping -c 3 'host;reboot'",
           {"ping", "-c", "3", "host;reboot"}),
        ok("FIND-001 escaped semicolon", R"(find /var/log -name '*.gz' -exec /bin/sh \;)",
           {"find", "/var/log", "-name", "*.gz", "-exec", "/bin/sh", ";"}),
        ok("ARGV0-026 nested quotes", R"(rsync -e '/bin/sh -c "/bin/sh 0<&2 1>&2"' x:x)",
           {"rsync", "-e", R"(/bin/sh -c "/bin/sh 0<&2 1>&2")", "x:x"}),
        ok("JCTL-018 quoted regex", "journalctl --grep '(a+)+$'",
           {"journalctl", "--grep", "(a+)+$"}),
        fail("AUDIT-002 second command", "systemctl status nginx; journalctl --vacuum-time=1s",
             kNoShell, 23),
    };
    // clang-format on
    for (const Case& c : cases) check(c);
}

// Pipelines: an unquoted | separates stages; each stage is tokenized as a request of its
// own would be. Lists, empty stages and too many stages stay refused.
std::string stages_of(std::string_view text) {
    const Result<std::vector<Stage>> stages = tokenize_pipeline(text);
    if (!stages) return "error: " + stages.error().full();
    std::string out;
    for (const Stage& stage : stages.value()) {
        out += out.empty() ? "" : " | ";
        for (std::size_t w = 0; w < stage.words.size(); ++w) {
            const std::string& word = stage.words[w];
            out +=
                (w == 0 ? "" : " ") + (word.empty() ? "''" : word) + (stage.globbed[w] ? "^" : "");
        }
    }
    return out;
}

TEST(TokenizePipeline, AnUnquotedBarSeparatesStages) {
    EXPECT_EQ(stages_of("uptime"), "uptime");
    EXPECT_EQ(stages_of("journalctl -u nginx -n 500 --no-pager | grep -i error | tail -n 20"),
              "journalctl -u nginx -n 500 --no-pager | grep -i error | tail -n 20");
    EXPECT_EQ(stages_of("a|b"), "a | b");
    EXPECT_EQ(stages_of("a |b"), "a | b");
    EXPECT_EQ(stages_of("a| b"), "a | b");
    EXPECT_EQ(stages_of("ls /var/log/*.log | wc -l"), "ls /var/log/*.log^ | wc -l");
    // Quoted or escaped, | is an ordinary character of a word.
    EXPECT_EQ(stages_of("grep 'a|b' x"), "grep a|b x");
    EXPECT_EQ(stages_of("grep \"a|b\" x"), "grep a|b x");
    EXPECT_EQ(stages_of("grep a\\|b x"), "grep a|b x");
    EXPECT_EQ(stages_of("'' | x"), "'' | x");
    // Eight stages at most.
    EXPECT_EQ(stages_of("a|b|c|d|e|f|g|h"), "a | b | c | d | e | f | g | h");
    EXPECT_EQ(stages_of("a|b|c|d|e|f|g|h|i"),
              "error: column 1: a pipeline of 9 stages; at most 8 are allowed");
}

TEST(TokenizePipeline, ListsEmptyStagesAndOtherSyntaxStayRefused) {
    EXPECT_EQ(stages_of("uptime || sh"),
              "error: column 8: `|` is shell syntax (it pipes or chains commands), and bridle "
              "runs no shell: " +
                  std::string(kNoShell) +
                  "; send one command (quote `|` if you mean it literally)");
    EXPECT_EQ(stages_of("a|&b").rfind("error: column 2: `|` is shell syn", 0), 0U)
        << stages_of("a|&b");
    EXPECT_EQ(stages_of("a||b").rfind("error: column 2: ", 0), 0U) << stages_of("a||b");
    EXPECT_EQ(stages_of("| a"),
              "error: column 1: `|` with no command before it: each stage of "
              "a pipeline is one command with its arguments");
    EXPECT_EQ(stages_of("a | | b").rfind("error: column 5: `|` with no command before it", 0), 0U)
        << stages_of("a | | b");
    EXPECT_EQ(stages_of("a |"),
              "error: column 3: `|` with no command after it: each stage of "
              "a pipeline is one command with its arguments");
    EXPECT_EQ(stages_of("|"),
              "error: column 1: `|` with no command before it: each stage of "
              "a pipeline is one command with its arguments");
    EXPECT_EQ(stages_of("a | b; c").rfind("error: column 6: `;` is shell synta", 0), 0U)
        << stages_of("a | b; c");
    EXPECT_EQ(stages_of("a | b > c").rfind("error: column 7: `>` is shell synta", 0), 0U)
        << stages_of("a | b > c");
    EXPECT_EQ(stages_of("a | b && c").rfind("error: column 7: `&` is shell synta", 0), 0U)
        << stages_of("a | b && c");
    EXPECT_EQ(stages_of("a | $(b)").rfind("error: column 5: `$`", 0), 0U) << stages_of("a | $(b)");
    EXPECT_EQ(stages_of("a\n| b").rfind("error: column 2: ", 0), 0U) << stages_of("a\n| b");
    EXPECT_EQ(stages_of(std::string(kMaxRequestBytes + 1, '|'))
                  .rfind("error: column 65537: request is 65537 bytes;", 0),
              0U)
        << stages_of(std::string(kMaxRequestBytes + 1, '|'));
    // Without a bar, exactly tokenize_allowing_globs's words and errors.
    for (const char* text : {"a 'b c' d", "a;b", "", "a 'b", "ls *.log"}) {
        std::vector<bool> globbed;
        const Result<std::vector<std::string>> words = tokenize_allowing_globs(text, &globbed);
        const Result<std::vector<Stage>> stages = tokenize_pipeline(text);
        ASSERT_EQ(words.ok(), stages.ok()) << text;
        if (!words) {
            EXPECT_EQ(words.error().full(), stages.error().full());
            continue;
        }
        ASSERT_EQ(stages.value().size(), 1U);
        EXPECT_EQ(stages.value()[0].words, words.value());
        EXPECT_EQ(stages.value()[0].globbed, globbed);
    }
}

// Every one- and two-byte request, and every short one made of bars, spaces and letters, gets
// an answer: stages with a word each, or a column inside the request.
TEST(TokenizePipeline, EveryShortInputGetsAnAnswer) {
    std::vector<std::string> inputs;
    for (int a = 0; a < 256; ++a) {
        for (int b = -1; b < 256; ++b) {
            std::string input(1, static_cast<char>(a));
            if (b >= 0) input += static_cast<char>(b);
            inputs.push_back(std::move(input));
        }
    }
    const std::string alphabet = "| a&";
    for (std::size_t n = 0; n < 4 * 4 * 4 * 4 * 4; ++n) {
        std::string input;
        for (std::size_t k = n, i = 0; i < 5; ++i, k /= 4) input += alphabet[k % 4];
        inputs.push_back(std::move(input));
    }
    for (const std::string& input : inputs) {
        const Result<std::vector<Stage>> result = tokenize_pipeline(input);
        if (result.ok()) {
            for (const Stage& stage : result.value()) ASSERT_FALSE(stage.words.empty()) << input;
            continue;
        }
        const std::string& location = result.error().location;
        ASSERT_EQ(location.rfind("column ", 0), 0u) << location;
        const std::size_t column = std::stoul(location.substr(7));
        ASSERT_GE(column, 1u);
        ASSERT_LE(column, input.size()) << escape_text(input);
    }
}

// Guards the "never crash, never hang" invariant: every one- and two-byte request either
// tokenizes or fails with a column inside the request.
TEST(Tokenize, EveryShortInputGetsAnAnswerWithAColumnInside) {
    std::string input(2, '\0');
    for (int a = 0; a < 256; ++a) {
        for (int b = -1; b < 256; ++b) {
            input.assign(1, static_cast<char>(a));
            if (b >= 0) input += static_cast<char>(b);
            const Result<std::vector<std::string>> result = tokenize(input);
            if (result.ok()) continue;
            const std::string& location = result.error().location;
            ASSERT_EQ(location.rfind("column ", 0), 0u) << location;
            const std::size_t column = std::stoul(location.substr(7));
            ASSERT_GE(column, 1u);
            ASSERT_LE(column, input.size()) << escape_text(input);
            ASSERT_FALSE(result.error().message.empty());
        }
    }
}

// Guards linear time and memory on the largest requests: many words, many quotes, many
// backslashes, all at the size limit.
TEST(Tokenize, LargestRequestsFinish) {
    std::string many_words;
    while (many_words.size() + 2 <= kMaxRequestBytes) many_words += "a ";
    const Result<std::vector<std::string>> words = tokenize(many_words);
    ASSERT_TRUE(words.ok());
    EXPECT_EQ(words.value().size(), kMaxRequestBytes / 2);

    std::string empty_words;
    while (empty_words.size() + 3 <= kMaxRequestBytes) empty_words += "'' ";
    const Result<std::vector<std::string>> empties = tokenize(empty_words);
    ASSERT_TRUE(empties.ok());
    EXPECT_EQ(empties.value().size(), kMaxRequestBytes / 3);

    const Result<std::vector<std::string>> backslashes =
        tokenize(std::string(kMaxRequestBytes, '\\'));
    ASSERT_TRUE(backslashes.ok());
    EXPECT_EQ(backslashes.value(),
              std::vector<std::string>{std::string(kMaxRequestBytes / 2, '\\')});

    // An even number of quotes is one empty word; an odd number leaves the last one open.
    for (const char quote : {'"', '\''}) {
        SCOPED_TRACE(quote);
        const Result<std::vector<std::string>> even =
            tokenize(std::string(kMaxRequestBytes, quote));
        ASSERT_TRUE(even.ok());
        EXPECT_EQ(even.value(), std::vector<std::string>{""});
        const Result<std::vector<std::string>> odd =
            tokenize(std::string(kMaxRequestBytes - 1, quote));
        ASSERT_FALSE(odd.ok());
        EXPECT_EQ(odd.error().location, "column " + std::to_string(kMaxRequestBytes - 1));
    }
}

// Golden files: tests/golden/tokenizer/NNN-what.in holds one request's exact bytes (one
// trailing "\n", if present, is not part of it); NNN-what.ok holds one line per word,
// rendered with quote_text, or one line "error: column N: message".
// UPDATE_GOLDEN=1 rewrites the .ok files instead of comparing; review the diff.
std::string render(const Result<std::vector<std::string>>& result) {
    if (!result.ok()) return "error: " + result.error().full() + "\n";
    std::string out;
    for (const std::string& word : result.value()) out += quote_text(word) + "\n";
    return out;
}

using testing::read_bytes;

TEST(TokenizeGolden, EveryCaseMatchesItsOkFile) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(BRIDLE_SOURCE_DIR) / "tests" / "golden" / "tokenizer";
    std::vector<fs::path> inputs;
    std::vector<fs::path> outputs;
    if (fs::is_directory(dir)) {
        for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() == ".in") inputs.push_back(entry.path());
            if (entry.path().extension() == ".ok") outputs.push_back(entry.path());
        }
    }
    std::sort(inputs.begin(), inputs.end());
    ASSERT_FALSE(inputs.empty()) << "no golden cases in " << dir;

    for (const fs::path& input_path : inputs) {
        SCOPED_TRACE(input_path.filename().string());
        std::string request = read_bytes(input_path);
        if (!request.empty() && request.back() == '\n') request.pop_back();
        const std::string actual = render(tokenize(request));
        fs::path ok_path = input_path;
        ok_path.replace_extension(".ok");
        testing::expect_golden(ok_path, actual);
    }
    // An .ok file without its .in is a case that silently stopped running.
    for (const fs::path& ok_path : outputs) {
        fs::path input_path = ok_path;
        input_path.replace_extension(".in");
        EXPECT_TRUE(fs::exists(input_path)) << "orphan " << ok_path;
    }
}

}  // namespace
}  // namespace bridle::command
