/* SPDX-License-Identifier: Apache-2.0
 * attack_supervisor ATTACK [FILE]: run as the ALLOWED COMMAND inside bridle's sandbox, try ONE
 * attack of issue 12 on the processes that supervise it, print one line and exit:
 *     ATTACK <name> blocked errno=<e>     exit 0: every attempt failed
 *     ATTACK <name> SUCCEEDED             exit 1: at least one attempt worked
 * Attacks that the helper cannot judge from inside (kill-all, shm, sleeper) print
 * `ATTACK <name> sent|created ...` and exit 0: the integration test decides from outside.
 * Details (one line per target and attempt) go to stderr.
 *
 * The targets: the parent (getppid(), when it is not 0 or 1: in a PID namespace it may be
 * either) and every process in /proc whose comm is "bridle" (the request's supervisor, other
 * requests' supervisors, the MCP session process, a run_as target side), whatever its uid:
 * a target the kernel protects by uid simply fails with EPERM. PID 1 is never a target: in
 * the request's own PID namespace it is the request's init, part of the request (and the
 * kernel drops SIGKILL and SIGSTOP to it from inside, with kill() returning 0). A pid given
 * from outside would mean another process (or none) inside a PID namespace, so none is
 * taken: with a private /proc and nothing else visible, the attack reports ESRCH (3).
 *
 * Every attack on a target runs in a grandchild that forked twice and called setsid() (a new
 * session and process group, reparented away from the command: what a real escape does to
 * outlive the request); it reports through a pipe. The attacks leave their targets as they
 * were where they can: memory is written with the byte already there, limits and priority are
 * set to their current values, a stopped target gets SIGCONT at once. `kill` and `kill-all`
 * really send SIGKILL.
 *
 * Attacks: mem-write environ fd ptrace kill stop kill-all prlimit pidfd shm setflags FILE
 * forkbomb sleeper. Exit 100: usage. In the spirit of bubblewrap's tests/try-syscall.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define MAX_TARGETS 64
static pid_t targets[MAX_TARGETS];
static int n_targets;

static void add_target(pid_t pid) {
    if (pid <= 1 || pid == getpid() || n_targets == MAX_TARGETS) return;
    for (int i = 0; i < n_targets; i++)
        if (targets[i] == pid) return;
    targets[n_targets++] = pid;
}

/* Every process named bridle that this /proc shows, and the parent last (so that a kill
 * reaches the others before it ends the request's own supervisor). */
static void find_targets(void) {
    DIR* proc = opendir("/proc"); /* Landlock may hide it (logs): then the parent only */
    struct dirent* e;
    while (proc && (e = readdir(proc))) {
        char* end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[64], comm[32] = "";
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n = read(fd, comm, sizeof comm - 1);
        close(fd);
        if (n > 0 && strcmp(comm, "bridle\n") == 0) add_target((pid_t)pid);
    }
    if (proc) closedir(proc);
    pid_t parent = getppid();
    for (int i = 0; i < n_targets; i++)
        if (targets[i] == parent) {
            targets[i] = targets[--n_targets];
            break;
        }
    add_target(parent);
}

/* The result of one attempt: 0 (it worked) or the errno it failed with. */
typedef int (*attempt_fn)(pid_t target);

/* Run fn(target) in a grandchild that called setsid(); its result comes back through a pipe.
 * 255: the grandchild never answered (killed, or the sandbox stopped the fork). */
static int in_grandchild(attempt_fn fn, pid_t target) {
    int p[2];
    if (pipe(p) < 0) return errno;
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    if (child == 0) {
        close(p[0]);
        if (fork() == 0) {
            setsid();
            int r = fn(target);
            (void)!write(p[1], &r, sizeof r);
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    waitpid(child, NULL, 0);
    int r = 255;
    if (read(p[0], &r, sizeof r) != sizeof r) r = 255;
    close(p[0]);
    return r;
}

/* mem-write: /proc/PID/mem opened for writing lets the command rewrite the supervisor (the
 * memory takeover). Success = the open; the byte at the start of the first writable mapping
 * is then written back unchanged. */
static int mem_write(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR);
    if (fd < 0) return errno;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE* maps = fopen(path, "r");
    unsigned long start = 0;
    char line[512], perms[8];
    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%*x %7s", &start, perms) == 2 && perms[1] == 'w') break;
    if (maps) fclose(maps);
    unsigned char byte;
    if (start && pread(fd, &byte, 1, (off_t)start) == 1 && pwrite(fd, &byte, 1, (off_t)start) == 1)
        fprintf(stderr, "  mem-write %d: wrote 1 byte at %#lx\n", pid, start);
    close(fd);
    return 0;
}

/* environ: the supervisor's environment (the request's secrets) through /proc. */
static int environ_read(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    ssize_t n = read(fd, buf, sizeof buf);
    int e = n < 0 ? errno : 0;
    close(fd);
    return e;
}

/* fd: reopen the supervisor's fds through /proc/PID/fd/N (its files, pipes, journal socket).
 * Listing the directory alone needs only the owner's uid, so success = an entry reopened
 * (sockets give ENXIO: every entry is tried); otherwise the first errno. */
static int fd_reopen(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR* d = opendir(path);
    if (!d) return errno;
    struct dirent* e;
    int opened = 0, listed = 0, first_errno = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        listed++;
        char entry[300];
        snprintf(entry, sizeof entry, "/proc/%d/fd/%s", pid, e->d_name);
        int fd = open(entry, O_RDONLY | O_NONBLOCK);
        if (fd >= 0) {
            opened++;
            close(fd);
        } else if (!first_errno) {
            first_errno = errno;
        }
    }
    closedir(d);
    fprintf(stderr, "  fd %d: listed %d, reopened %d\n", pid, listed, opened);
    if (opened) return 0;
    return first_errno ? first_errno : ENOENT;
}

/* ptrace: attach (then detach at once), and seize. */
static int ptrace_attach(pid_t pid) {
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return 0;
    }
    int e = errno;
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return 0;
    }
    return e;
}

/* kill: a signal that ends the supervisor (kill(pid, 0) alone is no attack). */
static int kill_it(pid_t pid) {
    return kill(pid, SIGKILL) == 0 ? 0 : errno;
}

/* The parent of pid, from /proc/PID/stat (0: unknown). */
static pid_t parent_of(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    int ppid = 0;
    if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1) return 0;
    return (pid_t)ppid;
}

/* stop: SIGSTOP freezes the supervisor's timeout and disconnect handling; SIGCONT right
 * after, so the request can end, and to its ancestors too (sudo stops itself when its
 * command stops, and would stay stopped). */
static int stop_it(pid_t pid) {
    if (kill(pid, SIGSTOP) != 0) return errno;
    usleep(100 * 1000);
    kill(pid, SIGCONT);
    for (int round = 0; round < 5; round++) {
        usleep(100 * 1000);
        for (pid_t p = parent_of(pid); p > 1; p = parent_of(p)) kill(p, SIGCONT);
    }
    return 0;
}

/* prlimit: read, then set RLIMIT_NOFILE (to what it was) and the nice value (to what it
 * was). Either one working is the attack working. */
static int prlimit_it(pid_t pid) {
    struct rlimit old;
    int e = 0;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &old) == 0 &&
        prlimit(pid, RLIMIT_NOFILE, &old, NULL) == 0)
        return 0;
    e = errno;
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, (id_t)pid);
    if (errno == 0 && setpriority(PRIO_PROCESS, (id_t)pid, prio) == 0) {
        fprintf(stderr, "  prlimit %d: setpriority worked, prlimit64 errno=%d\n", pid, e);
        return 0;
    }
    return e;
}

/* pidfd: pidfd_open(pid), and pidfd_send_signal on an fd of /proc/PID (the other way to
 * name a process by fd). SIGCONT: harmless, but needs the same permission as any signal. */
static int pidfd_it(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        close((int)fd);
        return 0;
    }
    int e = errno;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        long r = syscall(SYS_pidfd_send_signal, dfd, SIGCONT, NULL, 0);
        int e2 = errno;
        close(dfd);
        if (r == 0) return 0;
        fprintf(stderr, "  pidfd %d: pidfd_open errno=%d, pidfd_send_signal errno=%d\n", pid, e,
                e2);
    }
    return e;
}

/* One attack on every target: SUCCEEDED when any attempt worked; otherwise the first errno. */
static int attack_targets(const char* name, attempt_fn fn) {
    int worked = 0, first_errno = ESRCH;
    for (int i = 0; i < n_targets; i++) {
        int r = in_grandchild(fn, targets[i]);
        fprintf(stderr, "  %s %d: %s (%d)\n", name, targets[i], r == 0 ? "worked" : strerror(r), r);
        if (r == 0)
            worked = 1;
        else if (i == 0 || first_errno == ESRCH)
            first_errno = r;
    }
    if (n_targets == 0) fprintf(stderr, "  %s: no target visible\n", name);
    if (worked) {
        printf("ATTACK %s SUCCEEDED\n", name);
        return 1;
    }
    printf("ATTACK %s blocked errno=%d\n", name, first_errno);
    return 0;
}

/* kill-all: kill(-1, SIGKILL) from a setsid grandchild reaches every process the command
 * may signal, the helper included; its return value says nothing about the supervisor, so
 * the grandchild prints what it got and the test checks that the request still ended. */
static int kill_all(void) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            setsid();
            int r = kill(-1, SIGKILL);
            printf("ATTACK kill-all sent rc=%d errno=%d\n", r, r == 0 ? 0 : errno);
            fflush(stdout);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    sleep(1); /* the grandchild's kill, if it works, ends here */
    return 0;
}

/* shm: a SysV segment (private and fixed key) and a POSIX queue that the command leaves
 * behind; they must not outlive the request (the test looks from outside, as root). */
static int shm(void) {
    int priv = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0666);
    int e1 = priv < 0 ? errno : 0;
    key_t key = 0x62726964; /* "brid" */
    int fixed = shmget(key, 4096, IPC_CREAT | 0666);
    int e2 = fixed < 0 ? errno : 0;
    mqd_t mq = mq_open("/bridle-probe", O_CREAT | O_RDWR, 0666, NULL);
    int e3 = mq == (mqd_t)-1 ? errno : 0;
    printf("ATTACK shm created private=%d/%d key=%#x fixed=%d/%d mq=%d\n", priv, e1, (unsigned)key,
           fixed, e2, e3);
    return 0;
}

/* setflags FILE: change inode flags (and fsxattr) through a read-only fd; no-write must
 * refuse both with EPERM. The flags are set to what they are. */
static int setflags(const char* file) {
    int fd = open(file, O_RDONLY);
    if (fd < 0) {
        printf("ATTACK setflags cannot-open errno=%d\n", errno);
        return 100;
    }
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
        fprintf(stderr, "  setflags: GETFLAGS errno=%d\n", errno);
    int r1 = ioctl(fd, FS_IOC_SETFLAGS, &flags), e1 = r1 < 0 ? errno : 0;
    struct fsxattr xa;
    memset(&xa, 0, sizeof xa);
    if (ioctl(fd, FS_IOC_FSGETXATTR, &xa) < 0)
        fprintf(stderr, "  setflags: FSGETXATTR errno=%d\n", errno);
    int r2 = ioctl(fd, FS_IOC_FSSETXATTR, &xa), e2 = r2 < 0 ? errno : 0;
    close(fd);
    fprintf(stderr, "  setflags: SETFLAGS errno=%d FSSETXATTR errno=%d\n", e1, e2);
    if (r1 == 0 || r2 == 0) {
        printf("ATTACK setflags SUCCEEDED\n");
        return 1;
    }
    printf("ATTACK setflags blocked errno=%d fsxattr-errno=%d\n", e1, e2);
    return 0;
}

/* forkbomb: fork (children setsid() and sleep, so only a kernel bound or bridle's own
 * clean-up ends them), then threads, for up to ~3 s or 10000 tasks. Blocked = the kernel
 * refused (EAGAIN) before 10000. The children are left for bridle to remove. */
#define BOMB_CAP 10000
static void* sleeper_thread(void* arg) {
    (void)arg;
    pause();
    return NULL;
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
static int forkbomb(void) {
    double start = now();
    int procs = 0, threads = 0, e = 0;
    fflush(stdout);
    while (procs < BOMB_CAP && now() - start < 2.0) {
        pid_t pid = fork();
        if (pid == 0) {
            setsid();
            for (;;) pause();
        }
        if (pid < 0) {
            e = errno;
            break;
        }
        procs++;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 65536);
    int te = 0;
    while (procs + threads < BOMB_CAP && now() - start < 3.0) {
        pthread_t t;
        te = pthread_create(&t, &attr, sleeper_thread, NULL);
        if (te) break;
        threads++;
    }
    int total = procs + threads;
    if (total >= BOMB_CAP || (e == 0 && te == 0)) {
        printf("ATTACK forkbomb SUCCEEDED procs=%d threads=%d fork-errno=%d thread-errno=%d\n",
               procs, threads, e, te);
        fflush(stdout);
        _exit(1);
    }
    printf("ATTACK forkbomb blocked errno=%d procs=%d threads=%d thread-errno=%d\n", e, procs,
           threads, te);
    fflush(stdout);
    _exit(0); /* the threads would keep the process alive */
}

/* sleeper: a setsid grandchild that sleeps 30 s with no fd of the request's, for the test
 * that kills bridle from outside; the helper itself sleeps too. */
static int sleeper(void) {
    printf("ATTACK sleeper started\n");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            setsid();
            for (int fd = 0; fd < 3; fd++) close(fd);
            sleep(30);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    sleep(30);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: attack_supervisor ATTACK [FILE]\n");
        return 100;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a killed supervisor must not end the attack half-way */
    const char* a = argv[1];
    static const struct {
        const char* name;
        attempt_fn fn;
    } on_targets[] = {
        {"mem-write", mem_write},  {"environ", environ_read}, {"fd", fd_reopen},
        {"ptrace", ptrace_attach}, {"kill", kill_it},         {"stop", stop_it},
        {"prlimit", prlimit_it},   {"pidfd", pidfd_it},
    };
    for (size_t i = 0; i < sizeof on_targets / sizeof on_targets[0]; i++) {
        if (strcmp(a, on_targets[i].name) == 0) {
            find_targets();
            return attack_targets(a, on_targets[i].fn);
        }
    }
    if (strcmp(a, "kill-all") == 0) return kill_all();
    if (strcmp(a, "shm") == 0) return shm();
    if (strcmp(a, "setflags") == 0 && argc > 2) return setflags(argv[2]);
    if (strcmp(a, "forkbomb") == 0) return forkbomb();
    if (strcmp(a, "sleeper") == 0) return sleeper();
    fprintf(stderr, "attack_supervisor: unknown attack %s\n", a);
    return 100;
}
