// SPDX-License-Identifier: Apache-2.0
// fork_exec N: the floor of a session call (issue 17, part 4): N times fork, execve of
// /bin/true and waitpid, by a program that does nothing else; prints each time in
// milliseconds, one per line. tests/bench/mcp.sh compiles it and runs it between the session's
// calls, so that both are measured in the same minutes.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 1;
    for (int i = 0; i < n; i++) {
        const double start = now_ms();
        const pid_t pid = fork();
        if (pid == 0) {
            char* const args[] = {"/bin/true", NULL};
            execv(args[0], args);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            return 1;
        }
        printf("%.4f\n", now_ms() - start);
    }
    return 0;
}
