// SPDX-License-Identifier: Apache-2.0
// `bridle learn --max-policy FILE`: whether a proposed rule stays inside the rule of a ceiling
// policy that allows its examples.
#pragma once

#include <string>

#include "policy/model.hpp"

namespace bridle::admin::learning {

// What makes `proposal` wider than `ceiling`, or "" when it is not: both name the same
// command; the proposal's keys are among the ceiling's (a rule without keys is for every key);
// it bundles flags or takes "--" only where the ceiling does; each of its options is an option
// of the ceiling (its spellings among the ceiling's), a flag where the ceiling has a flag,
// attached only where the ceiling's is, and its value spec inside the ceiling's; every option
// the ceiling requires, it requires; it has as many positional arguments, each a literal the
// ceiling's spec accepts or a spec inside it. A spec is inside another when it accepts no value
// the other refuses: an int range inside the other's range or enum; enum values that the other
// accepts; the same regex; a path under the other's directories, of its type, with none of
// the other's further limits (names, max_size, links, final_symlink, dots, open: fd) missing;
// and within the other's max_length. Sandboxes, limits, fixed words and env are not compared.
std::string exceeds(const policy::Rule& proposal, const policy::Rule& ceiling);

}  // namespace bridle::admin::learning
