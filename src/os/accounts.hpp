// SPDX-License-Identifier: Apache-2.0
// Accounts and groups from /etc/passwd and /etc/group alone, for the forced command's binary
// (src/front.cpp). That binary links glibc statically. glibc has `files` built in, but it loads
// any other NSS source (systemd, sss, ldap, ...) with a dlopen of its own. That dlopen needs the
// shared libc of the exact version bridle was linked against, so the front never lets it
// happen: it reads the files alone, and hands a request to bridle-full (linked dynamically)
// when the system names sources the files cannot stand in for.
#pragma once

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

// From now on, this process's passwd, group and initgroups lookups read the files alone and
// never load a module. false if glibc refuses.
bool use_files_only();

// The name of this process's account (its effective uid's), or nothing when it has none. Looked
// up once per effective uid: the front asks before it takes a request, and the request's
// records ask again (each getpwuid reads /etc/passwd anew). Thread-safe.
std::optional<std::string> own_account_name();

}  // namespace bridle::os
