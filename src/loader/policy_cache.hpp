// SPDX-License-Identifier: Apache-2.0
// The compiled policy cache: a policy that loaded without errors, stored by root in
// /var/cache/bridle/policy-KEY.bin, so that a load whose files are unchanged skips YAML.
// bridle-policy(5), COMPILED POLICY CACHE, states the rules; loader.cpp decides when to use it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy::cache {

constexpr std::uint32_t kFormatVersion = 5;  // 2: SandboxProfile::exec_log; 3: tasks, files;
                                             // 4: settings.guardrails; 5: approvals
// Cache files kept in the directory: writing one removes the oldest beyond this many.
constexpr std::size_t kKeptFiles = 4;

// The key of a set of policy files: SHA-256 over a format tag, each file's path and length in
// load order (`lengths`), and `sha256`, the SHA-256 of their bytes in that order (Policy::sha256).
// Another path, another order, another byte or another format: another key.
std::string key_of(const std::vector<std::pair<std::string, std::size_t>>& lengths,
                   const std::string& sha256);

// DIR/policy-KEY.bin.
std::string file_for(const std::string& dir, const std::string& key);

// What a lookup found.
struct Lookup {
    std::optional<Policy> policy;  // a hit
    std::vector<Error> warnings;   // the lint warnings of the load that wrote it (hit only)
    std::string outcome;           // "hit", "none" (no such file), or "ignored: REASON"
};

// Reads the cache for `key` and trusts it only when all of these hold: DIR is a directory owned
// by root that group and others cannot write, as are its ancestors (file_checks.hpp); the file
// (opened O_NOFOLLOW) is a regular file owned by root that group and others cannot write; its
// header names this format, this bridle build and `key`; its body has the length and checksum
// the header says and decodes to a policy whose sha256 is `sha256`. Any other file is ignored.
Lookup read_cache(const std::string& dir, const std::string& key, const std::string& sha256);

// Stores `policy` for `key`: only as root, in DIR (created root-owned 0755 when missing), through
// a temporary file that is fsynced and renamed over DIR/policy-KEY.bin (mode 0644), so a reader
// sees the old file or the new one, never half of one. Then removes the oldest cache files beyond
// kKeptFiles.
Status write_cache(const std::string& dir, const std::string& key, const Policy& policy,
                   const std::vector<Error>& warnings);

// The header's build id: this bridle's version and the cache format.
std::string build_id();

}  // namespace bridle::policy::cache
