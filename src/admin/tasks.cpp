// SPDX-License-Identifier: Apache-2.0
// `bridle tasks` (tasks.hpp): walks settings.task_spool/UID/KEY with the gate's spool reader.
#include "admin/tasks.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "admin/admin.hpp"
#include "common/exit_code.hpp"
#include "gate/task_spool.hpp"

namespace bridle::admin {

int list_all_tasks(const std::string& policy_file) {
    const Result<policy::Policy> loaded = load_and_report(policy_file, false);
    if (!loaded) return to_int(ExitCode::kConfig);
    const std::string& spool = loaded.value().settings.task_spool;
    std::cout << "UID KEY ID STATE RULE STARTED COMMAND\n";
    std::error_code error;
    std::vector<std::filesystem::path> accounts, keys;
    for (const auto& a : std::filesystem::directory_iterator(spool, error)) accounts.push_back(a);
    std::sort(accounts.begin(), accounts.end());
    for (const auto& account : accounts) {
        keys.clear();
        for (const auto& k : std::filesystem::directory_iterator(account, error)) keys.push_back(k);
        std::sort(keys.begin(), keys.end());
        for (const auto& key : keys) {
            for (const gate::tasks::Task& t : gate::tasks::list_tasks(key.string())) {
                std::cout << account.filename().string() << ' ' << key.filename().string() << ' '
                          << t.id << ' ' << t.state << ' ' << t.rule << ' ' << t.started << ' '
                          << t.command << '\n';
            }
        }
    }
    return to_int(ExitCode::kOk);
}

}  // namespace bridle::admin
