// SPDX-License-Identifier: Apache-2.0
// `bridle learn`: typed rules from the requests that were denied, one program at a time.
// Only the inference: which words are options, flags, bundles and positional arguments, and
// what type their values have. What may be proposed at all is decided before (the deny-list,
// learn_program.hpp) and after (the loader, the matcher, the ceiling) by learn.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bridle::admin::learning {

// One rule inferred from some of the requests.
struct Inferred {
    std::vector<std::size_t> examples;  // the requests it was built from (indices, in order)
    std::string body;                   // YAML: the rule's keys after id, command and keys,
                                        // each line indented by 4 spaces, ending in a newline
    std::vector<std::string> notes;     // for the reviewer, e.g. how a bundle is passed
};

// A request no rule was inferred from, and why.
struct Unlearnable {
    std::size_t example;
    std::string why;
};

struct Inference {
    std::vector<Inferred> rules;
    std::vector<Unlearnable> unlearnable;
};

// The rules for requests of one program (argv[0] is its name in each, and each has at least
// that word). Requests with the same shape share a rule: the same number of positional
// arguments, or for the programs whose expressions are words beginning with '-' (find, ip,
// tc, bridge), the same such words in the same places.
Inference infer_rules(const std::vector<std::vector<std::string>>& argvs);

// The value spec for the values one option or one positional argument was given, as the
// inside of a YAML flow mapping ("int: [50, 100]"). In order: decimal integers give an int
// range rounded out to 1, 2 or 5 times a power of ten; absolute paths that exist give a path
// under their narrowest common directory (not /) with the type seen; at most kMaxEnum
// distinct values give an enum; other values give a regex of the character classes seen
// (letters, digits and @._:+,=%-) with a max_length. A glob character (* ? [) or any other
// character gives none: the error says why.
inline constexpr std::size_t kMaxEnum = 5;
Result<std::string> infer_value(const std::vector<std::string>& values);

// The nearest of 0, 1, 2, 5, 10, 20, 50, ... at or below (at or above, at most 2^53) `n`.
std::uint64_t round_down_125(std::uint64_t n);
std::uint64_t round_up_125(std::uint64_t n);

// `text` as a YAML scalar: plain when it is unambiguous, else double-quoted and escaped
// (ASCII only).
std::string yaml_scalar(std::string_view text);

}  // namespace bridle::admin::learning
