// SPDX-License-Identifier: Apache-2.0
// Internal to execution/: a started stage as the runner tracks it, and how its end becomes the
// stage's Outcome (its exit status or signal, and what supervision noticed on the way).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "execution/kept_init.hpp"
#include "execution/runner.hpp"
#include "os/fd.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/exec_once.hpp"

namespace bridle::execution::detail {

struct Tracked {
    Outcome* outcome = nullptr;
    pid_t pid = -1;  // the command, or the request's init; either way its process group
    os::UniqueFd pid_fd;
    std::unique_ptr<sandbox::exec_once::Supervisor> exec_once;
    bool watch_exec_once = false;
    os::UniqueFd lifeline, report;                 // under the request's init
    std::optional<sandbox::cgroup::Group> cgroup;  // removed last, once the request is gone
    // Under the process's kept init (`pid` is then the init's, which outlives the request):
    // the init (nullptr once it was ended) and the request's number there.
    bool under_kept = false;
    KeptInit* kept = nullptr;
    std::uint64_t call = 0;
    bool exited = false, reaped = false;
};

// Appends to the outcome's supervision_error. Never throws: out of memory, the outcome's
// flags still tell the story.
void add_note(Outcome& outcome, const std::string& text) noexcept;

// The stage's main child exited (`info` from waitid). Under the request's init, `info` is the
// init's, and the command's status is what the init reported before it exited.
void record_exit(Tracked& t, const siginfo_t& info);

// The kept init reported the request done (KeptInit's done report).
void record_kept_exit(Tracked& t, int status, KeptEnd end);

// The kept init is gone or broken: it is ended with everything in its namespaces, and the
// request counts as killed.
void gone_kept(Tracked& t) noexcept;

}  // namespace bridle::execution::detail
