// SPDX-License-Identifier: Apache-2.0
// Policy scaling benchmark (issue 8): the cost of loading a policy of N rules and of deciding
// one request against it, for N = 10, 100, 1,000, 10,000. tests/bench/run.sh runs it and
// turns its output into the table in docs/benchmarks.md; it is not a ctest test.
//
// Two shapes of generated policy, each rule with options and a typed argument like the
// shipped ones:
//   spread  every rule is for a different program (tool0 ... toolN-1): a large fleet policy
//   same    every rule is for the same program (systemctl verb0 ... verbN-1): the worst case
//           for an index by program, every rule is a candidate
// Requests:
//   allow   matched by the LAST rule (a linear scan pays for every rule before it)
//   deny    no rule matches (spread: an unknown program; same: an unknown verb, so every
//           candidate is tried and the denial lists the nearest usages)
//
// usage: bench_policy [--sizes 10,100,1000,10000] [--min-ms 300] [--callgrind SHAPE:N]
// Prints one line per shape and size:
//   shape=spread rules=10 load_ms=0.41 allow_us=1.2 deny_us=0.9 load_runs=.. decide_runs=..
// (medians over repeated runs, each run at least --min-ms of total time per measurement).
// --callgrind SHAPE:N loads once and decides 100 times, for `valgrind --tool=callgrind`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "loader/loader.hpp"
#include "matching/matcher.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Matching never reaches the file system in these requests; a resolver that finds nothing.
class NoFiles final : public bridle::matching::PathResolver {
  public:
    std::optional<Resolved> resolve(const std::string&, std::string& why) const override {
        why = "does not exist";
        return std::nullopt;
    }
};

std::string make_policy(const std::string& shape, int rules) {
    std::string yaml = "version: 1\nsettings:\n  timeout: 30s\nrules:\n";
    for (int i = 0; i < rules; ++i) {
        const std::string n = std::to_string(i);
        yaml += "  - id: r" + n + "\n    summary: Generated rule " + n + "\n";
        if (shape == "spread") {
            yaml += "    command: /opt/bench/bin/tool" + n +
                    "\n    args: [status, {name: unit, regex: "
                    "'[a-z][a-z0-9-]{0,31}'}]\n";
        } else {
            yaml += "    command: /usr/bin/systemctl\n    args: [verb" + n +
                    ", {name: unit, regex: '[a-z][a-z0-9-]{0,31}'}]\n";
        }
        yaml +=
            "    options:\n      \"-n|--lines\": {int: [1, 1000]}\n      \"--no-pager\": flag\n";
    }
    return yaml;
}

std::vector<std::string> allow_request(const std::string& shape, int rules) {
    const std::string last = std::to_string(rules - 1);
    if (shape == "spread") return {"tool" + last, "status", "nginx", "-n", "5", "--no-pager"};
    return {"systemctl", "verb" + last, "nginx", "-n", "5", "--no-pager"};
}

std::vector<std::string> deny_request(const std::string& shape) {
    if (shape == "spread") return {"nosuchtool", "status", "nginx"};
    return {"systemctl", "nosuchverb", "nginx"};
}

bridle::policy::Policy load(const std::string& yaml) {
    bridle::policy::LoadReport report;
    auto policy = bridle::policy::parse_policy_text(yaml, "bench.yaml", true, report);
    if (!policy) {
        std::fprintf(stderr, "bench_policy: generated policy refused: %s\n",
                     policy.error().full().c_str());
        std::exit(1);
    }
    return std::move(policy).value();
}

// Median over runs of the per-call time of `body` (in microseconds); each run repeats `body`
// until it has taken at least `min_ms` / runs, so fast calls are not lost in clock noise.
template <class F>
double median_us(F&& body, double min_ms, int& runs_out) {
    constexpr int kRuns = 7;
    // Calibrate: how many calls make one run long enough.
    long calls = 1;
    for (;;) {
        const auto t0 = Clock::now();
        for (long i = 0; i < calls; ++i) body();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (ms >= min_ms / kRuns || calls >= (1L << 24)) break;
        calls *= (ms < 0.01 ? 16 : 2);
    }
    std::vector<double> samples;
    for (int r = 0; r < kRuns; ++r) {
        const auto t0 = Clock::now();
        for (long i = 0; i < calls; ++i) body();
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                          static_cast<double>(calls));
    }
    std::sort(samples.begin(), samples.end());
    runs_out = static_cast<int>(calls) * kRuns;
    return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> sizes{10, 100, 1000, 10000};
    double min_ms = 300;
    std::string callgrind;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--sizes" && i + 1 < argc) {
            sizes.clear();
            std::string list = argv[++i];
            for (std::size_t p = 0; p <= list.size();) {
                const std::size_t comma = std::min(list.find(',', p), list.size());
                sizes.push_back(std::stoi(list.substr(p, comma - p)));
                p = comma + 1;
            }
        } else if (a == "--min-ms" && i + 1 < argc) {
            min_ms = std::stod(argv[++i]);
        } else if (a == "--callgrind" && i + 1 < argc) {
            callgrind = argv[++i];
        } else {
            std::fprintf(
                stderr,
                "usage: bench_policy [--sizes 10,100,...] [--min-ms MS] [--callgrind SHAPE:N]\n");
            return 2;
        }
    }
    const NoFiles resolver;

    if (!callgrind.empty()) {
        const std::string shape = callgrind.substr(0, callgrind.find(':'));
        const int n = std::stoi(callgrind.substr(callgrind.find(':') + 1));
        const auto policy = load(make_policy(shape, n));
        const auto allow = allow_request(shape, n), deny = deny_request(shape);
        std::size_t sink = 0;
        for (int i = 0; i < 100; ++i) {
            sink += bridle::matching::decide(policy, allow, "", resolver).exec_argv.size();
            sink += bridle::matching::decide(policy, deny, "", resolver).nearest.size();
        }
        std::printf("callgrind %s rules=%d sink=%zu\n", shape.c_str(), n, sink);
        return 0;
    }

    for (const std::string shape : {"spread", "same"}) {
        for (const int n : sizes) {
            const std::string yaml = make_policy(shape, n);
            int load_runs = 0, decide_runs = 0, deny_runs = 0;
            const double load_us = median_us([&] { (void)load(yaml); }, min_ms, load_runs);
            const auto policy = load(yaml);
            const auto allow = allow_request(shape, n), deny = deny_request(shape);
            const auto check = bridle::matching::decide(policy, allow, "", resolver);
            if (check.verdict != bridle::matching::Verdict::kAllow ||
                check.rule != &policy.rules.back()) {
                std::fprintf(
                    stderr,
                    "bench_policy: %s/%d: the allow request is not allowed by the last rule: %s\n",
                    shape.c_str(), n, check.reason.c_str());
                return 1;
            }
            if (bridle::matching::decide(policy, deny, "", resolver).verdict !=
                bridle::matching::Verdict::kDeny) {
                std::fprintf(stderr, "bench_policy: %s/%d: the deny request is allowed\n",
                             shape.c_str(), n);
                return 1;
            }
            const double allow_us =
                median_us([&] { (void)bridle::matching::decide(policy, allow, "", resolver); },
                          min_ms, decide_runs);
            const double deny_us =
                median_us([&] { (void)bridle::matching::decide(policy, deny, "", resolver); },
                          min_ms, deny_runs);
            std::printf(
                "shape=%s rules=%d yaml_bytes=%zu load_ms=%.4f allow_us=%.3f deny_us=%.3f "
                "load_runs=%d decide_runs=%d\n",
                shape.c_str(), n, yaml.size(), load_us / 1000.0, allow_us, deny_us, load_runs,
                decide_runs);
            std::fflush(stdout);
        }
    }
    return 0;
}
