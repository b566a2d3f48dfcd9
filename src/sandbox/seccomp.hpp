// SPDX-License-Identifier: Apache-2.0
// seccomp: the built-in profiles as tables, compiled with libseccomp for every architecture
// the kernel runs, and loaded in the child with a bare seccomp(2) call.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::sandbox::seccomp {

// One argument test: (arg & mask) == value, or arg != value. Only the low 32 bits are
// compared when `low32` is set: the kernel reads those arguments as int or unsigned int,
// so a caller could set the high half to anything.
struct ArgTest {
    enum class Op { kMaskedEq, kNotEqual };
    unsigned arg = 0;
    Op op = Op::kMaskedEq;
    std::uint64_t mask = 0;
    std::uint64_t value = 0;
    bool low32 = true;
};

// One row of a profile: when `name` is called and every test holds, fail with `err`, or
// (notify) ask bridle's supervisor (exec-once). Several rows for one syscall are OR-ed.
struct SyscallRule {
    std::string_view name;
    int err = 0;
    std::vector<ArgTest> when;
    bool notify = false;
};

// The rows of the given profiles, plus exec-once's when asked, without duplicates, in a
// stable order. Pure.
std::vector<SyscallRule> rules_for(const std::vector<policy::SeccompProfile>& profiles,
                                   bool exec_once);

// libseccomp architecture tokens (AUDIT_ARCH_*) filtered when bridle runs on `native`: the
// native one first, then each compat ABI its kernel may run (x86_64: i386 and x32; aarch64:
// 32-bit ARM). Every other architecture is killed. Pure.
std::vector<std::uint32_t> architectures_for(std::uint32_t native);

// A "ceiling" block: on `arch`, syscall numbers in (above, below) fail with ENOSYS.
struct Ceiling {
    std::uint32_t arch = 0;
    std::uint32_t above = 0;
    std::uint32_t below = 0;
};

// Syscalls newer than this libseccomp's tables (it cannot name them, so no profile row can
// deny them): for each architecture, the range after the highest number it knows in the
// range every architecture shares since Linux 5.1 (424 and up).
std::vector<Ceiling> ceilings_for(const std::vector<std::uint32_t>& arches);

// A BPF program returning ERRNO(ENOSYS) for those ranges and ALLOW otherwise. Pure.
std::vector<sock_filter> ceiling_program(const std::vector<Ceiling>& ceilings);

// The second wall's filter (docs/sandbox.md), for every sandbox with namespaces: on each of
// `arches`, pidfd_send_signal (424) and pidfd_open (434) fail with ENOSYS (callers fall back to
// kill(2)). A PID namespace hides every outside pid from kill, prlimit, ptrace and pidfd_open,
// but pidfd_send_signal also takes an fd of a /proc/PID directory, and the command sees the
// host's /proc. The numbers are the same on every architecture since Linux 5.1 (x32: with bit
// 30). Hand-written, six instructions per architecture; allocates: before fork. Pure.
std::vector<sock_filter> wall_program(const std::vector<std::uint32_t>& arches);

// The profile filter: `rules` for each of `arches` (arches[0] is the native one), every
// other architecture killed, everything else allowed. Allocates: call before fork.
Result<std::vector<sock_filter>> compile(const std::vector<SyscallRule>& rules,
                                         const std::vector<std::uint32_t>& arches);

// The kernel's own architecture, as libseccomp names it (seccomp_arch_native()).
std::uint32_t native_architecture();

// Loads `program` into the calling thread (no_new_privs must be set). Returns the new
// listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, 0 otherwise, -1 with errno on failure.
// Async-signal-safe: a bare syscall.
int load(const std::vector<sock_filter>& program, unsigned flags) noexcept;

}  // namespace bridle::sandbox::seccomp
