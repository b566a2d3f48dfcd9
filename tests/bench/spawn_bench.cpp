// SPDX-License-Identifier: Apache-2.0
// Whole-process latency benchmark (issue 8): start each command the way sshd starts a forced
// command (a fresh process with exactly the given environment, stdin/stdout/stderr on
// /dev/null), wait for it, and report the median wall time per command. Commands run in
// rounds, one of each per round, so that drift on the machine hits all of them alike, and in a
// new order each round (shuffled, a fixed seed): what a command leaves behind (an allowed
// request's namespaces torn down after it exits, journald writing its records) falls on
// whichever runs next, and in a fixed order that would be the same command every round.
// tests/bench/run.sh drives it; it is not a ctest test.
//
// usage: spawn_bench [--runs N] [--warmup N] [--user NAME] -- SPEC [:: SPEC]...
//   SPEC = LABEL EXPECTED_STATUS [-e NAME=VALUE]... PROGRAM [ARG]...
// --user NAME: drop to that user (and its primary group, no supplementary groups) before
//   anything is started, as sshd does before it runs the forced command (needs root).
// Prints, per spec: LABEL median_us=.. p10_us=.. p90_us=.. min_us=.. runs=..
// Exits 1 if any run ends with another status than EXPECTED_STATUS (after showing that
// command's stderr once).
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

struct Spec {
    std::string label;
    int expected = 0;
    std::vector<std::string> env;
    std::vector<std::string> argv;
    std::vector<double> samples_us;
};

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// One run; returns the wait status (or -1 when the spawn failed).
int run_once(Spec& spec, bool show_stderr, double& elapsed_us) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (!show_stderr) posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.env);
    pid_t pid = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    int status = -1;
    if (rc == 0) {
        while (waitpid(pid, &status, 0) < 0) {
        }
    }
    elapsed_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        std::fprintf(stderr, "spawn_bench: %s: %s\n", spec.argv[0].c_str(), std::strerror(rc));
        return -1;
    }
    return status;
}

bool status_ok(const Spec& spec, int status) {
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == spec.expected;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const std::size_t i = std::min(
        v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return v[i];
}

int usage() {
    std::fprintf(stderr,
                 "usage: spawn_bench [--runs N] [--warmup N] [--user NAME] -- "
                 "LABEL STATUS [-e NAME=VALUE]... PROGRAM [ARG]... [:: ...]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 200, warmup = 20;
    std::string user;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (i + 1 >= argc) return usage();
        if (a == "--runs")
            runs = std::atoi(argv[++i]);
        else if (a == "--warmup")
            warmup = std::atoi(argv[++i]);
        else if (a == "--user")
            user = argv[++i];
        else
            return usage();
    }
    std::vector<Spec> specs;
    while (i < argc) {
        if (i + 2 >= argc) return usage();
        Spec spec;
        spec.label = argv[i++];
        spec.expected = std::atoi(argv[i++]);
        while (i + 1 < argc && std::strcmp(argv[i], "-e") == 0) {
            spec.env.push_back(argv[i + 1]);
            i += 2;
        }
        while (i < argc && std::strcmp(argv[i], "::") != 0) spec.argv.push_back(argv[i++]);
        if (i < argc) ++i;  // "::"
        if (spec.argv.empty() || spec.argv[0][0] != '/') return usage();
        specs.push_back(std::move(spec));
    }
    if (specs.empty() || runs < 1) return usage();

    if (!user.empty()) {
        const passwd* pw = getpwnam(user.c_str());
        if (pw == nullptr || setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 ||
            setuid(pw->pw_uid) != 0) {
            std::fprintf(stderr, "spawn_bench: cannot become %s\n", user.c_str());
            return 1;
        }
    }

    for (Spec& spec : specs) {
        double us = 0;
        const int status = run_once(spec, false, us);
        if (!status_ok(spec, status)) {
            std::fprintf(stderr, "spawn_bench: %s: exit status %d, expected %d; its stderr:\n",
                         spec.label.c_str(), WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                         spec.expected);
            (void)run_once(spec, true, us);
            return 1;
        }
    }
    std::vector<std::size_t> order(specs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937 shuffler(20261207);
    for (int round = 0; round < warmup + runs; ++round) {
        std::shuffle(order.begin(), order.end(), shuffler);
        for (const std::size_t next : order) {
            Spec& spec = specs[next];
            double us = 0;
            const int status = run_once(spec, false, us);
            if (!status_ok(spec, status)) {
                std::fprintf(stderr, "spawn_bench: %s: unexpected status in round %d\n",
                             spec.label.c_str(), round);
                return 1;
            }
            if (round >= warmup) spec.samples_us.push_back(us);
        }
    }
    for (const Spec& spec : specs) {
        std::printf("%s median_us=%.1f p10_us=%.1f p90_us=%.1f min_us=%.1f runs=%zu\n",
                    spec.label.c_str(), percentile(spec.samples_us, 0.5),
                    percentile(spec.samples_us, 0.1), percentile(spec.samples_us, 0.9),
                    percentile(spec.samples_us, 0.0), spec.samples_us.size());
    }
    return 0;
}
