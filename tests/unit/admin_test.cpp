// SPDX-License-Identifier: Apache-2.0
// Key enrolment and the command-line table: a malformed key, a smuggled option, a duplicate
// name or key never reaches the keys file; the file is replaced atomically with safe
// ownership; and bridle(8) documents every option, subcommand and exit status the program has.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "admin/admin.hpp"
#include "admin/audit_fanout.hpp"
#include "admin/audit_review.hpp"
#include "admin/audit_time.hpp"
#include "admin/authorized_keys.hpp"
#include "admin/cli.hpp"
#include "admin/enroll.hpp"
#include "admin/key_expiry.hpp"
#include "run_bridle.hpp"

namespace bridle::admin {
namespace {

// Real keys made with ssh-keygen (OpenSSH 9.2); the fingerprints are what `ssh-keygen -l` prints.
const std::string kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILzAPpArMLyiClQEVm5ItZW1QmyTCxi4JPz0uQfcpg72 agent@laptop";
const std::string kEd25519Fingerprint = "SHA256:2BGv8CZGIRk4Zcaoiy5mv41I0cVBysraOP1KzVcO2pQ";
const std::string kRsa2048 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCZlmWaI+oTuDcNOc8aHBWn0GaH3pql3X1u5WqjNw6O6S3HwGNLdiMplciUP+8ku/"
    "CeL+sJS4aYL3fJqv6xt9j39/UI/0RQ8CvXfAwgaGdcXb4jssAYLvC8Gn22/sF1kbbmbl6ewSSmxzoi7inMDWsIy/37Sz/"
    "I790GKht/dKD/JOBvF2TqwYmpnfNsEiovQRqUuyQwyinJsZac4s/vTUURM88eGoOccBbbnUMberSRSUjNPgbgZxdwP1NT2qpTYMduiQx1H/"
    "fVfuuVQNe/spKPNBi8WiuGNDKJdtjQl9ElwQeH+JMqD4TIC+sJ2ZbglGNXef5fUilIdXxfOCEmmki3 rsa2048";
const std::string kRsa2048Fingerprint = "SHA256:+QpHEJuRLKlosxXCRxZU97l9c6cT3gpmNXgxQvzF1Y0";
const std::string kRsa1024 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCgXgdvIIiNJjFn2Yvc84L3aMMuKlgb8UPfomZmkwl2Zf3LFTakO5u4iLBuVxFJ38oE"
    "Kqb1prpYDIe5+2xDP2mc9G4mkAoh50wz8LVPAmZPnaG2bs1cD/YtSoY3NvxiPQGZVcVB6MPSvIQbRO3sm0w/rmvoSypzw7vgWqiPQwtSXQ== rsa1024";
const std::string kEcdsa256 =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNKoNpi074Jt1ewMk7cef9lWvNNpJ9ZJsH2nc"
    "BEcjxpISLds/AGQw0iQ1Cc5Z3W9oltozKnBBQZWb/m3D85wORk= ec256";
const std::string kEcdsa521 =
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEVoInGKAWoQxqpKbflrAOhtYznlkpxwLMm"
    "q4bwmP5H2n5sDwQJKEgfaSSKi23hdrwKERd08cGR0lhpdPu085FtmABv7E7+TXnIbyWMr6z/gg5PfAYaiQ3SeKVgXkLiBfW3IWg+ozkDofKNjQhZ"
    "fuh1+/PITd2NRDuDyf8kXJmgujO7aA== ec521";
const std::string kDsa =
    "ssh-dss AAAAB3NzaC1kc3MAAACBAMltfeqXNgRomYyQeSqzkJiKAfLStWN4bR4vaswQoikJp+gDGNKBCCplSwn0DVkadAiN11/MG/8K5EzM86+8"
    "TVhN8RHVNC5P0ikqZn7n/D2fLqJBL82z+385UQkIX0nHnHlBKORPJnsJKefuLHz9ESMbwRdlbSGztFXPbvG2IeLHAAAAFQDMIMhUOdcdlqTHyeYBFh"
    "yceg/d3QAAAIB+0sT4g8oDJ/eLkttZdRls6KpVajYEhPNhp066NZYfVWhlFBP78vG6SiAQmV0d5+ycnXGB4fWhOgodlog/zU4K4OrTS4tjTlFD1xZ2"
    "7oxmphzZdEPjzPX3XYDlePhiA8mxd5OxToNBnW5lCl5LOiewvPD31cmWRNjw+gTz36rrAgAAAIBrYBDsnlXLE3YLbMwsvDECumGf8F/JQFgqMUFw1ZDB"
    "q1GXwFGxE6J90avpzjO5HqQWEWJzrDbckr/nnitEiGrZhyeSx2w3yQDj4qE6DwATHGfk2aTlMrpO4ApIa8GHQC1FOA7mF6+LolxW6YjgXvl8Aet5ESb"
    "O4S3QJ0bBeAnSHg== dsa";
const std::string kCert =
    "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgC/a4T5iSF7"
    "/ZFj2BhXgzLK0PlxdFu/sn4mil3fQXNAYAAAAIbmlzdHAyNTYAAABBBNKoNpi074Jt1ewMk7cef9lWvNNpJ9ZJsH2ncBEcjxpISLds/AGQw0iQ1Cc5"
    "Z3W9oltozKnBBQZWb/m3D85wORkAAAAAAAAAAAAAAAEAAAACaWQAAAAFAAAAAXgAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1m"
    "b3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0"
    "eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgvMA+kCswvKIKVARWbki1lbVCbJMLGLgk/PS5B9ymDvYA"
    "AABTAAAAC3NzaC1lZDI1NTE5AAAAQF2gTvxYnqgoO8J//EfdY3ssSStijzqvKsRhGGi6wpjswAtbszGrQV0EDj/VXH+YYVI6wP7NyvL/7X3pCqXk3Q0= "
    "ec256";

// SSH wire format: each field as a uint32 length and its bytes.
std::string wire(std::initializer_list<std::string> fields) {
    std::string out;
    for (const auto& f : fields) {
        const auto n = static_cast<std::uint32_t>(f.size());
        for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((n >> s) & 0xff));
        out += f;
    }
    return out;
}

std::string key_line(const std::string& type, const std::string& blob,
                     const std::string& comment = "c") {
    return type + " " + base64_encode(blob) + (comment.empty() ? "" : " " + comment);
}

const std::string k32(32, '\x11');
std::string point(std::size_t n) {
    return "\x04" + std::string(n - 1, '\x22');
}

TEST(ParsePublicKey, RefusesEveryMalformedOrSmuggledKey) {
    struct Case {
        std::string name;
        std::string text;
        std::string why;  // a part of the message
    };
    const std::string ed_blob = base64_encode(wire({"ssh-ed25519", k32}));
    // clang-format off
    const std::vector<Case> cases = {
        {"empty", "", "empty"},
        {"blank lines", "\n  \n\t\n", "empty"},
        {"comment only", "# my key\n", "only a comment"},
        {"restrict option", "restrict " + kEd25519, "options are refused"},
        {"command option", "command=\"/bin/sh\" " + kEd25519, "options are refused"},
        {"quoted option with space", "from=\"10.0.0.1\",command=\"sh -i\" " + kEd25519, "options are refused"},
        {"no-pty option", "no-pty " + kEd25519, "options are refused"},
        {"two keys", kEd25519 + "\n" + kRsa2048 + "\n", "2 lines"},
        {"key then comment line", kEd25519 + "\n# more\n", "2 lines"},
        {"dsa", kDsa, "DSA"},
        {"certificate", kCert, "certificates are refused"},
        {"unknown type", "ssh-foo " + ed_blob, "unsupported key type"},
        {"ed448", "ssh-ed448 " + ed_blob, "unsupported key type"},
        {"type only", "ssh-ed25519", "no data"},
        {"not base64", "ssh-ed25519 AAAA*AAA", "base64"},
        {"base64 without padding", "ssh-ed25519 " + ed_blob.substr(0, ed_blob.size() - 1), "base64"},
        {"base64 non-canonical bits", kEcdsa256.substr(0, kEcdsa256.find("ORk= ")) + "ORl= ec256", "base64"},
        {"type mismatch", "ssh-rsa " + ed_blob, "not a ssh-rsa key"},
        {"ed25519 short", key_line("ssh-ed25519", wire({"ssh-ed25519", std::string(31, 'x')})), "32 bytes"},
        {"ed25519 trailing", key_line("ssh-ed25519", wire({"ssh-ed25519", k32}) + "x"), "trailing"},
        {"ed25519 truncated", key_line("ssh-ed25519", wire({"ssh-ed25519"}) + std::string("\x00\x00\x00\x20", 4) + "abc"), "32 bytes"},
        {"rsa 1024", kRsa1024, "1024 bits"},
        {"rsa even exponent", key_line("ssh-rsa", wire({"ssh-rsa", std::string("\x01\x00", 2), "\x7f" + std::string(300, 'x')})), "even"},
        {"rsa negative modulus", key_line("ssh-rsa", wire({"ssh-rsa", std::string("\x01\x00\x01", 3), "\xff" + std::string(300, 'x')})),
         "modulus"},
        {"rsa truncated", key_line("ssh-rsa", wire({"ssh-rsa", std::string("\x01\x00\x01", 3)})), "truncated"},
        {"ecdsa wrong curve", key_line("ecdsa-sha2-nistp256", wire({"ecdsa-sha2-nistp256", "nistp384", point(65)})), "curve"},
        {"ecdsa short point", key_line("ecdsa-sha2-nistp256", wire({"ecdsa-sha2-nistp256", "nistp256", point(64)})), "point"},
        {"ecdsa compressed point",
         key_line("ecdsa-sha2-nistp256", wire({"ecdsa-sha2-nistp256", "nistp256", "\x02" + std::string(64, 'x')})), "point"},
        {"sk without application", key_line("sk-ssh-ed25519@openssh.com", wire({"sk-ssh-ed25519@openssh.com", k32})),
         "application"},
        {"carriage return", kEd25519 + "\r\n", "U+000D"},
        {"escape in comment", "ssh-ed25519 " + ed_blob + " a\x1b[31mb", "U+001B"},
        {"bidi override in comment", "ssh-ed25519 " + ed_blob + " a\xe2\x80\xae" "b", "U+202E"},
        {"invalid utf-8 in comment", "ssh-ed25519 " + ed_blob + " a\xff", "UTF-8"},
        {"nul byte", kEd25519 + std::string(1, '\0'), "NUL"},
        {"long comment", "ssh-ed25519 " + ed_blob + " " + std::string(300, 'c'), "comment"},
        {"huge file", std::string(17 * 1024, 'A'), "16 KiB"},
        {"garbage", "hello world", "does not start with a key type"},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto key = parse_public_key(c.text);
        ASSERT_FALSE(key.ok());
        EXPECT_NE(std::string::npos, key.error().message.find(c.why)) << key.error().message;
    }
}

TEST(ParsePublicKey, AcceptsEachSupportedTypeWithTheFingerprintSshKeygenPrints) {
    struct Case {
        std::string name;
        std::string text;
        std::string type;
        unsigned bits;
        std::string comment;
        std::string fingerprint;  // empty: not checked
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"ed25519", kEd25519 + "\n", "ssh-ed25519", 256, "agent@laptop", kEd25519Fingerprint},
        {"ed25519 no comment, blanks around", "  " + kEd25519.substr(0, kEd25519.rfind(' ')) + "  \n\n", "ssh-ed25519", 256,
         "", kEd25519Fingerprint},
        {"ed25519 comment with spaces", kEd25519 + " on the build host", "ssh-ed25519", 256,
         "agent@laptop on the build host", kEd25519Fingerprint},
        {"rsa 2048", kRsa2048, "ssh-rsa", 2048, "rsa2048", kRsa2048Fingerprint},
        {"ecdsa p256", kEcdsa256, "ecdsa-sha2-nistp256", 256, "ec256", ""},
        {"ecdsa p521", kEcdsa521, "ecdsa-sha2-nistp521", 521, "ec521", ""},
        {"sk ed25519", key_line("sk-ssh-ed25519@openssh.com", wire({"sk-ssh-ed25519@openssh.com", k32, "ssh:"}), "yubi"),
         "sk-ssh-ed25519@openssh.com", 256, "yubi", ""},
        {"sk ecdsa", key_line("sk-ecdsa-sha2-nistp256@openssh.com",
                              wire({"sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", point(65), "ssh:"}), "yubi"),
         "sk-ecdsa-sha2-nistp256@openssh.com", 256, "yubi", ""},
    };
    // clang-format on
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto key = parse_public_key(c.text);
        ASSERT_TRUE(key.ok()) << key.error().message;
        EXPECT_EQ(c.type, key.value().type);
        EXPECT_EQ(c.bits, key.value().bits);
        EXPECT_EQ(c.comment, key.value().comment);
        if (!c.fingerprint.empty()) {
            EXPECT_EQ(c.fingerprint, key.value().fingerprint);
        }
    }
}

TEST(Base64, RoundTripsAndRefusesNonCanonicalText) {
    for (const std::string& s : std::vector<std::string>{"f", "fo", "foo", "foob", "fooba",
                                                         "foobar", std::string("\0\xff", 2)}) {
        SCOPED_TRACE(s);
        EXPECT_EQ(s, base64_decode(base64_encode(s)).value_or("<none>"));
    }
    EXPECT_EQ("Zm9vYmFy", base64_encode("foobar"));
    for (const std::string bad :
         {"", "Zg", "Zg=", "Zh==", "Zm9=v", "Zm 9v", "Zm9v\n", "====", "Z===", "Zm9-"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(base64_decode(bad).has_value());
    }
}

PublicKey key_of(const std::string& text) {
    return parse_public_key(text).value();
}

TEST(KeysFile, AddRefusesDuplicatesAndBadNamesAndKeepsEveryOtherLine) {
    const std::string existing =
        "# managed by bridle enroll\n"
        "restrict,command=\"/usr/bin/bridle --key laptop\" " +
        kEd25519 +
        "\n"
        "\n"
        "from=\"10.0.0.0/8\",command=\"/usr/bin/bridle --key=ci --policy /etc/bridle/ci.yaml\",restrict " +
        kEcdsa256 +
        "\n"
        "no-pty " +
        kEcdsa521 +
        "\n"
        "this line is not a key\n";
    const KeysFile file = parse_keys_file(existing);
    ASSERT_EQ(6u, file.lines.size());
    EXPECT_EQ("laptop", file.lines[1].name.value_or(""));
    EXPECT_EQ("ci", file.lines[3].name.value_or(""));
    EXPECT_FALSE(file.lines[4].name.has_value());
    EXPECT_TRUE(file.lines[4].key.has_value());
    EXPECT_FALSE(file.lines[5].problem.empty());

    struct Case {
        std::string name;
        std::string key_name;
        std::string key;
        std::string policy;
        std::string why;
    };
    // clang-format off
    const std::vector<Case> refused = {
        {"duplicate name", "laptop", kRsa2048, "", "already enrolled"},
        {"duplicate name via --key=", "ci", kRsa2048, "", "already enrolled"},
        {"duplicate key, other name", "other", kEd25519, "", "already in the file as \"laptop\""},
        {"duplicate key of an unmanaged line", "other", kEcdsa521, "", "unmanaged line"},
        {"invalid name", "-x", kRsa2048, "", "invalid key name"},
        {"name with a quote", "a\"b", kRsa2048, "", "invalid key name"},
        {"name with a space", "a b", kRsa2048, "", "invalid key name"},
        {"relative policy", "new", kRsa2048, "policy.yaml", "invalid --policy"},
        {"policy with a quote", "new", kRsa2048, "/etc/a\"b", "invalid --policy"},
        {"policy with a space", "new", kRsa2048, "/etc/a b", "invalid --policy"},
    };
    // clang-format on
    for (const auto& c : refused) {
        SCOPED_TRACE(c.name);
        const auto out = add_key(file, c.key_name, key_of(c.key), c.policy);
        ASSERT_FALSE(out.ok());
        EXPECT_NE(std::string::npos, out.error().message.find(c.why)) << out.error().message;
    }

    const auto added = add_key(file, "rsa-box", key_of(kRsa2048), "/etc/bridle/other.yaml");
    ASSERT_TRUE(added.ok()) << added.error().message;
    EXPECT_EQ(
        existing +
            "restrict,command=\"/usr/bin/bridle --key rsa-box --policy /etc/bridle/other.yaml\" " +
            kRsa2048 + "\n",
        added.value());
    const KeysFile reparsed = parse_keys_file(added.value());
    EXPECT_EQ("rsa-box", reparsed.lines.back().name.value_or(""));
}

TEST(KeysFile, RemoveTakesOnlyTheNamedKey) {
    const std::string existing =
        "# header\n"
        "restrict,command=\"/usr/bin/bridle --key a\" " +
        kEd25519 +
        "\n"
        "restrict,command=\"/usr/bin/bridle --key b\" " +
        kRsa2048 +
        "\n"
        "no-pty " +
        kEcdsa521 + "\n";
    const KeysFile file = parse_keys_file(existing);
    for (const std::string unknown : {"c", "", "A", "a "}) {
        SCOPED_TRACE(unknown);
        EXPECT_FALSE(remove_key(file, unknown).ok());
    }
    const auto out = remove_key(file, "a");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ("# header\nrestrict,command=\"/usr/bin/bridle --key b\" " + kRsa2048 + "\nno-pty " +
                  kEcdsa521 + "\n",
              out.value());
}

TEST(KeysFile, FormatsTheLineSshdNeeds) {
    EXPECT_EQ("restrict,command=\"/usr/bin/bridle --key laptop\" " + kEd25519,
              format_key_line("laptop", key_of(kEd25519), ""));
}

// A private directory with the keys file, as root would have it (0755 directory).
class KeysDir : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/bridle-admin-XXXXXX";
        ASSERT_NE(nullptr, ::mkdtemp(tmpl));
        dir_ = tmpl;
        ASSERT_EQ(0, ::chmod(dir_.c_str(), 0755));
        file_ = dir_ + "/ai-agent";
        pub_ = dir_ + "/key.pub";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& path, const std::string& content, mode_t mode = 0644) {
        std::ofstream(path) << content;
        ASSERT_EQ(0, ::chmod(path.c_str(), mode));
    }
    std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::vector<std::string> entries() {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_))
            out.push_back(e.path().filename());
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string dir_, file_, pub_;
};

TEST_F(KeysDir, RefusesUnsafeFilesAndDirectories) {
    write(pub_, kEd25519 + "\n");
    KeysOptions options;
    options.file = file_;

    write(file_, "", 0664);
    EXPECT_FALSE(read_keys_file(file_).ok()) << "group-writable file";
    EXPECT_EQ(78, enroll("a", pub_, options));
    ::unlink(file_.c_str());

    write(dir_ + "/elsewhere", "");
    ASSERT_EQ(0, ::symlink((dir_ + "/elsewhere").c_str(), file_.c_str()));
    EXPECT_FALSE(read_keys_file(file_).ok()) << "symlink";
    EXPECT_EQ(78, enroll("a", pub_, options));
    EXPECT_EQ("", read(dir_ + "/elsewhere"));
    ::unlink(file_.c_str());

    ASSERT_EQ(0, ::chmod(dir_.c_str(), 0775));
    EXPECT_FALSE(read_keys_file(file_).ok()) << "group-writable directory";
    EXPECT_EQ(78, enroll("a", pub_, options));
    ASSERT_EQ(0, ::chmod(dir_.c_str(), 0755));

    ASSERT_EQ(0, ::mkdir(file_.c_str(), 0755));
    EXPECT_FALSE(read_keys_file(file_).ok()) << "directory";
    ASSERT_EQ(0, ::rmdir(file_.c_str()));
}

TEST_F(KeysDir, EnrollAndRevokeRewriteTheFileAtomically) {
    KeysOptions options;
    options.file = file_;
    EXPECT_EQ("", read_keys_file(file_).value()) << "a missing file reads as empty";

    // Refusals leave no file behind.
    write(pub_, "no-pty " + kEd25519 + "\n");
    EXPECT_EQ(64, enroll("laptop", pub_, options));
    write(pub_, kRsa1024);
    EXPECT_EQ(64, enroll("laptop", pub_, options));
    EXPECT_EQ(64, enroll("laptop", dir_ + "/missing.pub", options));
    EXPECT_EQ(64, enroll("bad name", pub_, options));
    EXPECT_EQ((std::vector<std::string>{"key.pub"}), entries());

    write(pub_, kEd25519 + "\n");
    EXPECT_EQ(0, enroll("laptop", pub_, options));
    EXPECT_EQ(64, enroll("laptop2", pub_, options)) << "same key again";
    write(pub_, kRsa2048 + "\n");
    EXPECT_EQ(64, enroll("laptop", pub_, options)) << "same name again";
    options.policy_file = "/etc/bridle/ci.yaml";
    EXPECT_EQ(0, enroll("ci", pub_, options));

    EXPECT_EQ("restrict,command=\"/usr/bin/bridle --key laptop\" " + kEd25519 + "\n" +
                  "restrict,command=\"/usr/bin/bridle --key ci --policy /etc/bridle/ci.yaml\" " +
                  kRsa2048 + "\n",
              read(file_));
    struct stat st {};
    ASSERT_EQ(0, ::stat(file_.c_str(), &st));
    EXPECT_EQ(0644u, st.st_mode & 07777);
    if (::geteuid() == 0) {
        EXPECT_EQ(0u, st.st_uid);
        EXPECT_EQ(0u, st.st_gid);
    }
    EXPECT_EQ((std::vector<std::string>{"ai-agent", "key.pub"}), entries())
        << "no temporary file is left";

    EXPECT_EQ(64, revoke("nobody", options));
    EXPECT_EQ(0, revoke("laptop", options));
    EXPECT_EQ("restrict,command=\"/usr/bin/bridle --key ci --policy /etc/bridle/ci.yaml\" " +
                  kRsa2048 + "\n",
              read(file_));
    EXPECT_EQ(0, list_keys(options));

    // An approver's key: its own forced command, a name shared with the agent keys.
    write(pub_, kEd25519 + "\n");
    options.policy_file.clear();
    EXPECT_EQ(64, enroll_approver("ci", pub_, options)) << "an agent key's name";
    EXPECT_EQ(64, enroll_approver("bad name", pub_, options));
    EXPECT_EQ(0, enroll_approver("admin", pub_, options));
    const std::string approver_line = read(file_).substr(read(file_).find('\n') + 1);
    EXPECT_EQ(0u, approver_line.find("restrict,command=\"/usr/bin/bridle --approver admin "
                                     "--approver-key SHA256:"))
        << approver_line;
    EXPECT_EQ(0, revoke("admin", options));
    EXPECT_EQ((std::vector<std::string>{"ai-agent", "key.pub"}), entries());
}

TEST_F(KeysDir, SshKeygenAgreesWithBridlesParser) {
    if (::access("/usr/bin/ssh-keygen", X_OK) != 0) GTEST_SKIP() << "ssh-keygen is not installed";
    for (const auto& text : {kEd25519, kRsa2048, kEcdsa256, kEcdsa521}) {
        SCOPED_TRACE(text.substr(0, 20));
        const Status s = confirm_with_ssh_keygen(key_of(text));
        EXPECT_TRUE(s.ok()) << s.error().message;
    }
    // A point that is not on the curve passes bridle's structural check; ssh-keygen refuses it.
    const auto off_curve = key_of(
        key_line("ecdsa-sha2-nistp256", wire({"ecdsa-sha2-nistp256", "nistp256", point(65)})));
    EXPECT_FALSE(confirm_with_ssh_keygen(off_curve).ok());
}

// ---------------------------------------------------------------------------------------------
// The command line table against bridle(8) and --help.

std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(BRIDLE_SOURCE_DIR) + "/" + relative);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The man page's text from `.SH NAME` up to the next `.SH`.
std::string man_section(const std::string& page, const std::string& name) {
    const auto start = page.find("\n.SH " + name + "\n");
    if (start == std::string::npos) return "";
    const auto end = page.find("\n.SH ", start + 1);
    return page.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// groff writes a literal hyphen-minus as "\-".
std::string roff(std::string_view s) {
    std::string out;
    for (const char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
    return out;
}

std::string run_help() {
    std::string out;
    FILE* p = ::popen((std::string(BRIDLE_BINARY) + " --help").c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
}

// bridle explain shows the whole truth (issue 13, item 11): the exact argv with the rule's
// fixed words and /dev/fd/N for the files bridle opens, which file each descriptor is, the
// environment the rule adds, the limits and the sandbox; and for a denial, no exec line.
TEST(Explain, ShowsTheArgvFdsEnvironmentLimitsAndSandbox) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("bridle-explain-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "log");
    std::ofstream(dir / "log" / "app.log") << "line\n";
    const std::string policy = (dir / "policy.yaml").string();
    std::ofstream(policy) << "version: 1\nsettings: {env: {PATH: /usr/bin}}\nrules:\n"
                             "  - id: cat-log\n    command: /usr/bin/cat\n    fixed_before: [-v]\n"
                             "    env: {LC_ALL: C, PATH: /bin}\n    timeout: 5s\n"
                             "    args: [{name: file, path: {under: ["
                          << (dir / "log").string() << "], type: file, open: fd}}]\n";
    const auto explain_text = [&](const std::string& request) {
        std::ostringstream out;
        std::streambuf* old = std::cout.rdbuf(out.rdbuf());
        const int status = explain(policy, "", request);
        std::cout.rdbuf(old);
        return std::make_pair(status, out.str());
    };
    const std::string file = (dir / "log" / "app.log").string();
    const auto [status, text] = explain_text("cat " + file);
    EXPECT_EQ(status, 0) << text;
    const std::regex exec("exec: /usr/bin/cat \\[\"cat\",\"-v\",\"/dev/fd/([0-9]+)\"\\]\n");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, exec)) << text;
    EXPECT_NE(text.find("fd: /dev/fd/" + m[1].str() + " = \"" + file + "\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("env: LC_ALL=\"C\" (added by the rule)"), std::string::npos) << text;
    EXPECT_NE(text.find("env: PATH=\"/bin\" (the rule's, over settings.env)"), std::string::npos)
        << text;
    EXPECT_NE(
        text.find("limits: timeout 5000 ms, output 1048576 bytes per stream, stdin /dev/null"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("sandbox: baseline"), std::string::npos) << text;

    const auto [denied_status, denied] = explain_text("cat /etc/passwd");
    EXPECT_EQ(denied_status, 77);
    EXPECT_EQ(denied.find("exec:"), std::string::npos) << denied;
    EXPECT_EQ(denied.find("fd:"), std::string::npos) << denied;
    EXPECT_EQ(denied.find("limits:"), std::string::npos) << denied;
    EXPECT_NE(denied.find("reason: FILE \"/etc/passwd\""), std::string::npos) << denied;
    std::filesystem::remove_all(dir);
}

TEST(ManPage, DocumentsEveryOptionAndSubcommandOfTheTable) {
    const std::string page = read_source("install/man/bridle.8");
    ASSERT_FALSE(page.empty());
    const std::string synopsis = man_section(page, "SYNOPSIS");
    const std::string options = man_section(page, "OPTIONS");
    const std::string commands = man_section(page, "COMMANDS");
    const std::string help = run_help();
    ASSERT_FALSE(help.empty());
    for (const auto& mode : kModes) {
        if (mode.name.empty()) continue;
        SCOPED_TRACE(std::string(mode.name));
        EXPECT_NE(std::string::npos, synopsis.find(roff(mode.name))) << "missing from SYNOPSIS";
        EXPECT_NE(std::string::npos, help.find(std::string(mode.name))) << "missing from --help";
        if (mode.name.front() != '-') {
            EXPECT_NE(std::string::npos, commands.find("\n.B " + std::string(mode.name) + "\n"))
                << "missing from COMMANDS";
        }
    }
    for (const auto& option : kOptions) {
        SCOPED_TRACE(std::string(option.mode) + " " + std::string(option.name));
        if (option.is_flag) {  // a flag has no argument: `.B \-\-follow`
            EXPECT_NE(std::string::npos, options.find("\n.B " + roff(option.name) + "\n"))
                << "missing from OPTIONS as .B " << roff(option.name);
            EXPECT_NE(std::string::npos, help.find(std::string(option.name)))
                << "missing from --help";
            EXPECT_TRUE(option.argument.empty()) << "a flag takes no argument";
        } else {
            EXPECT_NE(std::string::npos, options.find(".BI " + roff(option.name) + " \" " +
                                                      std::string(option.argument) + "\""))
                << "missing from OPTIONS as .BI " << roff(option.name) << " \" " << option.argument
                << "\"";
            EXPECT_NE(std::string::npos,
                      help.find(std::string(option.name) + " " + std::string(option.argument)))
                << "missing from --help";
        }
        EXPECT_NE(std::string::npos, synopsis.find(roff(option.name))) << "missing from SYNOPSIS";
    }
    // And the other way round: every option the man page documents is in the table.
    const std::regex documented(R"(\n\.BI? (\\-\\?-?[a-z][a-z\\-]*))");
    std::set<std::string> known;
    for (const auto& option : kOptions) known.insert(roff(option.name));
    for (const auto& mode : kModes) known.insert(roff(mode.name));
    for (auto it = std::sregex_iterator(options.begin(), options.end(), documented);
         it != std::sregex_iterator(); ++it) {
        const std::string name = (*it)[1];
        EXPECT_TRUE(known.count(name))
            << name << " is documented in OPTIONS but is not in the table (admin/cli.hpp)";
    }
}

// Each mode of main() with what it refuses: the exit status, the first line on stderr, and
// for a usage error the --help text after it. None of these reads a policy or a keys file.
TEST(MainModes, RefuseBadCommandLinesWithTheirMessageAndStatus) {
    struct Case {
        std::vector<std::string> args;
        int status;
        std::string first;  // stderr's first line
        bool usage = true;  // stderr goes on with usage(); stdout is empty
    };
    // clang-format off
    const std::vector<Case> cases = {
        // The forced command: options of mode "", no operand at all.
        {{"--policy"}, 64, "bridle: --policy needs a value"},
        {{"--key"}, 64, "bridle: --key needs a value"},
        {{"--bogus"}, 64, "bridle: unexpected argument: --bogus"},
        {{"extra"}, 64, "bridle: unexpected argument: extra"},
        {{"foo", "bar"}, 64, "bridle: unexpected argument: foo"},
        {{"--policy", "/nonexistent", "extra"}, 64, "bridle: unexpected argument: extra"},
        {{"--policy", "/nonexistent", "--"}, 64, "bridle: unexpected argument: --"},
        {{"--"}, 64, "bridle: unexpected argument: --"},
        {{"--name", "x"}, 64, "bridle: --name is not an option of the forced command"},
        {{"--stats=1"}, 64, "bridle: --stats is not an option of the forced command"},
        {{"-o", "json"}, 64, "bridle: -o is not an option of the forced command"},
        {{"-x"}, 64, "bridle: unexpected argument: -x"},
        {{"--help=1"}, 64, "bridle: unexpected argument: --help=1"},
        {{"--version=1"}, 64, "bridle: unexpected argument: --version=1"},
        {{"help"}, 64, "bridle: unexpected argument: help"},
        {{"Check"}, 64, "bridle: unexpected argument: Check"},
        {{"--key=a=b", "--policy", "/nonexistent"}, 64,
         "bridle: invalid --key \"a=b\" in the forced command: ask the administrator to fix authorized_keys", false},
        // -c TEXT: exactly one word after it.
        {{"-c"}, 64, "bridle: -c takes exactly one argument"},
        {{"-c", "a", "b"}, 64, "bridle: -c takes exactly one argument"},
        {{"-c", "--policy", "/nonexistent"}, 64, "bridle: -c takes exactly one argument"},
        {{"-c", "--", "help"}, 64, "bridle: -c takes exactly one argument"},
        // check
        {{"check", "extra"}, 64, "bridle: unexpected argument to check: extra"},
        {{"check", "--policy", "/nonexistent", "extra"}, 64, "bridle: unexpected argument to check: extra"},
        {{"check", "--policy"}, 64, "bridle: --policy needs a value"},
        {{"check", "--key", "k"}, 64, "bridle: --key is not an option of check"},
        {{"check", "--"}, 64, "bridle: unexpected argument to check: --"},
        {{"check", "--bogus"}, 64, "bridle: unexpected argument to check: --bogus"},
        {{"check", "--help"}, 64, "bridle: unexpected argument to check: --help"},
        // explain [options] [--] TEXT...
        {{"explain"}, 64, "bridle: explain needs the command text after --"},
        {{"explain", "--"}, 64, "bridle: explain needs the command text after --"},
        {{"explain", "--policy", "/nonexistent"}, 64, "bridle: explain needs the command text after --"},
        {{"explain", "--policy", "/nonexistent", "--"}, 64, "bridle: explain needs the command text after --"},
        {{"explain", "--name", "x", "--", "date"}, 64, "bridle: --name is not an option of explain"},
        {{"explain", "--policy"}, 64, "bridle: --policy needs a value"},
        // audit
        {{"audit", "extra"}, 64, "bridle: unexpected argument to audit: extra"},
        {{"audit", "--bogus"}, 64, "bridle: unexpected argument to audit: --bogus"},
        {{"audit", "--"}, 64, "bridle: unexpected argument to audit: --"},
        {{"audit", "--file", "/nonexistent", "--"}, 64, "bridle: unexpected argument to audit: --"},
        {{"audit", "--since"}, 64, "bridle: --since needs a value"},
        {{"audit", "--stats=yes"}, 64, "bridle: --stats takes no value"},
        {{"audit", "--name", "x"}, 64, "bridle: --name is not an option of audit"},
        {{"audit", "--decision", "maybe"}, 64, "bridle: --decision must be allow, deny or approval"},
        {{"audit", "-o", "xml"}, 64, "bridle: -o must be table or json"},
        {{"audit", "--color", "sometimes"}, 64, "bridle: --color must be auto, always or never"},
        // learn
        {{"learn", "extra"}, 64, "bridle: unexpected argument to learn: extra"},
        // The fleet controller: its subcommand, the target, the command after --.
        {{"fleet"}, 64, "bridle: fleet needs run or mcp"},
        {{"fleet", "go"}, 64, "bridle: fleet needs run or mcp"},
        {{"fleet", "run"}, 64, "bridle: fleet run needs HOST|GROUP"},
        {{"fleet", "run", "web", "uptime"}, 64, "bridle: fleet run: the command follows -- (fleet run HOST|GROUP -- CMD...)"},
        {{"fleet", "run", "web", "--"}, 64, "bridle: fleet run needs a command after --"},
        {{"fleet", "run", "-o", "xml", "web", "--", "uptime"}, 64, "bridle: -o is text or json"},
        {{"fleet", "run", "--timeout", "0", "web", "--", "uptime"}, 64, "bridle: --timeout: a whole number from 1 to 86400, not \"0\""},
        {{"fleet", "run", "--max-parallel", "65", "web", "--", "uptime"}, 64, "bridle: --max-parallel: a whole number from 1 to 64, not \"65\""},
        {{"fleet", "run", "--follow", "web", "--", "uptime"}, 64, "bridle: --follow is not an option of fleet run"},
        {{"fleet", "mcp", "extra"}, 64, "bridle: unexpected argument to fleet mcp: extra"},
        {{"fleet", "run", "-i", "/nonexistent/inv", "web", "--", "uptime"}, 78, "bridle: fleet: /nonexistent/inv: cannot read the inventory", false},
        {{"learn", "--decision", "deny"}, 64, "bridle: --decision is not an option of learn"},
        {{"learn", "--unused", "soon"}, 64, "bridle: --unused: cannot read the duration \"soon\" (try 30d, 2w, 12h)"},
        {{"learn", "--since", "-1d", "--unused", "30d"}, 64, "bridle: --unused DURATION sets the window: leave out --since"},
        {{"learn", "--unused", "30d", "--write", "/nonexistent"}, 64,
         "bridle: --unused lists rules; --max-policy and --write are for proposals"},
        {{"learn", "-D", "/a", "--file", "/b"}, 64, "bridle: give -D or --file, not both"},
        {{"learn", "--user="}, 64, "bridle: --user needs an account name"},
        // enroll --name NAME [--] PUBKEY_FILE
        {{"enroll"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "--name", "x"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "--name", "x", "--"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "--name", "x", "a", "b"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "--name", "x", "--", "a", "b"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "--", "--name", "x", "/nonexistent.pub"}, 64, "bridle: enroll takes exactly one PUBKEY_FILE"},
        {{"enroll", "/nonexistent.pub"}, 64, "bridle: enroll needs --name NAME (an agent key) or --approver NAME"},
        {{"enroll", "--name", "a", "--approver", "b", "/nonexistent.pub"}, 64, "bridle: enroll needs --name NAME (an agent key) or --approver NAME"},
        {{"enroll", "--key", "k", "/nonexistent.pub"}, 64, "bridle: --key is not an option of enroll"},
        {{"enroll", "--name"}, 64, "bridle: --name needs a value"},
        {{"enroll", "--name", "bad name", "/nonexistent.pub"}, 64,
         "bridle: invalid key name \"bad name\": use 1 to 64 of [A-Za-z0-9._@-], starting with a letter or digit", false},
        // revoke [--file PATH] [--] NAME
        {{"revoke"}, 64, "bridle: revoke takes exactly one NAME"},
        {{"revoke", "--"}, 64, "bridle: revoke takes exactly one NAME"},
        {{"revoke", "a", "b"}, 64, "bridle: revoke takes exactly one NAME"},
        {{"revoke", "--name", "x", "a"}, 64, "bridle: --name is not an option of revoke"},
        {{"revoke", "--file"}, 64, "bridle: --file needs a value"},
        // keys [--file PATH] [--]
        {{"keys", "extra"}, 64, "bridle: unexpected argument to keys: extra"},
        {{"keys", "--", "extra"}, 64, "bridle: unexpected argument to keys: extra"},
        {{"keys", "--policy", "/nonexistent"}, 64, "bridle: --policy is not an option of keys"},
        {{"keys", "--name", "x"}, 64, "bridle: --name is not an option of keys"},
        {{"keys", "--file"}, 64, "bridle: --file needs a value"},
        // sudoers
        {{"sudoers", "extra"}, 64, "bridle: unexpected argument to sudoers: extra"},
        {{"sudoers", "--policy", "/nonexistent", "extra"}, 64, "bridle: unexpected argument to sudoers: extra"},
        {{"sudoers", "--policy", "/nonexistent", "--"}, 64, "bridle: unexpected argument to sudoers: --"},
        {{"sudoers", "--install=1"}, 64, "bridle: --install takes no value"},
        {{"sudoers", "--user"}, 64, "bridle: --user needs a value"},
        {{"sudoers", "--key", "k"}, 64, "bridle: --key is not an option of sudoers"},
        // run-as [--policy FILE] RULE [-- WORD...]
        {{"run-as"}, 64, "bridle: run-as needs a RULE"},
        {{"run-as", "--"}, 64, "bridle: run-as needs a RULE"},
        {{"run-as", "--policy", "/nonexistent"}, 64, "bridle: run-as needs a RULE"},
        {{"run-as", "--policy", "/nonexistent", "--", "r"}, 64, "bridle: run-as needs a RULE"},
        {{"run-as", "--policy", "/nonexistent", "r", "extra"}, 64,
         "bridle: run-as: unexpected argument extra (the request follows --)"},
        {{"run-as", "--key", "k", "r"}, 64, "bridle: --key is not an option of run-as"},
        {{"run-as", "--policy"}, 64, "bridle: --policy needs a value"},
    };
    // clang-format on
    const std::string help = usage();
    for (const Case& c : cases) {
        std::string name;
        for (const auto& a : c.args) name += (name.empty() ? "" : " ") + ("'" + a + "'");
        SCOPED_TRACE(name);
        const Ran ran = run_bridle(c.args);
        EXPECT_EQ(ran.status, c.status);
        EXPECT_EQ(ran.out, "");
        const std::size_t eol = ran.err.find('\n');
        EXPECT_EQ(ran.err.substr(0, eol), c.first);
        if (c.usage) {
            EXPECT_EQ(ran.err, c.first + "\n" + help);
        }
    }
}

// --help (-h) and --version answer on stdout, whatever follows them.
TEST(MainModes, HelpAndVersionIgnoreWhatFollows) {
    const std::string version = std::string("bridle ") + BRIDLE_VERSION + "\n";
    // clang-format off
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--help"}, usage()},
        {{"-h"}, usage()},
        {{"--help", "extra"}, usage()},
        {{"-h", "--bogus"}, usage()},
        {{"--version"}, version},
        {{"--version", "extra"}, version},
    };
    // clang-format on
    for (const auto& [args, out] : cases) {
        SCOPED_TRACE(args.size() == 1 ? args[0] : args[0] + " " + args[1]);
        const Ran ran = run_bridle(args);
        EXPECT_EQ(ran.status, 0);
        EXPECT_EQ(ran.out, out);
        EXPECT_EQ(ran.err, "");
    }
}

TEST(ManPage, DocumentsEveryExitStatus) {
    const std::string header = read_source("src/common/exit_code.hpp");
    const std::string exit_status = man_section(read_source("install/man/bridle.8"), "EXIT STATUS");
    ASSERT_FALSE(exit_status.empty());
    const std::regex value(R"(\bk[A-Za-z]+ = (\d+),)");
    int seen = 0;
    for (auto it = std::sregex_iterator(header.begin(), header.end(), value);
         it != std::sregex_iterator(); ++it) {
        const std::string n = (*it)[1];
        SCOPED_TRACE(n);
        ++seen;
        const bool documented = exit_status.find("\n.B " + n + "\n") != std::string::npos ||
                                exit_status.find("\n.BI " + n + "+") != std::string::npos;
        EXPECT_TRUE(documented) << "exit status " << n << " is not in bridle(8) EXIT STATUS";
    }
    EXPECT_GE(seen, 10);
}

// ---------------------------------------------------------------------------------------------
// bridle audit: options, times, pairing records, what the table shows.

TEST(Cli, FlagsTakeNoValueAndValuesStillNeedOne) {
    struct Case {
        const char* name;
        std::vector<std::string> args;
        std::string error;  // "" = accepted
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"flag", {"--follow"}, ""},
        {"two flags and an option", {"--stats", "--decision", "deny", "--follow"}, ""},
        {"flag with =value", {"--stats=yes"}, "--stats takes no value"},
        {"option without value", {"--since"}, "--since needs a value"},
        {"flag of another mode", {"--name", "x"}, "--name is not an option of audit"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::map<std::string, std::string> values;
        std::size_t i = 0;
        EXPECT_EQ(parse_mode_options("audit", c.args, i, values), c.error);
    }
    std::map<std::string, std::string> values;
    std::size_t i = 0;
    EXPECT_EQ(parse_mode_options("check", {"--follow"}, i, values),
              "--follow is not an option of check");
    i = 0;
    values.clear();
    ASSERT_EQ(parse_mode_options("audit", {"--follow", "-o", "json"}, i, values), "");
    EXPECT_EQ(values["--follow"], "1");
    EXPECT_EQ(values["-o"], "json");
}

TEST(AuditTime, ReadsJournalctlSyntax) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    const std::uint64_t now = 1'764'000'000ull * 1'000'000;  // 2025-11-24 16:00:00 UTC
    const std::uint64_t s = 1'000'000;
    struct Case {
        const char* text;
        std::optional<std::uint64_t> want;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"now", now},
        {"2025-11-24 08:00", 1'763'971'200ull * s},
        {"2025-11-24 08:00:30", 1'763'971'230ull * s},
        {"2025-11-24T08:00:30", 1'763'971'230ull * s},
        {"2025-11-24", 1'763'942'400ull * s},
        {"2025-11-24 08:00 UTC", 1'763'971'200ull * s},
        {"08:00", 1'763'971'200ull * s},
        {"today", 1'763'942'400ull * s},
        {"yesterday", 1'763'856'000ull * s},
        {"tomorrow", 1'764'028'800ull * s},
        {"@1763971200", 1'763'971'200ull * s},
        {"-1h", now - 3600 * s},
        {"-1h 30min", now - 5400 * s},
        {"2 days ago", now - 2 * 86400 * s},
        {"+1w", now + 7 * 86400 * s},
        {"-90", now - 90 * s},
        // refused
        {"", std::nullopt},
        {"soon", std::nullopt},
        {"2025-02-30", std::nullopt},
        {"2025-13-01", std::nullopt},
        {"25:00", std::nullopt},
        {"-1 fortnight", std::nullopt},
        {"@", std::nullopt},
        {"@12x", std::nullopt},
        {"2025-11-24 08:00 junk", std::nullopt},
        {"-", std::nullopt},
        {"1969-12-31", std::nullopt},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        EXPECT_EQ(parse_audit_time(c.text, now), c.want);
    }
}

TEST(AuditOptions, ChecksEveryValueAndPicksColourAndWidth) {
    struct Case {
        const char* name;
        std::map<std::string, std::string> values;
        std::string error;  // "" = accepted
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"nothing", {}, ""},
        {"everything", {{"--since", "-1h"}, {"--until", "now"}, {"--decision", "deny"}, {"--rule", "r"},
                        {"--key", "k"}, {"--request", "x"}, {"-o", "json"}, {"-D", "/d"}}, ""},
        {"bad time", {{"--since", "soon"}}, "--since: cannot read the time \"soon\""},
        {"bad until", {{"--until", "\x1b[2J"}}, "--until: cannot read the time \"\\x1B[2J\""},
        {"bad decision", {{"--decision", "maybe"}}, "--decision must be allow, deny or approval"},
        {"bad output", {{"-o", "yaml"}}, "-o must be table or json"},
        {"bad colour", {{"--color", "yes"}}, "--color must be auto, always or never"},
        {"both sources", {{"-D", "/d"}, {"--file", "/f"}}, "give -D or --file, not both"},
        {"stats and follow", {{"--stats", "1"}, {"--follow", "1"}}, "--stats and --follow do not go together"},
        {"by fan-out", {{"--by-fanout", "1"}, {"-D", "/d"}, {"--fanout", "f"}, {"-o", "json"}}, ""},
        {"by fan-out and stats", {{"--by-fanout", "1"}, {"--stats", "1"}}, "--by-fanout goes with neither"},
        {"by fan-out and follow", {{"--by-fanout", "1"}, {"--follow", "1"}}, "--by-fanout goes with neither"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        AuditOptions o;
        const std::string error = audit_options(c.values, Terminal{}, o, 1'000'000'000'000'000);
        if (c.error.empty()) {
            EXPECT_EQ(error, "");
        } else {
            EXPECT_EQ(error.rfind(c.error, 0), 0u) << error;
        }
    }
    AuditOptions o;
    ASSERT_EQ(audit_options({}, Terminal{true, 120, false}, o), "");
    EXPECT_TRUE(o.color);
    EXPECT_EQ(o.width, 120u);
    ASSERT_EQ(audit_options({}, Terminal{true, 120, true}, o), "");
    EXPECT_FALSE(o.color);  // NO_COLOR
    ASSERT_EQ(audit_options({}, Terminal{false, 0, false}, o), "");
    EXPECT_FALSE(o.color);
    EXPECT_EQ(o.width, 0u);  // not a terminal: nothing is cut
    ASSERT_EQ(audit_options({{"--color", "always"}}, Terminal{false, 0, true}, o), "");
    EXPECT_TRUE(o.color);
}

audit::StoredRecord stored(std::map<std::string, std::string> fields, std::uint64_t t) {
    audit::StoredRecord r;
    r.fields = std::move(fields);
    r.realtime_usec = t;
    return r;
}

TEST(AuditReview, PairsRecordsAndIgnoresDuplicatesAndForgeries) {
    AuditLog log;
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "a"},
                    {"BRIDLE_DECISION", "allow"},
                    {"BRIDLE_RULE", "uptime"},
                    {"BRIDLE_COMMAND", "uptime"}},
                   10));
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "b"},
                    {"BRIDLE_DECISION", "deny"},
                    {"BRIDLE_COMMAND", "cat /etc/shadow"}},
                   20));
    log.add(stored({{"BRIDLE_EVENT", "result"},
                    {"BRIDLE_REQUEST_ID", "a"},
                    {"BRIDLE_DECISION", "allow"},
                    {"BRIDLE_RULE", "uptime"},
                    {"BRIDLE_EXIT_STATUS", "0"},
                    {"BRIDLE_DURATION_MS", "12"}},
                   30));
    // A second "decision" for b claiming allow (a duplicate, or a forgery) changes nothing.
    log.add(stored(
        {{"BRIDLE_EVENT", "decision"}, {"BRIDLE_REQUEST_ID", "b"}, {"BRIDLE_DECISION", "allow"}},
        40));
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "c"},
                    {"BRIDLE_DECISION", "allow"},
                    {"BRIDLE_RULE", "sleep"}},
                   50));
    ASSERT_EQ(log.requests().size(), 3u);
    const AuditRequest& a = log.requests()[0];
    EXPECT_TRUE(a.is_complete());
    EXPECT_EQ(a.time(), 10u);
    const std::string json = to_json(a);
    EXPECT_NE(json.find(R"("status":0)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("duration_ms":12)"), std::string::npos) << json;
    EXPECT_EQ(log.requests()[1].verdict(), "deny");
    EXPECT_TRUE(log.requests()[1].is_complete());
    EXPECT_FALSE(log.requests()[2].is_complete());  // allowed, no result yet

    AuditOptions o;
    o.decision = "deny";
    EXPECT_FALSE(matches(o, a));
    EXPECT_TRUE(matches(o, log.requests()[1]));
    o = AuditOptions{};
    o.rule = "uptime";
    EXPECT_TRUE(matches(o, a));
    o.key = "someone";
    EXPECT_FALSE(matches(o, a));
}

// --rule finds a pipeline by any of its stages' rules (BRIDLE_RULE "a|b|c"), and only by a
// whole rule id.
TEST(AuditReview, RuleFilterMatchesAPipelineStage) {
    AuditLog log;
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "p"},
                    {"BRIDLE_DECISION", "allow"},
                    {"BRIDLE_STAGES", "3"},
                    {"BRIDLE_RULE", "journal|grep-filter|tail-filter"}},
                   10));
    const AuditRequest& p = log.requests()[0];
    AuditOptions o;
    for (const char* rule : {"journal", "grep-filter", "tail-filter"}) {
        o.rule = rule;
        EXPECT_TRUE(matches(o, p)) << rule;
    }
    for (const char* rule : {"grep", "filter", "journal|grep-filter", ""}) {
        o.rule = rule;
        EXPECT_EQ(matches(o, p), o.rule.empty()) << rule;
    }
}

// A decision whose result never came is "lost" once its timeout and a minute have passed,
// and "running" before; denials, help and completed requests are never lost.
TEST(AuditReview, ADecisionWithoutResultIsLostAfterItsTimeout) {
    constexpr std::uint64_t kSecond = 1'000'000;
    const std::uint64_t t = 1000 * kSecond;
    const auto request = [&](std::map<std::string, std::string> fields) {
        AuditLog log;
        fields["BRIDLE_EVENT"] = "decision";
        fields["BRIDLE_REQUEST_ID"] = "x";
        log.add(stored(fields, t));
        return log.requests().at(0);
    };
    const AuditRequest timed = request(
        {{"BRIDLE_DECISION", "allow"}, {"BRIDLE_RULE", "sleep"}, {"BRIDLE_TIMEOUT_MS", "30000"}});
    const auto alive = [](const AuditRequest&) { return false; };
    const auto gone = [](const AuditRequest&) { return true; };
    EXPECT_FALSE(timed.is_lost(t + 89 * kSecond, alive));  // 30 s + the minute: not yet
    EXPECT_TRUE(timed.is_lost(t + 91 * kSecond, alive));
    // Its bridle is gone: lost once the result had 5 s to arrive.
    EXPECT_FALSE(timed.is_lost(t + 4 * kSecond, gone));
    EXPECT_TRUE(timed.is_lost(t + 6 * kSecond, gone));
    const AuditRequest old = request({{"BRIDLE_DECISION", "allow"}, {"BRIDLE_RULE", "sleep"}});
    EXPECT_FALSE(old.is_lost(t + 3600 * kSecond, alive));  // no timeout recorded: 24 h
    EXPECT_TRUE(old.is_lost(t + 25 * 3600 * kSecond, alive));
    EXPECT_FALSE(request({{"BRIDLE_DECISION", "deny"}}).is_lost(t + 25 * 3600 * kSecond, gone));
    EXPECT_FALSE(request({{"BRIDLE_DECISION", "allow"}, {"BRIDLE_RULE", "builtin:help"}})
                     .is_lost(t + 25 * 3600 * kSecond, gone));
    const std::string json = to_json(timed);  // realtime now is long past t
    EXPECT_NE(json.find(R"("lost":true)"), std::string::npos) << json;
}

// --by-fanout: the requests of several hosts under one fan-out id come out as one group, with
// each host's part counted (allowed, denied, outcomes); another fan-out is its own group, in
// the order of first requests; requests without an id come last, apart.
TEST(AuditFanout, GroupsEveryHostsPartUnderItsFanoutId) {
    AuditLog log;
    const auto decision = [&](const std::string& id, const std::string& host,
                              const std::string& fanout, const std::string& verdict,
                              std::uint64_t t) {
        std::map<std::string, std::string> f{{"BRIDLE_EVENT", "decision"},
                                             {"BRIDLE_REQUEST_ID", id},
                                             {"BRIDLE_DECISION", verdict},
                                             {"BRIDLE_COMMAND", "echo hello"},
                                             {"_HOSTNAME", host}};
        if (verdict == "allow") f["BRIDLE_RULE"] = "echo";
        if (!fanout.empty()) f["BRIDLE_FANOUT_ID"] = fanout;
        log.add(stored(f, t));
    };
    const auto result = [&](const std::string& id, const std::string& host,
                            const std::string& status, std::uint64_t t) {
        log.add(stored({{"BRIDLE_EVENT", "result"},
                        {"BRIDLE_REQUEST_ID", id},
                        {"BRIDLE_DECISION", "allow"},
                        {"BRIDLE_RULE", "echo"},
                        {"BRIDLE_EXIT_STATUS", status},
                        {"BRIDLE_TIMED_OUT", "0"},
                        {"BRIDLE_SIGNAL", "0"},
                        {"BRIDLE_STARTED", "1"},
                        {"_HOSTNAME", host}},
                       t));
    };
    decision("alone", "web1", "", "allow", 5);
    result("alone", "web1", "0", 6);
    decision("w2", "web2", "f1", "allow", 20);  // f1's first request comes after f2's
    decision("w1", "web1", "f1", "allow", 21);
    decision("d1", "db1", "f1", "deny", 22);
    result("w1", "web1", "0", 30);
    result("w2", "web2", "3", 31);
    decision("f2a", "web1", "f2", "allow", 10);
    result("f2a", "web1", "0", 11);
    decision("w1b", "web1", "f1", "allow", 40);  // web1's second request in f1
    result("w1b", "web1", "0", 41);
    decision("nodeny", "db1", "", "deny", 50);

    std::vector<const AuditRequest*> all;
    for (const AuditRequest& r : log.requests()) all.push_back(&r);
    const std::vector<FanoutGroup> groups = group_by_fanout(all);
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(groups[0].id, "f2");
    EXPECT_EQ(groups[1].id, "f1");
    EXPECT_EQ(groups[2].id, "");  // the requests without an id, last
    const FanoutGroup& f1 = groups[1];
    EXPECT_EQ(f1.requests, 4u);
    EXPECT_EQ(f1.first, 20u);
    EXPECT_EQ(f1.last, 40u);
    ASSERT_EQ(f1.hosts.size(), 3u);
    EXPECT_EQ(f1.hosts[0].host, "db1");
    EXPECT_EQ(f1.hosts[0].denied, 1u);
    EXPECT_EQ(f1.hosts[0].outcomes, (std::map<std::string, std::size_t>{{"denied", 1}}));
    EXPECT_EQ(f1.hosts[1].host, "web1");
    EXPECT_EQ(f1.hosts[1].requests, 2u);
    EXPECT_EQ(f1.hosts[1].allowed, 2u);
    EXPECT_EQ(f1.hosts[1].outcomes, (std::map<std::string, std::size_t>{{"exit 0", 2}}));
    EXPECT_EQ(f1.hosts[1].request_ids, (std::vector<std::string>{"w1", "w1b"}));
    EXPECT_EQ(f1.hosts[2].outcomes, (std::map<std::string, std::size_t>{{"exit 3", 1}}));
    EXPECT_EQ(groups[2].requests, 2u);
    EXPECT_EQ(groups[2].hosts.size(), 2u);

    std::ostringstream table;
    print_fanouts(table, AuditOptions{}, {f1});
    const std::string t = table.str();
    EXPECT_NE(t.find("fan-out f1: 3 hosts, 4 requests, "), std::string::npos) << t;
    EXPECT_NE(t.find("  command: echo hello (x4)\n"), std::string::npos) << t;
    EXPECT_TRUE(std::regex_search(t, std::regex("\n  db1 +1 +0 +1 denied\n"))) << t;
    EXPECT_TRUE(std::regex_search(t, std::regex("\n  web1 +2 +2 +0 exit 0 x2\n"))) << t;
    const std::string json = to_json(groups[2]);
    EXPECT_NE(json.find(R"("fanout_id":null)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("outcomes":{"denied":1})"), std::string::npos) << json;
}

// A forged fan-out id or host name cannot write control characters to the terminal.
TEST(AuditFanout, TableEscapesAForgedFanoutId) {
    AuditLog log;
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "x"},
                    {"BRIDLE_DECISION", "deny"},
                    {"BRIDLE_FANOUT_ID", "f\x1b[2J\r\nfan-out fake"},
                    {"_HOSTNAME", "h\x07"}},
                   1));
    std::ostringstream out;
    print_fanouts(out, AuditOptions{}, group_by_fanout({&log.requests()[0]}));
    const std::string text = out.str();
    for (const char c : text) {
        EXPECT_FALSE((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) << text;
    }
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;
}

// Any process may write a record claiming to be bridle's: the table never passes a control
// character, an invisible one or bad UTF-8 through to the administrator's terminal.
TEST(AuditReview, TableEscapesWhatAForgedRecordCarries) {
    AuditLog log;
    log.add(stored({{"BRIDLE_EVENT", "decision"},
                    {"BRIDLE_REQUEST_ID", "x"},
                    {"BRIDLE_DECISION", "deny"},
                    {"BRIDLE_KEY", "k\x1b]52;c;AAAA\x07"},
                    {"BRIDLE_REASON", "r\r\nFAKE ROW"},
                    {"BRIDLE_COMMAND", "ls \xff\xe2\x80\xae\xc2\x85 caf\xc3\xa9"}},
                   1));
    std::ostringstream out;
    AuditOptions o;
    print_table_row(out, o, log.requests()[0], true);
    const std::string row = out.str();
    ASSERT_FALSE(row.empty());
    // One line (not a terminal: nothing is cut), whatever the fields held.
    EXPECT_EQ(std::count(row.begin(), row.end(), '\n'), 1) << row;
    EXPECT_EQ(row.back(), '\n');
    for (const char c : row) {
        EXPECT_FALSE((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) << row;
    }
    EXPECT_NE(row.find("why: r\\r\\nFAKE ROW"), std::string::npos) << row;
    EXPECT_NE(row.find("\\xFF"), std::string::npos) << row;
    EXPECT_NE(row.find("\\u{202E}"), std::string::npos) << row;
    EXPECT_NE(row.find("caf\xc3\xa9"), std::string::npos) << row;  // ordinary UTF-8 stays
    // On a narrow terminal the reason gets a line of its own, cut to the width.
    std::ostringstream narrow;
    o.width = 110;
    print_table_row(narrow, o, log.requests()[0], true);
    const std::string two = narrow.str();
    EXPECT_EQ(std::count(two.begin(), two.end(), '\n'), 2) << two;
    EXPECT_NE(two.find("\n" + std::string(32, ' ') + "why: "), std::string::npos) << two;
}

// Key lifetimes: --expires to a time, the expiry-time= option written and read back.
TEST(KeyExpiry, ParsesLifetimesAndUtcDates) {
    const std::int64_t now = 1'800'000'000;  // 2027-01-15T08:00:00Z
    struct Case {
        const char* text;
        std::int64_t want;  // 0: refused
    };
    const std::vector<Case> cases = {
        {"30d", now + 30 * 86400},
        {"12h", now + 12 * 3600},
        {"2w", now + 14 * 86400},
        {"3650d", now + 3650LL * 86400},
        {"2027-01-31", 1'801'353'600},
        {"2027-01-31T18:00", 1'801'418'400},
        {"2027-01-31T18:00:30Z", 1'801'418'430},
        {"0d", 0},          // not in the future
        {"2027-01-15", 0},  // the past
        {"3651d", 0},       // too far
        {"30", 0},          // no unit
        {"30s", 0},         // not a unit
        {"d", 0},
        {"-3d", 0},
        {"2027-02-30", 0},  // no such day
        {"2027-13-01", 0},
        {"2027-01-31T24:00", 0},
        {"2027-01-31 18:00", 0},
        {"27-01-31", 0},
        {"20270131", 0},  // OpenSSH's own spelling is not --expires'
        {"", 0},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        const Result<std::int64_t> got = parse_expires(c.text, now);
        EXPECT_EQ(got.ok() ? got.value() : 0, c.want) << (got.ok() ? "" : got.error().message);
    }
}

TEST(KeyExpiry, TimespecRoundTripsAndIsSshdsSyntax) {
    EXPECT_EQ(expiry_timespec(1'801'418'430), "20270131180030Z");
    EXPECT_EQ(parse_timespec("20270131180030Z"), 1'801'418'430);
    EXPECT_EQ(parse_timespec("202701311800Z"), 1'801'418'400);
    EXPECT_EQ(parse_timespec("20270131Z"), 1'801'353'600);
    EXPECT_EQ(utc_text(1'801'418'430), "2027-01-31T18:00:30Z");
    for (const char* bad :
         {"", "Z", "2027013", "202701311", "20270231Z", "2027-01-31", "x0270131"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(parse_timespec(bad));
    }
}

TEST(KeysFile, ExpiryTimeIsWrittenAndReadBack) {
    const auto added = add_key(KeysFile{}, "short", key_of(kEd25519), "", "20270131180000Z");
    ASSERT_TRUE(added.ok()) << added.error().message;
    EXPECT_EQ("restrict,expiry-time=\"20270131180000Z\",command=\"/usr/bin/bridle --key short\" " +
                  kEd25519 + "\n",
              added.value());
    const KeysFile file = parse_keys_file(added.value());
    ASSERT_EQ(1u, file.lines.size());
    EXPECT_EQ("short", file.lines[0].name.value_or(""));
    EXPECT_EQ("20270131180000Z", file.lines[0].expiry);
    for (const char* bad : {"tomorrow", "2027013118Z", "20270131\",command=\"/bin/sh"}) {
        SCOPED_TRACE(bad);
        const auto refused = add_key(KeysFile{}, "short", key_of(kEd25519), "", bad);
        ASSERT_FALSE(refused.ok());
        EXPECT_NE(refused.error().message.find("invalid expiry time"), std::string::npos);
    }
}

}  // namespace
}  // namespace bridle::admin
