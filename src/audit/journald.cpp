// SPDX-License-Identifier: Apache-2.0
// journald's native protocol over a connected datagram socket, so that a journald that is
// missing or not listening is an error rather than a silently dropped record.
//
// Why not sd_journal_sendv: it returns 0 when no journald listens (the record is gone and
// the caller cannot tell). A connect()ed AF_UNIX datagram socket reports ENOENT or
// ECONNREFUSED on send, and DESIGN.md invariant 2 turns that into "refuse to run unaudited".
// Format (systemd's JOURNAL_NATIVE_PROTOCOL.md): one datagram per record; per field either
// `NAME=value\n`, or, for values containing '\n', `NAME\n` + 64-bit little-endian length +
// value + `\n`. Records too large for one datagram go in a sealed memfd passed with
// SCM_RIGHTS, as systemd's own client does.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string_view>

#include "audit/audit.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::audit {
namespace {

constexpr int kSendBuffer = 8 * 1024 * 1024;  // capped by net.core.wmem_max; best effort
constexpr timeval kSendTimeout{10, 0};        // a wedged journald must not hang a request
constexpr std::size_t kMaxFieldName = 64;     // journald's JOURNAL_FIELD_NAME_MAX

using os::errno_text;

// journald's own rule (journal_field_valid): [A-Z0-9_], at most 64 characters, not starting
// with a digit; a leading '_' marks fields only journald itself may set.
bool is_valid_field_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxFieldName) return false;
    if (name.front() == '_' || (name.front() >= '0' && name.front() <= '9')) return false;
    for (char c : name) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    if (value.find('\n') == std::string_view::npos) {
        out += '=';
        out += value;
    } else {
        out += '\n';
        const std::uint64_t size = value.size();
        for (int byte = 0; byte < 8; ++byte) out += static_cast<char>((size >> (8 * byte)) & 0xff);
        out += value;
    }
    out += '\n';
}

Result<std::string> serialize(const Record& record) {
    if (record.priority < 0 || record.priority > 7) {
        return Error{"audit record priority " + std::to_string(record.priority) +
                         " is not a syslog priority (0-7)",
                     ""};
    }
    for (const auto& [name, value] : record.fields) {
        if (!is_valid_field_name(name)) {
            return Error{
                "invalid journal field name \"" + name.substr(0, kMaxFieldName + 1) +
                    "\": use A-Z, 0-9 and _, at most 64 characters, not starting with _ or a digit",
                ""};
        }
    }
    std::string out;
    append_field(out, "MESSAGE", record.message);
    if (!record.message_id.empty()) append_field(out, "MESSAGE_ID", record.message_id);
    append_field(out, "PRIORITY", std::to_string(record.priority));
    append_field(out, "SYSLOG_IDENTIFIER", record.identifier);
    for (const auto& [name, value] : record.fields) append_field(out, name, value);
    return out;
}

class JournaldSink final : public Sink {
  public:
    explicit JournaldSink(std::string socket_path) : path_(std::move(socket_path)) {}
    ~JournaldSink() override { disconnect(); }
    JournaldSink(const JournaldSink&) = delete;
    JournaldSink& operator=(const JournaldSink&) = delete;

    Status write(const Record& record) override {
        try {
            const Result<std::string> payload = serialize(record);
            if (!payload.ok()) return payload.error();  // a programming error: send nothing
            const std::lock_guard<std::mutex> lock(mutex_);
            // Connect lazily; after a failure reconnect once (journald may have restarted,
            // leaving our connected socket pointing at its old, dead endpoint).
            int err = 0;
            for (int attempt = 0; attempt < 2; ++attempt) {
                err = socket_ < 0 ? connect_socket() : 0;
                if (err == 0) err = send_payload(payload.value());
                if (err == 0) return ok_status();
                disconnect();
                if (err == EAGAIN) break;  // journald is wedged (SO_SNDTIMEO): do not wait twice
            }
            return Error{"journald is not accepting records at " + path_ + ": " + errno_text(err) +
                             ": refusing to run unaudited",
                         ""};
        } catch (...) {  // bad_alloc; no exception leaves the module
            return Error{"cannot build the audit record: out of memory: refusing to run unaudited",
                         ""};
        }
    }

  private:
    // Returns 0 or an errno value.
    int connect_socket() {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path_.empty() || path_.size() >= sizeof address.sun_path) return ENAMETOOLONG;
        std::memcpy(address.sun_path, path_.data(), path_.size());
        socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (socket_ < 0) return errno;
        // Failure of either option is harmless: a smaller buffer only moves more records to
        // the memfd path, and without the timeout we are as blocking as sd_journal_sendv.
        ::setsockopt(socket_, SOL_SOCKET, SO_SNDBUF, &kSendBuffer, sizeof kSendBuffer);
        ::setsockopt(socket_, SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof kSendTimeout);
        if (::connect(socket_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            return errno;
        return 0;
    }

    void disconnect() {
        if (socket_ >= 0) ::close(socket_);
        socket_ = -1;
    }

    int send_payload(const std::string& payload) {
        ssize_t sent;
        while ((sent = ::send(socket_, payload.data(), payload.size(), MSG_NOSIGNAL)) < 0 &&
               errno == EINTR) {
        }
        if (sent >= 0) return 0;
        // EMSGSIZE: larger than the socket's send buffer; ENOBUFS: the kernel could not
        // allocate one buffer that large. Both are about size, not about journald.
        if (errno == EMSGSIZE || errno == ENOBUFS) return send_as_memfd(payload);
        return errno;
    }

    // journald accepts a datagram with no payload and one fd: a memfd sealed against any
    // change (it refuses unsealed ones), whose contents are the native-format record.
    int send_as_memfd(const std::string& payload) {
        const int memfd = ::memfd_create("bridle-journal-record", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        if (memfd < 0) return errno;
        int err = os::write_all(memfd, payload) ? 0 : errno;
        if (err == 0 && ::fcntl(memfd, F_ADD_SEALS,
                                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
            err = errno;
        }
        if (err == 0) err = os::send_fd(socket_, memfd, {});
        ::close(memfd);
        return err;
    }

    const std::string path_;
    std::mutex mutex_;
    int socket_ = -1;
};

}  // namespace

std::unique_ptr<Sink> make_journald_sink(std::string socket_path) {
    return std::make_unique<JournaldSink>(std::move(socket_path));
}

}  // namespace bridle::audit
