// SPDX-License-Identifier: Apache-2.0
// Redaction of secrets in what a command writes (a rule's `redact: true`; bridle-policy(5),
// REDACTION): the built-in patterns and the policy's own (settings.redact_patterns), searched as
// one regex, line by line, and a streaming redactor per output stream that replaces what they
// find with [REDACTED] before the bytes go on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/regex.hpp"

namespace bridle::policy {

// What a secret is replaced with.
constexpr std::string_view kRedactedMarker = "[REDACTED]";
// A line longer than this with no line break is searched in windows of this size that overlap
// by kRedactOverlap: a match of at most kRedactOverlap bytes is found wherever the window falls.
constexpr std::size_t kRedactWindow = 64 * 1024;
constexpr std::size_t kRedactOverlap = 4 * 1024;

// The patterns: the built-in ones (private key blocks, Authorization headers, token shapes,
// passwords in URLs, password=-style pairs), then the policy's own, in this order. They match
// bytes, not UTF-8 characters: a secret is found among NULs and invalid UTF-8 too.
class RedactionPatterns {
  public:
    // `own`: patterns each of which Regex::parse accepts (the loader checks them).
    explicit RedactionPatterns(std::vector<std::string> own);
    RedactionPatterns(const RedactionPatterns&) = delete;
    RedactionPatterns& operator=(const RedactionPatterns&) = delete;

    // The built-in patterns alone, shared.
    static std::shared_ptr<const RedactionPatterns> builtin();

    const std::vector<std::string>& own() const { return own_; }

    // Compiles on first use (thread-safe); "" when the patterns are usable, else why not: RE2
    // cannot compile them together, or one of the policy's matches the empty string.
    const std::string& compile_error() const;

    struct Found {
        std::size_t match_begin = 0, match_end = 0;  // the whole match
        std::size_t begin = 0, end = 0;  // what is replaced: the first capturing group of the
                                         // pattern that took part, else the whole match
        bool opens_block = false;        // the BEGIN line of a private key: everything after it
                                         // up to its END marker is the secret
    };
    // The leftmost match in `line` (a line without its line break) at or after `from`; at the
    // same position, the pattern listed first.
    std::optional<Found> find(std::string_view line, std::size_t from) const;
    // Where the END marker of a private key begins in `text`, at or after `from`.
    std::optional<std::size_t> find_block_end(std::string_view text, std::size_t from) const;

  private:
    void prepare() const;

    std::vector<std::string> own_;
    Regex all_;        // every pattern, each as named group bridle_N
    Regex block_end_;  // -----END ... PRIVATE KEY-----
    mutable std::once_flag once_;
    mutable std::string error_;
    mutable std::vector<int> first_group_;  // per pattern: the index of its named group; one
                                            // more entry at the end, 1 + the number of groups
};

// The redactor of one stream: bytes may arrive in any chunks, a secret split between two. It
// holds back the line it has not seen the end of (at most kRedactWindow bytes) and writes out
// each line redacted. Inside a private key block (BEGIN to END) everything is the secret; a
// block that never ends is redacted to the end of the stream. Bytes that match nothing pass
// unchanged, NUL bytes and invalid UTF-8 included. Time linear in the input.
class Redactor {
  public:
    explicit Redactor(std::shared_ptr<const RedactionPatterns> patterns);

    void feed(std::string_view bytes, std::string& out);
    void finish(std::string& out);  // the end of the stream: what is held back, redacted
    std::uint64_t count() const { return count_; }  // secrets replaced so far

  private:
    // One line without its line break `eol`, or (`window`) kRedactWindow bytes of a longer one,
    // whose matches that run past the window's last kRedactOverlap bytes are left for the next
    // window. Appends the redacted text to `out`; returns how many bytes of `text` it used.
    std::size_t scan(std::string_view text, std::string_view eol, bool window, std::string& out);

    std::shared_ptr<const RedactionPatterns> patterns_;
    std::string held_;
    bool in_block_ = false;
    std::string_view break_before_;  // inside a block: the line break that ended the last
                                     // line dropped, kept if the END marker starts the next
    std::uint64_t count_ = 0;
};

}  // namespace bridle::policy
