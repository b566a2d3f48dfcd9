// SPDX-License-Identifier: Apache-2.0
// The second wall through execution::run with a real sandbox (docs/sandbox.md): the command
// under the request's init in its own PID, IPC (and, unprivileged, user) namespaces; what that
// init guarantees when bridle is killed or stopped; and the fallback when the kernel refuses.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "execution/runner.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/sandbox.hpp"

namespace bridle::execution {
namespace {

using namespace std::chrono_literals;

// baseline seccomp, exec-once off (the scripts start sleep), and `mode` namespaces.
sandbox::Prepared prepared_with(policy::NamespaceMode mode) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.exec_once = false;
    profile.namespaces = mode;
    Result<sandbox::Prepared> p =
        sandbox::prepare(sandbox::plan(profile, policy::LandlockSetting::kOff, 0));
    if (!p) throw std::runtime_error(p.error().full());
    return std::move(p).value();
}

Spec shell(const std::string& script, const sandbox::Prepared& prepared) {
    Spec spec;
    spec.path = "/bin/sh";
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.timeout = 5s;
    spec.kill_grace = 200ms;
    spec.sandbox = &prepared;
    return spec;
}

Outcome run_into(const Spec& spec, std::string& out) {
    return run(spec, [&out](Stream stream, std::string_view bytes) {
        if (stream == Stream::kStdout) out.append(bytes);
        return true;
    });
}

// Whether a process runs exactly `sleep MARKER`.
bool sleeper_alive(const std::string& marker) {
    const std::string wanted = std::string("sleep") + '\0' + marker + '\0';
    bool found = false;
    DIR* proc = ::opendir("/proc");
    while (const dirent* entry = proc != nullptr ? ::readdir(proc) : nullptr) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        // Plain reads: a process may exit while we read it (ESRCH), and libstdc++'s filebuf
        // throws on a read error. A throw after SIGSTOP left a supervisor stopped for good.
        std::string cmdline;
        const int fd = ::open((std::string("/proc/") + entry->d_name + "/cmdline").c_str(),
                              O_RDONLY | O_CLOEXEC);
        char buffer[512];
        ssize_t n = 0;
        while (fd >= 0 && (n = ::read(fd, buffer, sizeof buffer)) > 0) {
            cmdline.append(buffer, static_cast<std::size_t>(n));
        }
        if (fd >= 0) ::close(fd);
        found = found || cmdline == "/bin/" + wanted || cmdline == "/usr/bin/" + wanted ||
                cmdline == wanted;
    }
    if (proc != nullptr) ::closedir(proc);
    return found;
}

std::string marker(int base) {
    return std::to_string(base) + std::to_string(::getpid());
}

// Runs `body` in a child process as nobody (the unprivileged path, through a user namespace)
// and returns its exit status; the body reports failures by exiting non-zero.
int as_nobody(const std::function<int()>& body) {
    const pid_t child = ::fork();
    if (child == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0) {
            ::_exit(90);
        }
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A request that leaves `sleep MARKER` twice: a setsid() orphan and its own foreground.
Spec sleeper_request(const std::string& m, const sandbox::Prepared& prepared) {
    return shell("(setsid sleep " + m + " >/dev/null 2>&1 &); sleep " + m, prepared);
}

// Forks a supervisor that runs `requests` (the last one starts sleeper_request), SIGKILLs it
// once the sleepers run, and waits (5 s at most, for a loaded machine) for them to be gone.
struct Killed {
    pid_t supervisor = -1;
    bool started = false, gone = false;
};
Killed kill_mid_request(const std::string& m, const std::function<void()>& requests) {
    Killed k;
    k.supervisor = ::fork();
    if (k.supervisor == 0) {
        requests();
        ::_exit(0);
    }
    for (int i = 0; i < 200 && !sleeper_alive(m); ++i) std::this_thread::sleep_for(10ms);
    k.started = sleeper_alive(m);
    ::kill(k.supervisor, SIGKILL);
    ::waitpid(k.supervisor, nullptr, 0);
    for (int i = 0; i < 250 && !k.gone; ++i) {
        k.gone = !sleeper_alive(m);
        if (!k.gone) std::this_thread::sleep_for(20ms);
    }
    return k;
}

// The command is PID 2 of its own namespace (the init is 1), its status passes through the
// init unchanged, and the record says which namespaces applied. As root (the target side of a
// run_as: root rule) there is no user namespace.
TEST(Isolation, CommandRunsUnderItsInitInItsOwnNamespaces) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    std::string out;
    Outcome o = run_into(shell("echo $$; exit 7", prepared), out);
    EXPECT_EQ(out, "2\n");
    EXPECT_EQ(o.exit_status, 7);
    EXPECT_EQ(o.containment, "pidns=yes ipcns=yes userns=no processes=request");

    out.clear();
    o = run_into(shell("kill -TERM $$", prepared), out);
    EXPECT_EQ(o.signal, SIGTERM);  // the command's own death, not the init's

    EXPECT_EQ(as_nobody([&] {
                  std::string text;
                  const Outcome n = run_into(shell("echo $$ $(id -u)", prepared), text);
                  if (n.containment != "pidns=yes ipcns=yes userns=yes processes=request") return 1;
                  return text == "2 65534\n" && n.exit_status == 0 ? 0 : 2;
              }),
              0);
}

// Each stage of a pipeline is a request of its own to the kernel: its own init and
// namespaces (PID 2 in each), wired by bridle's pipe.
TEST(Isolation, EachPipelineStageHasItsOwnNamespaces) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    std::string out;
    const std::vector<Outcome> o = run_pipeline(
        {shell("echo first $$", prepared), shell("cat; echo second $$; kill -9 $$", prepared)},
        [&out](Stream stream, std::string_view bytes) {
            if (stream == Stream::kStdout) out.append(bytes);
            return true;
        });
    EXPECT_EQ(out, "first 2\nsecond 2\n");
    ASSERT_EQ(o.size(), 2U);
    EXPECT_EQ(o[0].exit_status, 0);
    EXPECT_EQ(o[1].signal, SIGKILL);  // each stage's status passes through its own init
    EXPECT_EQ(o[0].containment, "pidns=yes ipcns=yes userns=no processes=request");
    EXPECT_EQ(o[1].containment, o[0].containment);
}

// namespaces: off is the old model: no init, no namespaces, the command leads its own session.
TEST(Isolation, OffRunsWithoutNamespaces) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kOff);
    std::string out;
    const Outcome o = run_into(shell("echo $$", prepared), out);
    EXPECT_NE(out, "2\n");
    EXPECT_EQ(o.containment, "pidns=no ipcns=no userns=no processes=unbounded");
}

// bridle's state directories (versions, the task spool) belong to the account its commands
// run as: without Landlock only the mount namespace keeps them away. The command sees an
// empty, read-only directory, cannot write into it, unmount it or make a namespace of its own
// that does; the files stay as they were; the host's mount table never shows the tmpfs (the
// namespace's mounts are slaves, not the host's peers). As nobody; a root command (a run_as
// target, which may be apt upgrading bridle) sees the directory as it is.
TEST(Isolation, BridleStateIsHiddenFromTheCommand) {
    char dir_template[] = "/tmp/bridle-hide-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    // Removed however the test ends (an ASSERT returns early); the forked child _exits.
    const struct Cleanup {
        std::string path;
        ~Cleanup() { std::filesystem::remove_all(path); }
    } cleanup{dir};
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    const std::string secret = dir + "/secret";
    { std::ofstream(secret) << "kept\n"; }
    ASSERT_EQ(::chmod(secret.c_str(), 0666), 0);

    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.exec_once = false;
    sandbox::Plan plan = sandbox::plan(profile, policy::LandlockSetting::kOff, 0);
    plan.hidden = {dir, dir + "/secret", dir + "/../" + dir.substr(5), "/nonexistent/bridle"};
    Result<sandbox::Prepared> prepared = sandbox::prepare(plan);
    ASSERT_TRUE(prepared) << prepared.error().full();
    EXPECT_EQ(prepared.value().hidden, std::vector<std::string>{dir});  // existing dirs, once

    const std::string script = "ls -A " + dir + "; cat " + dir + "/secret 2>/dev/null; echo x >" +
                               dir + "/secret 2>/dev/null || echo write-refused; echo y >" + dir +
                               "/new 2>/dev/null || echo create-refused; umount -l " + dir +
                               " 2>/dev/null || echo umount-refused; unshare -Urm umount -l " +
                               dir + " 2>/dev/null || echo unshare-refused; echo end";
    const std::string expected =
        "write-refused\ncreate-refused\numount-refused\nunshare-refused\nend\n";
    auto check = [&]() -> int {
        std::string out;
        const Outcome o = run_into(shell(script, prepared.value()), out);
        if (out != expected) {
            std::fprintf(stderr, "uid %d saw: %s\n", ::getuid(), out.c_str());
            return 1;
        }
        return o.containment.find(" mntns=yes ") != std::string::npos ? 0 : 2;
    };
    // In a mount namespace of the test's own whose mounts are shared (as systemd makes the
    // host's), where a tmpfs that propagated back would show.
    const pid_t child = ::fork();
    if (child == 0) {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) != 0) {
            ::_exit(90);
        }
        // A root command (a run_as target, perhaps apt upgrading bridle) sees the state.
        const auto root_sees = [&]() -> int {
            std::string out;
            const Outcome o = run_into(shell("ls -A " + dir, prepared.value()), out);
            return out == "secret\n" && o.containment.find("mntns") == std::string::npos ? 0 : 4;
        };
        // Under a kept init (a session's worker), call after call: the init hid them once.
        const auto kept_calls = [&]() -> int {
            keep_inits(true);
            for (int call = 0; call < 3; ++call) {
                if (const int failed = check(); failed != 0) return 10 * (call + 1) + failed;
            }
            return 0;
        };
        if (as_nobody(check) != 0 || as_nobody(kept_calls) != 0 || root_sees() != 0) ::_exit(1);
        std::ifstream mounts("/proc/self/mountinfo");
        const std::string table((std::istreambuf_iterator<char>(mounts)),
                                std::istreambuf_iterator<char>());
        ::_exit(table.find("bridle-hidden") == std::string::npos ? 0 : 3);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    std::ifstream kept(secret);
    std::string content((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "kept\n");
    EXPECT_NE(::access((dir + "/new").c_str(), F_OK), 0);
}

// The command cannot name a process outside its request: bridle's own pid (the shell's
// parent, seen from outside) is no process to it, so kill, prlimit and the rest find nothing.
// As the same account outside a PID namespace (namespaces: off), the same kill reaches bridle.
TEST(Isolation, OutsidePidsAreOutOfReach) {
    const sandbox::Prepared walled = prepared_with(policy::NamespaceMode::kPrefer);
    const sandbox::Prepared open = prepared_with(policy::NamespaceMode::kOff);
    EXPECT_EQ(as_nobody([&] {
                  const std::string script = "kill -0 " + std::to_string(::getpid()) +
                                             " 2>/dev/null && echo reached || echo refused";
                  std::string inside, outside;
                  run_into(shell(script, walled), inside);
                  run_into(shell(script, open), outside);
                  return inside == "refused\n" && outside == "reached\n" ? 0 : 1;
              }),
              0);
}

// A root command (a run_as: root rule's target side) cannot read the memory, environment or
// fds of a non-dumpable root bridle either: it runs without CAP_SYS_PTRACE, CAP_SYS_ADMIN and
// CAP_PERFMON, each of which would let it (regression: environ was readable with the last two).
TEST(Isolation, ARootCommandCannotReadANonDumpableRootBridle) {
    ASSERT_EQ(::geteuid(), 0u);
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    const pid_t child = ::fork();
    if (child == 0) {
        if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) ::_exit(90);
        const std::string me = "/proc/" + std::to_string(::getpid());
        std::string out;
        run_into(shell("for f in environ mem fd/0; do head -c 1 " + me +
                           "/$f >/dev/null 2>&1 "
                           "&& echo \"$f read\"; done; echo done",
                       prepared),
                 out);
        ::_exit(out == "done\n" ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// SysV IPC that the command creates dies with its IPC namespace.
TEST(Isolation, SysvIpcDoesNotOutliveTheRequest) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    std::string out;
    // ipcmk and ipcs are util-linux's.
    const Outcome o = run_into(
        shell("ipcmk -M 4096 -p 0666 >/dev/null && ipcs -m | grep -c 0x || true", prepared), out);
    EXPECT_TRUE(o.started) << o.error;
    EXPECT_EQ(out, "1\n");  // the command saw its own segment, and only it
    // After the request: no segment of the command's namespace can be seen from here.
    std::string ours;
    run_into(shell("ipcs -m | grep -c 0x || true", prepared), ours);
    EXPECT_EQ(ours, "0\n");
}

// The process count is per request inside the user namespace: a fork loop stops at the
// limit, and nothing of it is left afterwards.
TEST(Isolation, ProcessCountIsPerRequest) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.exec_once = false;
    profile.limits.processes = 20;
    Result<sandbox::Prepared> p =
        sandbox::prepare(sandbox::plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(p.ok());
    // Forks sleepers until fork fails, and prints how many it got.
    const std::string m = marker(4242);
    const std::string script =
        "import os\nn = 0\nfor _ in range(60):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        os.execv('/bin/sleep', ['sleep', '" +
        m +
        "'])\n"
        "    n += 1\nprint(n)\n";
    EXPECT_EQ(as_nobody([&] {
                  // 25 processes of the same account outside the request: a per-uid count
                  // (RLIMIT_NPROC without the user namespace) would allow no fork at all.
                  std::vector<pid_t> others;
                  for (int i = 0; i < 25; ++i) {
                      const pid_t other = ::fork();
                      if (other == 0) {
                          ::pause();
                          ::_exit(0);
                      }
                      others.push_back(other);
                  }
                  const auto reap_others = [&others] {
                      for (const pid_t other : others) ::kill(other, SIGKILL);
                      for (const pid_t other : others) ::waitpid(other, nullptr, 0);
                  };
                  Spec spec = shell("", p.value());
                  spec.path = "/usr/bin/python3";
                  spec.argv = {"python3", "-c", script};
                  std::string out;
                  const Outcome o = run_into(spec, out);
                  reap_others();
                  if (!o.started) return 1;
                  const int started = std::atoi(out.c_str());
                  // The account's other processes do not count: only the init and the python.
                  if (started < 10 || started > 18) return 2;
                  return sleeper_alive(m) ? 3 : 0;
              }),
              0);

    // As root (a run_as: root rule's target side) the kernel exempts the command from
    // RLIMIT_NPROC: the request's pids cgroup caps it instead.
    ASSERT_EQ(::geteuid(), 0u);
    Spec spec = shell("", p.value());
    spec.path = "/usr/bin/python3";
    spec.argv = {"python3", "-c", script};
    std::string out;
    const Outcome o = run_into(spec, out);
    ASSERT_TRUE(o.started) << o.error;
    EXPECT_EQ(o.containment, "pidns=yes ipcns=yes userns=no processes=request");
    const int started = std::atoi(out.c_str());
    EXPECT_GE(started, 10);
    EXPECT_LE(started, 18);
    EXPECT_FALSE(sleeper_alive(m));
}

// bridle killed by SIGKILL mid-request: the init dies with it (PDEATHSIG) and the kernel
// ends the namespace; nothing of the request survives, the escaped daemon included.
TEST(Isolation, NothingSurvivesASigkilledSupervisor) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    const std::string m = marker(5151);
    const Killed killed = kill_mid_request(m, [&] {
        std::string out;
        run_into(sleeper_request(m, prepared), out);
    });
    ASSERT_TRUE(killed.started);
    EXPECT_TRUE(killed.gone);
    const pid_t supervisor = killed.supervisor;
    // Its cgroup (a root supervisor's) empties once the kernel has reaped the killed PID
    // namespace, which may lag the waitpid above on a loaded machine; a later request's bridle
    // then removes it (rmdir refuses a populated group, so one too early leaves it for the next).
    const std::string orphan_prefix = "bridle-request-" + std::to_string(supervisor) + "-";
    if (const auto root = sandbox::cgroup::pids_root()) {
        const auto orphan_left = [&] {
            DIR* dir = ::opendir(root->c_str());
            bool found = false;
            while (const dirent* entry = dir != nullptr ? ::readdir(dir) : nullptr) {
                found = found || std::string(entry->d_name).rfind(orphan_prefix, 0) == 0;
            }
            if (dir != nullptr) ::closedir(dir);
            return found;
        };
        bool left = true;
        for (int i = 0; i < 50 && left; ++i) {  // 5 s at most
            std::string orphan_out;
            run_into(shell("true", prepared), orphan_out);
            left = orphan_left();
            if (left) std::this_thread::sleep_for(100ms);
        }
        EXPECT_FALSE(left);
    }
}

// bridle stopped (SIGSTOP) mid-request: the init's own deadline still ends the request (the
// timeout plus the grace plus 2 s), and a continued bridle reports it as timed out.
TEST(Isolation, TimeoutHoldsWhileTheSupervisorIsStopped) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    const std::string m = marker(6161);
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    const pid_t supervisor = ::fork();
    if (supervisor == 0) {
        std::string out;
        Spec spec = shell("sleep " + m, prepared);
        spec.timeout = 500ms;
        const Outcome o = run_into(spec, out);
        const char verdict = o.timed_out ? 'T' : 'N';
        (void)!::write(report[1], &verdict, 1);
        ::_exit(0);
    }
    ::close(report[1]);
    for (int i = 0; i < 200 && !sleeper_alive(m); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(sleeper_alive(m));
    ::kill(supervisor, SIGSTOP);
    // Whatever happens below, the supervisor is continued: a stopped one would hold ctest's
    // output pipe open for ever.
    struct Continue {
        pid_t pid;
        ~Continue() { ::kill(pid, SIGCONT); }
    } const resume{supervisor};
    // 0.5 s + 0.2 s + 2 s after the init started; bounded wait, for a loaded machine.
    bool gone = false;
    for (int i = 0; i < 160 && !gone; ++i) {
        std::this_thread::sleep_for(50ms);
        gone = !sleeper_alive(m);
    }
    EXPECT_TRUE(gone);
    ::kill(supervisor, SIGCONT);
    char verdict = 0;
    EXPECT_EQ(::read(report[0], &verdict, 1), 1);
    EXPECT_EQ(verdict, 'T');
    ::close(report[0]);
    ::waitpid(supervisor, nullptr, 0);
}

// ---------------------------------------------------------------- a kept init (session workers)
// execution::keep_inits: one init, with its PID and user namespaces, serves one request after
// another; each command gets an IPC namespace of its own. Only unprivileged (a root command
// gets an init of its own), so each test runs as nobody and reports its first failed check as
// its exit status.

// A command's PID namespace and its PID there: "pid:[N] P" (P is 2 under an init of its own).
std::string pid_namespace(const sandbox::Prepared& prepared) {
    std::string out;
    run_into(shell("echo $(readlink /proc/self/ns/pid) $$", prepared), out);
    return out;
}

std::string word(const std::string& line, std::size_t n) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < n; ++i) start = line.find(' ', start) + 1;
    return line.substr(start, line.find_first_of(" \n", start) - start);
}

TEST(Isolation, AKeptInitServesOneRequestAfterAnother) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    EXPECT_EQ(as_nobody([&] {
                  keep_inits(true);
                  const std::string first = pid_namespace(prepared);
                  const std::string second = pid_namespace(prepared);
                  // The same PID namespace, whose PIDs go on counting (namespace inode numbers
                  // are reused once freed: the numbers alone prove nothing). Each command's IPC
                  // namespace is its own: the next test.
                  if (word(first, 0).rfind("pid:[", 0) != 0) return 1;
                  if (word(first, 0) != word(second, 0) || word(second, 1) == "2") return 2;
                  std::string out;
                  const Outcome o = run_into(shell("echo ran; exit 7", prepared), out);
                  if (out != "ran\n" || o.exit_status != 7 || !o.started) return 4;
                  if (o.containment != "pidns=yes ipcns=yes userns=yes processes=request") return 5;
                  keep_inits(false);  // ends it: the next request gets an init of its own
                  if (word(pid_namespace(prepared), 1) != "2") return 6;
                  return 0;
              }),
              0);
}

// What a request leaves (a process in the background, a SysV segment) is gone before the
// next request starts, and the output pipe is closed when the request ends.
TEST(Isolation, NothingOfARequestReachesTheNextUnderAKeptInit) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    const std::string m = marker(7171);
    EXPECT_EQ(as_nobody([&] {
                  keep_inits(true);
                  std::string out;
                  const Outcome o =
                      run_into(shell("(setsid sleep " + m + " >/dev/null 2>&1 &); sleep " + m +
                                         " >/dev/null 2>&1 & echo $!; ipcmk -M 4096 >/dev/null",
                                     prepared),
                               out);
                  if (!o.started || o.exit_status != 0 || out.empty()) return 1;
                  if (sleeper_alive(m)) return 2;  // gone when run() returned
                  std::string next;
                  run_into(shell("kill -0 " + out.substr(0, out.size() - 1) +
                                     " 2>/dev/null && echo alive; ipcs -m | grep -c 0x || true",
                                 prepared),
                           next);
                  if (next != "0\n") return 3;
                  return 0;
              }),
              0);
}

// The init takes orders, not signals: what the command sends it is dropped, a timeout ends
// the request through it, a command that cannot start leaves it serving, and a request that
// does not fit it (a pipeline) ends it.
TEST(Isolation, AKeptInitTakesOrdersNotSignals) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    EXPECT_EQ(as_nobody([&] {
                  keep_inits(true);
                  const std::string first = pid_namespace(prepared);
                  std::string out;
                  Outcome o = run_into(
                      shell("kill -TERM 1; kill -HUP 1; kill -KILL 1; echo sent", prepared), out);
                  if (out != "sent\n" || o.exit_status != 0) return 1;
                  Spec slow = shell("sleep 30", prepared);
                  slow.timeout = 300ms;
                  o = run_into(slow, out);
                  if (!o.timed_out || o.signal != SIGTERM) return 2;
                  Spec missing = shell("true", prepared);
                  missing.path = "/nonexistent/bridle-test";
                  o = run_into(missing, out);
                  if (o.started || o.exec_errno != ENOENT) return 3;
                  const std::string now = pid_namespace(prepared);
                  if (word(now, 0) != word(first, 0) || word(now, 1) == "2") return 4;
                  Spec a = shell("echo piped", prepared), b = shell("cat", prepared);
                  out.clear();
                  const std::vector<Outcome> both =
                      run_pipeline({a, b}, [&out](Stream stream, std::string_view bytes) {
                          if (stream == Stream::kStdout) out.append(bytes);
                          return true;
                      });
                  if (out != "piped\n" || both.back().exit_status != 0) return 5;
                  if (word(pid_namespace(prepared), 1) != "2") return 6;  // a new init
                  return 0;
              }),
              0);
}

// The process that keeps the init is SIGKILLed between requests and during one: the init
// and everything in its namespace go with it.
TEST(Isolation, AKeptInitEndsWithItsSupervisor) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    const std::string m = marker(8181);
    const Killed killed = kill_mid_request(m, [&] {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0) {
            ::_exit(90);
        }
        keep_inits(true);
        std::string out;
        run_into(shell("true", prepared), out);  // the init is kept from here on
        run_into(sleeper_request(m, prepared), out);
    });
    ASSERT_TRUE(killed.started);
    EXPECT_TRUE(killed.gone);
}

// Every descriptor a request can hand over at once (stdin, stdout, stderr, the error pipe, the
// Landlock ruleset, the exec-once socket, with the plan's memfd: seven), twice in a row.
TEST(Isolation, AKeptInitTakesEveryDescriptorOfARequest) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.exec_once = true;
    profile.landlock = policy::LandlockRules{};
    profile.landlock->read = std::vector<std::string>{"/"};
    profile.landlock->execute = std::vector<std::string>{"/"};
    const sandbox::Plan plan =
        sandbox::plan_for_this_kernel(profile, policy::LandlockSetting::kAuto);
    Result<sandbox::Prepared> prepared = sandbox::prepare(plan);
    ASSERT_TRUE(prepared) << prepared.error().full();
    if (prepared.value().landlock_ruleset < 0) GTEST_SKIP() << "no Landlock on this kernel";
    EXPECT_EQ(as_nobody([&] {
                  keep_inits(true);
                  for (int round = 0; round < 2; ++round) {
                      int in[2];
                      if (::pipe(in) != 0 || ::write(in[1], "hello", 5) != 5) return 1;
                      ::close(in[1]);
                      Spec spec = shell("", prepared.value());
                      spec.path = "/bin/cat";
                      spec.argv = {"/bin/cat"};
                      spec.pass_stdin = true;
                      spec.stdin_fd = in[0];
                      std::string out;
                      const Outcome o = run_into(spec, out);
                      ::close(in[0]);
                      if (out != "hello" || o.exit_status != 0 || !o.error.empty()) return 2;
                  }
                  // Still the same init: its third command is not its first.
                  const sandbox::Prepared plain = prepared_with(policy::NamespaceMode::kPrefer);
                  if (word(pid_namespace(plain), 1) == "2") return 3;
                  return 0;
              }),
              0);
}

// The kept init outlives the request, so it must not be the command's to take over: even
// without a seccomp profile (the wall filter alone), its memory is out of reach
// (non-dumpable, its memory's user namespace bridle's). try_syscall is copied where nobody
// can run it.
TEST(Isolation, AKeptInitCannotBeTakenOver) {
    policy::SandboxProfile profile = policy::builtin_baseline_sandbox();
    profile.seccomp.clear();
    profile.exec_once = false;
    Result<sandbox::Prepared> prepared =
        sandbox::prepare(sandbox::plan(profile, policy::LandlockSetting::kOff, 0));
    ASSERT_TRUE(prepared) << prepared.error().full();
    char dir[] = "/tmp/bridle-isolation.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string helper = std::string(dir) + "/try_syscall";
    std::filesystem::copy_file(TRY_SYSCALL, helper);
    ::chmod(dir, 0755);
    ::chmod(helper.c_str(), 0755);
    const int status = as_nobody([&] {
        keep_inits(true);
        const sandbox::Prepared plain = prepared_with(policy::NamespaceMode::kPrefer);
        const std::string first = pid_namespace(plain);
        for (const char* attempt : {"ptrace-attach-init", "process_vm_readv-init"}) {
            Spec spec = shell("", prepared.value());
            spec.path = helper;
            spec.argv = {helper, attempt};
            std::string out;
            if (run_into(spec, out).exit_status != EPERM) return 1;
        }
        // It was the kept init they tried: the same one serves on.
        if (word(pid_namespace(plain), 0) != word(first, 0)) return 2;
        return 0;
    });
    std::filesystem::remove_all(dir);
    EXPECT_EQ(status, 0);
}

// A command may lower what the next command would inherit from the init: its limits
// (prlimit(2) needs only the same uid; the baseline filter refuses the scheduling calls). The
// next request then gets a new init, and starts as the first did.
TEST(Isolation, WhatARequestChangesInAKeptInitDoesNotReachTheNext) {
    const sandbox::Prepared prepared = prepared_with(policy::NamespaceMode::kPrefer);
    EXPECT_EQ(as_nobody([&] {
                  keep_inits(true);
                  const std::string show = "prlimit --pid $$ --cpu --nofile --output SOFT,HARD";
                  std::string before, after, out;
                  run_into(shell(show, prepared), before);
                  const Outcome o = run_into(
                      shell("prlimit --pid 1 --cpu=1:1 --nofile=40:40 && echo changed", prepared),
                      out);
                  if (out != "changed\n" || o.exit_status != 0) return 1;
                  run_into(shell(show, prepared), after);
                  if (before.find("unlimited") == std::string::npos) return 2;
                  if (after != before) return 3;
                  return 0;
              }),
              0);
}

// Where the kernel refuses the namespaces (here: a user namespace in which no further user
// namespace may be made, as unprivileged bridle meets it with user.max_user_namespaces=0),
// prefer runs without them and says so; require is refused when planned, and fails closed if
// it gets to the start anyway.
TEST(Isolation, RefusedNamespacesFallBackUnderPreferAndFailUnderRequire) {
    const sandbox::Prepared prefer = prepared_with(policy::NamespaceMode::kPrefer);
    const sandbox::Prepared require = prepared_with(policy::NamespaceMode::kRequire);
    int go[2], mapped[2];
    ASSERT_EQ(::pipe(go), 0);
    ASSERT_EQ(::pipe(mapped), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        char byte;
        if (::unshare(CLONE_NEWUSER) != 0) ::_exit(80);
        std::ofstream("/proc/sys/user/max_user_namespaces") << "0\n";
        (void)!::write(go[1], "x", 1);
        if (::read(mapped[0], &byte, 1) != 1) ::_exit(81);
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
            ::_exit(82);
        }
        std::string out;
        const Outcome p = run_into(shell("echo ran", prefer), out);
        if (out != "ran\n" || p.containment != "pidns=no ipcns=no userns=no processes=unbounded")
            ::_exit(83);
        // require is refused already when the request is planned, before its decision
        // record (the gate then denies with this reason).
        policy::SandboxProfile strict = policy::builtin_baseline_sandbox();
        strict.name = "strict";
        strict.namespaces = policy::NamespaceMode::kRequire;
        const sandbox::Plan planned =
            sandbox::plan_for_this_kernel(strict, policy::LandlockSetting::kOff);
        if (planned.refusal.find("requires its own PID and IPC namespaces, which this host "
                                 "refuses") == std::string::npos) {
            ::_exit(85);
        }
        out.clear();
        const Outcome r = run_into(shell("echo ran", require), out);
        if (r.started || out != "" ||
            r.error.find("requires its own namespaces") == std::string::npos) {
            ::_exit(84);
        }
        ::_exit(0);
    }
    char byte;
    ASSERT_EQ(::read(go[0], &byte, 1), 1);
    const std::string proc = "/proc/" + std::to_string(child);
    std::ofstream(proc + "/uid_map") << "65534 65534 1\n";
    std::ofstream(proc + "/gid_map") << "65534 65534 1\n";
    ASSERT_EQ(::write(mapped[1], "x", 1), 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    for (int fd : {go[0], go[1], mapped[0], mapped[1]}) ::close(fd);
}

}  // namespace
}  // namespace bridle::execution
