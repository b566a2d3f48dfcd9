// SPDX-License-Identifier: Apache-2.0
// state_probe DIR FILE: what an allowed command would try, to reach bridle's state (the task
// spool, versions) that runs as its own account: list DIR, write FILE (a running task's
// output), create a file in DIR, reach both through /proc/PID/root of every process it can
// see, unmount what hides DIR, and unmount it from a user and mount namespace of its own.
// Prints one line per attempt ("NAME refused ERRNO" or "NAME REACHED") and exits 0 only when
// every attempt was refused. Built static (tests/CMakeLists.txt) to run in any sandbox.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int reached = 0;

static void report(const char* name, int ok) {
    if (ok) {
        printf("%s REACHED\n", name);
        reached = 1;
    } else {
        printf("%s refused %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    }
}

// Entries of `dir` other than . and .., or -1.
static int entries(const char* dir) {
    DIR* d = opendir(dir);
    if (d == NULL) return -1;
    int n = 0;
    const struct dirent* e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int append(const char* path) {
    const int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return 0;
    const int ok = write(fd, "probe\n", 6) == 6;
    close(fd);
    return ok;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: state_probe DIR FILE\n");
        return 2;
    }
    const char* dir = argv[1];
    const char* file = argv[2];
    char path[4096];

    errno = ENOENT;
    report("list", entries(dir) > 0);
    report("append", append(file));
    snprintf(path, sizeof path, "%s/probe-created", dir);
    const int created = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    report("create", created >= 0);

    // Every process this one can see (its own request, or the host's /proc): its root.
    int proc_reached = 0;
    DIR* proc = opendir("/proc");
    const struct dirent* e;
    while (proc != NULL && (e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/root%s", e->d_name, file);
        if (append(path)) {
            printf("proc-root via %s\n", e->d_name);
            proc_reached = 1;
        }
    }
    if (proc != NULL) closedir(proc);
    errno = EACCES;
    report("proc-root", proc_reached);

    report("umount", umount2(dir, MNT_DETACH) == 0 && entries(dir) > 0);
    int nested = 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
        nested = umount2(dir, MNT_DETACH) == 0 && entries(dir) > 0;
    }
    report("unshare-umount", nested);
    return reached ? 1 : 0;
}
