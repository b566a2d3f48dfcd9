// SPDX-License-Identifier: Apache-2.0
#include "loader/compiled_load.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string_view>

#include "loader/policy_cache.hpp"
#include "policy/sha256.hpp"

namespace bridle::policy {
namespace {

// The fragments in `dir` in byte order: names ending in .yaml, hidden names skipped (editors
// put lock files and swap files there). A missing directory has no fragments.
std::vector<std::string> fragment_files(const std::string& dir, const LoadOptions& options,
                                        LoadReport& report) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return {};
    Status trusted = check_trusted_directory(dir, options.require_safe_ownership, report.warnings);
    if (!trusted) {
        report.errors.push_back(trusted.error());
        return {};
    }
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
        report.errors.push_back({"cannot list " + dir + ": " + std::strerror(errno), ""});
        return {};
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name.front() == '.' || name.size() <= 5 || name.substr(name.size() - 5) != ".yaml") {
            continue;
        }
        names.emplace_back(name);
    }
    ::closedir(stream);
    std::sort(names.begin(), names.end());  // std::char_traits<char> compares as unsigned bytes
    std::vector<std::string> paths;
    for (const std::string& name : names) paths.push_back(dir + "/" + name);
    return paths;
}

}  // namespace

std::pair<std::string, std::string> policy_locations(const std::string& explicit_file) {
    if (!explicit_file.empty()) return {explicit_file, ""};
    return {kDefaultPolicyFile, kDefaultPolicyDir};
}

Result<OpenedPolicy> open_policy(const std::string& main_file, const std::string& fragment_dir,
                                 const LoadOptions& options, LoadReport& report) {
    const std::size_t before = report.errors.size();
    OpenedPolicy opened;
    // Each file opened, its ownership checked, and hashed on every load, cache or not. A hit
    // needs no more of it: the bytes pass through a small buffer and are not kept.
    try {
        const auto open_one = [&](const std::string& path) {
            Result<TrustedFile> file =
                open_trusted_file(path, options.require_safe_ownership, report.warnings);
            if (!file) {
                report.errors.push_back(file.error());
                return;
            }
            opened.files.emplace_back(path, std::move(file).value());
        };
        open_one(main_file);
        if (!fragment_dir.empty()) {
            for (const std::string& path : fragment_files(fragment_dir, options, report)) {
                open_one(path);
            }
        }
    } catch (const std::exception& e) {
        report.errors.push_back({std::string("cannot load the policy: ") + e.what(), main_file});
    }
    if (report.errors.size() > before) return report.errors[before];
    if (options.cache_dir.empty()) return opened;

    Sha256 hash;
    std::vector<std::pair<std::string, std::size_t>> lengths;
    for (const auto& [path, file] : opened.files) {
        Result<std::size_t> length = hash_all(file, hash);
        if (!length) return report.errors.emplace_back(length.error());
        lengths.emplace_back(path, length.value());
    }
    const std::string sha256 = hash.hex_digest();
    cache::Lookup found =
        cache::read_cache(options.cache_dir, cache::key_of(lengths, sha256), sha256);
    std::vector<std::string> paths;
    for (const auto& file : opened.files) paths.push_back(file.first);
    if (found.policy && found.policy->files != paths) {
        found = cache::Lookup{{}, {}, "ignored: written for other files"};
    }
    opened.cache_outcome = found.outcome;
    if (found.policy && !options.compile_regexes) {
        report.warnings.insert(report.warnings.end(), found.warnings.begin(), found.warnings.end());
        found.policy->cache = found.outcome;
        opened.compiled = std::move(found.policy);
    }
    return opened;
}

Result<Policy> load_compiled(const std::string& explicit_file, const LoadOptions& options,
                             LoadReport& report, bool& needs_yaml) {
    needs_yaml = false;
    const auto [main_file, fragment_dir] = policy_locations(explicit_file);
    Result<OpenedPolicy> opened = open_policy(main_file, fragment_dir, options, report);
    if (!opened) return opened.error();
    if (!opened.value().compiled) {
        needs_yaml = true;
        return Error{"the compiled policy cache has no policy for these files (" +
                         (opened.value().cache_outcome.empty() ? std::string("no cache")
                                                               : opened.value().cache_outcome) +
                         ")",
                     main_file};
    }
    Policy policy = std::move(*opened.value().compiled);
    if (!explicit_file.empty()) policy.given_path = explicit_file;
    return policy;
}

}  // namespace bridle::policy
