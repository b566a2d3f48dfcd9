// SPDX-License-Identifier: Apache-2.0
// The agent account's authorized keys, as text (see authorized_keys.hpp). The key blob is
// checked field by field against its type (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, and
// OpenSSH PROTOCOL.u2f for the security-key types), so that a line sshd would skip or read
// differently is refused before it is written.
#include "admin/authorized_keys.hpp"

#include <array>
#include <cstdint>

#include "admin/key_expiry.hpp"
#include "common/names.hpp"
#include "common/text.hpp"
#include "policy/sha256.hpp"

namespace bridle::admin {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 16 * 1024;
constexpr std::size_t kMaxCommentBytes = 256;
constexpr unsigned kMinRsaBits = 2048;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// The first word of `s` (up to a space or tab) and the rest after the separating blanks.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    std::size_t end = 0;
    while (end < s.size() && !is_space(s[end])) ++end;
    std::string_view rest = s.substr(end);
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    return {s.substr(0, end), rest};
}

// Reads the SSH wire format: uint32 big-endian lengths followed by bytes.
class WireReader {
  public:
    explicit WireReader(std::string_view data) : data_(data) {}

    std::optional<std::string_view> string() {
        if (data_.size() < 4) return std::nullopt;
        std::uint32_t n = 0;
        for (int i = 0; i < 4; ++i)
            n = (n << 8) | static_cast<unsigned char>(data_[static_cast<std::size_t>(i)]);
        data_.remove_prefix(4);
        if (n > data_.size()) return std::nullopt;
        std::string_view out = data_.substr(0, n);
        data_.remove_prefix(n);
        return out;
    }
    bool done() const { return data_.empty(); }

  private:
    std::string_view data_;
};

// A positive mpint (RFC 4251 5) in minimal form; returns its size in bits, 0 when invalid.
unsigned positive_mpint_bits(std::string_view m) {
    if (m.empty()) return 0;
    const auto first = static_cast<unsigned char>(m[0]);
    if (first & 0x80) return 0;  // negative
    if (first == 0 && (m.size() == 1 || !(static_cast<unsigned char>(m[1]) & 0x80)))
        return 0;  // not minimal
    std::size_t i = first == 0 ? 1 : 0;
    unsigned top = static_cast<unsigned char>(m[i]);
    unsigned bits = static_cast<unsigned>((m.size() - i - 1) * 8);
    while (top) ++bits, top >>= 1;
    return bits;
}

struct EcCurve {
    std::string_view type;
    std::string_view name;
    std::size_t point_bytes;  // uncompressed: 0x04 || X || Y
    unsigned bits;
};
constexpr std::array<EcCurve, 4> kCurves{{
    {"ecdsa-sha2-nistp256", "nistp256", 65, 256},
    {"ecdsa-sha2-nistp384", "nistp384", 97, 384},
    {"ecdsa-sha2-nistp521", "nistp521", 133, 521},
    {"sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 65, 256},
}};

bool is_supported_type(std::string_view t) {
    if (t == "ssh-ed25519" || t == "sk-ssh-ed25519@openssh.com" || t == "ssh-rsa") return true;
    for (const auto& c : kCurves) {
        if (t == c.type) return true;
    }
    return false;
}

// Looks like a key type, supported or not: decides whether a first word is options.
bool looks_like_key_type(std::string_view t) {
    return is_supported_type(t) || t == "ssh-dss" || t.rfind("ecdsa-sha2-", 0) == 0 ||
           t.rfind("sk-", 0) == 0 || t.find("-cert-v0") != std::string_view::npos ||
           t.rfind("ssh-", 0) == 0;
}

// Checks the decoded blob against `type`; sets the key size. An error names what is wrong.
std::optional<std::string> check_blob(std::string_view type, std::string_view blob,
                                      unsigned& bits) {
    WireReader r(blob);
    const auto name = r.string();
    if (!name || *name != type) return "the key data is not a " + std::string(type) + " key";
    if (type == "ssh-ed25519" || type == "sk-ssh-ed25519@openssh.com") {
        const auto pk = r.string();
        if (!pk || pk->size() != 32) return std::string("the ed25519 public key is not 32 bytes");
        if (type != "ssh-ed25519") {
            const auto application = r.string();
            if (!application || application->empty())
                return std::string("the security key has no application");
        }
        bits = 256;
    } else if (type == "ssh-rsa") {
        const auto e = r.string();
        const auto n = r.string();
        if (!e || !n) return std::string("the RSA key is truncated");
        const unsigned e_bits = positive_mpint_bits(*e);
        if (e_bits < 2 || e_bits > 64) return std::string("the RSA public exponent is invalid");
        if ((static_cast<unsigned char>(e->back()) & 1) == 0)
            return std::string("the RSA public exponent is even");
        bits = positive_mpint_bits(*n);
        if (bits == 0) return std::string("the RSA modulus is invalid");
        if (bits < kMinRsaBits) {
            return "the RSA key has " + std::to_string(bits) + " bits; at least " +
                   std::to_string(kMinRsaBits) + " are required (better: ssh-keygen -t ed25519)";
        }
    } else {
        const EcCurve* curve = nullptr;
        for (const auto& c : kCurves) {
            if (c.type == type) curve = &c;
        }
        if (curve == nullptr) return "unsupported key type " + quote_text(type, 80);
        const auto curve_name = r.string();
        if (!curve_name || *curve_name != curve->name)
            return "the key's curve is not " + std::string(curve->name);
        const auto q = r.string();
        if (!q || q->size() != curve->point_bytes || (*q)[0] != '\x04') {
            return std::string("the ECDSA public point is not an uncompressed point of the curve");
        }
        if (type.rfind("sk-", 0) == 0) {
            const auto application = r.string();
            if (!application || application->empty())
                return std::string("the security key has no application");
        }
        bits = curve->bits;
    }
    if (!r.done()) return std::string("the key data has trailing bytes");
    return std::nullopt;
}

std::string fingerprint_of(std::string_view blob) {
    const std::string hex = policy::sha256_hex(blob);
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    std::string b64 = base64_encode(raw);
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    return "SHA256:" + b64;
}

// Refuses control characters and invalid UTF-8; names the first offending byte.
std::optional<std::string> check_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto cp = decode_utf8(text, i);
        if (!cp) return "invalid UTF-8 at byte " + std::to_string(i + 1);
        if (cp->value != '\t') {
            if (auto why = forbidden_character_name(cp->value))
                return *why + " at byte " + std::to_string(i + 1);
        }
        i += cp->length;
    }
    return std::nullopt;
}

// "TYPE BASE64 [COMMENT]" after any options.
Result<PublicKey> parse_key_fields(std::string_view text) {
    auto [type, rest] = split_word(text);
    auto [b64, comment] = split_word(rest);
    if (type.empty()) return Error{"no key", ""};
    if (type == "ssh-dss")
        return Error{"DSA keys are refused (OpenSSH 9 disables them): use ssh-keygen -t ed25519",
                     ""};
    if (type.find("-cert-v0") != std::string_view::npos) {
        return Error{"certificates are refused: enrol the plain public key", ""};
    }
    if (!is_supported_type(type)) return Error{"unsupported key type " + quote_text(type, 80), ""};
    if (b64.empty()) return Error{"the key has no data after its type", ""};
    const auto blob = base64_decode(b64);
    if (!blob) return Error{"the key data is not valid base64", ""};
    PublicKey key;
    if (auto why = check_blob(type, *blob, key.bits)) return Error{*why, ""};
    key.type = std::string(type);
    key.base64 = std::string(b64);
    key.comment = std::string(trim(comment));
    if (key.comment.size() > kMaxCommentBytes)
        return Error{"the key's comment is longer than 256 bytes", ""};
    key.fingerprint = fingerprint_of(*blob);
    return key;
}

// Splits an authorized_keys line into its options field and the key part (sshd's rule: the
// options end at the first space or tab outside double quotes; \" does not end a quote).
std::optional<std::pair<std::string_view, std::string_view>> split_options(std::string_view line) {
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && is_space(c)) {
            return std::pair{line.substr(0, i), trim(line.substr(i))};
        }
    }
    return std::nullopt;
}

// The value of NAME="..." (command, expiry-time) in an options field, unescaped; nullopt when
// there is none.
std::optional<std::string> quoted_option(std::string_view options, std::string_view name) {
    const std::string prefix = std::string(name) + "=\"";
    std::size_t i = 0;
    while (i < options.size()) {
        std::size_t end = i;
        bool quoted = false;
        for (; end < options.size(); ++end) {
            const char c = options[end];
            if (quoted && c == '\\' && end + 1 < options.size()) {
                ++end;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == ',') {
                break;
            }
        }
        const std::string_view option = options.substr(i, end - i);
        if (option.size() > prefix.size() && option.substr(0, prefix.size()) == prefix &&
            option.back() == '"') {
            std::string value;
            const std::string_view inner =
                option.substr(prefix.size(), option.size() - prefix.size() - 1);
            for (std::size_t k = 0; k < inner.size(); ++k) {
                if (inner[k] == '\\' && k + 1 < inner.size() && inner[k + 1] == '"') ++k;
                value.push_back(inner[k]);
            }
            return value;
        }
        i = end + 1;
    }
    return std::nullopt;
}

// --key NAME (or --key=NAME), or an approver key's --approver NAME, of a bridle forced command
// line: agent and approver keys share one set of names.
std::optional<std::string> bridle_key_name(std::string_view command) {
    std::vector<std::string_view> words;
    for (command = trim(command); !command.empty();) {
        auto [word, rest] = split_word(command);
        words.push_back(word);
        command = rest;
    }
    if (words.empty()) return std::nullopt;
    const std::string_view program = words[0].substr(words[0].rfind('/') + 1);
    if (program != "bridle") return std::nullopt;
    for (std::size_t i = 1; i < words.size(); ++i) {
        if ((words[i] == "--key" || words[i] == "--approver") && i + 1 < words.size())
            return std::string(words[i + 1]);
        if (words[i].rfind("--key=", 0) == 0) return std::string(words[i].substr(6));
    }
    return std::nullopt;
}

bool is_valid_policy_path(std::string_view path) {
    if (path.empty() || path[0] != '/' || path.size() > 4096) return false;
    for (const char c : path) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' || c == '@' ||
                        c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// The file's lines, each with its newline, leaving out the lines of key `skip` when given.
std::string join_lines(const KeysFile& file, std::optional<std::string_view> skip) {
    std::string out;
    for (const auto& line : file.lines) {
        if (skip && line.name && *line.name == *skip) continue;
        out += line.text;
        out += '\n';
    }
    return out;
}

}  // namespace

Result<PublicKey> parse_public_key(std::string_view text) {
    if (text.size() > kMaxKeyFileBytes)
        return Error{"the key file is larger than 16 KiB: it is not a public key", ""};
    if (text.find('\0') != std::string_view::npos)
        return Error{"the key file contains a NUL byte", ""};
    std::vector<std::string_view> lines;
    for (std::string_view rest = text; !rest.empty();) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        if (!trim(line).empty()) lines.push_back(line);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    if (lines.empty()) return Error{"the key file is empty", ""};
    if (lines.size() > 1)
        return Error{"the key file has " + std::to_string(lines.size()) +
                         " lines: give exactly one public key",
                     ""};
    const std::string_view line = trim(lines[0]);
    if (auto why = check_text(line)) return Error{"the key line has " + *why, ""};
    if (line.front() == '#') return Error{"the key file holds only a comment", ""};
    const std::string_view first = split_word(line).first;
    if (!looks_like_key_type(first)) {
        const auto split = split_options(line);
        if (split && looks_like_key_type(split_word(split->second).first)) {
            return Error{
                "the key line starts with " + quote_text(first, 60) +
                    ", not a key type: authorized_keys options are refused (bridle adds its own restrict,command=)",
                ""};
        }
        return Error{"the key line does not start with a key type", ""};
    }
    return parse_key_fields(line);
}

KeysFile parse_keys_file(std::string_view content) {
    KeysFile file;
    std::size_t number = 0;
    for (std::string_view rest = content; !rest.empty();) {
        const std::size_t nl = rest.find('\n');
        KeyLine line;
        line.number = ++number;
        line.text = std::string(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        const std::string_view t = trim(line.text);
        if (t.empty() || t.front() == '#') {
            file.lines.push_back(std::move(line));
            continue;
        }
        std::string_view key_part = t;
        if (!looks_like_key_type(split_word(t).first)) {
            const auto split = split_options(t);
            if (!split) {
                line.problem = "no key after the options";
                file.lines.push_back(std::move(line));
                continue;
            }
            line.options = std::string(split->first);
            key_part = split->second;
        }
        auto key = parse_key_fields(key_part);
        if (!key) {
            line.problem = key.error().message;
        } else {
            line.key = std::move(key).value();
            if (const auto command = quoted_option(line.options, "command"))
                line.name = bridle_key_name(*command);
            line.expiry = quoted_option(line.options, "expiry-time").value_or("");
        }
        file.lines.push_back(std::move(line));
    }
    return file;
}

std::string format_key_line(std::string_view name, const PublicKey& key,
                            std::string_view policy_file, std::string_view expiry) {
    std::string line = "restrict,";
    if (!expiry.empty()) line += "expiry-time=\"" + std::string(expiry) + "\",";
    line += "command=\"" + std::string(kBridlePath) + " --key " + std::string(name);
    if (!policy_file.empty()) line += " --policy " + std::string(policy_file);
    line += "\" " + key.type + " " + key.base64;
    if (!key.comment.empty()) line += " " + key.comment;
    return line;
}

Result<std::string> add_key(const KeysFile& file, std::string_view name, const PublicKey& key,
                            std::string_view policy_file, std::string_view expiry) {
    if (!expiry.empty() && !parse_timespec(expiry)) {
        return Error{"invalid expiry time " + quote_text(expiry, 40) +
                         ": YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]",
                     ""};
    }
    if (!is_key_name(name)) {
        return Error{"invalid key name " + quote_text(name, 80) +
                         ": use 1 to 64 of [A-Za-z0-9._@-], starting with a letter or digit",
                     ""};
    }
    if (!policy_file.empty() && !is_valid_policy_path(policy_file)) {
        return Error{"invalid --policy " + quote_text(policy_file, 120) +
                         ": an absolute path of [A-Za-z0-9._/@+-]",
                     ""};
    }
    for (const auto& line : file.lines) {
        if (line.name && *line.name == name) {
            return Error{"a key named " + quote_text(name, 80) + " is already enrolled (line " +
                             std::to_string(line.number) +
                             "): revoke it first or choose another name",
                         ""};
        }
        if (line.key && line.key->base64 == key.base64) {
            return Error{"this key (" + key.fingerprint + ") is already in the file" +
                             (line.name ? " as " + quote_text(*line.name, 80)
                                        : std::string(" (an unmanaged line)")) +
                             " at line " + std::to_string(line.number),
                         ""};
        }
    }
    return join_lines(file, std::nullopt) + format_key_line(name, key, policy_file, expiry) + "\n";
}

std::string format_approver_line(std::string_view name, const PublicKey& key,
                                 std::string_view policy_file) {
    std::string line = "restrict,command=\"" + std::string(kBridlePath) + " --approver " +
                       std::string(name) + " --approver-key " + key.fingerprint;
    if (!policy_file.empty()) line += " --policy " + std::string(policy_file);
    line += "\" " + key.type + " " + key.base64;
    if (!key.comment.empty()) line += " " + key.comment;
    return line;
}

Result<std::string> add_approver_key(const KeysFile& file, std::string_view name,
                                     const PublicKey& key, std::string_view policy_file) {
    // The same checks as an agent key's (name, policy path, duplicates); only the forced
    // command differs.
    if (Result<std::string> checked = add_key(file, name, key, policy_file); !checked) {
        return checked;
    }
    return join_lines(file, std::nullopt) + format_approver_line(name, key, policy_file) + "\n";
}

Result<std::string> remove_key(const KeysFile& file, std::string_view name) {
    bool found = false;
    for (const auto& line : file.lines) found = found || (line.name && *line.name == name);
    if (!found)
        return Error{"no key named " + quote_text(name, 80) + " is enrolled (see `bridle keys`)",
                     ""};
    return join_lines(file, name);
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t v =
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
            static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64Alphabet[(v >> s) & 63]);
    }
    if (i < bytes.size()) {
        std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (i + 1 < bytes.size())
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out.push_back(kBase64Alphabet[(v >> 18) & 63]);
        out.push_back(kBase64Alphabet[(v >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? kBase64Alphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::string out;
    std::uint32_t acc = 0;
    int n = 0;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (i < text.size() - 2) return std::nullopt;
            ++pad;
            acc <<= 6;
        } else {
            if (pad) return std::nullopt;
            const auto pos = kBase64Alphabet.find(c);
            if (pos == std::string_view::npos) return std::nullopt;
            acc = (acc << 6) | static_cast<std::uint32_t>(pos);
        }
        if (++n == 4) {
            out.push_back(static_cast<char>((acc >> 16) & 0xff));
            if (pad < 2) out.push_back(static_cast<char>((acc >> 8) & 0xff));
            if (pad < 1) out.push_back(static_cast<char>(acc & 0xff));
            acc = 0;
            n = 0;
        }
    }
    if (base64_encode(out) != text) return std::nullopt;  // non-zero padding bits: not canonical
    return out;
}

}  // namespace bridle::admin
