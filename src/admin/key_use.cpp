// SPDX-License-Identifier: Apache-2.0
// A key's last use (key_use.hpp): one pass over bridle's records in the journal, keeping the
// newest time per BRIDLE_KEY. Records written through the file sink only are not seen.
#include "admin/key_use.hpp"

#include <algorithm>

#include "audit/journal_reader.hpp"

namespace bridle::admin {

Result<std::map<std::string, std::int64_t>> last_use_by_key() {
    std::map<std::string, std::int64_t> last;
    const Status read = audit::read_records(
        audit::ReadOptions{},
        [&](const audit::StoredRecord& r) {
            const std::string key = r.field("BRIDLE_KEY");
            if (key.empty()) return true;
            std::int64_t& when = last[key];
            when = std::max(when, static_cast<std::int64_t>(r.realtime_usec / 1'000'000));
            return true;
        },
        [] {});
    if (!read) return read.error();
    return last;
}

}  // namespace bridle::admin
