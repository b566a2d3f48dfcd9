// SPDX-License-Identifier: Apache-2.0
// Who besides root could change a file or directory: the one check behind every file bridle
// trusts (the policy and its directories, the authorized keys file, the binary sudo starts).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace bridle::os {

// Each way someone other than root (or `also_trusted`, e.g. the caller's own uid when it is
// not root) could change a file with status `st`, as a phrase to follow its path: "is owned by
// uid 1000, not root", "is writable by others (mode 0666)", "is writable by group 4 (mode
// 0664)". Writable by others says all there is to say: group-writable is named only alone.
// Empty when only root can. The caller checks the status it got from the fd it will use.
std::vector<std::string> ownership_problems(const struct stat& st, uid_t also_trusted = 0);

}  // namespace bridle::os
