// SPDX-License-Identifier: Apache-2.0
// How a run_as rule reaches sudo: the canonical word list of a request (its normal form), which
// of the two sudoers forms the rule compiles to, and the exact command lines of the exact form.
// Pure: no OS calls. docs/privilege.md states the guarantee of each form.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "matching/matcher.hpp"
#include "policy/model.hpp"

namespace bridle::privilege {

// The two ways a run_as rule appears in the sudoers drop-in.
//  kExact: every argument is a literal, an enum or a flag: one sudoers line per accepted
//          request, with the whole normal form on it. sudo alone grants nothing else.
//  kOpen:  a regex, integer or path value: one line per rule, `bridle run-as RULE` with no
//          further words; the request travels in BRIDLE_ARGV and bridle's target side
//          re-validates it against the root-owned policy.
enum class Form { kExact, kOpen };

Form form_of(const policy::Rule& rule);

// An exact rule expands to at most this many sudoers lines; beyond it `bridle sudoers` refuses
// the policy (split the rule, or make the value open).
constexpr std::size_t kMaxExactLines = 64;

// The request in its normal form, from an allowed decision for `rule`: the program's name,
// the leading literal arguments, every given option in the rule's order (its first spelling;
// a value attached: -n50, --lines=50), "--" when the rule takes end_of_options and positionals
// follow, then the other positionals. This is what the target side receives and execs, so
// one request has exactly one spelling on its way through sudo.
std::vector<std::string> normal_form(const policy::Rule& rule, const matching::Decision& decision);

// Every normal form an exact rule accepts, in a stable order; an error when the rule is open,
// expands to more than kMaxExactLines, or has a word sudoers cannot hold exactly (see
// is_sudoers_safe).
Result<std::vector<std::vector<std::string>>> exact_requests(const policy::Rule& rule);

// A word sudoers can match exactly, after sudoers_escape: letters, digits and @ % + . / _ - =
// : , (the last three escaped). Whitespace, quotes, wildcards (* ? [ ]), backslashes and
// anything else are refused: sudo joins arguments with spaces before comparing, and treats
// the others as syntax.
bool is_sudoers_safe(const std::string& word);
std::string sudoers_escape(const std::string& word);

// BRIDLE_ARGV: the normal form as hex of the words, each followed by a NUL byte; sudo passes
// it untouched (env_keep), and no character of it means anything to sudo or a shell.
std::string encode_argv(const std::vector<std::string>& words);
Result<std::vector<std::string>> decode_argv(const std::string& hex);

// The environment variables the user side hands to the target side through sudo; the drop-in
// keeps exactly these (env_keep).
constexpr const char* kRequestIdVariable = "BRIDLE_REQUEST_ID";
constexpr const char* kPolicyShaVariable = "BRIDLE_POLICY_SHA256";
constexpr const char* kArgvVariable = "BRIDLE_ARGV";

constexpr const char* kSudo = "/usr/bin/sudo";
constexpr const char* kTargetMode = "run-as";

}  // namespace bridle::privilege
