// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the policy loader (src/loader/loader.hpp), fed a YAML file. The text is read
// both as the main policy and as a policy.d fragment. A refusal must come with at least one
// located error; an accepted policy must be usable: every rule names an absolute program, has
// a synopsis, and can be matched against (a few requests are decided against it).

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"

using bridle::fuzz::check;

namespace {

void exercise(const bridle::policy::Policy& policy) {
    static const bridle::fuzz::FixtureResolver resolver;
    std::size_t tried = 0;
    for (const auto& rule : policy.rules) {
        if (++tried > 32) break;  // bounded: a huge generated policy must not time out
        check(!rule.command.empty() && rule.command[0] == '/', "a rule's command is absolute");
        check(!rule.name.empty(), "a rule has a name");
        check(!rule.id.empty(), "a rule has an id");
        (void)rule.synopsis();
        std::vector<std::string> argv{rule.name};
        for (const auto& arg : rule.args) {
            argv.push_back(arg.is_literal ? arg.literal : std::string("/var/log/syslog"));
        }
        for (const auto& option : rule.options) {
            if (option.required) argv.push_back(option.name() + (option.is_flag ? "" : "=1"));
        }
        const auto d = bridle::matching::decide(policy, argv, "fuzz", resolver);
        if (d.verdict == bridle::matching::Verdict::kAllow) {
            check(d.rule != nullptr && d.rule->name == rule.name, "an allow names its rule");
        } else {
            check(!d.reason.empty(), "a denial says why");
        }
    }
    (void)bridle::matching::allowed_synopses(policy, "fuzz");
}

void parse(std::string_view yaml, bool is_main) {
    bridle::policy::LoadReport report;
    auto policy = bridle::policy::parse_policy_text(yaml, "fuzz.yaml", is_main, report);
    if (!policy) {
        check(!report.errors.empty(), "a refused policy lists its errors");
        for (const auto& error : report.errors)
            check(!error.message.empty(), "every error says why");
        return;
    }
    check(report.errors.empty(), "an accepted policy has no errors");
    check(policy.value().sha256.size() == 64, "the policy hash is 64 hex digits");
    exercise(policy.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    parse(yaml, true);
    parse(yaml, false);
    return 0;
}
