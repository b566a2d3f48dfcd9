// SPDX-License-Identifier: Apache-2.0
// A files rule's own behaviour: its names for verbs and content types, key checks, and the
// synopses help and denials show (bridle-policy(5), FILES).
#include <algorithm>

#include "common/text.hpp"
#include "policy/model.hpp"

namespace bridle::policy {
namespace {

// "PATH:/etc/nginx/nginx.conf", "PATH:{/etc/a|/etc/b}", "PATH:/etc/nginx/.../{*.conf}",
// with the exceptions after it: "(not *.key)".
std::string describe_paths(const FileRule& rule) {
    std::vector<std::string> places = rule.exact;
    for (const std::string& dir : rule.under) {
        std::string place = dir == "/" ? std::string("/...") : dir + "/...";
        if (!rule.names.empty()) place += "/{" + join(rule.names, "|") + "}";
        places.push_back(place);
    }
    std::string text = places.size() == 1 ? places.front() : "{" + join(places, "|") + "}";
    text = "PATH:" + text;
    if (!rule.except.empty()) text += " (not " + join(rule.except, ", ") + ")";
    return text;
}

// "001B" for U+001B.
std::string hex4(char32_t c) {
    std::string hex;
    for (int shift = 12; shift >= 0; shift -= 4) hex += "0123456789ABCDEF"[(c >> shift) & 0xf];
    return hex;
}

}  // namespace

const char* file_verb_name(FileVerb verb) {
    switch (verb) {
        case FileVerb::kGet:
            return "get";
        case FileVerb::kPut:
            return "put";
        case FileVerb::kVersions:
            return "versions";
        case FileVerb::kRestore:
            return "restore";
        default:
            return "?";
    }
}

const char* content_type_name(ContentType type) {
    switch (type) {
        case ContentType::kText:
            return "text";
        case ContentType::kUtf8:
            return "utf-8";
        case ContentType::kBytes:
            return "bytes";
        default:
            return "?";
    }
}

std::string octal_mode(std::uint32_t mode) {
    std::string text;
    for (int shift = 9; shift >= 0; shift -= 3)
        text += static_cast<char>('0' + ((mode >> shift) & 7));
    return text;
}

bool FileRule::allows_key(const std::string& key) const {
    return keys.empty() || std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::vector<std::string> FileRule::synopses() const {
    const std::string paths = describe_paths(*this);
    std::vector<std::string> out;
    if (get) out.push_back("get " + paths + " [--offset BYTES] [--limit BYTES]");
    if (put) {
        std::vector<std::string> choices{octal_mode(mode)};
        for (const std::uint32_t m : modes) {
            if (m != mode) choices.push_back(octal_mode(m));
        }
        const std::string hooks = then.empty() ? "" : " [--then {" + join(then, "|") + "}]";
        out.push_back("put " + paths + " [--mode {" + join(choices, "|") + "}] [--size BYTES]" +
                      hooks + " < CONTENT (" + content_type_name(content) + ", at most " +
                      std::to_string(max_size) + " bytes" + (create ? "" : ", file must exist") +
                      (validator.empty() ? "" : ", checked by " + validator) + ")");
        out.push_back("versions " + paths);
        out.push_back("restore " + paths + " [--version N]" + hooks);
    }
    return out;
}

std::optional<std::string> content_problem(ContentType type, std::string_view content) {
    if (type == ContentType::kBytes) return std::nullopt;
    // Line and column of the first bad character: what an agent can find in what it sent.
    std::size_t line = 1, column = 1;
    const auto at = [&] {
        return "line " + std::to_string(line) + ", column " + std::to_string(column);
    };
    for (std::size_t i = 0; i < content.size();) {
        const std::optional<CodePoint> cp = decode_utf8(content, i);
        if (!cp) return "the content is not valid UTF-8 at " + at();
        if (type == ContentType::kText) {
            const char32_t c = cp->value;
            const bool allowed_control = c == '\n' || c == '\t' || c == '\r';
            if (c == 0) return "the content has a NUL byte at " + at() + ": it is not text";
            if ((c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) && !allowed_control) {
                return "the content has control character U+" + hex4(c) + " at " + at() +
                       ": it is not text";
            }
        }
        if (cp->value == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += cp->length;
    }
    return std::nullopt;
}

}  // namespace bridle::policy
