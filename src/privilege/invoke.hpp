// SPDX-License-Identifier: Apache-2.0
// The user side of a run_as rule: whether the rule needs a user switch, and the sudo command
// line that hands the request to bridle's target side. Nothing here switches users: sudo does.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "matching/matcher.hpp"
#include "policy/model.hpp"

namespace bridle::privilege {

// true when `rule` runs as a user other than the one bridle runs as (its run_as user must
// exist); false for a rule without run_as, or whose run_as is bridle's own account.
Result<bool> needs_switch(const policy::Rule& rule);
Result<bool> needs_switch(const std::string& run_as, const std::string& source);

// This bridle's own path (/proc/self/exe; bridle, beside it, for bridle-full): the target side
// is started as this binary, and `bridle sudoers` writes it into the drop-in unless told
// otherwise.
Result<std::string> own_executable();

// What the user side executes instead of the rule's program: no sandbox before sudo (sudo
// refuses to run under no_new_privs, which an unprivileged seccomp filter needs); the target
// side applies the whole sandbox after the switch.
struct SudoCall {
    std::string user;                         // the rule's run_as
    std::vector<std::string> argv;            // argv[0] "sudo"; executed as kSudo
    std::vector<std::string> target_command;  // what sudo runs: bridle run-as ... (for the record)
    std::map<std::string, std::string> env;   // the whole environment sudo starts with
};

// The target side's command line for one allowed request (sudoers must list it exactly, or
// list `bridle run-as [--policy FILE] RULE` for an open rule):
//   BRIDLE run-as [--policy FILE] RULE -- NORMAL-FORM...      (exact form)
//   BRIDLE run-as [--policy FILE] RULE                         (open form; BRIDLE_ARGV)
std::vector<std::string> target_command(const std::string& bridle, const std::string& policy_file,
                                        const policy::Rule& rule,
                                        const std::vector<std::string>& normal);

SudoCall sudo_call(const policy::Rule& rule, const matching::Decision& decision,
                   const std::string& bridle, const std::string& policy_file,
                   const std::string& request_id, const std::string& policy_sha256);

// A files entry with run_as: always the open form, `BRIDLE run-as [--policy FILE] ID`, with
// the request's normal form (matching/file_match.hpp) in BRIDLE_ARGV; a put's content follows
// on sudo's stdin, exactly as many bytes as its --size says.
std::vector<std::string> target_command(const std::string& bridle, const std::string& policy_file,
                                        const policy::FileRule& rule);
SudoCall sudo_call(const policy::FileRule& rule, const std::vector<std::string>& normal,
                   const std::string& bridle, const std::string& policy_file,
                   const std::string& request_id, const std::string& policy_sha256);

// What the user side allows the sudo process itself: a backstop a little beyond the target
// side's limits, since the target side enforces the rule's timeout (killing the command at
// timeout + kill_grace) and its output cap after the switch, and reports the result.
std::chrono::milliseconds backstop_timeout(std::chrono::milliseconds timeout,
                                           std::chrono::milliseconds kill_grace);
std::uint64_t backstop_output(std::uint64_t max_output);

}  // namespace bridle::privilege
