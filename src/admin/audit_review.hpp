// SPDX-License-Identifier: Apache-2.0
// `bridle audit`: what the agents did and what was refused, from the journal or the file sink.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/journal_reader.hpp"

namespace bridle::admin {

struct AuditOptions {
    audit::ReadOptions read;  // source, time window, request id, follow
    std::string decision;     // "", allow or deny
    std::string rule;
    std::string key;
    std::string fanout;  // "", or only the requests of this fleet fan-out (BRIDLE_FANOUT_ID)
    enum class Output { kTable, kJson } output = Output::kTable;
    bool stats = false;
    bool by_fanout = false;  // one entry per fleet fan-out (audit_fanout.hpp), not per request
    bool color = false;      // ANSI colours in the table
    std::size_t width = 0;   // cut table rows at this many columns; 0: never
};

// One request: its decision record and its result record (either may be missing: a request
// still running, a window that cuts a pair, a record lost upstream).
struct AuditRequest {
    std::string id;
    std::optional<audit::StoredRecord> decision, result;
    // The steps of its approval (BRIDLE_EVENT approval-*: requested, approved, ..., consumed),
    // in the order they came; docs/audit.md, Approvals.
    std::vector<audit::StoredRecord> steps;
    std::uint64_t time() const;                        // the first record's
    std::string field(const std::string& name) const;  // decision's, else result's
    std::string verdict() const;                       // allow, approval (waits) or deny
    bool is_complete() const;                          // nothing more to wait for
    // An allowed command whose result record never came: `now_usec` (realtime) is past its
    // decision's time plus its timeout (BRIDLE_TIMEOUT_MS; older records: the 24 h maximum)
    // plus a minute, by when every bridle, its init and sudo's backstop have ended it; or,
    // sooner, the bridle that wrote the decision (_PID) is gone and the decision is 5 s old.
    // `writer_gone(pid)` answers for processes of this host, false for other hosts' records.
    bool is_lost(std::uint64_t now_usec,
                 const std::function<bool(const AuditRequest&)>& writer_gone) const;
};

// Groups records into requests, in the order their first record came.
class AuditLog {
  public:
    // Returns the request the record belongs to (stable until the next add).
    AuditRequest& add(const audit::StoredRecord& record);
    const std::vector<AuditRequest>& requests() const { return requests_; }

  private:
    std::vector<AuditRequest> requests_;
    std::unordered_map<std::string, std::size_t> index_;  // request id -> position
};

bool matches(const AuditOptions& options, const AuditRequest& request);

// What became of a request, in a word: its exit status ("0", "1"), timeout, idle, sigN,
// nostart; running or lost (no result yet); an approval's state; "-" for a denial.
std::string status_text(const AuditRequest& r);

// Renderings. The table escapes anything a forged record might carry (controls, bad UTF-8).
void print_table_header(std::ostream& out, const AuditOptions& options, bool show_host);
void print_table_row(std::ostream& out, const AuditOptions& options, const AuditRequest& r,
                     bool show_host);
std::string to_json(const AuditRequest& r);  // one line, no newline
void print_stats(std::ostream& out, const AuditOptions& options,
                 const std::vector<const AuditRequest*>& requests);

// Where the output goes: whether it is a terminal, how wide, whether NO_COLOR is set.
struct Terminal {
    bool is_terminal = false;
    std::size_t columns = 0;
    bool no_color = false;
    static Terminal of_stdout();
};

// The options of `bridle audit` (admin/cli.hpp, by name) as AuditOptions; "" or what is wrong
// (--since/--until in journalctl's syntax, --decision allow|deny, -o table|json, --color
// auto|always|never, -D or --file, --stats or --by-fanout or --follow).
std::string audit_options(const std::map<std::string, std::string>& values,
                          const Terminal& terminal, AuditOptions& options,
                          std::uint64_t now_usec = 0);

// The whole command: read, filter, print. 0, or 1 when the source cannot be read.
int audit_review(const AuditOptions& options);

}  // namespace bridle::admin
