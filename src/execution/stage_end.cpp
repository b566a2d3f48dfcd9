// SPDX-License-Identifier: Apache-2.0
#include "execution/stage_end.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "execution/init.hpp"

namespace bridle::execution::detail {
namespace {

// Without a report the init was killed (by bridle, after the grace: SIGKILL, as the command
// would have been) or ended the request itself.
void record_init_exit(Tracked& t, const siginfo_t& info) {
    Outcome& o = *t.outcome;
    int status = 0;
    if (::read(t.report.get(), &status, sizeof status) == static_cast<ssize_t>(sizeof status)) {
        if (WIFEXITED(status)) o.exit_status = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
        return;
    }
    if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
        o.signal = info.si_status;
    } else if (info.si_code == CLD_EXITED && info.si_status == kInitBackstop) {
        o.timed_out = true;
        o.signal = SIGKILL;
        add_note(o, "the request's init ended it at its own deadline (bridle did not)");
    } else {
        o.signal = SIGKILL;
        add_note(o, "the request's init ended without the command's status (" +
                        std::to_string(info.si_status) + ")");
    }
}

}  // namespace

void add_note(Outcome& outcome, const std::string& text) noexcept {
    std::string& error = outcome.supervision_error;
    try {
        if (!error.empty()) error += "; ";
        error += text;
    } catch (...) {  // out of memory: the outcome flags still tell the story
    }
}

void record_exit(Tracked& t, const siginfo_t& info) {
    t.exited = true;
    Outcome& o = *t.outcome;
    if (t.report.get() >= 0) return record_init_exit(t, info);
    if (info.si_code == CLD_EXITED) {
        o.exit_status = info.si_status;
    } else if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
        o.signal = info.si_status;
    }
}

void record_kept_exit(Tracked& t, int status, KeptEnd end) {
    t.exited = t.reaped = true;  // the init reaped it, and everything else of the request
    Outcome& o = *t.outcome;
    if (end == KeptEnd::kExited) {
        if (WIFEXITED(status)) o.exit_status = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
        return;
    }
    o.signal = SIGKILL;
    if (end == KeptEnd::kBackstop) {
        o.timed_out = true;
        add_note(o, "the request's init ended it at its own deadline (bridle did not)");
    } else {
        add_note(o, "the request's init ended without the command's status");
    }
}

void gone_kept(Tracked& t) noexcept {
    KeptInit::retire();
    t.kept = nullptr;
    t.exited = t.reaped = true;
    t.outcome->signal = SIGKILL;
}

}  // namespace bridle::execution::detail
