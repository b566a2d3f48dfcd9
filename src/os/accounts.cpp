// SPDX-License-Identifier: Apache-2.0
#include "os/accounts.hpp"

#include <fcntl.h>
#include <nss.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <string>

#include "os/fd.hpp"

namespace bridle::os {
namespace {

// The databases behind getpwnam, getpwuid, getgrnam and getgrouplist (initgroups falls back to
// group's line when it has none of its own).
constexpr std::array<std::string_view, 3> kDatabases{"passwd", "group", "initgroups"};
constexpr std::array<std::string_view, 2> kSources{"files", "systemd"};

// Compared as glibc compares them, ASCII letters in either case (what std::tolower does in the
// "C" locale bridle runs in, without its locale tables: their first touch is a page fault).
bool same_word(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

bool is_one_of(std::string_view word, const auto& words) {
    return std::ranges::any_of(words, [&](std::string_view w) { return same_word(word, w); });
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// A line's service specification (after "passwd:"): at least one source, each of kSources;
// the action items in brackets ([NOTFOUND=return]) are skipped.
bool known_sources_only(std::string_view spec) {
    bool any = false;
    std::size_t i = 0;
    while (i < spec.size()) {
        if (spec[i] == ' ' || spec[i] == '\t' || spec[i] == '\r') {
            ++i;
        } else if (spec[i] == '[') {
            const std::size_t end = spec.find(']', i);
            if (end == std::string_view::npos) return false;
            i = end + 1;
        } else {
            const std::size_t end = std::min(spec.find_first_of(" \t\r[", i), spec.size());
            if (!is_one_of(spec.substr(i, end - i), kSources)) return false;
            any = true;
            i = end;
        }
    }
    return any;
}

}  // namespace

bool files_suffice(std::string_view conf) {
    while (!conf.empty()) {
        const std::size_t newline = std::min(conf.find('\n'), conf.size());
        std::string_view line = conf.substr(0, newline);
        conf.remove_prefix(std::min(newline + 1, conf.size()));
        line = line.substr(0, std::min(line.find('#'), line.size()));
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // glibc skips such a line too
        if (is_one_of(trim(line.substr(0, colon)), kDatabases) &&
            !known_sources_only(line.substr(colon + 1))) {
            return false;
        }
    }
    return true;
}

bool files_suffice() {
    constexpr std::size_t kLimit = 64 * 1024;
    const UniqueFd fd(::open("/etc/nsswitch.conf", O_RDONLY | O_CLOEXEC | O_NOCTTY));
    std::string text;
    return fd.get() >= 0 && read_to_end(fd.get(), text, 4096, kLimit) == ReadEnd::kEnd &&
           files_suffice(text);
}

namespace {

std::atomic<bool> files_only{false};

// Before each lookup: after use_files_only(), glibc's passwd, group and initgroups lookups are
// configured for `files` once, before the first of them.
bool lookups_ready() {
    if (!files_only.load()) return true;
    static const bool configured = std::ranges::all_of(kDatabases, [](std::string_view db) {
        return ::__nss_configure_lookup(std::string(db).c_str(), "files") == 0;
    });
    if (!configured) errno = ENOMEM;
    return configured;
}

std::optional<std::string> own_name_from_passwd(uid_t uid) {
    constexpr std::size_t kLimit = 64 * 1024 * 1024;
    const UniqueFd fd(::open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY));
    std::string text;
    if (fd.get() < 0 || read_to_end(fd.get(), text, 4096, kLimit) != ReadEnd::kEnd) return {};
    return passwd_name_of(text, uid);
}

}  // namespace

void use_files_only() {
    files_only.store(true);
}

std::optional<std::string> passwd_name_of(std::string_view text, uid_t uid) {
    while (!text.empty()) {
        const std::size_t newline = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(std::min(newline + 1, text.size()));
        if (std::ranges::count(line, ':') != 6) continue;  // seven fields
        std::array<std::string_view, 7> field;
        for (std::string_view& f : field) {
            const std::size_t colon = std::min(line.find(':'), line.size());
            f = line.substr(0, colon);
            line.remove_prefix(std::min(colon + 1, line.size()));
        }
        const std::string_view name = field[0], id = field[2];
        const bool plain_name = !name.empty() && name.front() != '+' && name.front() != '-' &&
                                name.front() != '#' && std::ranges::none_of(name, [](char c) {
                                    return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
                                });
        // Decimal digits alone (from_chars takes no sign or blank), within uid_t.
        uid_t value = 0;
        const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
        if (!plain_name || id.empty() || error != std::errc{} || end != id.data() + id.size()) {
            continue;
        }
        if (value == uid) return std::string(name);
    }
    return std::nullopt;
}

std::optional<std::string> own_account_name() {
    static std::mutex mutex;
    static uid_t looked_up_for = static_cast<uid_t>(-1);
    static std::optional<std::string> name;
    const std::lock_guard lock(mutex);
    const uid_t euid = ::geteuid();
    if (euid != looked_up_for) {
        if (files_only.load()) {
            name = own_name_from_passwd(euid);
        } else {
            const passwd* pw = user_with_uid(euid);
            name = pw ? std::optional<std::string>(pw->pw_name) : std::nullopt;
        }
        looked_up_for = euid;
    }
    return name;
}

const passwd* user_named(const std::string& name) {
    return lookups_ready() ? ::getpwnam(name.c_str()) : nullptr;
}

const passwd* user_with_uid(uid_t uid) {
    return lookups_ready() ? ::getpwuid(uid) : nullptr;
}

const group* group_named(const std::string& name) {
    return lookups_ready() ? ::getgrnam(name.c_str()) : nullptr;
}

int group_list(const std::string& user, gid_t group, gid_t* groups, int* count) {
    return lookups_ready() ? ::getgrouplist(user.c_str(), group, groups, count) : -1;
}

}  // namespace bridle::os
