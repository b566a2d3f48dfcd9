// SPDX-License-Identifier: Apache-2.0
// `bridle learn`: reads the denials, refuses what the deny-list and the file system forbid,
// infers typed rules (learn_infer.cpp) for the rest, and keeps only the rules that the loader
// accepts, that allow their own examples, that the policy in force does not already cover, and
// that stay under the ceiling. Everything left out is said, with how often it was seen. Every
// value of a record is untrusted: what reaches the output is escaped, and a record that cannot
// be read is counted, never fatal.
#include "admin/learn.hpp"

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "admin/admin.hpp"
#include "admin/audit_time.hpp"
#include "admin/learn_ceiling.hpp"
#include "admin/learn_deny_list.hpp"
#include "admin/learn_infer.hpp"
#include "admin/learn_program.hpp"
#include "audit/records.hpp"
#include "common/exit_code.hpp"
#include "common/names.hpp"
#include "common/text.hpp"
#include "gate/system_resolver.hpp"
#include "loader/loader.hpp"
#include "matching/matcher.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::admin {
namespace {

constexpr std::size_t kMaxArgvField = 64 * 1024;  // bridle writes at most 16 KiB

// One denied request as learned from: the words of the denied command (of the denied stage,
// for a pipeline), argv[0] as typed.
struct Example {
    std::vector<std::string> argv;
    std::string key, account, place;
    std::uint64_t time = 0;
};

// Things said at the end, with how often each was seen: "not proposed: sh (...)".
class Tally {
  public:
    void add(const std::string& line) { ++counts_[line]; }
    // Largest first, then in byte order.
    std::vector<std::pair<std::string, std::size_t>> sorted() const {
        std::vector<std::pair<std::string, std::size_t>> v(counts_.begin(), counts_.end());
        std::stable_sort(v.begin(), v.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        return v;
    }
    std::size_t size() const { return counts_.size(); }

  private:
    std::map<std::string, std::size_t> counts_;
};

std::string times(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " time" : " times");
}

std::string utc(std::uint64_t usec) {
    return format_time(usec, "%Y-%m-%d %H:%M:%S UTC", true);
}

std::string basename_of(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// A request's words as a reviewer reads them: each escaped (never a control character or a
// line break, which would end the YAML comment), quoted when it holds a space or a quote.
std::string shown(const std::vector<std::string>& argv) {
    std::string out;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (i == 24) return out + " ...(" + std::to_string(argv.size()) + " words)";
        const std::string& w = argv[i];
        const bool plain = !w.empty() && w.find_first_of(" \"'\\") == std::string::npos;
        out += (i ? " " : "") + (plain ? escape_text(w, 120) : quote_text(w, 120));
    }
    return out;
}

std::optional<std::vector<std::string>> words_of(const nlohmann::json& array) {
    if (!array.is_array() || array.empty()) return std::nullopt;
    std::vector<std::string> words;
    for (const auto& word : array) {
        if (!word.is_string()) return std::nullopt;
        words.push_back(word.get<std::string>());
    }
    if (words[0].empty()) return std::nullopt;
    return words;
}

// The example a denial holds; "" when there is one, else why it is skipped.
std::string example_of(const AuditRequest& r, const std::string& user, Example& e) {
    const audit::StoredRecord& d = *r.decision;
    if (d.field("BRIDLE_FRONT_END") == "sudo") return "denials on the target side of a run_as rule";
    e.key = d.field("BRIDLE_KEY");
    if (!e.key.empty() && !is_key_name(e.key)) return "records with an invalid key name";
    const std::string text = d.field("BRIDLE_ARGV");
    if (text.empty()) return "denials of requests that never parsed into words";
    if (text.size() > kMaxArgvField || json_nesting_depth(text, 2) > 2)
        return "records whose BRIDLE_ARGV cannot be read";
    const nlohmann::json argv = nlohmann::json::parse(text, nullptr, false);
    const std::string stages = d.field("BRIDLE_STAGES");
    if (stages.empty()) {
        std::optional<std::vector<std::string>> words = words_of(argv);
        if (!words) return "records whose BRIDLE_ARGV cannot be read";
        e.argv = std::move(*words);
    } else {
        // A pipeline: BRIDLE_ARGV holds every stage's words; the denied stage is learned from.
        const std::string denied = d.field("BRIDLE_DENIED_STAGE");
        const auto number = [](const std::string& s) -> std::size_t {
            if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos)
                return 0;
            return std::stoul(s);
        };
        const std::size_t n = number(stages), i = number(denied);
        if (n < 2 || i < 1 || i > n || !argv.is_array() || argv.size() != n)
            return "pipeline records whose stages cannot be read";
        std::optional<std::vector<std::string>> words = words_of(argv[i - 1]);
        if (!words) return "pipeline records whose stages cannot be read";
        e.argv = std::move(*words);
        e.place = i == 1 ? "first" : i == n ? "last" : "middle";
    }
    e.account = d.field("BRIDLE_RUN_AS").empty() ? user : d.field("BRIDLE_RUN_AS");
    e.time = d.realtime_usec;
    return "";
}

// Whether the program of `typed` may be proposed for `account`: the program, or why not.
Result<learning::Program> program_for(const std::string& typed, const std::string& account) {
    if (const auto c = learning::deny_class_of(basename_of(typed)))
        return Error{std::string(*c), ""};
    Result<learning::Program> program = learning::resolve_program(typed);
    if (!program) return program;
    for (const std::string& path : {program.value().path, program.value().canonical}) {
        if (const auto c = learning::deny_class_of(basename_of(path))) {
            return Error{std::string(*c) + ": " + quote_text(program.value().path, 200) + " is " +
                             quote_text(program.value().canonical, 200),
                         ""};
        }
    }
    const std::optional<learning::Account> who = learning::lookup_account(account);
    if (!who) {
        return Error{"the account " + quote_text(account, 64) +
                         " does not exist here: what it may write is unknown",
                     ""};
    }
    if (const auto why = learning::writable_by(*who, program.value())) {
        return Error{"writable by " + escape_text(account, 64) + ": " + *why, ""};
    }
    return program;
}

struct Proposal {
    std::string id, yaml;  // the rule as a list item, comments above it
};

class Learner {
  public:
    Learner(const policy::Policy& current, const policy::Policy* ceiling)
        : current_(current), ceiling_(ceiling) {
        for (const policy::Rule& rule : current.rules) ids_.insert(rule.id);
    }

    void add(const AuditRequest& r, const std::string& user) {
        ++denials_;
        first_ = first_ == 0 ? r.time() : std::min(first_, r.time());
        last_ = std::max(last_, r.time());
        Example e;
        if (const std::string skip = example_of(r, user, e); !skip.empty()) {
            skipped_.add(skip);
            return;
        }
        const std::string typed = e.argv[0];
        const auto cached = programs_.find({typed, e.account});
        const Result<learning::Program>& program =
            cached != programs_.end()
                ? cached->second
                : programs_.emplace(std::pair{typed, e.account}, program_for(typed, e.account))
                      .first->second;
        const std::string name = escape_text(typed, 100);
        if (!program) {
            refused_.add("not proposed: " + name + " (" + program.error().message + ")");
            return;
        }
        e.argv[0] = basename_of(program.value().path);
        std::vector<std::string> as_canonical = e.argv;
        as_canonical[0] = basename_of(program.value().canonical);
        for (const auto* argv : {&e.argv, &as_canonical}) {
            if (const auto why = learning::refused_use(*argv)) {
                refused_.add("not proposed: " + name + " (" + *why + ")");
                return;
            }
        }
        if (decide(current_, e).verdict == matching::Verdict::kAllow) {
            skipped_.add("denials the policy in force now allows");
            return;
        }
        const std::string& command = program.value().path;
        if (!by_program_.count(command)) order_.push_back(command);
        by_program_[command].push_back(std::move(e));
    }

    std::string document() {
        for (const std::string& command : order_) propose(command, by_program_[command]);
        std::string out = "# Proposed by bridle learn from " + std::to_string(denials_) +
                          " denial" + (denials_ == 1 ? "" : "s");
        if (denials_ > 0) out += ", " + utc(first_) + " to " + utc(last_);
        out +=
            ".\n# Nothing here is in force. Review every rule, then move this file into "
            "/etc/bridle/policy.d/\n# (root-owned, mode 0644) and run bridle check.\nversion: 1\n";
        out += proposals_.empty() ? "rules: []\n" : "rules:\n";
        for (const Proposal& p : proposals_) out += p.yaml;
        for (const Tally* tally : {&refused_, &dropped_, &skipped_}) {
            for (const auto& [line, n] : tally->sorted()) {
                out += "# " +
                       (tally == &skipped_   ? "skipped " + std::to_string(n) + ": " + line
                        : tally == &dropped_ ? line
                                             : line + ", seen " + times(n)) +
                       "\n";
            }
        }
        return out;
    }

    std::string summary() const {
        return std::to_string(proposals_.size()) + " rule(s) proposed from " +
               std::to_string(denials_) + " denial(s); " + std::to_string(refused_.size()) +
               " kind(s) not proposed, " + std::to_string(dropped_.size()) + " dropped";
    }

  private:
    matching::Decision decide(const policy::Policy& policy, const Example& e) const {
        return matching::decide(policy, e.argv, e.key, resolver_);
    }

    std::string unique_id(const std::string& program) {
        std::string base = "learned-";
        for (const char c : program) {
            const bool ok =
                (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
            base += ok ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '-';
        }
        base = base.substr(0, 58);
        std::string id = base;
        for (int n = 2; ids_.count(id); ++n) id = base + "-" + std::to_string(n);
        ids_.insert(id);
        return id;
    }

    void propose(const std::string& command, const std::vector<Example>& examples) {
        std::vector<std::vector<std::string>> argvs;
        for (const Example& e : examples) argvs.push_back(e.argv);
        const learning::Inference inference = learning::infer_rules(argvs);
        for (const learning::Unlearnable& u : inference.unlearnable) {
            refused_.add("not proposed: " + shown(examples[u.example].argv) + " (" +
                         escape_text(u.why, 300) + ")");
        }
        for (const learning::Inferred& inferred : inference.rules) {
            std::vector<const Example*> used;
            for (const std::size_t i : inferred.examples) used.push_back(&examples[i]);
            check_and_keep(command, inferred, used);
        }
    }

    void check_and_keep(const std::string& command, const learning::Inferred& inferred,
                        const std::vector<const Example*>& used) {
        std::set<std::string> keys;
        bool every_key = false;
        std::uint64_t first = used.front()->time, last = first;
        std::map<std::string, std::size_t> places;
        for (const Example* e : used) {
            every_key = every_key || e->key.empty();
            if (!e->key.empty()) keys.insert(e->key);
            first = std::min(first, e->time), last = std::max(last, e->time);
            if (!e->place.empty()) ++places[e->place];
        }
        const std::string id = unique_id(basename_of(command));
        std::string rule =
            "  - id: " + id + "\n    command: " + learning::yaml_scalar(command) + "\n";
        if (!every_key) {
            std::string list;
            for (const std::string& key : keys)
                list += (list.empty() ? "" : ", ") + learning::yaml_scalar(key);
            rule += "    keys: [" + list + "]\n";
        }
        rule += inferred.body;

        // bridle check: the rule alone, as a policy.d fragment.
        policy::LoadReport report;
        const Result<policy::Policy> loaded =
            policy::parse_policy_text("version: 1\nrules:\n" + rule, id, false, report);
        if (!loaded) {
            dropped_.add("dropped: " + id + " (" + shown(used.front()->argv) +
                         ") does not pass bridle check: " + loaded.error().full());
            return;
        }
        for (const Example* e : used) {
            const matching::Decision d = decide(loaded.value(), *e);
            if (d.verdict != matching::Verdict::kAllow) {
                dropped_.add("dropped: " + id + " does not allow its own example " +
                             shown(e->argv) + ": " + d.reason);
                return;
            }
        }
        if (ceiling_ != nullptr) {
            const std::string why = over_ceiling(loaded.value().rules.front(), used);
            if (!why.empty()) {
                dropped_.add("dropped: exceeds --max-policy: " + id + " (" +
                             shown(used.front()->argv) + "): " + why);
                return;
            }
        }
        std::string comment = "  # " + escape_text(basename_of(command), 100) + ": seen " +
                              times(used.size()) + " by ";
        std::string who;
        for (const std::string& key : keys) who += (who.empty() ? "" : ", ") + key;
        comment +=
            (every_key ? std::string(who.empty() ? "" : who + " and ") + "requests without a key"
                       : who);
        comment += ", " + utc(first) + (first == last ? "" : " to " + utc(last)) + "\n";
        comment += "  # example: " + shown(used.front()->argv) + "\n";
        for (const std::string& note : inferred.notes)
            comment += "  # " + escape_text(note, 300) + "\n";
        for (const auto& [place, n] : places) {
            comment += "  # seen as the " + place + " stage of a pipeline " + times(n) +
                       " (pipeline: is not a key this bridle knows)\n";
        }
        proposals_.push_back({id, comment + rule});
    }

    // Why the rule goes past the ceiling, or "".
    std::string over_ceiling(const policy::Rule& rule,
                             const std::vector<const Example*>& used) const {
        const policy::Rule* ceiling_rule = nullptr;
        for (const Example* e : used) {
            const matching::Decision d = decide(*ceiling_, *e);
            if (d.verdict != matching::Verdict::kAllow)
                return "the ceiling denies " + shown(e->argv) + ": " + d.reason;
            if (ceiling_rule != nullptr && ceiling_rule != d.rule)
                return "its examples are allowed by different rules of the ceiling (" +
                       ceiling_rule->id + ", " + d.rule->id + ")";
            ceiling_rule = d.rule;
        }
        return learning::exceeds(rule, *ceiling_rule);
    }

    const policy::Policy& current_;
    const policy::Policy* ceiling_;
    gate::SystemResolver resolver_;
    std::set<std::string> ids_;
    std::map<std::pair<std::string, std::string>, Result<learning::Program>> programs_;
    std::map<std::string, std::vector<Example>> by_program_;
    std::vector<std::string> order_;
    std::vector<Proposal> proposals_;
    Tally refused_, dropped_, skipped_;
    std::size_t denials_ = 0;
    std::uint64_t first_ = 0, last_ = 0;
};

// `--unused`: the rules of the policy in force and how many requests each decided.
std::string usage_report(const policy::Policy& policy, const AuditLog& log, const LearnOptions& o) {
    std::map<std::string, std::size_t> used;
    std::size_t requests = 0;
    for (const AuditRequest& r : log.requests()) {
        if (!matches(o.audit, r)) continue;
        ++requests;
        if (r.verdict() == "allow") ++used[r.field("BRIDLE_RULE")];
    }
    const std::uint64_t since = *o.audit.read.since, until = *o.audit.read.until;
    std::size_t width = 0;
    for (const policy::Rule& rule : policy.rules) width = std::max(width, rule.id.size());
    std::string unused_lines, used_lines;
    for (const policy::Rule& rule : policy.rules) {
        const std::string id = "  " + rule.id + std::string(width - rule.id.size() + 2, ' ');
        const auto it = used.find(rule.id);
        if (it == used.end()) {
            unused_lines += id + rule.source + "\n";
        } else {
            used_lines += id + std::to_string(it->second) + "\n";
        }
    }
    return "rules no request used from " + utc(since) + " to " + utc(until) + " (" +
           std::to_string(requests) + " request(s) read):\n" +
           (unused_lines.empty() ? "  (none)\n" : unused_lines) + "rules used (requests):\n" +
           (used_lines.empty() ? "  (none)\n" : used_lines);
}

// --write: a new file, never one that exists (O_EXCL, no symlink followed), mode 0644.
int write_new_file(const std::string& path, const std::string& text) {
    const os::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    const bool created = fd.get() >= 0;
    if (!created || ::fchmod(fd.get(), 0644) != 0 || !os::write_all(fd.get(), text) ||
        ::fsync(fd.get()) != 0) {
        const int err = errno;
        std::cerr << "bridle: cannot create " << quote_text(path, 200) << ": "
                  << os::errno_text(err)
                  << (err == EEXIST ? " (learn never overwrites a file)" : "") << "\n";
        if (created) ::unlink(path.c_str());
        return to_int(ExitCode::kCantCreate);
    }
    return to_int(ExitCode::kOk);
}

}  // namespace

std::string learn_options(const std::map<std::string, std::string>& values, LearnOptions& o,
                          std::uint64_t now) {
    const auto value = [&](const std::string& name) {
        const auto it = values.find(name);
        return it == values.end() ? std::string() : it->second;
    };
    if (now == 0) now = now_usec();
    // The options learn shares with audit are read as audit reads them.
    if (const std::string error = audit_options(values, Terminal{}, o.audit, now); !error.empty())
        return error;
    o.policy_file = value("--policy");
    o.max_policy = value("--max-policy");
    if (values.count("--user")) o.user = value("--user");
    if (o.user.empty()) return "--user needs an account name";
    o.write = value("--write");
    const std::uint64_t end = o.audit.read.until.value_or(now);
    if (values.count("--unused")) {
        if (o.audit.read.since) return "--unused DURATION sets the window: leave out --since";
        if (!o.max_policy.empty() || !o.write.empty())
            return "--unused lists rules; --max-policy and --write are for proposals";
        const std::optional<std::uint64_t> span = parse_time_span(value("--unused"));
        if (!span || *span == 0) {
            return "--unused: cannot read the duration \"" + escape_text(value("--unused"), 80) +
                   "\" (try 30d, 2w, 12h)";
        }
        o.unused_window = *span;
        o.audit.read.since = end > *span ? end - *span : 0;
        o.audit.read.until = end;
    } else {
        o.audit.decision = "deny";
    }
    return "";
}

int learn(const LearnOptions& o) {
    const Result<policy::Policy> current = load_and_report(o.policy_file, false);
    if (!current) return to_int(ExitCode::kConfig);
    std::optional<Result<policy::Policy>> ceiling;
    if (!o.max_policy.empty()) {
        ceiling = load_and_report(o.max_policy, false);
        if (!*ceiling) return to_int(ExitCode::kConfig);
    }
    AuditLog log;
    const Status read = audit::read_records(
        o.audit.read,
        [&](const audit::StoredRecord& record) {
            log.add(record);
            return true;
        },
        [] {});
    if (!read) {
        std::cerr << "bridle: " << read.error().full() << "\n";
        return to_int(ExitCode::kUnavailable);
    }
    if (o.unused_window) {
        std::cout << usage_report(current.value(), log, o);
        return to_int(ExitCode::kOk);
    }
    Learner learner(current.value(), ceiling ? &ceiling->value() : nullptr);
    for (const AuditRequest& r : log.requests()) {
        if (r.decision && matches(o.audit, r)) learner.add(r, o.user);
    }
    const std::string document = learner.document();
    if (o.write.empty()) {
        std::cout << document;
    } else if (const int status = write_new_file(o.write, document); status != 0) {
        return status;
    }
    std::cerr << "bridle: learn: " << learner.summary()
              << (o.write.empty() ? "" : "; written to " + quote_text(o.write, 200)) << "\n";
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::admin
