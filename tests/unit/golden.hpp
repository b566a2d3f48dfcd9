// SPDX-License-Identifier: Apache-2.0
// Golden files, as every unit test that has them checks them: what a case produced against
// its .ok file, or, with UPDATE_GOLDEN=1 in the environment, written to it (review the diff).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace bridle::testing {

inline bool updating_golden() {
    const char* value = std::getenv("UPDATE_GOLDEN");
    return value != nullptr && std::string_view(value) == "1";
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Compares `got` with the file `ok_path`, or rewrites that file when updating.
inline void expect_golden(const std::filesystem::path& ok_path, const std::string& got) {
    if (updating_golden()) {
        std::ofstream(ok_path, std::ios::binary) << got;
        return;
    }
    ASSERT_TRUE(std::filesystem::exists(ok_path))
        << "missing " << ok_path << "; run with UPDATE_GOLDEN=1";
    EXPECT_EQ(read_bytes(ok_path), got)
        << ok_path << ": regenerate with UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace bridle::testing
