// SPDX-License-Identifier: Apache-2.0
// An allowed file request, carried out here: get streams a range of the file; put and restore
// stage the new content beside the file, run the entry's validator on it, keep the old content
// as a version, and only then rename; versions lists what is kept. Every file is reached
// through files/ (descriptors, no link followed); a failure at any step leaves the file as it
// was, and says so.
#include "gate/file_ops.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "common/text.hpp"
#include "common/unified_diff.hpp"
#include "os/accounts.hpp"
#include "policy/sha256.hpp"

namespace bridle::gate::detail {
namespace {

// Kept versions are whole files: an old file larger than this is not replaced.
constexpr std::uint64_t kMaxKeptFile = policy::kMaxFileSize;

// The account whose versions these are (the store is per account): its name, as the records
// give it (forced::current_user), or its uid.
std::string user_name() {
    return os::own_account_name().value_or(std::to_string(::geteuid()));
}

void fail(Response& r, ExitCode code, const std::string& status, const std::string& why,
          const char* after = "nothing was changed") {
    r.exit_status = to_int(code);
    r.file->status = status;
    r.message += "bridle: " + why + "\nbridle: " + after + "\n";
}

std::string utc(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    char text[32] = "";
    if (::gmtime_r(&t, &tm) != nullptr) std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// Who a written file belongs to: the entry's owner and group, else the writer and its group.
Result<files::Ownership> ownership_of(const policy::FileRule& rule, std::uint32_t mode) {
    files::Ownership o;
    o.mode = mode;
    o.uid = ::geteuid();
    o.gid = ::getegid();
    if (!rule.owner.empty()) {
        const passwd* pw = os::user_named(rule.owner);
        if (pw == nullptr) return Error{"owner " + rule.owner + " does not exist on this host", ""};
        o.uid = pw->pw_uid;
        o.gid = pw->pw_gid;
    }
    if (!rule.group.empty()) {
        const group* gr = os::group_named(rule.group);
        if (gr == nullptr) return Error{"group " + rule.group + " does not exist on this host", ""};
        o.gid = gr->gr_gid;
    }
    return o;
}

}  // namespace

void FileOps::run(const std::string& content, Response& r) const {
    switch (d.request.verb) {
        case policy::FileVerb::kGet:
            get(r);
            break;
        case policy::FileVerb::kVersions:
            list_versions(r);
            break;
        case policy::FileVerb::kPut:
            replace(&content, r);
            break;
        case policy::FileVerb::kRestore:
            replace(nullptr, r);
            break;
        default:
            fail(r, ExitCode::kSoftware, "error", "unknown file request");
    }
}

void FileOps::get(Response& r) const {
    Result<os::UniqueFd> dir = files::open_directory(d.root, d.directory, false);
    if (!dir) return fail(r, ExitCode::kIoErr, "failed", dir.error().message, "nothing was read");
    const std::uint64_t most = context.policy.settings.max_output;
    const std::uint64_t limit = std::min(d.request.limit.value_or(most), most);
    std::uint64_t sent = 0;
    bool gone = false;
    const Result<std::uint64_t> size = files::read_range(
        dir.value().get(), d.name, d.request.offset, limit, [&](std::string_view chunk) {
            if (!sink(execution::Stream::kStdout, chunk)) return !(gone = true);
            sent += chunk.size();
            return true;
        });
    if (!size) return fail(r, ExitCode::kIoErr, "failed", size.error().message, "nothing was read");
    r.file->size = size.value();
    r.file->limit = limit;
    r.file->offset = d.request.offset;
    r.file->sent = sent;
    r.outcome.stdout_bytes = sent;
    r.outcome.disconnected = gone;
    r.exit_status = to_int(ExitCode::kOk);
    r.file->status = "ok";
    if (d.request.offset + sent < size.value() && !gone) {
        r.message += "bridle: sent bytes " + std::to_string(d.request.offset) + " to " +
                     std::to_string(d.request.offset + sent) + " of " +
                     std::to_string(size.value()) + "; send `get " + d.request.path + " --offset " +
                     std::to_string(d.request.offset + sent) + "` for more\n";
    }
}

void FileOps::list_versions(Response& r) const {
    r.exit_status = to_int(ExitCode::kOk);
    r.file->status = "ok";
    Result<files::VersionStore> store =
        files::VersionStore::open(context.state_dir, user_name(), d.canonical, false);
    if (store) r.file->versions = store.value().list();
    std::string table;
    for (auto it = r.file->versions.rbegin(); it != r.file->versions.rend(); ++it) {
        table += std::to_string(it->number) + "\t" + utc(it->time) + "\t" +
                 (it->absent ? "absent" : std::to_string(it->size) + " bytes\t" + it->sha256) +
                 "\n";
    }
    if (!table.empty()) {
        (void)sink(execution::Stream::kStdout, "VERSION\tREPLACED\tCONTENT\n" + table);
    } else {
        r.message += "bridle: no versions of " + d.canonical + " are kept\n";
    }
}

void FileOps::replace(const std::string* content, Response& r) const {
    const policy::FileRule& rule = *d.rule;
    const bool restoring = content == nullptr;
    Result<os::UniqueFd> dir = files::open_directory(d.root, d.directory, true);
    if (!dir) return fail(r, ExitCode::kIoErr, "failed", dir.error().message);
    const int dirfd = dir.value().get();
    Result<files::Current> current = files::examine(dirfd, d.name, true, kMaxKeptFile);
    if (!current) return fail(r, ExitCode::kIoErr, "failed", current.error().message);
    const files::Current& cur = current.value();
    if (cur.exists && !cur.regular) {
        return fail(r, ExitCode::kNoPerm, "refused",
                    d.canonical + " is a " + cur.type +
                        ": bridle never writes through, or replaces, anything but a regular file");
    }
    if (!cur.exists && !restoring && !rule.create) {
        return fail(r, ExitCode::kNoPerm, "refused",
                    d.canonical + " does not exist, and entry " + rule.id +
                        " may only replace existing files");
    }
    const std::string old_sha = cur.exists ? policy::sha256_hex(cur.content) : "";
    r.file->old_sha256 = old_sha;

    // The store first: a write that cannot keep the old content does not happen.
    std::optional<files::VersionStore> store;
    if (rule.versions > 0 || restoring) {
        Result<files::VersionStore> opened =
            files::VersionStore::open(context.state_dir, user_name(), d.canonical, !restoring);
        if (!opened) {
            return fail(r, restoring ? ExitCode::kNoPerm : ExitCode::kIoErr,
                        restoring ? "refused" : "failed",
                        restoring ? "no versions of " + d.canonical + " are kept"
                                  : "the old content cannot be kept: " + opened.error().message);
        }
        store.emplace(std::move(opened).value());
    }
    std::string restored;
    std::uint32_t mode = d.mode;
    bool remove = false;
    if (restoring) {
        const std::vector<files::Version> kept = store->list();
        const auto found = std::find_if(kept.rbegin(), kept.rend(), [&](const files::Version& v) {
            return !d.request.version || v.number == *d.request.version;
        });
        if (found == kept.rend()) {
            return fail(r, ExitCode::kNoPerm, "refused",
                        kept.empty() ? "no versions of " + d.canonical + " are kept"
                                     : "version " + std::to_string(*d.request.version) + " of " +
                                           d.canonical + " is not kept (send `versions " +
                                           d.request.path + "`)");
        }
        remove = found->absent;
        if (!remove) {
            Result<std::string> bytes = store->content(found->number);
            if (!bytes || policy::sha256_hex(bytes.value()) != found->sha256) {
                return fail(r, ExitCode::kIoErr, "failed",
                            "version " + std::to_string(found->number) + " of " + d.canonical +
                                " cannot be read back intact");
            }
            restored = std::move(bytes).value();
            mode = found->mode != 0 ? found->mode & 0775 : mode;
        }
    }
    const std::string& next = restoring ? restored : *content;
    if (remove && !cur.exists) {
        r.exit_status = to_int(ExitCode::kOk);
        r.file->status = "ok";
        r.message += "bridle: " + d.canonical + " does not exist, as in that version\n";
        return;
    }

    const Result<files::Ownership> owner = ownership_of(rule, mode);
    if (!owner) return fail(r, ExitCode::kConfig, "failed", owner.error().message);
    std::optional<files::Staged> staged;
    if (!remove) {
        Result<files::Staged> made = files::stage(dirfd, d.directory, d.name, next, owner.value());
        if (!made) return fail(r, ExitCode::kIoErr, "failed", made.error().message);
        staged.emplace(std::move(made).value());
        if (!rule.validator.empty()) {
            const int status = validate(staged->path(), r);
            if (status != 0) {
                return fail(r, ExitCode::kDataErr, "refused",
                            "validator " + rule.validator + " rejected the content" +
                                (status > 0 ? " (exit status " + std::to_string(status) + ")" : ""),
                            ("nothing was changed: " + d.canonical + " is as it was").c_str());
            }
        }
    }
    if (store) {
        const Result<files::Version> version =
            store->keep(cur, old_sha, request_id, static_cast<std::int64_t>(::time(nullptr)));
        if (!version) return fail(r, ExitCode::kIoErr, "failed", version.error().message);
        r.file->kept_version = version.value().number;
    }
    const Status placed = remove ? files::remove(dirfd, d.name) : staged->commit(cur.exists);
    if (!placed) return fail(r, ExitCode::kIoErr, "failed", placed.error().message);
    if (store) store->prune(std::max<std::uint32_t>(rule.versions, 1));

    r.exit_status = to_int(ExitCode::kOk);
    r.file->status = "ok";
    r.file->created = !cur.exists;
    r.file->removed = remove;
    r.file->size = remove ? 0 : next.size();
    r.file->new_sha256 = remove ? "" : policy::sha256_hex(next);
    if (rule.diff) r.file->diff = unified_diff(cur.content, remove ? "" : next, d.canonical);
    std::string said = "bridle: " + std::string(remove ? "removed " : "wrote ") + d.canonical;
    if (!remove)
        said += " (" + std::to_string(next.size()) + " bytes, sha256 " + r.file->new_sha256 + ")";
    said += "\n";
    if (r.file->kept_version != 0) {
        said += "bridle: the content before is version " + std::to_string(r.file->kept_version) +
                ": `restore " + d.request.path + " --version " +
                std::to_string(r.file->kept_version) + "` puts it back\n";
    }
    r.message += said;
    if (d.request.then) {
        // The file is in place: what runs now (a reload) cannot undo it, and says so.
        r.file->then = *d.request.then;
        r.file->then_status = run_rule(*d.request.then, nullptr, "then", r);
        if (r.file->then_status != 0) {
            r.exit_status =
                r.file->then_status > 0 ? r.file->then_status : to_int(ExitCode::kSoftware);
            r.file->status = "then-failed";
            r.message += "bridle: the file is written; rule " + *d.request.then +
                         (r.file->then_status > 0 ? " exited " + std::to_string(r.file->then_status)
                                                  : std::string(" could not run")) +
                         "\n";
        }
    }
}

int FileOps::validate(const std::string& staged, Response& r) const {
    r.file->validator = d.rule->validator;
    r.file->validator_status = run_rule(d.rule->validator, &staged, "validator", r);
    return r.file->validator_status;
}

int FileOps::run_rule(const std::string& id, const std::string* value, const char* front_end,
                      Response& r) const {
    const policy::Rule* found = context.policy.rules.with_id(id);
    if (found == nullptr) {
        r.message += "bridle: the policy has no rule " + id + "\n";  // the loader prevents this
        return -1;
    }
    // The rule alone decides, for no particular key (bridle runs it, not the agent), with
    // `value` (the staged file's path) as its one value if it takes one; the rest of the
    // pipeline is the usual one: decided, audited, sandboxed.
    policy::Policy one = context.policy;
    one.rules = {*found};
    one.rules.front().keys.clear();
    one.file_rules.clear();
    Request check;
    check.argv = std::vector<std::string>{found->name};
    for (const policy::Arg& arg : found->args) {
        check.argv->push_back(arg.is_literal || value == nullptr ? arg.literal : *value);
    }
    check.key = request.key;
    check.client = request.client;
    check.session_id = request.session_id;
    check.fanout_id = request.fanout_id;
    check.front_end = front_end;
    check.run_as = request.run_as;
    check.parent_request_id = request_id;
    check.timeout = request.timeout;
    const Context inner{one, context.audit, context.resolver, context.state_dir};
    const execution::OutputSink to_stderr = [this](execution::Stream, std::string_view bytes) {
        return sink(execution::Stream::kStderr, bytes);
    };
    const Response ran = handle(inner, check, to_stderr, hangup_fds);
    if (ran.kind != Kind::kRan) {
        r.message += ran.message;
        return -1;
    }
    return ran.exit_status;
}

}  // namespace bridle::gate::detail
