// SPDX-License-Identifier: Apache-2.0
// `bridle audit`'s input: sd-journal for the journal (local, -D DIR, --file FILE), and the file
// sink's JSON lines. Both yield the same StoredRecord, so the review never knows which it read.
#include "audit/journal_reader.hpp"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit.hpp"
#include "audit/sd_journal_api.hpp"
#include "common/text.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::audit {
namespace {

constexpr const char* kIdentifierMatch = "SYSLOG_IDENTIFIER=bridle";

using os::errno_text;

bool in_window(const ReadOptions& o, std::uint64_t t) {
    return (!o.since || t >= *o.since) && (!o.until || t <= *o.until);
}

// ---- The journal -----------------------------------------------------------------------------

struct JournalCloser {
    const SdJournalApi* api;
    void operator()(sd_journal* j) const { api->close(j); }
};
using Journal = std::unique_ptr<sd_journal, JournalCloser>;

Result<Journal> open_journal(const SdJournalApi& api, const ReadOptions& o) {
    sd_journal* j = nullptr;
    int rc;
    std::string what;
    if (!o.directory.empty()) {
        what = "the journal directory " + o.directory;
        rc = api.open_directory(&j, o.directory.c_str(), 0);
    } else if (!o.file.empty()) {
        what = "the journal file " + o.file;
        const char* paths[] = {o.file.c_str(), nullptr};
        rc = api.open_files(&j, paths, 0);
    } else {
        what = "the system journal";
        rc = api.open(&j, 0);
    }
    if (rc < 0) return Error{"cannot open " + what + ": " + errno_text(-rc), ""};
    Journal journal(j, JournalCloser{&api});
    // No size limit on a field: a long command or a captured output is read whole.
    api.set_data_threshold(j, 0);
    if ((rc = api.add_match(j, kIdentifierMatch, 0)) < 0) {
        return Error{"cannot filter the journal: " + errno_text(-rc), ""};
    }
    if (!o.request_id.empty()) {
        const std::string match = "BRIDLE_REQUEST_ID=" + o.request_id;
        if ((rc = api.add_match(j, match.data(), match.size())) < 0) {
            return Error{"cannot filter the journal: " + errno_text(-rc), ""};
        }
    }
    rc = o.since ? api.seek_realtime_usec(j, *o.since) : api.seek_head(j);
    if (rc < 0) return Error{"cannot seek in " + what + ": " + errno_text(-rc), ""};
    return journal;
}

// The entry under the cursor as a record.
StoredRecord current_record(const SdJournalApi& api, sd_journal* j) {
    StoredRecord r;
    std::uint64_t usec = 0;
    if (api.get_realtime_usec(j, &usec) >= 0) r.realtime_usec = usec;
    const void* data = nullptr;
    std::size_t length = 0;
    for (api.restart_data(j);
         api.enumerate_data(j, &data, &length) > 0;) {  // SD_JOURNAL_FOREACH_DATA
        const std::string_view field(static_cast<const char*>(data), length);
        const std::size_t eq = field.find('=');
        if (eq == std::string_view::npos) continue;
        // A field sent twice keeps its first value (bridle sends each once).
        r.fields.emplace(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
    }
    return r;
}

Status read_journal(const ReadOptions& o, const std::function<bool(const StoredRecord&)>& on_record,
                    const std::function<void()>& caught_up) {
    Result<const SdJournalApi*> loaded = sd_journal_api();
    if (!loaded) return loaded.error();
    const SdJournalApi& api = *loaded.value();
    Result<Journal> opened = open_journal(api, o);
    if (!opened) return opened.error();
    sd_journal* j = opened.value().get();
    bool caught = false;
    for (;;) {
        const int rc = api.next(j);
        if (rc < 0) return Error{"cannot read the journal: " + errno_text(-rc), ""};
        if (rc > 0) {
            std::uint64_t usec = 0;
            api.get_realtime_usec(j, &usec);
            if (o.until && usec > *o.until) {
                if (!o.follow) break;
                continue;  // following: later records only grow further past --until
            }
            if (!in_window(o, usec)) continue;
            if (!on_record(current_record(api, j))) return ok_status();
            continue;
        }
        if (!caught) {
            caught = true;
            caught_up();
        }
        if (!o.follow) return ok_status();
        const int waited = api.wait(j, static_cast<std::uint64_t>(-1));
        if (waited < 0) return Error{"cannot wait for the journal: " + errno_text(-waited), ""};
    }
    if (!caught) caught_up();
    return ok_status();
}

// ---- The file sink's JSON lines ---------------------------------------------------------------

// FILE and the rotated files spdlog made of it (audit.jsonl -> audit.1.jsonl, audit.2.jsonl,
// ...), oldest first. Stops at the first missing index.
std::vector<std::string> rotated_family(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    const std::size_t dot = path.rfind('.');
    const bool has_ext =
        dot != std::string::npos && dot != 0 && (slash == std::string::npos || dot > slash + 1);
    const std::string stem = has_ext ? path.substr(0, dot) : path;
    const std::string ext = has_ext ? path.substr(dot) : "";
    std::vector<std::string> older;
    for (int i = 1; i <= 1000; ++i) {
        const std::string name = stem + "." + std::to_string(i) + ext;
        if (::access(name.c_str(), F_OK) != 0) break;
        older.push_back(name);
    }
    std::vector<std::string> family(older.rbegin(), older.rend());
    family.push_back(path);
    return family;
}

// Hands every complete line of `bytes` (after `partial`, the unfinished last line of the
// previous chunk) on as a record, and keeps the new unfinished line in `partial`. Returns
// false when on_record asked to stop.
bool hand_on(std::string bytes, std::string& partial, const ReadOptions& o,
             const std::function<bool(const StoredRecord&)>& on_record) {
    bytes.insert(0, partial);
    partial.clear();
    std::size_t start = 0;
    for (std::size_t newline; (newline = bytes.find('\n', start)) != std::string::npos;
         start = newline + 1) {
        const std::optional<StoredRecord> r = parse_json_line(bytes.substr(start, newline - start));
        if (!r || r->field("SYSLOG_IDENTIFIER") != "bridle") continue;
        if (!o.request_id.empty() && r->field("BRIDLE_REQUEST_ID") != o.request_id) continue;
        if (!in_window(o, r->realtime_usec)) continue;
        if (!on_record(*r)) return false;
    }
    partial = bytes.substr(start);
    return true;
}

// One open file of the family, read by its descriptor: a rename (rotation) does not move it.
struct OpenFile {
    int fd = -1;
    ino_t inode = 0;
    off_t offset = 0;
    std::string partial;
    OpenFile() = default;
    OpenFile(OpenFile&& other) noexcept { *this = std::move(other); }
    OpenFile& operator=(OpenFile&& other) noexcept {
        if (this == &other) return *this;
        close();
        fd = std::exchange(other.fd, -1);
        inode = other.inode, offset = other.offset, partial = std::move(other.partial);
        return *this;
    }
    ~OpenFile() { close(); }
    bool open(const std::string& path) {
        close();
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0) return false;
        inode = st.st_ino, offset = 0, partial.clear();
        return true;
    }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    // Everything from `offset` to the end, handed on.
    bool drain(const ReadOptions& o, const std::function<bool(const StoredRecord&)>& on_record) {
        std::string bytes;
        char buffer[65536];
        for (ssize_t n; (n = ::pread(fd, buffer, sizeof buffer, offset)) > 0; offset += n) {
            bytes.append(buffer, static_cast<std::size_t>(n));
        }
        return hand_on(std::move(bytes), partial, o, on_record);
    }
};

ino_t inode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The family open, oldest first, the live file last; empty (and `why` set) when the live file
// or its directory cannot be opened or locked.
//
// Names are listed and opened one by one, and a rotation moves every file one name up, through
// moments where a name is missing (spdlog removes the target, then renames onto it). Listed
// during a rotation, the family would skip files or hold one twice, and the follower would read
// records out of order. Every writer rotates under an exclusive flock(2) on the directory
// (file_sink.cpp), so the family is listed and opened under a shared one: no rotation is under
// way while it is taken.
std::vector<OpenFile> open_family(const std::string& path, std::string& why) {
    const std::string directory = directory_of(path);
    const os::UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int rc = -1;
    if (dir.get() >= 0) {
        while ((rc = ::flock(dir.get(), LOCK_SH)) != 0 && errno == EINTR) {
        }
    }
    if (rc != 0) {
        why = "cannot open and lock the directory " + directory + ": " + errno_text(errno);
        return {};
    }
    const std::vector<std::string> names = rotated_family(path);
    std::vector<OpenFile> files(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!files[i].open(names[i]) && i + 1 == names.size()) {
            why = "cannot open " + path + ": " + errno_text(errno);
            return {};
        }
    }
    return files;  // the lock goes with `dir`
}

Status read_json_lines(const ReadOptions& o,
                       const std::function<bool(const StoredRecord&)>& on_record,
                       const std::function<void()>& caught_up) {
    std::string why;
    std::vector<OpenFile> family = open_family(o.file, why);
    if (family.empty()) return Error{why, ""};
    // The backlog: the rotated files, oldest first, then the live one. `seen` holds the
    // inodes read to their end, so that a file met again under a new name is not read twice.
    std::set<ino_t> seen;
    OpenFile live = std::move(family.back());
    family.pop_back();
    for (OpenFile& rotated : family) {
        if (rotated.fd < 0 || rotated.inode == live.inode) continue;
        if (!rotated.drain(o, on_record)) return ok_status();
        seen.insert(rotated.inode);
    }
    if (!live.drain(o, on_record)) return ok_status();
    caught_up();
    if (!o.follow) return ok_status();
    // Follow: read the open file as it grows. When the name holds another file, the one we
    // hold was rotated (perhaps several times since the last look): finish it, read every
    // rotated file not seen yet (oldest first), then go on with the new live file.
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        const ino_t current = inode_of(o.file);
        if (current != 0 && current != live.inode) {
            if (!live.drain(o, on_record)) return ok_status();
            seen.insert(live.inode);
            family = open_family(o.file, why);
            if (family.empty()) continue;  // removed or unreadable: try again at the next look
            std::set<ino_t> present;
            for (std::size_t i = 0; i + 1 < family.size(); ++i) {
                OpenFile& rotated = family[i];
                if (rotated.fd < 0) continue;
                present.insert(rotated.inode);
                if (seen.count(rotated.inode)) continue;
                if (!rotated.drain(o, on_record)) return ok_status();
                seen.insert(rotated.inode);
            }
            // Forget files that were rotated out: the file system may give their inode
            // numbers to new files.
            for (auto it = seen.begin(); it != seen.end();)
                it = present.count(*it) ? std::next(it) : seen.erase(it);
            // The live file of the family just read, not the name opened again: a rotation
            // since would make that another file and leave this one unread.
            live = std::move(family.back());
        }
        if (!live.drain(o, on_record)) return ok_status();
    }
}

}  // namespace

bool is_journal_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[8] = {};
    return in.read(magic, sizeof magic) && std::memcmp(magic, "LPKSHHRH", 8) == 0;
}

std::optional<StoredRecord> parse_json_line(const std::string& line) {
    // A record is one flat object of strings. Anything nested deeper is refused before the
    // (recursive) parser sees it: a crafted line of a million brackets must not exhaust the
    // reader's stack.
    if (json_nesting_depth(line, 1) > 1) return std::nullopt;
    const nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
    if (!value.is_object()) return std::nullopt;
    StoredRecord r;
    for (const auto& [name, field] : value.items()) {
        if (!field.is_string()) return std::nullopt;
        r.fields.emplace(name, field.get<std::string>());
    }
    const std::string usec = r.field("__REALTIME_TIMESTAMP");
    if (usec.empty() || usec.size() > 19 ||
        usec.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    r.realtime_usec = std::stoull(usec);
    return r;
}

Status read_records(const ReadOptions& options,
                    const std::function<bool(const StoredRecord&)>& on_record,
                    const std::function<void()>& caught_up) {
    if (!options.file.empty() && !is_journal_file(options.file)) {
        return read_json_lines(options, on_record, caught_up);
    }
    return read_journal(options, on_record, caught_up);
}

}  // namespace bridle::audit
