// SPDX-License-Identifier: Apache-2.0
// `bridle audit`: pairs each request's decision and result records and shows them as a
// table, as JSON (one object per request) or as counts. Every stored value is treated as
// untrusted: any process on a host can write a record that claims SYSLOG_IDENTIFIER=bridle,
// and a journal copied from elsewhere may hold anything, so the table escapes what it shows.
#include "admin/audit_review.hpp"

#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "admin/audit_fanout.hpp"
#include "admin/audit_format.hpp"
#include "admin/audit_time.hpp"
#include "audit/records.hpp"
#include "common/exit_code.hpp"
#include "common/text.hpp"
#include "os/accounts.hpp"

namespace bridle::admin {
namespace {

constexpr const char* kRed = "\033[31m";
constexpr const char* kGreen = "\033[32m";
constexpr const char* kYellow = "\033[33m";

// Whether the process that wrote `r`'s decision is gone, when it ran on this host (journald's
// trusted _PID and _HOSTNAME, or the file sink's). A reused pid only delays "lost" to the
// timeout rule; another host's writer is never judged from here.
bool writer_gone_here(const AuditRequest& r) {
    const std::optional<long long> pid = number(r.decision->field("_PID"));
    if (!pid || *pid <= 1 || *pid > std::numeric_limits<pid_t>::max()) return false;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || r.decision->field("_HOSTNAME") != host) {
        return false;
    }
    return ::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::string status_text(const AuditRequest& r) {
    if (r.verdict() == "approval" && !r.steps.empty()) {
        return r.steps.back().field("BRIDLE_APPROVAL_STATE");  // pending, approved, consumed...
    }
    if (r.verdict() != "allow") return "-";
    if (!r.result) {
        if (r.is_complete()) return "-";
        return r.is_lost(now_usec(), writer_gone_here) ? "lost" : "running";
    }
    const audit::StoredRecord& res = *r.result;
    if (res.field("BRIDLE_STARTED") == "0") return "nostart";
    if (res.field("BRIDLE_TIMED_OUT") == "1") return "timeout";
    if (res.field("BRIDLE_IDLE_TIMED_OUT") == "1") return "idle";
    if (res.field("BRIDLE_SIGNAL") != "0" && !res.field("BRIDLE_SIGNAL").empty()) {
        return "sig" + res.field("BRIDLE_SIGNAL");
    }
    return res.field("BRIDLE_EXIT_STATUS");
}

namespace {

// A task's run (`task start`) says so: its id, to find it in `bridle tasks`.
std::string command_of(const AuditRequest& r) {
    const std::string task = r.field("BRIDLE_TASK_ID");
    return (task.empty() ? "" : "[task " + safe(task) + "] ") + safe(r.field("BRIDLE_COMMAND"));
}

// Whether this user can read the system journal, as journalctl's hint judges it.
bool can_read_system_journal() {
    if (::geteuid() == 0) return true;
    std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)) + 1);
    const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
    for (const char* name : {"adm", "systemd-journal", "wheel"}) {
        const group* g = os::group_named(name);
        if (g == nullptr) continue;
        if (::getegid() == g->gr_gid) return true;
        for (int i = 0; i < n; ++i) {
            if (groups[static_cast<std::size_t>(i)] == g->gr_gid) return true;
        }
    }
    return false;
}

}  // namespace

// ---- Requests ---------------------------------------------------------------------------------

std::uint64_t AuditRequest::time() const {
    if (decision && result) return std::min(decision->realtime_usec, result->realtime_usec);
    return decision ? decision->realtime_usec : result ? result->realtime_usec : 0;
}

std::string AuditRequest::field(const std::string& name) const {
    std::string value = decision ? decision->field(name) : "";
    if (value.empty() && result) value = result->field(name);
    return value;
}

std::string AuditRequest::verdict() const {
    const std::string said = field("BRIDLE_DECISION");
    return said == "allow" || said == "approval" ? said : "deny";
}

bool AuditRequest::is_complete() const {
    if (result) return true;
    if (!decision) return false;
    // A denial, and `help` (bridle answers it itself), have no result record.
    const std::string rule = decision->field("BRIDLE_RULE");
    return verdict() != "allow" || rule.empty() || rule == audit::kHelpRuleId;
}

bool AuditRequest::is_lost(std::uint64_t now_usec,
                           const std::function<bool(const AuditRequest&)>& writer_gone) const {
    if (is_complete() || !decision) return false;
    constexpr std::uint64_t kSettleUsec = 5'000'000;  // the result may still be on its way
    if (now_usec > decision->realtime_usec + kSettleUsec && writer_gone(*this)) return true;
    constexpr std::uint64_t kLongestTimeoutMs = 24ULL * 3600 * 1000;
    constexpr std::uint64_t kMarginMs = 60 * 1000;
    const std::optional<long long> timeout = number(decision->field("BRIDLE_TIMEOUT_MS"));
    const std::uint64_t wait_ms =
        (timeout && *timeout >= 0 ? static_cast<std::uint64_t>(*timeout) : kLongestTimeoutMs) +
        kMarginMs;
    return now_usec > decision->realtime_usec + wait_ms * 1000;
}

AuditRequest& AuditLog::add(const audit::StoredRecord& record) {
    const std::string id = record.field("BRIDLE_REQUEST_ID");
    AuditRequest* request = nullptr;
    const auto it = id.empty() ? index_.end() : index_.find(id);
    if (it != index_.end()) {
        request = &requests_[it->second];
    } else {
        // A record without an id (not bridle's) stands alone.
        if (!id.empty()) index_.emplace(id, requests_.size());
        requests_.push_back(AuditRequest{id, std::nullopt, std::nullopt, {}});
        request = &requests_.back();
    }
    // The first record of each kind counts; a copy that claims the same id again (a
    // duplicate, or a forgery) does not replace it.
    const std::string event = record.field("BRIDLE_EVENT");
    if (event.rfind("approval-", 0) == 0) {
        request->steps.push_back(record);
        return *request;
    }
    std::optional<audit::StoredRecord>& slot =
        event == "result" ? request->result : request->decision;
    if (!slot) slot = record;
    return *request;
}

namespace {

// BRIDLE_RULE names `rule`: it is that rule, or a pipeline's "a|b|c" has it as a stage.
bool names_rule(std::string_view field, std::string_view rule) {
    for (std::size_t start = 0;;) {
        const std::size_t bar = field.find('|', start);
        if (field.substr(start, bar == std::string_view::npos ? bar : bar - start) == rule) {
            return true;
        }
        if (bar == std::string_view::npos) return false;
        start = bar + 1;
    }
}

}  // namespace

bool matches(const AuditOptions& o, const AuditRequest& r) {
    if (!o.decision.empty() && r.verdict() != o.decision) return false;
    if (!o.rule.empty() && !names_rule(r.field("BRIDLE_RULE"), o.rule)) return false;
    if (!o.key.empty() && r.field("BRIDLE_KEY") != o.key) return false;
    if (!o.read.request_id.empty() && r.id != o.read.request_id) return false;
    if (!o.fanout.empty() && r.field("BRIDLE_FANOUT_ID") != o.fanout) return false;
    return true;
}

// ---- Table ------------------------------------------------------------------------------------

// Column widths; COMMAND takes the rest of the line. Denials get their reason on a second
// line, so that "what was refused, and why" fits a terminal.
constexpr std::size_t kTimeWidth = 14, kHostWidth = 14, kKeyWidth = 14, kVerdictWidth = 7,
                      kRuleWidth = 14, kStatusWidth = 7, kMsWidth = 6;

std::size_t fixed_width(bool show_host) {
    return kTimeWidth + 1 + (show_host ? kHostWidth + 1 : 0) + kKeyWidth + 1 + kVerdictWidth + 1 +
           kRuleWidth + 1 + kStatusWidth + 1 + kMsWidth + 1;
}

void print_table_header(std::ostream& out, const AuditOptions& o, bool show_host) {
    std::string line = pad("TIME", kTimeWidth) + (show_host ? pad("HOST", kHostWidth) : "") +
                       pad("KEY", kKeyWidth) + pad("VERDICT", kVerdictWidth) +
                       pad("RULE", kRuleWidth) + pad("STATUS", kStatusWidth) + pad("MS", kMsWidth) +
                       "COMMAND";
    out << (o.color ? kBold : "") << line << (o.color ? kReset : "") << "\n";
}

// One step of a request's approval, under its row: "  approval K7QF-3M9D: approved by admin
// (ssh SHA256:...) at 08:31:02".
void print_approval_step(std::ostream& out, const audit::StoredRecord& step) {
    const std::string event = step.field("BRIDLE_EVENT").substr(9);  // after "approval-"
    std::string line =
        "    approval " + safe(step.field("BRIDLE_APPROVAL_CODE")) + ": " + safe(event);
    const std::string approver = step.field("BRIDLE_APPROVER");
    if (!approver.empty()) {
        line += " by " + safe(approver) + " (" + safe(step.field("BRIDLE_APPROVER_CHANNEL")) +
                (step.field("BRIDLE_APPROVER_FINGERPRINT").empty()
                     ? ""
                     : " " + safe(step.field("BRIDLE_APPROVER_FINGERPRINT"))) +
                ")";
    }
    if (!step.field("BRIDLE_RUN_REQUEST_ID").empty()) {
        line += " by request " + safe(step.field("BRIDLE_RUN_REQUEST_ID"));
    }
    if (!step.field("BRIDLE_REASON").empty()) line += ": " + safe(step.field("BRIDLE_REASON"));
    out << line << " at " << short_time(step.realtime_usec) << "\n";
}

void print_table_row(std::ostream& out, const AuditOptions& o, const AuditRequest& r,
                     bool show_host) {
    const std::string verdict = r.verdict();
    const std::string status = status_text(r);
    const std::string ms = r.result ? safe(r.result->field("BRIDLE_DURATION_MS")) : "-";
    const std::size_t fixed = fixed_width(show_host);
    const std::size_t room = o.width > fixed + 10 ? o.width - fixed : 0;  // 0: never cut
    const std::string command = command_of(r);
    const char* verdict_color = verdict == "allow" ? kGreen : kRed;
    const bool bad_status = status != "0" && status != "-" && status != "running";  // lost too
    out << pad(short_time(r.time()), kTimeWidth)
        << (show_host ? pad(safe(r.field("_HOSTNAME")), kHostWidth) : "")
        << pad(safe(r.field("BRIDLE_KEY")), kKeyWidth) << (o.color ? verdict_color : "")
        << pad(verdict, kVerdictWidth) << (o.color ? kReset : "")
        << pad(safe(r.field("BRIDLE_RULE").empty() ? "-" : r.field("BRIDLE_RULE")), kRuleWidth)
        << (o.color && bad_status ? kYellow : "") << pad(status, kStatusWidth)
        << (o.color && bad_status ? kReset : "") << pad(ms, kMsWidth);
    // A denial's reason follows the command on the same line when it fits (or when nothing
    // is cut: not a terminal), else on a line of its own under the command.
    const std::string why = verdict == "allow" ? "" : "  why: " + safe(r.field("BRIDLE_REASON"));
    std::size_t command_chars = 0;
    for (const char c : command) command_chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (room == 0 || command_chars + why.size() <= room) {
        out << command << why << "\n";
    } else {
        out << cut(command, room) << "\n";
        if (!why.empty()) {
            const std::string indent(fixed > 30 ? 30 : fixed, ' ');
            out << indent << cut(why, o.width > indent.size() + 10 ? o.width - indent.size() : 40)
                << "\n";
        }
    }
    for (const audit::StoredRecord& step : r.steps) print_approval_step(out, step);
}

// ---- JSON -------------------------------------------------------------------------------------

std::string to_json(const AuditRequest& r) {
    nlohmann::ordered_json j;
    j["request_id"] = r.id;
    j["time"] = iso_time(r.time());
    j["time_usec"] = r.time();
    j["host"] = r.field("_HOSTNAME");
    j["key"] = r.field("BRIDLE_KEY");
    j["client"] = r.field("BRIDLE_CLIENT");
    j["front_end"] = r.field("BRIDLE_FRONT_END");
    j["task_id"] = r.field("BRIDLE_TASK_ID");
    j["fanout_id"] = r.field("BRIDLE_FANOUT_ID");
    j["decision"] = r.verdict();
    j["rule"] = r.field("BRIDLE_RULE");
    j["reason"] = r.field("BRIDLE_REASON");
    j["command"] = r.field("BRIDLE_COMMAND");
    j["command_bytes"] = number_or_null(r.field("BRIDLE_COMMAND_BYTES"));
    const nlohmann::json argv = nlohmann::json::parse(r.field("BRIDLE_ARGV"), nullptr, false);
    j["argv"] = argv.is_array() ? argv : nlohmann::json(nullptr);
    j["executable"] = r.field("BRIDLE_EXECUTABLE");
    j["run_as"] = r.field("BRIDLE_RUN_AS");
    j["sandbox"] = r.field("BRIDLE_SANDBOX");
    j["policy_sha256"] = r.field("BRIDLE_POLICY_SHA256");
    j["writer_uid"] = number_or_null(r.field("_UID"));
    j["writer_exe"] = r.field("_EXE");
    j["approval_id"] = r.field("BRIDLE_APPROVAL_ID");
    nlohmann::json steps = nlohmann::json::array();
    for (const audit::StoredRecord& step : r.steps) {
        steps.push_back({{"step", step.field("BRIDLE_EVENT").substr(9)},
                         {"time", iso_time(step.realtime_usec)},
                         {"state", step.field("BRIDLE_APPROVAL_STATE")},
                         {"code", step.field("BRIDLE_APPROVAL_CODE")},
                         {"approver", step.field("BRIDLE_APPROVER")},
                         {"channel", step.field("BRIDLE_APPROVER_CHANNEL")},
                         {"fingerprint", step.field("BRIDLE_APPROVER_FINGERPRINT")},
                         {"run_request_id", step.field("BRIDLE_RUN_REQUEST_ID")},
                         {"reason", step.field("BRIDLE_REASON")}});
    }
    j["approval_steps"] = steps;
    j["has_decision"] = r.decision.has_value();
    j["has_result"] = r.result.has_value();
    j["lost"] = !r.result && status_text(r) == "lost";
    if (r.result) {
        const audit::StoredRecord& res = *r.result;
        j["status"] = number_or_null(res.field("BRIDLE_EXIT_STATUS"));
        j["signal"] = number_or_null(res.field("BRIDLE_SIGNAL"));
        j["started"] = res.field("BRIDLE_STARTED") == "1";
        j["timed_out"] = res.field("BRIDLE_TIMED_OUT") == "1";
        j["disconnected"] = res.field("BRIDLE_DISCONNECTED") == "1";
        j["truncated"] = res.field("BRIDLE_TRUNCATED") == "1";
        j["duration_ms"] = number_or_null(res.field("BRIDLE_DURATION_MS"));
        j["stdout_bytes"] = number_or_null(res.field("BRIDLE_STDOUT_BYTES"));
        j["stderr_bytes"] = number_or_null(res.field("BRIDLE_STDERR_BYTES"));
        if (!res.field("BRIDLE_STDOUT_SHA256").empty()) {
            j["capture_bytes"] = number_or_null(res.field("BRIDLE_CAPTURE_BYTES"));
            j["stdout"] = res.field("BRIDLE_STDOUT");
            j["stderr"] = res.field("BRIDLE_STDERR");
            j["stdout_sha256"] = res.field("BRIDLE_STDOUT_SHA256");
            j["stderr_sha256"] = res.field("BRIDLE_STDERR_SHA256");
        }
        if (!res.field("BRIDLE_ERROR").empty()) j["error"] = res.field("BRIDLE_ERROR");
    }
    // A file request (get, put, versions, restore): what it did to which file. Through sudo,
    // the first result record is the target side's, which holds the digests and the diff.
    if (!r.field("BRIDLE_FILE_VERB").empty()) {
        nlohmann::ordered_json f;
        f["verb"] = r.field("BRIDLE_FILE_VERB");
        f["path"] = r.field("BRIDLE_FILE_PATH");
        if (r.result) {
            const audit::StoredRecord& res = *r.result;
            f["status"] = res.field("BRIDLE_FILE_STATUS");
            for (const auto& [key, field] : {std::pair{"old_sha256", "BRIDLE_FILE_OLD_SHA256"},
                                             std::pair{"new_sha256", "BRIDLE_FILE_NEW_SHA256"},
                                             std::pair{"diff", "BRIDLE_FILE_DIFF"},
                                             std::pair{"validator", "BRIDLE_VALIDATOR"}}) {
                if (!res.field(field).empty()) f[key] = res.field(field);
            }
            for (const auto& [key, field] :
                 {std::pair{"size", "BRIDLE_FILE_SIZE"},
                  std::pair{"kept_version", "BRIDLE_FILE_KEPT_VERSION"},
                  std::pair{"validator_status", "BRIDLE_VALIDATOR_STATUS"},
                  std::pair{"upload_bytes", "BRIDLE_UPLOAD_BYTES"}}) {
                if (!res.field(field).empty()) f[key] = number_or_null(res.field(field));
            }
            if (!res.field("BRIDLE_UPLOAD_COMPLETE").empty()) {
                f["upload_complete"] = res.field("BRIDLE_UPLOAD_COMPLETE") == "1";
            }
        }
        j["file"] = f;
    }
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// ---- Stats ------------------------------------------------------------------------------------

namespace {

using Counts = std::map<std::string, std::size_t>;

// "a 3, b 2, ..." largest first, at most `top` entries.
std::string ranked(const Counts& counts, std::size_t top) {
    std::vector<std::pair<std::string, std::size_t>> v(counts.begin(), counts.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string out;
    for (std::size_t i = 0; i < v.size() && i < top; ++i) {
        out += (i ? ", " : "") + safe(v[i].first) + " " + std::to_string(v[i].second);
    }
    if (v.size() > top) out += ", ... (" + std::to_string(v.size() - top) + " more)";
    return out.empty() ? "-" : out;
}

}  // namespace

void print_stats(std::ostream& out, const AuditOptions& o,
                 const std::vector<const AuditRequest*>& requests) {
    Counts decisions, rules, keys, hosts, outcomes, denied;
    std::vector<const AuditRequest*> ran;
    std::uint64_t first = 0, last = 0;
    for (const AuditRequest* r : requests) {
        first = first == 0 ? r->time() : std::min(first, r->time());
        last = std::max(last, r->time());
        ++decisions[r->verdict()];
        ++rules[r->field("BRIDLE_RULE").empty() ? "(no rule)" : r->field("BRIDLE_RULE")];
        ++keys[r->field("BRIDLE_KEY").empty() ? "(none)" : r->field("BRIDLE_KEY")];
        ++hosts[r->field("_HOSTNAME")];
        if (r->verdict() != "allow") ++denied[command_of(*r)];
        if (r->result) {
            ran.push_back(r);
            const std::string s = status_text(*r);
            ++outcomes[s == "0"                 ? "ok"
                       : s == "timeout"         ? "timed out"
                       : s.rfind("sig", 0) == 0 ? "killed"
                       : s == "nostart"         ? "not started"
                                                : "failed"];
        } else if (r->verdict() == "allow" && !r->is_complete()) {
            ++outcomes[status_text(*r) == "lost" ? "lost" : "no result yet"];
        }
    }
    const auto b = [&](const char* s) {
        return o.color ? std::string(kBold) + s + kReset : std::string(s);
    };
    out << b("requests:") << "   " << requests.size();
    if (!requests.empty()) out << " from " << local_time(first) << " to " << local_time(last);
    out << "\n";
    if (requests.empty()) return;
    if (hosts.size() > 1) out << b("hosts:") << "      " << ranked(hosts, 10) << "\n";
    out << b("decisions:") << "  " << ranked(decisions, 5) << "\n";
    out << b("results:") << "    " << ranked(outcomes, 6) << "\n";
    out << b("by rule:") << "    " << ranked(rules, 12) << "\n";
    out << b("by key:") << "     " << ranked(keys, 8) << "\n";
    out << b("top denied commands:") << "\n";
    std::vector<std::pair<std::string, std::size_t>> d(denied.begin(), denied.end());
    std::stable_sort(d.begin(), d.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    for (std::size_t i = 0; i < d.size() && i < 10; ++i) {
        out << std::setw(7) << d[i].second << "     "
            << (o.width > 20 ? cut(d[i].first, o.width - 13) : d[i].first) << "\n";
    }
    if (d.empty()) out << "  (none)\n";
    out << b("slowest commands:") << "\n";
    std::stable_sort(ran.begin(), ran.end(), [](const AuditRequest* x, const AuditRequest* y) {
        return number(x->result->field("BRIDLE_DURATION_MS")).value_or(0) >
               number(y->result->field("BRIDLE_DURATION_MS")).value_or(0);
    });
    for (std::size_t i = 0; i < ran.size() && i < 5; ++i) {
        std::ostringstream ms;
        ms << std::setw(7) << number(ran[i]->result->field("BRIDLE_DURATION_MS")).value_or(0)
           << " ms  ";
        const std::string line =
            ms.str() + pad(safe(ran[i]->field("BRIDLE_RULE")), 18) + command_of(*ran[i]);
        out << (o.width > 20 ? cut(line, o.width - 1) : line) << "\n";
    }
    if (ran.empty()) out << "  (none)\n";
}

// ---- The command ------------------------------------------------------------------------------

Terminal Terminal::of_stdout() {
    Terminal t;
    t.is_terminal = ::isatty(STDOUT_FILENO) == 1;
    winsize size{};
    if (t.is_terminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) t.columns = size.ws_col;
    t.no_color = std::getenv("NO_COLOR") != nullptr;
    return t;
}

std::string audit_options(const std::map<std::string, std::string>& values,
                          const Terminal& terminal, AuditOptions& o, std::uint64_t now) {
    const auto value = [&](const std::string& name) {
        const auto it = values.find(name);
        return it == values.end() ? std::string() : it->second;
    };
    if (now == 0) now = now_usec();
    for (const std::string name : {"--since", "--until"}) {
        if (!values.count(name)) continue;
        const std::optional<std::uint64_t> t = parse_audit_time(value(name), now);
        if (!t) {
            return name + ": cannot read the time \"" + escape_text(value(name), 80) +
                   "\" (try \"2026-11-24 08:00\", today, -1h, \"2h ago\")";
        }
        (name == "--since" ? o.read.since : o.read.until) = *t;
    }
    o.decision = value("--decision");
    if (!o.decision.empty() && o.decision != "allow" && o.decision != "deny" &&
        o.decision != "approval") {
        return "--decision must be allow, deny or approval";
    }
    o.rule = value("--rule");
    o.key = value("--key");
    o.read.request_id = value("--request");
    o.fanout = value("--fanout");
    o.read.directory = value("-D");
    o.read.file = value("--file");
    if (!o.read.directory.empty() && !o.read.file.empty()) return "give -D or --file, not both";
    o.read.follow = values.count("--follow") > 0;
    o.stats = values.count("--stats") > 0;
    if (o.stats && o.read.follow) return "--stats and --follow do not go together";
    o.by_fanout = values.count("--by-fanout") > 0;
    if (o.by_fanout && (o.stats || o.read.follow)) {
        return "--by-fanout goes with neither --stats nor --follow";
    }
    const std::string output = values.count("-o") ? value("-o") : "table";
    if (output == "json") {
        o.output = AuditOptions::Output::kJson;
    } else if (output != "table") {
        return "-o must be table or json";
    }
    const std::string color = values.count("--color") ? value("--color") : "auto";
    if (color != "auto" && color != "always" && color != "never") {
        return "--color must be auto, always or never";
    }
    o.color = color == "always" || (color == "auto" && terminal.is_terminal && !terminal.no_color);
    o.width = terminal.is_terminal ? terminal.columns : 0;
    return "";
}

int audit_review(const AuditOptions& o) {
    AuditLog log;
    bool caught_up = false;
    const bool show_host_always = !o.read.directory.empty() || !o.read.file.empty();
    std::set<std::string> printed;  // ids printed complete (follow)

    const auto emit = [&](const AuditRequest& r, bool show_host) {
        if (o.output == AuditOptions::Output::kJson) {
            std::cout << to_json(r) << "\n";
        } else {
            print_table_row(std::cout, o, r, show_host);
        }
    };
    const auto on_record = [&](const audit::StoredRecord& record) {
        AuditRequest& r = log.add(record);
        if (caught_up && matches(o, r) && r.is_complete() && printed.insert(r.id).second) {
            emit(r, show_host_always);
            std::cout.flush();
        } else if (caught_up && o.output == AuditOptions::Output::kTable &&
                   record.field("BRIDLE_EVENT").rfind("approval-", 0) == 0 && matches(o, r) &&
                   printed.count(r.id) != 0) {
            // A later step of a request already shown (approved, consumed...): its own line.
            print_approval_step(std::cout, record);
            std::cout.flush();
        }
        return true;
    };
    const auto on_caught_up = [&] {
        caught_up = true;
        std::vector<const AuditRequest*> shown;
        std::set<std::string> hosts;
        for (const AuditRequest& r : log.requests()) {
            if (!matches(o, r)) continue;
            shown.push_back(&r);
            hosts.insert(r.field("_HOSTNAME"));
        }
        if (o.stats) {
            print_stats(std::cout, o, shown);
            return;
        }
        if (o.by_fanout) {
            const std::vector<FanoutGroup> groups = group_by_fanout(shown);
            if (o.output == AuditOptions::Output::kJson) {
                for (const FanoutGroup& g : groups) std::cout << to_json(g) << "\n";
            } else {
                print_fanouts(std::cout, o, groups);
            }
            return;
        }
        const bool show_host = show_host_always || hosts.size() > 1;
        if (o.output == AuditOptions::Output::kTable) print_table_header(std::cout, o, show_host);
        for (const AuditRequest* r : shown) {
            emit(*r, show_host);
            if (r->is_complete()) printed.insert(r->id);
        }
        std::cout.flush();
    };
    const Status status = audit::read_records(o.read, on_record, on_caught_up);
    if (!status) {
        std::cerr << "bridle: " << status.error().full() << "\n";
        return to_int(ExitCode::kUnavailable);
    }
    if (log.requests().empty() && o.read.directory.empty() && o.read.file.empty() &&
        !can_read_system_journal()) {
        std::cerr
            << "bridle: note: you see only your own journal: bridle's records are in the system "
               "journal, readable by root and the groups adm and systemd-journal\n";
    }
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::admin
