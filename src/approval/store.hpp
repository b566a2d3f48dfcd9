// SPDX-License-Identifier: Apache-2.0
// The pending approvals: one JSON file per request in a directory only bridle's account (and
// root) may enter, changed only under one exclusive lock, each change written to a new file
// and renamed into place (docs/approvals.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "approval/canonical.hpp"
#include "common/result.hpp"
#include "os/fd.hpp"

namespace bridle::approval {

// pending -> approved (enough approvals) -> consumed (ran once); pending -> rejected; pending or
// approved -> expired (past its expiry) or void (the policy changed before it was used).
enum class State { kPending, kApproved, kRejected, kConsumed, kExpired, kVoid };
const char* state_name(State state);  // "pending", "approved", ...

// One approver's answer.
struct Vote {
    std::string approver;     // the allowed-signers principal, or "root" (channel host)
    std::string channel;      // ssh (an approver key's forced command), signature, host (root)
    std::string fingerprint;  // SHA256:... of the approving key; "" for host
    std::string signature;    // channel signature: the armored SSH signature, kept for re-checks
    bool approve = true;      // false: a rejection
    std::int64_t at = 0;      // Unix time
};

struct Entry {
    Binding binding;
    std::string digest;                  // digest_of(binding) when it was made
    std::string code;                    // short_code(digest)
    std::vector<std::string> approvers;  // who may approve (the rule's approval)
    std::uint32_t required = 1;
    std::string command;  // the request as the agent sent it, for people (escaped on display)
    std::string client;   // SSH_CONNECTION of the request
    std::int64_t created = 0;
    State state = State::kPending;
    std::vector<Vote> votes;  // in the order given
    std::string consumed_by;  // the request id of the run that used it
    std::string reason;       // why expired or void

    // Approvals from distinct listed approvers (a host vote by root counts as all required).
    std::uint32_t approvals() const;
    bool has_vote_of(const std::string& approver) const;
};

std::string to_json(const Entry& entry);
Result<Entry> entry_from_json(const std::string& text);

// At most this many entries are read from a store; a new request is refused past it.
constexpr std::size_t kMaxEntries = 1024;
// Entries in a final state are removed this long after their expiry.
constexpr std::int64_t kKeepFinishedSeconds = 7 * 24 * 3600;

class Store {
  public:
    // Opens `dir`: a directory (not a symlink) owned by this process's user, or any owner when
    // this process is root, that nobody else may enter (mode 0700 or stricter). Files root
    // writes there are given the directory's owner, so that bridle's account can read them.
    static Result<Store> open(const std::string& dir);

    // Takes the store's lock (flock on DIR/.lock) until the returned descriptor is closed.
    Result<os::UniqueFd> lock() const;
    // Every entry, oldest first; unreadable files are skipped. Under the lock.
    std::vector<Entry> list() const;
    Result<Entry> load(const std::string& id) const;
    // Writes DIR/.ID.tmp, fsyncs it, renames it over DIR/ID, fsyncs the directory.
    Status save(const Entry& entry) const;
    Status remove(const std::string& id) const;
    // A file in the store for a moment (a signature handed to ssh-keygen): its path; removed
    // by the caller.
    Result<std::string> write_scratch(const std::string& bytes) const;
    const std::string& dir() const { return dir_; }

  private:
    Store(std::string dir, os::UniqueFd fd, uid_t uid, gid_t gid)
        : dir_(std::move(dir)),
          fd_(std::make_shared<os::UniqueFd>(std::move(fd))),
          uid_(uid),
          gid_(gid) {}
    Result<os::UniqueFd> create(const std::string& name) const;

    std::string dir_;
    std::shared_ptr<os::UniqueFd> fd_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
};

}  // namespace bridle::approval
