// SPDX-License-Identifier: Apache-2.0
// Escape the control characters in a command's output (output_hygiene.hpp): a small UTF-8
// state machine over the bytes, carried across chunks.
#include "gate/output_hygiene.hpp"

#include <array>
#include <cstdio>

namespace bridle::gate {
namespace {

void hex(unsigned char byte, std::string& out) {
    std::array<char, 5> text{};
    std::snprintf(text.data(), text.size(), "\\x%02x", byte);
    out += text.data();
}

bool is_continuation(unsigned char byte) {
    return byte >= 0x80 && byte <= 0xbf;
}

// The length of the character a lead byte starts, or 0 for a byte that starts none. C0/C1
// (overlong) and F5..FF never start a character.
std::size_t length_of(unsigned char lead) {
    if (lead >= 0xc2 && lead <= 0xdf) return 2;
    if (lead >= 0xe0 && lead <= 0xef) return 3;
    if (lead >= 0xf0 && lead <= 0xf4) return 4;
    return 0;
}

}  // namespace

void OutputEscaper::escape(std::string_view bytes, std::string& out) {
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        if (expected_ != 0) {
            if (is_continuation(byte)) {
                pending_ += c;
                if (pending_.size() < expected_) continue;
                // U+0080..U+009F (C2 80..C2 9F) are the C1 controls: CSI is U+009B.
                const auto lead = static_cast<unsigned char>(pending_[0]);
                const auto second = static_cast<unsigned char>(pending_[1]);
                if (lead == 0xc2 && second <= 0x9f) {
                    for (const char p : pending_) hex(static_cast<unsigned char>(p), out);
                } else {
                    out += pending_;
                }
                pending_.clear();
                expected_ = 0;
                continue;
            }
            finish(out);  // cut short by this byte, which starts afresh
        }
        if (const std::size_t length = length_of(byte); length != 0) {
            pending_.assign(1, c);
            expected_ = length;
        } else if (byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7f)) {
            out += c;
        } else {
            hex(byte, out);  // C0 controls, DEL, a stray continuation or invalid byte
        }
    }
}

void OutputEscaper::finish(std::string& out) {
    for (const char p : pending_) hex(static_cast<unsigned char>(p), out);
    pending_.clear();
    expected_ = 0;
}

}  // namespace bridle::gate
