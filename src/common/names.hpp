// SPDX-License-Identifier: Apache-2.0
// Names that cross a boundary, with one rule each: the policy, the command line and the
// authorized keys file all ask here, so none of them accepts a name another refuses.
#pragma once

#include <cstddef>
#include <string_view>

namespace bridle {

// An agent's key name: the policy's `keys:`, the forced command's --key, `bridle enroll
// --name`. A letter or digit, then letters, digits and . _ @ -; at most kMaxKeyName bytes.
// No leading dash (never an option) or dot; nothing a shell, sshd's options or a journal
// field would read as syntax.
constexpr std::size_t kMaxKeyName = 64;
bool is_key_name(std::string_view name);

}  // namespace bridle
