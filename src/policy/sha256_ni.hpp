// SPDX-License-Identifier: Apache-2.0
// SHA-256's compression function on the x86 SHA extensions (SHA-NI), where the CPU has them.
// Same results as the portable one in sha256.cpp (a test compares them block by block); about
// five times as fast, which is what hashing a large policy or a command's output costs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bridle::policy::sha_ni {

// Whether this CPU has the SHA extensions (and this build the code for them).
bool available() noexcept;

// Compresses `blocks` 64-byte blocks of `data` into `state` (a, b, ... h). Call only when
// available().
void compress(std::uint32_t state[8], const std::uint8_t* data, std::size_t blocks) noexcept;

}  // namespace bridle::policy::sha_ni
