// SPDX-License-Identifier: Apache-2.0
// SHA-256 as FIPS 180-4 section 6.2 states it; small enough to check against the standard.
// Where the CPU has the SHA extensions, sha256_ni.cpp compresses the blocks instead.
#include "policy/sha256.hpp"

#include "policy/sha256_ni.hpp"

#include <algorithm>
#include <cstring>

namespace bridle::policy {
namespace {

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

}  // namespace

// FIPS 180-4 section 5.3.3: the initial hash value.
Sha256::Sha256()
    : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::compress(const std::uint8_t* block) {
    std::array<std::uint32_t, 64> w{};
    for (std::size_t t = 0; t < 16; ++t) {  // the block is big-endian
        w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
               std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
    }
    for (std::size_t t = 16; t < 64; ++t) {
        const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (std::size_t t = 0; t < 64; ++t) {
        const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
                                 ((e & f) ^ (~e & g)) + kSha256Rounds[t] + w[t];
        const std::uint32_t t2 =
            (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    state_[0] += a, state_[1] += b, state_[2] += c, state_[3] += d;
    state_[4] += e, state_[5] += f, state_[6] += g, state_[7] += h;
}

void Sha256::compress_blocks(const std::uint8_t* data, std::size_t blocks) {
    static const bool ni = sha_ni::available();
    if (blocks == 0) return;
    if (ni) {
        sha_ni::compress(state_.data(), data, blocks);
        return;
    }
    for (; blocks > 0; --blocks, data += 64) compress(data);
}

void Sha256::update(std::string_view bytes) {
    total_bytes_ += bytes.size();
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    std::size_t left = bytes.size();
    if (left == 0) return;
    if (buffered_ > 0) {  // complete the block begun by an earlier update
        const std::size_t take = std::min(left, buffer_.size() - buffered_);
        std::memcpy(buffer_.data() + buffered_, data, take);
        buffered_ += take, data += take, left -= take;
        if (buffered_ < buffer_.size()) return;
        compress_blocks(buffer_.data(), 1);
        buffered_ = 0;
    }
    const std::size_t whole = left / 64;  // straight from the input, no copy
    compress_blocks(data, whole);
    data += 64 * whole, left -= 64 * whole;
    if (left > 0) std::memcpy(buffer_.data(), data, left);
    buffered_ = left;
}

std::string Sha256::hex_digest() {
    // FIPS 180-4 section 5.1.1: append 0x80, zeros up to 56 mod 64, then the length in bits.
    const std::uint64_t bits = total_bytes_ * 8;
    const std::uint8_t one = 0x80;
    update(std::string_view(reinterpret_cast<const char*>(&one), 1));
    const std::array<char, 64> zeros{};
    const std::size_t pad = (buffered_ <= 56 ? 56 : 120) - buffered_;
    update(std::string_view(zeros.data(), pad));
    std::array<char, 8> length{};
    for (std::size_t i = 0; i < 8; ++i) length[i] = static_cast<char>(bits >> (56 - 8 * i));
    update(std::string_view(length.data(), length.size()));

    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (const std::uint32_t word : state_) {
        for (int shift = 28; shift >= 0; shift -= 4) hex += kHex[(word >> shift) & 0xf];
    }
    return hex;
}

std::string sha256_hex(std::string_view bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.hex_digest();
}

}  // namespace bridle::policy
