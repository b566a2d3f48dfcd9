// SPDX-License-Identifier: Apache-2.0
// enroll, revoke, keys: the administrator's edits of the agent account's authorized keys.
// sshd trusts every line of this file, so it is only ever replaced whole (write a temporary
// file, fsync, rename): a crash leaves the old file or the new one, never half of either.
#include "admin/enroll.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include "admin/key_expiry.hpp"
#include "admin/key_use.hpp"

#include "common/exit_code.hpp"
#include "common/names.hpp"
#include "common/text.hpp"
#include "execution/auxiliary.hpp"
#include "os/fd.hpp"
#include "os/ownership.hpp"

namespace bridle::admin {
namespace {

constexpr const char* kSshKeygen = "/usr/bin/ssh-keygen";
constexpr std::size_t kMaxKeysFileBytes = 4 * 1024 * 1024;

Error os_error(const std::string& what, const std::string& path) {
    return Error{what + " " + quote_text(path, 200) + ": " + std::strerror(errno), ""};
}

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Root-owned (or the caller's own when not root) and writable by no one else.
std::optional<std::string> unsafe_owner_or_mode(const struct stat& st) {
    const std::vector<std::string> problems = os::ownership_problems(st, ::geteuid());
    if (problems.empty()) return std::nullopt;
    return problems.front();
}

// Opens and checks the keys file's directory; creates the default one (0755) when missing.
Result<int> open_keys_dir(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return os_error("cannot inspect", dir);
        if (::mkdir(dir.c_str(), 0755) != 0) return os_error("cannot create the directory", dir);
        if (::geteuid() == 0 && ::chown(dir.c_str(), 0, 0) != 0)
            return os_error("cannot chown", dir);
        if (::chmod(dir.c_str(), 0755) != 0) return os_error("cannot chmod", dir);
        if (::lstat(dir.c_str(), &st) != 0) return os_error("cannot inspect", dir);
    }
    if (S_ISLNK(st.st_mode))
        return Error{"the directory " + quote_text(dir, 200) + " is a symlink: refused", ""};
    if (!S_ISDIR(st.st_mode)) return Error{quote_text(dir, 200) + " is not a directory", ""};
    if (auto why = unsafe_owner_or_mode(st))
        return Error{"the directory " + quote_text(dir, 200) + " " + *why, ""};
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return os_error("cannot open the directory", dir);
    return fd;
}

Result<std::string> read_all(int fd, const std::string& path, std::size_t limit) {
    std::string out;
    const os::ReadEnd end = os::read_to_end(fd, out, 8192, limit);
    if (end == os::ReadEnd::kFailed) return os_error("cannot read", path);
    if (end == os::ReadEnd::kPastLimit) {
        return Error{quote_text(path, 200) + " is larger than " + format_bytes(limit), ""};
    }
    return out;
}

Result<PublicKey> read_public_key_file(const std::string& path) {
    os::UniqueFd fd(path == "-" ? ::dup(STDIN_FILENO)
                                : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return os_error("cannot open the public key file", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return os_error("cannot inspect", path);
    if (S_ISDIR(st.st_mode))
        return Error{quote_text(path, 200) + " is a directory, not a public key file", ""};
    auto text = read_all(fd.get(), path, 16 * 1024);
    if (!text) return text.error();
    auto key = parse_public_key(text.value());
    if (!key) return Error{quote_text(path, 200) + ": " + key.error().message, ""};
    return key;
}

// Holds an exclusive lock on the keys directory: concurrent enroll/revoke runs take turns
// instead of one rename silently undoing the other's edit.
class DirLock {
  public:
    static Result<int> acquire(const std::string& dir) {
        auto fd = open_keys_dir(dir);
        if (!fd) return fd;
        if (::flock(fd.value(), LOCK_EX) != 0) {
            ::close(fd.value());
            return os_error("cannot lock", dir);
        }
        return fd;
    }
};

void say_error(const Error& e) {
    std::cerr << "bridle: " << e.full() << "\n";
}

int fail_config(const Error& e) {
    say_error(e);
    return to_int(ExitCode::kConfig);
}

int fail_usage(const Error& e) {
    say_error(e);
    return to_int(ExitCode::kUsage);
}

}  // namespace

Result<std::string> read_keys_file(const std::string& path) {
    auto dir_fd = open_keys_dir(dir_of(path));
    if (!dir_fd) return dir_fd.error();
    os::UniqueFd dir(dir_fd.value());
    os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::string{};
        if (errno == ELOOP)
            return Error{"the keys file " + quote_text(path, 200) + " is a symlink: refused", ""};
        return os_error("cannot open the keys file", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return os_error("cannot inspect", path);
    if (!S_ISREG(st.st_mode))
        return Error{"the keys file " + quote_text(path, 200) + " is not a regular file", ""};
    if (auto why = unsafe_owner_or_mode(st))
        return Error{"the keys file " + quote_text(path, 200) + " " + *why, ""};
    return read_all(fd.get(), path, kMaxKeysFileBytes);
}

Status write_keys_file(const std::string& path, const std::string& content) {
    const std::string dir = dir_of(path);
    const std::string base = path.substr(path.rfind('/') + 1);
    std::string temp = dir + "/." + base + ".bridle-XXXXXX";
    os::UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) return os_error("cannot create a temporary file in", dir);
    // From here on, any failure removes the temporary file: the old keys file stays in force.
    const auto abandon = [&](Error e) -> Status {
        ::unlink(temp.c_str());
        return e;
    };
    if (::geteuid() == 0 && ::fchown(fd.get(), 0, 0) != 0)
        return abandon(os_error("cannot chown", temp));
    if (::fchmod(fd.get(), 0644) != 0) return abandon(os_error("cannot chmod", temp));
    if (!os::write_all(fd.get(), content)) return abandon(os_error("cannot write", temp));
    if (::fsync(fd.get()) != 0) return abandon(os_error("cannot fsync", temp));
    if (::close(fd.release()) != 0) return abandon(os_error("cannot close", temp));
    if (::rename(temp.c_str(), path.c_str()) != 0)
        return abandon(os_error("cannot rename over", path));
    // The rename is durable only once the directory is on disk.
    os::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0)
        return os_error("cannot fsync the directory", dir);
    return ok_status();
}

Status confirm_with_ssh_keygen(const PublicKey& key) {
    if (::access(kSshKeygen, X_OK) != 0) {
        std::cerr << "bridle: note: " << kSshKeygen
                  << " is not installed; the key was checked by bridle's parser only\n";
        return ok_status();
    }
    // Only the absolute path and fixed arguments: no shell, no PATH, an empty environment.
    execution::AuxSpec spec;
    spec.path = kSshKeygen;
    spec.argv = {kSshKeygen, "-l", "-E", "sha256", "-f", "-"};
    spec.stdin_bytes = key.type + " " + key.base64 + "\n";
    spec.stdout_to = execution::AuxOutput::kCapture;
    spec.stderr_to = execution::AuxOutput::kDiscard;
    spec.max_output = 64 * 1024;
    const Result<execution::AuxResult> ran = execution::run_auxiliary(spec);
    if (!ran) return ran.error();
    if (!ran.value().succeeded()) return Error{"ssh-keygen does not accept the key", ""};
    // "256 SHA256:... comment (ED25519)"; more than 64 KiB of output is no fingerprint.
    const std::string text = ran.value().truncated ? std::string{} : ran.value().out;
    const auto space = text.find(' ');
    const std::string fingerprint =
        space == std::string::npos ? ""
                                   : text.substr(space + 1, text.find(' ', space + 1) - space - 1);
    if (fingerprint != key.fingerprint) {
        return Error{"ssh-keygen reads the key differently (" + quote_text(fingerprint, 100) +
                         " vs " + key.fingerprint + ")",
                     ""};
    }
    return ok_status();
}

namespace {

// An agent key (`approver` false) or an approver's key: the same checks and the same atomic
// rewrite of the keys file; only the forced command of the line differs.
int enroll_key(const std::string& name, const std::string& pubkey_file, const KeysOptions& options,
               bool approver) {
    if (!is_key_name(name)) {
        return fail_usage({"invalid key name " + quote_text(name, 80) +
                               ": use 1 to 64 of [A-Za-z0-9._@-], starting with a letter or digit",
                           ""});
    }
    std::string expiry;  // the option's timespec; empty: the key does not expire
    if (!options.expires.empty()) {
        const Result<std::int64_t> when = parse_expires(options.expires, std::time(nullptr));
        if (!when) return fail_usage(when.error());
        expiry = expiry_timespec(when.value());
    }
    auto key = read_public_key_file(pubkey_file);
    if (!key) return fail_usage(key.error());
    if (!options.policy_file.empty() && ::access(options.policy_file.c_str(), F_OK) != 0) {
        // Not fatal: the key then fails closed (exit 78 for every request) until the file exists.
        std::cerr << "bridle: warning: --policy " << quote_text(options.policy_file, 200)
                  << " does not exist: this key's requests are refused until it does\n";
    }
    if (const Status confirmed = confirm_with_ssh_keygen(key.value()); !confirmed) {
        return fail_usage({quote_text(pubkey_file, 200) + ": " + confirmed.error().message, ""});
    }
    auto lock = DirLock::acquire(dir_of(options.file));
    if (!lock) return fail_config(lock.error());
    os::UniqueFd locked(lock.value());
    auto current = read_keys_file(options.file);
    if (!current) return fail_config(current.error());
    const KeysFile parsed = parse_keys_file(current.value());
    auto updated = approver ? add_approver_key(parsed, name, key.value(), options.policy_file)
                            : add_key(parsed, name, key.value(), options.policy_file, expiry);
    if (!updated) return fail_usage(updated.error());
    if (const Status written = write_keys_file(options.file, updated.value()); !written) {
        return fail_config(written.error());
    }
    std::cout << "enrolled " << (approver ? "approver " : "") << name << ": " << key.value().type
              << " " << key.value().fingerprint << " in " << options.file;
    if (!expiry.empty()) std::cout << ", expires " << utc_text(*parse_timespec(expiry));
    std::cout << "\n";
    if (approver) {
        std::cout << "its forced command only lists, shows, approves and rejects requests; for "
                     "signatures, put the same key in the allowed-signers file as "
                  << name << "\n";
    }
    return to_int(ExitCode::kOk);
}

}  // namespace

int enroll(const std::string& name, const std::string& pubkey_file, const KeysOptions& options) {
    return enroll_key(name, pubkey_file, options, false);
}

int enroll_approver(const std::string& name, const std::string& pubkey_file,
                    const KeysOptions& options) {
    return enroll_key(name, pubkey_file, options, true);
}

int revoke(const std::string& name, const KeysOptions& options) {
    auto lock = DirLock::acquire(dir_of(options.file));
    if (!lock) return fail_config(lock.error());
    os::UniqueFd locked(lock.value());
    auto current = read_keys_file(options.file);
    if (!current) return fail_config(current.error());
    auto updated = remove_key(parse_keys_file(current.value()), name);
    if (!updated) return fail_usage(updated.error());
    if (const Status written = write_keys_file(options.file, updated.value()); !written) {
        return fail_config(written.error());
    }
    std::cout << "revoked " << name << " in " << options.file
              << " (open sessions are not closed: sshd checks keys at login)\n";
    return to_int(ExitCode::kOk);
}

int list_keys(const KeysOptions& options) {
    auto current = read_keys_file(options.file);
    if (!current) return fail_config(current.error());
    const Result<std::map<std::string, std::int64_t>> used = last_use_by_key();
    if (!used) {
        std::cerr << "bridle: warning: last use unknown: " << used.error().message << "\n";
    }
    const std::int64_t now = std::time(nullptr);
    // name, type, bits, fingerprint, expiry, last use, comment; tab-separated.
    for (const auto& line : parse_keys_file(current.value()).lines) {
        if (!line.key) {
            if (!line.problem.empty()) {
                std::cerr << "bridle: warning: " << options.file << ":" << line.number << ": "
                          << line.problem << "\n";
            }
            continue;
        }
        std::string expires = "never";
        if (!line.expiry.empty()) {
            const std::optional<std::int64_t> when = parse_timespec(line.expiry);
            expires = !when          ? "invalid:" + escape_text(line.expiry, 40)
                      : *when <= now ? "expired:" + utc_text(*when)
                                     : utc_text(*when);
        }
        std::string last_use = used ? "never" : "unknown";
        if (used && line.name) {
            const auto it = used.value().find(*line.name);
            if (it != used.value().end()) last_use = utc_text(it->second);
        }
        std::cout << (line.name ? *line.name
                                : "(unmanaged line " + std::to_string(line.number) + ")")
                  << "\t" << line.key->type << "\t" << line.key->bits << "\t"
                  << line.key->fingerprint << "\t" << expires << "\t"
                  << (line.name ? last_use : "-") << "\t" << escape_text(line.key->comment, 120)
                  << "\n";
    }
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::admin
