// SPDX-License-Identifier: Apache-2.0
// os/ helpers on their own: read_to_end, which every bounded whole-file read of bridle's goes
// through (policy files, the policy cache, the approval store and signers, kept versions, the
// guardrails' counters, keys given to enroll); files are memfds and pipes, nothing on disk.
// And accounts from the files alone (os/accounts.hpp): which nsswitch.conf lets the forced
// command's binary keep a request, and that its lookups then load no NSS module.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <seccomp.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "os/accounts.hpp"
#include "os/fd.hpp"
#include "os/random.hpp"
#include "os/short_slice.hpp"
#include "os/signals.hpp"

namespace bridle::os {
namespace {

// A memory file holding `content`, its offset at the start.
UniqueFd memory_file(const std::string& content) {
    UniqueFd fd(::memfd_create("os-test", MFD_CLOEXEC));
    EXPECT_GE(fd.get(), 0);
    EXPECT_TRUE(write_all(fd.get(), content));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
    return fd;
}

std::string pattern(std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

TEST(ReadToEnd, ReadsAWholeFileWhateverSizeWasExpected) {
    for (const std::size_t size : {0UL, 1UL, 4095UL, 4096UL, 4097UL, 300000UL}) {
        const std::string content = pattern(size);
        // Its size, less (a file that grew: procfs), more (one that shrank), and nothing.
        for (const std::size_t expected : {size, size / 2, size + 100, 0UL}) {
            UniqueFd fd = memory_file(content);
            std::string out = "left over";
            ASSERT_EQ(read_to_end(fd.get(), out, expected, 1 << 20), ReadEnd::kEnd)
                << size << " bytes, " << expected << " expected";
            EXPECT_EQ(out, content) << size << " bytes, " << expected << " expected";
        }
    }
}

TEST(ReadToEnd, TheLimitIsTheLargestFileRead) {
    for (const std::size_t limit : {0UL, 1UL, 100UL, 65536UL}) {
        for (const std::size_t expected : {0UL, limit, limit + 1}) {
            std::string out;
            UniqueFd at_limit = memory_file(pattern(limit));
            EXPECT_EQ(read_to_end(at_limit.get(), out, expected, limit), ReadEnd::kEnd);
            EXPECT_EQ(out.size(), limit);

            out = "left over";
            UniqueFd past = memory_file(pattern(limit + 1));
            EXPECT_EQ(read_to_end(past.get(), out, expected, limit), ReadEnd::kPastLimit)
                << limit << " limit, " << expected << " expected";
            EXPECT_TRUE(out.empty());
        }
    }
}

TEST(ReadToEnd, ReadsFromTheCurrentOffset) {
    UniqueFd fd = memory_file("header:body");
    ASSERT_EQ(::lseek(fd.get(), 7, SEEK_SET), 7);
    std::string out;
    ASSERT_EQ(read_to_end(fd.get(), out, 100, 100), ReadEnd::kEnd);
    EXPECT_EQ(out, "body");
}

TEST(ReadToEnd, ReadsAPipeWrittenInPiecesUntilItsWriterCloses) {
    UniqueFd read_end, write_end;
    ASSERT_TRUE(make_pipe(read_end, write_end));
    const std::string content = pattern(200000);  // more than a pipe holds: the writer blocks
    std::thread writer([&] {
        for (std::size_t at = 0; at < content.size(); at += 777) {
            ASSERT_TRUE(write_all(write_end.get(), std::string_view(content).substr(at, 777)));
        }
        write_end.reset();
    });
    std::string out;
    const ReadEnd end = read_to_end(read_end.get(), out, 10, 1 << 20);
    writer.join();
    EXPECT_EQ(end, ReadEnd::kEnd);
    EXPECT_EQ(out, content);
}

TEST(ReadToEnd, AFailedReadEmptiesTheOutputAndKeepsErrno) {
    const UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_GE(dir.get(), 0);
    std::string out = "left over";
    errno = 0;
    EXPECT_EQ(read_to_end(dir.get(), out, 10, 100), ReadEnd::kFailed);
    EXPECT_EQ(errno, EISDIR);
    EXPECT_TRUE(out.empty());

    errno = 0;
    EXPECT_EQ(read_to_end(-1, out, 10, 100), ReadEnd::kFailed);
    EXPECT_EQ(errno, EBADF);
}

TEST(Accounts, TheFilesSufficeWhereOnlyFilesAndSystemdAreNamed) {
    EXPECT_TRUE(
        files_suffice("passwd:         files systemd\ngroup:          files systemd\n"
                      "shadow:         files systemd\nhosts:          files mdns4 dns\n"
                      "netgroup:       nis\n"));
    EXPECT_TRUE(files_suffice("passwd: files\ngroup: files\n"));
    EXPECT_TRUE(files_suffice(""));  // glibc's default for both is files
    EXPECT_TRUE(files_suffice("passwd:files\tsystemd\r\ngroup:\tFILES\n"));
    EXPECT_TRUE(files_suffice("passwd: files [NOTFOUND=return] systemd\n"));
    EXPECT_TRUE(files_suffice("passwd: files [NOTFOUND=return TRYAGAIN=continue]\n"));
    EXPECT_TRUE(files_suffice("passwd: files # sss\n#group: ldap\n"));
    EXPECT_TRUE(files_suffice("a line without a colon\nhosts: ldap\n"));
}

TEST(Accounts, AnyOtherSourceOrAnUnreadableLineHandsTheRequestOver) {
    EXPECT_FALSE(files_suffice("passwd: files sss\ngroup: files\n"));
    EXPECT_FALSE(files_suffice("passwd: files\ngroup: files ldap\n"));
    EXPECT_FALSE(files_suffice("passwd: files\ninitgroups: files winbind\n"));
    EXPECT_FALSE(files_suffice("passwd: compat\n"));
    EXPECT_FALSE(files_suffice("passwd: sss files\n"));
    EXPECT_FALSE(files_suffice("PASSWD: SSS\n"));
    EXPECT_FALSE(files_suffice("  group  : files extrausers\n"));
    EXPECT_FALSE(files_suffice("passwd:\n"));  // no source at all
    EXPECT_FALSE(files_suffice("passwd: files [NOTFOUND=return\n"));
    EXPECT_FALSE(files_suffice("passwd: files[NOTFOUND=return]sss\n"));
    EXPECT_FALSE(files_suffice("passwd: files\npasswd: ldap\n"));  // every line counts
    constexpr char kWithNul[] = "passwd: files\0sss\n";
    EXPECT_FALSE(files_suffice(std::string(kWithNul, sizeof kWithNul - 1)));
}

// In a child (the setting is the process's): after use_files_only, a user and its groups
// resolve from the files, and no module is mapped, whatever this host's nsswitch.conf names
// (Debian's "files systemd" loads libnss_systemd for getgrouplist otherwise).
TEST(Accounts, LookupsAfterUseFilesOnlyLoadNoModule) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        use_files_only();
        const passwd* root = user_named("root");
        if (root == nullptr || root->pw_uid != 0) ::_exit(3);
        gid_t groups[64];
        int count = 64;
        if (group_list("root", root->pw_gid, groups, &count) < 1) ::_exit(4);
        if (group_named("root") == nullptr) ::_exit(5);
        const passwd* by_uid = user_with_uid(0);
        if (by_uid == nullptr || std::string(by_uid->pw_name) != "root") ::_exit(8);
        if (::geteuid() == 0 && own_account_name() != std::optional<std::string>("root"))
            ::_exit(9);
        std::ifstream maps("/proc/self/maps");
        const std::string text((std::istreambuf_iterator<char>(maps)), {});
        ::_exit(text.empty() ? 6 : text.find("libnss_") != std::string::npos ? 7 : 0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Accounts, PasswdNameOfTakesTheFirstWellFormedLineWithTheUid) {
    const std::string text =
        "# a comment:x:1000:1000::/:/bin/sh\n"
        "\n"
        "+nis:x:1000:1000::/:/bin/sh\n"
        "-nis:x:1000:1000::/:/bin/sh\n"
        "six:x:1000:1000::/\n"
        "eight:x:1000:1000::/:/bin/sh:more\n"
        " spaced:x:1000:1000::/:/bin/sh\n"
        "signed:x:+1000:1000::/:/bin/sh\n"
        "hex:x:0x3e8:1000::/:/bin/sh\n"
        "empty:x::1000::/:/bin/sh\n"
        ":x:1000:1000::/:/bin/sh\n"
        "huge:x:100000000000:1000::/:/bin/sh\n"
        "agent:x:1000:1000:An Agent:/home/agent:/usr/bin/bridle\n"
        "second:x:1000:1000::/:/bin/sh\n"
        "root:x:0:0:root:/root:\n"
        "tail:x:4294967294:1::/:/bin/sh";
    EXPECT_EQ(passwd_name_of(text, 1000), std::optional<std::string>("agent"));
    EXPECT_EQ(passwd_name_of(text, 0), std::optional<std::string>("root"));  // empty shell
    EXPECT_EQ(passwd_name_of(text, 4294967294u), std::optional<std::string>("tail"));  // no \n
    EXPECT_EQ(passwd_name_of(text, 1001), std::nullopt);
    EXPECT_EQ(passwd_name_of(text, 1410065408u), std::nullopt);  // 100000000000 mod 2^32
    EXPECT_EQ(passwd_name_of("", 0), std::nullopt);
    const std::string with_nul("nul\0x:x:7:7::/:/bin/sh\n", 24);  // no control character
    EXPECT_EQ(passwd_name_of(with_nul, 7), std::nullopt);
    EXPECT_EQ(passwd_name_of("tab\tname:x:7:7::/:/bin/sh\n", 7), std::nullopt);
}

// In a child (it changes its effective uid): the name follows the effective uid, whatever was
// looked up before, and an id without an account has none.
TEST(Accounts, OwnAccountNameFollowsTheEffectiveUid) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (seteuid)";
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;
    uid_t unused = 54321;
    while (::getpwuid(unused) != nullptr) ++unused;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (own_account_name() != std::optional<std::string>("root")) ::_exit(1);
        if (::seteuid(nobody_uid) != 0) ::_exit(2);
        if (own_account_name() != std::optional<std::string>("nobody")) ::_exit(3);
        if (::seteuid(0) != 0 || ::seteuid(unused) != 0) ::_exit(4);
        if (own_account_name().has_value()) ::_exit(5);
        if (::seteuid(0) != 0) ::_exit(6);
        ::_exit(own_account_name() == std::optional<std::string>("root") ? 0 : 7);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the step that failed";
}

TEST(Signals, ToResetAreTheIgnoredAndCaughtOnesOrEveryOne) {
    const std::string status =
        "Name:\tbridle\nSigQ:\t0/96367\nSigPnd:\t0000000000000000\n"
        "ShdPnd:\t0000000000000000\nSigBlk:\t0000000000010000\n"
        "SigIgn:\t0000000000001000\nSigCgt:\t8000000180000000\nCapInh:\t0000000000000000\n";
    EXPECT_EQ(signals_to_reset(status), 0x8000000180001000ULL);
    constexpr std::uint64_t kAll = ~std::uint64_t{0};
    EXPECT_EQ(signals_to_reset(""), kAll);
    EXPECT_EQ(signals_to_reset("SigIgn:\t0000000000001000\n"), kAll);  // no SigCgt
    EXPECT_EQ(signals_to_reset("SigIgn:\t000000000001000\nSigCgt:\t0000000000000000\n"), kAll);
    EXPECT_EQ(signals_to_reset("SigIgn:\t000000000000100X\nSigCgt:\t0000000000000000\n"), kAll);
    EXPECT_EQ(signals_to_reset("SigIgn:\t0000000000001000"), kAll);  // cut short
    EXPECT_EQ(signals_to_reset("XSigIgn:\t0000000000001000\nSigCgt:\t0000000000000000\n"), kAll);
}

void count_signal(int) {}

// In a child (dispositions are the process's): ignored ones (a real-time signal and one glibc
// reserves among them) and caught ones back to SIG_DFL, and nothing blocked.
TEST(Signals, ResetLeavesNothingIgnoredCaughtOrBlocked) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        struct {
            void (*handler)(int);
            unsigned long flags;
            void (*restorer)();
            std::uint64_t mask;
        } ignore{SIG_IGN, 0, nullptr, 0};
        if (::syscall(SYS_rt_sigaction, 32, &ignore, nullptr, sizeof ignore.mask) != 0) ::_exit(1);
        struct sigaction ignored {};
        ignored.sa_handler = SIG_IGN;
        struct sigaction caught {};
        caught.sa_handler = count_signal;
        if (::sigaction(SIGUSR1, &ignored, nullptr) != 0 ||
            ::sigaction(SIGRTMIN + 7, &ignored, nullptr) != 0 ||
            ::sigaction(SIGUSR2, &caught, nullptr) != 0 ||
            ::sigaction(SIGHUP, &caught, nullptr) != 0) {
            ::_exit(2);
        }
        sigset_t block;
        ::sigemptyset(&block);
        ::sigaddset(&block, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &block, nullptr);
        if (reset_signals() != 0) ::_exit(3);
        std::ifstream status("/proc/self/status");
        const std::string text((std::istreambuf_iterator<char>(status)), {});
        const bool clear = text.find("\nSigBlk:\t0000000000000000\n") != std::string::npos &&
                           text.find("\nSigIgn:\t0000000000000000\n") != std::string::npos &&
                           text.find("\nSigCgt:\t0000000000000000\n") != std::string::npos;
        ::_exit(clear ? 0 : 4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the step that failed";
}

// sched_attr's first 48 bytes (sched_getattr(2)), and the runtime it reports: the slice.
std::uint64_t slice_ns() {
    struct {
        std::uint32_t size, policy;
        std::uint64_t flags;
        std::int32_t nice;
        std::uint32_t priority;
        std::uint64_t runtime, deadline, period;
    } attr{};
    return ::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0 ? attr.runtime : 0;
}

bool kernel_at_least(int major, int minor) {
    utsname name{};
    int found_major = 0, found_minor = 0;
    return ::uname(&name) == 0 &&
           std::sscanf(name.release, "%d.%d", &found_major, &found_minor) == 2 &&
           (found_major > major || (found_major == major && found_minor >= minor));
}

// In a child, so that the test process keeps its own scheduling: the short slice is taken
// where the kernel has custom slices, and a process the child forks has the default again.
TEST(ShortSlice, TakenForThisProcessAndNotForTheChildrenItForks) {
    if (!kernel_at_least(6, 12)) GTEST_SKIP() << "custom slices need Linux 6.12";
    const std::uint64_t before = slice_ns();
    ASSERT_NE(before, 0u);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (!ask_short_slice() || slice_ns() != 100'000) ::_exit(1);
        const pid_t grandchild = ::fork();
        if (grandchild < 0) ::_exit(2);
        if (grandchild == 0) ::_exit(slice_ns() == before ? 0 : 3);
        int status = 0;
        if (::waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status)) ::_exit(4);
        ::_exit(WEXITSTATUS(status));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: not taken, 3: inherited by a child";
    EXPECT_EQ(slice_ns(), before);
}

// Twice as many lowercase hexadecimal digits as bytes asked for, different every time.
TEST(RandomHex, GivesTwoHexDigitsPerByteDifferentEachTime) {
    const std::string a = random_hex(16), b = random_hex(16);
    EXPECT_EQ(a.size(), 32U);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
    EXPECT_NE(a, b);
    EXPECT_EQ(random_hex(8).size(), 16U);
    EXPECT_EQ(random_hex(0), "");
}

// Refuses `syscalls` (ENOSYS) in this process, as a kernel without them or a filter would.
void refuse(std::initializer_list<int> syscalls) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    ASSERT_NE(filter, nullptr);
    for (const int nr : syscalls)
        ASSERT_EQ(seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), nr, 0), 0);
    ASSERT_EQ(seccomp_load(filter), 0);
    seccomp_release(filter);
}

// Without getrandom, /dev/urandom; without both, a line on stderr and SIGABRT, never an id
// that is not random (death tests: each runs in a child of its own).
TEST(RandomHex, FallsBackToDevUrandomAndStopsWhereBothFail) {
    EXPECT_EXIT(
        {
            refuse({SCMP_SYS(getrandom)});
            const std::string id = random_hex(16);
            std::_Exit(id.size() == 32 &&
                               id.find_first_not_of("0123456789abcdef") == std::string::npos
                           ? 0
                           : 1);
        },
        ::testing::ExitedWithCode(0), "");
    EXPECT_EXIT(
        {
            refuse({SCMP_SYS(getrandom), SCMP_SYS(open), SCMP_SYS(openat)});
            (void)random_hex(16);
            std::_Exit(0);
        },
        ::testing::KilledBySignal(SIGABRT),
        "bridle: cannot read random bytes \\(getrandom, then /dev/urandom: .*\\); stopping");
}

}  // namespace
}  // namespace bridle::os
