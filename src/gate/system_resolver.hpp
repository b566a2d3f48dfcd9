// SPDX-License-Identifier: Apache-2.0
// PathResolver backed by the real file system (realpath + stat).
#pragma once

#include "matching/matcher.hpp"

namespace bridle::gate {

class SystemResolver final : public matching::PathResolver {
  public:
    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override;
    std::optional<std::vector<std::string>> list(const std::string& dir,
                                                 std::string& why) const override;
};

}  // namespace bridle::gate
