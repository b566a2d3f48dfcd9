/* SPDX-License-Identifier: Apache-2.0
 * exec_log_probe ATTACK [N]: run as the allowed command in a sandbox with exec_log: true, try to
 * stall, confuse or slip past the supervisor that records every execve/execveat, and print one
 * line per attempt ("ATTEMPT <what> errno=<e>"); the test (tests/sandbox/syscalls_test.cpp,
 * ExecLog.*) judges from outside, from bridle's log and the time the request took.
 *
 * Attacks:
 *   pointers      execve with paths the supervisor must read from this process's memory and
 *                 cannot, or only partly: NULL, an address in the kernel's half, a string that
 *                 runs into an unmapped page, a page of a file truncated under its mapping
 *                 (reading it faults), a name longer than PATH_MAX; then a relative name.
 *   userfaultfd   the way to make a read of this memory wait forever: must be denied.
 *   fexecve       execveat(fd, "", AT_EMPTY_PATH): the path is only in the fd.
 *   thread        execve from a thread that is not the leader (the notification names the
 *                 thread's id).
 *   flood N       N failing execve calls in a row: the log stays bounded, bridle keeps up.
 *   race N        N children exec a path that a thread of the parent rewrites all the time
 *                 (shared memory): every exec must still be recorded, whatever path it shows.
 *   nondumpable   makes itself non-dumpable, then execs: the memory bridle reads is then
 *                 closed to a supervisor without CAP_SYS_PTRACE over it.
 * Exit 0 when done; 100: usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char* const kEnv[] = {NULL};

static int try_exec(const char* path) {
    char* argv[] = {(char*)"probe-child", NULL};
    syscall(SYS_execve, path, argv, kEnv); /* raw: glibc would not pass NULL through */
    return errno;
}

static void report(const char* what, int err) {
    printf("ATTEMPT %s errno=%d\n", what, err);
    fflush(stdout);
}

static int pointers(void) {
    const long page = sysconf(_SC_PAGESIZE);
    report("null", try_exec(NULL));
    report("kernel-address", try_exec((const char*)0xffffffffff600000UL));
    /* A string that fills a page and runs into the next, unmapped one. */
    char* two =
        mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED) return 1;
    memset(two, 'a', (size_t)page);
    two[0] = '/';
    munmap(two + page, (size_t)page);
    report("runs-into-unmapped", try_exec(two));
    /* A file mapping whose file was truncated: any read of the page faults (SIGBUS here,
     * EFAULT for bridle's read). */
    char name[] = "/tmp/exec-log-probe.XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0 && ftruncate(fd, page) == 0) {
        char* mapped = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
        if (mapped != MAP_FAILED && ftruncate(fd, 0) == 0) {
            report("truncated-file-mapping", try_exec(mapped));
        }
        unlink(name);
        close(fd);
    }
    /* Longer than PATH_MAX: the kernel refuses it, bridle reads at most PATH_MAX bytes. */
    const size_t long_size = 3 * 4096;
    char* longer = malloc(long_size + 1);
    if (longer == NULL) return 1;
    memset(longer, 'b', long_size);
    longer[0] = '/';
    longer[long_size] = '\0';
    report("longer-than-path-max", try_exec(longer));
    free(longer);
    report("relative", try_exec("no-such-program"));
    return 0;
}

static int userfaultfd_attempt(void) {
    report("userfaultfd", syscall(SYS_userfaultfd, 0) < 0 ? errno : 0);
    report("userfaultfd-user-mode-only",
           syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */) < 0 ? errno : 0);
    return 0;
}

static int run_child(void (*body)(void)) {
    const pid_t pid = fork();
    if (pid < 0) return errno;
    if (pid == 0) {
        body();
        _exit(120);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void fexecve_body(void) {
    const int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
    char* argv[] = {(char*)"true", NULL};
    syscall(SYS_execveat, fd, "", argv, kEnv, AT_EMPTY_PATH);
}

static void* exec_from_thread(void* unused) {
    (void)unused;
    try_exec("/bin/true");
    return NULL;
}

static void thread_body(void) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, exec_from_thread, NULL) != 0) return;
    pthread_join(thread, NULL); /* the exec ends the whole process first */
}

static int flood(long n) {
    int last = 0;
    for (long i = 0; i < n; ++i) last = try_exec("/nonexistent/bridle-flood");
    report("flood", last);
    return 0;
}

/* Shared with the children: a thread of the parent flips it between two names. */
static char* shared_path;
static volatile int stop_flipping;

static void* flip(void* unused) {
    (void)unused;
    static const char a[] = "/bin/true\0\0\0\0\0\0\0\0";
    static const char b[] = "/nonexistent/xyz";
    while (!stop_flipping) {
        memcpy(shared_path, a, sizeof a);
        memcpy(shared_path, b, sizeof b);
    }
    return NULL;
}

static int race(long n) {
    shared_path = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared_path == MAP_FAILED) return 1;
    strcpy(shared_path, "/bin/true");
    pthread_t thread;
    if (pthread_create(&thread, NULL, flip, NULL) != 0) return 1;
    long ran = 0, failed = 0;
    for (long i = 0; i < n; ++i) {
        const pid_t pid = fork();
        if (pid == 0) {
            try_exec(shared_path);
            _exit(3);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ++ran;
        else
            ++failed;
    }
    stop_flipping = 1;
    pthread_join(thread, NULL);
    printf("RACE ran=%ld failed=%ld\n", ran, failed);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) return 100;
    const long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (strcmp(argv[1], "pointers") == 0) return pointers();
    if (strcmp(argv[1], "userfaultfd") == 0) return userfaultfd_attempt();
    if (strcmp(argv[1], "fexecve") == 0) {
        report("fexecve", run_child(fexecve_body));
        return 0;
    }
    if (strcmp(argv[1], "thread") == 0) {
        report("thread", run_child(thread_body));
        return 0;
    }
    if (strcmp(argv[1], "flood") == 0) return flood(n);
    if (strcmp(argv[1], "race") == 0) return race(n);
    if (strcmp(argv[1], "nondumpable") == 0) {
        report("set-nondumpable", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : errno);
        report("exec-while-nondumpable", try_exec("/nonexistent/after-nondumpable"));
        return 0;
    }
    return 100;
}
