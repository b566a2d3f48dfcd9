/* SPDX-License-Identifier: Apache-2.0
 * try_syscall NAME [DIR]: make ONE system call, with arguments that would succeed (or fail
 * with an errno other than the sandbox's) when unsandboxed, and exit with the errno it got:
 * 0 on success. A sandbox that kills instead shows up as death by SIGSYS. DIR is a scratch
 * directory for the file system calls. Built natively and as a static i386 binary (gcc -m32),
 * whose calls enter the kernel through the compat ABI (AUDIT_ARCH_I386, i386 numbers).
 * NAME "x32-..." (x86_64 only) makes the call through the x32 ABI (number | 0x40000000).
 * In the spirit of bubblewrap's tests/try-syscall.c. Exit 100: unknown NAME (never an errno
 * the tests expect). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#define SYS_SETXATTRAT 463   /* Linux 6.13, newer than libseccomp 2.5.4's tables */
#define SYS_FILE_SETATTR 469 /* Linux 6.17 */

static const char* dir = "/tmp";
static char path_buf[4096];

static const char* in_dir(const char* name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

/* The result of a call: 0, or its errno. */
static int result(long rc) {
    return rc < 0 ? errno : 0;
}

/* A clone that must not return twice: the child exits at once. */
static int try_clone(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid < 0) return errno;
    waitpid((pid_t)pid, NULL, 0);
    return 0;
}

static int try_clone3(void) {
    uint64_t args[8] = {0}; /* struct clone_args, version 0: flags ... tls */
    args[4] = SIGCHLD;      /* exit_signal */
    long pid = syscall(SYS_clone3, args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid < 0) return errno;
    waitpid((pid_t)pid, NULL, 0);
    return 0;
}

static int try_open(int flags) {
    return result(open(in_dir("file"), flags, 0600));
}

static int try_exec(int at) {
    char* argv[] = {"true", NULL};
    char* envp[] = {NULL};
    if (at) return result(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0));
    return result(execve("/bin/true", argv, envp));
}

#if defined(__x86_64__)
/* The x32 ABI: x86_64's instruction with bit 30 set in the number (x32 numbers differ from
 * x86_64's for a few calls, such as execve 520). */
static int x32(long nr, long a, long b, long c) {
    return result(syscall(0x40000000L | nr, a, b, c));
}
#endif

int main(int argc, char** argv) {
    if (argc < 2) return 100;
    if (argc > 2) dir = argv[2];
    const char* n = argv[1];
    char buf[64];
    /* ---- allowed everywhere: the helper itself works ---- */
    if (!strcmp(n, "getpid")) return result(syscall(SYS_getpid));
    if (!strcmp(n, "fork")) return try_clone(0);
    if (!strcmp(n, "open-rdonly")) return result(open("/etc/hostname", O_RDONLY));
    if (!strcmp(n, "open-rdonly-high-bits"))
        return result(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", 0x100000000ULL | O_RDONLY));
    if (!strcmp(n, "socket-unix")) return result(socket(AF_UNIX, SOCK_STREAM, 0));
    if (!strcmp(n, "socketpair-unix")) {
        int sv[2];
        return result(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    }
    if (!strcmp(n, "personality-query")) return result(syscall(SYS_personality, 0xffffffffUL));
    if (!strcmp(n, "personality-linux")) return result(syscall(SYS_personality, 0UL));
    if (!strcmp(n, "ioctl-tcgets")) {
        struct termios t;
        return result(ioctl(0, TCGETS, &t)); /* stdin is /dev/null: ENOTTY either way */
    }
    if (!strcmp(n, "seccomp-filter")) {
        /* A filter that allows everything, without a listener: a command may add its own. */
        struct {
            unsigned short len;
            void* filter;
        } prog;
        uint64_t allow = 0x7fff000000000006ULL; /* BPF_RET|BPF_K, SECCOMP_RET_ALLOW */
        prog.len = 1;
        prog.filter = &allow;
        return result(syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, &prog));
    }
    /* ---- baseline ---- */
    if (!strcmp(n, "mount"))
        return result(syscall(SYS_mount, "none", "/nonexistent-bridle", "tmpfs", 0, 0));
    if (!strcmp(n, "umount2")) return result(syscall(SYS_umount2, "/nonexistent-bridle", 0));
    if (!strcmp(n, "chroot")) return result(syscall(SYS_chroot, "/"));
    if (!strcmp(n, "ptrace")) return result(syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0));
    if (!strcmp(n, "unshare-user")) return result(syscall(SYS_unshare, CLONE_NEWUSER));
    if (!strcmp(n, "unshare-none")) return result(syscall(SYS_unshare, 0));
    if (!strcmp(n, "setns")) return result(syscall(SYS_setns, -1, 0));
    if (!strcmp(n, "clone-newuser")) return try_clone(CLONE_NEWUSER);
    if (!strcmp(n, "clone-newns")) return try_clone(CLONE_NEWNS);
    if (!strcmp(n, "clone-newnet")) return try_clone(CLONE_NEWNET);
    if (!strcmp(n, "clone3")) return try_clone3();
    if (!strcmp(n, "bpf")) return result(syscall(SYS_bpf, -1, 0, 0));
    if (!strcmp(n, "keyctl")) return result(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
    if (!strcmp(n, "add_key")) return result(syscall(SYS_add_key, "user", "bridle", "x", 1, -3));
    if (!strcmp(n, "userfaultfd")) return result(syscall(SYS_userfaultfd, 0));
    if (!strcmp(n, "io_uring_setup")) {
        char params[120] = {0};
        return result(syscall(SYS_io_uring_setup, 1, params));
    }
    if (!strcmp(n, "perf_event_open")) return result(syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
    if (!strcmp(n, "process_vm_readv")) {
        char src[8] = "bridle", dst[8];
        struct iovec local = {dst, sizeof dst}, remote = {src, sizeof src};
        return result(syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0));
    }
    /* ---- the request's init, PID 1 of the command's PID namespace: a session's worker keeps
     * it for the next calls (execution/kept_init.hpp), so taking it over would reach them.
     * Non-dumpable, its memory is out of reach whatever the filter (EPERM). ---- */
    if (!strcmp(n, "ptrace-attach-init"))
        return result(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0));
    if (!strcmp(n, "process_vm_readv-init")) {
        char dst[8];
        struct iovec local = {dst, sizeof dst}, remote = {dst, sizeof dst};
        return result(syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
    }
    if (!strcmp(n, "personality-no-aslr")) return result(syscall(SYS_personality, 0x0040000UL));
    if (!strcmp(n, "personality-linux32")) return result(syscall(SYS_personality, 0x0008UL));
    if (!strcmp(n, "ioctl-tiocsti")) return result(syscall(SYS_ioctl, 0, TIOCSTI, "x"));
    if (!strcmp(n, "ioctl-tiocsti-high-bits"))
        return result(syscall(SYS_ioctl, 0, 0x100000000ULL | TIOCSTI, "x"));
    if (!strcmp(n, "ioctl-tioclinux")) return result(syscall(SYS_ioctl, 0, TIOCLINUX, buf));
    if (!strcmp(n, "settimeofday")) return result(syscall(SYS_settimeofday, 0, 0));
    if (!strcmp(n, "clock_settime")) return result(syscall(SYS_clock_settime, CLOCK_REALTIME, 0));
    if (!strcmp(n, "reboot")) return result(syscall(SYS_reboot, 0, 0, 0, 0));
    if (!strcmp(n, "init_module")) return result(syscall(SYS_init_module, 0, 0, ""));
    if (!strcmp(n, "swapon")) return result(syscall(SYS_swapon, "/nonexistent-bridle", 0));
    if (!strcmp(n, "modify_ldt")) return result(syscall(SYS_modify_ldt, 0, buf, sizeof buf));
    if (!strcmp(n, "setxattrat")) return result(syscall(SYS_SETXATTRAT, -1, 0, 0, 0, 0, 0));
    if (!strcmp(n, "file_setattr")) return result(syscall(SYS_FILE_SETATTR, -1, 0, 0, 0, 0));
    if (!strcmp(n, "seccomp-listener")) {
        struct {
            unsigned short len;
            void* filter;
        } prog;
        uint64_t allow = 0x7fff000000000006ULL;
        prog.len = 1;
        prog.filter = &allow;
        return result(syscall(SYS_seccomp, 1, 1UL << 3 /* NEW_LISTENER */, &prog));
    }
#if defined(__i386__)
    if (!strcmp(n, "socketcall-unix")) {
        unsigned long args[3] = {AF_UNIX, SOCK_STREAM, 0};
        return result(syscall(SYS_socketcall, 1 /* SYS_SOCKET */, args));
    }
#endif
    /* ---- no-network ---- */
    if (!strcmp(n, "socket-inet")) return result(socket(AF_INET, SOCK_STREAM, 0));
    if (!strcmp(n, "socket-inet6")) return result(socket(AF_INET6, SOCK_DGRAM, 0));
    if (!strcmp(n, "socket-netlink")) return result(socket(AF_NETLINK, SOCK_RAW, 0));
    if (!strcmp(n, "socket-inet-high-bits"))
        return result(syscall(SYS_socket, 0x100000000ULL | AF_INET, SOCK_STREAM, 0));
    if (!strcmp(n, "socketpair-inet")) {
        int sv[2];
        return result(socketpair(AF_INET, SOCK_STREAM, 0, sv));
    }
    /* ---- no-write ---- */
    if (!strcmp(n, "open-wronly")) return try_open(O_WRONLY);
    if (!strcmp(n, "open-rdwr")) return try_open(O_RDWR);
    if (!strcmp(n, "open-creat")) return try_open(O_RDONLY | O_CREAT);
    if (!strcmp(n, "open-trunc")) return try_open(O_RDONLY | O_TRUNC);
    if (!strcmp(n, "open-append")) return try_open(O_WRONLY | O_APPEND);
    if (!strcmp(n, "open-tmpfile")) return result(open(dir, O_TMPFILE | O_RDWR, 0600));
    if (!strcmp(n, "openat2")) {
        uint64_t how[3] = {O_RDONLY, 0, 0};
        return result(syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", how, sizeof how));
    }
#ifdef SYS_creat
    if (!strcmp(n, "creat")) return result(syscall(SYS_creat, in_dir("file"), 0600));
#endif
    if (!strcmp(n, "mkdir")) return result(mkdir(in_dir("newdir"), 0700));
    if (!strcmp(n, "rmdir")) return result(rmdir(in_dir("dir")));
    if (!strcmp(n, "unlink")) return result(unlink(in_dir("existing")));
    if (!strcmp(n, "rename")) {
        char to[4096];
        snprintf(to, sizeof to, "%s/renamed", dir);
        return result(rename(in_dir("existing"), to));
    }
    if (!strcmp(n, "link")) {
        char to[4096];
        snprintf(to, sizeof to, "%s/hardlink", dir);
        return result(link(in_dir("existing"), to));
    }
    if (!strcmp(n, "symlink")) return result(symlink("/etc/hostname", in_dir("symlink")));
    if (!strcmp(n, "mkfifo")) return result(mknod(in_dir("fifo"), S_IFIFO | 0600, 0));
    if (!strcmp(n, "chmod")) return result(chmod(in_dir("existing"), 0600));
    if (!strcmp(n, "chown")) return result(chown(in_dir("existing"), getuid(), getgid()));
    if (!strcmp(n, "truncate")) return result(truncate(in_dir("existing"), 0));
    if (!strcmp(n, "utimensat")) return result(utimensat(AT_FDCWD, in_dir("existing"), NULL, 0));
    if (!strcmp(n, "setxattr"))
        return result(syscall(SYS_setxattr, in_dir("existing"), "user.bridle", "x", 1, 0));
    /* ---- exec-once ---- */
    if (!strcmp(n, "execve")) return try_exec(0);
    if (!strcmp(n, "execveat")) return try_exec(1);
#if defined(__x86_64__)
    /* ---- x32 ---- */
    if (!strcmp(n, "x32-getpid")) return x32(39, 0, 0, 0);
    if (!strcmp(n, "x32-socket-inet")) return x32(41, AF_INET, SOCK_STREAM, 0);
    if (!strcmp(n, "x32-unshare-user")) return x32(272, CLONE_NEWUSER, 0, 0);
    if (!strcmp(n, "x32-mkdir")) return x32(83, (long)in_dir("x32dir"), 0700, 0);
    if (!strcmp(n, "x32-execve")) return x32(520, (long)"/bin/true", 0, 0);
#endif
    return 100;
}
