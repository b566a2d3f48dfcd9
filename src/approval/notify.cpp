// SPDX-License-Identifier: Apache-2.0
// The notify program (notify.hpp), as an auxiliary program with a deadline.
#include "approval/notify.hpp"

#include "execution/auxiliary.hpp"

namespace bridle::approval {

std::string run_notify(const std::vector<std::string>& argv, const std::vector<std::string>& words,
                       std::chrono::milliseconds timeout) {
    if (argv.empty()) return "";
    execution::AuxSpec spec;
    spec.path = argv.front();
    spec.argv = argv;
    spec.argv.insert(spec.argv.end(), words.begin(), words.end());
    spec.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"LANG", "C.UTF-8"}};
    spec.stdout_to = execution::AuxOutput::kDiscard;
    spec.stderr_to = execution::AuxOutput::kDiscard;
    spec.deadline = timeout;
    const Result<execution::AuxResult> ran = execution::run_auxiliary(spec);
    if (!ran) return ran.error().message;
    if (ran.value().timed_out) {
        return "killed after " + std::to_string(timeout.count()) + " ms (approvals.notify_timeout)";
    }
    if (ran.value().signal != 0) return "killed by signal " + std::to_string(ran.value().signal);
    if (ran.value().exit_status != 0) {
        return "exit status " + std::to_string(ran.value().exit_status);
    }
    return "";
}

}  // namespace bridle::approval
