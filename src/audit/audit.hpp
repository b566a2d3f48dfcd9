// SPDX-License-Identifier: Apache-2.0
// The closed set of audit events and the sink interface (journald today).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace bridle::audit {

// One record: MESSAGE plus structured fields, in order. Field names are journald-style
// (uppercase, digits, underscore; BRIDLE_ prefix for ours). Values may hold any bytes: the
// builders escape untrusted text before it gets here.
struct Record {
    std::string message;
    std::string message_id;  // 128-bit id, 32 hex digits, one per event type
    int priority = 6;        // syslog priority: 6 info, 5 notice, 4 warning, 3 err
    // SYSLOG_IDENTIFIER: "bridle" for a host's records (what `bridle audit` reads);
    // "bridle-fleet" for the fleet controller's own.
    std::string identifier = "bridle";
    std::vector<std::pair<std::string, std::string>> fields;
    void add(std::string name, std::string value) {
        fields.emplace_back(std::move(name), std::move(value));
    }
};

// MESSAGE_IDs (journalctl MESSAGE_ID=...). Generated once; never change them.
constexpr const char* kDecisionMessageId = "0f4c6c1b8e2d4c83a51e2d7a9b6f3e01";
constexpr const char* kResultMessageId = "5a7e92c4d1b04f6e8c3b1a2d9e8f7c02";
// The steps of an approval (docs/audit.md, APPROVALS): "approval requested" is the one an
// administrator follows (journalctl -f MESSAGE_ID=1c785a54...).
constexpr const char* kApprovalRequestedMessageId = "1c785a5424ef46a888bbfa013714a0f4";
constexpr const char* kApprovalApprovedMessageId = "45842d61853c4367801e6cbbd6e7420e";
constexpr const char* kApprovalRejectedMessageId = "bb00ec67d74249c695903ff75ca81313";
constexpr const char* kApprovalConsumedMessageId = "bfe8dbca3d2f46c18a5a1a906bdc9969";
constexpr const char* kApprovalExpiredMessageId = "f6f9fde91e8d45cf909e7e5fd84db608";
constexpr const char* kApprovalVoidMessageId = "a200451389f54944bd7abe4eee32b702";
constexpr const char* kApprovalRefusedMessageId = "a5ae764916e44266b312048299400d27";
constexpr const char* kApprovalNotifiedMessageId = "63466f562dba4a6a9323130033020d64";
// The agent's wait for its own request (MCP wait_for_approval): started, ended.
constexpr const char* kApprovalWaitMessageId = "e959f8885c714b989773b1c020cf4f09";
constexpr const char* kApprovalWaitedMessageId = "ba31df395d124d249916ca8a84abe7da";

class Sink {
  public:
    virtual ~Sink() = default;
    // Ok only when the record was handed to the store. A sink that cannot tell must fail.
    virtual Status write(const Record& record) = 0;
};

// journald's native protocol over a connect()ed datagram socket (sd_journal_sendv returns 0
// when nobody listens, so it cannot prove a record was stored). write() fails when journald
// is missing or not listening, and for an invalid field name or priority, which is sent
// nowhere. Thread-safe. `socket_path` is for tests.
std::unique_ptr<Sink> make_journald_sink(std::string socket_path = "/run/systemd/journal/socket");

// The file sink (file_sink.cpp): JSON lines through spdlog's rotating file sink, safe for many
// bridle processes at once (each write locks the file's directory). write() fails when the
// directory is missing or the file cannot be opened, written or rotated.
struct FileSinkOptions {
    std::string path;                 // absolute
    std::size_t max_size = 10 << 20;  // rotate when a record would pass it
    std::size_t max_files = 5;        // rotated files kept: audit.1.jsonl .. audit.N.jsonl
};
std::unique_ptr<Sink> make_file_sink(FileSinkOptions options);

// The directory part of the file sink's path ("/var/log/bridle/audit.jsonl" ->
// "/var/log/bridle"): the one every writer locks, and the follower too (journal_reader.cpp).
std::string directory_of(const std::string& path);

// One record as the file sink writes it: a JSON object with journald's field names
// (__REALTIME_TIMESTAMP, _HOSTNAME, _PID, _UID, MESSAGE, MESSAGE_ID, PRIORITY,
// SYSLOG_IDENTIFIER, then the record's fields), no newline.
std::string to_json_line(const Record& record, const std::string& host);

// Writes to `first`, then `second`; fails when either does (settings.audit: both).
std::unique_ptr<Sink> make_tee_sink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> second);

}  // namespace bridle::audit
