// SPDX-License-Identifier: Apache-2.0
// Builders for the two audit events: the decision (before anything runs) and the result.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.hpp"
#include "audit/capture.hpp"
#include "execution/runner.hpp"
#include "matching/matcher.hpp"

namespace bridle::audit {

// The sandbox an allowed request runs in (sandbox::Plan, in words).
struct SandboxInfo {
    std::string name;        // BRIDLE_SANDBOX: the profile
    std::string seccomp;     // BRIDLE_SECCOMP: "baseline,no-write" or "none"
    bool exec_once = false;  // BRIDLE_EXEC_ONCE: 1 or 0
    std::string landlock;    // BRIDLE_LANDLOCK: abi-N, unavailable, off or none
};

// What every record of one request repeats.
struct RequestInfo {
    std::string request_id;
    std::string raw;                     // the request as received (untrusted bytes)
    std::vector<std::string> argv;       // tokens, when the request parsed
    std::vector<std::string> exec_argv;  // BRIDLE_EXEC_ARGV (decision): what is exec'd, when
                                         // allowed (normal form, /dev/fd/N substitutions)
    std::vector<std::pair<std::string, std::string>> fd_paths;  // BRIDLE_FD_PATHS: /dev/fd/N
                                                                // -> the canonical path opened
    std::string key;
    std::string client;  // SSH_CONNECTION
    std::string session_id;
    std::string
        fanout_id;  // BRIDLE_FANOUT_ID: the fleet controller's fan-out, as the client sent it
    std::string front_end;
    std::string policy_sha256;
    std::string policy_cache;            // BRIDLE_POLICY_CACHE: Policy::cache, when not empty
    std::string run_as;                  // user name the command runs as
    std::optional<SandboxInfo> sandbox;  // once a rule (and so its sandbox) is known
    std::uint64_t timeout_ms = 0;        // an allowed rule's timeout: BRIDLE_TIMEOUT_MS in
                                         // the decision record (0: none)
    // run_as rules (privilege/): the user side records the sudo path and what sudo runs; the
    // target side records the sudo path and who called sudo (SUDO_USER).
    std::string sudo;                       // BRIDLE_SUDO: /usr/bin/sudo
    std::vector<std::string> sudo_command;  // BRIDLE_SUDO_COMMAND (JSON): bridle run-as ...
    std::string sudo_user;                  // BRIDLE_SUDO_USER
    std::string first_policy_sha256;        // BRIDLE_FIRST_POLICY_SHA256: the user side's, when
                                            // the target side found a different policy
    // A pipeline (docs/audit.md, PIPELINES): BRIDLE_STAGES, and BRIDLE_ARGV, BRIDLE_EXEC_ARGV
    // as arrays of the stages' arrays; the sandbox fields one per stage, joined by "|".
    std::vector<std::vector<std::string>> stage_argv;
    std::vector<std::vector<std::string>> stage_exec_argv;  // when allowed
    std::vector<SandboxInfo> stage_sandboxes;               // when allowed
    std::size_t denied_stage = 0;  // BRIDLE_DENIED_STAGE: the first denied stage, from 1
    // The result of a pipeline: each stage's status as `set -o pipefail` sees it (the exit
    // status, 128+N for a signal), BRIDLE_PIPESTATUS; and each stage's exec-once refusals
    // and containment.
    std::vector<int> pipestatus;
    std::vector<std::uint64_t> stage_exec_blocked;
    std::vector<std::string> stage_containment;
    // A validator's run (files): the put it checks, BRIDLE_PARENT_REQUEST_ID.
    std::string parent_request_id;
    // A file request's own fields (BRIDLE_FILE_*, docs/audit.md), already escaped by the gate.
    std::vector<std::pair<std::string, std::string>> fields;
    std::string task_id;  // BRIDLE_TASK_ID: the run of a task (`task start`)
};

// BRIDLE_RULE of the built-in `help` request (bridle answers it itself: no result record).
constexpr const char* kHelpRuleId = "builtin:help";

// Stored raw commands are escaped and cut at this many bytes; BRIDLE_COMMAND_BYTES keeps
// the original length.
constexpr std::size_t kMaxRecordedCommand = 8192;

// decision: "allow" or "deny" (a denial by policy, and every other refusal: unparsable, no
// usable policy, a login attempt). `rule_id` and `executable` may be empty.
Record decision_record(const RequestInfo& info, const std::string& decision,
                       const std::string& rule_id, const std::string& reason,
                       const std::string& executable = "");

// `capture`: the rule's output capture (capture.hpp), finished; nullptr when it has none.
// Adds BRIDLE_CAPTURE_BYTES (the limit), BRIDLE_STDOUT_SHA256, BRIDLE_STDERR_SHA256 and the
// escaped heads BRIDLE_STDOUT / BRIDLE_STDERR. `redacted`: the secrets replaced in what the
// client got, both streams (BRIDLE_REDACTED), when this side redacted the rule's output.
Record result_record(const RequestInfo& info, const std::string& rule_id,
                     const execution::Outcome& outcome, int exit_status,
                     const OutputCapture* capture = nullptr,
                     std::optional<std::uint64_t> redacted = std::nullopt);

// One step of an approval (docs/audit.md, APPROVALS): `step` is requested, approved (one
// approver's approval), rejected, consumed, expired, void or refused (an answer that did not
// count: a bad signature, not an approver, not pending), notified (approvals.notify ran), wait
// or waited (the agent's wait_for_approval started, ended), each with its own MESSAGE_ID
// (BRIDLE_EVENT approval-STEP). The approval's own fields (BRIDLE_APPROVAL_ID ...) come in
// info.fields; `summary` ends MESSAGE.
Record approval_record(const RequestInfo& info, const std::string& step, const std::string& rule_id,
                       const std::string& summary);

}  // namespace bridle::audit
