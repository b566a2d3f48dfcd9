// SPDX-License-Identifier: Apache-2.0
// Unified diff: Myers' greedy shortest edit script over lines, keeping each round's frontier
// (only the diagonals it reached, so memory is O(D^2)), walked back into an edit script, then
// grouped into hunks with context as diff -u prints them.
#include "common/unified_diff.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace bridle {
namespace {

struct Lines {
    std::vector<std::string_view> text;
    bool last_unterminated = false;
};

Lines split_lines(std::string_view text) {
    Lines lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            lines.text.push_back(text.substr(start));
            lines.last_unterminated = true;
            break;
        }
        lines.text.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

enum class Op { kEqual, kDelete, kInsert };
struct Edit {
    Op op;
    std::size_t a;  // line index in `before` (kEqual, kDelete)
    std::size_t b;  // line index in `after` (kEqual, kInsert)
};

// The shortest edit script, or nullopt when it needs more than max_edits edits.
std::optional<std::vector<Edit>> edit_script(const Lines& a, const Lines& b,
                                             std::size_t max_edits) {
    const auto n = static_cast<long>(a.text.size());
    const auto m = static_cast<long>(b.text.size());
    const long max = std::min<long>(n + m, static_cast<long>(max_edits));
    const long offset = max + 1;
    std::vector<long> v(static_cast<std::size_t>(2 * max + 3), 0);
    // trace[d]: v[k] for k in [-d-1, d+1] at the start of round d.
    std::vector<std::vector<long>> trace;
    const auto at = [&](long k) -> long& { return v[static_cast<std::size_t>(k + offset)]; };
    const auto equal = [&](long x, long y) {
        return a.text[static_cast<std::size_t>(x)] == b.text[static_cast<std::size_t>(y)] &&
               (x != n - 1 || a.last_unterminated == (y == m - 1 && b.last_unterminated)) &&
               (y != m - 1 || b.last_unterminated == (x == n - 1 && a.last_unterminated));
    };
    long found = -1;
    for (long d = 0; d <= max && found < 0; ++d) {
        trace.emplace_back(v.begin() + (offset - d - 1), v.begin() + (offset + d + 2));
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? at(k + 1) : at(k - 1) + 1;
            long y = x - k;
            while (x < n && y < m && equal(x, y)) ++x, ++y;
            at(k) = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
    }
    if (found < 0) return std::nullopt;

    std::vector<Edit> edits;
    long x = n, y = m;
    for (long d = found; d >= 0; --d) {
        const std::vector<long>& prev = trace[static_cast<std::size_t>(d)];
        const auto was = [&](long k) { return prev[static_cast<std::size_t>(k + d + 1)]; };
        const long k = x - y;
        const bool down = k == -d || (k != d && was(k - 1) < was(k + 1));
        const long prev_k = down ? k + 1 : k - 1;
        const long prev_x = d == 0 ? 0 : was(prev_k);
        const long prev_y = d == 0 ? 0 : prev_x - prev_k;
        while (x > prev_x && y > prev_y) {
            --x, --y;
            edits.push_back({Op::kEqual, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
        }
        if (d == 0) break;
        if (down) {
            --y;
            edits.push_back(
                {Op::kInsert, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
        } else {
            --x;
            edits.push_back(
                {Op::kDelete, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
        }
    }
    std::reverse(edits.begin(), edits.end());
    return edits;
}

std::string range(std::size_t start, std::size_t count) {
    // diff -u: "l,s" with l 1-based; an empty range names the line before it.
    const std::size_t first = count == 0 ? start : start + 1;
    return count == 1 ? std::to_string(first) : std::to_string(first) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, const std::string& label,
                         const DiffLimits& limits) {
    if (before == after) return "";
    const Lines a = split_lines(before), b = split_lines(after);
    if (a.text.size() + b.text.size() > limits.max_lines) {
        return "(no diff: more than " + std::to_string(limits.max_lines) + " lines)\n";
    }
    const std::optional<std::vector<Edit>> script = edit_script(a, b, limits.max_edits);
    if (!script) {
        return "(no diff: more than " + std::to_string(limits.max_edits) + " lines changed)\n";
    }
    const std::vector<Edit>& edits = *script;
    std::string out = "--- a" + label + "\n+++ b" + label + "\n";
    const auto line = [&](char sign, const Lines& from, std::size_t i) {
        out += sign;
        out += from.text[i];
        out += '\n';
        if (i + 1 == from.text.size() && from.last_unterminated) {
            out += "\\ No newline at end of file\n";
        }
    };
    std::size_t i = 0;
    while (i < edits.size()) {
        if (edits[i].op == Op::kEqual) {
            ++i;
            continue;
        }
        // A hunk: from `context` lines before this change to `context` lines after the last
        // change that is no more than 2 * context equal lines from the one before it.
        const std::size_t begin = i >= limits.context ? i - limits.context : 0;
        std::size_t end = i;
        std::size_t equal_run = 0;
        for (std::size_t j = i; j < edits.size(); ++j) {
            if (edits[j].op == Op::kEqual) {
                if (++equal_run > 2 * limits.context) break;
            } else {
                equal_run = 0;
                end = j + 1;
            }
        }
        end = std::min(edits.size(), end + limits.context);
        std::size_t a_start = 0, b_start = 0, a_count = 0, b_count = 0;
        bool a_set = false, b_set = false;
        for (std::size_t j = begin; j < end; ++j) {
            const Edit& e = edits[j];
            if (e.op != Op::kInsert) {
                if (!a_set) a_start = e.a, a_set = true;
                ++a_count;
            }
            if (e.op != Op::kDelete) {
                if (!b_set) b_start = e.b, b_set = true;
                ++b_count;
            }
        }
        if (!a_set) a_start = edits[begin].a;
        if (!b_set) b_start = edits[begin].b;
        out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n";
        for (std::size_t j = begin; j < end; ++j) {
            const Edit& e = edits[j];
            if (e.op == Op::kEqual) line(' ', a, e.a);
            if (e.op == Op::kDelete) line('-', a, e.a);
            if (e.op == Op::kInsert) line('+', b, e.b);
        }
        if (out.size() > limits.max_bytes) {
            out.resize(limits.max_bytes);
            out += "\n(diff cut at " + std::to_string(limits.max_bytes) + " bytes)\n";
            return out;
        }
        i = end;
    }
    return out;
}

}  // namespace bridle
