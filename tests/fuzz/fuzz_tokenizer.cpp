// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the request tokenizer (src/command/tokenizer.hpp), fed the raw bytes of an
// SSH_ORIGINAL_COMMAND. Beyond "no crash, no sanitizer report" it checks what the grammar
// promises: a refusal says where and why; accepted words hold no forbidden byte; and quoting
// every word in '...' and tokenizing again gives the same words back (nothing is expanded).
// tokenize_pipeline: the same words where tokenize accepts (no unquoted `|`), and stages that
// each hold words, never more than kMaxStages, whose words together are never longer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/tokenizer.hpp"
#include "fuzz_support.hpp"

using bridle::fuzz::check;

namespace {

void check_pipeline(std::string_view text, const bridle::Result<std::vector<std::string>>& words) {
    const auto stages = bridle::command::tokenize_pipeline(text);
    if (words) {
        check(stages.ok() && stages.value().size() == 1 && stages.value()[0].words == words.value(),
              "without a bar, a pipeline of one stage with tokenize's words");
    }
    if (!stages) {
        check(stages.error().location.rfind("column ", 0) == 0,
              "a pipeline refusal gives a column");
        return;
    }
    check(stages.value().size() <= bridle::command::kMaxStages, "at most kMaxStages stages");
    std::size_t total = 0;
    for (const auto& stage : stages.value()) {
        check(!stage.words.empty(), "no stage is empty");
        check(stage.globbed.size() == stage.words.size(), "a glob flag per word");
        for (const std::string& word : stage.words) total += word.size();
    }
    check(total <= text.size(), "stages' words are never longer than the text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto words = bridle::command::tokenize(text);
    check_pipeline(text, words);
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
