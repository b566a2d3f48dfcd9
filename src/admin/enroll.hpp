// SPDX-License-Identifier: Apache-2.0
// Front end: key enrolment on the host (enroll, revoke, keys). The keys file is root-owned and
// written atomically; see authorized_keys.hpp for what a valid key and line are.
#pragma once

#include <string>

#include "admin/authorized_keys.hpp"
#include "common/result.hpp"

namespace bridle::admin {

struct KeysOptions {
    std::string file{kDefaultKeysFile};  // --file PATH: the authorized keys file to edit
    std::string policy_file;  // --policy FILE (enroll): added to the key's forced command
    std::string expires;      // --expires 30d|DATE (enroll): the key's expiry-time= option
};

// `bridle enroll --name NAME [--file PATH] [--policy FILE] [--expires 30d|DATE] PUBKEY_FILE`
// ("-": standard input); --expires writes OpenSSH's expiry-time= option (key_expiry.hpp).
// 0 enrolled; 64 malformed key, invalid name or --expires, duplicate name or key; 78 the keys file
// or its directory is unsafe (not root-owned, writable by others, a symlink) or cannot be written.
int enroll(const std::string& name, const std::string& pubkey_file, const KeysOptions& options);

// `bridle enroll --approver NAME [--file PATH] PUBKEY_FILE`: an approver's key, whose forced
// command only answers approval requests (docs/approvals.md). Exit statuses as for enroll.
int enroll_approver(const std::string& name, const std::string& pubkey_file,
                    const KeysOptions& options);

// `bridle revoke [--file PATH] NAME`: 0 removed; 64 no such key; 78 as for enroll.
int revoke(const std::string& name, const KeysOptions& options);

// `bridle keys [--file PATH]`: one line per key (name, type, bits, fingerprint, expiry, last
// use from the journal, comment); lines that are not bridle's are listed as unmanaged. 0, or 78
// when the file cannot be read safely (a journal that cannot be read: a warning).
int list_keys(const KeysOptions& options);

// The pieces, for the tests.
// The keys file's content after checking that it and its directory are safe to trust: a
// regular file (not a symlink) and a directory owned by root (or by the caller when not root),
// writable by no one else. A missing file reads as empty.
Result<std::string> read_keys_file(const std::string& path);
// Replace the keys file with `content`: a temporary file in the same directory, mode 0644
// (root:root when run as root), fsync, rename over the old one, fsync the directory.
Status write_keys_file(const std::string& path, const std::string& content);
// Ask /usr/bin/ssh-keygen -l for the key's fingerprint and compare it with bridle's: a second,
// independent parser. Succeeds with a note on stderr when ssh-keygen is not installed.
Status confirm_with_ssh_keygen(const PublicKey& key);

}  // namespace bridle::admin
