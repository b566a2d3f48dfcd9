// SPDX-License-Identifier: Apache-2.0
// Accounts and groups from /etc/passwd and /etc/group alone, for the forced command's binary
// (src/front.cpp). That binary links glibc statically. glibc has `files` built in, but it loads
// any other NSS source (systemd, sss, ldap, ...) with a dlopen of its own. That dlopen needs the
// shared libc of the exact version bridle was linked against, so the front never lets it
// happen: it reads the files alone, and hands a request to bridle-full (linked dynamically)
// when the system names sources the files cannot stand in for.
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace bridle::os {

// Whether the passwd, group and initgroups lines of nsswitch.conf (its text) name no source
// but `files` and `systemd`, so that the files answer every lookup the forced command makes.
// systemd's module adds only the dynamic users of running services and the accounts of
// systemd-homed, and no rule runs as either. The front hands over a request when the agent's
// own account is not in the files. Anything the parser does not know gives false.
bool files_suffice(std::string_view nsswitch_conf);

// The same for /etc/nsswitch.conf. false when the file cannot be read, or is over 64 KiB.
bool files_suffice();

// From now on, this process's lookups below read the files alone and never load a module: the
// first of them configures glibc's passwd, group and initgroups lookups for `files` (so a
// request that looks up no account does not pay for it), and own_account_name() reads
// /etc/passwd itself. Only the forced command's binary calls it; bridle-full's lookups use
// whatever nsswitch.conf names.
void use_files_only();

// The name of this process's account (its effective uid's), or nothing when it has none.
// Looked up once per effective uid: the front asks before it takes a request, and the
// request's records ask again. After use_files_only(), the first /etc/passwd line with that
// uid, read as glibc's `files` reads it, but stricter: a line it cannot read is skipped
// (passwd_name_of). Thread-safe.
std::optional<std::string> own_account_name();

// The name on the first line of passwd(5) text whose uid is `uid`. A line is read when it has
// seven fields, a name without blanks or control characters that is not a NIS compat entry
// (+ or -), and a decimal uid; blank and comment lines and any other line are skipped.
std::optional<std::string> passwd_name_of(std::string_view passwd_text, uid_t uid);

// getpwnam, getpwuid, getgrnam and getgrouplist, after use_files_only() from the files
// alone. Every account lookup of bridle goes through these (tests/layout/account_lookups.sh).
// nullptr (or -1) when there is no such entry, or when glibc refused the files-only
// configuration (errno ENOMEM): a lookup that cannot be made as promised is not made.
const passwd* user_named(const std::string& name);
const passwd* user_with_uid(uid_t uid);
const group* group_named(const std::string& name);
int group_list(const std::string& user, gid_t group, gid_t* groups, int* count);

}  // namespace bridle::os
