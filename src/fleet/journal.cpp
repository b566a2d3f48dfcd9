// SPDX-License-Identifier: Apache-2.0
// The controller's records, through the same journald writer as the hosts' (audit/journald.cpp).
#include "fleet/journal.hpp"

#include <pwd.h>
#include <unistd.h>

#include "audit/audit.hpp"
#include "common/text.hpp"
#include "os/accounts.hpp"

namespace bridle::fleet {
namespace {

std::string who() {
    const uid_t uid = ::getuid();
    const passwd* pw = os::user_with_uid(uid);
    return (pw != nullptr ? std::string(pw->pw_name) : std::string("?")) + " (uid " +
           std::to_string(uid) + ")";
}

std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

audit::Record base(const FanoutRecord& fanout, const char* event) {
    audit::Record r;
    r.identifier = "bridle-fleet";
    r.add("BRIDLE_EVENT", event);
    r.add("BRIDLE_FANOUT_ID", fanout.fanout_id);
    r.add("BRIDLE_FRONT_END", fanout.front_end);
    r.add("BRIDLE_FLEET_USER", who());
    r.add("BRIDLE_FLEET_TOOL", fanout.tool);
    r.add("BRIDLE_FLEET_ARGUMENTS", escape_text(dump(fanout.arguments), 8192));
    r.add("BRIDLE_FLEET_HOSTS", dump(fanout.hosts));
    return r;
}

Status write(const audit::Record& record) {
    static const std::unique_ptr<audit::Sink> sink = audit::make_journald_sink();
    return sink->write(record);
}

}  // namespace

Status record_fanout_start(const FanoutRecord& fanout) {
    audit::Record r = base(fanout, "fanout-start");
    r.message_id = kFanoutStartMessageId;
    r.message = "fleet: " + fanout.tool + " on " + std::to_string(fanout.hosts.size()) +
                " hosts, fan-out " + fanout.fanout_id;
    return write(r);
}

Status record_fanout_result(const FanoutRecord& fanout, const std::vector<HostResult>& results) {
    audit::Record r = base(fanout, "fanout-result");
    r.message_id = kFanoutResultMessageId;
    Json per_host = Json::object();
    for (const HostResult& h : results) {
        Json entry{{"status", status_name(h.status)}, {"duration_ms", h.duration_ms}};
        if (h.structured.is_object() && h.structured.contains("request_id")) {
            entry["request_id"] = h.structured["request_id"];
        }
        per_host[h.host] = entry;
    }
    const Json counts = summary(results);
    r.add("BRIDLE_FLEET_RESULTS", dump(per_host));
    r.add("BRIDLE_FLEET_SUMMARY", dump(counts));
    r.message = "fleet: fan-out " + fanout.fanout_id + " done: " + dump(counts);
    r.priority = exit_status(results) == 0 ? 6 : 5;
    return write(r);
}

}  // namespace bridle::fleet
