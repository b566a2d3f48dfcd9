// SPDX-License-Identifier: Apache-2.0
// The agent account's authorized keys, as text: parse a public key strictly, parse the
// root-owned keys file, and compute its new content for enroll and revoke. No OS calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bridle::admin {

// Where the forced command lives; every enrolled key runs it (authorized_keys command=).
inline constexpr std::string_view kBridlePath = "/usr/bin/bridle";
// The agent account and its keys file, which only root can write. sshd reads it through
// `AuthorizedKeysFile /etc/bridle/authorized_keys/%u` in the package's sshd drop-in.
inline constexpr std::string_view kAgentUser = "ai-agent";
inline constexpr std::string_view kKeysDir = "/etc/bridle/authorized_keys";
inline constexpr std::string_view kDefaultKeysFile = "/etc/bridle/authorized_keys/ai-agent";

// A public key as it appears in a .pub file or after the options of an authorized_keys line.
struct PublicKey {
    std::string type;         // "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ...
    std::string base64;       // the key blob, canonical base64
    std::string comment;      // may be empty; printable text only
    unsigned bits = 0;        // 256 for ed25519, the modulus size for RSA, the curve for ECDSA
    std::string fingerprint;  // "SHA256:..." as ssh-keygen -l prints it
};

// The content of a public key file: exactly one line "TYPE BASE64 [COMMENT]". Refuses
// options in front of the key (bridle adds its own), several keys, certificates, DSA, RSA
// under 2048 bits, unknown types, a blob that does not decode to exactly the named type, and
// control characters anywhere.
Result<PublicKey> parse_public_key(std::string_view text);

// One line of the keys file. Lines bridle does not understand are kept verbatim.
struct KeyLine {
    std::size_t number = 0;           // 1-based
    std::string text;                 // without the newline
    std::optional<PublicKey> key;     // set for a parsable key line
    std::string options;              // the options field, verbatim ("" when none)
    std::optional<std::string> name;  // --key NAME of a forced bridle command, when there is one
    std::string expiry;               // expiry-time="..." as written ("" when there is none)
    std::string problem;              // why a non-blank, non-comment line is not usable
};

struct KeysFile {
    std::vector<KeyLine> lines;
};

// Parse the keys file. Never fails: unparsable lines carry a `problem` and are kept.
KeysFile parse_keys_file(std::string_view content);

// The line enroll writes: restrict,[expiry-time="TIMESPEC",]command="/usr/bin/bridle --key
// NAME[ --policy FILE]" KEY. `policy_file` is empty or an absolute path of [A-Za-z0-9._/@+-]
// characters; `expiry` is empty or an OpenSSH timespec (key_expiry.hpp, expiry_timespec).
std::string format_key_line(std::string_view name, const PublicKey& key,
                            std::string_view policy_file, std::string_view expiry = {});

// The file's new content with the key added at the end. Refuses an invalid name or policy
// path, a name that is already enrolled, and a key that is already in the file (under any
// name or options: sshd would use the first line with that key).
Result<std::string> add_key(const KeysFile& file, std::string_view name, const PublicKey& key,
                            std::string_view policy_file, std::string_view expiry = {});

// An approver's key (docs/approvals.md): restrict,command="/usr/bin/bridle --approver NAME
// --approver-key SHA256:...[ --policy FILE]" KEY. Its forced command only lists, shows,
// approves and rejects.
std::string format_approver_line(std::string_view name, const PublicKey& key,
                                 std::string_view policy_file);
// As add_key, with the approver's line; names are shared with agent keys.
Result<std::string> add_approver_key(const KeysFile& file, std::string_view name,
                                     const PublicKey& key, std::string_view policy_file);

// The file's new content without the lines of key NAME. Refuses a name that is not enrolled.
Result<std::string> remove_key(const KeysFile& file, std::string_view name);

// RFC 4648 base64 with padding; decode refuses anything but the canonical encoding.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace bridle::admin
