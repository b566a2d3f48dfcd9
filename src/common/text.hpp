// SPDX-License-Identifier: Apache-2.0
// Text helpers for untrusted bytes: UTF-8 decoding and quoting for logs and messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridle {

// One decoded code point and its length in bytes; nullopt for an invalid or overlong
// sequence, a surrogate, or a value above U+10FFFF.
struct CodePoint {
    char32_t value;
    std::size_t length;
};
std::optional<CodePoint> decode_utf8(std::string_view text, std::size_t offset);

// Characters that may never appear in a request, quoted or not: C0 and C1 controls, DEL,
// bidirectional controls, zero-width and other invisible format characters, variation
// selectors and fillers that render as nothing, line and paragraph separators. Returns a short name
// ("control character U+0007") or nullopt.
std::optional<std::string> forbidden_character_name(char32_t cp);

// Render untrusted bytes for a log line or a message: printable ASCII as itself, backslash
// and double quote escaped (kAsIs: kept, for a table column that is never parsed back),
// printable non-ASCII as itself, everything else as \n \t \xHH or \u{XXXX}; cut at
// max_bytes of input with a trailing "...(N bytes)". Never emits a control character.
enum class Quotes { kEscaped, kAsIs };
std::string escape_text(std::string_view bytes, std::size_t max_bytes = 900,
                        Quotes quotes = Quotes::kEscaped);

// escape_text wrapped in double quotes.
std::string quote_text(std::string_view bytes, std::size_t max_bytes = 900);

// A byte count for messages: "2 MiB" or "64 KiB" when exact, else "1536 bytes".
std::string format_bytes(std::uint64_t bytes);

// The words with `separator` between each two: join({"a", "b"}, "|") is "a|b".
std::string join(const std::vector<std::string>& words, std::string_view separator);

// The deepest nesting of JSON arrays and objects in `text`, counted outside strings, for
// refusing input before a recursive parser sees it. Stops counting once past `limit` (and
// returns limit + 1). Linear, no allocation.
int json_nesting_depth(std::string_view text, int limit);

}  // namespace bridle
