// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the matcher (src/matching/matcher.hpp). The input is an argv, words separated
// by NUL bytes, decided against the shipped policy/default.yaml (loaded once) over a fixed
// in-memory file system. Checks: a denial says why and names no rule; an allow names the rule
// for argv[0], execs that rule's name, binds no value that starts with `-` unless the exec
// argv has a `--` before it (leading_dash: allow, issue 13), and the argv
// bridle would exec is itself allowed by the same rule (canonical forms are stable).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"

#ifndef BRIDLE_FUZZ_POLICY
#error "BRIDLE_FUZZ_POLICY must name the policy file the matcher is fuzzed against"
#endif

using bridle::fuzz::check;
using bridle::matching::Verdict;

namespace {

const bridle::policy::Policy& shipped_policy() {
    static const bridle::policy::Policy policy = [] {
        std::ifstream in(BRIDLE_FUZZ_POLICY, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        bridle::policy::LoadReport report;
        auto loaded =
            bridle::policy::parse_policy_text(text.str(), BRIDLE_FUZZ_POLICY, true, report);
        if (!loaded || loaded.value().rules.empty()) {
            std::fprintf(stderr, "fuzz_matcher: cannot load %s: %s\n", BRIDLE_FUZZ_POLICY,
                         loaded ? "no rules" : loaded.error().full().c_str());
            std::abort();
        }
        return std::move(loaded).value();
    }();
    return policy;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)shipped_policy();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bridle::fuzz::FixtureResolver resolver;
    const auto& policy = shipped_policy();

    std::vector<std::string> argv;
    if (size > 0) {
        const std::string bytes(reinterpret_cast<const char*>(data), size);
        std::size_t start = 0;
        for (;;) {
            const std::size_t nul = bytes.find('\0', start);
            argv.push_back(
                bytes.substr(start, nul == std::string::npos ? std::string::npos : nul - start));
            if (nul == std::string::npos) break;
            start = nul + 1;
        }
    }

    const auto d = bridle::matching::decide(policy, argv, "fuzz", resolver);
    if (d.verdict != Verdict::kAllow) {
        check(d.rule == nullptr, "a denial names no rule");
        check(!d.reason.empty(), "a denial says why");
        return 0;
    }
    check(d.rule != nullptr, "an allow names its rule");
    check(!argv.empty() && d.rule->name == argv[0], "the rule is for the program asked for");
    check(!d.exec_argv.empty() && d.exec_argv[0] == d.rule->name, "bridle execs the rule's name");
    const auto double_dash = std::find(d.exec_argv.begin(), d.exec_argv.end(), "--");
    for (const auto& binding : d.bindings) {
        check(!binding.value.empty(), "no bound value is empty");
        if (binding.value[0] == '-') {
            check(double_dash != d.exec_argv.end() && std::find(double_dash + 1, d.exec_argv.end(),
                                                                binding.value) != d.exec_argv.end(),
                  "a bound value that starts with - is passed only after --");
        }
    }
    const auto again = bridle::matching::decide(policy, d.exec_argv, "fuzz", resolver);
    check(again.verdict == Verdict::kAllow && again.rule == d.rule,
          "the argv bridle execs is allowed by the same rule");
    check(again.exec_argv == d.exec_argv, "the exec argv is already canonical");
    return 0;
}
