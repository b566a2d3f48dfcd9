// SPDX-License-Identifier: Apache-2.0
// The fleet controller's pure parts: inventories (golden files in tests/golden/inventory, each
// NNN-what.{ini,yaml,json} -> NNN-what.ok; UPDATE_GOLDEN=1 rewrites the .ok files) and the
// selection of hosts by name and group.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fleet/inventory.hpp"

namespace bridle::fleet {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

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
    const char* update_env = std::getenv("UPDATE_GOLDEN");
    const bool update = update_env != nullptr && std::string(update_env) == "1";
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
        if (update) {
            std::ofstream(ok_path, std::ios::binary) << actual;
            continue;
        }
        ASSERT_TRUE(fs::exists(ok_path)) << "missing " << ok_path << "; run with UPDATE_GOLDEN=1";
        EXPECT_EQ(read_bytes(ok_path), actual);
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
    const auto inv = parse_inventory(
        "[web]\npi1\npi2\n[db]\npi3\npi1\n[empty]\n", "inv.ini");
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

}  // namespace
}  // namespace bridle::fleet
