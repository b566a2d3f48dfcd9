// SPDX-License-Identifier: Apache-2.0
// YAML policy files -> Policy. The only user of yaml-cpp. The public face of src/loader/: the
// other headers here (lexical, yaml_reader, lint) are the loader's own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy {

constexpr const char* kDefaultPolicyFile = "/etc/bridle/policy.yaml";
constexpr const char* kDefaultPolicyDir = "/etc/bridle/policy.d";
// The compiled policy cache, written by root (bridle check --compile), read by the forced command
// and by the target side of a run_as rule (bridle run-as).
constexpr const char* kDefaultCacheDir = "/var/cache/bridle";

// Every problem found in a policy, each with "file:line:col: message".
struct LoadReport {
    std::vector<Error> errors;    // any error: the policy is refused
    std::vector<Error> warnings;  // worth saying, not fatal (e.g. unsafe ownership when relaxed)
    // LoadOptions::write_cache: the cache file written, or else why none was ("" not asked).
    std::string cache_written{};
    std::string cache_not_written{};
};

struct LoadOptions {
    // Refuse files and directories that a non-root user could modify or replace
    // (file_checks.hpp). When false (`bridle check` / `explain` on a draft), such problems
    // are reported as warnings instead. Enforcing front ends always pass true.
    bool require_safe_ownership = true;
    // Compile every regex at load and report the ones RE2 cannot compile (a pattern too large
    // for its memory budget; syntax errors are always reported). When false, a regex is
    // compiled by the first request that reaches it, and one that cannot be compiled denies
    // that request: the forced command's choice, which decides one request per process.
    bool compile_regexes = true;
    // The compiled policy cache's directory (loader/policy_cache.hpp, bridle-policy(5)); empty:
    // no cache. Files are read and their ownership checked on every load either way. A load
    // that compiles regexes lazily (the forced command's) takes the policy from the cache when
    // it holds these very files' policy; any other load only looks, and policy.cache says what
    // it found.
    std::string cache_dir{};
    // After a load from the YAML without errors, store the policy in cache_dir (root only:
    // bridle check --compile). The forced command never writes.
    bool write_cache = false;
};

// How the enforcing front ends load (the forced command, its sessions, and the target side of
// a run_as rule): ownership checked strictly, each regex compiled by the request that reaches
// it (one request per process need not pay for every pattern), and the policy taken from
// root's compiled cache when that holds these very files' policy. They never write the cache.
inline LoadOptions enforcing_load_options() {
    LoadOptions options;
    options.require_safe_ownership = true;
    options.compile_regexes = false;
    options.cache_dir = kDefaultCacheDir;
    return options;
}

// Parse one YAML document (`name` is used in locations). Collects every error it can
// rather than stopping at the first, and checks that rule ids are unique within the text.
// `is_main` is false for policy.d fragments, which may hold only `version` and `rules`.
// The Policy's `files` is {name} and its `sha256` covers `yaml`.
Result<Policy> parse_policy_text(std::string_view yaml, const std::string& name, bool is_main,
                                 LoadReport& report);

// Load an explicit file (--policy FILE) alone, or the default file plus policy.d/*.yaml in
// byte order (only names ending in .yaml and not starting with "."). Rule ids must be
// unique across all files.
// On failure, `report.errors` lists every problem; the Result's error is the first.
// policy.sha256 covers the bytes of every file read, in order.
Result<Policy> load_policy(const std::string& explicit_file, const LoadOptions& options,
                           LoadReport& report);

// A load as the enforcing front ends make it (the forced command, the target side): in
// bridle-full, load_policy; in bridle, the forced command's binary, a load the compiled cache
// answers (load_compiled), or else a hand-over of the whole request to bridle-full
// (src/front.cpp). Chosen by the binary's main, passed down.
using PolicyLoader = Result<Policy> (*)(const std::string& explicit_file,
                                        const LoadOptions& options, LoadReport& report);

// What load_policy does, with the locations spelled out: `main_file`, then the fragments in
// `fragment_dir` (skipped when empty or missing). Tests and tools that stage a policy
// elsewhere call this; enforcing front ends call load_policy.
Result<Policy> load_policy_files(const std::string& main_file, const std::string& fragment_dir,
                                 const LoadOptions& options, LoadReport& report);

}  // namespace bridle::policy
