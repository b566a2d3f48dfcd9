// SPDX-License-Identifier: Apache-2.0
// Shared by the fuzz targets: invariant checks that crash loudly (so libFuzzer and the replay
// driver both report them), and a deterministic in-memory file system for the matcher.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "matching/matcher.hpp"

namespace bridle::fuzz {

// An invariant the code under test promises. A violation aborts: libFuzzer saves the input
// as a crash-* artifact, and the replay driver's test fails.
inline void check(bool holds, const char* what) {
    if (holds) return;
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

// A fixed file system, the same on every run: a few directories and files under /var/log,
// /etc and /srv, symlinks in and out of them, and "any *.log name under /var/log is a regular
// file" so that the fuzzer can reach allowed paths without guessing the fixture. Paths are
// resolved lexically (. and .. removed) and then through the symlinks, up to 8 levels.
class FixtureResolver final : public matching::PathResolver {
  public:
    FixtureResolver() {
        for (const char* d :
             {"/", "/var", "/var/log", "/var/log/nginx", "/var/log/apt", "/etc", "/etc/ssl",
              "/root", "/srv", "/srv/www", "/home", "/tmp", "/etcfoo"}) {
            dirs_.insert(d);
        }
        for (const char* f : {"/var/log/syslog", "/var/log/auth.log", "/var/log/kern.log",
                              "/var/log/nginx/access.log", "/var/log/nginx/error.log",
                              "/var/log/apt/history.log", "/etc/shadow", "/etc/passwd",
                              "/etc/hostname", "/srv/www/index.html", "/root/.bash_history"}) {
            files_.insert(f);
        }
        links_["/var/log/evil.log"] = "/etc/shadow";
        links_["/var/log/up"] = "/var";
        links_["/var/log/loop"] = "/var/log/loop";
        links_["/var/log/rel"] = "nginx/access.log";
        links_["/srv/logs"] = "/var/log";
    }

    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
        std::string current = path;
        for (int depth = 0; depth <= 8; ++depth) {
            std::vector<std::string> parts = normalise(current);
            bool followed = false;
            std::string prefix;
            for (std::size_t i = 0; i < parts.size(); ++i) {
                prefix += "/" + parts[i];
                const auto link = links_.find(prefix);
                if (link == links_.end()) continue;
                std::string target = link->second;
                if (target.empty() || target[0] != '/') {
                    target = prefix.substr(0, prefix.rfind('/')) + "/" + target;
                }
                for (std::size_t j = i + 1; j < parts.size(); ++j) target += "/" + parts[j];
                current = target;
                followed = true;
                break;
            }
            if (followed) continue;
            const std::string canonical = prefix.empty() ? "/" : prefix;
            if (dirs_.count(canonical)) return Resolved{canonical, false, true};
            if (files_.count(canonical) || is_fixture_log(canonical)) {
                return Resolved{canonical, true, false};
            }
            why = "does not exist";
            return std::nullopt;
        }
        why = "too many levels of symbolic links";
        return std::nullopt;
    }

  private:
    static std::vector<std::string> normalise(const std::string& path) {
        std::vector<std::string> parts;
        std::size_t start = 0;
        while (start <= path.size()) {
            std::size_t slash = path.find('/', start);
            if (slash == std::string::npos) slash = path.size();
            const std::string part = path.substr(start, slash - start);
            if (part == "..") {
                if (!parts.empty()) parts.pop_back();
            } else if (!part.empty() && part != ".") {
                parts.push_back(part);
            }
            start = slash + 1;
        }
        return parts;
    }

    static bool is_fixture_log(const std::string& path) {
        const std::string dir = "/var/log/";
        return path.size() > dir.size() + 4 && path.compare(0, dir.size(), dir) == 0 &&
               path.compare(path.size() - 4, 4, ".log") == 0;
    }

    std::set<std::string> dirs_, files_;
    std::map<std::string, std::string> links_;
};

}  // namespace bridle::fuzz
