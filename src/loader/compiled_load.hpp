// SPDX-License-Identifier: Apache-2.0
// A load's first half, and all of a load that the compiled policy cache answers: the policy
// files opened, their ownership checked, their bytes hashed, and root's cache asked for their
// policy. No YAML here: the forced command's binary loads through load_compiled alone and hands
// a load the cache does not answer to bridle-full (docs/architecture.md, "Two binaries");
// load_policy (loader.hpp) goes on from open_policy to the YAML.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "loader/file_checks.hpp"
#include "loader/loader.hpp"
#include "policy/model.hpp"

namespace bridle::policy {

// The files of one load, opened and checked, in order (the main file first).
struct OpenedPolicy {
    std::vector<std::pair<std::string, TrustedFile>> files;
    // Root's cache held these very files' policy, and the load compiles regexes lazily (the
    // only loads a cache answers); its warnings are in the report.
    std::optional<Policy> compiled;
    std::string cache_outcome;  // what the lookup found; "" when options.cache_dir is empty
};

// The main file and the fragment directory a load reads: `explicit_file` alone, or the
// default file and policy.d.
std::pair<std::string, std::string> policy_locations(const std::string& explicit_file);

// Opens `main_file` and the fragments in `fragment_dir` (none when empty or missing), checks
// them, and, when options.cache_dir is set, hashes them and asks the cache. On failure,
// report.errors lists every problem and the Result's error is the first.
Result<OpenedPolicy> open_policy(const std::string& main_file, const std::string& fragment_dir,
                                 const LoadOptions& options, LoadReport& report);

// load_policy as far as the compiled cache answers it. When the files are fine but the cache
// holds no policy for them (none, stale, damaged, foreign-owned, another build's), returns an
// error that says so and sets `needs_yaml`; any other error is the files' own, as load_policy
// would return it.
Result<Policy> load_compiled(const std::string& explicit_file, const LoadOptions& options,
                             LoadReport& report, bool& needs_yaml);

}  // namespace bridle::policy
