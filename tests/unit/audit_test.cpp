// SPDX-License-Identifier: Apache-2.0
// The journald sink against a real AF_UNIX datagram socket standing in for journald: native
// format on the wire, the memfd path for large records, and refusal when nobody listens.
#include "audit/audit.hpp"
#include "audit/capture.hpp"
#include "audit/journal_reader.hpp"
#include "audit/records.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bridle::audit {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

class TempDir {
  public:
    TempDir() {
        char name[] = "/tmp/bridle-audit-XXXXXX";
        if (::mkdtemp(name) != nullptr) path_ = name;
    }
    ~TempDir() {
        std::error_code ignored;  // best effort: a leftover scratch directory fails nothing
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

// What arrived in one datagram: its payload, or the contents of the fd it carried.
struct Datagram {
    std::string payload;
    bool via_memfd = false;
    int seals = 0;
};

// A bound datagram socket playing journald.
class FakeJournald {
  public:
    explicit FakeJournald(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        ::unlink(path.c_str());
        bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    }
    ~FakeJournald() { close(); }
    bool bound() const { return bound_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    // The next datagram, or nullopt if none arrives within `wait_ms`.
    std::optional<Datagram> receive(int wait_ms = 2000) {
        pollfd ready{fd_, POLLIN, 0};
        if (::poll(&ready, 1, wait_ms) <= 0) return std::nullopt;
        // MSG_TRUNC: the datagram's real size (AF_UNIX since Linux 3.4).
        const ssize_t size = ::recv(fd_, nullptr, 0, MSG_PEEK | MSG_TRUNC);
        if (size < 0) return std::nullopt;
        std::string buffer(static_cast<std::size_t>(size) + 1, '\0');
        iovec data{buffer.data(), buffer.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr message{};
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &message, MSG_CMSG_CLOEXEC);
        if (n < 0) return std::nullopt;
        Datagram datagram;
        datagram.payload = buffer.substr(0, static_cast<std::size_t>(n));
        const cmsghdr* header = CMSG_FIRSTHDR(&message);
        if (header != nullptr && header->cmsg_level == SOL_SOCKET &&
            header->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
            datagram.via_memfd = true;
            datagram.seals = ::fcntl(fd, F_GET_SEALS);
            struct stat info {};
            ::fstat(fd, &info);
            std::string contents(static_cast<std::size_t>(info.st_size), '\0');
            const ssize_t got = ::pread(fd, contents.data(), contents.size(), 0);
            contents.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
            datagram.payload = std::move(contents);
            ::close(fd);
        }
        return datagram;
    }

  private:
    std::string path_;
    int fd_ = -1;
    bool bound_ = false;
};

// Parses journald's native format: `NAME=value\n`, or `NAME\n` + le64 length + value + `\n`.
std::optional<Fields> parse_native(const std::string& payload) {
    Fields fields;
    std::size_t at = 0;
    while (at < payload.size()) {
        const std::size_t end = payload.find_first_of("=\n", at);
        if (end == std::string::npos) return std::nullopt;
        std::string name = payload.substr(at, end - at);
        if (payload[end] == '=') {
            const std::size_t newline = payload.find('\n', end);
            if (newline == std::string::npos) return std::nullopt;
            fields.emplace_back(std::move(name), payload.substr(end + 1, newline - end - 1));
            at = newline + 1;
            continue;
        }
        if (payload.size() - end - 1 < 8) return std::nullopt;
        std::uint64_t size = 0;
        for (int byte = 7; byte >= 0; --byte) {
            size = (size << 8) |
                   static_cast<unsigned char>(payload[end + 1 + static_cast<std::size_t>(byte)]);
        }
        const std::size_t value_at = end + 9;
        if (size > payload.size() - value_at || payload.size() - value_at - size < 1 ||
            payload[value_at + size] != '\n') {
            return std::nullopt;
        }
        fields.emplace_back(std::move(name), payload.substr(value_at, size));
        at = value_at + size + 1;
    }
    return fields;
}

std::string le64(std::uint64_t value) {
    std::string out;
    for (int byte = 0; byte < 8; ++byte) out += static_cast<char>((value >> (8 * byte)) & 0xff);
    return out;
}

Record sample_record() {
    Record record;
    record.message = "decision: allow unit-status";
    record.message_id = kDecisionMessageId;
    record.priority = 5;
    record.add("BRIDLE_EVENT", "decision");
    record.add("BRIDLE_RULE", "unit-status");
    record.add("BRIDLE_COMMAND", "systemctl status\nnginx");
    return record;
}

// A record arrives as one datagram holding the standard fields, then ours in order.
TEST(Journald, RecordArrivesInNativeFormat) {
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    ASSERT_TRUE(journald.bound());
    const auto sink = make_journald_sink(dir.file("socket"));
    const Status status = sink->write(sample_record());
    ASSERT_TRUE(status.ok()) << status.error().full();

    const std::optional<Datagram> datagram = journald.receive();
    ASSERT_TRUE(datagram.has_value());
    EXPECT_FALSE(datagram->via_memfd);
    const std::optional<Fields> fields = parse_native(datagram->payload);
    ASSERT_TRUE(fields.has_value()) << datagram->payload;
    const Fields expected = {
        {"MESSAGE", "decision: allow unit-status"},
        {"MESSAGE_ID", kDecisionMessageId},
        {"PRIORITY", "5"},
        {"SYSLOG_IDENTIFIER", "bridle"},
        {"BRIDLE_EVENT", "decision"},
        {"BRIDLE_RULE", "unit-status"},
        {"BRIDLE_COMMAND", "systemctl status\nnginx"},
    };
    EXPECT_EQ(*fields, expected);
}

// Values without '\n' use `NAME=value`; values with one use the length-prefixed form, so
// any bytes survive the trip (an injected "\nPRIORITY=0" stays inside its field).
TEST(Journald, ValuesRoundTripInTheRightEncoding) {
    struct Case {
        const char* name;
        std::string value;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"plain", "abc"},
        {"empty", ""},
        {"equals signs", "a=b=c"},
        {"inner newline", "a\nb"},
        {"trailing newline", "abc\n"},
        {"only a newline", "\n"},
        {"forged field", "x\nPRIORITY=0\n_PID=1"},
        {"NUL and high bytes", std::string("\0\xff\x01", 3)},
    };
    // clang-format on
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    ASSERT_TRUE(journald.bound());
    const auto sink = make_journald_sink(dir.file("socket"));
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Record record;
        record.message = c.value;
        record.add("BRIDLE_VALUE", c.value);
        ASSERT_TRUE(sink->write(record).ok());
        const std::optional<Datagram> datagram = journald.receive();
        ASSERT_TRUE(datagram.has_value());
        const std::optional<Fields> fields = parse_native(datagram->payload);
        ASSERT_TRUE(fields.has_value());
        ASSERT_EQ(fields->size(), 4u);  // MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, BRIDLE_VALUE
        EXPECT_EQ(fields->front(), (std::pair<std::string, std::string>{"MESSAGE", c.value}));
        EXPECT_EQ(fields->back(), (std::pair<std::string, std::string>{"BRIDLE_VALUE", c.value}));
        const std::string wire = c.value.find('\n') == std::string::npos
                                     ? "BRIDLE_VALUE=" + c.value + "\n"
                                     : "BRIDLE_VALUE\n" + le64(c.value.size()) + c.value + "\n";
        EXPECT_NE(datagram->payload.find(wire), std::string::npos);
    }
}

// What the sink's socket can send in one datagram: SO_SNDBUF as it sets it, as the kernel
// grants it (doubled, capped by net.core.wmem_max).
std::size_t effective_send_buffer() {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int wanted = 8 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof wanted);
    int granted = 0;
    socklen_t size = sizeof granted;
    ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &granted, &size);
    ::close(fd);
    return static_cast<std::size_t>(granted);
}

// Large records arrive whole. One too big for a datagram goes as a sealed memfd passed with
// SCM_RIGHTS (2 MiB is enough with the default wmem_max; hosts that raise it need more).
TEST(Journald, LargeRecordsArriveWhole) {
    struct Case {
        const char* name;
        std::size_t size;
        bool must_use_memfd;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"2 MiB", 2 * 1024 * 1024, effective_send_buffer() <= 2 * 1024 * 1024},
        {"past the send buffer",
         std::max<std::size_t>(2 * 1024 * 1024, effective_send_buffer() + 1), true},
    };
    // clang-format on
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    ASSERT_TRUE(journald.bound());
    const auto sink = make_journald_sink(dir.file("socket"));
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Record record;
        record.message = "large";
        std::string value(c.size, 'v');
        value[c.size / 2] = '\n';
        record.add("BRIDLE_OUTPUT", value);
        const Status status = sink->write(record);
        ASSERT_TRUE(status.ok()) << status.error().full();
        const std::optional<Datagram> datagram = journald.receive();
        ASSERT_TRUE(datagram.has_value());
        if (c.must_use_memfd) {
            EXPECT_TRUE(datagram->via_memfd);
        }
        if (datagram->via_memfd) {
            const int all = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
            EXPECT_EQ(datagram->seals & all, all);
        }
        const std::optional<Fields> fields = parse_native(datagram->payload);
        ASSERT_TRUE(fields.has_value());
        ASSERT_EQ(fields->size(), 4u);
        EXPECT_EQ(fields->back().first, "BRIDLE_OUTPUT");
        EXPECT_TRUE(fields->back().second == value);  // EXPECT_EQ would print megabytes
    }
}

// No journald socket at all: the write fails and the message names the socket.
TEST(Journald, MissingSocketIsRefused) {
    TempDir dir;
    const auto sink = make_journald_sink(dir.file("no-journald"));
    const Status status = sink->write(sample_record());
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("journald is not accepting records at " +
                                          dir.file("no-journald")),
              std::string::npos)
        << status.error().message;
    EXPECT_NE(status.error().message.find("No such file or directory"), std::string::npos);
    EXPECT_NE(status.error().message.find("refusing to run unaudited"), std::string::npos);
}

// A socket file that nobody listens on any more (journald died) fails too.
TEST(Journald, SocketWithoutListenerIsRefused) {
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    ASSERT_TRUE(journald.bound());
    journald.close();
    const auto sink = make_journald_sink(dir.file("socket"));
    const Status status = sink->write(sample_record());
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find(dir.file("socket")), std::string::npos);
    EXPECT_NE(status.error().message.find("Connection refused"), std::string::npos)
        << status.error().message;
}

// The sink connects lazily and reconnects once: a journald that appears late or restarts
// (a new socket at the same path) gets the next record.
TEST(Journald, ReconnectsToARestartedJournald) {
    TempDir dir;
    const auto sink = make_journald_sink(dir.file("socket"));
    EXPECT_FALSE(sink->write(sample_record()).ok());
    {
        FakeJournald first(dir.file("socket"));
        ASSERT_TRUE(sink->write(sample_record()).ok());
        EXPECT_TRUE(first.receive().has_value());
    }
    FakeJournald second(dir.file("socket"));
    ASSERT_TRUE(second.bound());
    const Status status = sink->write(sample_record());
    ASSERT_TRUE(status.ok()) << status.error().full();
    EXPECT_TRUE(second.receive().has_value());
}

// Field names journald would reject or treat as trusted are a programming error: the
// record is refused and nothing is sent. Boundary names that are valid still go through.
TEST(Journald, InvalidFieldNamesAreRefused) {
    struct Case {
        const char* name;
        std::string field;
        bool valid;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"lower case", "bridle_rule", false},
        {"trusted prefix", "_SYSTEMD_UNIT", false},
        {"leading digit", "1ST", false},
        {"empty", "", false},
        {"65 characters", std::string(65, 'A'), false},
        {"dash", "BRIDLE-RULE", false},
        {"equals", "A=B", false},
        {"space", "A B", false},
        {"newline", "A\nB", false},
        {"non-ASCII", "\xc3\x89T\xc3\x89", false},
        {"64 characters", std::string(64, 'A'), true},
        {"one letter", "A", true},
        {"digits and underscores", "A1_2_B", true},
    };
    // clang-format on
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    ASSERT_TRUE(journald.bound());
    const auto sink = make_journald_sink(dir.file("socket"));
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Record record = sample_record();
        record.add(c.field, "value");
        const Status status = sink->write(record);
        EXPECT_EQ(status.ok(), c.valid);
        if (!c.valid) {
            EXPECT_NE(status.error().message.find("invalid journal field name"), std::string::npos);
        }
        EXPECT_EQ(journald.receive(c.valid ? 2000 : 0).has_value(), c.valid);
    }
}

// A priority outside syslog's 0-7 is refused like a bad field name.
TEST(Journald, InvalidPriorityIsRefused) {
    TempDir dir;
    FakeJournald journald(dir.file("socket"));
    const auto sink = make_journald_sink(dir.file("socket"));
    for (int priority : {-1, 8, 100}) {
        SCOPED_TRACE(priority);
        Record record = sample_record();
        record.priority = priority;
        EXPECT_FALSE(sink->write(record).ok());
        EXPECT_FALSE(journald.receive(0).has_value());
    }
}

// ---- Sandbox fields --------------------------------------------------------------------------

std::optional<std::string> field(const Record& r, const std::string& name) {
    for (const auto& [k, v] : r.fields) {
        if (k == name) return v;
    }
    return std::nullopt;
}

// Once a rule's sandbox is known, both records say what was applied; the result adds how many
// execs exec-once refused. Before that (a request that never reached a rule), no such field.
TEST(Records, SayWhichSandboxWasApplied) {
    RequestInfo info;
    info.request_id = "0123456789abcdef0123456789abcdef";
    info.raw = "tail -n 5 /var/log/syslog";
    execution::Outcome outcome;
    outcome.started = true;
    outcome.exit_status = 0;
    outcome.exec_blocked = 3;
    const Record plain = result_record(info, "tail-log", outcome, 0);
    for (const char* name : {"BRIDLE_SANDBOX", "BRIDLE_SECCOMP", "BRIDLE_EXEC_ONCE",
                             "BRIDLE_LANDLOCK", "BRIDLE_EXEC_BLOCKED"}) {
        EXPECT_FALSE(field(plain, name).has_value()) << name;
        EXPECT_FALSE(field(decision_record(info, "deny", "", "no rule"), name).has_value()) << name;
    }
    info.sandbox = SandboxInfo{"logs", "baseline,no-write", true, "abi-7"};
    const Record decision = decision_record(info, "allow", "tail-log", "");
    const Record result = result_record(info, "tail-log", outcome, 0);
    for (const Record* r : {&decision, &result}) {
        EXPECT_EQ(field(*r, "BRIDLE_SANDBOX"), "logs");
        EXPECT_EQ(field(*r, "BRIDLE_SECCOMP"), "baseline,no-write");
        EXPECT_EQ(field(*r, "BRIDLE_EXEC_ONCE"), "1");
        EXPECT_EQ(field(*r, "BRIDLE_LANDLOCK"), "abi-7");
    }
    EXPECT_FALSE(field(decision, "BRIDLE_EXEC_BLOCKED").has_value());
    EXPECT_EQ(field(result, "BRIDLE_EXEC_BLOCKED"), "3");
    info.sandbox = SandboxInfo{"loose", "none", false, "unavailable"};
    const Record loose = result_record(info, "r", outcome, 0);
    EXPECT_EQ(field(loose, "BRIDLE_SECCOMP"), "none");
    EXPECT_EQ(field(loose, "BRIDLE_EXEC_ONCE"), "0");
    EXPECT_EQ(field(loose, "BRIDLE_LANDLOCK"), "unavailable");
}

// A logging sandbox's exec log is one whole JSON array in the result record, with the count of
// what it dropped; without one there is no such field.
TEST(Records, CarryTheExecLogAsOneJsonArray) {
    RequestInfo info;
    info.request_id = "0123456789abcdef0123456789abcdef";
    info.raw = "apt-get install -y nginx";
    info.sandbox = SandboxInfo{"root-packages", "baseline", false, "none"};
    execution::Outcome outcome;
    outcome.started = true;
    const Record without = result_record(info, "apt-install", outcome, 0);
    EXPECT_FALSE(field(without, "BRIDLE_EXECS").has_value());
    EXPECT_FALSE(field(without, "BRIDLE_EXECS_DROPPED").has_value());
    outcome.exec_logged = true;
    // Entries come escaped from the sandbox (exec_log::describe); quotes and backslashes are
    // the JSON encoder's to escape again.
    outcome.execs = {"/usr/bin/apt-get", "/usr/bin/dpkg", "/tmp/a\\nb\"c",
                     "<unreadable: Bad address>"};
    outcome.execs_dropped = 7;
    const Record with = result_record(info, "apt-install", outcome, 0);
    const std::optional<std::string> execs = field(with, "BRIDLE_EXECS");
    ASSERT_TRUE(execs.has_value());
    EXPECT_EQ(nlohmann::json::parse(*execs).get<std::vector<std::string>>(), outcome.execs);
    EXPECT_EQ(execs->find('\n'), std::string::npos);
    EXPECT_EQ(field(with, "BRIDLE_EXECS_DROPPED"), "7");
    EXPECT_FALSE(
        field(decision_record(info, "allow", "apt-install", ""), "BRIDLE_EXECS").has_value());
}

// ---- The file sink ------------------------------------------------------------------------

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

Record sample_record(const std::string& command) {
    RequestInfo info;
    info.request_id = "0123456789abcdef0123456789abcdef";
    info.raw = command;
    info.key = "laptop";
    return decision_record(info, "deny", "", "no rule");
}

TEST(FileSink, WritesOneJsonLinePerRecordWithJournalFieldNames) {
    TempDir dir;
    auto sink = make_file_sink({dir.file("audit.jsonl"), 1 << 20, 3});
    ASSERT_TRUE(sink->write(sample_record("uptime")).ok());
    ASSERT_TRUE(sink->write(sample_record("a\nBRIDLE_DECISION=allow\n{\"x\":1}")).ok());
    const std::vector<std::string> lines = read_lines(dir.file("audit.jsonl"));
    ASSERT_EQ(lines.size(), 2u);
    for (const std::string& line : lines) {
        const std::optional<StoredRecord> r = parse_json_line(line);
        ASSERT_TRUE(r.has_value()) << line;
        EXPECT_EQ(r->field("SYSLOG_IDENTIFIER"), "bridle");
        EXPECT_EQ(r->field("MESSAGE_ID"), kDecisionMessageId);
        EXPECT_EQ(r->field("BRIDLE_DECISION"), "deny");
        EXPECT_EQ(r->field("BRIDLE_KEY"), "laptop");
        EXPECT_GT(r->realtime_usec, 0u);
    }
    // The forged field and line stay inside the escaped command.
    EXPECT_EQ(parse_json_line(lines[1])->field("BRIDLE_COMMAND"),
              "a\\nBRIDLE_DECISION=allow\\n{\\\"x\\\":1}");
}

TEST(FileSink, RefusesWhenTheDirectoryIsMissing) {
    auto sink = make_file_sink({"/nonexistent-bridle-dir/audit.jsonl", 1 << 20, 3});
    const Status s = sink->write(sample_record("uptime"));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("refusing to run unaudited"), std::string::npos)
        << s.error().message;
}

TEST(FileSink, RotatesAndKeepsMaxFiles) {
    TempDir dir;
    auto sink = make_file_sink({dir.file("audit.jsonl"), 2048, 2});
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(sink->write(sample_record("uptime " + std::to_string(i))).ok());
    EXPECT_EQ(::access(dir.file("audit.1.jsonl").c_str(), F_OK), 0);
    EXPECT_EQ(::access(dir.file("audit.2.jsonl").c_str(), F_OK), 0);
    EXPECT_NE(::access(dir.file("audit.3.jsonl").c_str(), F_OK), 0);
    // The reader sees the family oldest first, and the newest record last.
    std::vector<std::string> commands;
    ReadOptions options;
    options.file = dir.file("audit.jsonl");
    ASSERT_TRUE(read_records(
                    options,
                    [&](const StoredRecord& r) {
                        commands.push_back(r.field("BRIDLE_COMMAND"));
                        return true;
                    },
                    [] {})
                    .ok());
    ASSERT_FALSE(commands.empty());
    EXPECT_EQ(commands.back(), "uptime 39");
    for (std::size_t i = 1; i < commands.size(); ++i) {
        EXPECT_LT(std::stoi(commands[i - 1].substr(7)), std::stoi(commands[i].substr(7)));
    }
}

// Each request is its own bridle process: many processes append and rotate the same file at
// once. With room enough that nothing rotates away, every record must be in exactly one
// complete line.
TEST(FileSink, ManyProcessesLoseAndSplitNothingAcrossRotations) {
    TempDir dir;
    constexpr int kProcesses = 8, kRecords = 60;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto sink = make_file_sink({dir.file("audit.jsonl"), 4096, 1000});
            int failures = 0;
            for (int i = 0; i < kRecords; ++i) {
                failures +=
                    !sink->write(sample_record("p" + std::to_string(p) + " r" + std::to_string(i)))
                         .ok();
            }
            ::_exit(failures == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    std::multiset<std::string> seen;
    ReadOptions options;
    options.file = dir.file("audit.jsonl");
    ASSERT_TRUE(read_records(
                    options,
                    [&](const StoredRecord& r) {
                        seen.insert(r.field("BRIDLE_COMMAND"));
                        return true;
                    },
                    [] {})
                    .ok());
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kProcesses * kRecords));
    for (int p = 0; p < kProcesses; ++p) {
        for (int i = 0; i < kRecords; ++i) {
            EXPECT_EQ(seen.count("p" + std::to_string(p) + " r" + std::to_string(i)), 1u);
        }
    }
    EXPECT_EQ(::access(dir.file("audit.1.jsonl").c_str(), F_OK), 0)
        << "nothing rotated: the test proved less";
}

// `bridle audit --follow FILE` on a thread of its own: each record's BRIDLE_COMMAND goes into
// `seen` until the record "stop", which makes `finished` ready.
struct Follower {
    std::shared_ptr<std::vector<std::string>> seen = std::make_shared<std::vector<std::string>>();
    std::future<void> finished;
    explicit Follower(const std::string& file) {
        auto done = std::make_shared<std::promise<void>>();
        finished = done->get_future();
        ReadOptions options;
        options.file = file;
        options.follow = true;
        std::thread([options, seen = seen, done] {
            (void)read_records(
                options,
                [&](const StoredRecord& r) {
                    seen->push_back(r.field("BRIDLE_COMMAND"));
                    if (r.field("BRIDLE_COMMAND") != "stop") return true;
                    done->set_value();
                    return false;
                },
                [] {});
        }).detach();
    }
};

// --follow on the file sink: records written while it follows, across rotations, arrive once
// each and in order.
TEST(FileSink, FollowSeesEveryRecordAcrossRotations) {
    TempDir dir;
    auto sink = make_file_sink({dir.file("audit.jsonl"), 2048, 50});
    ASSERT_TRUE(sink->write(sample_record("before")).ok());
    const Follower follower(dir.file("audit.jsonl"));
    const auto& seen = follower.seen;
    const std::future<void>& finished = follower.finished;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (int i = 0; i < 60; ++i) {
        ASSERT_TRUE(sink->write(sample_record("r" + std::to_string(i))).ok());
        if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(sink->write(sample_record("stop")).ok());
    ASSERT_EQ(finished.wait_for(std::chrono::seconds(20)), std::future_status::ready)
        << "the follower never saw the last record; it saw " << seen->size();
    std::vector<std::string> want{"before"};
    for (int i = 0; i < 60; ++i) want.push_back("r" + std::to_string(i));
    want.push_back("stop");
    EXPECT_EQ(*seen, want);
    EXPECT_EQ(::access(dir.file("audit.3.jsonl").c_str(), F_OK), 0)
        << "too few rotations to prove anything";
}

// Regression: the follower listed the rotated names, then opened them one by one; a rotation in
// between moved every file one name up, so it read a newer file before an older one (CI saw
// r11..r14 before r7..r10). Here the sink rotates every few records without a pause, so that
// almost every look of the follower meets a rotation under way.
TEST(FileSink, FollowKeepsTheOrderWhileFilesRotateUnderIt) {
    TempDir dir;
    constexpr int kRecords = 400;
    auto sink = make_file_sink({dir.file("audit.jsonl"), 1024, 200});
    ASSERT_TRUE(sink->write(sample_record("before")).ok());
    const Follower follower(dir.file("audit.jsonl"));
    const auto& seen = follower.seen;
    const std::future<void>& finished = follower.finished;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < kRecords; ++i) {
        ASSERT_TRUE(sink->write(sample_record("r" + std::to_string(i))).ok());
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    ASSERT_TRUE(sink->write(sample_record("stop")).ok());
    ASSERT_EQ(finished.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "the follower never saw the last record; it saw " << seen->size();
    std::vector<std::string> want{"before"};
    for (int i = 0; i < kRecords; ++i) want.push_back("r" + std::to_string(i));
    want.push_back("stop");
    const auto [got, wanted] = std::mismatch(seen->begin(), seen->end(), want.begin(), want.end());
    EXPECT_TRUE(got == seen->end() && wanted == want.end())
        << "record " << (got - seen->begin()) << " of " << seen->size() << " is "
        << (got == seen->end() ? "missing" : *got) << ", wanted "
        << (wanted == want.end() ? "nothing" : *wanted);
    EXPECT_EQ(::access(dir.file("audit.60.jsonl").c_str(), F_OK), 0)
        << "too few rotations to prove anything";
}

TEST(FileSink, ParseJsonLineRefusesWhatIsNotARecord) {
    // clang-format off
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"not json", "{"},
        {"array", "[1,2]"},
        {"number value", R"({"__REALTIME_TIMESTAMP":"1","X":1})"},
        {"no timestamp", R"({"SYSLOG_IDENTIFIER":"bridle"})"},
        {"timestamp not digits", R"({"__REALTIME_TIMESTAMP":"12a"})"},
        {"timestamp too long", R"({"__REALTIME_TIMESTAMP":"123456789012345678901"})"},
        {"nested", R"({"__REALTIME_TIMESTAMP":"1","X":{"a":"b"}})"},
        {"a million brackets", "{\"X\":" + std::string(1000000, '[')},
    };
    // clang-format on
    for (const auto& [name, line] : cases) {
        SCOPED_TRACE(name);
        EXPECT_FALSE(parse_json_line(line).has_value());
    }
    EXPECT_TRUE(parse_json_line(R"({"__REALTIME_TIMESTAMP":"17","SYSLOG_IDENTIFIER":"bridle"})")
                    .has_value());
    // Brackets and quotes inside strings are text.
    const auto quoted = parse_json_line(R"({"__REALTIME_TIMESTAMP":"17","C":"[{\"}]\\"})");
    ASSERT_TRUE(quoted.has_value());
    EXPECT_EQ(quoted->field("C"), "[{\"}]\\");
}

class FailingSink final : public Sink {
  public:
    Status write(const Record&) override { return Error{"down", ""}; }
};
class CountingSink final : public Sink {
  public:
    int* count;
    explicit CountingSink(int* c) : count(c) {}
    Status write(const Record&) override {
        ++*count;
        return ok_status();
    }
};

TEST(TeeSink, FailsWhenEitherSinkFails) {
    int a = 0, b = 0;
    EXPECT_TRUE(
        make_tee_sink(std::make_unique<CountingSink>(&a), std::make_unique<CountingSink>(&b))
            ->write(sample_record("x"))
            .ok());
    EXPECT_EQ(a + b, 2);
    EXPECT_FALSE(make_tee_sink(std::make_unique<FailingSink>(), std::make_unique<CountingSink>(&b))
                     ->write(sample_record("x"))
                     .ok());
    EXPECT_FALSE(make_tee_sink(std::make_unique<CountingSink>(&a), std::make_unique<FailingSink>())
                     ->write(sample_record("x"))
                     .ok());
}

// ---- Output capture -------------------------------------------------------------------------

TEST(OutputCapture, KeepsTheHeadAndHashesEverything) {
    OutputCapture capture(5);
    capture.observe(execution::Stream::kStdout, "hel");
    capture.observe(execution::Stream::kStdout, "lo world\n");
    capture.observe(execution::Stream::kStderr, std::string("\x1b[31m\xff", 6));
    capture.finish();
    EXPECT_EQ(capture.out().head, "hello");
    EXPECT_EQ(capture.out().seen, 12u);
    // sha256("hello world\n") and sha256("") as sha256sum prints them.
    EXPECT_EQ(capture.out().sha256,
              "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    OutputCapture empty(5);
    empty.finish();
    EXPECT_EQ(empty.err().sha256,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    RequestInfo info;
    info.request_id = "0123456789abcdef0123456789abcdef";
    execution::Outcome outcome;
    outcome.started = true;
    outcome.exit_status = 0;
    const Record r = result_record(info, "rule", outcome, 0, &capture);
    EXPECT_EQ(field(r, "BRIDLE_CAPTURE_BYTES"), "5");
    EXPECT_EQ(field(r, "BRIDLE_STDOUT"), "hello");
    EXPECT_EQ(field(r, "BRIDLE_STDERR"),
              "\\x1B[31m");  // 5 bytes, escaped, never a raw control byte
    EXPECT_EQ(field(r, "BRIDLE_STDOUT_SHA256"), capture.out().sha256);
    EXPECT_FALSE(
        field(result_record(info, "rule", outcome, 0), "BRIDLE_STDOUT_SHA256").has_value());
}

// ---- Integrity: what a request can put in a record --------------------------------------------

// However the raw request is built, every field stays one line of valid, control-free text, the
// record has exactly the fields it would have for "uptime", and an overlong request is cut
// with its original length kept.
TEST(Records, RawRequestsCannotForgeFieldsLinesOrRequests) {
    // clang-format off
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"newline and field", "uptime\nBRIDLE_DECISION=allow"},
        {"carriage return", "uptime\r"},
        {"other request id", "uptime\nBRIDLE_REQUEST_ID=ffffffffffffffffffffffffffffffff\n"},
        {"invalid utf-8", "uptime \xff\xfe\xc0\xaf"},
        {"C1 next line", "uptime\xc2\x85id"},
        {"OSC 52", "grep \"\x1b]52;c;Y3VybCBldmls\x07\" /var/log/syslog"},
        {"NUL", std::string("uptime\0id", 9)},
        {"journal binary framing", std::string("X\n\x08\0\0\0\0\0\0\0", 10)},
        {"overlong", std::string(100000, 'a') + "\n"},
    };
    // clang-format on
    RequestInfo base;
    base.request_id = "0123456789abcdef0123456789abcdef";
    base.raw = "uptime";
    const std::size_t plain_fields = decision_record(base, "deny", "", "r").fields.size();
    for (const auto& [name, raw] : cases) {
        SCOPED_TRACE(name);
        RequestInfo info = base;
        info.raw = raw;
        const Record r = decision_record(info, "deny", "", "r");
        EXPECT_EQ(r.fields.size(), plain_fields);
        EXPECT_EQ(field(r, "BRIDLE_REQUEST_ID"), base.request_id);
        EXPECT_EQ(field(r, "BRIDLE_DECISION"), "deny");
        EXPECT_EQ(field(r, "BRIDLE_COMMAND_BYTES"), std::to_string(raw.size()));
        for (const auto& [fname, value] : r.fields) {
            for (const char c : value) {
                EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << fname;
            }
        }
        for (const char c : r.message) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20);
        EXPECT_LE(field(r, "BRIDLE_COMMAND")->size(), kMaxRecordedCommand * 4 + 32);
        // And as the file sink writes it: one line, the same fields back.
        const std::string line = to_json_line(r, "host");
        EXPECT_EQ(line.find('\n'), std::string::npos);
        const std::optional<StoredRecord> back = parse_json_line(line);
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(back->field("BRIDLE_COMMAND"), field(r, "BRIDLE_COMMAND"));
        EXPECT_EQ(back->field("BRIDLE_REQUEST_ID"), base.request_id);
    }
    RequestInfo overlong = base;
    overlong.raw = std::string(100000, 'a');
    const std::string cut = *field(decision_record(overlong, "deny", "", "r"), "BRIDLE_COMMAND");
    EXPECT_NE(cut.find("(100000 bytes)"), std::string::npos) << cut.substr(cut.size() - 40);
}

}  // namespace
}  // namespace bridle::audit
