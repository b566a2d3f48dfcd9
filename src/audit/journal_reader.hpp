// SPDX-License-Identifier: Apache-2.0
// Reading bridle's records back (`bridle audit`): from the journal through sd-journal (the
// local one, a directory of journal files, or given files), or from the file sink's JSON lines.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace bridle::audit {

// One stored record: every field (BRIDLE_*, MESSAGE, _HOSTNAME, ...) as stored, and when it
// was written.
struct StoredRecord {
    std::map<std::string, std::string> fields;
    std::uint64_t realtime_usec = 0;
    std::string field(const std::string& name) const {
        const auto it = fields.find(name);
        return it == fields.end() ? std::string() : it->second;
    }
};

struct ReadOptions {
    std::string directory;               // -D DIR: the journal files in DIR (and below)
    std::string file;                    // --file FILE: a journal file, or JSON lines
    std::optional<std::uint64_t> since;  // realtime microseconds, inclusive
    std::optional<std::uint64_t> until;  // inclusive
    std::string request_id;              // only this request's records
    bool follow = false;                 // after the backlog, wait for new records forever
};

// Calls `on_record` for every record of SYSLOG_IDENTIFIER=bridle in the window, oldest first,
// then `caught_up` once; with `follow`, keeps waiting and calling `on_record` until it returns
// false. Fails when the source cannot be opened or read.
Status read_records(const ReadOptions& options,
                    const std::function<bool(const StoredRecord&)>& on_record,
                    const std::function<void()>& caught_up);

// Whether `path` starts with the journal file signature ("LPKSHHRH").
bool is_journal_file(const std::string& path);

// A line of the file sink as a record; nullopt when it is not a JSON object of strings.
std::optional<StoredRecord> parse_json_line(const std::string& line);

}  // namespace bridle::audit
