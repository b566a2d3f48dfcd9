// SPDX-License-Identifier: Apache-2.0
// floor: the least that bridle's mechanisms cost on this machine, in a small static C program
// with none of bridle's code, so that the benchmarks can show in the same run how much of
// bridle's time is the machine's price of those mechanisms and how much is bridle's own
// (issue 20: "outside bridle's control"; issue 17, part 4).
//
// usage: floor start                                  exits at once
//        floor deny POLICY CACHE                      exits 77
//        floor {allow|no-namespaces} POLICY CACHE     exits with /bin/true's status
//        floor calls N {bare|allow|no-namespaces}     prints each start's time in ms
//
//   start          the start of a static program: the floor of `bridle --version`.
//   deny           reads the policy and its compiled form, sends the decision's journal record
//                  and exits 77: the least a denial does.
//   allow          the same, then starts /bin/true as bridle starts a rule's command with the
//                  default sandbox: a clone into new PID and IPC namespaces (and a user
//                  namespace unless root), whose init maps its ids and starts the command with
//                  CLONE_VM|CLONE_VFORK; the command sets two resource limits, no_new_privs and
//                  one small seccomp filter and execs; the init reports the status; then the
//                  result's journal record.
//   no-namespaces  the same without the namespaces: the command is started from this program.
//                  bridle's guarantee that nothing of a request outlives it rests on them.
//   calls N MODE   N starts of /bin/true, each timed, in one process: `bare` is fork, exec and
//                  wait (issue 17's reference), the others start it as above, without the files
//                  and the records (a session's call, from a small process).
//
// tests/bench/run.sh links it statically (the floor of a process's start); mcp_setup.sh links it
// as `cc` does by default, as issue 17's reference program always was.
//
// Left out, so that each is a lower bound: hashing the files, parsing, deciding, the exec-once
// listener and its round trip, Landlock, the other filters, the lifeline, signal handling and
// the output relay.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum Mode { kBare, kAllow, kNoNamespaces, kInvalid };

static enum Mode mode_named(const char* name) {
    if (strcmp(name, "bare") == 0) return kBare;
    if (strcmp(name, "allow") == 0) return kAllow;
    if (strcmp(name, "no-namespaces") == 0) return kNoNamespaces;
    return kInvalid;
}

static int read_whole(const char* path) {
    static char buffer[1 << 20];
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
    }
    close(fd);
    return n == 0 ? 0 : -1;
}

// One record in journald's native protocol, as sd_journal_sendv sends it.
static int journal(const char* message) {
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, "/run/systemd/journal/socket");
    char text[256];
    const int length = snprintf(
        text, sizeof text, "MESSAGE=%s\nPRIORITY=6\nSYSLOG_IDENTIFIER=bridle-floor\n", message);
    const ssize_t sent =
        sendto(fd, text, (size_t)length, 0, (struct sockaddr*)&address, sizeof address);
    close(fd);
    return sent == length ? 0 : -1;
}

static int write_file(const char* path, const char* text) {
    const int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    const ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int status_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void exec_true(void) {
    char* const argv[] = {"/bin/true", NULL};
    char* const envp[] = {"PATH=/usr/bin:/bin", NULL};
    execve(argv[0], argv, envp);
    _exit(127);
}

static int command(void* unused) {
    (void)unused;
    const struct rlimit processes = {64, 64}, core = {0, 0};
    if (setrlimit(RLIMIT_NPROC, &processes) != 0 || setrlimit(RLIMIT_CORE, &core) != 0) _exit(126);
    // Deny ptrace, allow the rest: a filter no larger than the smallest real one.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
        _exit(126);
    exec_true();
    return 127;
}

// Starts the command as posix_spawn does (no copy of this process) and returns its status.
static int start_command(void) {
    enum { kStack = 64 * 1024 };
    static char* stack;
    if (stack == NULL) {
        stack = mmap(NULL, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED) return 125;
    }
    const pid_t pid = clone(command, stack + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return 125;
    return status_code(status);
}

static int init(uid_t uid, gid_t gid) {
    if (uid != 0) {
        char line[64];
        if (write_file("/proc/self/setgroups", "deny") != 0) return 125;
        snprintf(line, sizeof line, "%u %u 1\n", uid, uid);
        if (write_file("/proc/self/uid_map", line) != 0) return 125;
        snprintf(line, sizeof line, "%u %u 1\n", gid, gid);
        if (write_file("/proc/self/gid_map", line) != 0) return 125;
    }
    return start_command();
}

// The command in new namespaces, under an init that is this program's copy.
static int start_in_namespaces(void) {
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    const unsigned long flags =
        CLONE_NEWPID | CLONE_NEWIPC | (uid != 0 ? CLONE_NEWUSER : 0) | SIGCHLD;
    const pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid < 0) return 125;
    if (pid == 0) _exit(init(uid, gid));
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 125;
    return status_code(status);
}

static int start_bare(void) {
    const pid_t pid = fork();
    if (pid == 0) exec_true();
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return 125;
    return status_code(status);
}

static int start(enum Mode mode) {
    switch (mode) {
        case kBare:
            return start_bare();
        case kAllow:
            return start_in_namespaces();
        case kNoNamespaces:
            return start_command();
        default:
            return 2;
    }
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int usage(void) {
    fprintf(stderr,
            "usage: floor start | floor deny POLICY CACHE | "
            "floor {allow|no-namespaces} POLICY CACHE | "
            "floor calls N {bare|allow|no-namespaces}\n");
    return 2;
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "start") == 0) return 0;
    if (argc != 4) return usage();
    if (strcmp(argv[1], "calls") == 0) {
        const int n = atoi(argv[2]);
        const enum Mode mode = mode_named(argv[3]);
        if (n <= 0 || mode == kInvalid) return usage();
        for (int i = 0; i < n; i++) {
            const double begin = now_ms();
            if (start(mode) != 0) return 1;
            printf("%.4f\n", now_ms() - begin);
        }
        return 0;
    }
    const int deny = strcmp(argv[1], "deny") == 0;
    const enum Mode mode = mode_named(argv[1]);
    if (!deny && mode != kAllow && mode != kNoNamespaces) return usage();
    if (read_whole(argv[2]) != 0 || read_whole(argv[3]) != 0) return 3;
    if (journal(deny ? "denied" : "allowed") != 0) return 4;
    if (deny) {
        static const char reason[] = "floor: denied\n";
        (void)!write(2, reason, sizeof reason - 1);
        return 77;
    }
    const int code = start(mode);
    if (journal("finished") != 0) return 4;
    return code;
}
