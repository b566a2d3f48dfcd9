// SPDX-License-Identifier: Apache-2.0
// `bridle learn`'s deny-list: the programs it never proposes a rule for, in classes a reviewer
// would reject on sight. Compiled in, so that a missing or edited file cannot widen it;
// bridle(8) (LEARNING) and policy/README.md list it, and a test checks that they do.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::admin::learning {

// One class: its name as reports give it, and the program names in it. A name also covers
// its versioned and suffixed forms: the name followed by a digit or a dot and anything
// after (python3.11, perl5.36, vim.basic, sh.distrib).
struct DenyClass {
    std::string_view name;
    std::span<const std::string_view> programs;
};
std::span<const DenyClass> deny_classes();

// The class of the program called `basename`, or nullopt when it is in none.
std::optional<std::string_view> deny_class_of(std::string_view basename);

// The programs refused for what a request asks of them rather than for what they are: find
// with an action that runs or deletes or writes (-exec, -execdir, -ok, -okdir, -delete,
// -fprint*, -fls), and network copy tools that write files (curl with an output flag; wget,
// scp, rsync, nc, socat, ... always). What to say ("find with -exec/-delete: -exec"), or
// nullopt when `argv` (argv[0] the program's basename) asks nothing of the kind.
std::optional<std::string> refused_use(const std::vector<std::string>& argv);

// The classes of refused_use, and the programs it looks at (find, curl, wget, scp, ...).
inline constexpr std::string_view kFindClass = "find with -exec/-delete";
inline constexpr std::string_view kNetworkClass = "network copy tools with output flags";
std::vector<std::string_view> conditional_programs();

}  // namespace bridle::admin::learning
