// SPDX-License-Identifier: Apache-2.0
// The approval store: the directory's checks, the lock, and each entry as a JSON file.
#include "approval/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::approval {
namespace {

using nlohmann::json;

constexpr const char* kLockName = ".lock";
constexpr std::size_t kMaxEntryBytes = 256 * 1024;

const std::array<State, 6> kStates{State::kPending,  State::kApproved, State::kRejected,
                                   State::kConsumed, State::kExpired,  State::kVoid};

Error store_error(const std::string& dir, const std::string& what) {
    return Error{"the approval store " + dir + ": " + what, ""};
}

// Reads a whole regular file (not a symlink) of at most kMaxEntryBytes in `dirfd`.
Result<std::string> read_small(int dirfd, const std::string& name) {
    const os::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return Error{name + ": " + os::errno_text(errno), ""};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::size_t>(st.st_size) > kMaxEntryBytes) {
        return Error{name + ": not a regular file of at most 256 KiB", ""};
    }
    std::string text;
    const os::ReadEnd end =
        os::read_to_end(fd.get(), text, static_cast<std::size_t>(st.st_size), kMaxEntryBytes);
    if (end == os::ReadEnd::kFailed) return Error{name + ": " + os::errno_text(errno), ""};
    if (end != os::ReadEnd::kEnd || text.size() != static_cast<std::size_t>(st.st_size)) {
        return Error{name + ": changed while it was read", ""};
    }
    return text;
}

}  // namespace

const char* state_name(State state) {
    switch (state) {
        case State::kPending:
            return "pending";
        case State::kApproved:
            return "approved";
        case State::kRejected:
            return "rejected";
        case State::kConsumed:
            return "consumed";
        case State::kExpired:
            return "expired";
        case State::kVoid:
            return "void";
        default:
            return "void";  // -Werror=switch-default; every state is listed above
    }
}

std::uint32_t Entry::approvals() const {
    std::vector<std::string> seen;
    for (const Vote& v : votes) {
        if (!v.approve) continue;
        if (v.channel == "host") return required;  // root on the host
        if (std::find(approvers.begin(), approvers.end(), v.approver) == approvers.end()) continue;
        if (std::find(seen.begin(), seen.end(), v.approver) == seen.end())
            seen.push_back(v.approver);
    }
    return static_cast<std::uint32_t>(seen.size());
}

bool Entry::has_vote_of(const std::string& approver) const {
    return std::any_of(votes.begin(), votes.end(),
                       [&](const Vote& v) { return v.approver == approver; });
}

std::string to_json(const Entry& e) {
    json votes = json::array();
    for (const Vote& v : e.votes) {
        votes.push_back({{"approver", v.approver},
                         {"channel", v.channel},
                         {"fingerprint", v.fingerprint},
                         {"signature", v.signature},
                         {"approve", v.approve},
                         {"at", v.at}});
    }
    const Binding& b = e.binding;
    const json j = {{"id", b.id},
                    {"host", b.host},
                    {"key", b.key},
                    {"rule", b.rule},
                    {"run_as", b.run_as},
                    {"argv", b.argv},
                    {"policy", b.policy_sha256},
                    {"nonce", b.nonce},
                    {"expires", b.expires},
                    {"digest", e.digest},
                    {"code", e.code},
                    {"approvers", e.approvers},
                    {"required", e.required},
                    {"command", e.command},
                    {"client", e.client},
                    {"created", e.created},
                    {"state", state_name(e.state)},
                    {"votes", votes},
                    {"consumed_by", e.consumed_by},
                    {"reason", e.reason}};
    // Bytes that are not UTF-8 (the agent's command) are replaced in the file's text only; the
    // digest is over the binding, whose argv the gate has already checked.
    return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Entry> entry_from_json(const std::string& text) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error{"not a JSON object", ""};
    try {
        Entry e;
        Binding& b = e.binding;
        b.id = j.at("id").get<std::string>();
        b.host = j.at("host").get<std::string>();
        b.key = j.at("key").get<std::string>();
        b.rule = j.at("rule").get<std::string>();
        b.run_as = j.at("run_as").get<std::string>();
        b.argv = j.at("argv").get<std::vector<std::string>>();
        b.policy_sha256 = j.at("policy").get<std::string>();
        b.nonce = j.at("nonce").get<std::string>();
        b.expires = j.at("expires").get<std::int64_t>();
        e.digest = j.at("digest").get<std::string>();
        e.code = j.at("code").get<std::string>();
        e.approvers = j.at("approvers").get<std::vector<std::string>>();
        e.required = j.at("required").get<std::uint32_t>();
        e.command = j.at("command").get<std::string>();
        e.client = j.at("client").get<std::string>();
        e.created = j.at("created").get<std::int64_t>();
        const std::string state = j.at("state").get<std::string>();
        const auto found = std::find_if(kStates.begin(), kStates.end(),
                                        [&](State s) { return state == state_name(s); });
        if (found == kStates.end()) return Error{"unknown state " + state, ""};
        e.state = *found;
        for (const json& v : j.at("votes")) {
            e.votes.push_back(
                Vote{v.at("approver").get<std::string>(), v.at("channel").get<std::string>(),
                     v.at("fingerprint").get<std::string>(), v.at("signature").get<std::string>(),
                     v.at("approve").get<bool>(), v.at("at").get<std::int64_t>()});
        }
        e.consumed_by = j.at("consumed_by").get<std::string>();
        e.reason = j.at("reason").get<std::string>();
        if (!is_approval_id(b.id)) return Error{"not an approval id: " + b.id, ""};
        return e;
    } catch (const json::exception& ex) {
        return Error{std::string("a field is missing or of the wrong type: ") + ex.what(), ""};
    }
}

Result<Store> Store::open(const std::string& dir) {
    os::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        return store_error(
            dir, os::errno_text(errno) + " (create it: install -d -o ACCOUNT -m 0700 " + dir + ")");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return store_error(dir, os::errno_text(errno));
    const uid_t self = ::geteuid();
    if (self != 0 && st.st_uid != self) {
        return store_error(dir, "is owned by uid " + std::to_string(st.st_uid) +
                                    ", not by this account (uid " + std::to_string(self) + ")");
    }
    if ((st.st_mode & 077) != 0) {
        return store_error(dir, "is open to group or others (mode " +
                                    std::to_string(st.st_mode & 0777) +
                                    " decimal); it must be 0700");
    }
    return Store(dir, std::move(fd), st.st_uid, st.st_gid);
}

Result<os::UniqueFd> Store::create(const std::string& name) const {
    os::UniqueFd fd(
        ::openat(fd_->get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return store_error(dir_, name + ": " + os::errno_text(errno));
    // Root writes on behalf of bridle's account: the file must stay readable to it.
    if (::geteuid() == 0 && ::fchown(fd.get(), uid_, gid_) != 0) {
        return store_error(dir_, name + ": fchown: " + os::errno_text(errno));
    }
    return fd;
}

Result<os::UniqueFd> Store::lock() const {
    Result<os::UniqueFd> fd = create(kLockName);
    if (!fd) return fd;
    while (::flock(fd.value().get(), LOCK_EX) != 0) {
        if (errno != EINTR) return store_error(dir_, "flock: " + os::errno_text(errno));
    }
    return fd;
}

std::vector<Entry> Store::list() const {
    std::vector<Entry> entries;
    const int copy = ::openat(fd_->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) return entries;
    DIR* d = ::fdopendir(copy);
    if (d == nullptr) {
        ::close(copy);
        return entries;
    }
    while (const dirent* de = ::readdir(d)) {
        const std::string name = de->d_name;
        if (!is_approval_id(name)) continue;  // ., .., .lock, temporary files
        if (entries.size() >= kMaxEntries) break;
        if (Result<std::string> text = read_small(fd_->get(), name)) {
            if (Result<Entry> e = entry_from_json(text.value()); e && e.value().binding.id == name)
                entries.push_back(std::move(e).value());
        }
    }
    ::closedir(d);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.created < b.created; });
    return entries;
}

Result<Entry> Store::load(const std::string& id) const {
    if (!is_approval_id(id)) {
        return Error{"not an approval id: " + id.substr(0, 64) + " (32 hex digits)", ""};
    }
    Result<std::string> text = read_small(fd_->get(), id);
    if (!text) return Error{"no approval request " + id + " on this host", ""};
    Result<Entry> e = entry_from_json(text.value());
    if (!e) return Error{"approval request " + id + " is unreadable: " + e.error().message, ""};
    if (e.value().binding.id != id) return Error{"approval request " + id + " is inconsistent", ""};
    return e;
}

Status Store::save(const Entry& entry) const {
    const std::string& id = entry.binding.id;
    if (!is_approval_id(id)) return store_error(dir_, "refusing to save a malformed id");
    const std::string tmp = "." + id + ".tmp";
    (void)::unlinkat(fd_->get(), tmp.c_str(), 0);
    Result<os::UniqueFd> fd = create(tmp);
    if (!fd) return fd.error();
    const std::string text = to_json(entry);
    if (!os::write_all(fd.value().get(), text) || ::fsync(fd.value().get()) != 0) {
        const int err = errno;
        (void)::unlinkat(fd_->get(), tmp.c_str(), 0);
        return store_error(dir_, tmp + ": " + os::errno_text(err));
    }
    if (::renameat(fd_->get(), tmp.c_str(), fd_->get(), id.c_str()) != 0) {
        const int err = errno;
        (void)::unlinkat(fd_->get(), tmp.c_str(), 0);
        return store_error(dir_, "rename " + tmp + ": " + os::errno_text(err));
    }
    if (::fsync(fd_->get()) != 0) return store_error(dir_, "fsync: " + os::errno_text(errno));
    return ok_status();
}

Status Store::remove(const std::string& id) const {
    if (!is_approval_id(id)) return store_error(dir_, "refusing to remove a malformed id");
    if (::unlinkat(fd_->get(), id.c_str(), 0) != 0 && errno != ENOENT) {
        return store_error(dir_, id + ": " + os::errno_text(errno));
    }
    return ok_status();
}

Result<std::string> Store::write_scratch(const std::string& bytes) const {
    const std::string name = ".scratch-" + std::to_string(::getpid());  // one at a time
    (void)::unlinkat(fd_->get(), name.c_str(), 0);
    Result<os::UniqueFd> fd = create(name);
    if (!fd) return fd.error();
    if (!os::write_all(fd.value().get(), bytes)) {
        (void)::unlinkat(fd_->get(), name.c_str(), 0);
        return store_error(dir_, name + ": " + os::errno_text(errno));
    }
    return dir_ + "/" + name;
}

}  // namespace bridle::approval
