// SPDX-License-Identifier: Apache-2.0
// Internal to gate/: an allowed file request carried out in this process, as the user it runs
// as (the forced command's account, or the files entry's run_as on the target side).
#pragma once

#include <string>
#include <vector>

#include "gate/gate.hpp"
#include "matching/file_match.hpp"

namespace bridle::gate::detail {

// Decided and recorded, still to do: `run` fills r.file, r.exit_status and r.message.
struct FileOps {
    const Context& context;
    const Request& request;
    const matching::FileDecision& d;
    const execution::OutputSink& sink;
    const std::vector<int>& hangup_fds;
    const std::string& request_id;

    void run(const std::string& content, Response& r) const;

  private:
    void get(Response& r) const;
    void list_versions(Response& r) const;
    // put (content) and restore (a kept version): staged, validated, the old content kept,
    // renamed into place.
    void replace(const std::string* content, Response& r) const;
    // The entry's validator on the staged file; its exit status, or -1 when it did not run.
    int validate(const std::string& staged, Response& r) const;
    // A rule of the policy run by bridle for this request (the validator with `value`, a
    // `then` rule without): decided alone, audited with BRIDLE_FRONT_END `front_end` and this
    // request as its parent, its output to the client's stderr. Its exit status, or -1.
    int run_rule(const std::string& id, const std::string* value, const char* front_end,
                 Response& r) const;
};

// decide_file (file_gate.cpp): the verdict of a file request and its FileOutcome's first fields.
bool is_file_request(const Context& context, const Request& request,
                     const std::vector<std::string>& argv);
matching::FileDecision decide_file(const Context& context, const Request& request,
                                   const std::vector<std::string>& argv, Response& r);
Response handle_file(const Context& context, const Request& request, Response r,
                     const std::vector<std::string>& argv, const execution::OutputSink& sink,
                     const std::vector<int>& hangup_fds);

}  // namespace bridle::gate::detail
