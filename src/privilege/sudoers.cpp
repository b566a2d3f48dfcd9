// SPDX-License-Identifier: Apache-2.0
// The sudoers drop-in for the run_as rules (sudoers.hpp). Every line names bridle's target
// side with a fixed command line: sudo never sees a wildcard, and a bare path (which sudo
// would take as "any arguments") never appears.
#include "privilege/sudoers.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "common/exit_code.hpp"
#include "execution/runner.hpp"
#include "policy/loader.hpp"
#include "privilege/invoke.hpp"
#include "privilege/sudo_form.hpp"

namespace bridle::privilege {
namespace {

constexpr const char* kVisudo = "/usr/sbin/visudo";

std::string line_of(const std::vector<std::string>& command) {
    std::string line;
    for (const std::string& word : command) line += (line.empty() ? "" : " ") + sudoers_escape(word);
    return line;
}

// A Cmnd_Alias name for the run_as user: BRIDLE_AS_ROOT, BRIDLE_AS_WWW_DATA.
std::string alias_for(const std::string& user) {
    std::string alias = "BRIDLE_AS_";
    for (const char c : user) {
        alias += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : (c >= '0' && c <= '9') ? c : '_';
    }
    return alias;
}

// Root owns the binary and every directory above it, and no one else can write them: sudo
// will run this file as root for the agent.
Status check_trusted_binary(const std::string& path) {
    if (path.empty() || path[0] != '/' || path.find("/./") != std::string::npos ||
        path.find("/../") != std::string::npos || path.find("//") != std::string::npos) {
        return Error{"the bridle path " + path + " is not an absolute, normal path", ""};
    }
    // "/" first, then each prefix up to the file itself.
    std::size_t start = 0;
    for (bool root = true;; root = false) {
        const std::size_t slash = root ? 0 : path.find('/', start + 1);
        const std::string prefix = root ? "/" : slash == std::string::npos ? path : path.substr(0, slash);
        struct stat st {};
        if (::lstat(prefix.c_str(), &st) != 0) {
            return Error{"cannot check " + prefix + ": " + std::strerror(errno), ""};
        }
        if (S_ISLNK(st.st_mode)) return Error{prefix + " is a symbolic link: give bridle's real path", ""};
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            return Error{prefix + " is not owned by root, or others can write it: sudo would run whatever is put there", ""};
        }
        if (root) continue;
        if (slash == std::string::npos) {
            if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0) return Error{path + " is not an executable file", ""};
            if ((st.st_mode & (S_ISUID | S_ISGID)) != 0) return Error{path + " is set-uid or set-gid: bridle must never be", ""};
            return ok_status();
        }
        start = slash;
    }
}

// Runs visudo with `args` (absolute path, empty environment); true when it exits 0. Its own
// messages go to our stderr, where the administrator sees them.
bool visudo(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::vector<std::string> words{"visudo"};
    words.insert(words.end(), args.begin(), args.end());
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    char* envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), const_cast<char*>("LC_ALL=C"), nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDOUT_FILENO);  // "parsed OK" lines; errors stay on stderr
        ::execve(kVisudo, argv.data(), envp);
        ::_exit(127);
    }
    if (pid < 0) return false;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A new file in `dir` named .bridle.XXXXXX (sudo skips names with a dot), 0440 root:root when
// we are root, holding `text`. Returns its path.
Result<std::string> write_temporary(const std::string& dir, const std::string& text) {
    std::string path = dir + "/.bridle.XXXXXX";
    const int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return Error{"cannot create a file in " + dir + ": " + std::strerror(errno), ""};
    bool ok = ::fchmod(fd, 0440) == 0 && (::geteuid() != 0 || ::fchown(fd, 0, 0) == 0) &&
              execution::write_all(fd, text) && ::fsync(fd) == 0;
    const int error = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
        ::unlink(path.c_str());
        return Error{"cannot write " + path + ": " + std::strerror(error), ""};
    }
    return path;
}

int fail(const std::string& message) {
    std::cerr << "bridle: " << message << "\n";
    return to_int(ExitCode::kConfig);
}

int install(const std::string& text) {
    if (::geteuid() != 0) return fail("--install needs root: it writes " + std::string(kDropIn));
    const std::string dir = "/etc/sudoers.d";
    Result<std::string> temporary = write_temporary(dir, text);
    if (!temporary) return fail(temporary.error().message);
    if (!visudo({"-c", "-f", temporary.value()})) {
        ::unlink(temporary.value().c_str());
        return fail("visudo rejected the drop-in; nothing was installed");
    }
    std::ifstream old_file(kDropIn, std::ios::binary);
    const bool had_old = old_file.good();
    std::stringstream old;
    old << old_file.rdbuf();
    // rename(2) replaces the drop-in in one step: sudo sees the old file or the new one.
    if (::rename(temporary.value().c_str(), kDropIn) != 0) {
        const int error = errno;
        ::unlink(temporary.value().c_str());
        return fail("cannot install " + std::string(kDropIn) + ": " + std::strerror(error));
    }
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    // The whole configuration as sudo will read it; put the old state back if it broke.
    if (!visudo({"-c"})) {
        Result<std::string> restore = had_old ? write_temporary(dir, old.str()) : Result<std::string>(std::string());
        const bool restored = had_old ? (restore && ::rename(restore.value().c_str(), kDropIn) == 0)
                                      : ::unlink(kDropIn) == 0;
        return fail(std::string("the sudo configuration does not check with the new drop-in; ") +
                    (restored ? "the previous state was restored" : "restoring the previous state FAILED: check /etc/sudoers.d now"));
    }
    std::cout << "installed " << kDropIn << "\n";
    return to_int(ExitCode::kOk);
}

}  // namespace

Result<std::string> compile_sudoers(const policy::Policy& policy, const SudoersOptions& options) {
    for (const std::string* word : {&options.bridle, &options.policy_file}) {
        if (!word->empty() && !is_sudoers_safe(*word)) {
            return Error{"the path " + *word + " cannot be written in sudoers (allowed: letters, digits and @ % + . / _ - = : ,)", ""};
        }
    }
    std::ostringstream out;
    out << "# " << kDropIn << ": generated by `bridle sudoers` from";
    for (const std::string& file : policy.files) out << " " << file;
    out << "\n# (policy sha256 " << policy.sha256 << ").\n"
        << "# Do not edit: change the policy, then run `bridle sudoers --install` again.\n"
        << "# Each command below is bridle's target side for one\n"
        << "# run_as rule, which re-checks the request against the root-owned policy and runs it in\n"
        << "# the rule's sandbox. Exact lines hold the whole request; open lines (no words after\n"
        << "# the rule id) take it from BRIDLE_ARGV, and bridle alone validates it (bridle(8)).\n";

    std::map<std::string, std::vector<std::string>> commands;  // by run_as user
    for (const policy::Rule& rule : policy.rules) {
        if (rule.run_as.empty()) continue;
        if (rule.run_as == options.user) {
            out << "# rule " << rule.id << ": runs as " << rule.run_as << " itself, without sudo\n";
            continue;
        }
        if (form_of(rule) == Form::kOpen) {
            out << "# rule " << rule.id << " (as " << rule.run_as << "): open, re-validated by bridle\n";
            commands[rule.run_as].push_back(line_of(target_command(options.bridle, options.policy_file, rule, {})));
            continue;
        }
        Result<std::vector<std::vector<std::string>>> requests = exact_requests(rule);
        if (!requests) return requests.error();
        out << "# rule " << rule.id << " (as " << rule.run_as << "): exact, " << requests.value().size() << " line(s)\n";
        for (const auto& words : requests.value()) {
            commands[rule.run_as].push_back(line_of(target_command(options.bridle, options.policy_file, rule, words)));
        }
    }
    std::map<std::string, std::string> aliases;
    for (const auto& [user, lines] : commands) {
        const std::string alias = alias_for(user);
        if (aliases.count(alias) != 0) {
            return Error{"run_as users " + aliases[alias] + " and " + user + " map to the same sudoers alias " + alias, ""};
        }
        aliases[alias] = user;
        out << "\nCmnd_Alias " << alias << " = \\\n";
        for (std::size_t i = 0; i < lines.size(); ++i) {
            out << "    " << lines[i] << (i + 1 < lines.size() ? ", \\\n" : "\n");
        }
        // No pty (the output is a pipe to bridle), and only bridle's three variables survive
        // sudo's env_reset; the target side gives the command the policy's environment.
        out << "Defaults!" << alias << " !use_pty, !requiretty, env_reset, env_keep = \"" << kRequestIdVariable
            << " " << kPolicyShaVariable << " " << kArgvVariable << "\"\n";
        out << options.user << " ALL = (" << user << ") NOPASSWD: " << alias << "\n";
    }
    if (commands.empty()) out << "\n# No rule switches user: this file grants nothing.\n";
    return out.str();
}

std::vector<std::string> risky_grants(const policy::Policy& policy) {
    std::vector<std::string> warnings;
    for (const policy::Rule& rule : policy.rules) {
        if (rule.run_as.empty()) continue;
        const passwd* pw = ::getpwnam(rule.run_as.c_str());
        const bool root = rule.run_as == "root" || (pw != nullptr && pw->pw_uid == 0);
        if (form_of(rule) == Form::kExact) {
            Result<std::vector<std::vector<std::string>>> requests = exact_requests(rule);
            if (!requests) warnings.push_back("`bridle sudoers` cannot compile it: " + requests.error().message + " (" + rule.source + ")");
        } else if (root) {
            std::string open;
            for (const policy::Arg& arg : rule.args) {
                if (!arg.is_literal && (arg.spec.kind == policy::ValueSpec::Kind::kPath || arg.spec.kind == policy::ValueSpec::Kind::kRegex)) {
                    open += (open.empty() ? "" : ", ") + arg.name;
                }
            }
            for (const policy::Option& option : rule.options) {
                if (!option.is_flag && (option.value.kind == policy::ValueSpec::Kind::kPath || option.value.kind == policy::ValueSpec::Kind::kRegex)) {
                    open += (open.empty() ? "" : ", ") + option.name();
                }
            }
            if (!open.empty()) {
                warnings.push_back("rule " + rule.id + " runs as root with an open path or regex value (" + open +
                                   "): sudo grants `bridle run-as " + rule.id + "` with any value, and only bridle's re-check limits it (" +
                                   rule.source + ")");
            }
        }
        const policy::SandboxProfile* profile = policy.sandbox_for(rule);
        if (root && profile != nullptr && !profile->exec_once) {
            warnings.push_back("rule " + rule.id + " runs as root in sandbox " + profile->name +
                               ", which has exec-once off: the command may start other programs as root (" + rule.source + ")");
        }
    }
    return warnings;
}

int sudoers(const SudoersOptions& given) {
    SudoersOptions options = given;
    if (options.user.empty() || options.user.size() > 32 || !std::all_of(options.user.begin(), options.user.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }) || options.user[0] == '-') {
        std::cerr << "bridle: --user " << options.user << " is not a valid user name\n";
        return to_int(ExitCode::kUsage);
    }
    if (options.bridle.empty()) {
        Result<std::string> self = own_executable();
        if (!self) return fail(self.error().message);
        options.bridle = self.value();
    }
    if (Status trusted = check_trusted_binary(options.bridle); !trusted) return fail(trusted.error().message);

    // The target side reads the policy strictly; so does this.
    policy::LoadReport report;
    auto loaded = policy::load_policy(options.policy_file, policy::LoadOptions{true}, report);
    for (const auto& e : report.errors) std::cerr << "bridle: error: " << e.full() << "\n";
    if (!loaded) {
        if (report.errors.empty()) std::cerr << "bridle: error: " << loaded.error().full() << "\n";
        return fail("the policy is not usable; nothing was compiled");
    }
    // Accounts sudo cannot resolve make lines that never match: say so, compile anyway.
    if (::getpwnam(options.user.c_str()) == nullptr) {
        std::cerr << "bridle: warning: the account " << options.user << " (--user) does not exist on this host\n";
    }
    for (const policy::Rule& rule : loaded.value().rules) {
        if (!rule.run_as.empty() && ::getpwnam(rule.run_as.c_str()) == nullptr) {
            std::cerr << "bridle: warning: rule " << rule.id << " runs as " << rule.run_as
                      << ", which does not exist on this host: its requests will be denied\n";
        }
    }
    Result<std::string> text = compile_sudoers(loaded.value(), options);
    if (!text) return fail("cannot compile the sudoers drop-in: " + text.error().full());
    if (options.install) return install(text.value());

    // Printed only once visudo has accepted it.
    const char* tmp = std::getenv("TMPDIR");
    Result<std::string> checked = write_temporary(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp", text.value());
    if (!checked) return fail(checked.error().message);
    const bool accepted = visudo({"-c", "-f", checked.value()});
    ::unlink(checked.value().c_str());
    if (!accepted) return fail("visudo rejected the compiled drop-in (is sudo installed?)");
    std::cout << text.value();
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::privilege
