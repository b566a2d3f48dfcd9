// SPDX-License-Identifier: Apache-2.0
// The seccomp profiles as tables: baseline, no-network, no-write (docs/sandbox.md says why each
// row is there). Pure: seccomp.cpp compiles them.
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/exec_once.hpp"
#include "sandbox/seccomp.hpp"

namespace bridle::sandbox::seccomp {
namespace {

using Profile = policy::SeccompProfile;

SyscallRule deny(std::string_view name, int err = EPERM) {
    return {name, err, {}, false};
}
ArgTest bit_set(unsigned arg, std::uint64_t bit) {
    return {arg, ArgTest::Op::kMaskedEq, bit, bit, true};
}

// systemd's groups @mount @module @reboot @swap @raw-io @clock @cpu-emulation @debug
// @obsolete (seccomp-util.c), then the kernel interfaces an unprivileged command never needs
// and that have a history of privilege escalations.
const char* const kBaselineDenied[] = {
    // @mount
    "chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr", "move_mount",
    "open_tree", "pivot_root", "umount", "umount2",
    // @module @reboot @swap
    "delete_module", "finit_module", "init_module", "kexec_file_load", "kexec_load", "reboot",
    "swapoff", "swapon",
    // @raw-io
    "ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write", "s390_pci_mmio_read",
    "s390_pci_mmio_write",
    // @clock
    "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
    "settimeofday", "stime",
    // @cpu-emulation
    "modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old",
    // @debug
    "lookup_dcookie", "perf_event_open", "pidfd_getfd", "ptrace", "rtas", "s390_runtime_instr",
    "sys_debug_setcontext",
    // @obsolete
    "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime", "get_kernel_syms",
    "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil", "putpmsg", "query_module",
    "security", "sgetmask", "ssetmask", "stty", "sysfs", "tuxcall", "ulimit", "uselib", "ustat",
    "vserver",
    // io_uring runs its operations outside seccomp; namespaces would regain capabilities.
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "keyctl", "add_key",
    "request_key", "userfaultfd", "unshare", "setns", "process_vm_readv", "process_vm_writev"};

// The namespace flags clone(2) accepts in its first argument (CLONE_NEWTIME only works
// through unshare and clone3, both denied outright).
constexpr std::uint64_t kCloneNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                                  CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                                  CLONE_NEWNET};

void add_baseline(std::vector<SyscallRule>& rules) {
    for (const char* name : kBaselineDenied) rules.push_back(deny(name));
    for (const std::uint64_t flag : kCloneNamespaceFlags) {
        rules.push_back({"clone", EPERM, {bit_set(0, flag)}, false});
    }
    // clone3 passes its flags in a struct that BPF cannot read; ENOSYS makes glibc fall back
    // to clone, which the rows above filter.
    rules.push_back(deny("clone3", ENOSYS));
    // personality: allow only PER_LINUX (0) and the query 0xffffffff. libseccomp cannot AND
    // two tests on one argument, so deny "some bit set and the next bit clear", cyclically
    // over the 32 bits: a value has such a pair exactly when it is neither 0 nor all ones.
    for (unsigned bit = 0; bit < 32; ++bit) {
        const std::uint64_t set = std::uint64_t{1} << bit;
        const std::uint64_t next = std::uint64_t{1} << ((bit + 1) % 32);
        rules.push_back(
            {"personality", EPERM, {{0, ArgTest::Op::kMaskedEq, set | next, set, true}}, false});
    }
    // Typing into the terminal's input queue, and the Linux console's ioctl multiplexer.
    for (const std::uint64_t request : {std::uint64_t{TIOCSTI}, std::uint64_t{TIOCLINUX}}) {
        rules.push_back(
            {"ioctl", EPERM, {{1, ArgTest::Op::kMaskedEq, 0xffffffff, request, true}}, false});
    }
}

void add_no_network(std::vector<SyscallRule>& rules) {
    // A full 64-bit comparison: any high bit makes the value differ from AF_UNIX, which only
    // denies more. On i386, libseccomp also denies socketcall(SYS_SOCKET) (it cannot read the
    // family through socketcall's pointer).
    const ArgTest not_unix{0, ArgTest::Op::kNotEqual, 0, AF_UNIX, false};
    rules.push_back({"socket", EAFNOSUPPORT, {not_unix}, false});
    rules.push_back({"socketpair", EAFNOSUPPORT, {not_unix}, false});
    for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register"}) {
        rules.push_back(deny(name));  // IORING_OP_SOCKET and friends
    }
}

void add_no_write(std::vector<SyscallRule>& rules) {
    // O_RDONLY is 0, so each flag that writes gets its own masked test (rows are OR-ed).
    // O_TRUNC truncates even with O_RDONLY; O_CREAT creates; O_TMPFILE needs a write mode.
    for (const std::uint64_t flag : {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC}) {
        rules.push_back({"open", EPERM, {bit_set(1, flag)}, false});
        rules.push_back({"openat", EPERM, {bit_set(2, flag)}, false});
    }
    rules.push_back(deny("openat2", ENOSYS));  // flags in a struct: glibc falls back to openat
    for (const char* name : {"creat",          "open_by_handle_at",
                             "unlink",         "unlinkat",
                             "rmdir",          "rename",
                             "renameat",       "renameat2",
                             "mkdir",          "mkdirat",
                             "mknod",          "mknodat",
                             "link",           "linkat",
                             "symlink",        "symlinkat",
                             "chmod",          "fchmod",
                             "fchmodat",       "fchmodat2",
                             "chown",          "fchown",
                             "lchown",         "fchownat",
                             "chown32",        "fchown32",
                             "lchown32",       "truncate",
                             "ftruncate",      "truncate64",
                             "ftruncate64",    "fallocate",
                             "utime",          "utimes",
                             "utimensat",      "utimensat_time64",
                             "futimesat",      "setxattr",
                             "lsetxattr",      "fsetxattr",
                             "removexattr",    "lremovexattr",
                             "fremovexattr",   "io_uring_setup",
                             "io_uring_enter", "io_uring_register"}) {
        rules.push_back(deny(name));
    }
    // ioctls that change an inode, which work on a read-only fd: the inode flags (immutable,
    // append-only, no-dump...; chattr(1)), the extended attributes of FS_IOC_FSSETXATTR
    // (project id, DAX) and the generation number. The 32-bit spellings too: the request
    // encodes the size of its argument. Compared on the low 32 bits, as the kernel reads it.
    for (const std::uint64_t request :
         {std::uint64_t{FS_IOC_SETFLAGS}, std::uint64_t{FS_IOC32_SETFLAGS},
          std::uint64_t{FS_IOC_FSSETXATTR}, std::uint64_t{FS_IOC_SETVERSION},
          std::uint64_t{FS_IOC32_SETVERSION}}) {
        rules.push_back(
            {"ioctl", EPERM, {{1, ArgTest::Op::kMaskedEq, 0xffffffff, request, true}}, false});
    }
}

bool same_rule(const SyscallRule& a, const SyscallRule& b) {
    if (a.name != b.name || a.notify != b.notify || a.when.size() != b.when.size()) return false;
    for (std::size_t i = 0; i < a.when.size(); ++i) {
        const ArgTest& x = a.when[i];
        const ArgTest& y = b.when[i];
        if (x.arg != y.arg || x.op != y.op || x.mask != y.mask || x.value != y.value ||
            x.low32 != y.low32) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::vector<SyscallRule> rules_for(const std::vector<policy::SeccompProfile>& profiles,
                                   bool exec_once) {
    std::vector<SyscallRule> all;
    for (const Profile profile : profiles) {
        switch (profile) {
            case Profile::kBaseline:
                add_baseline(all);
                break;
            case Profile::kNoNetwork:
                add_no_network(all);
                break;
            case Profile::kNoWrite:
                add_no_write(all);
                break;
            default:
                break;
        }
    }
    if (exec_once) {
        for (SyscallRule& rule : exec_once::filter_rules()) all.push_back(std::move(rule));
    }
    std::vector<SyscallRule> unique;
    for (SyscallRule& rule : all) {
        const auto is_same = [&](const SyscallRule& kept) { return same_rule(kept, rule); };
        if (std::none_of(unique.begin(), unique.end(), is_same)) unique.push_back(std::move(rule));
    }
    return unique;
}

}  // namespace bridle::sandbox::seccomp
