// SPDX-License-Identifier: Apache-2.0
// The sandboxes of the main file: named profiles (seccomp, exec_once, landlock, limits, umask,
// namespaces), and the check that a sandbox named by settings or a rule is defined.
#include <algorithm>
#include <chrono>
#include <tuple>

#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {
namespace {

constexpr std::uint64_t kMaxLimitSize = std::uint64_t{1} << 40;  // resource limits: 1024GiB

}  // namespace

void PolicyReader::read_sandboxes(const Field& field, Policy& policy) {
    const std::optional<Entries> entries = mapping(field, "sandboxes");
    if (!entries) return;
    for (const Entry& entry : *entries) {
        if (!is_rule_id(entry.key)) {
            fail(entry.key_mark, "sandbox name " + quoted(entry.key) +
                                     " is not valid: use 1 to 64 of a-z 0-9 . _ -, starting "
                                     "with a letter or digit");
            continue;
        }
        // A profile with errors is still entered, so that rules naming it do not add an
        // "unknown sandbox" error to the one already reported (the policy is refused anyway).
        SandboxProfile profile = read_sandbox(entry.key, entry.value).value_or(SandboxProfile{});
        profile.name = entry.key;
        profile.source = location(file_, entry.key_mark);
        policy.sandboxes[entry.key] = std::move(profile);  // may replace the built-in baseline
    }
}

// Every key is optional: `name: {}` is the built-in baseline under another name.
std::optional<SandboxProfile> PolicyReader::read_sandbox(const std::string& name,
                                                         const Field& field) {
    if (field.node.IsNull()) {
        fail(field.mark, "sandbox " + quoted(name) + " has no value; write {} for the defaults");
        return std::nullopt;
    }
    const std::optional<Entries> entries = mapping(field, "a sandbox");
    if (!entries) return std::nullopt;
    reject_unknown(
        *entries, {"seccomp", "exec_once", "exec_log", "landlock", "limits", "umask", "namespaces"},
        "a sandbox");
    SandboxProfile profile;
    profile.name = name;
    bool good = true;
    if (const Entry* seccomp = find(*entries, "seccomp")) {
        std::optional<std::vector<SeccompProfile>> profiles = read_seccomp(seccomp->value);
        good = good && profiles.has_value();
        if (profiles) profile.seccomp = std::move(*profiles);
    }
    if (const Entry* exec_once = find(*entries, "exec_once")) {
        const std::optional<bool> value = boolean(exec_once->value, "exec_once");
        good = good && value.has_value();
        profile.exec_once = value.value_or(true);
    }
    if (const Entry* exec_log = find(*entries, "exec_log")) {
        const std::optional<bool> value = boolean(exec_log->value, "exec_log");
        good = good && value.has_value();
        profile.exec_log = value.value_or(false);
        // The log replaces exec-once's refusals, so the policy must turn those off in words.
        // baseline denies userfaultfd: without it a command could make bridle's read of the
        // exec's path from its memory wait on a page fault it controls (docs/sandbox.md).
        if (profile.exec_log && profile.exec_once) {
            fail(exec_log->key_mark,
                 "exec_log: true records the programs exec-once would refuse: it needs "
                 "exec_once: false in the same sandbox");
            good = false;
        } else if (profile.exec_log &&
                   std::find(profile.seccomp.begin(), profile.seccomp.end(),
                             SeccompProfile::kBaseline) == profile.seccomp.end()) {
            fail(exec_log->key_mark,
                 "exec_log: true needs the baseline seccomp profile (it denies userfaultfd, "
                 "with which a command could stall bridle's reading of its exec paths)");
            good = false;
        }
    }
    if (const Entry* landlock = find(*entries, "landlock")) {
        profile.landlock = read_landlock(landlock->value);
        good = good && profile.landlock.has_value();
    }
    if (const Entry* limits = find(*entries, "limits")) {
        good = read_limits(limits->value, profile.limits) && good;
    }
    if (const Entry* umask = find(*entries, "umask")) {
        profile.umask = read_umask(umask->value);
        good = good && profile.umask.has_value();
    }
    if (const Entry* namespaces = find(*entries, "namespaces")) {
        const std::optional<std::string> value = text(namespaces->value, "namespaces");
        static const std::map<std::string, NamespaceMode, std::less<>> kModes = {
            {"prefer", NamespaceMode::kPrefer},
            {"require", NamespaceMode::kRequire},
            {"off", NamespaceMode::kOff}};
        const auto known = value ? kModes.find(*value) : kModes.end();
        if (known != kModes.end()) {
            profile.namespaces = known->second;
        } else {
            if (value) fail_type(namespaces->value, "namespaces", "prefer, require or off");
            good = false;
        }
    }
    if (!good) return std::nullopt;
    return profile;
}

std::optional<std::vector<SeccompProfile>> PolicyReader::read_seccomp(const Field& field) {
    const std::optional<std::vector<Field>> items = list(field, "seccomp");
    if (!items) return std::nullopt;
    static const std::map<std::string, SeccompProfile, std::less<>> kProfiles = {
        {"baseline", SeccompProfile::kBaseline},
        {"no-network", SeccompProfile::kNoNetwork},
        {"no-write", SeccompProfile::kNoWrite}};
    std::vector<SeccompProfile> profiles;
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> name = text(item, "a seccomp profile");
        const auto known = name ? kProfiles.find(*name) : kProfiles.end();
        if (!name) {
            good = false;
        } else if (known == kProfiles.end()) {
            fail(item.mark, "unknown seccomp profile " + quoted(*name) +
                                " (built-in profiles: baseline, no-network, no-write)");
            good = false;
        } else if (std::find(profiles.begin(), profiles.end(), known->second) != profiles.end()) {
            fail(item.mark, "seccomp profile " + quoted(*name) + " is listed twice");
            good = false;
        } else {
            profiles.push_back(known->second);
        }
    }
    if (!good) return std::nullopt;
    return profiles;
}

std::optional<LandlockRules> PolicyReader::read_landlock(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "landlock");
    if (!entries) return std::nullopt;
    reject_unknown(*entries, {"mode", "read", "write", "execute"}, "landlock");
    LandlockRules rules;
    bool good = true;
    if (const Entry* mode = find(*entries, "mode")) {
        const std::optional<std::string> value = text(mode->value, "landlock mode");
        if (value == "prefer") {
            rules.mode = LandlockRules::Mode::kPrefer;
        } else if (value == "require") {
            rules.mode = LandlockRules::Mode::kRequire;
        } else {
            if (value) fail_type(mode->value, "landlock mode", "prefer or require");
            good = false;
        }
    }
    const std::pair<const char*, std::optional<std::vector<std::string>>*> classes[] = {
        {"read", &rules.read}, {"write", &rules.write}, {"execute", &rules.execute}};
    for (const auto& [key, paths] : classes) {
        if (const Entry* entry = find(*entries, key)) {
            *paths = read_landlock_paths(entry->value, key);
            good = good && paths->has_value();
        }
    }
    if (!find(*entries, "read") && !find(*entries, "write") && !find(*entries, "execute")) {
        fail(field.mark, "landlock must confine at least one of read, write or execute");
        good = false;
    }
    if (!good) return std::nullopt;
    return rules;
}

std::optional<std::vector<std::string>> PolicyReader::read_landlock_paths(const Field& field,
                                                                          std::string_view what) {
    const std::optional<std::vector<Field>> items = list(field, what);
    if (!items) return std::nullopt;
    std::vector<std::string> paths;
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> path =
            normal_path(item, "a path in landlock " + std::string(what));
        if (!path) {
            good = false;
        } else if (std::find(paths.begin(), paths.end(), *path) != paths.end()) {
            fail(item.mark, "path " + *path + " is listed twice");
            good = false;
        } else {
            paths.push_back(*path);
        }
    }
    if (!good) return std::nullopt;
    return paths;
}

bool PolicyReader::read_limits(const Field& field, ResourceLimits& limits) {
    const std::optional<Entries> entries = mapping(field, "limits");
    if (!entries) return false;
    reject_unknown(*entries, {"cpu", "address_space", "processes", "file_size", "open_files"},
                   "limits");
    bool good = true;
    if (const Entry* cpu = find(*entries, "cpu")) {
        // RLIMIT_CPU counts whole seconds: round up, so a limit never comes out stricter.
        if (const auto value = duration(cpu->value, "cpu")) {
            limits.cpu = std::chrono::ceil<std::chrono::seconds>(*value);
        } else {
            good = false;
        }
    }
    const std::pair<const char*, std::optional<std::uint64_t>*> sizes[] = {
        {"address_space", &limits.address_space}, {"file_size", &limits.file_size}};
    for (const auto& [key, target] : sizes) {
        if (const Entry* entry = find(*entries, key)) {
            *target = size(entry->value, key, kMaxLimitSize);
            good = good && target->has_value();
        }
    }
    // open_files: at least 16, as the child holds a few fds of its own while it sets up.
    const std::tuple<const char*, std::optional<std::uint64_t>*, std::int64_t, std::int64_t>
        counts[] = {{"processes", &limits.processes, 1, kMaxInteger},
                    {"open_files", &limits.open_files, 16, 1 << 20}};
    for (const auto& [key, target, min, max] : counts) {
        const Entry* entry = find(*entries, key);
        if (entry == nullptr) continue;
        const std::optional<std::int64_t> value = integer(entry->value, key);
        if (value && (*value < min || *value > max)) {
            fail(entry->value.mark, std::string(key) + " must be between " + std::to_string(min) +
                                        " and " + std::to_string(max) + ", not " +
                                        std::to_string(*value));
        } else if (value) {
            *target = static_cast<std::uint64_t>(*value);
            continue;
        }
        good = false;
    }
    return good;
}

// Three or four octal digits, as umask(1) prints them: "022", "0077".
std::optional<std::uint32_t> PolicyReader::read_umask(const Field& field) {
    const std::string value = field.node.IsScalar() ? field.node.Scalar() : "";
    std::uint32_t mask = 0;
    bool good = value.size() == 3 || value.size() == 4;
    for (const char c : value) {
        good = good && c >= '0' && c <= '7';
        mask = mask * 8 + static_cast<std::uint32_t>(c - '0');
    }
    if (!good || mask > 0777) {
        fail_type(field, "umask", "three or four octal digits such as \"0077\"");
        return std::nullopt;
    }
    return mask;
}

void PolicyReader::read_sandbox_reference(const Field& field, std::string_view what,
                                          std::string& name) {
    const std::optional<std::string> value = text(field, what);
    if (!value) return;
    if (policy_ != nullptr && policy_->sandboxes.count(*value) == 0) {
        std::string known;
        for (const auto& [defined, profile] : policy_->sandboxes) {
            known += (known.empty() ? "" : ", ") + defined;
        }
        fail(field.mark, "unknown sandbox " + quoted(*value) + " (defined: " + known +
                             "; sandboxes are defined under sandboxes: in the main file)");
        return;
    }
    name = *value;
}

}  // namespace bridle::policy::read
