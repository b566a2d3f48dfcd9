// SPDX-License-Identifier: Apache-2.0
// A policy regex: its syntax checked when the policy is loaded, compiled the first time a
// request needs it, and compiled once however many rules share the pattern.
//
// Compiling is most of the cost of loading a policy (RE2 expands counted repetitions: '.{1,512}'
// alone takes milliseconds), and the forced command decides one request per process, so it
// compiles only the patterns that request reaches. Parsing (every syntax error, with its
// location) always happens at load; the one failure left for compile time is a pattern too
// large for RE2's memory budget, which `bridle check` reports at load and which denies every
// request that reaches it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace bridle::policy {

class Regex {
  public:
    // The pattern, or nullptr with `error` set when it does not parse. Compiles nothing.
    static std::shared_ptr<const Regex> parse(const std::string& pattern, std::string& error);

    // How the text is read: as UTF-8 (a policy's value checks), or as bytes, each one character
    // (Latin-1 to RE2; redaction, which must find a secret among invalid UTF-8 too).
    enum class Text { kUtf8, kBytes };

    explicit Regex(std::string pattern, Text text = Text::kUtf8);  // use parse(); public for
                                                                   // make_shared
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    const std::string& pattern() const { return pattern_; }

    // Compiles on first use (thread-safe); "" when it compiled, else RE2's error.
    const std::string& compile_error() const;

    // `text` matches the whole pattern. False when the pattern cannot be compiled.
    bool full_match(std::string_view text) const;

    // The leftmost match (leftmost-first, as in Perl) in `text` that begins at or after `from`:
    // `groups[0]` is the whole match, `groups[i]` capturing group i (a group that took no part
    // has a null data()); give at most 1 + capturing_groups() of them. Assertions such as ^ and
    // \b see all of `text`. False when nothing matches or the pattern cannot be compiled.
    bool search(std::string_view text, std::size_t from, std::span<std::string_view> groups) const;

    // The number of capturing groups, and the index of each named one: 0 and none when the
    // pattern cannot be compiled.
    int capturing_groups() const;
    std::map<std::string, int> named_groups() const;

  private:
    std::string pattern_;
    Text text_;
    mutable std::once_flag once_;
    mutable std::unique_ptr<const re2::RE2> compiled_;
    mutable std::string error_;
};

}  // namespace bridle::policy
