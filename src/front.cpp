// SPDX-License-Identifier: Apache-2.0
// bridle: the forced command's binary. sshd starts it for every request of an agent's key, so it
// holds only what an agent's connection reaches, and the build links it statically (static-pie)
// where it has the archives: the forced command, `-c` (bridle as the login shell), `run-as`
// (the target side that sudo starts) and `--version`. It hands the request to bridle-full
// beside it, which runs every mode, before it has recorded anything (docs/architecture.md,
// "Two binaries"): every other mode; a request whose accounts the files alone cannot resolve
// (os/accounts.hpp); and one whose policy the compiled cache does not hold, since bridle links
// no YAML parser (nor <iostream>, whose static set-up yaml-cpp would bring).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "admin/cli.hpp"
#include "common/exit_code.hpp"
#include "common/result.hpp"
#include "loader/compiled_load.hpp"
#include "modes.hpp"
#include "os/accounts.hpp"
#include "os/fd.hpp"
#include "os/short_slice.hpp"
#include "privilege/invoke.hpp"

namespace {

using bridle::modes::Args;

// main's argv, for a hand-over from inside a policy load.
char** the_argv = nullptr;

// Replaces this process with bridle-full, beside this binary, with the same words and
// environment. Returns only when that fails, with the reason.
std::string exec_full() {
    const bridle::Result<std::string> self = bridle::privilege::own_executable();
    if (!self) return self.error().full();
    const std::string full = self.value().substr(0, self.value().rfind('/') + 1) + "bridle-full";
    ::execv(full.c_str(), the_argv);
    return full + ": " + std::strerror(errno);
}

// A hand-over before anything else: if it fails, bridle says so and runs nothing.
int hand_over() {
    (void)bridle::os::write_all(
        STDERR_FILENO, "bridle: cannot start bridle-full (" + exec_full() + "); nothing was run\n");
    return bridle::to_int(bridle::ExitCode::kSoftware);
}

// The policy from the compiled cache, or the request handed to bridle-full, which reads the
// YAML. If that fails, the load fails, and the front end refuses the request on the record.
bridle::Result<bridle::policy::Policy> load_or_hand_over(const std::string& explicit_file,
                                                         const bridle::policy::LoadOptions& options,
                                                         bridle::policy::LoadReport& report) {
    bool needs_yaml = false;
    auto loaded = bridle::policy::load_compiled(explicit_file, options, report, needs_yaml);
    if (!needs_yaml) return loaded;
    return bridle::Error{loaded.error().message + ", and bridle-full, which would read the YAML, " +
                             "cannot be started (" + exec_full() + ")",
                         loaded.error().location};
}

int login_shell(const Args& args) {
    return bridle::modes::login_shell(args, load_or_hand_over);
}
int run_as(const Args& args) {
    return bridle::modes::run_as(args, load_or_hand_over);
}

struct Mode {
    std::string_view name;
    int (*run)(const Args& args);
    bool resolves_accounts;  // whether it may look up a user or group
};

constexpr std::array<Mode, 3> kModes{{
    {"--version", bridle::modes::version, false},
    {"-c", login_shell, true},
    {"run-as", run_as, true},
}};

// Whether `word`, as the first word of a command line, names one of bridle-full's modes
// (admin/cli.hpp's table, and -h). Any other first word is the forced command's.
bool names_a_mode(std::string_view word) {
    return word == "-h" || std::ranges::any_of(bridle::admin::kModes, [&](const auto& mode) {
               return !mode.name.empty() &&
                      (mode.name == word || mode.name.starts_with(std::string(word) + " "));
           });
}

}  // namespace

int main(int argc, char** argv) {
    if (const auto refused = bridle::modes::start()) return *refused;
    // A hint, taken or not (os/short_slice.hpp): journald, woken by the record, waits for the
    // answer and the exit instead of preempting them.
    (void)bridle::os::ask_short_slice();
    // Every account lookup of this process reads the files alone (os/accounts.hpp): glibc is
    // configured for it at the first lookup that needs glibc, and never loads a module.
    bridle::os::use_files_only();
    the_argv = argv;
    const Args args(argv + 1, argv + argc);
    const std::string_view first = args.empty() ? std::string_view{} : std::string_view{args[0]};
    const auto mode = std::ranges::find(kModes, first, &Mode::name);
    if (mode == kModes.end() && names_a_mode(first)) return hand_over();
    // Accounts from the files alone, or the request is bridle-full's.
    if ((mode == kModes.end() || mode->resolves_accounts) &&
        (!bridle::os::files_suffice() || !bridle::os::own_account_name())) {
        return hand_over();
    }
    return mode != kModes.end() ? mode->run(args)
                                : bridle::modes::forced_command(args, load_or_hand_over);
}
