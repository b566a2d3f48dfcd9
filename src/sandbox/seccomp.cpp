// SPDX-License-Identifier: Apache-2.0
// seccomp: the profile rows (seccomp_profiles.cpp) compiled with libseccomp into one BPF program
// for the native architecture and its compat ABIs, the ceiling for newer syscalls, the load.
#include "sandbox/seccomp.hpp"

#include <linux/audit.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace bridle::sandbox::seccomp {
namespace {

scmp_arg_cmp to_libseccomp(const ArgTest& test) {
    if (test.op == ArgTest::Op::kNotEqual) {
        return test.low32 ? SCMP_CMP32(test.arg, SCMP_CMP_NE, test.value)
                          : SCMP_CMP64(test.arg, SCMP_CMP_NE, test.value);
    }
    return test.low32 ? SCMP_CMP32(test.arg, SCMP_CMP_MASKED_EQ, test.mask, test.value)
                      : SCMP_CMP64(test.arg, SCMP_CMP_MASKED_EQ, test.mask, test.value);
}

struct ContextDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};

// How a hand-written BPF block recognises a libseccomp architecture token: x32 shares
// x86_64's AUDIT_ARCH and marks its syscall numbers with bit 30.
struct ArchMatch {
    std::uint32_t audit_arch;
    std::uint32_t base;  // OR-ed into every syscall number
};

ArchMatch arch_match(std::uint32_t arch) {
    constexpr std::uint32_t kX32Bit = 0x40000000;
    if (arch == SCMP_ARCH_X32) return {AUDIT_ARCH_X86_64, kX32Bit};
    return {arch, 0};
}

}  // namespace

std::vector<std::uint32_t> architectures_for(std::uint32_t native) {
    switch (native) {
        case AUDIT_ARCH_X86_64:
            return {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, SCMP_ARCH_X32};
        case AUDIT_ARCH_AARCH64:
            return {AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM};
        default:
            return {native};
    }
}

std::vector<Ceiling> ceilings_for(const std::vector<std::uint32_t>& arches) {
    constexpr std::uint32_t kShared = 424;  // pidfd_send_signal, Linux 5.1
    std::vector<Ceiling> ceilings;
    for (const std::uint32_t arch : arches) {
        // x32's own syscalls start at 512.
        const auto [audit_arch, base] = arch_match(arch);
        const std::uint32_t limit = base != 0 ? 512 : 1024;
        std::uint32_t highest = kShared;
        for (std::uint32_t nr = kShared, misses = 0; misses < 64 && nr < limit; ++nr) {
            char* name = seccomp_syscall_resolve_num_arch(arch, static_cast<int>(base | nr));
            misses = name == nullptr ? misses + 1 : 0;
            if (name != nullptr) highest = nr;
            std::free(name);
        }
        ceilings.push_back({audit_arch, base | highest, base | limit});
    }
    return ceilings;
}

std::vector<sock_filter> ceiling_program(const std::vector<Ceiling>& ceilings) {
    const auto stmt = [](std::uint16_t code, std::uint32_t k) {
        return sock_filter{code, 0, 0, k};
    };
    const auto jump = [](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
        return sock_filter{code, jt, jf, k};
    };
    constexpr std::uint32_t kArch = offsetof(seccomp_data, arch);
    constexpr std::uint32_t kNr = offsetof(seccomp_data, nr);
    std::vector<sock_filter> program;
    for (const Ceiling& c : ceilings) {  // six instructions; every miss falls to the next block
        program.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, kArch));
        program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, c.arch, 0, 4));
        program.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, kNr));
        program.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, c.above, 0, 2));
        program.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, c.below, 1, 0));
        program.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
    }
    program.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    return program;
}

std::vector<sock_filter> wall_program(const std::vector<std::uint32_t>& arches) {
    constexpr std::uint32_t kPidfdSendSignal = 424, kPidfdOpen = 434;
    constexpr std::uint32_t kArch = offsetof(seccomp_data, arch);
    constexpr std::uint32_t kNr = offsetof(seccomp_data, nr);
    std::vector<sock_filter> program;
    for (const std::uint32_t arch : arches) {  // every miss falls to the next block
        const auto [audit_arch, base] = arch_match(arch);
        program.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, kArch});
        program.push_back({BPF_JMP | BPF_JEQ | BPF_K, 0, 4, audit_arch});
        program.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, kNr});
        program.push_back({BPF_JMP | BPF_JEQ | BPF_K, 1, 0, base | kPidfdSendSignal});
        program.push_back({BPF_JMP | BPF_JEQ | BPF_K, 0, 1, base | kPidfdOpen});
        program.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS});
    }
    program.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW});
    return program;
}

std::uint32_t native_architecture() {
    return seccomp_arch_native();
}

Result<std::vector<sock_filter>> compile(const std::vector<SyscallRule>& rules,
                                         const std::vector<std::uint32_t>& arches) {
    const auto failed = [](const std::string& what, int rc) {
        return Error{"cannot build the seccomp filter: " + what + ": " + std::strerror(-rc), ""};
    };
    std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) return Error{"cannot build the seccomp filter: out of memory", ""};
    // bridle loads the program itself (seccomp(2)); libseccomp must not set NNP on its own.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0) rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc != 0) return failed("attributes", rc);
    if (arches.empty() || arches.front() != seccomp_arch_native()) {
        rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE);
        if (rc == 0 && !arches.empty()) rc = seccomp_arch_add(ctx.get(), arches.front());
        if (rc != 0) return failed("architecture", rc);
    }
    for (std::size_t i = 1; i < arches.size(); ++i) {
        rc = seccomp_arch_add(ctx.get(), arches[i]);
        if (rc != 0 && rc != -EEXIST) return failed("architecture", rc);
    }
    for (const SyscallRule& rule : rules) {
        const int nr = seccomp_syscall_resolve_name(std::string(rule.name).c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: the ceiling's job
        std::vector<scmp_arg_cmp> tests;
        for (const ArgTest& test : rule.when) tests.push_back(to_libseccomp(test));
        const std::uint32_t action = rule.notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(rule.err);
        rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(tests.size()),
                                    tests.data());
        if (rc != 0) return failed(std::string(rule.name), rc);
    }
    // libseccomp writes the program to an fd; a memfd keeps it in memory.
    const int fd = ::memfd_create("bridle-seccomp", MFD_CLOEXEC);
    if (fd < 0) return failed("memfd_create", -errno);
    rc = seccomp_export_bpf(ctx.get(), fd);
    const off_t length = ::lseek(fd, 0, SEEK_END);
    std::vector<sock_filter> program(
        length > 0 ? static_cast<std::size_t>(length) / sizeof(sock_filter) : 0);
    const std::size_t bytes = program.size() * sizeof(sock_filter);
    const bool read_back = rc == 0 && length > 0 &&
                           ::pread(fd, program.data(), bytes, 0) == static_cast<ssize_t>(bytes);
    ::close(fd);
    if (rc != 0) return failed("export", rc);
    if (!read_back) return Error{"cannot build the seccomp filter: cannot read it back", ""};
    if (program.size() > BPF_MAXINSNS) return failed("the program is too long", -E2BIG);
    return program;
}

int load(const std::vector<sock_filter>& program, unsigned flags) noexcept {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.size());
    prog.filter = const_cast<sock_filter*>(program.data());
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
}

}  // namespace bridle::sandbox::seccomp
