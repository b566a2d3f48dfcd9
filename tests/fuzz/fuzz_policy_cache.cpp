// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the compiled policy cache's reader (src/loader/cache_codec.hpp). The input is
// read as a cache body, which must decode to a policy or be refused with a reason; a decoded
// policy encodes back to bytes that decode to the same encoding, and can be decided against.
// The input is also read as a YAML policy (the seeds are the policy target's): a policy that
// loads must survive the round trip exactly, and its encoding, cut short and with bytes
// flipped at places the input picks, must be decoded or refused, never crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "loader/cache_codec.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"

using bridle::fuzz::check;
namespace cache = bridle::policy::cache;

namespace {

void exercise(const bridle::policy::Policy& policy) {
    static const bridle::fuzz::FixtureResolver resolver;
    std::size_t tried = 0;
    for (const auto& rule : policy.rules) {
        if (++tried > 16) break;
        std::vector<std::string> argv{rule.name};
        for (const auto& arg : rule.args) argv.push_back(arg.is_literal ? arg.literal : "x.log");
        const auto d = bridle::matching::decide(policy, argv, "fuzz", resolver);
        check(d.verdict != bridle::matching::Verdict::kAllow || d.rule != nullptr,
              "an allow names its rule");
    }
}

// Decodes `bytes`: a refusal says why; a policy re-encodes to a fixed point.
void decode(std::string_view bytes) {
    std::vector<bridle::Error> warnings;
    auto decoded = cache::decode_policy(bytes, warnings);
    if (!decoded) {
        check(!decoded.error().message.empty(), "a refusal says why");
        check(warnings.empty(), "a refusal adds no warnings");
        return;
    }
    const std::string again = cache::encode_policy(decoded.value(), warnings);
    std::vector<bridle::Error> warnings2;
    auto twice = cache::decode_policy(again, warnings2);
    check(twice.ok(), "an encoded policy decodes");
    check(cache::encode_policy(twice.value(), warnings2) == again, "the encoding is a fixed point");
    exercise(decoded.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    decode(input);

    bridle::policy::LoadReport report;
    auto policy = bridle::policy::parse_policy_text(input, "fuzz.yaml", true, report);
    if (!policy) return 0;
    const std::string bytes = cache::encode_policy(policy.value(), report.warnings);
    std::vector<bridle::Error> warnings;
    auto decoded = cache::decode_policy(bytes, warnings);
    check(decoded.ok(), "a loaded policy decodes from its encoding");
    check(cache::encode_policy(decoded.value(), warnings) == bytes, "the round trip is exact");
    // Damage picked by the input's bytes: at most 16 cuts and 16 flips, each decoded once.
    for (std::size_t i = 0; i < 16 && i < size && !bytes.empty(); ++i) {
        const std::size_t at = (static_cast<std::size_t>(data[i]) * 2654435761u + i) % bytes.size();
        decode(std::string_view(bytes).substr(0, at));
        std::string flipped = bytes;
        flipped[at] = static_cast<char>(flipped[at] ^ (data[size - 1 - i] | 1));
        decode(flipped);
    }
    return 0;
}
