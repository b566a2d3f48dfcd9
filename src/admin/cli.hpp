// SPDX-License-Identifier: Apache-2.0
// bridle's command line in one table: the modes, their options and operands. `--help` is
// generated from it, main() parses with it, and a test checks bridle(8) against it (keep the
// man page in step when a row changes).
//
// No CLI11 (Debian 12 has libcli11-dev 2.1.2): this table accepts only the spellings it defines
// (`--name VALUE` or `--name=VALUE`, a flag only bare, options only before the operands, --help
// only as the first word) and refuses everything else in a sentence of its own followed by
// --help, which is what a forced command's command line must stay. CLI11 2.3 by default also
// takes a value on a flag (`--follow=false`), a short option's value attached (`-ojson`),
// options after an operand, and -h/--help anywhere, and words its errors itself ("The following
// argument was not expected: ..."), so it would add rules to switch off, not remove this parser.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::admin {

// A mode: the forced command (name ""), -c, or a subcommand.
struct ModeSpec {
    std::string_view name;      // "", "-c", "check", ...
    std::string_view operands;  // what follows the options, e.g. "PUBKEY_FILE", "-- TEXT"
    std::string_view help;      // one line for --help
};

// An option of one mode. An option takes a value (`--name VALUE` or `--name=VALUE`) unless it
// is a flag, which takes none (`--follow`; its value in the parsed map is "1"; its argument
// is empty).
struct OptionSpec {
    std::string_view mode;      // ModeSpec::name
    std::string_view name;      // "--key"
    std::string_view argument;  // "NAME"; "" for a flag
    bool required;
    std::string_view help;
    bool is_flag = false;
};

inline constexpr std::array<ModeSpec, 19> kModes{{
    {"", "", "forced command: decide and run SSH_ORIGINAL_COMMAND"},
    {"-c", "TEXT", "as the account's login shell"},
    {"check", "", "validate the policy"},
    {"explain", "-- TEXT", "show the decision for TEXT; runs nothing"},
    {"enroll", "PUBKEY_FILE", "add an agent's public key (\"-\": standard input)"},
    {"revoke", "NAME", "remove the key NAME"},
    {"keys", "", "list the enrolled keys"},
    {"tasks", "", "list every account's and key's tasks (`task start`)"},
    {"sudoers", "", "compile the run_as rules into a sudoers drop-in"},
    {"run-as", "RULE [-- WORD...]", "the target side of a run_as rule; started only by sudo"},
    {"audit", "", "review the audit trail (journal, or JSON lines with --file)"},
    {"approvals", "[ID]", "list the requests that wait for approval, or show one (root)"},
    {"approve", "ID", "approve request ID: as root, or with an approver's --signature"},
    {"reject", "ID", "reject request ID (root)"},
    {"learn", "", "propose typed rules from the denials; or list unused rules"},
    {"fleet run", "HOST|GROUP -- CMD...", "controller: run CMD on the inventory's hosts over ssh"},
    {"fleet mcp", "", "controller: an MCP server on stdio that fans out to the hosts"},
    {"--help", "", "this text (also -h)"},
    {"--version", "", "the version"},
}};

inline constexpr std::array<OptionSpec, 58> kOptions{{
    {"", "--key", "NAME", false, "the key's name, from authorized_keys command="},
    {"", "--policy", "FILE", false,
     "read only FILE instead of /etc/bridle/policy.yaml and policy.d"},
    {"", "--approver", "NAME", false,
     "an approver key's forced command: only approvals, show, approve, reject"},
    {"", "--approver-key", "FINGERPRINT", false, "the approver key's SHA256 fingerprint"},
    {"check", "--policy", "FILE", false, "the policy file to check"},
    {"check", "--compile", "", false, "then store it in the compiled policy cache (root)", true},
    {"explain", "--policy", "FILE", false, "the policy file to decide with"},
    {"explain", "--key", "NAME", false, "decide as the key NAME"},
    {"enroll", "--name", "NAME", false, "the agent key's name: [A-Za-z0-9][A-Za-z0-9._@-]{0,63}"},
    {"enroll", "--approver", "NAME", false,
     "enroll an approver's key instead (NAME as in the allowed-signers file)"},
    {"enroll", "--file", "PATH", false,
     "the authorized keys file (default /etc/bridle/authorized_keys/ai-agent)"},
    {"enroll", "--policy", "FILE", false, "the key's forced command reads only FILE"},
    {"enroll", "--expires", "30d|DATE", false,
     "sshd refuses the key from then on (12h, 30d, 2w; 2027-01-31[T18:00] UTC)"},
    {"revoke", "--file", "PATH", false, "the authorized keys file"},
    {"keys", "--file", "PATH", false, "the authorized keys file"},
    {"sudoers", "--policy", "FILE", false, "compile FILE; every line then passes --policy FILE"},
    {"tasks", "--policy", "FILE", false, "the policy that names the spool"},
    {"sudoers", "--user", "NAME", false, "the account the lines are for (default ai-agent)"},
    {"sudoers", "--bridle", "PATH", false, "the bridle binary sudo starts (default: this one)"},
    {"sudoers", "--install", "", false, "write /etc/sudoers.d/bridle (0440) after visudo -c", true},
    {"run-as", "--policy", "FILE", false, "the policy file the drop-in names"},
    {"approvals", "--policy", "FILE", false, "the policy that names the store"},
    {"approvals", "--text", "", false, "with ID: only the text an approver signs", true},
    {"approve", "--policy", "FILE", false, "the policy that names the store and signers"},
    {"approve", "--signature", "FILE", false,
     "an approver's ssh-keygen -Y sign -n bridle-approval signature (\"-\": stdin)"},
    {"reject", "--policy", "FILE", false, "the policy that names the store"},
    {"audit", "--since", "TIME", false,
     "records at or after TIME (journalctl syntax: \"2026-11-24 08:00\", today, -1h)"},
    {"audit", "--until", "TIME", false, "records at or before TIME"},
    {"audit", "--decision", "allow|deny|approval", false,
     "only requests with this decision (approval: those that asked, with their steps)"},
    {"audit", "--rule", "ID", false, "only requests decided by rule ID"},
    {"audit", "--key", "NAME", false, "only requests made with the key NAME"},
    {"audit", "--request", "ID", false, "only the request ID (BRIDLE_REQUEST_ID)"},
    {"audit", "--fanout", "ID", false,
     "only the requests of the fleet fan-out ID (BRIDLE_FANOUT_ID)"},
    {"audit", "--by-fanout", "", false,
     "one entry per fleet fan-out: its hosts, their requests and outcomes", true},
    {"audit", "-o", "table|json", false,
     "output: a table (default) or one JSON object per request"},
    {"audit", "-D", "DIR", false,
     "read the journal files in DIR (copied from another host, or a central store)"},
    {"audit", "--file", "FILE", false,
     "read FILE: a journal file, or the JSON lines of the file sink"},
    {"audit", "--follow", "", false, "keep reading: print requests as they complete", true},
    {"audit", "--stats", "", false, "counts by decision, rule and key; top denied; slowest", true},
    {"audit", "--color", "auto|always|never", false,
     "colour the table (auto: on a terminal, unless NO_COLOR is set)"},
    {"learn", "--since", "TIME", false, "denials at or after TIME (as for audit: yesterday, -1d)"},
    {"learn", "--until", "TIME", false, "denials at or before TIME; the end of --unused's window"},
    {"learn", "--key", "NAME", false, "only requests made with the key NAME"},
    {"learn", "-D", "DIR", false, "read the journal files in DIR"},
    {"learn", "--file", "FILE", false, "read FILE: a journal file, or the file sink's JSON lines"},
    {"learn", "--policy", "FILE", false, "the policy in force (its ids; what it already allows)"},
    {"learn", "--max-policy", "FILE", false, "a ceiling: proposals never exceed its rules"},
    {"learn", "--user", "NAME", false,
     "the agent's account where a record has no BRIDLE_RUN_AS (default ai-agent)"},
    {"learn", "--unused", "DURATION", false,
     "list the rules no request used in the DURATION before --until (30d)"},
    {"learn", "--write", "FILE", false,
     "write the proposals to the new file FILE (never overwrites)"},
    {"fleet run", "-i", "INVENTORY", false, "the Ansible inventory (default /etc/ansible/hosts)"},
    {"fleet run", "-o", "text|json", false, "output: host-prefixed lines (default) or JSON"},
    {"fleet run", "--timeout", "SECONDS", false, "each host's timeout (default 120)"},
    {"fleet run", "--max-parallel", "N", false, "hosts at once (default 32, at most 64)"},
    {"fleet run", "--stop-on-failure", "", false, "start no more hosts once one has failed", true},
    {"fleet run", "--ssh-config", "FILE", false, "ssh's configuration file (ssh -F FILE)"},
    {"fleet mcp", "-i", "INVENTORY", false, "the Ansible inventory (default /etc/ansible/hosts)"},
    {"fleet mcp", "--ssh-config", "FILE", false, "ssh's configuration file (ssh -F FILE)"},
}};

// The --help text, generated from the tables.
std::string usage();

// Parses the options of `mode` from args[i...]: stops at "--" or at the first word that is not
// an option of any mode (i is left there). Values land in `values` by option name. Returns an
// error message, or "" on success.
std::string parse_mode_options(std::string_view mode, const std::vector<std::string>& args,
                               std::size_t& i, std::map<std::string, std::string>& values);

}  // namespace bridle::admin
