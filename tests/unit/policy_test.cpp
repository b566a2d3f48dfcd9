// SPDX-License-Identifier: Apache-2.0
// Policy loading: schema version 1 as bridle-policy(5) states it, file trust checks, SHA-256.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden.hpp"
#include "loader/file_checks.hpp"
#include "loader/loader.hpp"
#include "policy/model.hpp"
#include "policy/sha256.hpp"
#include "policy/sha256_ni.hpp"
#include "scratch.hpp"

namespace bridle::policy {
namespace {

struct Parsed {
    std::optional<Policy> policy;
    LoadReport report;
};

Parsed parse(const std::string& yaml, bool is_main = true) {
    Parsed parsed;
    Result<Policy> result = parse_policy_text(yaml, "t.yaml", is_main, parsed.report);
    if (result) parsed.policy = std::move(result).value();
    return parsed;
}

std::string all_errors(const LoadReport& report) {
    std::string text;
    for (const Error& error : report.errors) text += "\n  " + error.full();
    return text;
}

// Lines 1-4 of most rule-level cases; the case's own lines start at line 5, and the rule's
// mapping starts at 3:5.
std::string rule_with(const std::string& lines) {
    return "version: 1\nrules:\n  - id: r\n    command: /bin/true\n" + lines;
}

// Lines 1-2 of the sandbox cases; the case's sandboxes start at line 3.
std::string sandboxes_with(const std::string& lines) {
    return "version: 1\nsandboxes:\n" + lines + "rules: []\n";
}

// ---- Negative cases: each names the message and where it points -----------------------------

struct BadCase {
    std::string name;
    std::string yaml;
    std::string message;   // a substring of one error's message
    std::string location;  // that error's "line:col" in t.yaml
    bool is_main = true;
};

const std::vector<BadCase>& bad_cases() {
    // clang-format off
    static const std::vector<BadCase> cases = {
        // The document.
        {"empty file", "", "the policy is empty", "1:1"},
        {"comments only", "# nothing here\n", "the policy is empty", "1:1"},
        {"document marker only", "---\n", "the policy is empty", "1:1"},
        {"two documents", "version: 1\nrules: []\n---\nversion: 1\nrules: []\n",
         "one YAML document", "3:1"},
        {"top level is a list", "- version: 1\n", "the top level must be a mapping, not a list",
         "1:1"},
        {"top level is a scalar", "hello\n", "the top level must be a mapping, not 'hello'", "1:1"},
        {"NUL byte", std::string("version: 1\nrul\0es: []\n", 22), "NUL byte", "2:4"},
        {"unterminated flow list", "version: 1\nrules: [\n", "end of sequence flow not found",
         "3:1"},
        {"tab indentation", "version: 1\n\trules: []\n", "illegal tab", "2:1"},
        {"undefined alias", "version: 1\nrules: *missing\n", "anchor is not defined", "2:8"},
        {"missing version", "rules: []\n", "missing version: 1", "1:1"},
        {"version 2", "version: 2\nrules: []\n",
         "unsupported policy version 2; this bridle reads version 1", "1:10"},
        {"version 0", "version: 0\nrules: []\n", "unsupported policy version 0", "1:10"},
        {"version word", "version: one\nrules: []\n", "version must be the integer 1, not 'one'",
         "1:10"},
        {"version float", "version: 1.0\nrules: []\n", "version must be the integer 1", "1:10"},
        {"version list", "version: [1]\nrules: []\n", "version must be the integer 1, not a list",
         "1:10"},
        {"version empty", "version:\nrules: []\n",
         "version must be the integer 1, but has no value", "1:1"},
        {"missing rules", "version: 1\n", "missing rules", "1:1"},
        {"rules is a mapping", "version: 1\nrules: {}\n", "rules must be a list, not a mapping",
         "2:8"},
        {"unknown top-level key", "version: 1\nrule: []\nrules: []\n",
         "unknown key 'rule' in the top level (allowed: version, settings, sandboxes, approvals, rules, "
         "files)",
         "2:1"},
        {"duplicate top-level key", "version: 1\nrules: []\nversion: 1\n",
         "duplicate key 'version' in the top level (first at line 1, column 1)", "3:1"},
        {"duplicate rules key hides a rule", "version: 1\nrules: []\nrules: [{id: a}]\n",
         "duplicate key 'rules'", "3:1"},
        {"settings in a fragment", "version: 1\nsettings: {timeout: 5s}\nrules: []\n",
         "settings belong in the main policy file", "2:1", false},
        {"sandbox (singular) at the top level", "version: 1\nsandbox: {}\nrules: []\n",
         "unknown key 'sandbox' in the top level", "2:1"},

        // settings
        {"settings is a list", "version: 1\nsettings: [a]\nrules: []\n",
         "settings must be a mapping, not a list", "2:11"},
        {"audit syslog", "version: 1\nsettings: {audit: syslog}\nrules: []\n",
         "audit sink 'syslog' is not one of journald, file, both", "2:19"},
        {"audit list", "version: 1\nsettings: {audit: [file]}\nrules: []\n",
         "audit must be a string, not a list", "2:19"},
        {"audit_file unknown key", "version: 1\nsettings: {audit_file: {dir: /x}}\nrules: []\n",
         "unknown key 'dir' in settings.audit_file (allowed: path, max_size, max_files)", "2:25"},
        {"audit_file relative path", "version: 1\nsettings: {audit_file: {path: log/a.jsonl}}\nrules: []\n",
         "settings.audit_file.path must be an absolute path", "2:31"},
        {"audit_file root", "version: 1\nsettings: {audit_file: {path: /}}\nrules: []\n",
         "settings.audit_file.path must name a file, not /", "2:31"},
        {"audit_file size", "version: 1\nsettings: {audit_file: {max_size: 0B}}\nrules: []\n",
         "settings.audit_file.max_size must be between 1B and 1GiB", "2:35"},
        {"audit_file files", "version: 1\nsettings: {audit_file: {max_files: 0}}\nrules: []\n",
         "settings.audit_file.max_files must be between 1 and 1000", "2:36"},
        {"audit_file files not a number", "version: 1\nsettings: {audit_file: {max_files: many}}\nrules: []\n",
         "settings.audit_file.max_files must be a decimal integer", "2:36"},
        {"unknown settings key", "version: 1\nsettings: {sandboxes: baseline}\nrules: []\n",
         "unknown key 'sandboxes' in settings (allowed: audit, timeout, max_output, env, "
         "sandbox, landlock, audit_file, max_request, max_words, redact_patterns, task_spool, task_max_running, task_retention, guardrails)",
         "2:12"},
        {"duplicate settings key",
         "version: 1\nsettings:\n  timeout: 5s\n  timeout: 50s\nrules: []\n",
         "duplicate key 'timeout' in settings (first at line 3, column 3)", "4:3"},
        {"timeout without unit", "version: 1\nsettings: {timeout: 10}\nrules: []\n",
         "timeout must be a duration", "2:21"},
        {"timeout fraction", "version: 1\nsettings: {timeout: 1.5s}\nrules: []\n",
         "timeout must be a duration", "2:21"},
        {"timeout with a space", "version: 1\nsettings: {timeout: 10 s}\nrules: []\n",
         "timeout must be a duration", "2:21"},
        {"timeout unknown unit", "version: 1\nsettings: {timeout: 2d}\nrules: []\n",
         "timeout must be a duration", "2:21"},
        {"timeout negative", "version: 1\nsettings: {timeout: -5s}\nrules: []\n",
         "timeout must be a duration", "2:21"},
        {"timeout zero", "version: 1\nsettings: {timeout: 0s}\nrules: []\n",
         "timeout must be between 1ms and 24h, not '0s'", "2:21"},
        {"timeout above 24h", "version: 1\nsettings: {timeout: 1441m}\nrules: []\n",
         "timeout must be between 1ms and 24h", "2:21"},
        {"timeout huge", "version: 1\nsettings: {timeout: 99999999999999999999999h}\nrules: []\n",
         "timeout must be between 1ms and 24h", "2:21"},
        {"max_output above 1GiB", "version: 1\nsettings: {max_output: 2GiB}\nrules: []\n",
         "max_output must be between 1B and 1GiB, not '2GiB'", "2:24"},
        {"max_output one byte too many",
         "version: 1\nsettings: {max_output: 1073741825}\nrules: []\n",
         "max_output must be between 1B and 1GiB", "2:24"},
        {"max_output zero", "version: 1\nsettings: {max_output: 0}\nrules: []\n",
         "max_output must be between 1B and 1GiB", "2:24"},
        {"max_output decimal unit", "version: 1\nsettings: {max_output: 1MB}\nrules: []\n",
         "max_output must be a size", "2:24"},
        {"max_output lowercase unit", "version: 1\nsettings: {max_output: 1mib}\nrules: []\n",
         "max_output must be a size", "2:24"},
        {"env is a list", "version: 1\nsettings: {env: [PATH]}\nrules: []\n",
         "env must be a mapping, not a list", "2:17"},
        {"env name with a digit first", "version: 1\nsettings: {env: {1X: a}}\nrules: []\n",
         "environment variable name '1X' is not valid", "2:18"},
        {"env name with a dash", "version: 1\nsettings: {env: {MY-VAR: a}}\nrules: []\n",
         "environment variable name 'MY-VAR' is not valid", "2:18"},
        {"env value missing", "version: 1\nsettings:\n  env:\n    PAGER:\nrules: []\n",
         "env PAGER has no value; write \"\" for an empty one", "4:5"},
        {"env value a list", "version: 1\nsettings: {env: {PATH: [/bin]}}\nrules: []\n",
         "env PATH must be a string, not a list", "2:24"},
        {"env value with a newline", "version: 1\nsettings: {env: {A: \"x\\ny\"}}\nrules: []\n",
         "env A contains control character U+000A", "2:21"},
        {"env value with ESC", "version: 1\nsettings: {env: {A: \"\\e[31m\"}}\nrules: []\n",
         "control character U+001B", "2:21"},
        {"duplicate env name", "version: 1\nsettings:\n  env:\n    A: x\n    A: y\nrules: []\n",
         "duplicate key 'A' in env (first at line 4, column 5)", "5:5"},

        // Rules
        {"rule is a string", "version: 1\nrules: [hello]\n",
         "a rule must be a mapping, not 'hello'", "2:9"},
        {"rule without id", "version: 1\nrules:\n  - command: /bin/true\n", "a rule needs an id",
         "3:5"},
        {"rule id in upper case", "version: 1\nrules:\n  - id: Unit\n    command: /bin/true\n",
         "rule id 'Unit' is not valid", "3:9"},
        {"rule id starting with a dash", "version: 1\nrules:\n  - id: -a\n    command: /bin/true\n",
         "rule id '-a' is not valid", "3:9"},
        {"rule id of 65 characters",
         "version: 1\nrules:\n  - id: " + std::string(65, 'a') + "\n    command: /bin/true\n",
         "is not valid: use 1 to 64", "3:9"},
        {"rule id a list", "version: 1\nrules:\n  - id: [a]\n    command: /bin/true\n",
         "id must be a string, not a list", "3:9"},
        {"rule without command", "version: 1\nrules:\n  - id: a\n", "a rule needs a command",
         "3:5"},
        {"relative command", "version: 1\nrules:\n  - id: a\n    command: bin/true\n",
         "command must be an absolute path", "4:14"},
        {"bare program as command", "version: 1\nrules:\n  - id: a\n    command: systemctl\n",
         "command must be an absolute path", "4:14"},
        {"command with ..", "version: 1\nrules:\n  - id: a\n    command: /usr/../bin/true\n",
         "command must be an absolute path without ., .., //", "4:14"},
        {"command with .", "version: 1\nrules:\n  - id: a\n    command: /usr/./bin/true\n",
         "command must be an absolute path", "4:14"},
        {"command with //", "version: 1\nrules:\n  - id: a\n    command: //usr/bin/true\n",
         "command must be an absolute path", "4:14"},
        {"command with a trailing slash", "version: 1\nrules:\n  - id: a\n    command: /usr/bin/\n",
         "command must be an absolute path", "4:14"},
        {"command is the root", "version: 1\nrules:\n  - id: a\n    command: /\n",
         "command must name a program, not /", "4:14"},
        {"command empty", "version: 1\nrules:\n  - id: a\n    command: ''\n",
         "command must be an absolute path", "4:14"},
        {"command with a newline", "version: 1\nrules:\n  - id: a\n    command: \"/bin/x\\n\"\n",
         "command contains control character U+000A", "4:14"},
        {"name with a space", rule_with("    name: sys ctl\n"), "name 'sys ctl' is not valid",
         "5:11"},
        {"name starting with a dot", rule_with("    name: .x\n"), "name '.x' is not valid", "5:11"},
        {"name is a path", rule_with("    name: /bin/true\n"), "name '/bin/true' is not valid",
         "5:11"},
        {"derived name not valid", "version: 1\nrules:\n  - id: a\n    command: /usr/bin/[\n",
         "the program name '[' is not valid as what the client types; set name", "4:14"},
        {"keys empty", rule_with("    keys: []\n"), "keys must name at least one key", "5:11"},
        {"keys a scalar", rule_with("    keys: laptop\n"), "keys must be a list, not 'laptop'",
         "5:11"},
        {"key name with a space", rule_with("    keys: [a b]\n"), "key name 'a b' is not valid",
         "5:12"},
        {"key listed twice", rule_with("    keys: [a, a]\n"), "key 'a' is listed twice", "5:15"},
        // The same rule as --key and enroll (common/names.hpp): a name longer than 64 bytes,
        // or starting with _ or @, could never be given to the forced command.
        {"key name too long", rule_with("    keys: [" + std::string(65, 'k') + "]\n"),
         "at most 64 bytes", "5:12"},
        {"key name starting with @", rule_with("    keys: ['@ci']\n"), "key name '@ci' is not valid",
         "5:12"},
        {"unknown rule key", rule_with("    user: root\n"),
         "unknown key 'user' in a rule (allowed: id, summary, command, name, keys, args, "
         "params, options, end_of_options, timeout, max_output, stdin, sandbox, run_as, capture, fixed_before, fixed_after, bundle_flags, env, escape_output, pipeline, redact, task, idle_timeout, approval)",
         "5:5"},
        {"capture too large", rule_with("    capture: 2MiB\n"),
         "capture must be at most 1MiB per stream, not '2MiB'", "5:14"},
        {"capture zero", rule_with("    capture: 0B\n"), "capture must be between 1B and 1GiB", "5:14"},
        {"capture not a size", rule_with("    capture: yes\n"), "capture must be a size", "5:14"},
        {"misspelt rule key", rule_with("    option: {}\n"), "unknown key 'option' in a rule",
         "5:5"},
        {"duplicate command", rule_with("    command: /bin/sh\n"),
         "duplicate key 'command' in a rule (first at line 4, column 5)", "5:5"},
        {"duplicate id", rule_with("    id: s\n"), "duplicate key 'id' in a rule", "5:5"},
        {"summary with BEL", rule_with("    summary: \"ring\\a\"\n"),
         "summary contains control character U+0007", "5:14"},
        {"summary with bidi override", rule_with("    summary: \"a\\u202Eb\"\n"),
         "summary contains bidirectional control U+202E", "5:14"},
        {"summary a mapping", rule_with("    summary: {a: b}\n"),
         "summary must be a string, not a mapping", "5:14"},
        {"stdin yes", rule_with("    stdin: yes\n"), "stdin must be true or false, not 'yes'",
         "5:12"},
        {"stdin True", rule_with("    stdin: True\n"), "stdin must be true or false, not 'True'",
         "5:12"},
        {"stdin 1", rule_with("    stdin: 1\n"), "stdin must be true or false", "5:12"},
        {"end_of_options on", rule_with("    end_of_options: on\n"),
         "end_of_options must be true or false, not 'on'", "5:21"},
        {"end_of_options empty", rule_with("    end_of_options:\n"),
         "end_of_options must be true or false, but has no value", "5:5"},
        {"rule timeout without unit", rule_with("    timeout: 30\n"), "timeout must be a duration",
         "5:14"},
        {"rule max_output above 1GiB", rule_with("    max_output: 1025MiB\n"),
         "max_output must be between 1B and 1GiB", "5:17"},
        {"duplicate rule id in one file",
         "version: 1\nrules:\n  - id: a\n    command: /bin/true\n  - id: a\n    command: "
         "/bin/false\n",
         "duplicate rule id 'a': first defined at t.yaml:3:5", "5:5"},

        // options
        {"options a list", rule_with("    options: [-n]\n"),
         "options must be a mapping, not a list", "5:14"},
        {"short option of two letters", rule_with("    options: {-nn: flag}\n"),
         "option spelling '-nn' is not valid", "5:15"},
        {"option without a dash", rule_with("    options: {lines: flag}\n"),
         "option spelling 'lines' is not valid", "5:15"},
        {"bare double dash", rule_with("    options: {'--': flag}\n"),
         "option spelling '--' is not valid", "5:15"},
        {"single dash", rule_with("    options: {'-': flag}\n"), "option spelling '-' is not valid",
         "5:15"},
        {"long option with =", rule_with("    options: {'--a=b': flag}\n"),
         "option spelling '--a=b' is not valid", "5:15"},
        {"long option starting with a dash", rule_with("    options: {'---a': flag}\n"),
         "option spelling '---a' is not valid", "5:15"},
        {"empty spelling between bars", rule_with("    options: {'-n||--lines': flag}\n"),
         "option spelling '' is not valid", "5:15"},
        {"spelling repeated in one key", rule_with("    options: {'-n|-n': flag}\n"),
         "option -n is given twice in this rule", "5:15"},
        {"spelling repeated across options",
         rule_with("    options:\n      -n: flag\n      '--lines|-n': flag\n"),
         "option -n is given twice in this rule", "7:7"},
        {"duplicate option key", rule_with("    options:\n      --all: flag\n      --all: flag\n"),
         "duplicate key '--all' in options (first at line 6, column 7)", "7:7"},
        {"option value a word", rule_with("    options: {--all: yes}\n"),
         "an option must be flag or a value spec", "5:22"},
        {"option value a list", rule_with("    options: {--all: [flag]}\n"),
         "an option must be flag or a value spec such as {regex: ...}, not a list", "5:22"},
        {"option value missing", rule_with("    options:\n      --all:\n"),
         "an option must be flag or a value spec", "6:7"},
        {"flag false", rule_with("    options: {--all: {flag: false}}\n"),
         "flag: false has no meaning", "5:29"},
        {"flag maybe", rule_with("    options: {--all: {flag: maybe}}\n"),
         "flag must be true or false, not 'maybe'", "5:29"},
        {"flag with a regex", rule_with("    options: {--all: {flag: true, regex: x}}\n"),
         "unknown key 'regex' in a flag (allowed: flag, required)", "5:35"},
        {"flag required yes", rule_with("    options: {--all: {flag: true, required: yes}}\n"),
         "required must be true or false, not 'yes'", "5:45"},
        {"duplicate key in an option", rule_with("    options: {--unit: {regex: a, regex: b}}\n"),
         "duplicate key 'regex' in an option", "5:34"},
        {"option with a binding name", rule_with("    options: {--unit: {regex: a, name: u}}\n"),
         "unknown key 'name' in an option (allowed: regex, enum, int, path, required, attached, max_length)", "5:34"},
        {"option with two kinds", rule_with("    options: {--unit: {regex: a, enum: [b]}}\n"),
         "takes exactly one of regex, enum, int or path; this one has both regex and enum", "5:34"},
        {"option with no kind", rule_with("    options: {--unit: {required: true}}\n"),
         "a value spec needs one of regex, enum, int or path", "5:23"},

        // params and args
        {"args a mapping", rule_with("    args: {a: b}\n"), "args must be a list, not a mapping",
         "5:11"},
        {"params a list", rule_with("    params: [unit]\n"), "params must be a mapping, not a list",
         "5:13"},
        {"undefined parameter", rule_with("    args: [{param: unit}]\n"),
         "parameter 'unit' is not defined in params", "5:20"},
        {"parameter used twice",
         rule_with("    args: [{param: u}, {param: u}]\n    params: {u: {regex: a}}\n"),
         "parameter 'u' is used twice; each parameter is used exactly once", "5:32"},
        {"parameter never used", rule_with("    params: {unit: {regex: a}}\n"),
         "parameter 'unit' is never used", "5:14"},
        {"parameter name in upper case",
         rule_with("    args: [{param: Unit}]\n    params: {Unit: {regex: a}}\n"),
         "parameter name 'Unit' is not valid", "6:14"},
        {"parameter spec a string", rule_with("    args: [{param: u}]\n    params: {u: a}\n"),
         "a parameter must be a mapping, not 'a'", "6:17"},
        {"parameter marked required",
         rule_with("    args: [{param: u}]\n    params: {u: {regex: a, required: true}}\n"),
         "required applies to options only", "6:28"},
        {"parameter with a binding name",
         rule_with("    args: [{param: u}]\n    params: {u: {regex: a, name: v}}\n"),
         "unknown key 'name' in a parameter", "6:28"},
        {"parameter with an empty spec", rule_with("    args: [{param: u}]\n    params: {u: {}}\n"),
         "a value spec needs one of regex, enum, int or path", "6:17"},
        {"reference with extra keys",
         rule_with("    args: [{param: u, regex: b}]\n    params: {u: {regex: a}}\n"),
         "unknown key 'regex' in a parameter reference (allowed: param)", "5:23"},
        {"literal --", rule_with("    args: ['--']\n"), "-- cannot be a literal argument", "5:12"},
        {"literal empty", rule_with("    args: ['']\n"), "a literal argument must not be empty",
         "5:12"},
        {"literal null", rule_with("    args: [status, ~]\n"),
         "an argument must be a literal string or a mapping", "5:11"},
        {"literal list", rule_with("    args: [[status]]\n"),
         "an argument must be a literal string or a mapping", "5:12"},
        {"literal with a tab", rule_with("    args: [\"a\\tb\"]\n"),
         "a literal argument contains control character U+0009", "5:12"},
        {"literal equal to a flag", rule_with("    options: {-a: flag}\n    args: [-a]\n"),
         "literal argument '-a' would be read as option -a of this rule", "6:12"},
        {"literal with a short option's value",
         rule_with("    options: {-n: {int: [1, 9]}}\n    args: [-n5]\n"),
         "literal argument '-n5' would be read as option -n", "6:12"},
        {"literal with a long option's value",
         rule_with("    options: {-n|--lines: {int: [1, 9]}}\n    args: [--lines=5]\n"),
         "literal argument '--lines=5' would be read as option --lines", "6:12"},
        {"literal equal to a long spelling",
         rule_with("    options: {-n|--lines: {int: [1, 9]}}\n    args: [--lines]\n"),
         "would be read as option --lines", "6:12"},
        {"inline name in upper case", rule_with("    args: [{name: File, regex: a}]\n"),
         "binding name 'File' is not valid", "5:19"},
        {"inline arg marked required", rule_with("    args: [{regex: a, required: false}]\n"),
         "required applies to options only", "5:23"},
        {"inline and param share a name",
         rule_with("    args: [{param: u}, {name: u, regex: b}]\n    params: {u: {regex: a}}\n"),
         "binding name 'u' is used twice in this rule", "5:24"},
        {"param named like a default binding",
         rule_with("    args: [{param: arg2}, {regex: b}]\n    params: {arg2: {regex: a}}\n"),
         "binding name 'arg2' is used twice in this rule", "5:27"},
        {"inline arg with no kind", rule_with("    args: [{name: x}]\n"),
         "a value spec needs one of regex, enum, int or path", "5:12"},
        {"duplicate key in an inline arg", rule_with("    args: [{regex: a, regex: b}]\n"),
         "duplicate key 'regex' in an argument (first at line 5, column 13)", "5:23"},

        // Value specs
        {"regex empty", rule_with("    args: [{regex: ''}]\n"), "regex must not be empty", "5:20"},
        {"regex unbalanced", rule_with("    args: [{regex: '('}]\n"),
         "invalid regex '(': missing ): (", "5:20"},
        {"regex bad repetition", rule_with("    args: [{regex: 'a**'}]\n"), "invalid regex 'a**'",
         "5:20"},
        {"regex backreference", rule_with("    args: [{regex: '(a)\\1'}]\n"), "invalid regex",
         "5:20"},
        {"regex a list", rule_with("    args: [{regex: [a]}]\n"),
         "regex must be a string, not a list", "5:20"},
        {"regex with a control character", rule_with("    args: [{regex: \"a\\x01\"}]\n"),
         "regex contains control character U+0001", "5:20"},
        {"enum empty", rule_with("    args: [{enum: []}]\n"), "enum needs at least one choice",
         "5:19"},
        {"enum a string", rule_with("    args: [{enum: start}]\n"),
         "enum must be a list, not 'start'", "5:19"},
        {"enum choice twice", rule_with("    args: [{enum: [start, start]}]\n"),
         "enum choice 'start' is listed twice", "5:27"},
        {"enum choice empty", rule_with("    args: [{enum: [start, '']}]\n"),
         "an enum choice must not be empty", "5:27"},
        {"enum choice starting with a dash", rule_with("    args: [{enum: [-f]}]\n"),
         "enum choice '-f' begins with -", "5:20"},
        {"enum choice a mapping", rule_with("    args: [{enum: [{a: b}]}]\n"),
         "an enum choice must be a string, not a mapping", "5:20"},
        {"int with one bound", rule_with("    args: [{int: [1]}]\n"),
         "int must be a list of two integers [MIN, MAX]", "5:18"},
        {"int with three bounds", rule_with("    args: [{int: [1, 2, 3]}]\n"),
         "int must be a list of two integers", "5:18"},
        {"int a string", rule_with("    args: [{int: 1..5}]\n"), "int must be a list, not '1..5'",
         "5:18"},
        {"int min above max", rule_with("    args: [{int: [5, 1]}]\n"),
         "the minimum 5 is larger than the maximum 1", "5:18"},
        {"int negative min", rule_with("    args: [{int: [-1, 5]}]\n"),
         "the minimum must not be negative", "5:19"},
        {"int above 2^53", rule_with("    args: [{int: [0, 9007199254740993]}]\n"),
         "the maximum must be a decimal integer no larger than 2^53", "5:22"},
        {"int hexadecimal", rule_with("    args: [{int: [0, 0x10]}]\n"),
         "the maximum must be a decimal integer", "5:22"},
        {"int with a leading zero", rule_with("    args: [{int: [010, 20]}]\n"),
         "the minimum must be a decimal integer", "5:19"},
        {"int with a plus sign", rule_with("    args: [{int: [+1, 20]}]\n"),
         "the minimum must be a decimal integer", "5:19"},
        {"int fractional", rule_with("    args: [{int: [1, 2.5]}]\n"),
         "the maximum must be a decimal integer", "5:22"},
        {"path a list", rule_with("    args: [{path: [/var/log]}]\n"),
         "path must be a mapping, not a list", "5:19"},
        {"path without under", rule_with("    args: [{path: {type: file}}]\n"), "path needs under",
         "5:19"},
        {"path under empty", rule_with("    args: [{path: {under: []}}]\n"),
         "under must list at least one directory", "5:27"},
        {"path under a string", rule_with("    args: [{path: {under: /var/log}}]\n"),
         "under must be a list, not '/var/log'", "5:27"},
        {"path under relative", rule_with("    args: [{path: {under: [var/log]}}]\n"),
         "a directory in under must be an absolute path", "5:28"},
        {"path under with ..", rule_with("    args: [{path: {under: [/var/log/..]}}]\n"),
         "a directory in under must be an absolute path", "5:28"},
        {"path under with a trailing slash",
         rule_with("    args: [{path: {under: [/var/log/]}}]\n"),
         "a directory in under must be an absolute path", "5:28"},
        {"path under twice", rule_with("    args: [{path: {under: [/a, /a]}}]\n"),
         "directory /a is listed twice", "5:32"},
        {"path type socket", rule_with("    args: [{path: {under: [/a], type: socket}}]\n"),
         "type must be file, directory or any, not 'socket'", "5:39"},
        {"path unknown key", rule_with("    args: [{path: {under: [/a], follow: true}}]\n"),
         "unknown key 'follow' in path (allowed: under, type, links, open, names, final_symlink, max_size, dots, glob)", "5:33"},
        {"fixed_before a string", rule_with("    fixed_before: --no-pager\n"),
         "fixed_before must be a list", "5:19"},
        {"fixed_before empty", rule_with("    fixed_before: []\n"),
         "fixed_before must list at least one word", "5:19"},
        {"fixed_before empty word", rule_with("    fixed_before: ['']\n"),
         "a word in fixed_before may not be empty", "5:20"},
        {"fixed_before a mapping word", rule_with("    fixed_before: [{a: b}]\n"),
         "a word in fixed_before must be a string", "5:20"},
        {"fixed_after with a control character", rule_with("    fixed_after: [\"a\\x1bb\"]\n"),
         "a word in fixed_after contains", "5:19"},
        {"fixed_after after --", rule_with("    end_of_options: true\n    fixed_after: [-x]\n"),
         "fixed_after cannot be used with end_of_options: true", "6:18"},
        {"leading_dash on an option", rule_with("    options: {\"-e\": {regex: a, leading_dash: allow}}\n"),
         "unknown key 'leading_dash' in an option", "5:32"},
        {"leading_dash without end_of_options", rule_with("    args: [{regex: a, leading_dash: allow}]\n"),
         "argument 'arg1' has leading_dash: allow, which needs end_of_options: true", "3:5"},
        {"leading_dash yes", rule_with("    end_of_options: true\n    args: [{regex: a, leading_dash: yes}]\n"),
         "leading_dash must be allow or refuse, not 'yes'", "6:37"},
        {"attached on an argument", rule_with("    args: [{regex: a, attached: false}]\n"),
         "unknown key 'attached' in an argument", "5:23"},
        {"attached not a boolean", rule_with("    options: {\"-n\": {int: [1, 2], attached: no}}\n"),
         "attached must be true or false, not 'no'", "5:45"},
        {"attached on a flag", rule_with("    options: {\"-n\": {flag: true, attached: false}}\n"),
         "unknown key 'attached' in a flag", "5:34"},
        {"max_request above 64KiB", "version: 1\nsettings: {max_request: 65KiB}\nrules: []\n",
         "settings.max_request may only lower the limit: at most 64KiB, not '65KiB'", "2:25"},
        {"max_request zero", "version: 1\nsettings: {max_request: 0}\nrules: []\n",
         "settings.max_request must be between", "2:25"},
        {"max_words zero", "version: 1\nsettings: {max_words: 0}\nrules: []\n",
         "settings.max_words must be between 1 and 4096", "2:23"},
        {"max_words huge", "version: 1\nsettings: {max_words: 5000}\nrules: []\n",
         "settings.max_words must be between 1 and 4096", "2:23"},
        {"max_words a word", "version: 1\nsettings: {max_words: many}\nrules: []\n",
         "settings.max_words must be", "2:23"},
        {"redact yes", rule_with("    redact: yes\n"), "redact must be true or false, not 'yes'",
         "5:13"},
        {"redact_patterns not a list", "version: 1\nsettings:\n  redact_patterns: x\nrules: []\n",
         "settings.redact_patterns must be a list, not 'x'", "3:20"},
        {"redact pattern that does not parse",
         "version: 1\nsettings:\n  redact_patterns: [ok, 'a(b']\nrules: []\n",
         "invalid redact pattern 'a(b': missing ): a(b", "3:25"},
        {"redact pattern matching the empty string",
         "version: 1\nsettings:\n  redact_patterns: ['x*']\nrules: []\n",
         "invalid redact pattern 'x*': matches the empty string", "3:21"},
        {"redact pattern with a named group",
         "version: 1\nsettings:\n  redact_patterns: ['k=(?P<v>.+)']\nrules: []\n",
         "invalid redact pattern 'k=(?P<v>.+)': may not name a group", "3:21"},
        {"empty redact pattern", "version: 1\nsettings:\n  redact_patterns: ['']\nrules: []\n",
         "invalid redact pattern '': must not be empty", "3:21"},
        {"max_length zero", rule_with("    args: [{regex: a, max_length: 0}]\n"),
         "max_length must be between 1 and 65536", "5:35"},
        {"max_length a size", rule_with("    args: [{regex: a, max_length: 1KiB}]\n"),
         "max_length must be", "5:35"},
        {"rule env a list", rule_with("    env: [A]\n"), "env must be a mapping", "5:10"},
        {"rule env bad name", rule_with("    env: {1X: a}\n"), "environment variable name '1X' is not valid", "5:11"},
        {"rule env name with =", rule_with("    env: {'A=B': a}\n"), "environment variable name 'A=B' is not valid", "5:11"},
        {"rule env no value", rule_with("    env: {A: }\n"), "env A has no value", "5:11"},
        {"rule env value a mapping", rule_with("    env: {A: {b: c}}\n"), "env A must be a string", "5:14"},
        {"bundle_flags yes", rule_with("    bundle_flags: yes\n"), "bundle_flags must be true or false", "5:19"},
        {"bundle_flags a list", rule_with("    bundle_flags: [true]\n"), "bundle_flags must be true or false", "5:19"},
        {"names a string", rule_with("    args: [{path: {under: [/a], names: '*.log'}}]\n"),
         "names must be a list", "5:40"},
        {"names empty", rule_with("    args: [{path: {under: [/a], names: []}}]\n"),
         "names must list at least one pattern", "5:40"},
        {"names with a slash", rule_with("    args: [{path: {under: [/a], names: ['x/*.log']}}]\n"),
         "a pattern in names must be a non-empty file name pattern without /", "5:41"},
        {"names empty pattern", rule_with("    args: [{path: {under: [/a], names: ['']}}]\n"),
         "a pattern in names must be", "5:41"},
        {"final_symlink yes", rule_with("    args: [{path: {under: [/a], final_symlink: no}}]\n"),
         "final_symlink must be follow or refuse, not 'no'", "5:48"},
        {"max_size zero", rule_with("    args: [{path: {under: [/a], max_size: 0}}]\n"),
         "max_size must be between 1B", "5:43"},
        {"max_size no unit word", rule_with("    args: [{path: {under: [/a], max_size: big}}]\n"),
         "max_size must be a size", "5:43"},
        {"dots keep", rule_with("    args: [{path: {under: [/a], dots: keep}}]\n"),
         "dots must be resolve or refuse, not 'keep'", "5:39"},
        {"glob without max", rule_with("    args: [{path: {under: [/a], glob: {hidden: true}}}]\n"),
         "glob needs max", "5:39"},
        {"glob max 17", rule_with("    args: [{path: {under: [/a], glob: {max: 17}}}]\n"),
         "glob.max must be between 1 and 16", "5:45"},
        {"glob a boolean", rule_with("    args: [{path: {under: [/a], glob: true}}]\n"),
         "glob must be a mapping", "5:39"},
        {"glob unknown key", rule_with("    args: [{path: {under: [/a], glob: {max: 2, recursive: true}}}]\n"),
         "unknown key 'recursive' in glob (allowed: max, hidden)", "5:48"},
        {"glob on an option", rule_with("    options: {\"-f\": {path: {under: [/a], glob: {max: 2}}}}\n"),
         "option '-f' has a path with glob", "3:5"},
        {"glob with run_as", rule_with("    run_as: root\n    args: [{path: {under: [/a], glob: {max: 2}}}]\n"),
         "a run_as rule may not have", "3:5"},
        {"path open fd without type", rule_with("    args: [{path: {under: [/a], open: fd}}]\n"),
         "open: fd needs type: file", "5:39"},
        {"path open fd for a directory",
         rule_with("    args: [{path: {under: [/a], type: directory, open: fd}}]\n"),
         "open: fd needs type: file", "5:56"},
        {"path open stdin", rule_with("    args: [{path: {under: [/a], type: file, open: stdin}}]\n"),
         "open must be fd or name, not 'stdin'", "5:51"},
        {"path open a list", rule_with("    args: [{path: {under: [/a], type: file, open: [fd]}}]\n"),
         "open must be a string, not a list", "5:51"},
        {"path links yes", rule_with("    args: [{path: {under: [/a], links: yes}}]\n"),
         "links must be allow or refuse, not 'yes'", "5:40"},
        {"path links a list", rule_with("    args: [{path: {under: [/a], links: [allow]}}]\n"),
         "links must be", "5:40"},
        {"path links empty", rule_with("    args: [{path: {under: [/a], links: ''}}]\n"),
         "links must be allow or refuse", "5:40"},
        {"two kinds in an inline arg", rule_with("    args: [{regex: a, int: [1, 2]}]\n"),
         "this one has both regex and int", "5:23"},

        // sandboxes (the mapping's own lines start at line 3)
        {"sandboxes is a list", "version: 1\nsandboxes: [a]\nrules: []\n",
         "sandboxes must be a mapping, not a list", "2:12"},
        {"sandboxes in a fragment", "version: 1\nsandboxes: {s: {}}\nrules: []\n",
         "sandboxes belong in the main policy file", "2:1", false},
        {"sandbox name with capitals", sandboxes_with("  Strict: {}\n"),
         "sandbox name 'Strict' is not valid", "3:3"},
        {"sandbox without a value", sandboxes_with("  s:\n"),
         "sandbox 's' has no value; write {} for the defaults", "3:3"},
        {"sandbox is a word", sandboxes_with("  s: baseline\n"),
         "a sandbox must be a mapping, not 'baseline'", "3:6"},
        {"sandbox unknown key", sandboxes_with("  s: {seccom: []}\n"),
         "unknown key 'seccom' in a sandbox (allowed: seccomp, exec_once, exec_log, landlock, limits, umask, namespaces)",
         "3:7"},
        {"sandbox defined twice", sandboxes_with("  s: {}\n  s: {}\n"),
         "duplicate key 's' in sandboxes (first at line 3, column 3)", "4:3"},
        {"seccomp is a word", sandboxes_with("  s: {seccomp: baseline}\n"),
         "seccomp must be a list, not 'baseline'", "3:16"},
        {"unknown seccomp profile", sandboxes_with("  s: {seccomp: [no-net]}\n"),
         "unknown seccomp profile 'no-net' (built-in profiles: baseline, no-network, no-write)",
         "3:17"},
        {"seccomp profile twice", sandboxes_with("  s: {seccomp: [baseline, baseline]}\n"),
         "seccomp profile 'baseline' is listed twice", "3:27"},
        {"seccomp profile is a mapping", sandboxes_with("  s: {seccomp: [{baseline: 1}]}\n"),
         "a seccomp profile must be a string, not a mapping", "3:17"},
        {"exec_once yes", sandboxes_with("  s: {exec_once: yes}\n"),
         "exec_once must be true or false, not 'yes'", "3:18"},
        {"exec_once empty", sandboxes_with("  s: {exec_once: }\n"),
         "exec_once must be true or false, but has no value", "3:7"},
        {"exec_log yes", sandboxes_with("  s: {exec_once: false, exec_log: yes}\n"),
         "exec_log must be true or false, not 'yes'", "3:35"},
        {"exec_log with exec-once by default", sandboxes_with("  s: {exec_log: true}\n"),
         "exec_log: true records the programs exec-once would refuse: it needs exec_once: false "
         "in the same sandbox", "3:7"},
        {"exec_log with exec-once", sandboxes_with("  s: {exec_once: true, exec_log: true}\n"),
         "it needs exec_once: false", "3:24"},
        {"exec_log without baseline",
         sandboxes_with("  s: {seccomp: [no-write], exec_once: false, exec_log: true}\n"),
         "exec_log: true needs the baseline seccomp profile (it denies userfaultfd, with which a "
         "command could stall bridle's reading of its exec paths)", "3:46"},
        {"landlock is a word", sandboxes_with("  s: {landlock: prefer}\n"),
         "landlock must be a mapping, not 'prefer'", "3:17"},
        {"landlock unknown key", sandboxes_with("  s: {landlock: {read: [/], net: []}}\n"),
         "unknown key 'net' in landlock (allowed: mode, read, write, execute)", "3:29"},
        {"landlock mode always", sandboxes_with("  s: {landlock: {mode: always, read: [/]}}\n"),
         "landlock mode must be prefer or require, not 'always'", "3:24"},
        {"namespaces always", sandboxes_with("  s: {namespaces: always}\n"),
         "namespaces must be prefer, require or off, not 'always'", "3:19"},
        {"namespaces is a list", sandboxes_with("  s: {namespaces: [pid]}\n"),
         "namespaces must be a string, not a list", "3:19"},
        {"namespaces is a boolean", sandboxes_with("  s: {namespaces: false}\n"),
         "namespaces must be prefer, require or off, not 'false'", "3:19"},
        {"landlock confines nothing", sandboxes_with("  s: {landlock: {mode: require}}\n"),
         "landlock must confine at least one of read, write or execute", "3:17"},
        {"landlock relative path", sandboxes_with("  s: {landlock: {read: [var/log]}}\n"),
         "a path in landlock read must be an absolute path", "3:25"},
        {"landlock path with ..", sandboxes_with("  s: {landlock: {write: [/tmp/../etc]}}\n"),
         "a path in landlock write must be an absolute path", "3:26"},
        {"landlock trailing slash", sandboxes_with("  s: {landlock: {execute: [/usr/]}}\n"),
         "a path in landlock execute must be an absolute path", "3:28"},
        {"landlock path twice", sandboxes_with("  s: {landlock: {execute: [/usr, /usr]}}\n"),
         "path /usr is listed twice", "3:34"},
        {"landlock read is a word", sandboxes_with("  s: {landlock: {read: /}}\n"),
         "read must be a list, not '/'", "3:24"},
        {"limits is a list", sandboxes_with("  s: {limits: [cpu]}\n"),
         "limits must be a mapping, not a list", "3:15"},
        {"limits unknown key", sandboxes_with("  s: {limits: {memory: 1GiB}}\n"),
         "unknown key 'memory' in limits (allowed: cpu, address_space, processes, file_size, "
         "open_files)",
         "3:16"},
        {"cpu without unit", sandboxes_with("  s: {limits: {cpu: 10}}\n"),
         "cpu must be a duration", "3:21"},
        {"cpu zero", sandboxes_with("  s: {limits: {cpu: 0s}}\n"),
         "cpu must be between 1ms and 24h, not '0s'", "3:21"},
        {"address_space too large", sandboxes_with("  s: {limits: {address_space: 2048GiB}}\n"),
         "address_space must be between 1B and 1024GiB, not '2048GiB'", "3:31"},
        {"file_size in decimal units", sandboxes_with("  s: {limits: {file_size: 10MB}}\n"),
         "file_size must be a size", "3:27"},
        {"processes zero", sandboxes_with("  s: {limits: {processes: 0}}\n"),
         "processes must be between 1 and 9007199254740992, not 0", "3:27"},
        {"processes negative", sandboxes_with("  s: {limits: {processes: -5}}\n"),
         "processes must be between 1 and", "3:27"},
        {"processes a word", sandboxes_with("  s: {limits: {processes: many}}\n"),
         "processes must be a decimal integer", "3:27"},
        {"open_files too few", sandboxes_with("  s: {limits: {open_files: 8}}\n"),
         "open_files must be between 16 and 1048576, not 8", "3:28"},
        {"open_files too many", sandboxes_with("  s: {limits: {open_files: 2000000}}\n"),
         "open_files must be between 16 and 1048576, not 2000000", "3:28"},
        {"umask of two digits", sandboxes_with("  s: {umask: 77}\n"),
         "umask must be three or four octal digits", "3:14"},
        {"umask with an 8", sandboxes_with("  s: {umask: \"0088\"}\n"),
         "umask must be three or four octal digits", "3:14"},
        {"umask with sticky bit", sandboxes_with("  s: {umask: 1777}\n"),
         "umask must be three or four octal digits", "3:14"},
        {"umask of five digits", sandboxes_with("  s: {umask: 00777}\n"),
         "umask must be three or four octal digits", "3:14"},
        {"umask is a list", sandboxes_with("  s: {umask: [0, 7, 7]}\n"),
         "umask must be three or four octal digits", "3:14"},
        {"settings.sandbox unknown", "version: 1\nsettings: {sandbox: strict}\nrules: []\n",
         "unknown sandbox 'strict' (defined: baseline;", "2:21"},
        {"settings.sandbox is a list", "version: 1\nsettings: {sandbox: [a]}\nrules: []\n",
         "settings.sandbox must be a string, not a list", "2:21"},
        {"settings.landlock on", "version: 1\nsettings: {landlock: on}\nrules: []\n",
         "settings.landlock must be auto or off, not 'on'", "2:22"},
        {"settings.landlock require", "version: 1\nsettings: {landlock: require}\nrules: []\n",
         "settings.landlock must be auto or off, not 'require'", "2:22"},
        {"rule names an unknown sandbox", rule_with("    sandbox: strict\n"),
         "unknown sandbox 'strict' (defined: baseline;", "5:14"},
        {"rule names the empty sandbox", rule_with("    sandbox: ''\n"),
         "unknown sandbox ''", "5:14"},
        {"rule names a sandbox that is not defined in a fragment",
         "version: 1\nrules:\n  - id: r\n    command: /bin/true\n    sandbox: mine\n",
         "unknown sandbox 'mine'", "5:14", false},
        {"rule sandbox is a mapping", rule_with("    sandbox: {seccomp: []}\n"),
         "sandbox must be a string, not a mapping", "5:14"},
        {"pipeline place unknown", rule_with("    pipeline: [first, end]\n"),
         "unknown pipeline place 'end': use alone, first, middle or last", "5:23"},
        {"pipeline place twice", rule_with("    pipeline: [last, last]\n"),
         "pipeline lists 'last' twice", "5:22"},
        {"pipeline empty", rule_with("    pipeline: []\n"),
         "pipeline must list at least one of alone, first, middle, last", "5:15"},
        {"pipeline a string", rule_with("    pipeline: first\n"),
         "pipeline must be a list", "5:15"},
        {"pipeline with run_as", rule_with("    run_as: root\n    pipeline: [first]\n"),
         "a run_as rule may not be a pipeline stage", "6:15"},
    };
    // clang-format on
    return cases;
}

// Every case is refused, and the expected message is reported at the expected place.
TEST(PolicyParse, RejectsEachInvalidPolicyWithItsLocation) {
    for (const BadCase& c : bad_cases()) {
        SCOPED_TRACE(c.name);
        const Parsed parsed = parse(c.yaml, c.is_main);
        EXPECT_FALSE(parsed.policy.has_value());
        const std::string want_location = "t.yaml:" + c.location;
        const bool found = std::any_of(parsed.report.errors.begin(), parsed.report.errors.end(),
                                       [&](const Error& e) {
                                           return e.location == want_location &&
                                                  e.message.find(c.message) != std::string::npos;
                                       });
        EXPECT_TRUE(found) << "wanted " << want_location << ": " << c.message
                           << "\ngot:" << all_errors(parsed.report);
    }
}

// For every refused policy, the Result's error is the report's first error, which callers
// print when they show only one.
TEST(PolicyParse, ResultCarriesTheFirstReportedError) {
    for (const BadCase& c : bad_cases()) {
        SCOPED_TRACE(c.name);
        LoadReport report;
        Result<Policy> result = parse_policy_text(c.yaml, "t.yaml", c.is_main, report);
        ASSERT_FALSE(result.ok());
        ASSERT_FALSE(report.errors.empty());
        EXPECT_EQ(result.error().full(), report.errors.front().full());
    }
}

// Errors are collected, not just the first: three independent mistakes give three errors.
TEST(PolicyParse, CollectsEveryError) {
    const Parsed parsed = parse(
        "version: 1\n"
        "settings: {timeout: 10}\n"
        "rules:\n"
        "  - id: Bad\n"
        "    command: relative\n"
        "  - id: ok\n"
        "    command: /bin/true\n"
        "    stdin: yes\n");
    ASSERT_FALSE(parsed.policy.has_value());
    std::vector<std::string> locations;
    for (const Error& e : parsed.report.errors) locations.push_back(e.location);
    EXPECT_EQ(locations,
              (std::vector<std::string>{"t.yaml:2:21", "t.yaml:4:9", "t.yaml:5:14", "t.yaml:8:12"}))
        << all_errors(parsed.report);
}

// A file of nothing but mistakes stops reporting after a bound, with a note saying so.
TEST(PolicyParse, BoundsTheNumberOfErrorsPerFile) {
    std::string yaml = "version: 1\nrules:\n";
    for (int i = 0; i < 500; ++i) yaml += "  - nonsense\n";
    const Parsed parsed = parse(yaml);
    ASSERT_FALSE(parsed.policy.has_value());
    ASSERT_EQ(parsed.report.errors.size(), 201u);
    EXPECT_EQ(parsed.report.errors.front().location, "t.yaml:3:5");
    EXPECT_EQ(parsed.report.errors.back().full(),
              "t.yaml: too many errors; 300 more not shown: fix the ones above first");
}

// Deeply nested input is refused with yaml-cpp's own error, not a crash.
TEST(PolicyParse, RefusesDeepNestingWithoutCrashing) {
    const Parsed parsed = parse("version: 1\nrules: " + std::string(100'000, '[') + "\n");
    EXPECT_FALSE(parsed.policy.has_value());
    EXPECT_FALSE(parsed.report.errors.empty());
}

// ---- Positive cases ---------------------------------------------------------------------------

// The schema's example parses into the model it describes, field by field.
TEST(PolicyParse, BuildsTheModelOfAValidPolicy) {
    const Parsed parsed = parse(R"(version: 1
settings:
  audit: journald
  timeout: 90s
  max_output: 64KiB
rules:
  - id: unit-status
    summary: Show a unit's status
    command: /usr/bin/systemctl
    keys: [laptop-agent, ci@host]
    args:
      - status
      - {param: unit}
    params:
      unit: {regex: '[A-Za-z0-9@._:-]{1,64}'}
  - id: journal
    command: /usr/bin/journalctl
    name: logs
    options:
      "-u|--unit": {regex: '[a-z]+'}
      "-n|--lines": {int: [1, 2000]}
      "--no-pager": flag
      "--quiet": {flag: true, required: true}
      "--output": {enum: [short, json], required: true}
      "--since": {regex: '[0-9]+', required: false}
    end_of_options: true
    timeout: 10s
    max_output: 1MiB
    stdin: true
  - id: tail-log
    command: /usr/bin/tail
    args:
      - {name: file, path: {under: [/var/log, /srv/log], type: file, open: fd}}
      - {path: {under: [/], type: directory, links: refuse}}
      - {path: {under: [/tmp], links: allow}}
)");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const Policy& policy = *parsed.policy;
    EXPECT_EQ(policy.settings.audit, AuditSink::kJournald);
    EXPECT_EQ(policy.settings.timeout, std::chrono::seconds(90));
    EXPECT_EQ(policy.settings.max_output, 64u * 1024);
    EXPECT_EQ(policy.settings.env, default_environment());
    EXPECT_EQ(policy.files, std::vector<std::string>{"t.yaml"});
    ASSERT_EQ(policy.rules.size(), 3u);

    const Rule& status = policy.rules[0];
    EXPECT_EQ(status.id, "unit-status");
    EXPECT_EQ(status.summary, "Show a unit's status");
    EXPECT_EQ(status.command, "/usr/bin/systemctl");
    EXPECT_EQ(status.name, "systemctl");  // basename(command)
    EXPECT_EQ(status.keys, (std::vector<std::string>{"laptop-agent", "ci@host"}));
    EXPECT_EQ(status.source, "t.yaml:7:5");
    ASSERT_EQ(status.args.size(), 2u);
    EXPECT_TRUE(status.args[0].is_literal);
    EXPECT_EQ(status.args[0].literal, "status");
    EXPECT_FALSE(status.args[1].is_literal);
    EXPECT_EQ(status.args[1].name, "unit");
    EXPECT_EQ(status.args[1].spec.kind, ValueSpec::Kind::kRegex);
    EXPECT_EQ(status.args[1].spec.regex_source, "[A-Za-z0-9@._:-]{1,64}");
    ASSERT_NE(status.args[1].spec.regex, nullptr);
    EXPECT_TRUE(status.options.empty());
    EXPECT_FALSE(status.end_of_options);
    EXPECT_FALSE(status.timeout.has_value());
    EXPECT_FALSE(status.max_output.has_value());
    EXPECT_FALSE(status.stdin_allowed);

    const Rule& journal = policy.rules[1];
    EXPECT_EQ(journal.name, "logs");
    ASSERT_EQ(journal.options.size(), 6u);
    EXPECT_EQ(journal.options[0].spellings, (std::vector<std::string>{"-u", "--unit"}));
    EXPECT_EQ(journal.options[0].name(), "-u");
    EXPECT_FALSE(journal.options[0].is_flag);
    EXPECT_FALSE(journal.options[0].required);
    EXPECT_EQ(journal.options[1].value.kind, ValueSpec::Kind::kInt);
    EXPECT_EQ(journal.options[1].value.min, 1);
    EXPECT_EQ(journal.options[1].value.max, 2000);
    EXPECT_TRUE(journal.options[2].is_flag);
    EXPECT_FALSE(journal.options[2].required);
    EXPECT_TRUE(journal.options[3].is_flag);
    EXPECT_TRUE(journal.options[3].required);
    EXPECT_EQ(journal.options[4].value.kind, ValueSpec::Kind::kEnum);
    EXPECT_EQ(journal.options[4].value.choices, (std::vector<std::string>{"short", "json"}));
    EXPECT_TRUE(journal.options[4].required);
    EXPECT_FALSE(journal.options[5].required);
    EXPECT_TRUE(journal.end_of_options);
    EXPECT_EQ(journal.timeout, std::chrono::seconds(10));
    EXPECT_EQ(journal.max_output, 1024u * 1024);
    EXPECT_TRUE(journal.stdin_allowed);
    EXPECT_TRUE(journal.keys.empty());

    const Rule& tail = policy.rules[2];
    ASSERT_EQ(tail.args.size(), 3u);
    EXPECT_EQ(tail.args[0].name, "file");
    EXPECT_EQ(tail.args[0].spec.kind, ValueSpec::Kind::kPath);
    EXPECT_EQ(tail.args[0].spec.under, (std::vector<std::string>{"/var/log", "/srv/log"}));
    EXPECT_EQ(tail.args[0].spec.path_type, ValueSpec::PathType::kFile);
    EXPECT_EQ(tail.args[1].name, "arg2");  // default binding name: the 1-based position
    EXPECT_EQ(tail.args[1].spec.path_type, ValueSpec::PathType::kDirectory);
    EXPECT_EQ(tail.args[2].name, "arg3");
    EXPECT_EQ(tail.args[2].spec.path_type, ValueSpec::PathType::kAny);
    EXPECT_FALSE(tail.args[0].spec.hard_links_allowed);  // default: refuse
    EXPECT_FALSE(tail.args[1].spec.hard_links_allowed);
    EXPECT_TRUE(tail.args[2].spec.hard_links_allowed);
    EXPECT_TRUE(tail.args[0].spec.open_fd);
    EXPECT_FALSE(tail.args[1].spec.open_fd);  // default: open: name
}

// settings.audit, settings.audit_file and a rule's capture.
TEST(PolicyParse, ReadsTheAuditSinkAndCapture) {
    const Parsed defaults = parse(rule_with(""));
    ASSERT_TRUE(defaults.policy.has_value()) << all_errors(defaults.report);
    EXPECT_EQ(defaults.policy->settings.audit, AuditSink::kJournald);
    EXPECT_EQ(defaults.policy->settings.audit_file.path, "/var/log/bridle/audit.jsonl");
    EXPECT_EQ(defaults.policy->settings.audit_file.max_size, 10u << 20);
    EXPECT_EQ(defaults.policy->settings.audit_file.max_files, 5u);
    EXPECT_FALSE(defaults.policy->rules[0].capture.has_value());
    for (const auto& [text, sink] :
         std::vector<std::pair<std::string, AuditSink>>{{"journald", AuditSink::kJournald},
                                                        {"file", AuditSink::kFile},
                                                        {"both", AuditSink::kBoth}}) {
        SCOPED_TRACE(text);
        const Parsed parsed =
            parse("version: 1\nsettings:\n  audit: " + text +
                  "\n  audit_file: {path: /srv/a.jsonl, max_size: 1MiB, max_files: 9}\n"
                  "rules:\n  - id: r\n    command: /bin/true\n    capture: 4KiB\n");
        ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
        EXPECT_EQ(parsed.policy->settings.audit, sink);
        EXPECT_EQ(parsed.policy->settings.audit_file.path, "/srv/a.jsonl");
        EXPECT_EQ(parsed.policy->settings.audit_file.max_size, 1u << 20);
        EXPECT_EQ(parsed.policy->settings.audit_file.max_files, 9u);
        EXPECT_EQ(parsed.policy->rules[0].capture, 4096u);
    }
}

// pipeline: the places a rule may take; none by default.
TEST(PolicyParse, ReadsPipelinePlaces) {
    const Parsed defaults = parse(rule_with(""));
    ASSERT_TRUE(defaults.policy.has_value()) << all_errors(defaults.report);
    EXPECT_EQ(defaults.policy->rules[0].pipeline.names(), std::vector<std::string>{"alone"});
    EXPECT_FALSE(defaults.policy->rules[0].pipeline.in_pipeline());
    const Parsed parsed = parse(rule_with("    pipeline: [last, first]\n"));
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const PipelinePlaces& places = parsed.policy->rules[0].pipeline;
    EXPECT_FALSE(places.allows(Place::kAlone));  // exactly the places listed
    EXPECT_TRUE(places.allows(Place::kFirst));
    EXPECT_FALSE(places.allows(Place::kMiddle));
    EXPECT_TRUE(places.allows(Place::kLast));
    EXPECT_EQ(places.text(), "first, last");
    const Parsed both = parse(rule_with("    pipeline: [alone, first]\n"));
    ASSERT_TRUE(both.policy.has_value()) << all_errors(both.report);
    EXPECT_EQ(both.policy->rules[0].pipeline.text(), "alone, first");
    // run_as rules may run alone, but never in a pipeline.
    EXPECT_TRUE(parse(rule_with("    run_as: root\n    pipeline: [alone]\n")).policy.has_value());
}

// redact (default off) and settings.redact_patterns, which follow the built-in patterns; a
// policy whose patterns no rule uses is warned about.
TEST(PolicyParse, ReadsRedactAndTheRedactPatterns) {
    const Parsed defaults = parse(rule_with(""));
    ASSERT_TRUE(defaults.policy.has_value()) << all_errors(defaults.report);
    EXPECT_FALSE(defaults.policy->rules[0].redact);
    EXPECT_EQ(defaults.policy->settings.redaction, RedactionPatterns::builtin());

    const Parsed parsed = parse(
        "version: 1\nsettings:\n  redact_patterns: ['employee-[0-9]{6}', 'X-Internal: (\\S+)']\n"
        "rules:\n  - id: r\n    command: /bin/true\n    redact: true\n");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    EXPECT_TRUE(parsed.policy->rules[0].redact);
    EXPECT_EQ(parsed.policy->settings.redaction->own(),
              (std::vector<std::string>{"employee-[0-9]{6}", "X-Internal: (\\S+)"}));
    EXPECT_TRUE(parsed.report.warnings.empty());

    const Parsed unused = parse(
        "version: 1\nsettings:\n  redact_patterns: ['employee-[0-9]{6}']\n"
        "rules:\n  - id: r\n    command: /bin/true\n");
    ASSERT_TRUE(unused.policy.has_value()) << all_errors(unused.report);
    ASSERT_EQ(unused.report.warnings.size(), 1u);
    EXPECT_EQ(unused.report.warnings[0].full(),
              "t.yaml: settings.redact_patterns is never used: no rule has redact: true");
}

// Durations and sizes in every unit, at the bounds of their ranges.
TEST(PolicyParse, ReadsDurationsAndSizesInEveryUnit) {
    struct Case {
        std::string timeout, max_output;
        std::chrono::milliseconds want_timeout;
        std::uint64_t want_bytes;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"1ms", "1", std::chrono::milliseconds(1), 1},
        {"500ms", "1B", std::chrono::milliseconds(500), 1},
        {"10s", "64KiB", std::chrono::seconds(10), 64 * 1024},
        {"5m", "3MiB", std::chrono::minutes(5), 3 * 1024 * 1024},
        {"24h", "1GiB", std::chrono::hours(24), 1024 * 1024 * 1024},
        {"86400000ms", "1073741824", std::chrono::hours(24), 1024 * 1024 * 1024},
        {"1440m", "1048576KiB", std::chrono::hours(24), 1024 * 1024 * 1024},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.timeout + " " + c.max_output);
        const Parsed parsed =
            parse("version: 1\nsettings: {timeout: " + c.timeout + ", max_output: " + c.max_output +
                  "}\nrules:\n  - id: a\n"
                  "    command: /bin/true\n    timeout: " +
                  c.timeout + "\n    max_output: " + c.max_output + "\n");
        ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
        EXPECT_EQ(parsed.policy->settings.timeout, c.want_timeout);
        EXPECT_EQ(parsed.policy->settings.max_output, c.want_bytes);
        EXPECT_EQ(parsed.policy->rules[0].timeout, c.want_timeout);
        EXPECT_EQ(parsed.policy->rules[0].max_output, c.want_bytes);
    }
}

// settings.env is the whole environment: nothing from the default survives next to it.
TEST(PolicyParse, EnvReplacesTheDefaultEnvironment) {
    const Parsed parsed = parse(
        "version: 1\nsettings:\n  env: {PATH: /usr/bin, SYSTEMD_PAGER: \"\", _X1: 'a b'}\nrules: "
        "[]\n");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const std::map<std::string, std::string> want = {
        {"PATH", "/usr/bin"}, {"SYSTEMD_PAGER", ""}, {"_X1", "a b"}};
    EXPECT_EQ(parsed.policy->settings.env, want);

    const Parsed empty = parse("version: 1\nsettings: {env: {}}\nrules: []\n");
    ASSERT_TRUE(empty.policy.has_value()) << all_errors(empty.report);
    EXPECT_TRUE(empty.policy->settings.env.empty());
}

// A rule's env (issue 13, item 6) is added to settings.env for that rule only, replacing a
// variable of the same name; it is checked like settings.env.
TEST(PolicyParse, RuleEnvAddsToAndOverridesSettingsEnv) {
    const Parsed parsed = parse(
        "version: 1\nsettings:\n  env: {PATH: /usr/bin, LANG: C.UTF-8}\nrules:\n"
        "  - id: git-log\n    command: /usr/bin/git\n"
        "    env: {LANG: C, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: core.pager, GIT_CONFIG_VALUE_0: cat}\n"
        "  - id: plain\n    command: /usr/bin/uptime\n");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const Policy& p = *parsed.policy;
    const std::map<std::string, std::string> git = {{"PATH", "/usr/bin"},
                                                    {"LANG", "C"},
                                                    {"GIT_CONFIG_COUNT", "1"},
                                                    {"GIT_CONFIG_KEY_0", "core.pager"},
                                                    {"GIT_CONFIG_VALUE_0", "cat"}};
    EXPECT_EQ(p.environment_for(p.rules[0]), git);
    EXPECT_EQ(p.environment_for(p.rules[1]), p.settings.env);  // no env: settings.env as is
    EXPECT_EQ(p.settings.env.at("LANG"), "C.UTF-8");           // the rule's stays the rule's
}

// Small variations that are valid: quoting does not change numbers or booleans, a fragment
// may carry rules, rules may be empty, and Unicode text is fine.
TEST(PolicyParse, AcceptsValidVariations) {
    // clang-format off
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"quoted version", "version: \"1\"\nrules: []\n"},
        {"flow style", "{version: 1, rules: [{id: a, command: /bin/true}]}\n"},
        {"explicit document markers", "---\nversion: 1\nrules: []\n...\n"},
        {"quoted booleans", rule_with("    stdin: 'true'\n    end_of_options: \"false\"\n")},
        {"int bounds equal", rule_with("    args: [{int: [0, 0]}]\n")},
        {"int at 2^53", rule_with("    args: [{int: [0, 9007199254740992]}]\n")},
        {"quoted int bounds", rule_with("    args: [{int: ['1', \"2\"]}]\n")},
        {"enum of numbers", rule_with("    args: [{enum: [1, 2, 10]}]\n")},
        {"literal starting with a dash", rule_with("    args: [-la]\n")},
        {"literal next to an unrelated option",
         rule_with("    options: {-n: flag}\n    args: [-n5]\n")},
        {"long flag literal prefix",
         rule_with("    options: {--all: flag}\n    args: [--all=x]\n")},
        {"Unicode summary", rule_with("    summary: Zeigt den Status – ✓\n")},
        {"name with plus", rule_with("    name: g++\n")},
        {"path under the root", rule_with("    args: [{path: {under: [/]}}]\n")},
        {"id at 64 characters",
         "version: 1\nrules:\n  - id: " + std::string(64, '9') + "\n    command: /bin/true\n"},
        {"id with dots", "version: 1\nrules:\n  - id: 0.a_b-c\n    command: /bin/true\n"},
        {"no rules", "version: 1\nrules: []\n"},
        {"comment before the document", "# bridle policy\nversion: 1 # the schema\nrules: []\n"},
    };
    // clang-format on
    for (const auto& [name, yaml] : cases) {
        SCOPED_TRACE(name);
        const Parsed parsed = parse(yaml);
        EXPECT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    }
    const Parsed fragment = parse(rule_with(""), false);
    EXPECT_TRUE(fragment.policy.has_value()) << all_errors(fragment.report);
}

// Rules listing keys allow only those keys; rules without keys allow every key.
TEST(PolicyModel, AllowsOnlyListedKeys) {
    Rule open;
    EXPECT_TRUE(open.allows_key("anyone"));
    EXPECT_TRUE(open.allows_key(""));
    Rule closed;
    closed.keys = {"laptop", "ci"};
    EXPECT_TRUE(closed.allows_key("ci"));
    EXPECT_FALSE(closed.allows_key("CI"));
    EXPECT_FALSE(closed.allows_key("laptop2"));
    EXPECT_FALSE(closed.allows_key(""));
}

TEST(PolicyModel, DefaultEnvironmentHasNoPagerAndNoColour) {
    const std::map<std::string, std::string> want = {
        {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
        {"LANG", "C.UTF-8"},
        {"HOME", "/"},
        {"TERM", "dumb"},
        {"PAGER", "cat"},
        {"SYSTEMD_PAGER", "cat"},
        {"SYSTEMD_PAGERSECURE", "1"},
        {"SYSTEMD_COLORS", "0"},
        {"LESSSECURE", "1"},
        {"GIT_PAGER", "cat"},
        {"NO_COLOR", "1"},
    };
    EXPECT_EQ(default_environment(), want);
}

// ---- Synopses -----------------------------------------------------------------------------------

// The notation bridle-policy(5) documents under SYNOPSES.
TEST(PolicyModel, WritesSynopses) {
    struct Case {
        std::string name, rule, want;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"no arguments", "command: /usr/bin/uptime", "uptime"},
        {"literal and regex param",
         "command: /usr/bin/systemctl\n    args: [status, {param: unit}]\n"
         "    params: {unit: {regex: 'x'}}",
         "systemctl status UNIT"},
        {"optional and required options",
         "command: /usr/bin/journalctl\n    options:\n      -u|--unit: {regex: x}\n"
         "      -n|--lines: {int: [1, 2000]}\n      --no-pager: {flag: true, required: true}",
         "journalctl [-u|--unit UNIT] [-n|--lines 1..2000] --no-pager"},
        {"end of options and a path",
         "command: /usr/bin/tail\n    options: {-n|--lines: {int: [1, 5000]}}\n"
         "    end_of_options: true\n"
         "    args: [{name: file, path: {under: [/var/log], type: file}}]",
         "tail [-n|--lines 1..5000] [--] FILE:/var/log/..."},
        {"enum",
         "command: /usr/bin/systemctl\n    args: [{name: action, enum: [start, stop]}, nginx]",
         "systemctl {start|stop} nginx"},
        {"options after the leading literals",
         "command: /usr/bin/systemctl\n    options: {--no-pager: flag}\n"
         "    args: [status, {param: unit}]\n    params: {unit: {regex: x}}",
         "systemctl status [--no-pager] UNIT"},
        {"short-only option value",
         "command: /usr/bin/ping\n    options: {-c: {int: [1, 5]}, -I: {regex: x}}\n"
         "    args: [{name: host, regex: x}]",
         "ping [-c 1..5] [-I VALUE] HOST"},
        {"required option with a value",
         "command: /usr/bin/journalctl\n    options: {--since-time: {regex: x, required: true}}",
         "journalctl --since-time SINCE-TIME"},
        {"several directories",
         "command: /usr/bin/cat\n    args: [{name: log, path: {under: [/var/log, /srv/log]}}]",
         "cat LOG:{/var/log|/srv/log}/..."},
        {"the root directory",
         "command: /usr/bin/ls\n    args: [{name: dir, path: {under: [/, /srv]}}]", "ls DIR:/..."},
        {"default binding name", "command: /usr/bin/systemctl\n    args: [status, {regex: x}]",
         "systemctl status ARG2"},
        {"explicit name", "command: /usr/bin/systemctl\n    name: sc\n    args: [status]",
         "sc status"},
        {"end of options without options",
         "command: /usr/bin/cat\n    end_of_options: true\n"
         "    args: [{name: f, path: {under: [/etc]}}]",
         "cat [--] F:/etc/..."},
        {"literals after a parameter",
         "command: /usr/bin/git\n    args: [-C, {name: repo, enum: [/srv/app]}, pull]",
         "git -C {/srv/app} pull"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Parsed parsed = parse("version: 1\nrules:\n  - id: r\n    " + c.rule + "\n");
        ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
        EXPECT_EQ(parsed.policy->rules.at(0).synopsis(), c.want);
    }
}

TEST(PolicyModel, DescribesEachKindOfValue) {
    ValueSpec regex;
    EXPECT_EQ(regex.describe("unit_name"), "UNIT_NAME");
    ValueSpec choices;
    choices.kind = ValueSpec::Kind::kEnum;
    choices.choices = {"a"};
    EXPECT_EQ(choices.describe("x"), "{a}");
    ValueSpec range;
    range.kind = ValueSpec::Kind::kInt;
    range.min = 0;
    range.max = std::int64_t{1} << 53;
    EXPECT_EQ(range.describe("x"), "0..9007199254740992");
    ValueSpec path;
    path.kind = ValueSpec::Kind::kPath;
    path.under = {"/var/log"};
    EXPECT_EQ(path.describe("file"), "FILE:/var/log/...");
}

// An option's value is named after its first long spelling, else "value".
TEST(PolicyModel, NamesOptionValuesAfterTheFirstLongSpelling) {
    struct Case {
        std::vector<std::string> spellings;
        std::string want;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {{"-u", "--unit"}, "unit"},
        {{"--since-time", "-S", "--since"}, "since-time"},
        {{"-p"}, "value"},
        {{"-p", "-P"}, "value"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.spellings.front());
        Option option;
        option.spellings = c.spellings;
        EXPECT_EQ(option.placeholder(), c.want);
    }
}

// ---- SHA-256 ------------------------------------------------------------------------------------

// FIPS 180-2 appendix B vectors, and the same bytes fed in pieces.
TEST(Sha256, MatchesTheFipsVectors) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, GivesTheSameDigestForAnySplit) {
    std::string message;
    for (int i = 0; i < 300; ++i) message += static_cast<char>(i * 7);
    const std::string whole = sha256_hex(message);
    for (std::size_t split : {0, 1, 55, 56, 63, 64, 65, 119, 128, 299, 300}) {
        SCOPED_TRACE(split);
        Sha256 hash;
        hash.update(std::string_view{});  // no bytes, and no pointer to them
        hash.update(std::string_view(message).substr(0, split));
        hash.update(std::string_view(message).substr(split));
        EXPECT_EQ(hash.hex_digest(), whole);
    }
    // Lengths around the padding boundary each give a distinct digest.
    std::vector<std::string> digests;
    for (std::size_t n = 50; n < 70; ++n) digests.push_back(sha256_hex(std::string(n, 'x')));
    std::sort(digests.begin(), digests.end());
    EXPECT_EQ(std::unique(digests.begin(), digests.end()), digests.end());
}

// The SHA extensions are used where this CPU has them (then every digest above came from
// them; on arm64, in cross.arm64, from the portable rounds).
TEST(Sha256, UsesTheShaExtensionsWhereTheCpuHasThem) {
#if defined(__x86_64__)
    std::ifstream cpuinfo("/proc/cpuinfo");
    const std::string text((std::istreambuf_iterator<char>(cpuinfo)), {});
    const bool has = text.find(" sha_ni") != std::string::npos;
    EXPECT_EQ(sha_ni::available(), has && text.find(" sse4_1") != std::string::npos);
#else
    EXPECT_FALSE(sha_ni::available());
#endif
}

// Against coreutils' sha256sum, an implementation of its own: every length across several
// blocks and the padding boundaries, random bytes, fed whole and in uneven pieces.
TEST(Sha256, AgreesWithSha256sumOnRandomInputs) {
    char dir[] = "/tmp/bridle-sha256-test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::mt19937 random(20261202);
    std::string list;
    std::vector<std::string> want;
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 260; ++n) lengths.push_back(n);
    for (std::size_t n : {1000, 4095, 4096, 4097, 65536 + 17, 1 << 20}) lengths.push_back(n);
    for (const std::size_t n : lengths) {
        std::string bytes(n, '\0');
        for (char& c : bytes) c = static_cast<char>(random());
        const std::string path = std::string(dir) + "/m" + std::to_string(n);
        std::ofstream(path, std::ios::binary) << bytes;
        list += " " + path;
        Sha256 pieces;
        for (std::size_t at = 0, step = 1; at < n; at += step, step = step * 3 % 97 + 1) {
            pieces.update(std::string_view(bytes).substr(at, step));
        }
        const std::string whole = sha256_hex(bytes);
        EXPECT_EQ(pieces.hex_digest(), whole) << n;
        want.push_back(whole);
    }
    FILE* out = ::popen(("sha256sum" + list).c_str(), "r");
    ASSERT_NE(out, nullptr);
    char line[4096];
    std::size_t i = 0;
    while (std::fgets(line, sizeof line, out) != nullptr && i < want.size()) {
        EXPECT_EQ(std::string(line, 64), want[i]) << "length " << lengths[i];
        ++i;
    }
    EXPECT_EQ(::pclose(out), 0);
    EXPECT_EQ(i, want.size());
    std::filesystem::remove_all(dir);
}

// Regression (found by fuzz_policy): yaml-cpp 0.7's LoadAll loops forever, allocating, on a
// document that starts with a token its parser does not consume (",", jbeder/yaml-cpp#1040),
// so every request hung on such a policy file. The loader must answer, with an error.
TEST(PolicyParse, InputsThatHangYamlCppLoadAllAreRefusedPromptly) {
    for (const std::string yaml : {",\n", ",a", "version: 1\nrules: []\n---\n,\n", "]\n"}) {
        SCOPED_TRACE(yaml);
        EXPECT_EXIT(
            {
                ::alarm(5);  // a hang dies of SIGALRM and fails the expectation
                const Parsed parsed = parse(yaml);
                ::_exit(!parsed.policy && !parsed.report.errors.empty() ? 0 : 1);
            },
            ::testing::ExitedWithCode(0), "");
    }
}

// ---- Files
// ----------------------------------------------------------------------------------------

using Scratch = test::TrustedScratch;

const char* kGoodMain =
    "version: 1\nsettings: {timeout: 5s}\nrules:\n  - id: a\n    command: /bin/true\n";

// A root-owned 0644 file under root-owned 0755 directories is read in strict mode.
TEST(FileChecks, ReadsARootOwnedFileInStrictMode) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    const std::string path = scratch.file("policy.yaml", kGoodMain);
    std::vector<Error> warnings;
    Result<std::string> content = read_trusted_file(path, true, warnings);
    ASSERT_TRUE(content.ok()) << content.error().full();
    EXPECT_EQ(content.value(), kGoodMain);
    EXPECT_TRUE(warnings.empty());
}

// A relative path is read against the working directory, with every directory above it
// checked as for an absolute one.
TEST(FileChecks, ReadsARelativePathAgainstTheWorkingDirectory) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    const std::string path = scratch.file("policy.yaml", kGoodMain);
    const std::string dir = path.substr(0, path.rfind('/'));
    const std::string before = std::filesystem::current_path();
    ASSERT_EQ(::chdir(dir.c_str()), 0);
    std::vector<Error> warnings;
    Result<std::string> content = read_trusted_file("policy.yaml", true, warnings);
    Result<std::string> missing = read_trusted_file("no-such.yaml", true, warnings);
    ASSERT_EQ(::chdir(before.c_str()), 0);
    ASSERT_TRUE(content.ok()) << content.error().full();
    EXPECT_EQ(content.value(), kGoodMain);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().full().find(dir + "/no-such.yaml"), std::string::npos)
        << missing.error().full();
}

// An existing system file passes strict mode where the host keeps /etc root-only.
TEST(FileChecks, ReadsEtcHostnameInStrictMode) {
    struct stat st {};
    if (::lstat("/etc/hostname", &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
        (st.st_mode & 022) != 0) {
        GTEST_SKIP() << "/etc/hostname is not a root-only regular file here";
    }
    std::vector<Error> warnings;
    EXPECT_TRUE(read_trusted_file("/etc/hostname", true, warnings).ok());
}

// Files a non-root user could change: refused in strict mode with sudo-style reasons, read
// with the same reasons as warnings in relaxed mode.
TEST(FileChecks, RefusesFilesOthersCouldChange) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    struct Case {
        std::string name;
        std::string path;
        std::string message;
    };
    const std::string group_writable = scratch.file("group.yaml", kGoodMain, 0664);
    const std::string world_writable = scratch.file("world.yaml", kGoodMain, 0666);
    const std::string not_root = scratch.file("nobody.yaml", kGoodMain);
    ASSERT_EQ(::chown(not_root.c_str(), 65534, 65534), 0);
    const std::string open_dir = scratch.dir("open", 0777);
    const std::string in_open_dir = scratch.file("open/policy.yaml", kGoodMain);
    const std::string sticky_dir = scratch.dir("sticky", 01777);
    const std::string in_sticky_dir = scratch.file("sticky/policy.yaml", kGoodMain);
    const std::string nobody_dir = scratch.dir("nobodys");
    ASSERT_EQ(::chown(nobody_dir.c_str(), 65534, 0), 0);
    const std::string in_nobody_dir = scratch.file("nobodys/policy.yaml", kGoodMain);
    // clang-format off
    const std::vector<Case> cases = {
        {"group-writable file", group_writable,
         group_writable + " is writable by group 0 (mode 0664): only root may be able to change "
                          "the policy"},
        {"world-writable file", world_writable,
         world_writable + " is writable by others (mode 0666): only root may be able to change "
                          "the policy"},
        {"file owned by nobody", not_root,
         not_root + " is owned by uid 65534, not root: only root may be able to change the policy"},
        {"world-writable directory", in_open_dir, open_dir + " is writable by others (mode 0777)"},
        {"sticky directory gets no exception", in_sticky_dir,
         sticky_dir + " is writable by others (mode 1777)"},
        {"directory owned by nobody", in_nobody_dir, nobody_dir + " is owned by uid 65534"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<Error> warnings;
        Result<std::string> strict = read_trusted_file(c.path, true, warnings);
        ASSERT_FALSE(strict.ok());
        EXPECT_NE(strict.error().message.find(c.message), std::string::npos)
            << strict.error().message;
        EXPECT_TRUE(warnings.empty());

        Result<std::string> relaxed = read_trusted_file(c.path, false, warnings);
        ASSERT_TRUE(relaxed.ok()) << relaxed.error().full();
        EXPECT_EQ(relaxed.value(), kGoodMain);
        ASSERT_FALSE(warnings.empty());
        EXPECT_NE(warnings.front().message.find(c.message), std::string::npos)
            << warnings.front().message;
    }
}

// /tmp is world-writable, so nothing under it is a trusted policy.
TEST(FileChecks, RefusesAFileUnderTmp) {
    char dir[] = "/tmp/bridle-policy-test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/policy.yaml";
    std::ofstream(path) << kGoodMain;
    std::vector<Error> warnings;
    Result<std::string> strict = read_trusted_file(path, true, warnings);
    struct stat st {};
    ::stat("/tmp", &st);
    if ((st.st_mode & S_IWOTH) != 0) {
        ASSERT_FALSE(strict.ok());
        EXPECT_NE(strict.error().message.find("/tmp is writable by others"), std::string::npos)
            << strict.error().message;
    }
    ::unlink(path.c_str());
    ::rmdir(dir);
}

// Problems of kind, not ownership, stay errors even in relaxed mode.
TEST(FileChecks, RefusesWhatIsNotARegularFileEvenWhenRelaxed) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    const std::string target = scratch.file("real.yaml", kGoodMain);
    const std::string link = scratch.root() + "/link.yaml";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const std::string real_dir = scratch.dir("realdir");
    scratch.file("realdir/policy.yaml", kGoodMain);
    const std::string dir_link = scratch.root() + "/dirlink";
    ASSERT_EQ(::symlink(real_dir.c_str(), dir_link.c_str()), 0);
    const std::string fifo = scratch.root() + "/fifo.yaml";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    const std::string big = scratch.file("big.yaml", std::string(4 * 1024 * 1024 + 1, '#'));
    const std::string at_limit = scratch.file("limit.yaml", std::string(4 * 1024 * 1024, '#'));

    struct Case {
        std::string name, path, message;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"symlink as the last component", link,
         link + " is a symbolic link: bridle does not follow symbolic links"},
        {"symlink as a directory", dir_link + "/policy.yaml", dir_link + " is a symbolic link"},
        {"a directory", real_dir, real_dir + " is not a regular file"},
        {"a directory with a trailing slash", real_dir + "/", "is not a regular file"},
        {"a FIFO (must not hang)", fifo, fifo + " is not a regular file"},
        {"a file as a directory", target + "/x", target + " is not a directory"},
        {"missing file", scratch.root() + "/missing.yaml",
         "cannot open " + scratch.root() + "/missing.yaml: No such file or directory"},
        {"over 4 MiB", big, big + " is larger than 4 MiB"},
        {"empty path", "", "is not a regular file"},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<Error> warnings;
        Result<std::string> relaxed = read_trusted_file(c.path, false, warnings);
        ASSERT_FALSE(relaxed.ok());
        EXPECT_NE(relaxed.error().message.find(c.message), std::string::npos)
            << relaxed.error().message;
    }
    std::vector<Error> warnings;
    Result<std::string> limit = read_trusted_file(at_limit, false, warnings);
    ASSERT_TRUE(limit.ok()) << limit.error().full();
    EXPECT_EQ(limit.value().size(), 4u * 1024 * 1024);
}

// A file may hold more than its size says (procfs gives 0): it is read to its end, and the
// 4 MiB limit holds while it grows past the size fstat gave.
TEST(FileChecks, ReadsPastTheStatSizeUpToTheLimit) {
    std::vector<Error> warnings;
    Result<std::string> version = read_trusted_file("/proc/version", false, warnings);
    ASSERT_TRUE(version.ok()) << version.error().full();
    std::ifstream in("/proc/version");
    const std::string expected((std::istreambuf_iterator<char>(in)), {});
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(version.value(), expected);

    std::ifstream symbols("/proc/kallsyms");
    std::size_t size = 0;
    for (std::string line; std::getline(symbols, line);) size += line.size() + 1;
    if (size <= 4u * 1024 * 1024) GTEST_SKIP() << "/proc/kallsyms is not over 4 MiB here";
    Result<std::string> big = read_trusted_file("/proc/kallsyms", false, warnings);
    ASSERT_FALSE(big.ok());
    EXPECT_NE(big.error().message.find("/proc/kallsyms is larger than 4 MiB"), std::string::npos)
        << big.error().message;
}

// A relative path is checked from / like an absolute one.
TEST(FileChecks, ChecksARelativePathFromTheRoot) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    scratch.file("policy.yaml", kGoodMain);
    char cwd[4096];
    ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
    ASSERT_EQ(::chdir(scratch.root().c_str()), 0);
    std::vector<Error> warnings;
    Result<std::string> content = read_trusted_file("policy.yaml", true, warnings);
    ASSERT_EQ(::chdir(cwd), 0);
    ASSERT_TRUE(content.ok()) << content.error().full();
    EXPECT_EQ(content.value(), kGoodMain);
}

// ---- load_policy_files --------------------------------------------------------------------------

// The main file plus policy.d fragments in byte order; hidden and non-.yaml names skipped;
// the digest covers every file read, in order.
TEST(LoadPolicy, MergesFragmentsInByteOrder) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    const std::string main_file = scratch.file("policy.yaml", kGoodMain);
    const std::string dir = scratch.dir("policy.d");
    const std::string b = "version: 1\nrules:\n  - id: b\n    command: /bin/b\n";
    const std::string c = "version: 1\nrules:\n  - id: c\n    command: /bin/c\n";
    const std::string upper = "version: 1\nrules:\n  - id: upper\n    command: /bin/u\n";
    const std::string lower = "version: 1\nrules:\n  - id: lower\n    command: /bin/l\n";
    scratch.file("policy.d/20-c.yaml", c);
    scratch.file("policy.d/a-lower.yaml", lower);
    scratch.file("policy.d/10-b.yaml", b);
    scratch.file("policy.d/Z-upper.yaml", upper);  // 'Z' is 0x5A, 'a' 0x61: bytes, not locale
    scratch.file("policy.d/.hidden.yaml", "not: [valid");
    scratch.file("policy.d/notes.txt", "not yaml");
    scratch.file("policy.d/30-d.yaml~", "not: [valid");

    LoadReport report;
    Result<Policy> policy = load_policy_files(main_file, dir, LoadOptions{}, report);
    ASSERT_TRUE(policy.ok()) << all_errors(report);
    std::vector<std::string> ids;
    for (const Rule& rule : policy.value().rules) ids.push_back(rule.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "upper", "lower"}));
    EXPECT_EQ(policy.value().files,
              (std::vector<std::string>{main_file, dir + "/10-b.yaml", dir + "/20-c.yaml",
                                        dir + "/Z-upper.yaml", dir + "/a-lower.yaml"}));
    EXPECT_EQ(policy.value().sha256, sha256_hex(std::string(kGoodMain) + b + c + upper + lower));
    EXPECT_EQ(policy.value().settings.timeout, std::chrono::seconds(5));
    EXPECT_EQ(policy.value().rules[1].source, dir + "/10-b.yaml:3:5");
    EXPECT_TRUE(report.warnings.empty());
}

// Regexes: parsed at load, compiled once per distinct pattern (rules and files that share a
// pattern share it), compiled at load only when LoadOptions::compile_regexes asks.
TEST(LoadPolicy, SharesEachDistinctRegexAcrossRulesAndFiles) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    const std::string main_file =
        scratch.file("policy.yaml",
                     "version: 1\nrules:\n"
                     "  - id: a\n    command: /bin/a\n    args: [{regex: '[a-z]{1,8}'}]\n"
                     "  - id: b\n    command: /bin/b\n    options: {-x: {regex: '[a-z]{1,8}'}}\n"
                     "  - id: c\n    command: /bin/c\n    args: [{regex: '[0-9]+'}]\n");
    const std::string dir = scratch.dir("policy.d");
    scratch.file("policy.d/1.yaml",
                 "version: 1\nrules:\n  - id: d\n    command: /bin/d\n"
                 "    args: [{regex: '[a-z]{1,8}'}]\n");
    LoadReport report;
    LoadOptions options;
    options.require_safe_ownership = scratch.safe();
    Result<Policy> policy = load_policy_files(main_file, dir, options, report);
    ASSERT_TRUE(policy.ok()) << all_errors(report);
    const auto& rules = policy.value().rules;
    ASSERT_EQ(rules.size(), 4u);
    const auto& a = rules[0].args[0].spec.regex;
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a, rules[1].options[0].value.regex);
    EXPECT_EQ(a, rules[3].args[0].spec.regex);
    EXPECT_NE(a, rules[2].args[0].spec.regex);
    EXPECT_TRUE(a->full_match("abc"));
    EXPECT_FALSE(a->full_match("abc1"));
    EXPECT_FALSE(a->full_match("abcdefghi"));  // fully anchored
}

// A pattern that parses but that RE2 cannot compile: an error at load when regexes are
// compiled there (bridle check, explain), accepted when they are compiled lazily (the forced
// command, which then denies each request that reaches it: matching_test). A syntax error is
// an error either way.
TEST(LoadPolicy, CompilesRegexesAtLoadOnlyWhenAsked) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    std::string huge;
    for (int i = 0; i < 400; ++i) huge += ".{1000}";
    const std::string big = scratch.file(
        "big.yaml", "version: 1\nrules:\n  - id: a\n    command: /bin/a\n    args: [{regex: '" +
                        huge + "'}]\n");
    const std::string bad = scratch.file(
        "bad.yaml",
        "version: 1\nrules:\n  - id: a\n    command: /bin/a\n    args: [{regex: 'a(b'}]\n");
    for (const bool compile : {true, false}) {
        SCOPED_TRACE(compile ? "compile at load" : "compile lazily");
        LoadOptions options;
        options.require_safe_ownership = scratch.safe();
        options.compile_regexes = compile;
        LoadReport report;
        Result<Policy> loaded = load_policy_files(big, "", options, report);
        if (compile) {
            ASSERT_FALSE(loaded.ok());
            EXPECT_NE(loaded.error().full().find(big + ":5:20: invalid regex"), std::string::npos)
                << loaded.error().full();
            EXPECT_NE(loaded.error().full().find("pattern too large"), std::string::npos);
        } else {
            ASSERT_TRUE(loaded.ok()) << all_errors(report);
            EXPECT_FALSE(loaded.value().rules[0].args[0].spec.regex->compile_error().empty());
        }
        LoadReport bad_report;
        Result<Policy> refused = load_policy_files(bad, "", options, bad_report);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().full(), bad + ":5:20: invalid regex 'a(b': missing ): a(b");
    }
}

// A rule id in two files is refused, naming both places.
TEST(LoadPolicy, RefusesARuleIdDefinedInTwoFiles) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    const std::string main_file = scratch.file("policy.yaml", kGoodMain);
    const std::string dir = scratch.dir("policy.d");
    scratch.file("policy.d/10-x.yaml",
                 "version: 1\nrules:\n  - id: x\n    command: /bin/x\n"
                 "  - id: a\n    command: /bin/other\n");
    LoadReport report;
    LoadOptions relaxed;
    relaxed.require_safe_ownership = scratch.safe();
    Result<Policy> policy = load_policy_files(main_file, dir, relaxed, report);
    ASSERT_FALSE(policy.ok());
    ASSERT_EQ(report.errors.size(), 1u) << all_errors(report);
    EXPECT_EQ(
        report.errors[0].full(),
        dir + "/10-x.yaml:5:5: duplicate rule id 'a': first defined at " + main_file + ":4:5");
}

// Fragments may not carry settings; errors in several files are all reported, each file's in
// line order.
TEST(LoadPolicy, ReportsErrorsFromEveryFile) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    const std::string main_file = scratch.file("policy.yaml", "version: 1\nrules: [{id: A}]\n");
    const std::string dir = scratch.dir("policy.d");
    scratch.file("policy.d/1.yaml", "version: 1\nsettings: {timeout: 1s}\nrules: []\n");
    scratch.file("policy.d/2.yaml", "version: 2\nrules: []\n");
    LoadReport report;
    LoadOptions options;
    options.require_safe_ownership = false;
    ASSERT_FALSE(load_policy_files(main_file, dir, options, report).ok());
    std::vector<std::string> lines;
    for (const Error& e : report.errors) lines.push_back(e.full());
    // clang-format off
    const std::vector<std::string> want = {
        main_file + ":2:9: a rule needs a command (the absolute path bridle executes)",
        main_file +
            ":2:14: rule id 'A' is not valid: use 1 to 64 of a-z 0-9 . _ -, starting "
            "with a letter or digit",
        dir + "/1.yaml:2:1: settings belong in the main policy file",
        dir + "/2.yaml:1:10: unsupported policy version 2; this bridle reads version 1",
    };
    // clang-format on
    EXPECT_EQ(lines, want);
}

// The main file must exist; a missing policy.d is fine; an explicit file is read alone.
TEST(LoadPolicy, HandlesMissingFilesAndDirectories) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    LoadOptions options;
    options.require_safe_ownership = false;
    {
        LoadReport report;
        Result<Policy> missing = load_policy_files(scratch.root() + "/none.yaml",
                                                   scratch.root() + "/none.d", options, report);
        ASSERT_FALSE(missing.ok());
        EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos);
    }
    const std::string main_file = scratch.file("policy.yaml", kGoodMain);
    {
        LoadReport report;
        Result<Policy> no_dir =
            load_policy_files(main_file, scratch.root() + "/none.d", options, report);
        ASSERT_TRUE(no_dir.ok()) << all_errors(report);
        EXPECT_EQ(no_dir.value().files, std::vector<std::string>{main_file});
        EXPECT_EQ(no_dir.value().given_path, "");  // not named by --policy
        EXPECT_EQ(no_dir.value().sha256, sha256_hex(kGoodMain));
    }
    {
        const std::string dir = scratch.dir("policy.d");
        scratch.file("policy.d/x.yaml", "version: 2\n");
        LoadReport report;
        Result<Policy> explicit_file = load_policy(main_file, options, report);
        ASSERT_TRUE(explicit_file.ok()) << all_errors(report);
        EXPECT_EQ(explicit_file.value().rules.size(), 1u);
        // --policy FILE as given: what every front end's sudo call names (issue 17, bug 5).
        EXPECT_EQ(explicit_file.value().given_path, main_file);
    }
}

// Relaxed mode reads a policy others could change but says so; strict mode refuses it.
TEST(LoadPolicy, RelaxedModeTurnsOwnershipProblemsIntoWarnings) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    const std::string main_file = scratch.file("policy.yaml", kGoodMain, 0666);
    LoadReport strict_report;
    EXPECT_FALSE(load_policy_files(main_file, "", LoadOptions{}, strict_report).ok());
    EXPECT_TRUE(strict_report.warnings.empty());

    LoadReport relaxed_report;
    LoadOptions relaxed;
    relaxed.require_safe_ownership = false;
    Result<Policy> policy = load_policy_files(main_file, "", relaxed, relaxed_report);
    ASSERT_TRUE(policy.ok()) << all_errors(relaxed_report);
    ASSERT_EQ(relaxed_report.warnings.size(), 1u);
    EXPECT_NE(relaxed_report.warnings[0].message.find("is writable by others (mode 0666)"),
              std::string::npos);
}

// A policy without rules loads (it denies everything) with a warning.
TEST(LoadPolicy, WarnsWhenThereAreNoRules) {
    Scratch scratch;
    ASSERT_FALSE(scratch.root().empty());
    const std::string main_file = scratch.file("policy.yaml", "version: 1\nrules: []\n");
    LoadReport report;
    LoadOptions options;
    options.require_safe_ownership = false;
    ASSERT_TRUE(load_policy_files(main_file, "", options, report).ok());
    ASSERT_FALSE(report.warnings.empty());
    EXPECT_NE(report.warnings.back().message.find("no rules"), std::string::npos);
}

// ---- Sandboxes --------------------------------------------------------------------------------

// Without sandboxes or settings.sandbox, every rule runs in the built-in baseline: baseline
// seccomp and exec-once, nothing else.
TEST(PolicySandbox, BuiltInBaselineIsTheDefault) {
    const Parsed parsed = parse(rule_with(""));
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const Policy& policy = *parsed.policy;
    EXPECT_EQ(policy.settings.sandbox, "baseline");
    EXPECT_EQ(policy.settings.landlock, LandlockSetting::kAuto);
    ASSERT_EQ(policy.sandboxes.size(), 1u);
    const SandboxProfile* profile = policy.sandbox_for(policy.rules.at(0));
    ASSERT_NE(profile, nullptr);
    EXPECT_EQ(profile->name, "baseline");
    EXPECT_EQ(profile->source, "built-in");
    EXPECT_EQ(profile->seccomp, std::vector<SeccompProfile>{SeccompProfile::kBaseline});
    EXPECT_TRUE(profile->exec_once);
    EXPECT_FALSE(profile->landlock.has_value());
    EXPECT_FALSE(profile->umask.has_value());
    EXPECT_FALSE(profile->limits.cpu || profile->limits.address_space ||
                 profile->limits.processes || profile->limits.file_size ||
                 profile->limits.open_files);
    EXPECT_FALSE(profile->is_weaker_than_baseline());
    EXPECT_TRUE(parsed.report.warnings.empty());
}

// Every field of a profile lands in the model; rules pick theirs or settings.sandbox's.
TEST(PolicySandbox, ReadsEveryField) {
    const Parsed parsed = parse(R"(version: 1
sandboxes:
  logs:
    seccomp: [no-write, baseline, no-network]
    exec_once: true
    landlock: {mode: require, read: [/usr, /var/log], write: [], execute: [/usr]}
    limits: {cpu: 20s, address_space: 2GiB, processes: 64, file_size: 1MiB, open_files: 256}
    umask: "0077"
  empty: {}
settings:
  sandbox: logs
  landlock: off
rules:
  - id: a
    command: /usr/bin/a
  - id: b
    command: /usr/bin/b
    sandbox: empty
  - id: c
    command: /usr/bin/c
    sandbox: baseline
)");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const Policy& policy = *parsed.policy;
    EXPECT_EQ(policy.settings.landlock, LandlockSetting::kOff);
    const SandboxProfile* logs = policy.sandbox_for(policy.rules.at(0));
    ASSERT_NE(logs, nullptr);
    EXPECT_EQ(logs->name, "logs");
    EXPECT_EQ(logs->source, "t.yaml:3:3");
    EXPECT_EQ(logs->seccomp,
              (std::vector<SeccompProfile>{SeccompProfile::kNoWrite, SeccompProfile::kBaseline,
                                           SeccompProfile::kNoNetwork}));
    EXPECT_TRUE(logs->exec_once);
    ASSERT_TRUE(logs->landlock.has_value());
    EXPECT_EQ(logs->landlock->mode, LandlockRules::Mode::kRequire);
    EXPECT_EQ(logs->landlock->read, (std::vector<std::string>{"/usr", "/var/log"}));
    EXPECT_EQ(logs->landlock->write, std::vector<std::string>{});
    EXPECT_EQ(logs->landlock->execute, std::vector<std::string>{"/usr"});
    EXPECT_EQ(logs->limits.cpu, std::chrono::seconds(20));
    EXPECT_EQ(logs->limits.address_space, 2ull << 30);
    EXPECT_EQ(logs->limits.processes, 64u);
    EXPECT_EQ(logs->limits.file_size, 1u << 20);
    EXPECT_EQ(logs->limits.open_files, 256u);
    EXPECT_EQ(logs->umask, 077u);
    EXPECT_EQ(policy.sandbox_for(policy.rules.at(1))->name, "empty");
    EXPECT_EQ(policy.sandbox_for(policy.rules.at(1))->seccomp,
              std::vector<SeccompProfile>{SeccompProfile::kBaseline});
    EXPECT_EQ(policy.sandbox_for(policy.rules.at(2))->name, "baseline");
    EXPECT_TRUE(parsed.report.warnings.empty()) << parsed.report.warnings.front().full();
}

// Values that are accepted, and what the model holds for each.
TEST(PolicySandbox, AcceptsEachFormOfAValue) {
    struct Case {
        std::string name, lines;
        std::function<bool(const SandboxProfile&)> check;
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"cpu rounds up to a second", "    limits: {cpu: 1500ms}\n",
         [](const SandboxProfile& p) { return p.limits.cpu == std::chrono::seconds(2); }},
        {"cpu of 1ms is one second", "    limits: {cpu: 1ms}\n",
         [](const SandboxProfile& p) { return p.limits.cpu == std::chrono::seconds(1); }},
        {"cpu in minutes", "    limits: {cpu: 2m}\n",
         [](const SandboxProfile& p) { return p.limits.cpu == std::chrono::seconds(120); }},
        {"address space of 1024GiB", "    limits: {address_space: 1024GiB}\n",
         [](const SandboxProfile& p) { return p.limits.address_space == 1ull << 40; }},
        {"open_files of 16", "    limits: {open_files: 16}\n",
         [](const SandboxProfile& p) { return p.limits.open_files == 16u; }},
        {"umask of three digits", "    umask: 027\n",
         [](const SandboxProfile& p) { return p.umask == 027u; }},
        {"umask 0000", "    umask: \"0000\"\n", [](const SandboxProfile& p) { return p.umask == 0u; }},
        {"umask 0777", "    umask: \"0777\"\n",
         [](const SandboxProfile& p) { return p.umask == 0777u; }},
        {"landlock mode defaults to prefer", "    landlock: {write: [/tmp]}\n",
         [](const SandboxProfile& p) {
             return p.landlock && p.landlock->mode == LandlockRules::Mode::kPrefer &&
                    !p.landlock->read && !p.landlock->execute;
         }},
        {"landlock on /", "    landlock: {read: [/]}\n",
         [](const SandboxProfile& p) {
             return p.landlock && p.landlock->read == std::vector<std::string>{"/"};
         }},
        {"no seccomp profile at all", "    seccomp: []\n",
         [](const SandboxProfile& p) { return p.seccomp.empty() && p.exec_once; }},
        {"exec_once off", "    exec_once: false\n",
         [](const SandboxProfile& p) {
             return !p.exec_once && p.seccomp.size() == 1 && !p.exec_log;
         }},
        {"exec_log on", "    exec_once: false\n    exec_log: true\n",
         [](const SandboxProfile& p) { return !p.exec_once && p.exec_log; }},
        {"exec_log off with exec-once", "    exec_log: false\n",
         [](const SandboxProfile& p) { return p.exec_once && !p.exec_log; }},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Parsed parsed = parse("version: 1\nsandboxes:\n  s:\n" + c.lines +
                                    "rules:\n  - id: r\n    command: /usr/bin/r\n    sandbox: s\n");
        ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
        EXPECT_TRUE(c.check(parsed.policy->sandboxes.at("s")));
    }
}

// A policy may redefine `baseline`; rules that name none then use the redefinition.
TEST(PolicySandbox, RedefiningBaselineReplacesTheBuiltIn) {
    const Parsed parsed = parse(
        "version: 1\nsandboxes:\n  baseline: {seccomp: [baseline, no-network]}\n"
        "rules:\n  - id: r\n    command: /usr/bin/r\n");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const SandboxProfile* profile = parsed.policy->sandbox_for(parsed.policy->rules.at(0));
    ASSERT_NE(profile, nullptr);
    EXPECT_EQ(profile->source, "t.yaml:3:3");
    EXPECT_EQ(profile->seccomp.size(), 2u);
}

// The only way to a weaker sandbox is a profile that says so, and `bridle check` says so too.
TEST(PolicySandbox, WarnsAboutProfilesWeakerThanBaseline) {
    struct Case {
        std::string name, profile;
        std::vector<std::string> warnings;  // substrings, one per expected warning
    };
    // clang-format off
    const std::vector<Case> cases = {
        {"no seccomp", "{seccomp: []}", {"runs commands without the baseline seccomp profile; used by r"}},
        {"only no-write", "{seccomp: [no-write]}", {"without the baseline seccomp profile"}},
        {"exec_once off", "{exec_once: false}",
         {"without exec-once (the command may start other programs); used by r"}},
        {"exec_once off, execs logged", "{exec_once: false, exec_log: true}",
         {"without exec-once (the command may start other programs; each is recorded in "
          "BRIDLE_EXECS); used by r"}},
        {"nothing at all", "{seccomp: [], exec_once: false}",
         {"without the baseline seccomp profile and without exec-once"}},
        {"execute does not cover the program", "{landlock: {execute: [/usr/sbin]}}",
         {"rule 'r' runs /usr/bin/r, which the landlock execute paths of sandbox 's' do not cover"}},
        {"execute of / covers everything", "{landlock: {execute: [/]}}", {}},
        {"execute covers the program's directory", "{landlock: {execute: [/usr]}}", {}},
        {"execute names the program", "{landlock: {execute: [/usr/bin/r]}}", {}},
        {"a sibling directory is not a parent", "{landlock: {execute: [/usr/bi]}}", {"do not cover"}},
        {"baseline plus more", "{seccomp: [baseline, no-write, no-network]}", {}},
        {"namespaces off", "{namespaces: off}",
         {"without their own PID and IPC namespaces (the command can signal and re-limit every "
          "process of its account, bridle's included); used by r"}},
        {"namespaces require", "{namespaces: require}", {}},
        {"namespaces prefer", "{namespaces: prefer}", {}},
    };
    // clang-format on
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Parsed parsed =
            parse("version: 1\nsandboxes:\n  s: " + c.profile +
                  "\nrules:\n  - id: r\n    command: /usr/bin/r\n    sandbox: s\n");
        ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
        ASSERT_EQ(parsed.report.warnings.size(), c.warnings.size());
        for (std::size_t i = 0; i < c.warnings.size(); ++i) {
            EXPECT_NE(parsed.report.warnings[i].message.find(c.warnings[i]), std::string::npos)
                << parsed.report.warnings[i].full();
        }
    }
    // Unused weak profiles are pointed out as such.
    const Parsed unused = parse("version: 1\nsandboxes:\n  loose: {seccomp: []}\nrules: []\n");
    ASSERT_TRUE(unused.policy.has_value());
    ASSERT_EQ(unused.report.warnings.size(), 1u);
    EXPECT_NE(unused.report.warnings[0].message.find("no rule uses it"), std::string::npos);
    EXPECT_EQ(unused.report.warnings[0].location, "t.yaml:3:3");
}

// A profile with errors is reported once: the rules that name it add no "unknown sandbox".
TEST(PolicySandbox, AnInvalidProfileIsReportedOnlyWhereItIsDefined) {
    const Parsed parsed = parse(
        "version: 1\nsandboxes:\n  s: {seccomp: [nope]}\n"
        "rules:\n  - id: r\n    command: /usr/bin/r\n    sandbox: s\n");
    ASSERT_FALSE(parsed.policy.has_value());
    ASSERT_EQ(parsed.report.errors.size(), 1u) << all_errors(parsed.report);
    EXPECT_EQ(parsed.report.errors[0].location, "t.yaml:3:17");
}

// sandbox_for never falls back to "no sandbox": an unknown name gives nullptr (callers deny).
TEST(PolicySandbox, SandboxForAnUnknownNameIsNull) {
    Policy policy;
    Rule rule;
    EXPECT_EQ(policy.sandbox_for(rule), nullptr);  // not even the built-in without the loader
    policy.sandboxes["baseline"] = builtin_baseline_sandbox();
    EXPECT_EQ(policy.sandbox_for(rule), &policy.sandboxes["baseline"]);
    rule.sandbox = "gone";
    EXPECT_EQ(policy.sandbox_for(rule), nullptr);
}

// Fragments hold rules only, and their rules may use the main file's sandboxes.
TEST(PolicySandbox, FragmentRulesUseTheMainFilesSandboxes) {
    Scratch scratch;
    if (!scratch.safe()) GTEST_SKIP() << "needs root (strict ownership checks)";
    const std::string main_file = scratch.file(
        "policy.yaml",
        "version: 1\nsandboxes:\n  tight: {seccomp: [baseline, no-write]}\nrules: []\n");
    const std::string dir = scratch.dir("policy.d");
    scratch.file("policy.d/10-a.yaml",
                 "version: 1\nrules:\n  - id: a\n    command: /bin/a\n    sandbox: tight\n");
    LoadReport report;
    Result<Policy> policy = load_policy_files(main_file, dir, LoadOptions{}, report);
    ASSERT_TRUE(policy.ok()) << all_errors(report);
    EXPECT_EQ(policy.value().sandbox_for(policy.value().rules.at(0))->name, "tight");

    scratch.file("policy.d/20-b.yaml",
                 "version: 1\nsandboxes: {mine: {}}\nrules:\n  - id: b\n    command: /bin/b\n"
                 "    sandbox: mine\n");
    LoadReport bad;
    ASSERT_FALSE(load_policy_files(main_file, dir, LoadOptions{}, bad).ok());
    EXPECT_NE(all_errors(bad).find("sandboxes belong in the main policy file"), std::string::npos);
    EXPECT_NE(all_errors(bad).find("unknown sandbox 'mine'"), std::string::npos);
}

// ---- Golden files -------------------------------------------------------------------------------

std::string dump_spec(const ValueSpec& spec) {
    switch (spec.kind) {
        case ValueSpec::Kind::kRegex:
            return "regex '" + spec.regex_source + "'";
        case ValueSpec::Kind::kEnum: {
            std::string out = "enum";
            for (const std::string& choice : spec.choices) out += " '" + choice + "'";
            return out;
        }
        case ValueSpec::Kind::kInt:
            return "int " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
        case ValueSpec::Kind::kPath: {
            std::string out = "path";
            for (const std::string& dir : spec.under) out += " " + dir;
            if (spec.hard_links_allowed) out += " links=allow";
            if (spec.open_fd) out += " open=fd";
            switch (spec.path_type) {
                case ValueSpec::PathType::kFile:
                    return out + " type=file";
                case ValueSpec::PathType::kDirectory:
                    return out + " type=directory";
                case ValueSpec::PathType::kAny:
                default:
                    return out + " type=any";
            }
        }
        default:
            return "?";
    }
}

std::string dump_paths(const char* what, const std::optional<std::vector<std::string>>& paths) {
    if (!paths) return "";
    std::string out = std::string(" ") + what + "=[";
    for (std::size_t i = 0; i < paths->size(); ++i) out += (i ? " " : "") + (*paths)[i];
    return out + "]";
}

std::string dump_sandbox(const SandboxProfile& profile) {
    std::ostringstream out;
    std::string seccomp;
    for (const SeccompProfile p : profile.seccomp)
        seccomp += (seccomp.empty() ? "" : ",") + std::string(seccomp_profile_name(p));
    out << "sandbox " << profile.name << " at " << profile.source
        << " seccomp=" << (seccomp.empty() ? "none" : seccomp)
        << " exec_once=" << (profile.exec_once ? "yes" : "no")
        << (profile.exec_log ? " exec_log=yes" : "") << " umask=";
    if (profile.umask) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", *profile.umask);
        out << octal;
    } else {
        out << "default";
    }
    out << "\n";
    if (profile.landlock) {
        out << "  landlock mode="
            << (profile.landlock->mode == LandlockRules::Mode::kRequire ? "require" : "prefer")
            << dump_paths("read", profile.landlock->read)
            << dump_paths("write", profile.landlock->write)
            << dump_paths("execute", profile.landlock->execute) << "\n";
    }
    const ResourceLimits& l = profile.limits;
    if (l.cpu || l.address_space || l.processes || l.file_size || l.open_files) {
        out << "  limits";
        if (l.cpu) out << " cpu=" << l.cpu->count() << "s";
        if (l.address_space) out << " address_space=" << *l.address_space;
        if (l.processes) out << " processes=" << *l.processes;
        if (l.file_size) out << " file_size=" << *l.file_size;
        if (l.open_files) out << " open_files=" << *l.open_files;
        out << "\n";
    }
    return out.str();
}

// A stable text form of a parsed policy: one line per rule, then one per argument and option.
std::string dump_policy(const Policy& policy) {
    std::ostringstream out;
    out << "settings audit=journald timeout=" << policy.settings.timeout.count()
        << "ms max_output=" << policy.settings.max_output << " sandbox=" << policy.settings.sandbox
        << " landlock=" << (policy.settings.landlock == LandlockSetting::kOff ? "off" : "auto")
        << "\n";
    for (const auto& [name, value] : policy.settings.env)
        out << "env " << name << "=" << value << "\n";
    for (const auto& [name, profile] : policy.sandboxes) out << dump_sandbox(profile);
    for (const Rule& rule : policy.rules) {
        std::string keys;
        for (const std::string& key : rule.keys) keys += (keys.empty() ? "" : ",") + key;
        out << "rule " << rule.id << " at " << rule.source << " name=" << rule.name
            << " command=" << rule.command << " keys=" << (keys.empty() ? "*" : keys) << " timeout="
            << (rule.timeout ? std::to_string(rule.timeout->count()) + "ms" : "default")
            << " max_output=" << (rule.max_output ? std::to_string(*rule.max_output) : "default")
            << " stdin=" << (rule.stdin_allowed ? "yes" : "no")
            << " end_of_options=" << (rule.end_of_options ? "yes" : "no")
            << " sandbox=" << (rule.sandbox.empty() ? "default" : rule.sandbox) << " synopsis=\""
            << rule.synopsis() << "\"\n";
        if (!rule.summary.empty()) out << "  summary " << rule.summary << "\n";
        for (std::size_t i = 0; i < rule.args.size(); ++i) {
            const Arg& arg = rule.args[i];
            out << "  arg " << i + 1 << " ";
            if (arg.is_literal) {
                out << "literal '" << arg.literal << "'\n";
            } else {
                out << arg.name << " " << dump_spec(arg.spec) << "\n";
            }
        }
        for (const Option& option : rule.options) {
            std::string spellings;
            for (const std::string& s : option.spellings)
                spellings += (spellings.empty() ? "" : "|") + s;
            out << "  option " << spellings << " "
                << (option.is_flag ? std::string("flag") : dump_spec(option.value))
                << (option.required ? " required" : "") << "\n";
        }
    }
    return out.str();
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// tests/golden/policy/NNN-what.yaml -> NNN-what.ok: the model dump of a valid policy, or the
// error lines of an invalid one. Names containing "-fragment" are parsed as policy.d fragments.
// UPDATE_GOLDEN=1 rewrites the .ok files; review the diff.
TEST(PolicyGolden, MatchesTheRecordedOutput) {
    const std::string dir = std::string(BRIDLE_SOURCE_DIR) + "/tests/golden/policy";
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name.size() > 5 && name.substr(name.size() - 5) == ".yaml") names.push_back(name);
        }
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    ASSERT_FALSE(names.empty()) << "no golden cases in " << dir;
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        const bool is_main = name.find("-fragment") == std::string::npos;
        LoadReport report;
        Result<Policy> policy =
            parse_policy_text(read_text(dir + "/" + name), name, is_main, report);
        std::string got;
        if (policy) {
            got = dump_policy(policy.value());
        } else {
            for (const Error& e : report.errors) got += e.full() + "\n";
        }
        testing::expect_golden(dir + "/" + name.substr(0, name.size() - 5) + ".ok", got);
    }
}

std::string unescape_groff(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 2, "\\-") == 0) {
            out += '-', ++i;
        } else if (text.compare(i, 2, "\\&") == 0) {
            ++i;
        } else if (text.compare(i, 4, "\\(aq") == 0) {
            out += '\'', i += 3;
        } else if (text.compare(i, 4, "\\(dq") == 0) {
            out += '"', i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The text between `begin` (searched for after `after`) and the next `end`.
std::string excerpt(const std::string& text, const std::string& after, const std::string& begin,
                    const std::string& end) {
    const std::size_t anchor = text.find(after);
    if (anchor == std::string::npos) return "";
    const std::size_t start = text.find(begin, anchor);
    if (start == std::string::npos) return "";
    const std::size_t stop = text.find(end, start + begin.size());
    return text.substr(start + begin.size(), stop - start - begin.size());
}

// The example policies in bridle-policy(5) and policy/README.md parse, and the comment above
// each rule ("  # SYNOPSIS") is the synopsis bridle shows for it.
TEST(PolicyDocs, ExamplesParseAndShowTheirSynopses) {
    const std::string source = BRIDLE_SOURCE_DIR;
    // clang-format off
    const std::vector<std::pair<std::string, std::string>> examples = {
        {"bridle-policy.5",
         unescape_groff(excerpt(read_text(source + "/install/man/bridle-policy.5"), ".SH EXAMPLES",
                                ".EX\n", ".EE\n"))},
        {"policy/README.md", excerpt(read_text(source + "/policy/README.md"),
                                     "## An annotated example", "```yaml\n", "```\n")},
    };
    // clang-format on
    for (const auto& [name, yaml] : examples) {
        SCOPED_TRACE(name);
        ASSERT_FALSE(yaml.empty());
        LoadReport report;
        Result<Policy> policy = parse_policy_text(yaml, name, true, report);
        ASSERT_TRUE(policy.ok()) << all_errors(report);
        std::vector<std::string> comments;
        std::istringstream lines(yaml);
        for (std::string line; std::getline(lines, line);) {
            if (line.compare(0, 4, "  # ") == 0) comments.push_back(line.substr(4));
        }
        std::vector<std::string> synopses;
        for (const Rule& rule : policy.value().rules) synopses.push_back(rule.synopsis());
        EXPECT_EQ(comments, synopses);
    }
}

// The shipped policy parses (written by the lead; skipped until it exists).
TEST(PolicyShipped, DefaultPolicyParses) {
    const std::string path = std::string(BRIDLE_SOURCE_DIR) + "/policy/default.yaml";
    if (::access(path.c_str(), F_OK) != 0) GTEST_SKIP() << path << " does not exist yet";
    LoadReport report;
    Result<Policy> policy = parse_policy_text(read_text(path), path, true, report);
    EXPECT_TRUE(policy.ok()) << all_errors(report);
}

}  // namespace
}  // namespace bridle::policy

namespace bridle::policy {
namespace {

// Each policy text is refused, with an error that contains its message.
void expect_refused(const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [text, error] : cases) {
        SCOPED_TRACE(text);
        const Parsed parsed = parse(text);
        EXPECT_FALSE(parsed.policy.has_value());
        EXPECT_NE(all_errors(parsed.report).find(error), std::string::npos)
            << all_errors(parsed.report);
    }
}

// Tasks: `task` and `idle_timeout` on a rule, the spool, cap and retention in settings.
TEST(PolicyParse, ReadsTaskKeys) {
    const Parsed parsed = parse(
        "version: 1\nsettings:\n  task_spool: /srv/tasks\n  task_max_running: 7\n"
        "  task_retention: 2h\nrules:\n  - id: r\n    command: /bin/true\n    task: true\n"
        "    idle_timeout: 30s\n  - id: s\n    command: /bin/false\n");
    ASSERT_TRUE(parsed.policy.has_value()) << all_errors(parsed.report);
    const Settings& s = parsed.policy->settings;
    EXPECT_EQ(s.task_spool, "/srv/tasks");
    EXPECT_EQ(s.task_max_running, 7u);
    EXPECT_EQ(s.task_retention, std::chrono::hours(2));
    EXPECT_TRUE(parsed.policy->rules[0].task);
    EXPECT_EQ(parsed.policy->rules[0].idle_timeout, std::chrono::seconds(30));
    EXPECT_FALSE(parsed.policy->rules[1].task);
    EXPECT_FALSE(parsed.policy->rules[1].idle_timeout.has_value());
    const Parsed defaults = parse(rule_with(""));
    ASSERT_TRUE(defaults.policy.has_value()) << all_errors(defaults.report);
    EXPECT_EQ(defaults.policy->settings.task_spool, "/var/lib/bridle/tasks");
    EXPECT_EQ(defaults.policy->settings.task_max_running, 4u);
    EXPECT_EQ(defaults.policy->settings.task_retention, std::chrono::hours(24));
}

TEST(PolicyParse, RefusesBadTaskKeys) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"version: 1\nsettings:\n  task_spool: tasks\nrules: []\n", "must be an absolute path"},
        {"version: 1\nsettings:\n  task_max_running: 0\nrules: []\n", "between 1 and 1000"},
        {"version: 1\nsettings:\n  task_retention: 0s\nrules: []\n", "task_retention"},
        {rule_with("    task: yes\n"), "task must be true or false"},
        {rule_with("    idle_timeout: 0s\n"), "idle_timeout must be between 1ms and 24h"},
    };
    expect_refused(cases);
}

}  // namespace
}  // namespace bridle::policy

namespace bridle::policy {
namespace {

// settings.guardrails: the entries in order, the first that lists the key (or none) applies.
TEST(PolicyParse, ReadsGuardrails) {
    const std::string yaml =
        "version: 1\nsettings:\n  guardrails:\n"
        "    - {keys: [claude], requests_per_minute: 30, concurrent: 2, requests_per_day: 500}\n"
        "    - {concurrent: 8}\nrules: []\n";
    const std::optional<Policy> policy = parse(yaml).policy;
    ASSERT_TRUE(policy.has_value()) << all_errors(parse(yaml).report);
    const std::vector<Guardrail>& g = policy->settings.guardrails;
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[0].per_minute, 30u);
    EXPECT_EQ(g[0].concurrent, 2u);
    EXPECT_EQ(g[0].per_day, 500u);
    EXPECT_FALSE(g[1].per_minute.has_value());
    EXPECT_EQ(policy->settings.guardrail_for("claude"), &g[0]);
    EXPECT_EQ(policy->settings.guardrail_for("other"), &g[1]);
    EXPECT_EQ(policy->settings.guardrail_for(""), &g[1]);  // a request without --key
    const std::optional<Policy> none = parse(rule_with("")).policy;
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->settings.guardrail_for("claude"), nullptr);
}

TEST(PolicyParse, RefusesBadGuardrails) {
    const auto with = [](const std::string& entries) {
        return "version: 1\nsettings:\n  guardrails:\n" + entries + "rules: []\n";
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {with("    - {keys: [a]}\n"), "needs requests_per_minute, concurrent or requests_per_day"},
        {with("    - {requests_per_minute: 0}\n"), "between 1 and 10000"},
        {with("    - {requests_per_minute: 10001}\n"), "between 1 and 10000"},
        {with("    - {concurrent: 1001}\n"), "between 1 and 1000"},
        {with("    - {requests_per_day: -1}\n"), "between 1 and 1000000000"},
        {with("    - {concurrent: two}\n"), "guardrails concurrent"},
        {with("    - {concurrent: 1, burst: 3}\n"), "burst"},
        {with("    - {keys: [], concurrent: 1}\n"), "keys must name at least one key"},
        {with("    - {keys: ['bad key'], concurrent: 1}\n"), "is not valid"},
        {"version: 1\nsettings:\n  guardrails: {concurrent: 1}\nrules: []\n", "guardrails"},
    };
    expect_refused(cases);
}

}  // namespace
}  // namespace bridle::policy
