// SPDX-License-Identifier: Apache-2.0
// errno_text (error.hpp).
#include "os/error.hpp"

#include <cstring>

namespace bridle::os {

std::string errno_text(int err) {
    const char* text = ::strerrordesc_np(err);
    return text != nullptr ? text : "errno " + std::to_string(err);
}

}  // namespace bridle::os
