// SPDX-License-Identifier: Apache-2.0
#include "os/short_slice.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace bridle::os {
namespace {

// sched_setattr(2): glibc 2.36 has no wrapper, so the structure is the kernel's (its first
// version, 48 bytes, which every kernel since 3.14 takes).
struct SchedAttr {
    std::uint32_t size;
    std::uint32_t policy;
    std::uint64_t flags;
    std::int32_t nice;
    std::uint32_t priority;
    std::uint64_t runtime;  // for SCHED_OTHER since 6.12: the slice, 0.1 to 100 ms
    std::uint64_t deadline;
    std::uint64_t period;
};

constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
constexpr std::uint64_t kSliceNs = 100'000;   // the kernel's shortest

}  // namespace

bool ask_short_slice() {
    SchedAttr attr{};
    if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0 || attr.policy != SCHED_OTHER) {
        return false;
    }
    attr.size = sizeof attr;
    attr.flags = kResetOnFork;  // the other flags of sched_getattr are not for setting
    attr.runtime = kSliceNs;
    // Kernels before 6.12 take the call and ignore the runtime; the tests ask what it is.
    return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace bridle::os
