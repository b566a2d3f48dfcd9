// SPDX-License-Identifier: Apache-2.0
// The pipeline every front end calls: tokenize -> decide -> audit -> run -> audit.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.hpp"
#include "common/exit_code.hpp"
#include "execution/runner.hpp"
#include "files/files.hpp"
#include "gate/confined_open.hpp"
#include "matching/matcher.hpp"
#include "os/fd.hpp"
#include "policy/model.hpp"
#include "privilege/invoke.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::gate {

// The content of a `put`, as the front end received it: read up to a bound, and complete only
// when the client ended it (EOF on a channel that is still there, or a whole JSON value).
struct Upload {
    std::string bytes;
    bool complete = false;
    std::string problem;  // why not complete: "the connection closed after 120 bytes"
};
// Reads the upload, at most `max_bytes` + 1 bytes (one more tells "too large" from "exactly"),
// within `timeout` (the files entry's).
using UploadReader =
    std::function<Upload(std::uint64_t max_bytes, std::chrono::milliseconds timeout)>;

// One request, as a front end received it.
struct Request {
    std::string text;                              // the raw request (SSH_ORIGINAL_COMMAND)
    std::optional<std::vector<std::string>> argv;  // set when the client sent argv directly
    std::optional<std::vector<std::vector<std::string>>> pipeline;  // or a pipeline's stages
                                                                    // (MCP's `pipeline`)
    std::string key;                   // --key NAME from authorized_keys
    std::string client;                // SSH_CONNECTION, or empty
    std::string session_id;            // ties the requests of one session
    std::string fanout_id;             // the fleet controller's fan-out (MCP _meta): recorded
                                       // as BRIDLE_FANOUT_ID, never used for a decision
    std::string front_end = "forced";  // forced | login-shell | mcp | explain | sudo
    std::string run_as;                // the user commands run as (for the record)
    std::string request_id;            // empty: a fresh one (the target side of a
                                       // run_as rule continues the user side's)
    std::string sudo_user;             // target side: who called sudo (SUDO_USER)
    std::optional<std::chrono::milliseconds> timeout;  // the client's own, shorter timeout (MCP);
                                                       // never lengthens the rule's
    // The target side of a run_as rule (front_end kTargetFrontEnd): the rule the request
    // was sent for, once known. The request is the user side's normal form of that rule,
    // re-checked under a policy of it alone; one not in the normal form is denied.
    std::string target_rule;
    UploadReader upload;            // a put's content; unset: a put is refused (the front end
                                    // has no way to receive one)
    std::string parent_request_id;  // a validator's run: the put it checks (its records say so)
    std::string task_id;            // a task's run (`task start`, task_gate.cpp): BRIDLE_TASK_ID
    std::vector<int> detach_close_fds;  // the front end's own descriptors (an MCP worker's
                                        // pipes) that a task's detached supervisor closes,
                                        // so that the front end sees them end with the call
};

// The front end of the target side of a run_as rule (target/, started by sudo): no built-in
// `help`; its records say the request came through sudo.
constexpr const char* kTargetFrontEnd = "sudo";

// What became of a request. Front ends report from this, never by combining other fields.
enum class Kind {
    kUnparsable,  // not one command bridle can read (the tokenizer, the word rules, the size
                  // limits): nothing was decided
    kHelp,        // the built-in `help`: `message` is its text, for the client's stdout
    kDenied,      // decided and refused: by the policy, by the sandbox, privilege or file
                  // plan of an allowed rule, or by a front end before the policy could decide
    kAllowed,     // decided and allowed, nothing run: `explain` only
    kUnaudited,   // the decision record could not be written: nothing ran
    kRan,         // the command's run was attempted; `outcome` says how it went
    kPending,     // decided for a rule with approval: no approval of this exact request yet,
                  // so nothing ran; `approval` says which request waits (exit 75)
};

// "unparsable", "help", "denied", "allowed", "unaudited", "ran"; and back.
const char* kind_name(Kind kind);
std::optional<Kind> kind_from_name(std::string_view name);

// What a file request (get, put, versions, restore: gate/file_gate.cpp) did, for the front
// end's structured result. Set once the request was decided.
struct FileOutcome {
    std::string verb;                    // get | put | versions | restore
    std::string entry;                   // the files entry that decided it
    std::string path;                    // canonical
    std::string status = "error";        // ok | denied | refused | failed | then-failed | error
    std::string old_sha256;              // put, restore: before ("" when there was no file)
    std::string new_sha256;              // put, restore: after ("" when removed)
    std::uint64_t size = 0;              // put, restore: bytes written; get: the file's size
    std::uint64_t offset = 0, sent = 0;  // get: where the bytes sent start, how many
    std::uint64_t limit = 0;             // get: the most that was asked for
    bool size_known = true;              // get through sudo: the target side knows the size
    std::uint32_t kept_version = 0;      // put, restore: the version that holds the old content
    bool created = false, removed = false;
    std::string diff;                      // put, restore: the rule's bounded diff (diff: true)
    std::string validator;                 // its rule id, when it ran
    int validator_status = -1;             // its exit status (-1: did not run)
    std::string then;                      // the rule --then named, run after the write
    int then_status = -1;                  // its exit status (-1: did not run)
    std::vector<files::Version> versions;  // versions
};

// A request's approval (a rule with `approval:`; docs/approvals.md), for the client.
struct ApprovalInfo {
    std::string id;                      // the approval id (the asking request's id)
    std::string code;                    // the short code derived from the digest
    std::string state;                   // pending, approved, rejected, consumed, expired, void
    std::int64_t expires = 0;            // Unix time
    std::vector<std::string> approvers;  // who may approve
    std::uint32_t required = 1;          // how many must
    std::uint32_t approvals = 0;         // how many have
};

// What happened, for the front end to report.
struct Response {
    Kind kind = Kind::kUnparsable;
    int exit_status = to_int(ExitCode::kSoftware);
    std::string request_id;
    matching::Decision decision;
    std::optional<sandbox::Plan> sandbox;     // an allowed rule's sandbox (also when it refused)
    execution::Outcome outcome;               // kRan
    std::string message;                      // bridle's own words for the client (kHelp: the text)
    std::optional<privilege::SudoCall> sudo;  // a run_as rule that switches user: what runs
                                              // instead of the rule's program (privilege/)
    std::shared_ptr<OpenedFiles> opened;      // the `open: fd` paths of an allowed rule,
                                              // open until the command has run (explain
                                              // closes them before it returns)
    // A pipeline (two stages or more; empty for one command): each stage decided (and run) as
    // a request of its own would be, in order. The response itself then reports the whole:
    // `decision` is the first denied stage's (its reason names the stage), or the last
    // stage's when every stage is allowed; `outcome` is the pipeline's (outcome_of_pipeline).
    std::vector<Response> stages;
    std::optional<FileOutcome> file;  // a file request's outcome
    // `task start`: the detached supervisor's pid. A front end that reaps and kills the
    // orphans that reach it (the MCP session, a subreaper) leaves this one alone.
    int detached_pid = -1;
    // A rule with approval: the request that waits (kPending), or the approval it consumed
    // (kRan), or the one that refused it (kDenied).
    std::optional<ApprovalInfo> approval;
};

struct Context {
    const policy::Policy& policy;
    audit::Sink& audit;
    const matching::PathResolver& resolver;
    std::string state_dir = files::kStateDir;  // where a files entry's versions are kept
};

// Tokenize and decide; no audit, nothing runs (`bridle explain`, MCP check_command).
Response explain(const Context& context, const Request& request);

// The whole pipeline. Audits the decision before anything runs (an audit failure denies),
// runs an allowed command with its output going to `sink`, and audits the result.
Response handle(const Context& context, const Request& request, const execution::OutputSink& sink,
                const std::vector<int>& hangup_fds);

// The key's guardrails (settings.guardrails; gate/guard_gate.cpp): a front end calls this once
// per request before handle(). nullopt: go on, holding `slot` (one of the key's concurrent
// slots, or none) until the request has ended. Otherwise the refusal, audited (a deny record
// whose reason names the limit): exit 75 with the time to retry, or 69 when the key's counts
// cannot be kept (fail closed).
std::optional<Response> admit(const Context& context, const Request& request, os::UniqueFd& slot);

// A request a front end turns away before the pipeline can decide it: no usable policy, an
// invalid --key, a login attempt, a target side whose checks of sudo's hand-over fail.
struct Refusal {
    ExitCode code = ExitCode::kNoPerm;
    std::string reason;               // BRIDLE_REASON
    std::string text;                 // what the client is told; empty: "bridle: denied:
                                      // REASON" and "bridle: nothing was run"
    std::string rule_id;              // the policy's rule it concerns, if any
    std::string policy_sha256;        // the policy in force, once one was read
    std::string first_policy_sha256;  // the target side: the user side's, when they differ
};

// The one refusal path of every front end: a deny record (to `sink`), and a kDenied response
// whose message is the refusal's text, followed by the audit error when the record could not
// be written. Nothing runs.
Response refuse(audit::Sink& sink, const Request& request, const Refusal& refusal);

// The rule that decided the request; a pipeline's, one per stage joined by "|" ("-" for a
// stage no rule allowed): BRIDLE_RULE. Inline: the session's tools, fuzzed without the gate,
// report it too.
inline std::string rule_ids(const Response& r) {
    if (r.stages.empty()) return r.decision.rule_id();
    std::string ids;
    for (const Response& s : r.stages) {
        ids +=
            (ids.empty() ? "" : "|") + (s.decision.rule ? s.decision.rule->id : std::string("-"));
    }
    return ids;
}

// A put's content from `fd` (gate/upload.cpp): read until EOF, at most `max_bytes` + 1 bytes,
// within `timeout`; complete only at an EOF after which none of `hangup_fds` (the channel's
// stdout and stderr) has hung up: a lost connection is a cut upload, never a short file.
Upload read_upload(int fd, std::uint64_t max_bytes, std::chrono::milliseconds timeout,
                   const std::vector<int>& hangup_fds);

// The text of the built-in `help` request: what this key may run.
std::string help_text(const policy::Policy& policy, const std::string& key);

// A fresh 128-bit random id, 32 hex digits.
std::string new_request_id();

}  // namespace bridle::gate
