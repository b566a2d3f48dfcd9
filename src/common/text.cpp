// SPDX-License-Identifier: Apache-2.0
// UTF-8 decoding and log-safe quoting of untrusted bytes.
#include "common/text.hpp"

#include <array>
#include <cstdio>

namespace bridle {

std::optional<CodePoint> decode_utf8(std::string_view text, std::size_t offset) {
    if (offset >= text.size()) return std::nullopt;
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[offset + i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return CodePoint{lead, 1};

    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;  // smallest value that needs this many bytes: anything less is overlong
    if ((lead & 0xE0) == 0xC0) {
        length = 2, value = lead & 0x1Fu, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, value = lead & 0x0Fu, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, value = lead & 0x07u, minimum = 0x10000;
    } else {
        return std::nullopt;  // a continuation byte or 0xF8..0xFF where a character should start
    }
    if (offset + length > text.size()) return std::nullopt;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return std::nullopt;
        value = (value << 6) | (byte(i) & 0x3Fu);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return std::nullopt;
    }
    return CodePoint{value, length};
}

std::optional<std::string> forbidden_character_name(char32_t cp) {
    std::array<char, 48> buffer{};
    const auto named = [&](const char* what) {
        std::snprintf(buffer.data(), buffer.size(), "%s U+%04X", what, static_cast<unsigned>(cp));
        return std::string(buffer.data());
    };
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return named("control character");
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
        return named("bidirectional control");
    }
    // U+180E and U+206A..206F are invisible format characters too; the tag block
    // U+E0000..E007F holds invisible copies of ASCII that models read ("ASCII smuggling").
    if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD ||
        (cp >= 0x2061 && cp <= 0x2064) || (cp >= 0xFFF9 && cp <= 0xFFFB) || cp == 0x180E ||
        (cp >= 0x206A && cp <= 0x206F) || (cp >= 0xE0000 && cp <= 0xE007F)) {
        return named("invisible format character");
    }
    // Characters that render as nothing although they are not format characters: variation
    // selectors, the combining grapheme joiner, Hangul fillers.
    if ((cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF) || cp == 0x034F ||
        cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0) {
        return named("invisible character");
    }
    if (cp == 0x2028 || cp == 0x2029) return named("line or paragraph separator");
    return std::nullopt;
}

std::string escape_text(std::string_view bytes, std::size_t max_bytes, Quotes quotes) {
    std::string out;
    const std::size_t shown = bytes.size() < max_bytes ? bytes.size() : max_bytes;
    out.reserve(shown + 16);
    std::array<char, 16> buffer{};
    std::size_t i = 0;
    while (i < shown) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if ((c == '\\' || c == '"') && quotes == Quotes::kEscaped) {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c == '\n' || c == '\t' || c == '\r') {
            out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
            ++i;
            continue;
        }
        const auto cp = decode_utf8(bytes.substr(0, shown), i);
        if (cp && cp->length > 1 && !forbidden_character_name(cp->value)) {
            out.append(bytes.substr(i, cp->length));  // printable non-ASCII stays readable
            i += cp->length;
        } else if (cp && cp->length > 1) {
            std::snprintf(buffer.data(), buffer.size(), "\\u{%04X}",
                          static_cast<unsigned>(cp->value));
            out += buffer.data();
            i += cp->length;
        } else {
            std::snprintf(buffer.data(), buffer.size(), "\\x%02X", c);
            out += buffer.data();
            ++i;
        }
    }
    if (shown < bytes.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

std::string quote_text(std::string_view bytes, std::size_t max_bytes) {
    return "\"" + escape_text(bytes, max_bytes) + "\"";
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
    std::string out;
    for (const std::string& word : words) {
        if (!out.empty()) out += separator;
        out += word;
    }
    return out;
}

std::string format_bytes(std::uint64_t bytes) {
    std::array<char, 32> buffer{};
    if (bytes >= 1024ull * 1024 && bytes % (1024ull * 1024) == 0) {
        std::snprintf(buffer.data(), buffer.size(), "%llu MiB",
                      static_cast<unsigned long long>(bytes / (1024ull * 1024)));
    } else if (bytes >= 1024 && bytes % 1024 == 0) {
        std::snprintf(buffer.data(), buffer.size(), "%llu KiB",
                      static_cast<unsigned long long>(bytes / 1024));
    } else {
        std::snprintf(buffer.data(), buffer.size(), "%llu %s",
                      static_cast<unsigned long long>(bytes), bytes == 1 ? "byte" : "bytes");
    }
    return buffer.data();
}

int json_nesting_depth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return limit + 1;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

}  // namespace bridle
