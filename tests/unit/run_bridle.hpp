// SPDX-License-Identifier: Apache-2.0
// The bridle binary run as a test's child: what it wrote and how it exited.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace bridle::admin {

// What the bridle binary wrote and how it exited, for argv `args` (stdin /dev/null, no
// SSH_ORIGINAL_COMMAND).
struct Ran {
    int status = -1;
    std::string out, err;
};
inline Ran run_bridle(const std::vector<std::string>& args) {
    Ran ran;
    FILE* out = std::tmpfile();
    FILE* err = std::tmpfile();
    if (out == nullptr || err == nullptr) return ran;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::unsetenv("SSH_ORIGINAL_COMMAND");
        const int null = ::open("/dev/null", O_RDONLY);
        if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(::fileno(out), 1) < 0 ||
            ::dup2(::fileno(err), 2) < 0)
            ::_exit(125);
        std::vector<char*> argv{const_cast<char*>(BRIDLE_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(BRIDLE_BINARY, argv.data());
        ::_exit(126);
    }
    int wstatus = 0;
    if (pid > 0 && ::waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus))
        ran.status = WEXITSTATUS(wstatus);
    for (auto [file, text] : {std::pair{out, &ran.out}, std::pair{err, &ran.err}}) {
        std::rewind(file);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file)) > 0;) text->append(buf, n);
        std::fclose(file);
    }
    return ran;
}

}  // namespace bridle::admin
