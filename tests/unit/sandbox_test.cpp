// SPDX-License-Identifier: Apache-2.0
// The sandbox's pure parts, without a kernel: the seccomp tables and the BPF that libseccomp
// builds from them, run here in a small classic-BPF interpreter for every architecture the
// filter covers (x86_64, i386, x32; aarch64 and 32-bit ARM, compiled on any host), the
// ceiling program, Landlock masks by ABI, resource limits, and the sandbox plan.
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/exec_log.hpp"
#include "sandbox/exec_once.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/limits.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/seccomp.hpp"
#include "sandbox/seccomp_prebuilt.hpp"

namespace bridle::sandbox {
namespace {

using policy::SeccompProfile;

// ---- A classic BPF interpreter, enough for seccomp programs -----------------------------------

struct Call {
    std::uint32_t arch = 0;
    std::int32_t nr = 0;
    std::uint64_t args[6] = {};
};

// Runs `program` on `call` as the kernel's seccomp would; returns the SECCOMP_RET_* value.
std::uint32_t run_bpf(const std::vector<sock_filter>& program, const Call& call) {
    seccomp_data data{};
    data.nr = call.nr;
    data.arch = call.arch;
    std::memcpy(data.args, call.args, sizeof data.args);
    unsigned char bytes[sizeof data];
    std::memcpy(bytes, &data, sizeof data);
    std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const sock_filter& in = program[pc];
        const std::uint32_t src = BPF_SRC(in.code) == BPF_X ? x : in.k;
        switch (BPF_CLASS(in.code)) {
            case BPF_LD:
                if (BPF_MODE(in.code) == BPF_ABS) {
                    if (in.k + 4 > sizeof bytes) return 0xdeadbeef;
                    std::memcpy(&a, bytes + in.k, 4);
                } else if (BPF_MODE(in.code) == BPF_MEM) {
                    a = mem[in.k];
                } else if (BPF_MODE(in.code) == BPF_IMM) {
                    a = in.k;
                } else {
                    return 0xdeadbeef;
                }
                break;
            case BPF_LDX:
                x = BPF_MODE(in.code) == BPF_MEM ? mem[in.k] : in.k;
                break;
            case BPF_ST:
                mem[in.k] = a;
                break;
            case BPF_STX:
                mem[in.k] = x;
                break;
            case BPF_ALU:
                switch (BPF_OP(in.code)) {
                    case BPF_ADD:
                        a += src;
                        break;
                    case BPF_SUB:
                        a -= src;
                        break;
                    case BPF_AND:
                        a &= src;
                        break;
                    case BPF_OR:
                        a |= src;
                        break;
                    case BPF_LSH:
                        a <<= src;
                        break;
                    case BPF_RSH:
                        a >>= src;
                        break;
                    case BPF_NEG:
                        a = -a;
                        break;
                    default:
                        return 0xdeadbeef;
                }
                break;
            case BPF_JMP: {
                bool taken = false;
                switch (BPF_OP(in.code)) {
                    case BPF_JA:
                        pc += in.k;
                        continue;
                    case BPF_JEQ:
                        taken = a == src;
                        break;
                    case BPF_JGT:
                        taken = a > src;
                        break;
                    case BPF_JGE:
                        taken = a >= src;
                        break;
                    case BPF_JSET:
                        taken = (a & src) != 0;
                        break;
                    default:
                        return 0xdeadbeef;
                }
                pc += taken ? in.jt : in.jf;
                break;
            }
            case BPF_RET:
                return BPF_RVAL(in.code) == BPF_A ? a : in.k;
            case BPF_MISC:
                if (BPF_MISCOP(in.code) == BPF_TAX)
                    x = a;
                else
                    a = x;
                break;
            default:
                return 0xdeadbeef;
        }
    }
    return 0xdeadbeef;  // fell off the end: the kernel rejects such a program
}

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr std::uint32_t errno_ret(int e) {
    return SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(e);
}

std::string describe(std::uint32_t ret) {
    if (ret == kAllow) return "ALLOW";
    if (ret == kKill) return "KILL_PROCESS";
    if (ret == kNotify) return "NOTIFY";
    if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
        return std::string("ERRNO(") + strerrorname_np(static_cast<int>(ret & SECCOMP_RET_DATA)) +
               ")";
    }
    return "0x" + std::to_string(ret);
}

// The number of `name` on `arch` (x32 numbers include bit 30).
std::int32_t nr_of(std::uint32_t arch, const char* name) {
    const int nr = seccomp_syscall_resolve_name_arch(arch, name);
    EXPECT_GE(nr, 0) << name << " has no number on arch " << std::hex << arch;
    return nr;
}

std::vector<sock_filter> filter_for(std::uint32_t native, std::vector<SeccompProfile> profiles,
                                    bool exec_once) {
    Result<std::vector<sock_filter>> program = seccomp::compile(
        seccomp::rules_for(profiles, exec_once), seccomp::architectures_for(native));
    EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error().full());
    return program.ok() ? program.value() : std::vector<sock_filter>{};
}

const std::vector<SeccompProfile> kAll = {SeccompProfile::kBaseline, SeccompProfile::kNoNetwork,
                                          SeccompProfile::kNoWrite};

// ---- The profile filter, call by call ----------------------------------------------------------

struct CallCase {
    std::string name;
    const char* syscall;
    std::vector<std::uint64_t> args;
    std::uint32_t expected;
};

// Each case on each architecture an x86_64 or an aarch64 kernel runs. Denials outnumber
// allowances; every allowed case is one a command needs.
const std::vector<CallCase>& call_cases() {
    // clang-format off
    static const std::vector<CallCase> cases = {
        // baseline
        {"mount", "mount", {}, errno_ret(EPERM)},
        {"umount2", "umount2", {}, errno_ret(EPERM)},
        {"pivot_root", "pivot_root", {}, errno_ret(EPERM)},
        {"fsopen (new mount API)", "fsopen", {}, errno_ret(EPERM)},
        {"init_module", "init_module", {}, errno_ret(EPERM)},
        {"finit_module", "finit_module", {}, errno_ret(EPERM)},
        {"kexec_load", "kexec_load", {}, errno_ret(EPERM)},
        {"reboot", "reboot", {}, errno_ret(EPERM)},
        {"swapon", "swapon", {}, errno_ret(EPERM)},
        {"clock_settime", "clock_settime", {}, errno_ret(EPERM)},
        {"settimeofday", "settimeofday", {}, errno_ret(EPERM)},
        {"adjtimex", "adjtimex", {}, errno_ret(EPERM)},
        {"ptrace", "ptrace", {}, errno_ret(EPERM)},
        {"perf_event_open", "perf_event_open", {}, errno_ret(EPERM)},
        {"pidfd_getfd", "pidfd_getfd", {}, errno_ret(EPERM)},
        {"process_vm_readv", "process_vm_readv", {}, errno_ret(EPERM)},
        {"process_vm_writev", "process_vm_writev", {}, errno_ret(EPERM)},
        {"bpf", "bpf", {}, errno_ret(EPERM)},
        {"keyctl", "keyctl", {}, errno_ret(EPERM)},
        {"add_key", "add_key", {}, errno_ret(EPERM)},
        {"request_key", "request_key", {}, errno_ret(EPERM)},
        {"userfaultfd", "userfaultfd", {}, errno_ret(EPERM)},
        {"unshare", "unshare", {0}, errno_ret(EPERM)},
        {"setns", "setns", {}, errno_ret(EPERM)},
        {"io_uring_setup", "io_uring_setup", {}, errno_ret(EPERM)},
        {"io_uring_enter", "io_uring_enter", {}, errno_ret(EPERM)},
        {"io_uring_register", "io_uring_register", {}, errno_ret(EPERM)},
        {"uselib (obsolete)", "uselib", {}, errno_ret(EPERM)},
        {"clone3 falls back", "clone3", {}, errno_ret(ENOSYS)},
        {"clone CLONE_NEWUSER", "clone", {CLONE_NEWUSER | SIGCHLD}, errno_ret(EPERM)},
        {"clone CLONE_NEWNS", "clone", {CLONE_NEWNS | SIGCHLD}, errno_ret(EPERM)},
        {"clone CLONE_NEWPID", "clone", {CLONE_NEWPID | SIGCHLD}, errno_ret(EPERM)},
        {"clone CLONE_NEWNET", "clone", {CLONE_NEWNET}, errno_ret(EPERM)},
        {"clone CLONE_NEWUTS", "clone", {CLONE_NEWUTS}, errno_ret(EPERM)},
        {"clone CLONE_NEWIPC", "clone", {CLONE_NEWIPC}, errno_ret(EPERM)},
        {"clone CLONE_NEWCGROUP", "clone", {CLONE_NEWCGROUP}, errno_ret(EPERM)},
        {"personality ADDR_NO_RANDOMIZE", "personality", {0x0040000}, errno_ret(EPERM)},
        {"personality PER_LINUX32", "personality", {0x0008}, errno_ret(EPERM)},
        {"personality READ_IMPLIES_EXEC", "personality", {0x0400000}, errno_ret(EPERM)},
        {"personality 1", "personality", {1}, errno_ret(EPERM)},
        {"personality top bit only", "personality", {0x80000000}, errno_ret(EPERM)},
        {"personality all but one bit", "personality", {0xfffffffe}, errno_ret(EPERM)},
        {"personality all but the top bit", "personality", {0x7fffffff}, errno_ret(EPERM)},
        {"ioctl TIOCSTI", "ioctl", {0, TIOCSTI}, errno_ret(EPERM)},
        {"ioctl TIOCSTI, high bits set",
         "ioctl",
         {0, 0xffffffff00000000ULL | TIOCSTI},
         errno_ret(EPERM)},
        {"ioctl TIOCLINUX", "ioctl", {0, TIOCLINUX}, errno_ret(EPERM)},
        {"clone for a thread",
         "clone",
         {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM},
         kAllow},
        {"clone for fork", "clone", {SIGCHLD}, kAllow},
        {"personality query", "personality", {0xffffffff}, kAllow},
        {"personality PER_LINUX", "personality", {0}, kAllow},
        {"ioctl TCGETS", "ioctl", {0, TCGETS}, kAllow},
        {"getpid", "getpid", {}, kAllow},
        {"read", "read", {}, kAllow},
        {"seccomp without a listener", "seccomp", {SECCOMP_SET_MODE_FILTER, 0}, kAllow},
        // no-network
        {"socket AF_INET", "socket", {AF_INET, SOCK_STREAM}, errno_ret(EAFNOSUPPORT)},
        {"socket AF_INET6", "socket", {AF_INET6, SOCK_DGRAM}, errno_ret(EAFNOSUPPORT)},
        {"socket AF_NETLINK", "socket", {AF_NETLINK, SOCK_RAW}, errno_ret(EAFNOSUPPORT)},
        {"socket AF_PACKET", "socket", {AF_PACKET, SOCK_RAW}, errno_ret(EAFNOSUPPORT)},
        {"socket AF_UNIX with high bits",
         "socket",
         {0x100000000ULL | AF_UNIX},
         errno_ret(EAFNOSUPPORT)},
        {"socketpair AF_INET", "socketpair", {AF_INET, SOCK_STREAM}, errno_ret(EAFNOSUPPORT)},
        {"socket AF_UNIX", "socket", {AF_UNIX, SOCK_STREAM}, kAllow},
        {"socketpair AF_UNIX", "socketpair", {AF_UNIX, SOCK_STREAM}, kAllow},
        // no-write
        {"openat O_WRONLY", "openat", {0, 0, O_WRONLY}, errno_ret(EPERM)},
        {"openat O_RDWR", "openat", {0, 0, O_RDWR}, errno_ret(EPERM)},
        {"openat O_CREAT", "openat", {0, 0, O_RDONLY | O_CREAT}, errno_ret(EPERM)},
        {"openat O_TRUNC", "openat", {0, 0, O_RDONLY | O_TRUNC}, errno_ret(EPERM)},
        {"openat O_TMPFILE", "openat", {0, 0, O_TMPFILE | O_RDWR}, errno_ret(EPERM)},
        {"openat O_WRONLY|O_APPEND", "openat", {0, 0, O_WRONLY | O_APPEND}, errno_ret(EPERM)},
        {"openat O_RDONLY|O_CLOEXEC|O_NOFOLLOW",
         "openat",
         {0, 0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW},
         kAllow},
        {"openat O_RDONLY|O_DIRECTORY", "openat", {0, 0, O_RDONLY | O_DIRECTORY}, kAllow},
        {"openat with garbage above bit 31", "openat", {0, 0, 0xffff000000000000ULL}, kAllow},
        {"openat2 falls back", "openat2", {}, errno_ret(ENOSYS)},
        {"unlinkat", "unlinkat", {}, errno_ret(EPERM)},
        {"renameat2", "renameat2", {}, errno_ret(EPERM)},
        {"mkdirat", "mkdirat", {}, errno_ret(EPERM)},
        {"mknodat", "mknodat", {}, errno_ret(EPERM)},
        {"linkat", "linkat", {}, errno_ret(EPERM)},
        {"symlinkat", "symlinkat", {}, errno_ret(EPERM)},
        {"fchmodat", "fchmodat", {}, errno_ret(EPERM)},
        {"fchmodat2", "fchmodat2", {}, errno_ret(EPERM)},
        {"fchmod", "fchmod", {}, errno_ret(EPERM)},
        {"fchownat", "fchownat", {}, errno_ret(EPERM)},
        {"fchown", "fchown", {}, errno_ret(EPERM)},
        {"truncate", "truncate", {}, errno_ret(EPERM)},
        {"ftruncate", "ftruncate", {}, errno_ret(EPERM)},
        {"fallocate", "fallocate", {}, errno_ret(EPERM)},
        {"utimensat", "utimensat", {}, errno_ret(EPERM)},
        {"setxattr", "setxattr", {}, errno_ret(EPERM)},
        {"fremovexattr", "fremovexattr", {}, errno_ret(EPERM)},
        {"open_by_handle_at", "open_by_handle_at", {}, errno_ret(EPERM)},
        {"ioctl FS_IOC_SETFLAGS (chattr)", "ioctl", {3, FS_IOC_SETFLAGS}, errno_ret(EPERM)},
        {"ioctl FS_IOC32_SETFLAGS", "ioctl", {3, FS_IOC32_SETFLAGS}, errno_ret(EPERM)},
        {"ioctl FS_IOC_SETFLAGS, high bits set", "ioctl",
         {3, 0xffffffff00000000ULL | FS_IOC_SETFLAGS}, errno_ret(EPERM)},
        {"ioctl FS_IOC_FSSETXATTR", "ioctl", {3, FS_IOC_FSSETXATTR}, errno_ret(EPERM)},
        {"ioctl FS_IOC_SETVERSION", "ioctl", {3, FS_IOC_SETVERSION}, errno_ret(EPERM)},
        {"ioctl FS_IOC_GETFLAGS (lsattr)", "ioctl", {3, FS_IOC_GETFLAGS}, kAllow},
        {"ioctl FS_IOC_FSGETXATTR", "ioctl", {3, FS_IOC_FSGETXATTR}, kAllow},
        {"getxattr", "getxattr", {}, kAllow},
        {"newfstatat", "fstat", {}, kAllow},
        {"write (to an fd it has)", "write", {}, kAllow},
        // exec-once
        {"execve", "execve", {}, kNotify},
        {"execveat", "execveat", {}, kNotify},
        {"seccomp with a new listener",
         "seccomp",
         {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER},
         errno_ret(EPERM)},
        {"seccomp listener with other flags",
         "seccomp",
         {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_LOG},
         errno_ret(EPERM)},
    };
    // clang-format on
    return cases;
}

// Architectures the filters of an x86_64 and an aarch64 bridle see, with the token to ask
// libseccomp for numbers and the AUDIT_ARCH value the kernel puts in seccomp_data.
struct ArchCase {
    const char* name;
    std::uint32_t native;      // the bridle host
    std::uint32_t numbers;     // libseccomp token for syscall numbers
    std::uint32_t audit_arch;  // seccomp_data.arch
};
const ArchCase kArches[] = {
    {"x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64},
    {"i386 on x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86, AUDIT_ARCH_I386},
    {"x32 on x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X32, AUDIT_ARCH_X86_64},
    {"aarch64", AUDIT_ARCH_AARCH64, SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64},
    {"arm on aarch64", AUDIT_ARCH_AARCH64, SCMP_ARCH_ARM, AUDIT_ARCH_ARM},
};

TEST(SeccompFilter, EveryCallOnEveryArchitectureGetsItsAction) {
    for (const ArchCase& arch : kArches) {
        SCOPED_TRACE(arch.name);
        const std::vector<sock_filter> program = filter_for(arch.native, kAll, true);
        ASSERT_FALSE(program.empty());
        std::size_t checked = 0;
        for (const CallCase& c : call_cases()) {
            const int nr = seccomp_syscall_resolve_name_arch(arch.numbers, c.syscall);
            if (nr < 0) continue;  // not a system call of this architecture
            SCOPED_TRACE(c.name);
            Call call{arch.audit_arch, nr, {}};
            for (std::size_t i = 0; i < c.args.size(); ++i) {
                // 32-bit ABIs pass 32-bit registers: the kernel zero-extends them.
                const bool wide =
                    arch.audit_arch == AUDIT_ARCH_X86_64 || arch.audit_arch == AUDIT_ARCH_AARCH64;
                call.args[i] = wide ? c.args[i] : c.args[i] & 0xffffffff;
            }
            const bool is_64bit =
                arch.numbers == SCMP_ARCH_X86_64 || arch.numbers == SCMP_ARCH_AARCH64;
            if (!is_64bit && !c.args.empty() &&
                std::any_of(c.args.begin(), c.args.end(),
                            [](std::uint64_t a) { return a > 0xffffffff; })) {
                continue;  // 32-bit ABIs: see SeccompFilter.ThirtyTwoBitAbisCompareTheLowHalf
            }
            EXPECT_EQ(describe(run_bpf(program, call)), describe(c.expected));
            ++checked;
        }
        EXPECT_GT(checked, call_cases().size() * 3 / 4);
    }
}

// libseccomp compares only the low 32 bits of arguments on i386, ARM and x32. For the
// arguments the profiles test that is exactly what the kernel reads (int or unsigned int:
// socket's family, open's flags, ioctl's request, personality, seccomp's flags), so a value
// with high bits set is judged as the kernel will use it.
TEST(SeccompFilter, ThirtyTwoBitAbisCompareTheLowHalf) {
    const std::vector<sock_filter> program = filter_for(AUDIT_ARCH_X86_64, kAll, true);
    const std::int32_t socket = nr_of(SCMP_ARCH_X32, "socket");
    const std::int32_t ioctl = nr_of(SCMP_ARCH_X32, "ioctl");
    EXPECT_EQ(describe(run_bpf(program, {AUDIT_ARCH_X86_64, socket, {0x100000000ULL | AF_UNIX}})),
              "ALLOW");
    EXPECT_EQ(describe(run_bpf(program, {AUDIT_ARCH_X86_64, socket, {0x100000000ULL | AF_INET}})),
              describe(errno_ret(EAFNOSUPPORT)));
    EXPECT_EQ(describe(run_bpf(program,
                               {AUDIT_ARCH_X86_64, ioctl, {0, 0xffffffff00000000ULL | TIOCSTI}})),
              describe(errno_ret(EPERM)));
}

// i386 reaches socket() also through socketcall(2), whose arguments BPF cannot read:
// libseccomp denies socketcall(SYS_SOCKET) there outright.
TEST(SeccompFilter, SocketcallOnI386IsDeniedUnderNoNetwork) {
    const std::vector<sock_filter> program =
        filter_for(AUDIT_ARCH_X86_64, {SeccompProfile::kNoNetwork}, false);
    const std::int32_t socketcall = nr_of(SCMP_ARCH_X86, "socketcall");
    EXPECT_EQ(describe(run_bpf(program, {AUDIT_ARCH_I386, socketcall, {1 /* SYS_SOCKET */}})),
              describe(errno_ret(EAFNOSUPPORT)));
    EXPECT_EQ(describe(run_bpf(program, {AUDIT_ARCH_I386, socketcall, {3 /* SYS_CONNECT */}})),
              "ALLOW");
}

// A system call of an architecture the filter does not cover is never let through.
TEST(SeccompFilter, ForeignArchitecturesAreKilled) {
    struct Case {
        const char* name;
        std::uint32_t native, foreign;
    };
    const Case cases[] = {
        {"aarch64 on x86_64", AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64},
        {"arm on x86_64", AUDIT_ARCH_X86_64, AUDIT_ARCH_ARM},
        {"ppc64le on x86_64", AUDIT_ARCH_X86_64, AUDIT_ARCH_PPC64LE},
        {"x86_64 on aarch64", AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64},
        {"i386 on aarch64", AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386},
        {"riscv64 on aarch64", AUDIT_ARCH_AARCH64, AUDIT_ARCH_RISCV64},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        for (const bool exec_once : {false, true}) {
            const std::vector<sock_filter> program = filter_for(c.native, kAll, exec_once);
            for (const std::int32_t nr : {0, 1, 39, 59, 221, 0x40000027}) {
                EXPECT_EQ(describe(run_bpf(program, {c.foreign, nr, {}})), "KILL_PROCESS");
            }
        }
    }
}

// Each profile denies only its own share: what one profile denies, another leaves alone.
TEST(SeccompFilter, ProfilesAreIndependentAndCombine) {
    struct Case {
        const char* name;
        std::vector<SeccompProfile> profiles;
        bool exec_once;
        const char* syscall;
        std::vector<std::uint64_t> args;
        std::uint32_t expected;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"baseline alone allows inet sockets",
         {SeccompProfile::kBaseline},
         false,
         "socket",
         {AF_INET},
         kAllow},
        {"baseline alone allows writes",
         {SeccompProfile::kBaseline},
         false,
         "openat",
         {0, 0, O_WRONLY},
         kAllow},
        {"baseline alone allows execve", {SeccompProfile::kBaseline}, false, "execve", {}, kAllow},
        {"no-network alone allows mount to reach the kernel",
         {SeccompProfile::kNoNetwork},
         false,
         "mount",
         {},
         kAllow},
        {"no-network alone denies inet",
         {SeccompProfile::kNoNetwork},
         false,
         "socket",
         {AF_INET},
         errno_ret(EAFNOSUPPORT)},
        {"no-network denies io_uring too",
         {SeccompProfile::kNoNetwork},
         false,
         "io_uring_setup",
         {},
         errno_ret(EPERM)},
        {"no-write alone denies writes",
         {SeccompProfile::kNoWrite},
         false,
         "openat",
         {0, 0, O_WRONLY},
         errno_ret(EPERM)},
        {"no-write denies io_uring too",
         {SeccompProfile::kNoWrite},
         false,
         "io_uring_enter",
         {},
         errno_ret(EPERM)},
        {"no-write alone allows ptrace", {SeccompProfile::kNoWrite}, false, "ptrace", {}, kAllow},
        {"exec-once alone notifies execve", {}, true, "execve", {}, kNotify},
        {"exec-once alone denies a listener",
         {},
         true,
         "seccomp",
         {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER},
         errno_ret(EPERM)},
        {"without exec-once a listener is allowed",
         {SeccompProfile::kBaseline},
         false,
         "seccomp",
         {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER},
         kAllow},
        {"exec-once alone allows mount to reach the kernel", {}, true, "mount", {}, kAllow},
        {"all three deny mount", kAll, true, "mount", {}, errno_ret(EPERM)},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::vector<sock_filter> program =
            filter_for(AUDIT_ARCH_X86_64, c.profiles, c.exec_once);
        Call call{AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X86_64, c.syscall), {}};
        for (std::size_t i = 0; i < c.args.size(); ++i) call.args[i] = c.args[i];
        EXPECT_EQ(describe(run_bpf(program, call)), describe(c.expected));
    }
}

// Every combination of profiles compiles on both host architectures into a program the
// kernel accepts (at most BPF_MAXINSNS instructions).
TEST(SeccompFilter, EveryCombinationCompiles) {
    for (const std::uint32_t native :
         {std::uint32_t{AUDIT_ARCH_X86_64}, std::uint32_t{AUDIT_ARCH_AARCH64}}) {
        for (unsigned mask = 0; mask < 8; ++mask) {
            for (const bool exec_once : {false, true}) {
                std::vector<SeccompProfile> profiles;
                for (unsigned bit = 0; bit < 3; ++bit) {
                    if ((mask & (1u << bit)) != 0) profiles.push_back(kAll[bit]);
                }
                SCOPED_TRACE(std::to_string(native) + " mask " + std::to_string(mask) +
                             (exec_once ? " exec-once" : ""));
                const std::vector<seccomp::SyscallRule> rules =
                    seccomp::rules_for(profiles, exec_once);
                if (rules.empty()) continue;  // nothing to load: apply() loads no filter
                const std::vector<sock_filter> program = filter_for(native, profiles, exec_once);
                EXPECT_GT(program.size(), 0u);
                EXPECT_LE(program.size(), static_cast<std::size_t>(BPF_MAXINSNS));
            }
        }
    }
}

// ---- Programs compiled at build time (seccomp_prebuilt.hpp) ------------------------------------

bool same_program(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](const sock_filter& x, const sock_filter& y) {
                                                  return x.code == y.code && x.jt == y.jt &&
                                                         x.jf == y.jf && x.k == y.k;
                                              });
}

// The generated table holds, for every ordered selection of profiles and exec-once, exactly
// the program that compiling at run time gives, and the same ceiling: using it changes no
// filter, only when it is built.
TEST(SeccompPrebuilt, EveryEntryIsTheProgramCompiledAtRunTime) {
    namespace prebuilt = seccomp::prebuilt;
    if (prebuilt::kTable.arch == 0)
        GTEST_SKIP() << "a cross build: no programs compiled at build time";
    const std::uint32_t native = seccomp::native_architecture();
    ASSERT_EQ(prebuilt::kTable.arch, native);
    const auto arches = seccomp::architectures_for(native);
    const auto selections = prebuilt::every_selection();
    EXPECT_EQ(selections.size(), 16u);  // 1 + 3 + 6 + 6 ordered selections of 3 profiles
    std::size_t programs = 0;
    for (const auto& profiles : selections) {
        for (const bool exec_once : {false, true}) {
            SCOPED_TRACE("key " + std::to_string(prebuilt::key_for(profiles)) +
                         (exec_once ? " exec-once" : ""));
            const auto rules = seccomp::rules_for(profiles, exec_once);
            const auto from_table = prebuilt::filter(prebuilt::kTable, profiles, exec_once);
            if (rules.empty()) {
                EXPECT_FALSE(from_table.has_value());
                continue;
            }
            ++programs;
            ASSERT_TRUE(from_table.has_value());
            Result<std::vector<sock_filter>> compiled = seccomp::compile(rules, arches);
            ASSERT_TRUE(compiled.ok()) << compiled.error().full();
            EXPECT_TRUE(same_program(*from_table, compiled.value()));
        }
    }
    EXPECT_EQ(programs, prebuilt::kTable.count);
    const auto ceiling = prebuilt::ceiling(prebuilt::kTable);
    ASSERT_TRUE(ceiling.has_value());
    EXPECT_TRUE(same_program(*ceiling, seccomp::ceiling_program(seccomp::ceilings_for(arches))));
}

// A table made for another architecture or another libseccomp is never used: prepare() then
// compiles at run time. Duplicated profiles have no entry either.
TEST(SeccompPrebuilt, ATableForAnotherMachineIsNotUsed) {
    namespace prebuilt = seccomp::prebuilt;
    const sock_filter allow[] = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
    const prebuilt::Entry entries[] = {
        {prebuilt::key_for({SeccompProfile::kBaseline}), true, allow, 1}};
    const scmp_version* v = seccomp_version();
    ASSERT_NE(v, nullptr);
    const std::uint32_t native = seccomp::native_architecture();
    const prebuilt::Table here{native, {v->major, v->minor, v->micro}, allow, 1, entries, 1};
    EXPECT_TRUE(prebuilt::filter(here, {SeccompProfile::kBaseline}, true).has_value());
    EXPECT_TRUE(prebuilt::ceiling(here).has_value());
    EXPECT_FALSE(prebuilt::filter(here, {SeccompProfile::kBaseline}, false).has_value());
    EXPECT_FALSE(
        prebuilt::filter(here, {SeccompProfile::kBaseline, SeccompProfile::kBaseline}, true)
            .has_value());
    const std::uint32_t other =
        native == AUDIT_ARCH_X86_64 ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64;
    const prebuilt::Table elsewhere{other, {v->major, v->minor, v->micro}, allow, 1, entries, 1};
    EXPECT_FALSE(prebuilt::filter(elsewhere, {SeccompProfile::kBaseline}, true).has_value());
    EXPECT_FALSE(prebuilt::ceiling(elsewhere).has_value());
    const prebuilt::Table older{native, {v->major, v->minor, v->micro + 1}, allow, 1, entries, 1};
    EXPECT_FALSE(prebuilt::filter(older, {SeccompProfile::kBaseline}, true).has_value());
    EXPECT_FALSE(prebuilt::ceiling(older).has_value());
}

TEST(SeccompTables, RulesAreDeduplicatedAndOrdered) {
    const std::vector<seccomp::SyscallRule> once = seccomp::rules_for(kAll, true);
    const std::vector<seccomp::SyscallRule> twice =
        seccomp::rules_for({SeccompProfile::kNoWrite, SeccompProfile::kNoNetwork,
                            SeccompProfile::kBaseline, SeccompProfile::kNoWrite},
                           true);
    EXPECT_EQ(once.size(), twice.size());
    std::size_t io_uring_setup = 0;
    for (const auto& rule : once) io_uring_setup += rule.name == "io_uring_setup" ? 1 : 0;
    EXPECT_EQ(io_uring_setup, 1u);  // in all three profiles, one row
    EXPECT_TRUE(seccomp::rules_for({}, false).empty());
    EXPECT_EQ(seccomp::rules_for({}, true).size(), exec_once::filter_rules().size());
}

TEST(SeccompTables, ArchitecturesIncludeEveryCompatAbi) {
    EXPECT_EQ(seccomp::architectures_for(AUDIT_ARCH_X86_64),
              (std::vector<std::uint32_t>{AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, SCMP_ARCH_X32}));
    EXPECT_EQ(seccomp::architectures_for(AUDIT_ARCH_AARCH64),
              (std::vector<std::uint32_t>{AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM}));
    EXPECT_EQ(seccomp::architectures_for(AUDIT_ARCH_ARM),
              std::vector<std::uint32_t>{AUDIT_ARCH_ARM});
    EXPECT_EQ(seccomp::architectures_for(AUDIT_ARCH_RISCV64),
              std::vector<std::uint32_t>{AUDIT_ARCH_RISCV64});
}

// ---- The ceiling: syscalls newer than libseccomp's tables -----------------------------------

// One system call on one architecture through a hand-written program (the ceiling, the wall).
struct ProgramCase {
    const char* name;
    const std::vector<sock_filter>* program;
    std::uint32_t arch;
    std::int32_t nr;
    std::uint32_t expected;
};

void check_program_cases(const std::vector<ProgramCase>& cases) {
    for (const ProgramCase& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(describe(run_bpf(*c.program, {c.arch, c.nr, {}})), describe(c.expected));
    }
}

TEST(SeccompCeiling, NewerSyscallsFailWithEnosysOnEveryArchitecture) {
    const std::vector<seccomp::Ceiling> x86 =
        seccomp::ceilings_for(seccomp::architectures_for(AUDIT_ARCH_X86_64));
    const std::vector<seccomp::Ceiling> arm =
        seccomp::ceilings_for(seccomp::architectures_for(AUDIT_ARCH_AARCH64));
    ASSERT_EQ(x86.size(), 3u);
    ASSERT_EQ(arm.size(), 2u);
    const std::uint32_t highest = x86[0].above;  // the same shared table on every arch
    EXPECT_GE(highest, 450u);                    // libseccomp 2.5.4 knows up to futex_requeue
    const std::vector<sock_filter> x86_program = seccomp::ceiling_program(x86);
    const std::vector<sock_filter> arm_program = seccomp::ceiling_program(arm);
    const std::int32_t first_unknown = static_cast<std::int32_t>(highest + 1);
    // clang-format off
    const std::vector<ProgramCase> cases = {
        {"x86_64 first unknown", &x86_program, AUDIT_ARCH_X86_64, first_unknown, errno_ret(ENOSYS)},
        {"x86_64 setxattrat", &x86_program, AUDIT_ARCH_X86_64, 463, errno_ret(ENOSYS)},
        {"x86_64 1023", &x86_program, AUDIT_ARCH_X86_64, 1023, errno_ret(ENOSYS)},
        {"i386 setxattrat", &x86_program, AUDIT_ARCH_I386, 463, errno_ret(ENOSYS)},
        {"x32 setxattrat", &x86_program, AUDIT_ARCH_X86_64, 0x40000000 | 463, errno_ret(ENOSYS)},
        {"aarch64 file_setattr", &arm_program, AUDIT_ARCH_AARCH64, 469, errno_ret(ENOSYS)},
        {"arm open_tree_attr", &arm_program, AUDIT_ARCH_ARM, 467, errno_ret(ENOSYS)},
        {"x86_64 highest known", &x86_program, AUDIT_ARCH_X86_64,
         static_cast<std::int32_t>(highest), kAllow},
        {"x86_64 read", &x86_program, AUDIT_ARCH_X86_64, 0, kAllow},
        {"x86_64 uretprobe (old range)", &x86_program, AUDIT_ARCH_X86_64, 335, kAllow},
        {"x86_64 1024 and up", &x86_program, AUDIT_ARCH_X86_64, 1024, kAllow},
        {"x32 own syscalls from 512", &x86_program, AUDIT_ARCH_X86_64, 0x40000000 | 520, kAllow},
        {"x32 read", &x86_program, AUDIT_ARCH_X86_64, 0x40000000, kAllow},
        {"arm private syscalls", &arm_program, AUDIT_ARCH_ARM, 0x0f0005, kAllow},
        {"aarch64 openat", &arm_program, AUDIT_ARCH_AARCH64, 56, kAllow},
        {"another architecture is left to the profile filter", &x86_program, AUDIT_ARCH_AARCH64,
         463, kAllow},
    };
    // clang-format on
    check_program_cases(cases);
}

// The second wall's filter: the two pidfd calls that could name a process outside the request
// through a /proc directory fd fail with ENOSYS on every architecture; nothing else changes.
TEST(SeccompWall, PidfdCallsFailWithEnosysOnEveryArchitecture) {
    const std::vector<sock_filter> x86 =
        seccomp::wall_program(seccomp::architectures_for(AUDIT_ARCH_X86_64));
    const std::vector<sock_filter> arm =
        seccomp::wall_program(seccomp::architectures_for(AUDIT_ARCH_AARCH64));
    // clang-format off
    const std::vector<ProgramCase> cases = {
        {"x86_64 pidfd_send_signal", &x86, AUDIT_ARCH_X86_64, 424, errno_ret(ENOSYS)},
        {"x86_64 pidfd_open", &x86, AUDIT_ARCH_X86_64, 434, errno_ret(ENOSYS)},
        {"i386 pidfd_send_signal", &x86, AUDIT_ARCH_I386, 424, errno_ret(ENOSYS)},
        {"i386 pidfd_open", &x86, AUDIT_ARCH_I386, 434, errno_ret(ENOSYS)},
        {"x32 pidfd_send_signal", &x86, AUDIT_ARCH_X86_64, 0x40000000 | 424, errno_ret(ENOSYS)},
        {"x32 pidfd_open", &x86, AUDIT_ARCH_X86_64, 0x40000000 | 434, errno_ret(ENOSYS)},
        {"aarch64 pidfd_send_signal", &arm, AUDIT_ARCH_AARCH64, 424, errno_ret(ENOSYS)},
        {"arm pidfd_open", &arm, AUDIT_ARCH_ARM, 434, errno_ret(ENOSYS)},
        {"x86_64 kill", &x86, AUDIT_ARCH_X86_64, 62, kAllow},
        {"x86_64 pidfd_getfd (baseline's)", &x86, AUDIT_ARCH_X86_64, 438, kAllow},
        {"x86_64 clone3 next to them", &x86, AUDIT_ARCH_X86_64, 435, kAllow},
        {"x32 read", &x86, AUDIT_ARCH_X86_64, 0x40000000, kAllow},
        {"i386 kill", &x86, AUDIT_ARCH_I386, 37, kAllow},
        {"aarch64 openat", &arm, AUDIT_ARCH_AARCH64, 56, kAllow},
        {"another architecture", &x86, AUDIT_ARCH_AARCH64, 424, kAllow},
    };
    // clang-format on
    check_program_cases(cases);
}

// ---- Exec-once rows ------------------------------------------------------------------------

TEST(ExecOnce, FilterNotifiesExecsAndRefusesListeners) {
    const std::vector<seccomp::SyscallRule> rules = exec_once::filter_rules();
    ASSERT_EQ(rules.size(), 3u);
    EXPECT_EQ(rules[0].name, "execve");
    EXPECT_TRUE(rules[0].notify);
    EXPECT_EQ(rules[1].name, "execveat");
    EXPECT_TRUE(rules[1].notify);
    EXPECT_EQ(rules[2].name, "seccomp");
    EXPECT_FALSE(rules[2].notify);
    EXPECT_EQ(rules[2].err, EPERM);
}

// ---- Landlock masks ------------------------------------------------------------------------

TEST(LandlockMasks, GrowWithTheAbi) {
    using namespace landlock;
    struct Case {
        int abi;
        std::uint64_t read, write, execute;
    };
    const std::uint64_t v1_write = kWriteFile | kRemoveDir | kRemoveFile | kMakeChar | kMakeDir |
                                   kMakeReg | kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
    // clang-format off
    const std::vector<Case> cases = {
        {0, 0, 0, 0},
        {-1, 0, 0, 0},
        {1, kReadFile | kReadDir, v1_write, kExecute},
        {2, kReadFile | kReadDir, v1_write | kRefer, kExecute},
        {3, kReadFile | kReadDir, v1_write | kRefer | kTruncate, kExecute},
        {4, kReadFile | kReadDir, v1_write | kRefer | kTruncate, kExecute},
        {5, kReadFile | kReadDir, v1_write | kRefer | kTruncate | kIoctlDev, kExecute},
        {7, kReadFile | kReadDir, v1_write | kRefer | kTruncate | kIoctlDev, kExecute},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.abi);
        EXPECT_EQ(read_rights(c.abi), c.read);
        EXPECT_EQ(write_rights(c.abi), c.write);
        EXPECT_EQ(execute_rights(c.abi), c.execute);
    }
    EXPECT_EQ(kTruncate, 1ULL << 14);
    EXPECT_EQ(kIoctlDev, 1ULL << 15);
}

TEST(LandlockMasks, FilesTakeOnlyFileRights) {
    using namespace landlock;
    EXPECT_EQ(file_rights(read_rights(7)), kReadFile);
    EXPECT_EQ(file_rights(write_rights(7)), kWriteFile | kTruncate | kIoctlDev);
    EXPECT_EQ(file_rights(execute_rights(7)), kExecute);
    EXPECT_EQ(file_rights(kReadDir | kMakeReg | kRemoveFile | kRefer), 0u);
}

TEST(LandlockMasks, OnlyListedClassesAreHandled) {
    using namespace landlock;
    policy::LandlockRules rules;
    EXPECT_EQ(handled_rights(rules, 7), 0u);
    rules.write = std::vector<std::string>{};
    EXPECT_EQ(handled_rights(rules, 7), write_rights(7));
    rules.read = std::vector<std::string>{"/usr"};
    EXPECT_EQ(handled_rights(rules, 7), write_rights(7) | read_rights(7));
    rules.execute = std::vector<std::string>{"/usr"};
    EXPECT_EQ(handled_rights(rules, 1), write_rights(1) | read_rights(1) | kExecute);
    EXPECT_EQ(handled_rights(rules, 0), 0u);
}

// ---- Resource limits -------------------------------------------------------------------------

TEST(Limits, ClampNeverRaisesTheHardLimit) {
    struct Case {
        const char* name;
        rlim_t soft, hard;
        rlimit current, expected;
    };
    const Case cases[] = {
        {"below an infinite limit", 10, 11, {RLIM_INFINITY, RLIM_INFINITY}, {10, 11}},
        {"above the hard limit", 100, 100, {5, 50}, {50, 50}},
        {"soft above a lower hard", 10, 20, {5, 8}, {8, 8}},
        {"zero", 0, 0, {RLIM_INFINITY, RLIM_INFINITY}, {0, 0}},
        {"current soft is irrelevant", 10, 10, {1, RLIM_INFINITY}, {10, 10}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const rlimit got = limits::clamp(c.soft, c.hard, c.current);
        EXPECT_EQ(got.rlim_cur, c.expected.rlim_cur);
        EXPECT_EQ(got.rlim_max, c.expected.rlim_max);
    }
}

TEST(Limits, PlanHasNoCoreDumpsAndTheProfilesLimits) {
    const auto infinite = [](int) { return rlimit{RLIM_INFINITY, RLIM_INFINITY}; };
    const limits::Plan none = limits::plan({}, infinite);
    ASSERT_EQ(none.count, 1u);
    EXPECT_EQ(none.settings[0].resource, RLIMIT_CORE);
    EXPECT_EQ(none.settings[0].value.rlim_max, 0u);

    policy::ResourceLimits all;
    all.cpu = std::chrono::seconds(20);
    all.address_space = 1u << 30;
    all.processes = 64;
    all.file_size = 1u << 20;
    all.open_files = 256;
    const limits::Plan plan = limits::plan(all, infinite);
    ASSERT_EQ(plan.count, 6u);
    // clang-format off
    const std::vector<std::tuple<int, rlim_t, rlim_t>> expected = {
        {RLIMIT_CORE, 0, 0},
        {RLIMIT_CPU, 20, 21},
        {RLIMIT_AS, 1u << 30, 1u << 30},
        {RLIMIT_NPROC, 64, 64},
        {RLIMIT_FSIZE, 1u << 20, 1u << 20},
        {RLIMIT_NOFILE, 256, 256}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(plan.settings[i].resource, std::get<0>(expected[i]));
        EXPECT_EQ(plan.settings[i].value.rlim_cur, std::get<1>(expected[i]));
        EXPECT_EQ(plan.settings[i].value.rlim_max, std::get<2>(expected[i]));
    }
    // A lower hard limit inherited from sshd wins.
    const limits::Plan low = limits::plan(all, [](int resource) {
        return resource == RLIMIT_NOFILE ? rlimit{64, 128} : rlimit{RLIM_INFINITY, RLIM_INFINITY};
    });
    EXPECT_EQ(low.settings[5].value.rlim_cur, 128u);
    EXPECT_EQ(low.settings[5].value.rlim_max, 128u);
}

// ---- The plan ------------------------------------------------------------------------------

TEST(SandboxPlan, LandlockStateAndRefusal) {
    using Mode = policy::LandlockRules::Mode;
    struct Case {
        const char* name;
        std::optional<Mode> mode;  // nullopt: no landlock section
        policy::LandlockSetting setting;
        int abi;
        std::string text;
        bool refused;
    };
    // clang-format on
    const Case cases[] = {
        {"no section", std::nullopt, policy::LandlockSetting::kAuto, 7, "none", false},
        {"no section, off", std::nullopt, policy::LandlockSetting::kOff, 7, "none", false},
        {"prefer, present", Mode::kPrefer, policy::LandlockSetting::kAuto, 7, "abi-7", false},
        {"prefer, ABI 1", Mode::kPrefer, policy::LandlockSetting::kAuto, 1, "abi-1", false},
        {"prefer, absent", Mode::kPrefer, policy::LandlockSetting::kAuto, 0, "unavailable", false},
        {"prefer, forced off", Mode::kPrefer, policy::LandlockSetting::kOff, 7, "off", false},
        {"require, present", Mode::kRequire, policy::LandlockSetting::kAuto, 3, "abi-3", false},
        {"require, absent", Mode::kRequire, policy::LandlockSetting::kAuto, 0, "unavailable", true},
        {"require, forced off", Mode::kRequire, policy::LandlockSetting::kOff, 7, "off", true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
        profile.name = "logs";
        if (c.mode) {
            profile.landlock = policy::LandlockRules{};
            profile.landlock->mode = *c.mode;
            profile.landlock->write = std::vector<std::string>{};
        }
        const Plan p = plan(profile, c.setting, c.abi);
        EXPECT_EQ(p.landlock_text(), c.text);
        EXPECT_EQ(!p.refusal.empty(), c.refused) << p.refusal;
        if (c.refused) {
            EXPECT_NE(p.refusal.find("'logs' requires Landlock"), std::string::npos);
        }
    }
    policy::SandboxProfile off = policy::builtin_baseline_sandbox();
    off.landlock = policy::LandlockRules{};
    off.landlock->mode = Mode::kRequire;
    off.landlock->read = std::vector<std::string>{};
    EXPECT_NE(plan(off, policy::LandlockSetting::kOff, 7).refusal.find("settings.landlock: off"),
              std::string::npos);
    EXPECT_NE(
        plan(off, policy::LandlockSetting::kAuto, 0).refusal.find("this kernel does not provide"),
        std::string::npos);
}

TEST(SandboxPlan, NamesTheSeccompProfiles) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    EXPECT_EQ(plan(profile, policy::LandlockSetting::kAuto, 0).seccomp_text(), "baseline");
    profile.seccomp = {SeccompProfile::kBaseline, SeccompProfile::kNoWrite,
                       SeccompProfile::kNoNetwork};
    EXPECT_EQ(plan(profile, policy::LandlockSetting::kAuto, 0).seccomp_text(),
              "baseline,no-write,no-network");
    profile.seccomp.clear();
    EXPECT_EQ(plan(profile, policy::LandlockSetting::kAuto, 0).seccomp_text(), "none");
}

// What prepare() builds for a few profiles (no kernel needed beyond libseccomp; Landlock off).
TEST(SandboxPrepare, BuildsOnlyWhatTheProfileAsksFor) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    Result<Prepared> baseline = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(baseline.ok()) << baseline.error().full();
    EXPECT_FALSE(baseline.value().filter.empty());
    EXPECT_FALSE(baseline.value().ceiling.empty());
    EXPECT_TRUE(baseline.value().exec_once);
    EXPECT_TRUE(baseline.value().no_new_privs);
    EXPECT_EQ(baseline.value().landlock_ruleset, -1);
    EXPECT_EQ(baseline.value().umask, 022u);

    profile.seccomp = {SeccompProfile::kNoWrite};
    profile.exec_once = false;
    profile.umask = 077;
    Result<Prepared> no_write = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(no_write.ok());
    EXPECT_FALSE(no_write.value().filter.empty());
    EXPECT_TRUE(no_write.value().ceiling.empty());  // the ceiling belongs to baseline
    EXPECT_FALSE(no_write.value().exec_once);
    EXPECT_EQ(no_write.value().umask, 077u);

    EXPECT_FALSE(no_write.value().wall.empty());  // the second wall is every sandbox's

    profile.seccomp.clear();
    Result<Prepared> walled = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(walled.ok());
    EXPECT_TRUE(walled.value().filter.empty());
    EXPECT_FALSE(walled.value().wall.empty());
    EXPECT_TRUE(walled.value().no_new_privs);  // which needs no_new_privs

    profile.namespaces = policy::NamespaceMode::kOff;
    Result<Prepared> nothing = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(nothing.ok());
    EXPECT_TRUE(nothing.value().filter.empty());
    EXPECT_TRUE(nothing.value().wall.empty());
    EXPECT_FALSE(nothing.value().no_new_privs);  // the explicit opt-out of everything
    // Core dumps are still off, and the default memory bound holds; outside a user namespace
    // only a process count the policy sets applies.
    EXPECT_EQ(nothing.value().limits_shared.count, 2u);
    EXPECT_EQ(nothing.value().limits.count, 3u);
}

// The default bounds of model.hpp, and what a profile's own limits do to them.
TEST(SandboxPrepare, DefaultBoundsAreMemoryAndAPerRequestProcessCount) {
    const auto value_of = [](const limits::Plan& p, int resource) -> std::optional<rlim_t> {
        for (std::size_t i = 0; i < p.count; ++i) {
            if (p.settings[i].resource == resource) return p.settings[i].value.rlim_cur;
        }
        return std::nullopt;
    };
    rlimit hard{};
    ::getrlimit(RLIMIT_NPROC, &hard);
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    Result<Prepared> defaults = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(value_of(defaults.value().limits, RLIMIT_AS), policy::kDefaultAddressSpace);
    EXPECT_EQ(value_of(defaults.value().limits, RLIMIT_NPROC),
              std::min<rlim_t>(policy::kDefaultProcesses, hard.rlim_max));
    EXPECT_EQ(value_of(defaults.value().limits_shared, RLIMIT_AS), policy::kDefaultAddressSpace);
    EXPECT_EQ(value_of(defaults.value().limits_shared, RLIMIT_NPROC), std::nullopt);

    profile.limits.processes = 12;
    profile.limits.address_space = 64ULL << 20;
    Result<Prepared> own = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(value_of(own.value().limits, RLIMIT_NPROC), std::min<rlim_t>(12, hard.rlim_max));
    EXPECT_EQ(value_of(own.value().limits_shared, RLIMIT_NPROC),
              std::min<rlim_t>(12, hard.rlim_max));
    EXPECT_EQ(value_of(own.value().limits, RLIMIT_AS), 64ULL << 20);
}

// ---- The exec log (exec_log.hpp): its pure parts --------------------------------------------

// What an entry says for each shape of path a call can name.
TEST(ExecLogEntry, DescribesEachShapeOfPath) {
    struct Case {
        std::string name, path;
        bool complete;
        std::string base;
        bool empty_is_fd;
        std::string expected;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"absolute", "/usr/bin/dpkg", true, "", false, "/usr/bin/dpkg"},
        {"absolute ignores the base", "/bin/sh", true, "/srv", false, "/bin/sh"},
        {"relative joins the base", "bin/true", true, "/usr", false, "/usr/bin/true"},
        {"relative under /", "x", true, "/", false, "/x"},
        {"relative, base unknown", "x", true, "", false, "<unknown directory>/x"},
        {"fexecve shows the fd's file", "", true, "/usr/bin/true", true, "/usr/bin/true"},
        {"fexecve, fd unknown", "", true, "", true, "<fd>"},
        {"empty without AT_EMPTY_PATH", "", true, "/tmp", false, "/tmp/"},
        {"control characters escaped", "/tmp/a\nb\x1b[31m", true, "", false, "/tmp/a\\nb\\x1B[31m"},
        {"invalid UTF-8 escaped", "/tmp/\xff", true, "", false, "/tmp/\\xFF"},
        {"unterminated", "/aaaa", false, "/", false, "<unterminated> /aaaa"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(exec_log::describe(c.path, c.complete, c.base, c.empty_is_fd), c.expected);
    }
}

// A path of any length becomes an entry of bounded size.
TEST(ExecLogEntry, LongPathsAreCut) {
    const std::string path = "/" + std::string(5000, 'x');
    const std::string entry = exec_log::describe(path, true, "", false);
    EXPECT_LT(entry.size(), exec_log::kMaxPathBytes + 32);
    EXPECT_EQ(entry.rfind("/xxx", 0), 0u);
    EXPECT_NE(entry.find("(5001 bytes)"), std::string::npos) << entry;
}

// The log keeps kMaxEntries entries and a bounded number of bytes, and counts the rest.
TEST(ExecLogEntry, TheLogIsBoundedInEntriesAndBytes) {
    exec_log::Log few;
    for (std::size_t i = 0; i < exec_log::kMaxEntries + 10; ++i) few.add("/bin/true");
    EXPECT_EQ(few.entries.size(), exec_log::kMaxEntries);
    EXPECT_EQ(few.dropped, 10u);
    exec_log::Log big;
    const std::string entry(exec_log::kMaxPathBytes, 'p');
    for (std::size_t i = 0; i < exec_log::kMaxEntries; ++i) big.add(entry);
    std::size_t bytes = 0;
    for (const std::string& e : big.entries) bytes += e.size();
    EXPECT_LE(bytes, 32u * 1024);
    EXPECT_EQ(big.entries.size() + big.dropped, exec_log::kMaxEntries);
    EXPECT_GT(big.dropped, 0u);
}

// execve and execveat by number on each architecture the filter has; anything else is other.
TEST(ExecLogEntry, CallsAreKnownByTheirArchitecturesNumbers) {
    seccomp_data data{};
    data.arch = AUDIT_ARCH_X86_64;
    data.nr = 59;
    EXPECT_EQ(exec_log::call_of(data), exec_log::Call::kExecve);
    data.nr = 322;
    EXPECT_EQ(exec_log::call_of(data), exec_log::Call::kExecveat);
    data.arch = AUDIT_ARCH_I386;
    data.nr = 11;
    EXPECT_EQ(exec_log::call_of(data), exec_log::Call::kExecve);
    data.arch = AUDIT_ARCH_AARCH64;
    data.nr = 221;
    EXPECT_EQ(exec_log::call_of(data), exec_log::Call::kExecve);
    data.nr = 59;  // x86_64's execve is something else on arm64
    EXPECT_EQ(exec_log::call_of(data), exec_log::Call::kOther);
}

// exec_log uses exec-once's filter (execve notifies the listener) with the other answers.
TEST(SandboxPrepare, TheExecLogUsesTheExecOnceFilter) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.exec_once = false;
    profile.exec_log = true;
    Result<Prepared> logged = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(logged.ok());
    EXPECT_TRUE(logged.value().exec_once);
    EXPECT_TRUE(logged.value().exec_log);
    profile.exec_once = true;
    profile.exec_log = false;
    Result<Prepared> once = prepare(plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(once.ok());
    EXPECT_FALSE(once.value().exec_log);
    EXPECT_EQ(logged.value().filter.size(), once.value().filter.size());
    EXPECT_EQ(std::memcmp(logged.value().filter.data(), once.value().filter.data(),
                          once.value().filter.size() * sizeof(sock_filter)),
              0);
}

}  // namespace
}  // namespace bridle::sandbox
