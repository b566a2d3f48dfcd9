// SPDX-License-Identifier: Apache-2.0
// Redaction cost per MiB (issue 19): feeds generated output through one stream's
// policy::Redactor, in reads of 64 KiB as the runner delivers them, and compares it with a plain
// copy of the same bytes in the same reads, measured in the same run. tests/bench/run.sh runs it
// and turns its output into the table in docs/benchmarks.md; it is not a ctest test.
//
// Inputs, each --mib MiB:
//   logs     journal-like lines of ~100 bytes, one line in 200 holding a secret
//   secrets  every line a secret (a token, a password= pair or a URL password)
//   binary   random bytes (NULs, invalid UTF-8, a line break every 256 bytes on average)
//   long     one line with no line break at all (searched in 64 KiB windows)
//
// usage: bench_redaction [--mib 32] [--runs 7]
// Prints one line per input:
//   input=logs mib=32 copy_mibps=9000 redact_mibps=120 ratio=75.0 replaced=1677 runs=7
// (medians over the runs; ratio: redaction time / copy time).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "policy/redaction.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kRead = 64 * 1024;  // the runner's read size

std::string make_input(const std::string& kind, std::size_t bytes) {
    std::mt19937 random(8);
    std::string text;
    text.reserve(bytes + 256);
    if (kind == "binary") {
        std::uniform_int_distribution<int> byte(0, 255);
        while (text.size() < bytes) text += static_cast<char>(byte(random));
        return text;
    }
    if (kind == "long") {
        const std::string words = "GET /static/app.js?v=1234 200 0.004 upstream=10.0.0.7:8080 ";
        while (text.size() < bytes) text += words;
        text.resize(bytes);
        return text;
    }
    const std::vector<std::string> secrets = {
        "auth: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "deploy: pushing with ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "app[812]: connecting to postgres://app:s3cr3t@db.internal:5432/app",
        "app[812]: loaded config password=hunter2 api_key=\"k-123\"",
    };
    const std::vector<std::string> lines = {
        "systemd[1]: Started Session 42 of User pi.",
        "sshd[1234]: Accepted publickey for pi from 192.168.1.10 port 52144 ssh2: ED25519 SHA256:x",
        "kernel: [12345.678901] usb 1-1.2: new high-speed USB device number 5 using dwc_otg",
        "nginx[900]: 192.168.1.20 - - \"GET /index.html HTTP/1.1\" 200 612 \"-\" \"curl/7.88\"",
        "CRON[2222]: (root) CMD (test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily)",
    };
    for (std::size_t n = 0; text.size() < bytes; ++n) {
        text += "Nov 25 10:" + std::to_string(10 + n % 50) + ":" + std::to_string(10 + n % 49) +
                " raspberrypi ";
        const bool secret = kind == "secrets" || n % 200 == 199;
        text += secret ? secrets[n % secrets.size()] : lines[n % lines.size()];
        text += '\n';
    }
    return text;
}

struct Measured {
    double seconds = 0;
    std::uint64_t replaced = 0;
};

Measured copy(std::string_view input) {
    std::string out;
    const Clock::time_point start = Clock::now();
    for (std::size_t pos = 0; pos < input.size(); pos += kRead) {
        out.clear();
        out.append(input.substr(pos, kRead));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (out.empty() && !input.empty()) std::abort();  // keeps the copy
    return {seconds, 0};
}

Measured redact(std::string_view input) {
    bridle::policy::Redactor redactor(bridle::policy::RedactionPatterns::builtin());
    std::string out;
    const Clock::time_point start = Clock::now();
    for (std::size_t pos = 0; pos < input.size(); pos += kRead) {
        out.clear();
        redactor.feed(input.substr(pos, kRead), out);
    }
    out.clear();
    redactor.finish(out);
    return {std::chrono::duration<double>(Clock::now() - start).count(), redactor.count()};
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t mib = 32;
    int runs = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        if (name == "--mib") {
            mib = static_cast<std::size_t>(std::strtoul(argv[i + 1], nullptr, 10));
        } else if (name == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else {
            std::fprintf(stderr, "usage: bench_redaction [--mib N] [--runs N]\n");
            return 2;
        }
    }
    // Compiled once per process in bridle too; not part of the cost per MiB.
    if (!bridle::policy::RedactionPatterns::builtin()->compile_error().empty()) return 1;
    for (const std::string kind : {"logs", "secrets", "binary", "long"}) {
        const std::string input = make_input(kind, mib << 20);
        std::vector<double> copies, redactions;
        std::uint64_t replaced = 0;
        for (int run = 0; run < runs; ++run) {
            copies.push_back(copy(input).seconds);
            const Measured r = redact(input);
            redactions.push_back(r.seconds);
            replaced = r.replaced;
        }
        const double c = median(copies), r = median(redactions);
        const double size = static_cast<double>(input.size()) / (1 << 20);
        std::printf(
            "input=%s mib=%zu copy_mibps=%.0f redact_mibps=%.1f ratio=%.1f replaced=%llu "
            "runs=%d\n",
            kind.c_str(), mib, size / c, size / r, r / c, static_cast<unsigned long long>(replaced),
            runs);
    }
    return 0;
}
