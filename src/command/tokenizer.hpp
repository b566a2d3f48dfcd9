// SPDX-License-Identifier: Apache-2.0
// Request text -> argv, with POSIX-shell quoting and no expansion of any kind.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bridle::command {

// Requests longer than this are refused before any parsing.
constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// Split `text` into words the way a POSIX shell's quote removal would, with no expansion
// of any kind, and refuse whatever a shell would read as syntax rather than guess. In order:
//
//  1. More than kMaxRequestBytes bytes: refused before anything else reads the text.
//  2. The whole text must be valid UTF-8 (no overlong forms, surrogates or values above
//     U+10FFFF), and no character for which forbidden_character_name() answers may appear
//     anywhere, quoted or not: C0 controls (TAB, LF, CR, NUL included), DEL, C1 controls,
//     bidirectional controls, zero-width and other invisible format characters, U+2028/9.
//  3. Words are separated by ASCII spaces (0x20) only; leading, trailing and repeated
//     spaces are ignored. Any other byte, including any non-ASCII character, is part of a
//     word.
//  4. '...' : every byte up to the next ' is literal ($ and ` included).
//     "..." : literal, except that \" and \\ yield " and \; a backslash before any other
//             character stays (POSIX); $ and ` are refused, also after a backslash (a
//             shell would expand them, or drop that backslash).
//     \c    : outside quotes, a backslash makes the next character literal; a backslash
//             at the very end is refused.
//  5. Unquoted, these are refused: ; & | < > ( ) $ ` (no pipes, redirections, lists or
//     substitutions), { } (no brace expansion), ! (history expansion, negation),
//     * ? [ (no globs), and # or ~ where a word starts (comment, tilde expansion).
//     Single-quoted or backslash-escaped, each is an ordinary character; double-quoted,
//     all but $ and ` are.
//  6. Adjacent quoted and unquoted pieces join into one word (c'a't is cat). An empty
//     quoted piece standing alone ('' or "") is a word: the empty string.
//  7. An unterminated ' or " is refused at the column of the opening quote; no words at
//     all (empty text, only spaces) is refused as an empty command.
//
// An error's location is "column N": the 1-based byte offset of the offending byte (the
// opening quote for an unterminated one, 1 for an empty command, kMaxRequestBytes + 1 for
// an oversized request). Its message says why, in words an agent can act on. Time and
// memory are linear in the input.
Result<std::vector<std::string>> tokenize(std::string_view text);

// As tokenize(), except where `globbed` is given: an unquoted * or ? is then kept as part of
// its word instead of refused, and (*globbed)[w] says whether word w holds one. Such a word
// may not also hold a quoted or escaped *, ? or [ (the matcher could not tell which is meant).
// The matcher accepts a globbed word only where a rule's path says `glob:`; [ stays refused.
Result<std::vector<std::string>> tokenize_allowing_globs(std::string_view text,
                                                         std::vector<bool>* globbed);

// At most this many stages in one pipeline (tokenize_pipeline, MCP's `pipeline`).
constexpr std::size_t kMaxStages = 8;

// One command of a pipeline: its words, and which of them hold an unquoted * or ?.
struct Stage {
    std::vector<std::string> words;
    std::vector<bool> globbed;
};

// As tokenize_allowing_globs(), except that an unquoted `|` separates the stages of a
// pipeline instead of being refused (rule 5): it ends the word before it, with or without
// spaces around it ("a|b" is two stages). `||` and `|&` stay refused as lists, with rule 5's
// message; a stage with no words (a leading or trailing `|`, or `| |`) and more than
// kMaxStages stages are refused. A request with no `|` is one stage, with exactly the words
// and errors of tokenize_allowing_globs(). Quoted or escaped, | is an ordinary character.
Result<std::vector<Stage>> tokenize_pipeline(std::string_view text);

// Words a client sent as argv (MCP's run_command) skip the tokenizer, so they get its
// character rules (3 and 4) and its size limit here: a NUL would cut the word execve passes
// short of the word the matcher checked. Why they cannot be used, or nullopt when they can.
std::optional<std::string> check_words(const std::vector<std::string>& argv);

}  // namespace bridle::command
