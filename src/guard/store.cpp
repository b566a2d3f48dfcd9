// SPDX-License-Identifier: Apache-2.0
// The key's counters on disk (guard.hpp): a directory per key with a state lock, the minute's
// and the day's counts, and one file per concurrent slot. A slot is taken by flock(2) on its
// file: the kernel drops the lock when the last descriptor of the open file is closed, which
// includes the death of its holder by SIGKILL, so a killed request never keeps its slot.
#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "guard/guard.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::guard {
namespace {

constexpr const char* kLockFile = "lock";
constexpr const char* kMinuteFile = "minute";
constexpr const char* kDayFile = "day";
constexpr std::size_t kMaxStateBytes = 512 * 1024;  // 10000 times of 20 digits, and room
// The state lock is held for a few file operations; one held longer is a stuck holder (or a
// process that should not hold it): refuse rather than wait without end.
constexpr auto kLockWait = std::chrono::seconds(3);

Error failure(const std::string& what, const std::string& path, int err) {
    return Error{"guardrails: cannot " + what + " " + path + ": " + os::errno_text(err) +
                     " (ask the administrator)",
                 ""};
}

Status make_private_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return failure("create", dir, errno);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & 077) != 0) {
        return Error{"guardrails: " + dir +
                         " is not a private directory of this account's (ask the administrator)",
                     ""};
    }
    return ok_status();
}

Result<os::UniqueFd> open_file(const std::string& path, int flags) {
    os::UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return failure("open", path, errno);
    return fd;
}

Result<std::string> read_state(const std::string& path) {
    os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::string();
        return failure("open", path, errno);
    }
    std::string text;
    // 4 KiB is a guess (a few hundred times); a larger file is read to its end all the same.
    const os::ReadEnd end = os::read_to_end(fd.get(), text, 4096, kMaxStateBytes);
    if (end == os::ReadEnd::kEnd) return text;
    if (end == os::ReadEnd::kPastLimit) {
        return Error{"guardrails: " + path + " is too large (ask the administrator)", ""};
    }
    return failure("read", path, errno);
}

// A temporary file renamed over the old one: a reader sees the old count or the new one.
Status write_state(const std::string& path, const std::string& text) {
    const std::string temporary = path + ".new";
    Result<os::UniqueFd> fd = open_file(temporary, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd) return fd.error();
    if (!os::write_all(fd.value().get(), text)) return failure("write", temporary, errno);
    if (::rename(temporary.c_str(), path.c_str()) != 0) return failure("rename", temporary, errno);
    return ok_status();
}

Error damaged(const std::string& path) {
    return Error{"guardrails: " + path +
                     " is not a counter bridle wrote (ask the administrator to remove it)",
                 ""};
}

// A free slot among slot.0 .. slot.(cap-1), locked; an empty fd when all are taken.
Result<os::UniqueFd> take_slot(const std::string& dir, std::uint64_t cap) {
    for (std::uint64_t i = 0; i < cap; ++i) {
        const std::string path = dir + "/slot." + std::to_string(i);
        Result<os::UniqueFd> fd = open_file(path, O_RDWR | O_CREAT);
        if (!fd) return fd.error();
        if (::flock(fd.value().get(), LOCK_EX | LOCK_NB) == 0) return std::move(fd.value());
        if (errno != EWOULDBLOCK) return failure("lock", path, errno);
    }
    return os::UniqueFd();
}

}  // namespace

Result<Admission> admit(const std::string& dir, const policy::Guardrail& limits,
                        std::int64_t now_ms) {
    if (const Status made = make_private_dir(dir); !made) return made.error();
    const std::string lock_path = dir + "/" + kLockFile;
    Result<os::UniqueFd> lock = open_file(lock_path, O_RDWR | O_CREAT);
    if (!lock) return lock.error();
    const auto deadline = std::chrono::steady_clock::now() + kLockWait;
    while (::flock(lock.value().get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) return failure("lock", lock_path, errno);
        if (std::chrono::steady_clock::now() > deadline) {
            return Error{"guardrails: " + lock_path + " stays locked (ask the administrator)", ""};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Under the lock: every connection of the key reads and writes the counts in turn. The
    // longest wait is checked first, so that the time to retry is the one that holds.
    Admission a;
    const std::string day_path = dir + "/" + kDayFile, minute_path = dir + "/" + kMinuteFile;
    std::optional<DayCount> day;
    if (limits.per_day) {
        Result<std::string> text = read_state(day_path);
        if (!text) return text.error();
        day = parse_day(text.value());
        if (!day) return damaged(day_path);
        a.over = check_day(*day, now_ms, *limits.per_day);
    }
    std::optional<std::vector<std::int64_t>> times;
    if (limits.per_minute && !a.over) {
        Result<std::string> text = read_state(minute_path);
        if (!text) return text.error();
        times = parse_times(text.value());
        if (!times) return damaged(minute_path);
        a.over = check_minute(*times, now_ms, *limits.per_minute);
    }
    if (limits.concurrent && !a.over) {
        Result<os::UniqueFd> slot = take_slot(dir, *limits.concurrent);
        if (!slot) return slot.error();
        a.slot = std::move(slot.value());
        if (a.slot.get() < 0) a.over = Over{"concurrent", *limits.concurrent, kSlotRetryMs};
    }
    if (a.over) return a;  // turned away: it holds no slot and counts nowhere
    // Admitted: count it.
    if (day) {
        ++day->count;
        if (const Status s = write_state(day_path, format_day(*day)); !s) return s.error();
    }
    if (times) {
        times->push_back(std::max(now_ms, times->empty() ? now_ms : times->back()));
        if (const Status s = write_state(minute_path, format_times(*times)); !s) return s.error();
    }
    return a;
}

}  // namespace bridle::guard
