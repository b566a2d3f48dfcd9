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
        if (as_nobody(check) != 0 || root_sees() != 0) ::_exit(1);
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
    const pid_t supervisor = ::fork();
    if (supervisor == 0) {
        std::string out;
        run_into(shell("(setsid sleep " + m + " >/dev/null 2>&1 &); sleep " + m, prepared), out);
        ::_exit(0);
    }
    for (int i = 0; i < 200 && !sleeper_alive(m); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(sleeper_alive(m));
    ::kill(supervisor, SIGKILL);
    ::waitpid(supervisor, nullptr, 0);
    bool gone = false;
    for (int i = 0; i < 250 && !gone; ++i) {  // 5 s at most, for a loaded machine
        gone = !sleeper_alive(m);
        if (!gone) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(gone);
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
