// SPDX-License-Identifier: Apache-2.0
// The canonical text of an approval request, its digest and its short code.
#include "approval/canonical.hpp"

#include <array>
#include <cstdio>

#include "policy/sha256.hpp"

namespace bridle::approval {
namespace {

// A JSON string: quote, backslash and every byte below 0x20 or 0x7f escaped, other bytes as
// they are. One text per value, one value per text.
std::string json_string(const std::string& value) {
    std::string out = "\"";
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            std::array<char, 8> hex{};
            std::snprintf(hex.data(), hex.size(), "\\u%04x", byte);
            out += hex.data();
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

std::string canonical_text(const Binding& b) {
    std::string argv = "[";
    for (std::size_t i = 0; i < b.argv.size(); ++i) {
        argv += (i == 0 ? "" : ",") + json_string(b.argv[i]);
    }
    argv += "]";
    return "bridle approval request v1\n"
           "id: " +
           json_string(b.id) + "\nhost: " + json_string(b.host) + "\nkey: " + json_string(b.key) +
           "\nrule: " + json_string(b.rule) + "\nrun_as: " + json_string(b.run_as) +
           "\nargv: " + argv + "\npolicy: " + json_string(b.policy_sha256) +
           "\nnonce: " + json_string(b.nonce) + "\nexpires: " + std::to_string(b.expires) + "\n";
}

std::string digest_of(const Binding& binding) {
    return policy::sha256_hex(canonical_text(binding));
}

std::string short_code(const std::string& digest_hex) {
    static constexpr char kAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // 32 symbols
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 10 && i < digest_hex.size(); ++i) {  // 10 hex digits: 40 bits
        const char c = digest_hex[i];
        const int v = c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
        bits = bits << 4 | static_cast<std::uint64_t>(v & 0xf);
    }
    std::string code;
    for (int i = 7; i >= 0; --i) {
        code += kAlphabet[(bits >> (5 * i)) & 0x1f];
        if (i == 4) code += '-';
    }
    return code;
}

bool is_approval_id(const std::string& id) {
    if (id.size() != 32) return false;
    for (const char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace bridle::approval
