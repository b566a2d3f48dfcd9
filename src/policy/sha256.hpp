// SPDX-License-Identifier: Apache-2.0
// SHA-256 (FIPS 180-4) for the policy fingerprint that every audit record carries.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bridle::policy {

// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
  public:
    Sha256();
    void update(std::string_view bytes);
    // 64 lowercase hex digits. Finishes the hash: call update() no more afterwards.
    std::string hex_digest();

  private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace bridle::policy
