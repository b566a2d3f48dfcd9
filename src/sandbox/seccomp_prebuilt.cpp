// SPDX-License-Identifier: Apache-2.0
#include "sandbox/seccomp_prebuilt.hpp"

#include <seccomp.h>

#include <algorithm>

#include "sandbox/seccomp.hpp"

namespace bridle::sandbox::seccomp::prebuilt {
namespace {

using policy::SeccompProfile;

constexpr SeccompProfile kAll[] = {SeccompProfile::kBaseline, SeccompProfile::kNoNetwork,
                                   SeccompProfile::kNoWrite};

// The table was made for this process's architecture and libseccomp.
bool is_usable(const Table& table) {
    if (table.arch == 0 || table.arch != native_architecture()) return false;
    const scmp_version* v = seccomp_version();
    return v != nullptr && v->major == table.version[0] && v->minor == table.version[1] &&
           v->micro == table.version[2];
}

std::vector<sock_filter> copy(const sock_filter* program, std::size_t length) {
    return std::vector<sock_filter>(program, program + length);
}

}  // namespace

unsigned key_for(const std::vector<SeccompProfile>& profiles) {
    unsigned key = 0;
    unsigned digit = 1;
    for (const SeccompProfile p : profiles) {
        key += digit * (static_cast<unsigned>(p) + 1);
        digit *= 4;
    }
    return key;
}

std::vector<std::vector<SeccompProfile>> every_selection() {
    std::vector<std::vector<SeccompProfile>> all{{}};
    for (std::size_t begin = 0; begin < all.size(); ++begin) {
        const std::vector<SeccompProfile> base = all[begin];  // a copy: `all` grows below
        for (const SeccompProfile p : kAll) {
            if (std::find(base.begin(), base.end(), p) != base.end()) continue;
            std::vector<SeccompProfile> longer = base;
            longer.push_back(p);
            all.push_back(std::move(longer));
        }
    }
    return all;
}

std::optional<std::vector<sock_filter>> filter(const Table& table,
                                               const std::vector<SeccompProfile>& profiles,
                                               bool exec_once) {
    if (!is_usable(table) || profiles.size() > std::size(kAll)) return std::nullopt;
    const unsigned key = key_for(profiles);
    for (std::size_t i = 0; i < table.count; ++i) {
        const Entry& e = table.entries[i];
        if (e.key == key && e.exec_once == exec_once) return copy(e.program, e.length);
    }
    return std::nullopt;
}

std::optional<std::vector<sock_filter>> ceiling(const Table& table) {
    if (!is_usable(table) || table.ceiling_length == 0) return std::nullopt;
    return copy(table.ceiling, table.ceiling_length);
}

}  // namespace bridle::sandbox::seccomp::prebuilt
