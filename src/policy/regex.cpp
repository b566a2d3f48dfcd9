// SPDX-License-Identifier: Apache-2.0
#include "policy/regex.hpp"

#include <re2/re2.h>
#include <re2/set.h>

namespace bridle::policy {
namespace {

RE2::Options options() {
    RE2::Options o;
    o.set_log_errors(false);  // errors go into the report or the denial, not to stderr
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

Regex::Regex(std::string pattern) : pattern_(std::move(pattern)) {}
Regex::~Regex() = default;

const std::string& Regex::compile_error() const {
    std::call_once(once_, [this] {
        auto compiled = std::make_unique<const RE2>(pattern_, options());
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

}  // namespace bridle::policy
