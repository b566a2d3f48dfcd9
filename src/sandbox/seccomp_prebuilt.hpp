// SPDX-License-Identifier: Apache-2.0
// seccomp programs compiled when bridle is built, so that a request does not pay for
// libseccomp building them (~4 ms of CPU in a fresh process: docs/benchmarks.md).
//
// seccomp_gen.cpp runs at build time on the build machine, compiles every filter a policy can
// ask for (each ordered selection of the built-in profiles, with and without exec-once, and the
// ceiling) exactly as prepare() would at run time, and writes them into a table linked into
// bridle. prepare() takes a program from the table only when the table was made for the
// architecture bridle runs on by the libseccomp version it runs with; otherwise (a cross
// build, whose table is empty, or a changed libseccomp) it compiles at run time as before.
// tests/unit/sandbox_test.cpp checks that every table entry equals the run-time compilation.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "policy/model.hpp"

namespace bridle::sandbox::seccomp::prebuilt {

// The table, as seccomp_gen.cpp writes it.
struct Entry {
    unsigned key;  // key_for(): the ordered profiles
    bool exec_once;
    const sock_filter* program;
    std::size_t length;
};
struct Table {
    std::uint32_t arch;          // native architecture token it was made for (0: none)
    unsigned version[3];         // libseccomp major, minor, micro it was made with
    const sock_filter* ceiling;  // ceiling_program() for architectures_for(arch)
    std::size_t ceiling_length;
    const Entry* entries;
    std::size_t count;
};
// The table linked into bridle (the generated seccomp_prebuilt_table.cpp).
extern const Table kTable;

// The profiles in their order, as a number (each profile a base-4 digit, 1-based); 0 for none.
unsigned key_for(const std::vector<policy::SeccompProfile>& profiles);

// Every ordered selection of distinct built-in profiles, the empty one included: what the
// generator compiles.
std::vector<std::vector<policy::SeccompProfile>> every_selection();

// The profile filter from `table`, or nullopt when it has none usable (see above).
std::optional<std::vector<sock_filter>> filter(const Table& table,
                                               const std::vector<policy::SeccompProfile>& profiles,
                                               bool exec_once);
// The ceiling program from `table`, or nullopt.
std::optional<std::vector<sock_filter>> ceiling(const Table& table);

}  // namespace bridle::sandbox::seccomp::prebuilt
