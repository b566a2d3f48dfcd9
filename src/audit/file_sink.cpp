// SPDX-License-Identifier: Apache-2.0
// The file sink: one JSON object a line, written through spdlog's rotating file sink, for
// hosts without journald (settings.audit: file or both).
//
// Every request is its own bridle process, so many processes append to the same file at
// once, and any of them may rotate it. spdlog's sink is thread-safe, not process-safe: it
// learns the file's size when it opens it and renames files without a lock. So each write
// takes an exclusive flock(2) on the file's directory, opens a fresh sink (which reads the
// current size), writes and flushes one line, and closes it before unlocking. Under the lock
// no other bridle appends or rotates, so no line is split, lost to a rename, or counted
// against the wrong size. A record costs one open and one close: bridle writes two per
// request, so that is cheap next to the fork and exec it records.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <nlohmann/json.hpp>

#include "audit/audit.hpp"
#include "os/error.hpp"

namespace bridle::audit {
namespace {

using os::errno_text;

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "";
    return name;
}

class FileSink final : public Sink {
  public:
    explicit FileSink(FileSinkOptions options) : options_(std::move(options)), host_(host_name()) {}

    Status write(const Record& record) override {
        try {
            const std::string line = to_json_line(record, host_);
            const std::lock_guard<std::mutex> lock(mutex_);
            return append(line);
        } catch (const std::exception& e) {  // bad_alloc; nothing leaves the module
            return refusal(std::string("cannot build the record: ") + e.what());
        }
    }

  private:
    Status refusal(const std::string& why) const {
        return Error{"the audit file " + options_.path + " is not accepting records: " + why +
                         ": refusing to run unaudited",
                     ""};
    }

    Status append(const std::string& line) {
        const std::string directory = directory_of(options_.path);
        const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
            return refusal("cannot open its directory " + directory + ": " + errno_text(errno));
        int rc;
        while ((rc = ::flock(dir_fd, LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (rc != 0) {
            const int err = errno;
            ::close(dir_fd);
            return refusal("cannot lock its directory: " + errno_text(err));
        }
        // spdlog's rotation truncates the live file when it cannot rename it (rotate_() in
        // rotating_file_sink-inl.h): records would be lost. A directory we may not write is
        // the way that happens, so it is refused before anything is written.
        if (::faccessat(dir_fd, ".", W_OK, AT_EACCESS) != 0) {
            const int err = errno;
            ::close(dir_fd);
            return refusal("its directory " + directory +
                           " is not writable (rotation would fail): " + errno_text(err));
        }
        Status status = ok_status();
        try {
            // Opened under the lock: the sink reads the file's real size now. spdlog throws
            // spdlog_ex on every failure to open, write, flush or rename.
            spdlog::sinks::rotating_file_sink_st sink(options_.path, options_.max_size,
                                                      options_.max_files, false);
            sink.set_pattern("%v");
            const spdlog::details::log_msg message(spdlog::source_loc{}, "bridle",
                                                   spdlog::level::info, line);
            sink.log(message);
            sink.flush();
        } catch (const std::exception& e) {
            status = refusal(e.what());
        }
        ::close(dir_fd);  // releases the lock, after the sink closed the file
        return status;
    }

    const FileSinkOptions options_;
    const std::string host_;
    std::mutex mutex_;
};

class TeeSink final : public Sink {
  public:
    TeeSink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> second)
        : first_(std::move(first)), second_(std::move(second)) {}
    // Both must take the record: `both` means the trail is complete in each store.
    Status write(const Record& record) override {
        Status a = first_->write(record);
        if (!a) return a;
        return second_->write(record);
    }

  private:
    std::unique_ptr<Sink> first_, second_;
};

}  // namespace

std::string to_json_line(const Record& record, const std::string& host) {
    using namespace std::chrono;
    const auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    // The journal's own names, so that `bridle audit` reads both stores the same way.
    nlohmann::ordered_json line;
    line["__REALTIME_TIMESTAMP"] = std::to_string(now);
    line["_HOSTNAME"] = host;
    line["_PID"] = std::to_string(::getpid());
    line["_UID"] = std::to_string(::getuid());
    line["MESSAGE"] = record.message;
    if (!record.message_id.empty()) line["MESSAGE_ID"] = record.message_id;
    line["PRIORITY"] = std::to_string(record.priority);
    line["SYSLOG_IDENTIFIER"] = record.identifier;
    for (const auto& [name, value] : record.fields) line[name] = value;
    // The builders escape every untrusted value, so this is valid UTF-8 with no raw newline;
    // `replace` keeps a record that is not from being lost. JSON escapes control characters,
    // so one record is always one line.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::unique_ptr<Sink> make_file_sink(FileSinkOptions options) {
    return std::make_unique<FileSink>(std::move(options));
}

std::unique_ptr<Sink> make_tee_sink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> second) {
    return std::make_unique<TeeSink>(std::move(first), std::move(second));
}

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace bridle::audit
