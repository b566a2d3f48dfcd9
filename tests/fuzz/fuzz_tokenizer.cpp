// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the request tokenizer (src/command/tokenizer.hpp), fed the raw bytes of an
// SSH_ORIGINAL_COMMAND. Beyond "no crash, no sanitizer report" it checks what the grammar
// promises: a refusal says where and why; accepted words hold no forbidden byte; and quoting
// every word in '...' and tokenizing again gives the same words back (nothing is expanded).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/tokenizer.hpp"
#include "fuzz_support.hpp"

using bridle::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto words = bridle::command::tokenize(text);
    if (!words) {
        check(!words.error().message.empty(), "a refusal says why");
        check(words.error().location.rfind("column ", 0) == 0, "a refusal gives a column");
        return 0;
    }
    check(size <= bridle::command::kMaxRequestBytes, "oversized requests are refused");
    check(!words.value().empty(), "an accepted request has at least one word");

    std::size_t total = 0;
    std::string requoted;
    for (const std::string& word : words.value()) {
        total += word.size();
        for (const char c : word) {
            const auto byte = static_cast<unsigned char>(c);
            check(byte >= 0x20 && byte != 0x7f, "no control byte survives into a word");
        }
        if (!requoted.empty()) requoted += ' ';
        requoted += '\'';
        for (const char c : word) {
            if (c == '\'') {
                requoted += "'\\''";
            } else {
                requoted += c;
            }
        }
        requoted += '\'';
    }
    check(total <= size, "words are never longer than the text they came from");

    if (requoted.size() <= bridle::command::kMaxRequestBytes) {
        const auto again = bridle::command::tokenize(requoted);
        check(again.ok(), "single-quoted words tokenize");
        check(again.value() == words.value(), "single-quoted words come back unchanged");
    }
    return 0;
}
