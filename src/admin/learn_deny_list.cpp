// SPDX-License-Identifier: Apache-2.0
// The deny-list of `bridle learn`, as data. Keep bridle(8) LEARNING and policy/README.md in
// step with it (admin_test checks both name every program here).
#include "admin/learn_deny_list.hpp"

#include <algorithm>
#include <array>

namespace bridle::admin::learning {
namespace {

using namespace std::string_view_literals;

// A shell or an interpreter runs whatever its arguments say; so do remote shells.
constexpr std::array kShells{
    "sh"sv,      "dash"sv,  "bash"sv,   "rbash"sv,   "zsh"sv,    "ksh"sv,    "mksh"sv,   "lksh"sv,
    "pdksh"sv,   "posh"sv,  "yash"sv,   "ash"sv,     "csh"sv,    "tcsh"sv,   "fish"sv,   "elvish"sv,
    "xonsh"sv,   "nu"sv,    "pwsh"sv,   "ssh"sv,     "rsh"sv,    "telnet"sv, "python"sv, "pypy"sv,
    "perl"sv,    "ruby"sv,  "irb"sv,    "jruby"sv,   "node"sv,   "nodejs"sv, "deno"sv,   "bun"sv,
    "php"sv,     "lua"sv,   "luajit"sv, "tclsh"sv,   "wish"sv,   "expect"sv, "awk"sv,    "gawk"sv,
    "mawk"sv,    "nawk"sv,  "R"sv,      "Rscript"sv, "julia"sv,  "guile"sv,  "racket"sv, "sbcl"sv,
    "ocaml"sv,   "ghci"sv,  "runghc"sv, "java"sv,    "jshell"sv, "groovy"sv, "scala"sv,  "erl"sv,
    "escript"sv, "swipl"sv, "octave"sv, "make"sv,
};
// Anything that becomes another user.
constexpr std::array kPrivilege{
    "sudo"sv, "sudoedit"sv, "su"sv,      "doas"sv,    "pkexec"sv, "run0"sv,
    "sg"sv,   "newgrp"sv,   "runuser"sv, "setpriv"sv, "capsh"sv,  "bridle"sv,
};
// Programs whose job is to start another program.
constexpr std::array kRunners{
    "env"sv,      "nice"sv,    "timeout"sv,  "xargs"sv,  "nohup"sv,       "setsid"sv,
    "busybox"sv,  "toybox"sv,  "stdbuf"sv,   "chrt"sv,   "ionice"sv,      "taskset"sv,
    "flock"sv,    "watch"sv,   "time"sv,     "strace"sv, "ltrace"sv,      "gdb"sv,
    "valgrind"sv, "unshare"sv, "nsenter"sv,  "chroot"sv, "systemd-run"sv, "script"sv,
    "parallel"sv, "rlwrap"sv,  "firejail"sv, "bwrap"sv,  "sshpass"sv,
};
// Editors and pagers have shell escapes and write files.
constexpr std::array kEditors{
    "vi"sv,      "vim"sv,
    "nvim"sv,    "view"sv,
    "vimdiff"sv, "rvim"sv,
    "ex"sv,      "ed"sv,
    "red"sv,     "nano"sv,
    "rnano"sv,   "pico"sv,
    "emacs"sv,   "emacsclient"sv,
    "jed"sv,     "joe"sv,
    "mcedit"sv,  "micro"sv,
    "kak"sv,     "hx"sv,
    "mg"sv,      "ne"sv,
    "editor"sv,  "sensible-editor"sv,
    "pager"sv,   "sensible-pager"sv,
    "less"sv,    "more"sv,
    "most"sv,    "pg"sv,
    "lv"sv,      "man"sv,
};

constexpr std::array kClasses{
    DenyClass{"shells and interpreters", kShells},
    DenyClass{"sudo, su and other user switches", kPrivilege},
    DenyClass{"programs that run programs", kRunners},
    DenyClass{"editors and pagers", kEditors},
};

// find's actions that run a program, delete, or write a file.
constexpr std::array kFindActions{"-exec"sv,  "-execdir"sv, "-ok"sv,
                                  "-okdir"sv, "-delete"sv,  "-fls"sv};

// Network copy tools that write files, or relay and run programs, whatever the flags.
constexpr std::array kAlwaysWriting{
    std::pair{"wget"sv, "saves to a file unless -O -, which no rule accepts"sv},
    std::pair{"scp"sv, "copies files"sv},
    std::pair{"sftp"sv, "copies files"sv},
    std::pair{"rsync"sv, "copies files"sv},
    std::pair{"ftp"sv, "copies files"sv},
    std::pair{"tftp"sv, "copies files"sv},
    std::pair{"lftp"sv, "copies files"sv},
    std::pair{"aria2c"sv, "saves to files"sv},
    std::pair{"nc"sv, "relays standard input and can run programs"sv},
    std::pair{"netcat"sv, "relays standard input and can run programs"sv},
    std::pair{"ncat"sv, "relays standard input and can run programs"sv},
    std::pair{"socat"sv, "relays and can run programs or write files"sv},
};
// curl's options that write a file, read a config, or upload (short ones also inside a bundle).
constexpr std::array kCurlShort{'o', 'O', 'D', 'c', 'T', 'K'};
constexpr std::array kCurlLong{
    "--output"sv,      "--remote-name"sv, "--remote-name-all"sv, "--output-dir"sv,
    "--dump-header"sv, "--cookie-jar"sv,  "--upload-file"sv,     "--trace"sv,
    "--trace-ascii"sv, "--stderr"sv,      "--libcurl"sv,         "--config"sv,
    "--etag-save"sv,   "--hsts"sv,        "--alt-svc"sv,
};

// `name` is `entry`, or `entry` followed by a digit or a dot and anything (a version or a
// Debian suffix: python3.11, vim.basic, sh.distrib).
bool names(std::string_view name, std::string_view entry) {
    if (name.substr(0, entry.size()) != entry) return false;
    if (name.size() == entry.size()) return true;
    const char next = name[entry.size()];
    return (next >= '0' && next <= '9') || next == '.';
}

std::optional<std::string> curl_output_flag(const std::vector<std::string>& argv) {
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& word = argv[i];
        if (word == "--") break;
        if (word.rfind("--", 0) == 0) {
            const std::string_view name = std::string_view(word).substr(0, word.find('='));
            if (std::find(kCurlLong.begin(), kCurlLong.end(), name) != kCurlLong.end())
                return std::string(name);
            continue;
        }
        // A short option or a bundle (-sSLo FILE): any output letter in it counts.
        if (word.size() < 2 || word[0] != '-') continue;
        for (std::size_t j = 1; j < word.size(); ++j) {
            if (std::find(kCurlShort.begin(), kCurlShort.end(), word[j]) != kCurlShort.end())
                return word;
        }
    }
    return std::nullopt;
}

}  // namespace

std::span<const DenyClass> deny_classes() {
    return kClasses;
}

std::optional<std::string_view> deny_class_of(std::string_view basename) {
    for (const DenyClass& c : kClasses) {
        for (const std::string_view entry : c.programs) {
            if (names(basename, entry)) return c.name;
        }
    }
    return std::nullopt;
}

std::optional<std::string> refused_use(const std::vector<std::string>& argv) {
    if (argv.empty()) return std::nullopt;
    const std::string_view program = argv[0];
    const std::string network(kNetworkClass);
    if (program == "find") {
        for (const std::string& word : argv) {
            const bool action =
                std::find(kFindActions.begin(), kFindActions.end(), word) != kFindActions.end();
            if (action || word.rfind("-fprint", 0) == 0)
                return std::string(kFindClass) + ": " + word;
        }
        return std::nullopt;
    }
    for (const auto& [name, why] : kAlwaysWriting) {
        if (names(program, name)) return network + ": " + std::string(why);
    }
    if (names(program, "curl")) {
        if (const std::optional<std::string> flag = curl_output_flag(argv))
            return network + ": " + *flag;
    }
    return std::nullopt;
}

std::vector<std::string_view> conditional_programs() {
    std::vector<std::string_view> out{"find", "curl"};
    for (const auto& [name, why] : kAlwaysWriting) out.push_back(name);
    return out;
}

}  // namespace bridle::admin::learning
