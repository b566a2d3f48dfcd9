// SPDX-License-Identifier: Apache-2.0
// The sandbox of one command: decided with the request (plan), built before fork (prepare),
// entered in the child just before execve (apply). One header for the mechanisms in
// seccomp.cpp (with seccomp_profiles.cpp), exec_once.cpp, landlock.cpp and limits.cpp;
// apply.cpp orders them.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"
#include "sandbox/limits.hpp"

namespace bridle::sandbox {

// What Landlock does for a request. kNone: its profile has no landlock section; kOff:
// settings.landlock is off; kUnavailable: the kernel has no Landlock; kApplied: confined.
enum class LandlockState { kNone, kOff, kUnavailable, kApplied };

// The sandbox a request runs in, decided before its decision record.
struct Plan {
    policy::SandboxProfile profile;
    LandlockState landlock = LandlockState::kNone;
    int landlock_abi = 0;             // kApplied: the kernel's ABI version
    std::string refusal;              // not empty: the request must be denied, for this reason
    std::vector<std::string> hidden;  // bridle's state directories: hidden from the command
                                      // (hide.hpp) where it gets its own namespaces

    std::string seccomp_text() const;   // "baseline,no-write", or "none"
    std::string landlock_text() const;  // "abi-7", "unavailable", "off" or "none"
};

// `abi` is landlock::abi_version() (0: none); ignored when `setting` is off. Pure.
Plan plan(const policy::SandboxProfile& profile, policy::LandlockSetting setting, int abi);

// plan() with the running kernel's Landlock, and for `namespaces: require` a refusal when this
// process cannot create the request's namespaces (namespaces::available).
Plan plan_for_this_kernel(const policy::SandboxProfile& profile, policy::LandlockSetting setting);

// Everything the child needs, built before fork so that the child only makes system calls.
// Owns the Landlock ruleset fd.
struct Prepared {
    limits::Plan limits;         // inside the request's user namespace (the defaults of
                                 // model.hpp included: processes then counts the request)
    limits::Plan limits_shared;  // elsewhere: processes only where the policy sets it
    policy::NamespaceMode namespaces = policy::NamespaceMode::kOff;
    std::uint64_t max_processes = 0;     // the per-request cap: RLIMIT_NPROC in the user
                                         // namespace, pids.max of a root command's cgroup
    bool processes_from_policy = false;  // the profile's limits set processes
    mode_t umask = 022;
    bool no_new_privs = false;
    int landlock_ruleset = -1;         // close-on-exec; -1 without Landlock
    std::vector<sock_filter> wall;     // seccomp::wall_program; empty with namespaces: off
    std::vector<sock_filter> ceiling;  // newer syscalls -> ENOSYS; empty without baseline
    std::vector<sock_filter> filter;   // the profiles' filter; empty without any
    bool exec_once = false;            // `filter` notifies on execve: pass its listener
    bool exec_log = false;             // ...whose later execs are let through and recorded
                                       // (exec_log), rather than refused (exec-once)
    std::vector<std::string> hidden;   // hide::directories(Plan::hidden): under the request's
                                       // init, each is an empty read-only tmpfs for the command

    Prepared() = default;
    Prepared(Prepared&& other) noexcept;
    Prepared& operator=(Prepared&& other) noexcept;
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;
    ~Prepared();
};

// Builds the BPF programs (libseccomp) and the Landlock ruleset for `plan` (which must
// have no refusal). Before fork.
Result<Prepared> prepare(const Plan& plan);

// The child's fds that apply() uses; the child moves them above 2 and keeps them open.
struct ChildFds {
    int landlock_ruleset = -1;
    int exec_once_socket = -1;  // where the exec-once listener goes (exec_once::send_listener)
    bool own_user_namespace = false;  // the child runs in the request's user namespace
};

// The step of apply() that failed.
enum class Stage { kDone, kLimits, kNoNewPrivs, kLandlock, kSeccomp, kExecOnce };

// In the child, after its fds and directory are set up, right before execve: enters the
// sandbox in the one safe order (apply.cpp explains it). kDone, or the failed stage with
// errno set; the child must then exit without exec'ing. Async-signal-safe.
Stage apply(const Prepared& prepared, const ChildFds& fds) noexcept;

}  // namespace bridle::sandbox
