// SPDX-License-Identifier: Apache-2.0
// What bridle's two binaries share of the command line: the parsing of a mode's words against
// the table in admin/cli.hpp, and the modes an agent's connection reaches. No <iostream> here
// or anywhere else `bridle` links: its static set-up costs every start about 0.5 ms. src/front.cpp
// is `bridle`, the forced command's binary, which runs these modes; src/main.cpp is `bridle-full`,
// which runs every mode (docs/architecture.md, "Two binaries").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/loader.hpp"

namespace bridle::modes {

using Args = std::vector<std::string>;

// Says "bridle: WHAT" and the usage on stderr; returns the usage exit status.
int usage_error(const std::string& what);

// The words after a mode's name: its options (the table in admin/cli.hpp), then its operands.
struct Words {
    std::map<std::string, std::string> options;
    Args operands;

    bool has(const std::string& name) const { return options.count(name) != 0; }
    std::string option(const std::string& name) const {
        const auto it = options.find(name);
        return it == options.end() ? std::string{} : it->second;
    }
};

// Whether one "--" between the options and the operands is dropped, or is an operand.
enum class Dashdash { kOperand, kDropped };

// Reads the options of `mode` from args (after the mode's name; from the start for the forced
// command, mode ""); the operands are the words from the first that is not one of them. On a
// usage error, says so and returns the exit status.
std::optional<int> parse(std::string_view mode, const Args& args, Dashdash dashdash, Words& words);

// For a mode that takes no operand: refuses the first one there is.
std::optional<int> no_operand(std::string_view mode, const Words& words);

// The options, and nothing else.
std::optional<int> options_only(std::string_view mode, const Args& args, Words& words);

// What either binary does first, in every mode: makes the process non-dumpable and ignores
// SIGPIPE. An exit status when that fails (bridle then runs nothing).
std::optional<int> start();

// The modes of an agent's connection. Each gets every word after bridle's own name, and those
// that read the policy the binary's way of loading it (loader.hpp, PolicyLoader).
int version(const Args& args);  // `bridle --version`
// `bridle -c TEXT`: bridle as the account's login shell.
int login_shell(const Args& args, policy::PolicyLoader load);
// `bridle run-as RULE [-- WORD...]`, started by sudo.
int run_as(const Args& args, policy::PolicyLoader load);
// The forced command (a command line whose first word is no mode): options come from
// authorized_keys `command=` or ForceCommand (the administrator's); the request comes from the
// client, through SSH_ORIGINAL_COMMAND only.
int forced_command(const Args& args, policy::PolicyLoader load);

}  // namespace bridle::modes
