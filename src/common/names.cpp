// SPDX-License-Identifier: Apache-2.0
#include "common/names.hpp"

namespace bridle {

bool is_key_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxKeyName) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-'))) return false;
    }
    return true;
}

}  // namespace bridle
