// SPDX-License-Identifier: Apache-2.0
// Internal to matching: one rule tried against one request (try_rule, attempt.cpp), for
// decide (matcher.cpp), which tries every candidate rule and picks the one it shows.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "matching/matcher.hpp"

namespace bridle::matching::detail {

// How far a rule got before it failed: the rule that consumed the most tokens gives the
// reason an agent sees.
struct Attempt {
    bool matched = false;
    std::size_t consumed = 0;
    std::string why;  // only in Mode::kFull
    std::vector<Binding> bindings;
    std::vector<std::string> exec_argv;
    std::vector<FdPath> fd_paths;
};

// How much of an Attempt try_rule fills in. decide tries every candidate in kVerdict mode
// (how far it got, nothing else), then tries again in kFull mode only the rule it shows: the
// one that matched (for its bindings and exec_argv) or, for a denial, the one that got
// furthest (for its reason). The verdict and `consumed` are the same in both modes.
enum class Mode { kVerdict, kFull };

// Walks the request's words through `rule` (options, "--", positional arguments, globs) and
// says how far it got; in Mode::kFull also why it stopped, or what to exec when it matched.
Attempt try_rule(const policy::Rule& rule, const std::vector<std::string>& argv,
                 const PathResolver& resolver, Mode mode, const std::vector<bool>* globbed);

}  // namespace bridle::matching::detail
