// SPDX-License-Identifier: Apache-2.0
// `bridle audit --by-fanout` (audit_fanout.hpp): requests grouped by their fan-out id, each
// host's part counted. Every stored value is untrusted (any process may claim to be bridle,
// a collected journal may hold anything): the table escapes what it shows.
#include "admin/audit_fanout.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "admin/audit_format.hpp"

namespace bridle::admin {
namespace {

constexpr std::size_t kFanoutHostWidth = 20, kCountWidth = 5, kMostCommands = 3;

// "exit 0, denied x2": each outcome once, with its count when more than one.
std::string outcomes_text(const std::map<std::string, std::size_t>& outcomes) {
    std::string out;
    for (const auto& [outcome, n] : outcomes) {
        out += (out.empty() ? "" : ", ") + safe(outcome) + (n > 1 ? " x" + std::to_string(n) : "");
    }
    return out.empty() ? "-" : out;
}

std::string count(std::size_t n) {
    std::string s = std::to_string(n);
    return std::string(s.size() < kCountWidth ? kCountWidth - s.size() : 0, ' ') + s + " ";
}

std::string heading(const FanoutGroup& g) {
    std::string line = g.id.empty() ? "without a fan-out id" : "fan-out " + safe(g.id);
    line += ": " + std::to_string(g.hosts.size()) + (g.hosts.size() == 1 ? " host, " : " hosts, ") +
            std::to_string(g.requests) + (g.requests == 1 ? " request, " : " requests, ") +
            short_time(g.first) + (g.last != g.first ? " to " + short_time(g.last) : "");
    return line;
}

}  // namespace

std::string fanout_outcome(const AuditRequest& r) {
    const std::string verdict = r.verdict();
    if (verdict == "deny") return "denied";
    const std::string status = status_text(r);
    if (verdict == "approval") return "approval " + status;
    if (number(status)) return "exit " + status;
    return status;  // timeout, idle, sigN, nostart, running, lost, "-" (help)
}

std::vector<FanoutGroup> group_by_fanout(const std::vector<const AuditRequest*>& requests) {
    std::vector<FanoutGroup> groups;
    std::map<std::string, std::size_t> index;  // fan-out id -> position in groups
    std::map<std::pair<std::size_t, std::string>, std::size_t> host_index;
    for (const AuditRequest* r : requests) {
        const std::string id = r->field("BRIDLE_FANOUT_ID");
        const auto [it, fresh] = index.emplace(id, groups.size());
        if (fresh) groups.push_back(FanoutGroup{id, r->time(), r->time(), 0, {}, {}});
        FanoutGroup& g = groups[it->second];
        g.first = std::min(g.first, r->time());
        g.last = std::max(g.last, r->time());
        ++g.requests;
        ++g.commands[r->field("BRIDLE_COMMAND")];
        const std::string host = r->field("_HOSTNAME");
        const auto [h, new_host] = host_index.emplace(std::pair{it->second, host}, g.hosts.size());
        if (new_host) g.hosts.push_back(FanoutHost{host, 0, 0, 0, 0, {}, {}});
        FanoutHost& part = g.hosts[h->second];
        ++part.requests;
        const std::string verdict = r->verdict();
        ++(verdict == "allow" ? part.allowed : verdict == "approval" ? part.approval : part.denied);
        ++part.outcomes[fanout_outcome(*r)];
        part.request_ids.push_back(r->id);
    }
    for (FanoutGroup& g : groups) {
        std::sort(g.hosts.begin(), g.hosts.end(),
                  [](const FanoutHost& a, const FanoutHost& b) { return a.host < b.host; });
    }
    // The fan-outs by their first request; the requests without an id last.
    std::stable_sort(groups.begin(), groups.end(), [](const FanoutGroup& a, const FanoutGroup& b) {
        if (a.id.empty() != b.id.empty()) return b.id.empty();
        return a.first < b.first;
    });
    return groups;
}

void print_fanouts(std::ostream& out, const AuditOptions& o,
                   const std::vector<FanoutGroup>& groups) {
    const auto fit = [&](const std::string& line) {
        return o.width > 20 ? cut(line, o.width - 1) : line;
    };
    if (groups.empty()) out << "no requests\n";
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const FanoutGroup& g = groups[i];
        if (i > 0) out << "\n";
        out << (o.color ? kBold : "") << fit(heading(g)) << (o.color ? kReset : "") << "\n";
        std::string commands;
        std::size_t shown = 0;
        for (const auto& [command, n] : g.commands) {
            if (shown++ == kMostCommands) {
                commands +=
                    "; ... (" + std::to_string(g.commands.size() - kMostCommands) + " more)";
                break;
            }
            commands += (commands.empty() ? "" : "; ") + safe(command) +
                        (n > 1 ? " (x" + std::to_string(n) + ")" : "");
        }
        out << fit("  command" + std::string(g.commands.size() > 1 ? "s: " : ": ") + commands)
            << "\n";
        out << "  " << pad("HOST", kFanoutHostWidth) << " REQS ALLOW  DENY OUTCOMES\n";
        for (const FanoutHost& h : g.hosts) {
            out << fit("  " + pad(h.host.empty() ? "-" : safe(h.host), kFanoutHostWidth) +
                       count(h.requests) + count(h.allowed) + count(h.denied) +
                       outcomes_text(h.outcomes))
                << "\n";
        }
    }
}

std::string to_json(const FanoutGroup& g) {
    nlohmann::ordered_json j;
    j["fanout_id"] = g.id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(g.id);
    j["first"] = iso_time(g.first);
    j["last"] = iso_time(g.last);
    j["first_usec"] = g.first;
    j["last_usec"] = g.last;
    j["requests"] = g.requests;
    j["commands"] = g.commands;
    nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
    for (const FanoutHost& h : g.hosts) {
        hosts.push_back({{"host", h.host},
                         {"requests", h.requests},
                         {"allowed", h.allowed},
                         {"denied", h.denied},
                         {"approval", h.approval},
                         {"outcomes", h.outcomes},
                         {"request_ids", h.request_ids}});
    }
    j["hosts"] = hosts;
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bridle::admin
