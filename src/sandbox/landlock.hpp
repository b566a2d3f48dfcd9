// SPDX-License-Identifier: Apache-2.0
// Landlock, where the kernel has it: the ABI probe, the access masks per ABI version, the
// ruleset (built before fork) and restrict_self (in the child). Raw syscalls: glibc has no
// wrappers, and Debian 12's <linux/landlock.h> stops at ABI 2, so newer bits are defined here.
#pragma once

#include <cstdint>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::sandbox::landlock {

// Access rights, as in <linux/landlock.h>; those after ABI 2 are ours.
constexpr std::uint64_t kExecute = 1ULL << 0;
constexpr std::uint64_t kWriteFile = 1ULL << 1;
constexpr std::uint64_t kReadFile = 1ULL << 2;
constexpr std::uint64_t kReadDir = 1ULL << 3;
constexpr std::uint64_t kRemoveDir = 1ULL << 4;
constexpr std::uint64_t kRemoveFile = 1ULL << 5;
constexpr std::uint64_t kMakeChar = 1ULL << 6;
constexpr std::uint64_t kMakeDir = 1ULL << 7;
constexpr std::uint64_t kMakeReg = 1ULL << 8;
constexpr std::uint64_t kMakeSock = 1ULL << 9;
constexpr std::uint64_t kMakeFifo = 1ULL << 10;
constexpr std::uint64_t kMakeBlock = 1ULL << 11;
constexpr std::uint64_t kMakeSym = 1ULL << 12;
constexpr std::uint64_t kRefer = 1ULL << 13;     // ABI 2, Linux 5.19
constexpr std::uint64_t kTruncate = 1ULL << 14;  // ABI 3, Linux 6.2
constexpr std::uint64_t kIoctlDev = 1ULL << 15;  // ABI 5, Linux 6.10

// The kernel's Landlock ABI version, or 0 when it has none (ENOSYS: not built in;
// EOPNOTSUPP: built in but not enabled at boot, as on the stock Raspberry Pi kernel).
int abi_version();

// The rights of each access class of a profile, limited to what `abi` knows. Pure.
std::uint64_t read_rights(int abi);
std::uint64_t write_rights(int abi);
std::uint64_t execute_rights(int abi);
// The part of `rights` that applies to a path that is not a directory. Pure.
std::uint64_t file_rights(std::uint64_t rights);
// What a ruleset for `rules` handles: the union of the rights of the classes it lists. Pure.
std::uint64_t handled_rights(const policy::LandlockRules& rules, int abi);

// A ruleset fd (close-on-exec) granting each listed path its class's rights. A path that
// does not exist is skipped (it grants nothing); any other failure is an error. Before fork.
Result<int> build_ruleset(const policy::LandlockRules& rules, int abi);

// In the child, after PR_SET_NO_NEW_PRIVS: 0, or -1 with errno. Async-signal-safe.
int restrict_self(int ruleset_fd) noexcept;

}  // namespace bridle::sandbox::landlock
