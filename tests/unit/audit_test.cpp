// SPDX-License-Identifier: Apache-2.0
// The journald sink against a real AF_UNIX datagram socket standing in for journald: native
// format on the wire, the memfd path for large records, and refusal when nobody listens.
#include "audit/audit.hpp"
#include "audit/records.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

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
        if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
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
    const std::vector<Case> cases = {
        {"2 MiB", 2 * 1024 * 1024, effective_send_buffer() <= 2 * 1024 * 1024},
        {"past the send buffer",
         std::max<std::size_t>(2 * 1024 * 1024, effective_send_buffer() + 1), true},
    };
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
    for (const char* name : {"BRIDLE_SANDBOX", "BRIDLE_SECCOMP", "BRIDLE_EXEC_ONCE", "BRIDLE_LANDLOCK",
                             "BRIDLE_EXEC_BLOCKED"}) {
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

}  // namespace
}  // namespace bridle::audit
