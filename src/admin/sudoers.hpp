// SPDX-License-Identifier: Apache-2.0
// `bridle sudoers`: the run_as rules of the policy as a sudoers drop-in, checked with visudo,
// printed or installed atomically as /etc/sudoers.d/bridle.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::admin {

constexpr const char* kDropIn = "/etc/sudoers.d/bridle";
constexpr const char* kDefaultAgent = "ai-agent";

struct SudoersOptions {
    std::string policy_file;           // --policy FILE: also written into every line
    std::string user = kDefaultAgent;  // --user NAME: the account the lines are for
    std::string bridle;                // --bridle PATH: the binary sudo starts; empty: this one
    bool install = false;              // --install
};

// The drop-in's text for `policy`. Pure. An error when a rule cannot be compiled (an exact
// rule with too many lines or a word sudoers cannot hold, a path sudoers cannot hold).
Result<std::string> compile_sudoers(const policy::Policy& policy, const SudoersOptions& options);

// What `bridle check` warns about: root rules whose sudo grant rests on bridle's re-check of an
// open path or regex value, root rules without exec-once, and rules that cannot be compiled.
std::vector<std::string> risky_grants(const policy::Policy& policy);

// The CLI mode: load the policy (strictly), compile, check with `visudo -c -f`, then print it
// (exit 0) or, with install, write /etc/sudoers.d/bridle (0440 root:root) atomically and check
// the whole sudo configuration again (restoring the previous drop-in if that fails).
int sudoers(const SudoersOptions& options);

}  // namespace bridle::admin
