// SPDX-License-Identifier: Apache-2.0
// A unified diff of two texts, line by line (Myers' O(ND) algorithm), bounded in work and in
// size: what a write's audit record shows of a non-secret file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bridle {

struct DiffLimits {
    std::size_t max_lines = 20000;  // lines of both texts together; beyond: no diff
    std::size_t max_edits = 2000;   // lines changed; beyond: no diff (the work is O(N*D))
    std::size_t max_bytes = 16384;  // of the diff's text; beyond: cut, and a last line says so
    std::size_t context = 3;        // unchanged lines around each change
};

// "--- a/LABEL\n+++ b/LABEL\n@@ -1,3 +1,4 @@\n ..." ; "" when the texts are equal; a one-line
// note ("(no diff: ...)") when a limit stops it. A text without a final newline gets
// "\ No newline at end of file" as diff(1) writes it.
std::string unified_diff(std::string_view before, std::string_view after, const std::string& label,
                         const DiffLimits& limits = {});

}  // namespace bridle
