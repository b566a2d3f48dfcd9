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
// The forced command's load is timed too, from a policy file (read, ownership checked, hashed),
// once per fresh process as the forced command does it (median of 7 processes, until the policy
// is usable): from the YAML with regexes compiled lazily (file_yaml_ms), and from the compiled
// policy cache (cache_ms), written once to a scratch directory; cache_loop_ms repeats the cache
// load in one process, each policy destroyed (a warm, fragmented heap, teardown included). The
// same for the shipped policy. The cache needs root (it trusts only root's directories):
// without it those columns are "nan". cache_faults is the page faults of the fresh process's
// cache load (getrusage), and the last line is what one costs on this machine: fault_us, the
// time per 4 KiB page of first touching fresh anonymous memory (median of 9 runs over 8 MiB),
// so the report can say how much of a fresh load is the machine's price of memory.
//
// usage: bench_policy [--sizes 10,100,1000,10000] [--min-ms 300] [--callgrind SHAPE:N]
// Prints one line per shape and size, then one for the shipped policy:
//   shape=spread rules=10 load_ms=0.41 allow_us=1.2 deny_us=0.9 file_yaml_ms=.. cache_ms=..
//     cache_loop_ms=.. cache_faults=.. load_runs=.. decide_runs=..
//   shipped rules=37 file_yaml_ms=3.4 cache_ms=0.1 cache_loop_ms=0.1 cache_faults=..
//   machine fault_us=..
// (medians over repeated runs, each run at least --min-ms of total time per measurement).
// --callgrind SHAPE:N loads once and decides 100 times, for `valgrind --tool=callgrind`.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
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

// A scratch directory for the cache, removed at exit. Under /run (root's, 0755), since the
// cache is used only in a chain of root-owned directories no one else may write, which the
// default build tree under /tmp is not.
class Scratch {
  public:
    Scratch() {
        std::string dir = "/run/bridle-bench-cache.XXXXXX";
        if (::mkdtemp(dir.data()) != nullptr) {
            ::chmod(dir.c_str(), 0755);
            path_ = dir;
        }
    }
    ~Scratch() {
        if (!path_.empty()) std::filesystem::remove_all(path_);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// Loads `file` as the forced command does (lazy regexes), with the cache in `cache_dir` ("":
// none); `write`: store it there (root).
bridle::Result<bridle::policy::Policy> load_file(const std::string& file,
                                                 const std::string& cache_dir, bool write = false) {
    bridle::policy::LoadReport report;
    bridle::policy::LoadOptions options;
    options.require_safe_ownership = false;
    options.compile_regexes = write;
    options.cache_dir = cache_dir;
    options.write_cache = write;
    return bridle::policy::load_policy_files(file, "", options, report);
}

double median_of(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
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
    runs_out = static_cast<int>(calls) * kRuns;
    return median_of(std::move(samples));
}

struct FileLoads {
    double yaml_ms = NAN;          // from the file's YAML, regexes compiled lazily
    double cache_ms = NAN;         // from the compiled policy cache
    double cache_faults = NAN;     // page faults of that load
    double cache_loop_ms = NAN;    // the same, repeated in one process, each policy destroyed
    double cache_decide_ms = NAN;  // the first decision after the fresh process's cache load:
                                   // it decodes the rules for the request's program
};

// The forced command's view: one load in a fresh process (this program run again with
// --load-once, a new heap), timed until the policy is usable, then the first decision of
// `request` (none when empty); the policy's destruction, after the request, is not counted.
// Medians of 7 processes: the load's time and page faults, and the decision's time.
struct FreshLoad {
    double ms = NAN, faults = NAN, decide_ms = NAN;
};
FreshLoad fresh_process_load(const std::string& file, const std::string& cache_dir,
                             const std::vector<std::string>& request) {
    std::vector<double> times, faults, decides;
    for (int run = 0; run < 7; ++run) {
        // The paths are the scratch directory's, the words the generated policy's (no quote).
        static const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
        std::string command = self + " --load-once '" + file + "' '" + cache_dir + "'";
        for (const std::string& word : request) command += " '" + word + "'";
        FILE* child = ::popen(command.c_str(), "r");
        double ms = NAN, minflt = NAN, decide_ms = NAN;
        if (child == nullptr || std::fscanf(child, "%lf %lf %lf", &ms, &minflt, &decide_ms) != 3) {
            ms = minflt = decide_ms = NAN;
        }
        if (child != nullptr) ::pclose(child);
        times.push_back(ms);
        faults.push_back(minflt);
        decides.push_back(decide_ms);
    }
    return {median_of(times), median_of(faults), median_of(decides)};
}

long minor_faults() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// This machine's price of memory: microseconds per 4 KiB page to first touch fresh anonymous
// memory (the fault, a zeroed page, its mapping), median of 9 runs over 8 MiB. A process that
// builds a large policy pays it for every page its heap grows by.
double fault_us() {
    constexpr std::size_t kBytes = 8u << 20, kPage = 4096;
    std::vector<double> samples;
    for (int run = 0; run < 9; ++run) {
        void* map =
            ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) return NAN;
        volatile char* bytes = static_cast<char*>(map);
        const auto t0 = Clock::now();
        for (std::size_t at = 0; at < kBytes; at += kPage) bytes[at] = 1;
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                          static_cast<double>(kBytes / kPage));
        ::munmap(map, kBytes);
    }
    return median_of(samples);
}

// `yaml` written to a file in a scratch directory, compiled into a cache there, then loaded both
// ways. The cache load is checked to be a hit.
FileLoads time_file_loads(const std::string& yaml, double min_ms,
                          const std::vector<std::string>& request) {
    FileLoads out;
    const Scratch scratch;
    if (scratch.path().empty()) return out;
    const std::string file = scratch.path() + "/policy.yaml";
    std::ofstream(file, std::ios::binary) << yaml;
    ::chmod(file.c_str(), 0644);
    int runs = 0;
    if (!load_file(file, "")) {
        std::fprintf(stderr, "bench_policy: the policy file is refused\n");
        std::exit(1);
    }
    out.yaml_ms = fresh_process_load(file, "", {}).ms;
    const std::string cache = scratch.path() + "/cache";
    if (::geteuid() != 0 || !load_file(file, cache, true)) return out;
    auto hit = load_file(file, cache);
    if (!hit || hit.value().cache != "hit") {
        std::fprintf(stderr, "bench_policy: no cache hit (%s)\n",
                     hit ? hit.value().cache.c_str() : hit.error().full().c_str());
        return out;
    }
    const FreshLoad fresh = fresh_process_load(file, cache, request);
    out.cache_ms = fresh.ms;
    out.cache_faults = fresh.faults;
    out.cache_decide_ms = fresh.decide_ms;
    out.cache_loop_ms = median_us([&] { (void)load_file(file, cache); }, min_ms, runs) / 1000.0;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 4 && std::string(argv[1]) == "--load-once") {
        // One load, printed in ms with its page faults, then the first decision of the words
        // after FILE CACHE (if any) in ms, then exit without destroying the policy
        // (fresh_process_load).
        const long faults = minor_faults();
        const auto t0 = Clock::now();
        auto* kept = new bridle::Result<bridle::policy::Policy>(load_file(argv[2], argv[3]));
        const auto t1 = Clock::now();
        const long load_faults = minor_faults() - faults;
        const std::vector<std::string> request(argv + 4, argv + argc);
        double decide_ms = NAN;
        if (kept->ok() && !request.empty()) {
            const NoFiles none;
            const auto d = bridle::matching::decide(kept->value(), request, "", none);
            decide_ms = d.verdict == bridle::matching::Verdict::kAllow
                            ? std::chrono::duration<double, std::milli>(Clock::now() - t1).count()
                            : NAN;
        }
        const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        std::printf("%.6f %ld %.6f\n", kept->ok() ? ms : NAN, load_faults, decide_ms);
        std::fflush(stdout);
        ::_exit(0);
    }
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
            const FileLoads file = time_file_loads(yaml, min_ms, allow);
            std::printf(
                "shape=%s rules=%d yaml_bytes=%zu load_ms=%.4f allow_us=%.3f deny_us=%.3f "
                "file_yaml_ms=%.4f cache_ms=%.4f cache_loop_ms=%.4f cache_faults=%.0f "
                "cache_decide_ms=%.4f load_runs=%d decide_runs=%d\n",
                shape.c_str(), n, yaml.size(), load_us / 1000.0, allow_us, deny_us, file.yaml_ms,
                file.cache_ms, file.cache_loop_ms, file.cache_faults, file.cache_decide_ms,
                load_runs, decide_runs);
            std::fflush(stdout);
        }
    }
    std::ifstream in(BRIDLE_SHIPPED_POLICY, std::ios::binary);
    std::stringstream shipped;
    shipped << in.rdbuf();
    const FileLoads file = time_file_loads(shipped.str(), min_ms, {});
    std::printf(
        "shipped rules=%zu file_yaml_ms=%.4f cache_ms=%.4f cache_loop_ms=%.4f cache_faults=%.0f\n",
        load(shipped.str()).rules.size(), file.yaml_ms, file.cache_ms, file.cache_loop_ms,
        file.cache_faults);
    std::printf("machine fault_us=%.3f\n", fault_us());
    return 0;
}
