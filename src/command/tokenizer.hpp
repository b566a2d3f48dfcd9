// SPDX-License-Identifier: Apache-2.0
// Request text -> argv, with POSIX-shell quoting and no expansion of any kind.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bridle::command {

// Requests longer than this are refused before any parsing.
constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// Split `text` into words the way a POSIX shell's quote removal would, but with no
// expansion: single quotes are literal, double quotes are literal except for \" \\ \$ \`
// and backslash-newline... (see tokenizer.cpp for the exact grammar), a backslash outside
// quotes escapes the next character. Anything a shell would treat as syntax (; & | < > ( )
// $ ` unquoted, globs * ? [ unquoted, newline, control characters) is refused, never
// guessed at. Errors carry "column N" (1-based, in bytes) and a reason an agent can act on.
Result<std::vector<std::string>> tokenize(std::string_view text);

}  // namespace bridle::command
