// SPDX-License-Identifier: Apache-2.0
// The task spool's files (task_spool.hpp): plain `key=value` files in one directory per task,
// and a lock whose holder is the running supervisor (no pid file to trust: pids are reused).
#include "gate/task_spool.hpp"

#include <cerrno>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "os/error.hpp"

namespace bridle::gate::tasks {
namespace {

std::map<std::string, std::string> read_fields(const std::string& path) {
    std::map<std::string, std::string> fields;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t eq = line.find('=');
        if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return fields;
}

std::int64_t number(const std::map<std::string, std::string>& fields, const std::string& name,
                    std::int64_t otherwise) {
    const auto it = fields.find(name);
    if (it == fields.end()) return otherwise;
    try {
        return std::stoll(it->second);
    } catch (...) {  // a spool file is bridle's own; a broken one reads as unknown
        return otherwise;
    }
}

// A directory, created 0700 if missing; a symlink or anything else in its place fails.
Status make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error{
            "cannot create the task spool directory " + path + ": " + os::errno_text(errno), ""};
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
        return Error{"the task spool directory " + path +
                         " is not a directory of this account's (ask the administrator)",
                     ""};
    }
    return ok_status();
}

}  // namespace

bool is_task_id(std::string_view id) {
    return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string key_dir(const std::string& spool, const std::string& key) {
    return spool + "/" + std::to_string(::geteuid()) + "/" + (key.empty() ? "-" : key);
}

Result<std::string> make_key_dir(const std::string& spool, const std::string& key) {
    struct stat st {};
    if (::stat(spool.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Error{"the task spool " + spool +
                         " does not exist (settings.task_spool; ask the administrator)",
                     ""};
    }
    const Status account = make_dir(spool + "/" + std::to_string(::geteuid()));
    if (!account) return account.error();
    const std::string dir = key_dir(spool, key);
    const Status mine = make_dir(dir);
    if (!mine) return mine.error();
    return dir;
}

Status write_fields(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& fields) {
    const std::string temporary = path + ".new";
    {
        std::ofstream out(temporary, std::ios::trunc);
        for (const auto& [name, value] : fields) {
            std::string line = value;
            std::replace(line.begin(), line.end(), '\n', ' ');
            out << name << '=' << line << '\n';
        }
        out.flush();
        if (!out) return Error{"cannot write " + temporary, ""};
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        return Error{"cannot rename " + temporary + ": " + os::errno_text(errno), ""};
    }
    return ok_status();
}

bool is_running(const std::string& task_dir) {
    const std::string lock = task_dir + "/" + kLockFile;
    os::UniqueFd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) return false;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it
    return errno == EWOULDBLOCK;
}

std::optional<Task> read_task(const std::string& dir, const std::string& id) {
    if (!is_task_id(id)) return std::nullopt;
    const std::string task_dir = dir + "/" + id;
    const auto meta = read_fields(task_dir + "/" + kMetaFile);
    if (meta.empty()) return std::nullopt;
    Task t;
    t.id = id;
    t.rule = meta.count("rule") ? meta.at("rule") : "";
    t.command = meta.count("command") ? meta.at("command") : "";
    t.request_id = meta.count("request_id") ? meta.at("request_id") : "";
    t.started = number(meta, "started", 0);
    t.pid = static_cast<pid_t>(number(meta, "pid", -1));
    struct stat st {};
    if (::stat((task_dir + "/" + kOutputFile).c_str(), &st) == 0) {
        t.output_bytes = static_cast<std::uint64_t>(st.st_size);
    }
    // The lock first: a result renamed into place after this check is read below.
    const bool running = is_running(task_dir);
    const auto result = read_fields(task_dir + "/" + kResultFile);
    if (!result.empty()) {
        t.state = result.count("state") ? result.at("state") : "failed";
        t.exit_status = static_cast<int>(number(result, "exit_status", -1));
        t.ended = number(result, "ended", 0);
    } else if (running) {
        t.state = "running";
    } else {
        // No supervisor and no result: it was killed (or the host went down) before it could
        // write one. The command went with it (docs/sandbox.md: no survivor).
        t.state = "lost";
    }
    return t;
}

std::vector<Task> list_tasks(const std::string& dir) {
    std::vector<Task> tasks;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        const std::string name = entry.path().filename().string();
        if (auto t = read_task(dir, name)) tasks.push_back(std::move(*t));
    }
    std::sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) {
        return a.started != b.started ? a.started < b.started : a.id < b.id;
    });
    return tasks;
}

void sweep(const std::string& dir, std::chrono::milliseconds retention) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const std::int64_t keep = retention.count() / 1000;
    for (const Task& t : list_tasks(dir)) {
        if (t.state == "running") continue;
        const std::int64_t end = t.ended != 0 ? t.ended : t.started;
        if (now - end < keep) continue;
        std::error_code error;
        std::filesystem::remove_all(dir + "/" + t.id, error);  // best effort: the next sweep
    }
}

}  // namespace bridle::gate::tasks
