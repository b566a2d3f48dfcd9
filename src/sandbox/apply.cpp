// SPDX-License-Identifier: Apache-2.0
// The sandbox as one sequence: plan (with the request), prepare (before fork), apply (in
// the child). apply() is the only place that orders the mechanisms.
#include "sandbox/sandbox.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/exec_once.hpp"
#include "sandbox/hide.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/namespaces.hpp"
#include "sandbox/seccomp.hpp"
#include "sandbox/seccomp_prebuilt.hpp"

namespace bridle::sandbox {
namespace {

bool has(const policy::SandboxProfile& profile, policy::SeccompProfile wanted) {
    return std::find(profile.seccomp.begin(), profile.seccomp.end(), wanted) !=
           profile.seccomp.end();
}

}  // namespace

std::string Plan::seccomp_text() const {
    std::string text;
    for (const policy::SeccompProfile p : profile.seccomp) {
        text += (text.empty() ? "" : ",") + std::string(policy::seccomp_profile_name(p));
    }
    return text.empty() ? "none" : text;
}

std::string Plan::landlock_text() const {
    switch (landlock) {
        case LandlockState::kApplied:
            return "abi-" + std::to_string(landlock_abi);
        case LandlockState::kUnavailable:
            return "unavailable";
        case LandlockState::kOff:
            return "off";
        case LandlockState::kNone:
        default:
            return "none";
    }
}

Plan plan(const policy::SandboxProfile& profile, policy::LandlockSetting setting, int abi) {
    Plan p;
    p.profile = profile;
    if (!profile.landlock) return p;
    if (setting == policy::LandlockSetting::kOff) {
        p.landlock = LandlockState::kOff;
    } else if (abi <= 0) {
        p.landlock = LandlockState::kUnavailable;
    } else {
        p.landlock = LandlockState::kApplied;
        p.landlock_abi = abi;
        return p;
    }
    if (profile.landlock->mode == policy::LandlockRules::Mode::kRequire) {
        p.refusal = "the rule's sandbox '" + profile.name + "' requires Landlock, which " +
                    (p.landlock == LandlockState::kOff
                         ? std::string("this host's policy turns off (settings.landlock: off)")
                         : std::string("this kernel does not provide"));
    }
    return p;
}

Plan plan_for_this_kernel(const policy::SandboxProfile& profile, policy::LandlockSetting setting) {
    const bool probe = profile.landlock && setting == policy::LandlockSetting::kAuto;
    Plan p = plan(profile, setting, probe ? landlock::abi_version() : 0);
    std::string why;
    if (p.refusal.empty() && profile.namespaces == policy::NamespaceMode::kRequire &&
        !namespaces::available(::geteuid() == 0, why)) {
        p.refusal = "the rule's sandbox '" + profile.name +
                    "' requires its own PID and IPC namespaces, which this host refuses (" + why +
                    "; user namespaces may be disabled: sysctl user.max_user_namespaces)";
    }
    return p;
}

Prepared::Prepared(Prepared&& other) noexcept {
    *this = std::move(other);
}

Prepared& Prepared::operator=(Prepared&& other) noexcept {
    if (this != &other) {
        if (landlock_ruleset >= 0) ::close(landlock_ruleset);
        limits = other.limits;
        limits_shared = other.limits_shared;
        namespaces = other.namespaces;
        max_processes = other.max_processes;
        processes_from_policy = other.processes_from_policy;
        umask = other.umask;
        no_new_privs = other.no_new_privs;
        landlock_ruleset = other.landlock_ruleset;
        other.landlock_ruleset = -1;
        wall = std::move(other.wall);
        ceiling = std::move(other.ceiling);
        filter = std::move(other.filter);
        exec_once = other.exec_once;
        exec_log = other.exec_log;
        hidden = std::move(other.hidden);
    }
    return *this;
}

Prepared::~Prepared() {
    if (landlock_ruleset >= 0) ::close(landlock_ruleset);
}

Result<Prepared> prepare(const Plan& plan) {
    const policy::SandboxProfile& profile = plan.profile;
    Prepared prepared;
    // The default bounds (model.hpp): memory for every process; the process count only where
    // it counts this request alone, inside its own user namespace.
    policy::ResourceLimits bounds = profile.limits;
    if (!bounds.address_space) bounds.address_space = policy::kDefaultAddressSpace;
    prepared.limits_shared = limits::plan_for_this_process(bounds);
    if (!bounds.processes) bounds.processes = policy::kDefaultProcesses;
    prepared.limits = limits::plan_for_this_process(bounds);
    prepared.namespaces = profile.namespaces;
    prepared.max_processes = *bounds.processes;
    prepared.processes_from_policy = profile.limits.processes.has_value();
    prepared.umask = static_cast<mode_t>(profile.umask.value_or(022));
    // The exec log uses exec-once's filter and listener; only bridle's answers differ.
    prepared.exec_once = profile.exec_once || profile.exec_log;
    prepared.exec_log = profile.exec_log;
    if (profile.namespaces != policy::NamespaceMode::kOff) {
        prepared.hidden = hide::directories(plan.hidden);
    }
    // The programs compiled at build time when they fit this machine, else compiled now
    // (seccomp_prebuilt.hpp); the two are the same program.
    const std::vector<std::uint32_t> arches =
        seccomp::architectures_for(seccomp::native_architecture());
    const std::vector<seccomp::SyscallRule> rules =
        seccomp::rules_for(profile.seccomp, prepared.exec_once);
    if (!rules.empty()) {
        if (auto prebuilt = seccomp::prebuilt::filter(seccomp::prebuilt::kTable, profile.seccomp,
                                                      prepared.exec_once)) {
            prepared.filter = std::move(*prebuilt);
        } else {
            Result<std::vector<sock_filter>> filter = seccomp::compile(rules, arches);
            if (!filter) return filter.error();
            prepared.filter = std::move(filter).value();
        }
    }
    if (has(profile, policy::SeccompProfile::kBaseline)) {
        auto prebuilt = seccomp::prebuilt::ceiling(seccomp::prebuilt::kTable);
        prepared.ceiling = prebuilt ? std::move(*prebuilt)
                                    : seccomp::ceiling_program(seccomp::ceilings_for(arches));
    }
    if (profile.namespaces != policy::NamespaceMode::kOff) {
        prepared.wall = seccomp::wall_program(arches);
    }
    if (plan.landlock == LandlockState::kApplied) {
        Result<int> ruleset = landlock::build_ruleset(*profile.landlock, plan.landlock_abi);
        if (!ruleset) return ruleset.error();
        prepared.landlock_ruleset = ruleset.value();
    }
    // Both Landlock and seccomp need it from an unprivileged process. Only a profile that
    // turns every mechanism off (namespaces included) leaves set-uid programs able to gain
    // privileges.
    prepared.no_new_privs = !prepared.filter.empty() || !prepared.ceiling.empty() ||
                            !prepared.wall.empty() || prepared.landlock_ruleset >= 0;
    return prepared;
}

// The order, and why:
// 1. Resource limits first: they must bind the command, and nothing later depends on them.
//    (open_files is at least 16 in the policy: the child holds a few fds, and the exec-once
//    listener below is one more.)
// 2. The umask, which execve keeps.
// 3. PR_SET_NO_NEW_PRIVS: an unprivileged process may only enter Landlock and load seccomp
//    filters with it, and from here on execve grants no privilege (set-uid, file
//    capabilities). Run-as (privilege/, through sudo) must therefore happen before it: a
//    run_as rule's forced command applies none of this; its target side, which sudo
//    started as the rule's user, applies all of it here (docs/privilege.md).
// 4. Landlock, which confines paths; it comes before seccomp so that no filter can deny the
//    landlock_* calls it needs.
// 5. seccomp last, since it cuts off system calls the steps above make: first the second
//    wall's two pidfd calls, then the ceiling (syscalls newer than libseccomp's tables ->
//    ENOSYS), then the profile filter. With
//    exec-once that filter creates a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)...
// 6. ...which goes to bridle over the socket. The child's next system call is execve, which
//    now waits until bridle lets this first one through (exec_once.cpp).
Stage apply(const Prepared& prepared, const ChildFds& fds) noexcept {
    if (limits::apply(fds.own_user_namespace ? prepared.limits : prepared.limits_shared) != 0) {
        return Stage::kLimits;
    }
    ::umask(prepared.umask);
    if (prepared.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return Stage::kNoNewPrivs;
    }
    if (prepared.landlock_ruleset >= 0) {
        if (landlock::restrict_self(fds.landlock_ruleset) != 0) return Stage::kLandlock;
        ::close(fds.landlock_ruleset);
    }
    if (!prepared.wall.empty() && seccomp::load(prepared.wall, 0) != 0) return Stage::kSeccomp;
    if (!prepared.ceiling.empty() && seccomp::load(prepared.ceiling, 0) != 0) {
        return Stage::kSeccomp;
    }
    if (prepared.filter.empty()) return Stage::kDone;
    const unsigned flags = prepared.exec_once ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    const int listener = seccomp::load(prepared.filter, flags);
    if (listener < 0) return Stage::kSeccomp;
    if (prepared.exec_once) {
        const int err = exec_once::send_listener(fds.exec_once_socket, listener);
        ::close(listener);
        ::close(fds.exec_once_socket);
        if (err != 0) {
            errno = err;  // what the child reports
            return Stage::kExecOnce;
        }
    }
    return Stage::kDone;
}

}  // namespace bridle::sandbox
