// SPDX-License-Identifier: Apache-2.0
// The sandbox's cost (tests/bench/sandbox.sh): /bin/true started N times through
// execution::run, unsandboxed and in each sandbox, round-robin so that drift hits every
// variant alike; plus prepare() alone (building the BPF programs with libseccomp). Prints one
// line per variant: name, median and p90 microseconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "execution/runner.hpp"
#include "sandbox/sandbox.hpp"

namespace {

using namespace bridle;
using Clock = std::chrono::steady_clock;

struct Variant {
    std::string name;
    std::optional<policy::SandboxProfile> profile;  // nullopt: no sandbox
    bool run = true;                                // false: prepare() only
    std::vector<double> micros;
};

policy::SandboxProfile profile(std::vector<policy::SeccompProfile> seccomp, bool exec_once,
                               bool landlock,
                               policy::NamespaceMode namespaces = policy::NamespaceMode::kPrefer) {
    policy::SandboxProfile p = policy::builtin_baseline_sandbox();
    p.seccomp = std::move(seccomp);
    p.exec_once = exec_once;
    p.namespaces = namespaces;
    if (landlock) {
        p.landlock = policy::LandlockRules{};
        p.landlock->write = std::vector<std::string>{};
    }
    return p;
}

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
    using S = policy::SeccompProfile;
    const std::vector<S> all = {S::kBaseline, S::kNoNetwork, S::kNoWrite};
    std::vector<Variant> variants = {
        {"unsandboxed", std::nullopt, true, {}},
        {"baseline, no exec-once", profile({S::kBaseline}, false, false), true, {}},
        // The second wall's cost: the same sandbox without the init and its namespaces (as
        // every request ran before issue 12) next to the default.
        {"baseline + exec-once, namespaces off",
         profile({S::kBaseline}, true, false, policy::NamespaceMode::kOff),
         true,
         {}},
        {"baseline + exec-once (default)", profile({S::kBaseline}, true, false), true, {}},
        {"all three + exec-once", profile(all, true, false), true, {}},
        {"all three + exec-once + Landlock", profile(all, true, true), true, {}},
        {"prepare() only, all three + exec-once", profile(all, true, false), false, {}},
    };
    execution::Spec spec;
    spec.path = "/bin/true";
    spec.argv = {"true"};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    for (int round = -10; round < runs; ++round) {  // 10 warm-up rounds
        for (Variant& v : variants) {
            const Clock::time_point start = Clock::now();
            std::optional<sandbox::Prepared> prepared;
            if (v.profile) {
                auto built = sandbox::prepare(
                    sandbox::plan_for_this_kernel(*v.profile, policy::LandlockSetting::kAuto));
                if (!built) {
                    std::fprintf(stderr, "%s: %s\n", v.name.c_str(), built.error().full().c_str());
                    return 1;
                }
                prepared = std::move(built).value();
            }
            if (v.run) {
                spec.sandbox = prepared ? &*prepared : nullptr;
                const execution::Outcome o = execution::run(spec, nullptr);
                if (!o.started || o.exit_status != 0) {
                    std::fprintf(stderr, "%s: /bin/true failed: %s\n", v.name.c_str(),
                                 o.error.c_str());
                    return 1;
                }
            }
            const double us =
                std::chrono::duration<double, std::micro>(Clock::now() - start).count();
            if (round >= 0) v.micros.push_back(us);
        }
    }
    for (const Variant& v : variants) {
        std::printf("%s\t%.0f\t%.0f\n", v.name.c_str(), percentile(v.micros, 0.5),
                    percentile(v.micros, 0.9));
    }
    return 0;
}
