// SPDX-License-Identifier: Apache-2.0
// Request text -> argv: a named state machine over POSIX quoting that expands nothing.
#include "command/tokenizer.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <utility>

#include "common/text.hpp"

namespace bridle::command {
namespace {

// Where the machine is between two bytes (mold cmdline.cc names its states the same way).
enum class State {
    kSpace,                  // between words: spaces are skipped, anything else starts a word
    kBare,                   // inside a word, outside quotes
    kBackslash,              // after an unquoted backslash: the next byte is literal
    kSingleQuoted,           // inside '...': every byte is literal until the next '
    kDoubleQuotedBackslash,  // after a backslash inside "...": only " and \ are escaped
    kDoubleQuoted,           // inside "...": literal except \" \\, and $ ` are refused
};

constexpr std::string_view kNoShell =
    "bridle runs no shell: no pipes, redirections, command lists or substitutions; "
    "send one command";
constexpr std::string_view kDollar =
    "`$` is never expanded: bridle runs no shell; put it in single quotes if you mean a "
    "literal $";
constexpr std::string_view kBackquote =
    "backquote (`) is never expanded: bridle runs no shell; put it in single quotes if you "
    "mean a literal backquote";

// Columns are 1-based byte offsets, the way doas parse.y reports them.
Error error_at(std::size_t offset, std::string message) {
    return Error{std::move(message), "column " + std::to_string(offset + 1)};
}

// The text an agent can act on for a character no request may contain. Newline and CR
// get their own words: they are how one request smuggles a second one (btrbk's RCE).
std::string describe_forbidden(char32_t cp, const std::string& name) {
    switch (cp) {
        case U'\n':
            return name + " (newline) is not allowed: send one command per request";
        case U'\r':
            return name +
                   " (carriage return) is not allowed: send one command per request, "
                   "without a CRLF line ending";
        case U'\t':
            return name + " (tab) is not allowed: separate words with spaces";
        case U'\0':
            return name + " (NUL) is not allowed: no argument can contain a NUL byte";
        case 0x1B:
            return name + " (escape) is not allowed: terminal escape sequences are refused";
        default:
            return name +
                   " is not allowed, quoted or not: a request may not contain control, "
                   "invisible or bidirectional characters; type the characters you mean";
    }
}

// Pass 1: the whole request must be valid UTF-8 with no forbidden character anywhere,
// quoted or not, before any byte is read as syntax.
std::optional<Error> check_characters(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<CodePoint> cp = decode_utf8(text, i);
        if (!cp) {
            std::array<char, 8> hex{};
            std::snprintf(hex.data(), hex.size(), "0x%02X",
                          static_cast<unsigned>(static_cast<unsigned char>(text[i])));
            return error_at(i, "invalid UTF-8 at byte " + std::to_string(i + 1) + " (" +
                                   hex.data() + "): send the request as UTF-8");
        }
        if (const std::optional<std::string> name = forbidden_character_name(cp->value)) {
            return error_at(i, describe_forbidden(cp->value, *name));
        }
        i += cp->length;
    }
    return std::nullopt;
}

// Why an unquoted byte inside a word is refused, or nullopt when it is an ordinary
// character. Only ASCII is ever syntax; bytes of multi-byte characters are literal.
std::optional<std::string> refuse_unquoted(char c) {
    const std::string shown = std::string("`") + c + "`";
    const auto syntax = [&](std::string_view meaning) {
        return shown + " is shell syntax (" + std::string(meaning) + "), and " +
               std::string(kNoShell) + " (quote " + shown + " if you mean it literally)";
    };
    switch (c) {
        case ';':
            return syntax("it separates commands");
        case '&':
            return syntax("it backgrounds or chains commands");
        case '|':
            return syntax("it pipes or chains commands");
        case '<':
        case '>':
            return syntax("it redirects input or output");
        case '(':
        case ')':
            return syntax("it groups commands or substitutes processes");
        case '$':
            return std::string(kDollar);
        case '`':
            return std::string(kBackquote);
        case '{':
        case '}':
            return shown +
                   " would start brace expansion in a shell; brace expansion is not "
                   "performed: quote it if you mean it literally";
        case '!':
            return shown +
                   " means history expansion or negation in a shell: quote it if you "
                   "mean it literally";
        case '*':
        case '?':
        case '[':
            return shown +
                   ": globs are never expanded: name the file exactly (or quote the "
                   "character if you mean it literally)";
        default:
            return std::nullopt;
    }
}

// Why an unquoted byte is refused where it starts a word (where a shell gives it meaning).
std::optional<std::string> refuse_word_start(char c) {
    switch (c) {
        case '#':
            return "`#` at the start of a word would begin a comment in a shell: quote it if "
                   "you mean it literally";
        case '~':
            return "`~` at the start of a word: tilde expansion is never performed; give an "
                   "absolute path (or quote `~` if you mean it literally)";
        default:
            return std::nullopt;
    }
}

bool is_glob_character(char c) {
    return c == '*' || c == '?' || c == '[';
}

// Pass 2: split into words. Every byte is looked at once, so time is linear in the input.
// With `globbed`, an unquoted * or ? is kept and marks its word (see tokenize_allowing_globs).
//
// With `breaks`, an unquoted | that is not part of || or |& ends the current word and the
// current stage of a pipeline; breaks gets the index of the first word of each next stage.
Result<std::vector<std::string>> split_words(std::string_view text, std::vector<bool>* globbed,
                                             std::vector<std::size_t>* breaks) {
    std::vector<std::string> words;
    std::string word;
    bool unquoted_glob = false;  // the current word has an unquoted * or ?
    bool literal_glob = false;   // ... or a quoted or escaped *, ? or [
    std::size_t glob_at = 0;
    // A word with both would look the same to the matcher whichever star was meant: refused.
    const auto end_word = [&]() -> std::optional<Error> {
        if (globbed != nullptr) {
            if (unquoted_glob && literal_glob) {
                return error_at(glob_at,
                                "a word with an unquoted * or ? may not also hold a quoted or "
                                "escaped *, ? or [");
            }
            globbed->push_back(unquoted_glob);
        }
        words.push_back(std::move(word));
        word.clear();
        unquoted_glob = literal_glob = false;
        return std::nullopt;
    };
    State state = State::kSpace;
    std::size_t quote_start = 0;  // offset of the quote that opened the current quoted piece
    std::size_t last_bar = 0;     // offset of the last stage-separating |
    // A stage-separating | at `i`, once the word before it has ended. `||` and `|&` are
    // lists, not pipes: refused as before.
    const auto end_stage = [&](std::size_t i) -> std::optional<Error> {
        if (i + 1 < text.size() && (text[i + 1] == '|' || text[i + 1] == '&')) {
            return error_at(i, *refuse_unquoted('|'));
        }
        const std::size_t stage_start = breaks->empty() ? 0 : breaks->back();
        if (words.size() == stage_start) {
            return error_at(i,
                            "`|` with no command before it: each stage of a pipeline is "
                            "one command with its arguments");
        }
        breaks->push_back(words.size());
        last_bar = i;
        return std::nullopt;
    };

    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (state) {
            case State::kSpace:
                if (c == ' ') break;
                if (c == '|' && breaks != nullptr) {
                    if (std::optional<Error> error = end_stage(i)) return std::move(*error);
                    break;
                }
                if (std::optional<std::string> why = refuse_word_start(c)) {
                    return error_at(i, std::move(*why));
                }
                state = State::kBare;
                [[fallthrough]];
            case State::kBare:
                if (c == ' ') {
                    if (std::optional<Error> error = end_word()) return std::move(*error);
                    state = State::kSpace;
                } else if (c == '\'') {
                    quote_start = i;
                    state = State::kSingleQuoted;
                } else if (c == '"') {
                    quote_start = i;
                    state = State::kDoubleQuoted;
                } else if (c == '\\') {
                    state = State::kBackslash;
                } else if (c == '|' && breaks != nullptr) {
                    if (std::optional<Error> error = end_word()) return std::move(*error);
                    if (std::optional<Error> error = end_stage(i)) return std::move(*error);
                    state = State::kSpace;
                } else if (globbed != nullptr && (c == '*' || c == '?')) {
                    word += c;
                    if (!unquoted_glob) glob_at = i;
                    unquoted_glob = true;
                } else if (std::optional<std::string> why = refuse_unquoted(c)) {
                    return error_at(i, std::move(*why));
                } else {
                    word += c;
                }
                break;
            case State::kBackslash:
                // The escaped byte is literal. If it leads a multi-byte character, the
                // continuation bytes follow in kBare, where they are literal too.
                word += c;
                literal_glob = literal_glob || is_glob_character(c);
                state = State::kBare;
                break;
            case State::kSingleQuoted:
                if (c == '\'') {
                    state = State::kBare;
                } else {
                    word += c;
                    literal_glob = literal_glob || is_glob_character(c);
                }
                break;
            case State::kDoubleQuotedBackslash:
                state = State::kDoubleQuoted;
                if (c == '"' || c == '\\') {
                    word += c;
                    break;
                }
                // POSIX keeps the backslash before any other character, then reads that
                // character as it would inside the quotes: "\$" is refused like "$".
                word += '\\';
                [[fallthrough]];
            case State::kDoubleQuoted:
                if (c == '"') {
                    state = State::kBare;
                } else if (c == '\\') {
                    state = State::kDoubleQuotedBackslash;
                } else if (c == '$') {
                    return error_at(i, std::string(kDollar));
                } else if (c == '`') {
                    return error_at(i, std::string(kBackquote));
                } else {
                    word += c;
                    literal_glob = literal_glob || is_glob_character(c);
                }
                break;
            default:
                return error_at(i, "internal error: unknown tokenizer state");
        }
    }

    switch (state) {
        case State::kSpace:
            break;
        case State::kBare:
            if (std::optional<Error> error = end_word()) return std::move(*error);
            break;
        case State::kBackslash:
            return error_at(text.size() - 1,
                            "a trailing backslash escapes nothing: remove it, or write \\\\ "
                            "for a literal backslash");
        case State::kSingleQuoted:
            return error_at(quote_start, "unterminated single quote: close it with '");
        case State::kDoubleQuotedBackslash:
        case State::kDoubleQuoted:
            return error_at(quote_start,
                            "unterminated double quote: close it with \" (inside double "
                            "quotes, \\\" is a literal quote, not the end)");
        default:
            return error_at(0, "internal error: unknown tokenizer state");
    }
    if (words.empty()) {
        return error_at(0, "empty command: send `help` to list what you may run");
    }
    if (breaks != nullptr && !breaks->empty() && breaks->back() == words.size()) {
        return error_at(last_bar,
                        "`|` with no command after it: each stage of a pipeline is "
                        "one command with its arguments");
    }
    return words;
}

}  // namespace

Result<std::vector<std::string>> tokenize(std::string_view text) {
    std::vector<bool>* no_globs = nullptr;
    return tokenize_allowing_globs(text, no_globs);
}

Result<std::vector<std::string>> tokenize_allowing_globs(std::string_view text,
                                                         std::vector<bool>* globbed) {
    if (globbed != nullptr) globbed->clear();
    // The size is checked before anything else reads the text.
    if (text.size() > kMaxRequestBytes) {
        return error_at(kMaxRequestBytes, "request is " + std::to_string(text.size()) +
                                              " bytes; the limit is " +
                                              format_bytes(kMaxRequestBytes) + " (" +
                                              std::to_string(kMaxRequestBytes) + " bytes)");
    }
    if (std::optional<Error> error = check_characters(text)) return std::move(*error);
    return split_words(text, globbed, nullptr);
}

Result<std::vector<Stage>> tokenize_pipeline(std::string_view text) {
    std::vector<bool> globbed;
    // The size is checked before anything else reads the text (tokenize_allowing_globs).
    if (text.size() > kMaxRequestBytes) return tokenize_allowing_globs(text, &globbed).error();
    if (std::optional<Error> error = check_characters(text)) return std::move(*error);
    std::vector<std::size_t> breaks;
    Result<std::vector<std::string>> words = split_words(text, &globbed, &breaks);
    if (!words) return words.error();
    if (breaks.size() + 1 > kMaxStages) {
        return error_at(0, "a pipeline of " + std::to_string(breaks.size() + 1) +
                               " stages; at most " + std::to_string(kMaxStages) + " are allowed");
    }
    breaks.push_back(words.value().size());
    std::vector<Stage> stages;
    std::size_t begin = 0;
    for (const std::size_t end : breaks) {
        Stage& stage = stages.emplace_back();
        const auto first = static_cast<std::ptrdiff_t>(begin),
                   last = static_cast<std::ptrdiff_t>(end);
        stage.words.assign(std::make_move_iterator(words.value().begin() + first),
                           std::make_move_iterator(words.value().begin() + last));
        stage.globbed.assign(globbed.begin() + first, globbed.begin() + last);
        begin = end;
    }
    return stages;
}

std::optional<std::string> check_words(const std::vector<std::string>& argv) {
    if (argv.empty()) return "empty command: send the program and its arguments";
    std::size_t total = 0;
    for (std::size_t w = 0; w < argv.size(); ++w) {
        total += argv[w].size() + 1;
        if (total > kMaxRequestBytes) {
            return "the request is longer than " + format_bytes(kMaxRequestBytes);
        }
        for (std::size_t i = 0; i < argv[w].size();) {
            const auto cp = decode_utf8(argv[w], i);
            if (!cp)
                return "word " + std::to_string(w + 1) + " is not valid UTF-8 at byte " +
                       std::to_string(i + 1);
            if (auto name = forbidden_character_name(cp->value)) {
                return "word " + std::to_string(w + 1) + " contains a " + *name + " at byte " +
                       std::to_string(i + 1) + "; no control or invisible characters";
            }
            i += cp->length;
        }
    }
    return std::nullopt;
}

}  // namespace bridle::command
