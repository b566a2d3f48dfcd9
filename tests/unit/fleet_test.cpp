// SPDX-License-Identifier: Apache-2.0
// The fleet controller's pure parts: inventories (golden files in tests/golden/inventory, each
// NNN-what.{ini,yaml,json} -> NNN-what.ok; UPDATE_GOLDEN=1 rewrites the .ok files) and the
// selection of hosts by name and group.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fleet/connection.hpp"
#include "fleet/fanout.hpp"
#include "fleet/inventory.hpp"
#include "golden.hpp"

namespace bridle::fleet {
namespace {

namespace fs = std::filesystem;

using testing::read_bytes;

std::string render(const Result<Inventory>& result) {
    if (!result.ok()) return "error: " + result.error().full() + "\n";
    std::string out;
    for (const Host& h : result.value().hosts) {
        out += "host " + h.name + " address=" + h.address + " port=" + std::to_string(h.port) +
               " user=" + h.user + " key=" + h.key_file + " at " + h.location + "\n  groups:";
        for (const std::string& g : h.groups) out += " " + g;
        out += "\n";
    }
    for (const auto& [name, hosts] : result.value().groups) {
        out += "group " + name + ":";
        for (const std::string& h : hosts) out += " " + h;
        out += "\n";
    }
    return out;
}

TEST(Inventory, GoldenFiles) {
    const fs::path dir = fs::path(BRIDLE_SOURCE_DIR) / "tests/golden/inventory";
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const fs::path input = entry.path();
        if (input.extension() == ".ok") continue;
        SCOPED_TRACE(input.filename().string());
        ++cases;
        const std::string actual =
            render(parse_inventory(read_bytes(input), input.filename().string()));
        fs::path ok_path = input;
        ok_path.replace_extension(".ok");
        testing::expect_golden(ok_path, actual);
    }
    EXPECT_GE(cases, 10);
}

TEST(Inventory, SameFleetInEveryFormat) {
    // The INI, YAML and JSON goldens describe one fleet: web = pi1 pi2, db = pi3.
    const fs::path dir = fs::path(BRIDLE_SOURCE_DIR) / "tests/golden/inventory";
    for (const char* name :
         {"001-ini-groups.ini", "002-yaml-groups.yaml", "003-ansible-inventory-list.json"}) {
        SCOPED_TRACE(name);
        const auto inv = parse_inventory(read_bytes(dir / name), name);
        ASSERT_TRUE(inv.ok()) << inv.error().full();
        EXPECT_EQ(inv.value().groups.at("web"), (std::vector<std::string>{"pi1", "pi2"}));
        EXPECT_EQ(inv.value().groups.at("db"), (std::vector<std::string>{"pi3"}));
        const auto pis = select_hosts(inv.value(), "pis");
        ASSERT_TRUE(pis.ok());
        EXPECT_EQ(pis.value().size(), 3u);
        EXPECT_EQ(pis.value()[0]->port, 2222);
        EXPECT_EQ(pis.value()[2]->user, "operator");
    }
}

TEST(Inventory, Select) {
    const auto inv = parse_inventory("[web]\npi1\npi2\n[db]\npi3\npi1\n[empty]\n", "inv.ini");
    ASSERT_TRUE(inv.ok()) << inv.error().full();
    struct Case {
        const char* pattern;
        std::vector<std::string> hosts;  // empty: an error
    };
    const std::vector<Case> cases = {
        {"all", {"pi1", "pi2", "pi3"}},
        {"web", {"pi1", "pi2"}},
        {"db", {"pi1", "pi3"}},  // inventory order, not the group's
        {"pi3", {"pi3"}},
        {"pi2,db", {"pi1", "pi2", "pi3"}},
        {"web,web", {"pi1", "pi2"}},
        {"nope", {}},
        {"web,nope", {}},
        {"empty", {}},
        {"", {}},
        {"-oProxyCommand=x", {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.pattern);
        const auto chosen = select_hosts(inv.value(), c.pattern);
        if (c.hosts.empty()) {
            ASSERT_FALSE(chosen.ok());
            EXPECT_EQ(chosen.error().location, "inv.ini");
            continue;
        }
        ASSERT_TRUE(chosen.ok()) << chosen.error().full();
        std::vector<std::string> names;
        for (const Host* h : chosen.value()) names.push_back(h->name);
        EXPECT_EQ(names, c.hosts);
    }
}

TEST(Inventory, UnreadableFile) {
    const auto inv = load_inventory("/nonexistent/inventory.yaml");
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(inv.error().location, "/nonexistent/inventory.yaml");
}

// A host's answer (or its absence) to one status; denial and approval are results.
TEST(Fanout, Classify) {
    using K = CallOutcome::Kind;
    const auto answer = [](Json structured, bool is_error = false) {
        return CallOutcome{K::kResult, "",
                           Json{{"structuredContent", structured}, {"isError", is_error}}};
    };
    struct Case {
        const char* name;
        CallOutcome outcome;
        HostStatus want;
    };
    const std::vector<Case> cases = {
        {"ok", answer({{"status", "ok"}}), HostStatus::kOk},
        {"nonzero", answer({{"status", "exit_nonzero"}}), HostStatus::kExitNonzero},
        {"denied", answer({{"status", "denied"}, {"bridle_status", 77}}), HostStatus::kDenied},
        {"approval", answer({{"status", "denied"}, {"bridle_status", 75}}),
         HostStatus::kApprovalRequired},
        // What the host's run_command answers (tools.cpp): it was taken for an error once.
        {"approval required", answer({{"status", "approval_required"}, {"bridle_status", 75}}),
         HostStatus::kApprovalRequired},
        {"timeout", answer({{"status", "timeout"}}), HostStatus::kTimeout},
        {"cancelled", answer({{"status", "cancelled"}}), HostStatus::kCancelled},
        {"host error", answer({{"status", "error"}}, true), HostStatus::kError},
        {"unknown status", answer({{"status", "maybe"}}), HostStatus::kError},
        {"status not a string", answer({{"status", 1}}), HostStatus::kError},
        {"check allow", answer({{"decision", "allow"}}), HostStatus::kOk},
        {"check deny", answer({{"decision", "deny"}}), HostStatus::kDenied},
        {"list", answer({{"rules", Json::array()}}), HostStatus::kOk},
        {"list error", answer(Json::object(), true), HostStatus::kError},
        {"structured not an object", answer(Json::array()), HostStatus::kError},
        {"ping", CallOutcome{K::kResult, "", Json::object()}, HostStatus::kOk},
        {"rpc error", CallOutcome{K::kRpcError, "no", nullptr}, HostStatus::kError},
        {"unreachable", CallOutcome{K::kUnreachable, "refused", nullptr}, HostStatus::kUnreachable},
        {"deadline", CallOutcome{K::kTimeout, "", nullptr}, HostStatus::kTimeout},
        {"cancel", CallOutcome{K::kCancelled, "", nullptr}, HostStatus::kCancelled},
        {"dropped", CallOutcome{K::kDropped, "", nullptr}, HostStatus::kError},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(status_name(classify(c.outcome)), std::string(status_name(c.want)));
    }
}

TEST(Fanout, ExitStatusAndSummary) {
    const auto results = [](std::vector<HostStatus> statuses) {
        std::vector<HostResult> out;
        for (HostStatus s : statuses) {
            HostResult r;
            r.status = s;
            out.push_back(r);
        }
        return out;
    };
    using S = HostStatus;
    EXPECT_EQ(exit_status(results({S::kOk, S::kOk})), 0);
    EXPECT_EQ(exit_status({}), 0);
    EXPECT_EQ(exit_status(results({S::kOk, S::kExitNonzero})), 1);
    EXPECT_EQ(exit_status(results({S::kExitNonzero, S::kDenied})), 77);
    EXPECT_EQ(exit_status(results({S::kApprovalRequired, S::kExitNonzero})), 75);
    EXPECT_EQ(exit_status(results({S::kDenied, S::kTimeout})), 124);
    EXPECT_EQ(exit_status(results({S::kTimeout, S::kUnreachable})), 69);
    EXPECT_EQ(exit_status(results({S::kUnreachable, S::kError})), 70);
    EXPECT_EQ(exit_status(results({S::kOk, S::kCancelled})), 130);
    EXPECT_EQ(exit_status(results({S::kExitNonzero, S::kSkipped})), 1);
    EXPECT_EQ(summary(results({S::kOk, S::kDenied, S::kOk})),
              (Json{{"hosts", 3}, {"ok", 2}, {"denied", 1}}));
}

TEST(Fanout, IdsAreFreshHex) {
    const std::string a = new_fanout_id(), b = new_fanout_id();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
}

// ssh's argv: BatchMode always; what the inventory leaves empty is left to ssh_config; the
// destination after "--", so nothing from the inventory can be read as an option.
TEST(Connection, SshArgv) {
    Host full{"pi1", "192.0.2.1", 2222, "ai-agent", "/etc/bridle/fleet/key", {}, ""};
    const auto join = [](const std::vector<std::string>& words) {
        std::string out;
        for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
        return out;
    };
    EXPECT_EQ(join(Connection(full, SshSettings{"ssh", "/tmp/cfg", 7}).ssh_argv()),
              "ssh -T -o BatchMode=yes -o ConnectTimeout=7 -o ServerAliveInterval=15 -o "
              "ServerAliveCountMax=3 -F /tmp/cfg -p 2222 -l ai-agent -i /etc/bridle/fleet/key -o "
              "IdentitiesOnly=yes -- 192.0.2.1 mcp");
    Host bare{"pi2", "pi2", 0, "", "", {}, ""};
    EXPECT_EQ(join(Connection(bare, SshSettings{}).ssh_argv()),
              "ssh -T -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o "
              "ServerAliveCountMax=3 -- pi2 mcp");
}

// A host whose ssh cannot start a session is unreachable, with ssh's words, and never blocks.
TEST(Connection, UnreachableWithSshsWords) {
    // As bridle's main does: a write to an ssh that already exited is EPIPE, not a death
    // (the ASan build is slow enough for /bin/false to be gone before the request is written).
    ::signal(SIGPIPE, SIG_IGN);
    Host host{"nowhere", "nowhere.invalid", 0, "", "", {}, ""};
    Connection c(host, SshSettings{"/bin/false", "", 1});
    const CallOutcome out =
        c.call("ping", Json::object(), Wait{Clock::now() + std::chrono::seconds(5), -1});
    EXPECT_EQ(status_name(classify(out)), std::string("unreachable"));
    EXPECT_FALSE(c.is_open());
}

}  // namespace
}  // namespace bridle::fleet
