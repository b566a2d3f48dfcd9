// SPDX-License-Identifier: Apache-2.0
#include "policy/regex.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <vector>

namespace bridle::policy {
namespace {

RE2::Options options(Regex::Text text = Regex::Text::kUtf8) {
    RE2::Options o;
    o.set_log_errors(false);  // errors go into the report or the denial, not to stderr
    if (text == Regex::Text::kBytes) o.set_encoding(RE2::Options::EncodingLatin1);
    return o;
}

}  // namespace

std::shared_ptr<const Regex> Regex::parse(const std::string& pattern, std::string& error) {
    // RE2::Set::Add parses the pattern with the same options and compiles nothing (the set
    // would compile in Set::Compile, which is never called): a syntax check at parse cost.
    RE2::Set parser(options(), RE2::ANCHOR_BOTH);
    if (parser.Add(pattern, &error) < 0) return nullptr;
    error.clear();
    return std::make_shared<const Regex>(pattern);
}

Regex::Regex(std::string pattern, Text text) : pattern_(std::move(pattern)), text_(text) {}
Regex::~Regex() = default;

const std::string& Regex::compile_error() const {
    std::call_once(once_, [this] {
        auto compiled = std::make_unique<const RE2>(pattern_, options(text_));
        if (compiled->ok()) {
            compiled_ = std::move(compiled);
        } else {
            error_ = compiled->error().empty() ? "cannot be compiled" : compiled->error();
        }
    });
    return error_;
}

bool Regex::full_match(std::string_view text) const {
    if (!compile_error().empty()) return false;
    return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *compiled_);
}

bool Regex::search(std::string_view text, std::size_t from,
                   std::span<std::string_view> groups) const {
    if (!compile_error().empty() || from > text.size()) return false;
    std::vector<re2::StringPiece> pieces(groups.size());
    if (!compiled_->Match(re2::StringPiece(text.data(), text.size()), from, text.size(),
                          RE2::UNANCHORED, pieces.data(), static_cast<int>(pieces.size()))) {
        return false;
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        groups[i] = std::string_view(pieces[i].data(), pieces[i].size());
    }
    return true;
}

int Regex::capturing_groups() const {
    return compile_error().empty() ? compiled_->NumberOfCapturingGroups() : 0;
}

std::map<std::string, int> Regex::named_groups() const {
    if (!compile_error().empty()) return {};
    return compiled_->NamedCapturingGroups();
}

}  // namespace bridle::policy
