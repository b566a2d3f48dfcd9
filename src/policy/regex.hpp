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

#include <memory>
#include <mutex>
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

    explicit Regex(std::string pattern);  // use parse(); public for make_shared
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    const std::string& pattern() const { return pattern_; }

    // Compiles on first use (thread-safe); "" when it compiled, else RE2's error.
    const std::string& compile_error() const;

    // `text` matches the whole pattern. False when the pattern cannot be compiled.
    bool full_match(std::string_view text) const;

  private:
    std::string pattern_;
    mutable std::once_flag once_;
    mutable std::unique_ptr<const re2::RE2> compiled_;
    mutable std::string error_;
};

}  // namespace bridle::policy
