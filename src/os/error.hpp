// SPDX-License-Identifier: Apache-2.0
// An errno value in words, for messages.
#pragma once

#include <string>

namespace bridle::os {

// "No such file or directory" for ENOENT, "errno N" for a value without a description;
// thread-safe, unlike strerror().
std::string errno_text(int err);

}  // namespace bridle::os
