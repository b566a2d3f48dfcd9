// SPDX-License-Identifier: Apache-2.0
// The spool of tasks (`task start`): one directory per account, key and task, holding the
// task's request, its output and its result; which task is running is who holds its lock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "os/fd.hpp"

namespace bridle::gate::tasks {

// The files of one task's directory.
constexpr const char* kLockFile = "lock";      // the supervisor holds flock(LOCK_EX) on it
constexpr const char* kMetaFile = "meta";      // written before the supervisor starts
constexpr const char* kOutputFile = "output";  // stdout and stderr, as they came
constexpr const char* kResultFile = "result";  // written (renamed into place) at the end
constexpr const char* kCancelFile = "cancel";  // `task cancel` was asked

// One task as `task list` and `task status` show it.
struct Task {
    std::string id;
    std::string state;  // running, exited, timed-out, idle-timeout, cancelled, failed, lost
    std::string rule, command, request_id;
    std::int64_t started = 0, ended = 0;  // seconds since the epoch (ended: 0 while running)
    int exit_status = -1;                 // bridle's exit status for the run, once ended
    std::uint64_t output_bytes = 0;
    pid_t pid = -1;  // the supervisor
};

// A task id: 16 lowercase hex digits, nothing else (a path component the client sends).
bool is_task_id(std::string_view id);

// SPOOL/UID/KEY ("-" for a request without --key): the tasks of one key of this account.
std::string key_dir(const std::string& spool, const std::string& key);

// key_dir(), created (0700) when missing; its parents must be directories, not symlinks.
Result<std::string> make_key_dir(const std::string& spool, const std::string& key);

// `key=value` lines, values with no newline (escaped by the writer); written to a temporary
// file and renamed into place.
Status write_fields(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& fields);

// Whether a supervisor still holds the task's lock.
bool is_running(const std::string& task_dir);

// The task in `dir` (key_dir()/id), or nullopt when there is none.
std::optional<Task> read_task(const std::string& dir, const std::string& id);

// Every task of the key, oldest first.
std::vector<Task> list_tasks(const std::string& dir);

// Removes the tasks of the key that ended more than `retention` ago (and lost ones as old).
void sweep(const std::string& dir, std::chrono::milliseconds retention);

}  // namespace bridle::gate::tasks
