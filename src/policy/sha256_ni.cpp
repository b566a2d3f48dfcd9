// SPDX-License-Identifier: Apache-2.0
// SHA-256 rounds on SHA-NI (Intel's SHA extensions, in most x86-64 CPUs since 2017). The
// instructions keep the eight working variables in two registers, ABEF and CDGH:
// sha256rnds2 does two rounds, sha256msg1 and sha256msg2 the message schedule, four words at a
// time. Elsewhere (and on arm64) available() is false and sha256.cpp's portable code runs.
#include "policy/sha256_ni.hpp"

#include "policy/sha256.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
// glibc's CPU features, where its header is one this compiler takes (glibc 2.36 spells bool
// _Bool there, which clang's C++ refuses: the clang builds, the fuzzers', ask CPUID).
#if __has_include(<sys/platform/x86.h>) && !defined(__clang__)
#define BRIDLE_GLIBC_CPU_FEATURES 1
#include <sys/platform/x86.h>
#else
#include <cpuid.h>
#endif
#endif

namespace bridle::policy::sha_ni {

#if defined(__x86_64__)

// What glibc (2.33 and later) found at its start, without asking again: CPUID traps to the
// hypervisor in a virtual machine, about 3 us each on the VM in docs/benchmarks.md. Otherwise
// CPUID itself (<cpuid.h>, in GCC and clang alike; clang's __builtin_cpu_supports does not know
// "sha"): leaf 7 EBX bit 29 is SHA, leaf 1 ECX bit 19 is SSE4.1.
bool available() noexcept {
#if defined(BRIDLE_GLIBC_CPU_FEATURES)
    return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1);
#else
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || (ecx & bit_SSE4_1) == 0) return false;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ebx & bit_SHA) != 0;
#endif
}

__attribute__((target("sha,sse4.1"))) void compress(std::uint32_t state[8],
                                                    const std::uint8_t* data,
                                                    std::size_t blocks) noexcept {
    // The block's words are big-endian: reverse the bytes of each.
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    // state (a b c d | e f g h) -> ABEF and CDGH, highest lane first.
    __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));
    __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4]));
    const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    for (; blocks > 0; --blocks, data += 64) {
        const __m128i abef_before = abef, cdgh_before = cdgh;
        __m128i w[4];  // w[g % 4]: the schedule's words 4g .. 4g+3
        for (int g = 0; g < 4; ++g) {
            w[g] = _mm_shuffle_epi8(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), swap);
        }
        for (int g = 0; g < 16; ++g) {
            __m128i wk =
                _mm_add_epi32(w[g % 4], _mm_loadu_si128(reinterpret_cast<const __m128i*>(
                                            &kSha256Rounds[static_cast<std::size_t>(4 * g)])));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);  // rounds 4g, 4g+1
            wk = _mm_shuffle_epi32(wk, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);  // rounds 4g+2, 4g+3
            if (g < 12) {
                // Words 4(g+4) ..: W[t-16] + s0(W[t-15]), + W[t-7], + s1(W[t-2]).
                __m128i next = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
                w[g % 4] = _mm_sha256msg2_epu32(next, w[(g + 3) % 4]);
            }
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }

    // ABEF and CDGH -> state (a b c d | e f g h).
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    hgfe = _mm_alignr_epi8(dchg, feba, 8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), dcba);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), hgfe);
}

#else

bool available() noexcept {
    return false;
}

void compress(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept {}

#endif

}  // namespace bridle::policy::sha_ni
