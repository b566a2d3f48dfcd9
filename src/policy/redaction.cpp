// SPDX-License-Identifier: Apache-2.0
// Redaction (redaction.hpp): the built-in patterns, the one regex of all patterns, and the
// streaming redactor, a line buffer with a small state machine for private key blocks.
#include "policy/redaction.hpp"

#include <algorithm>
#include <array>

namespace bridle::policy {
namespace {

// The built-in patterns, in priority order; bridle-policy(5), REDACTION, lists each. A group
// marks the secret where the pattern keeps some of its match (the key, the user and host).
constexpr std::size_t kBlockBegin = 0;  // its index: opens a private key block
constexpr std::array<std::string_view, 6> kBuiltin = {
    // PEM and OpenSSH private keys (RSA, EC, DSA, ENCRYPTED, OPENSSH, PGP ... BLOCK).
    R"re(-----BEGIN(?: [A-Z0-9]+)* PRIVATE KEY(?: BLOCK)?-----)re",
    // Authorization: Basic CREDENTIALS
    R"re((?i)\bauthorization["']?\s*[:=]\s*["']?basic\s+([A-Za-z0-9+/=]{4,}))re",
    // Bearer TOKEN, in an Authorization header or anywhere else (RFC 6750 token characters).
    R"re((?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,}))re",
    // Token shapes: GitHub, GitLab, Slack, AWS access key ids, OpenAI-style sk-, Stripe, Google.
    R"re(\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,})re"
    R"re(|xox[abeoprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})re"
    R"re(|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}))re",
    // scheme://user:PASSWORD@host
    R"re(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:([^\s/?#]+)@)re",
    // password=VALUE, "secret": "VALUE", api_key: 'VALUE', DB_PASSWORD=VALUE ...
    R"re((?i)(?:password|passwd|passphrase|pwd|secret(?:_access)?(?:_key)?|token|api[_-]?key)re"
    R"re(|private[_-]?key)["']?\s*[=:]\s*(?:"((?:[^"\\]|\\.)+)"|'([^']+)'|([^\s"',;&]+)))re",
};
constexpr std::string_view kBlockEnd = R"re(-----END(?: [A-Z0-9]+)* PRIVATE KEY(?: BLOCK)?-----)re";

std::string group_name(std::size_t index) {
    return "bridle_" + std::to_string(index);
}

std::string all_patterns(const std::vector<std::string>& own) {
    std::string all;
    std::size_t index = 0;
    const auto add = [&](std::string_view pattern) {
        if (index > 0) all += '|';
        all += "(?P<" + group_name(index++) + ">";
        all += pattern;
        all += ')';
    };
    for (const std::string_view pattern : kBuiltin) add(pattern);
    for (const std::string& pattern : own) add(pattern);
    return all;
}

}  // namespace

RedactionPatterns::RedactionPatterns(std::vector<std::string> own)
    : own_(std::move(own)),
      all_(all_patterns(own_), Regex::Text::kBytes),
      block_end_(std::string(kBlockEnd), Regex::Text::kBytes) {}

std::shared_ptr<const RedactionPatterns> RedactionPatterns::builtin() {
    static const std::shared_ptr<const RedactionPatterns> patterns =
        std::make_shared<const RedactionPatterns>(std::vector<std::string>{});
    return patterns;
}

void RedactionPatterns::prepare() const {
    std::call_once(once_, [this] {
        if (!all_.compile_error().empty()) {
            error_ = "the redaction patterns cannot be compiled together: " + all_.compile_error();
            return;
        }
        if (!block_end_.compile_error().empty()) {
            error_ =
                "the private key END pattern cannot be compiled: " + block_end_.compile_error();
            return;
        }
        if (all_.full_match("")) {
            error_ = "a pattern of settings.redact_patterns matches the empty string";
            return;
        }
        const std::map<std::string, int> named = all_.named_groups();
        const std::size_t patterns = kBuiltin.size() + own_.size();
        for (std::size_t i = 0; i < patterns; ++i) {
            const auto found = named.find(group_name(i));
            if (found == named.end()) {
                error_ = "the redaction patterns lost group " + group_name(i);
                return;
            }
            first_group_.push_back(found->second);
        }
        first_group_.push_back(all_.capturing_groups() + 1);
    });
}

const std::string& RedactionPatterns::compile_error() const {
    prepare();
    return error_;
}

std::optional<RedactionPatterns::Found> RedactionPatterns::find(std::string_view line,
                                                                std::size_t from) const {
    if (!compile_error().empty()) return std::nullopt;
    std::vector<std::string_view> groups(static_cast<std::size_t>(first_group_.back()));
    if (!all_.search(line, from, groups)) return std::nullopt;
    const auto offset = [&](std::string_view piece) {
        return static_cast<std::size_t>(piece.data() - line.data());
    };
    Found found;
    found.match_begin = offset(groups[0]);
    found.match_end = found.match_begin + groups[0].size();
    found.begin = found.match_begin;
    found.end = found.match_end;
    for (std::size_t pattern = 0; pattern + 1 < first_group_.size(); ++pattern) {
        const auto outer = static_cast<std::size_t>(first_group_[pattern]);
        if (groups[outer].data() == nullptr) continue;
        found.opens_block = pattern == kBlockBegin;
        const auto next = static_cast<std::size_t>(first_group_[pattern + 1]);
        for (std::size_t inner = outer + 1; inner < next; ++inner) {
            if (groups[inner].data() == nullptr) continue;
            found.begin = offset(groups[inner]);
            found.end = found.begin + groups[inner].size();
            break;
        }
        break;
    }
    return found;
}

std::optional<std::size_t> RedactionPatterns::find_block_end(std::string_view text,
                                                             std::size_t from) const {
    std::array<std::string_view, 1> match;
    if (!block_end_.search(text, from, match)) return std::nullopt;
    return static_cast<std::size_t>(match[0].data() - text.data());
}

Redactor::Redactor(std::shared_ptr<const RedactionPatterns> patterns)
    : patterns_(std::move(patterns)) {}

void Redactor::feed(std::string_view bytes, std::string& out) {
    held_.append(bytes);
    const std::string_view held(held_);
    std::size_t start = 0;
    while (start < held.size()) {
        // Only the next window is searched for a line break: a long line costs no rescans.
        const std::string_view next = held.substr(start, kRedactWindow);
        const std::size_t newline = next.find('\n');
        if (newline == std::string_view::npos) {
            if (next.size() < kRedactWindow) break;  // the rest of a line still to come
            start += scan(next, "", true, out);
            continue;
        }
        const bool crlf = newline > 0 && next[newline - 1] == '\r';
        scan(next.substr(0, crlf ? newline - 1 : newline), crlf ? "\r\n" : "\n", false, out);
        start += newline + 1;
    }
    held_.erase(0, start);
}

void Redactor::finish(std::string& out) {
    if (!held_.empty()) scan(held_, "", false, out);  // a last line with no line break
    held_.clear();
    if (in_block_) out += break_before_;  // a line break at the very end of a block is kept
    in_block_ = false;
}

std::size_t Redactor::scan(std::string_view text, std::string_view eol, bool window,
                           std::string& out) {
    const std::size_t cut = window ? text.size() - kRedactOverlap : text.size();
    std::size_t pos = 0;
    while (true) {
        if (in_block_) {
            const std::optional<std::size_t> end = patterns_->find_block_end(text, pos);
            if (!end) {  // the rest is secret; in a window, the END marker may straddle its cut
                break_before_ = window ? "" : eol;
                return window ? std::max(pos, cut) : text.size();
            }
            if (*end == 0) out += break_before_;
            in_block_ = false;
            pos = *end;
        }
        const std::optional<RedactionPatterns::Found> found = patterns_->find(text, pos);
        // In a window, the overlap is left for the next one, and with it a match that may go on
        // past this window (unless it starts the window: then it is longer than the overlap).
        if (window && (!found || (found->match_end > cut && found->match_begin > 0))) {
            const std::size_t stop = std::max(pos, found ? std::min(found->match_begin, cut) : cut);
            out.append(text.substr(pos, stop - pos));
            return stop;
        }
        if (!found) break;
        if (found->match_end == found->match_begin) {  // matches nothing: never replaced
            if (found->match_begin >= text.size()) break;
            out.append(text.substr(pos, found->match_begin + 1 - pos));
            pos = found->match_begin + 1;
            continue;
        }
        ++count_;
        if (found->opens_block) {
            in_block_ = true;
            out.append(text.substr(pos, found->match_end - pos));
            pos = found->match_end;
            if (pos == text.size() && !window) {  // BEGIN ends its line: keep the line break
                out += eol;
                out += kRedactedMarker;
                break_before_ = eol;
                return text.size();
            }
            out += kRedactedMarker;
            break_before_ = "";
            continue;
        }
        out.append(text.substr(pos, found->begin - pos));
        out += kRedactedMarker;
        out.append(text.substr(found->end, found->match_end - found->end));
        pos = found->match_end;
    }
    out.append(text.substr(pos));
    out += eol;
    return text.size();
}

}  // namespace bridle::policy
