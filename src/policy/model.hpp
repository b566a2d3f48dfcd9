// SPDX-License-Identifier: Apache-2.0
// The policy as plain structs: what src/loader/ builds from YAML and matching reads.
// bridle-policy(5) documents every field; keep the two in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/approval.hpp"
#include "policy/redaction.hpp"
#include "policy/regex.hpp"
#include "policy/rule_list.hpp"

namespace bridle::policy {

// The type of a value the client supplies: a positional parameter or an option's value.
struct ValueSpec {
    enum class Kind { kRegex, kEnum, kInt, kPath };
    enum class PathType { kFile, kDirectory, kAny };

    Kind kind = Kind::kRegex;
    std::string regex_source;               // kRegex: as written; matched fully anchored
    std::shared_ptr<const Regex> regex;     // kRegex: parsed at load, compiled on first use
    std::vector<std::string> choices;       // kEnum: exact, case-sensitive
    std::int64_t min = 0, max = 0;          // kInt: inclusive range, ASCII decimal only
    std::vector<std::string> under;         // kPath: absolute, lexically normal directories
                                            // the canonical path must lie in (give real
                                            // paths: a symlinked one never matches)
    PathType path_type = PathType::kAny;    // kPath: what the canonical path must be
    bool hard_links_allowed = false;        // kPath `links: allow`: accept a regular file
                                            // with st_nlink > 1. Default refuse: a hard
                                            // link inside `under` can name a file outside
                                            // it, and canonicalising cannot tell
    std::vector<std::string> names;         // kPath `names:`: fnmatch(3) patterns, one of
                                            // which the canonical path's last component must
                                            // match ("*.log", "*.log.[0-9]"); empty: any
    bool final_symlink_refused = false;     // kPath `final_symlink: refuse`: the client's
                                            // path may not itself be a symlink
    std::optional<std::uint64_t> max_size;  // kPath `max_size:` (regular files): at most
                                            // this many bytes (re-checked on the fd)
    struct Glob {
        std::uint64_t max = 1;  // at most this many matches (1..16)
        bool hidden = false;    // names beginning with '.' match too
    };
    std::optional<Glob> glob;                 // kPath `glob: {max: N, hidden: B}` (positional
                                              // arguments, not with run_as): DIR/PATTERN with
                                              // an unquoted * or ? in its last component is
                                              // expanded by bridle in DIR, each match checked
    bool dot_components_refused = false;      // kPath `dots: refuse`: no `.`, `..` or empty
                                              // component in the client's spelling
    std::optional<std::uint64_t> max_length;  // `max_length: N`: at most N bytes (any kind)
    bool leading_dash_allowed = false;        // `leading_dash: allow` (positional arguments of a
                                              // rule with end_of_options): the value may begin
                                              // with '-', and is accepted only after the
                                              // client's "--", which bridle passes before it
    bool open_fd = false;                     // kPath `open: fd` (needs type: file): bridle
                                              // opens the file itself, no symlink followed,
                                              // checks the descriptor, and the program gets
                                              // /dev/fd/N. `open: name` (the default): the
                                              // program opens the canonical path by name

    // Short text for synopses, `name` being the binding name: regex "UNIT" (the name in
    // upper case), enum "{a|b}", int "1..2000", path "FILE:/var/log/..." or
    // "FILE:{/var/log|/srv/log}/..." (bridle-policy(5), SYNOPSES).
    std::string describe(const std::string& name) const;
};

// One positional argument of a rule: a literal word or a typed parameter.
struct Arg {
    bool is_literal = true;
    std::string literal;  // is_literal: the exact token
    std::string name;     // !is_literal: the binding name (from `param:` or `name:`)
    ValueSpec spec;       // !is_literal
};

// One option: several spellings of the same thing (-n, --lines). Short spellings are "-X",
// long ones "--word". A flag takes no value; any other option takes exactly one value,
// accepted as "-n 50", "-n50", "--lines 50" or "--lines=50".
struct Option {
    std::vector<std::string> spellings;  // spellings[0] is the canonical one passed to the program
    bool is_flag = false;
    ValueSpec value;        // !is_flag
    bool required = false;  // the client must give it
    bool attached = true;   // `attached: false`: only "-n 50" / "--lines 50",
                            // and bridle passes the value as its own word too
    std::string name() const { return spellings.front(); }
    // The word for its value in synopses and messages: the first long spelling without its
    // dashes ("--unit" -> "unit"), or "value" when there are only short ones. Pass it to
    // value.describe().
    std::string placeholder() const;
};

// Where a command stands: on its own, or in a pipeline (bridle-policy(5), PIPELINES).
enum class Place { kAlone, kFirst, kMiddle, kLast };
const char* place_name(Place place);  // "alone", "first", "middle", "last"

// The places a rule may take (`pipeline:`, which lists each one). Without the key: alone only.
struct PipelinePlaces {
    bool alone = true;    // `alone`: a request of its own (stdin per `stdin:`)
    bool first = false;   // `first`: its stdout is piped to the next stage
    bool middle = false;  // `middle`: its stdin and its stdout are pipes
    bool last = false;    // `last`: its stdin is piped from the stage before (not /dev/null)
    bool allows(Place place) const;
    bool in_pipeline() const { return first || middle || last; }
    std::vector<std::string> names() const;  // the places listed, in the order above
    std::string text() const;                // "alone, first"
};

struct Rule {
    std::string id;                 // unique across all files; [a-z0-9][a-z0-9._-]{0,63}
    std::string summary;            // one line for help; may be empty
    std::string command;            // absolute path that is exec'd
    std::string name;               // what the client types as argv[0]; default basename(command)
    std::vector<std::string> keys;  // empty: every key may use the rule
    std::vector<Arg> args;          // positional arguments, in order, all required
    std::vector<Option> options;    // may come in any order before, between or after args
    std::vector<std::string> fixed_before;  // words bridle puts right after argv[0], before the
                                            // client's part (--no-pager, find's -P); never typed
    std::vector<std::string> fixed_after;   // words bridle puts after the client's part (not
                                            // with end_of_options: they would be operands)
    bool bundle_flags = false;              // "-la" is "-l -a": each letter one of the options;
                                            // only the last may take a value (the next word)
    bool end_of_options = false;            // the client may type "--" before positionals; bridle
                                            // passes "--" before the first positional it execs
    std::optional<std::chrono::milliseconds> timeout;  // overrides settings.timeout
    std::optional<std::uint64_t> max_output;           // overrides settings.max_output
    std::map<std::string, std::string> env;  // added to settings.env for this rule, replacing
                                             // a variable of the same name (GIT_CONFIG_*, LC_ALL)
    bool escape_output = false;              // control characters other than \n and \t in the
                                             // command's output reach the client as \xHH
    bool redact = false;                     // secrets in the command's output (the built-in
                                             // patterns and settings.redact_patterns) reach
                                             // the client as [REDACTED] (policy/redaction.hpp)
    bool stdin_allowed = false;              // otherwise the command's stdin is /dev/null
    std::string sandbox;                     // name of a SandboxProfile; empty: settings.sandbox
    std::string source;                      // "file:line:col" of the rule, for messages
    std::string run_as;                      // empty: the account bridle runs as; else the user
                                             // the command runs as, through sudo and bridle's
                                             // target side (privilege/, docs/privilege.md)
    PipelinePlaces pipeline;                 // where it may stand in a pipeline; none: alone
    std::optional<std::uint64_t> capture;    // output capture: the first N bytes of stdout and of
                                             // stderr, and a SHA-256 of each whole stream, go into
                                             // the result record; 1B..1MiB; nullopt: no capture
    bool task = false;  // `task start` may run it detached (gate/task_gate.cpp, tasks(7) in
                        // bridle(8)); the same decision, sandbox and limits as a request
    std::optional<std::chrono::milliseconds> idle_timeout;  // killed after this long without
                                                            // output; distinct from timeout
    std::optional<ApprovalSpec> approval;  // `approval:`: a request waits for approvers before
                                           // it runs (src/approval/, bridle-policy(5) APPROVALS)

    bool allows_key(const std::string& key) const;
    // name, leading literal args, options ([optional], required bare), "[--]" when
    // end_of_options, then the other args:
    // "journalctl [-u|--unit UNIT] [-n|--lines 1..2000] --no-pager"; fixed words follow in
    // parentheses: "journalctl [-u|--unit UNIT] (bridle adds first: --no-pager)"
    std::string synopsis() const;
};

// What a files rule lets through (bridle-policy(5), FILES): `get` reads a file; `put` writes
// one, and with it come `versions` (the kept earlier contents) and `restore` (one of them back).
enum class FileVerb { kGet, kPut, kVersions, kRestore };
const char* file_verb_name(FileVerb verb);  // "get", "put", "versions", "restore"

// What a put's content must be. text: UTF-8 with no NUL and no control character but tab, CR
// and newline (configuration files); utf-8: any valid UTF-8; bytes: anything.
enum class ContentType { kText, kUtf8, kBytes };
const char* content_type_name(ContentType type);  // "text", "utf-8", "bytes"
std::string octal_mode(std::uint32_t mode);       // 0644 -> "0644"
// What makes `content` unfit for `type`, with the line and column of the first bad character;
// nullopt when it fits.
std::optional<std::string> content_problem(ContentType type, std::string_view content);

// One entry of `files:`: which paths the agent may read or write, and how a write is made.
// A write is atomic (a temporary file in the same directory, fsync, validator, rename, fsync of
// the directory), keeps the previous version, and is audited with both SHA-256 digests.
struct FileRule {
    std::string id;                    // unique across rules and files; same syntax as a rule id
    std::string summary;               // one line for help
    std::vector<std::string> exact;    // `paths:`: absolute, lexically normal paths
    std::vector<std::string> under;    // `under:`: directories (real paths) the file may lie in,
                                       // at any depth; the client's path is canonicalised first
    std::vector<std::string> names;    // fnmatch(3) patterns the last component must match
                                       // (under only; empty: any name)
    std::vector<std::string> except;   // fnmatch(3) patterns, `*` spanning `/`, on the whole
                                       // canonical path: never matched ("*.key")
    bool get = false;                  // `access:` lists get
    bool put = false;                  // `access:` lists put (versions and restore come with it)
    std::vector<std::string> keys;     // empty: every key may use the rule
    std::string run_as;                // empty: bridle's account; else the user the file is read
                                       // and written as, through sudo and bridle's target side
    std::string owner;                 // of a written file; empty: the writing user
    std::string group;                 // of a written file; empty: the writing user's group
    std::uint32_t mode = 0644;         // of a written file, unless the request picks `--mode`
    std::vector<std::uint32_t> modes;  // what `--mode` may pick (mode is always allowed)
    std::uint64_t max_size = 1024 * 1024;  // bytes of a put's content; 1B..64MiB
    ContentType content = ContentType::kText;
    bool create = false;            // a put may create a file that does not exist yet
    std::string validator;          // a rule id: run on the staged file before the rename
                                    // (its one path parameter gets the staged path)
    std::vector<std::string> then;  // rule ids a put or restore may name with --then: run after
                                    // the file is in place (a reload), values none
    bool diff = false;              // the content is not secret: a bounded unified diff
                                    // goes into the audit record (text content only)
    std::uint32_t versions = 5;     // earlier contents kept per path (0..100)
    std::optional<std::chrono::milliseconds> timeout;  // of the whole request (the upload
                                                       // included); settings.timeout otherwise
    std::string source;                                // "file:line:col"

    bool allows_key(const std::string& key) const;
    bool allows(FileVerb verb) const { return verb == FileVerb::kGet ? get : put; }
    // "put PATH:/etc/nginx/sites-available/{*.conf} [--mode {0644|0640}]", one per verb allowed.
    std::vector<std::string> synopses() const;
};

// The most a files rule may set as max_size.
constexpr std::uint64_t kMaxFileSize = 64ULL * 1024 * 1024;
constexpr std::uint32_t kMaxVersions = 100;

// The built-in seccomp profiles a sandbox combines (bridle-policy(5), SANDBOXES; docs/sandbox.md
// lists what each denies). Their names in the policy: baseline, no-network, no-write.
enum class SeccompProfile { kBaseline, kNoNetwork, kNoWrite };
const char* seccomp_profile_name(SeccompProfile profile);

// Landlock path sets. Each access class that is given is confined to its paths (an empty
// list forbids it everywhere); a class that is left out is not confined by Landlock.
struct LandlockRules {
    enum class Mode { kPrefer, kRequire };
    Mode mode = Mode::kPrefer;  // require: deny the request on a kernel without Landlock
    std::optional<std::vector<std::string>> read;   // read files, list directories
    std::optional<std::vector<std::string>> write;  // write, create, remove, rename, truncate
    std::optional<std::vector<std::string>>
        execute;  // execve (the program and its ELF interpreter)
};

// Resource limits of the command (setrlimit(2)); unset ones stay as bridle inherited them.
// Core dumps are always off (RLIMIT_CORE 0).
struct ResourceLimits {
    std::optional<std::chrono::seconds> cpu;     // RLIMIT_CPU; the policy's duration rounded up
    std::optional<std::uint64_t> address_space;  // RLIMIT_AS, bytes (kDefaultAddressSpace)
    std::optional<std::uint64_t> processes;      // RLIMIT_NPROC: per request inside the
                                                 // request's user namespace, else per
                                                 // real user id (kDefaultProcesses)
    std::optional<std::uint64_t> file_size;      // RLIMIT_FSIZE, bytes
    std::optional<std::uint64_t> open_files;     // RLIMIT_NOFILE
};

// The bounds a sandbox gets when its `limits` leave them out. `processes` is applied by default
// only where it counts the request alone (in the request's own user namespace: the kernel counts
// RLIMIT_NPROC per user namespace since Linux 5.14); elsewhere it would count every process of
// the account, so only a policy that sets it gets it. address_space binds each process.
constexpr std::uint64_t kDefaultProcesses = 256;
constexpr std::uint64_t kDefaultAddressSpace = 1ULL << 30;  // 1 GiB

// The second wall (docs/sandbox.md): the command runs under a bridle init in new PID and IPC
// namespaces, so it cannot name, signal or re-limit a process outside its request, and what it
// leaves behind (processes, SysV IPC, POSIX message queues) dies with the namespace. prefer: run
// without them where the kernel refuses (the result record says so); require: deny; off: never
// (`bridle check` warns).
enum class NamespaceMode { kPrefer, kRequire, kOff };
const char* namespace_mode_name(NamespaceMode mode);

// One named sandbox (top-level `sandboxes:`). The defaults are the built-in `baseline`: the
// only way to run a command less confined is a profile that says so.
struct SandboxProfile {
    std::string name;
    std::vector<SeccompProfile> seccomp{SeccompProfile::kBaseline};  // distinct, in policy order
    bool exec_once = true;  // the command may not execve anything after itself
    bool exec_log = false;  // with exec_once off: every execve/execveat of the command's tree
                            // is let through and recorded (BRIDLE_EXECS; docs/sandbox.md)
    std::optional<LandlockRules> landlock;  // nullopt: no Landlock section
    ResourceLimits limits;
    std::optional<std::uint32_t> umask;  // 0..0777; nullopt: 022
    NamespaceMode namespaces = NamespaceMode::kPrefer;
    std::string source;  // "file:line:col", or "built-in"

    // What `bridle check` warns about: no baseline seccomp, exec-once off, or namespaces off.
    bool is_weaker_than_baseline() const;
};

// The built-in profile `baseline`, used when neither the rule nor settings.sandbox names one.
SandboxProfile builtin_baseline_sandbox();
constexpr const char* kBaselineSandbox = "baseline";

// settings.audit: where the records go. Every sink named must take a record, or the request
// is refused (a command never runs unaudited).
enum class AuditSink { kJournald, kFile, kBoth };

// settings.audit_file: the file sink (JSON lines, one record a line), used by `file` and `both`.
struct AuditFile {
    std::string path = "/var/log/bridle/audit.jsonl";  // absolute; its directory must exist
    std::uint64_t max_size = 10 * 1024 * 1024;         // rotate when a record would pass it
    std::uint64_t max_files = 5;                       // rotated files kept: PATH.1 .. PATH.N
                                                       // (spdlog names them audit.1.jsonl ...)
};

// The tokenizer's own limit (command::kMaxRequestBytes); settings.max_request may only lower it.
constexpr std::uint64_t kMaxRequestLimit = 64 * 1024;
constexpr std::uint64_t kMaxWordsLimit = 4096;  // the largest settings.max_words

// settings.landlock: auto probes the kernel; off behaves as if it had no Landlock (rules
// that require it are denied). For tests and for kernels whose Landlock misbehaves.
enum class LandlockSetting { kAuto, kOff };

// One entry of settings.guardrails (bridle-policy(5), GUARDRAILS): how much one key may ask,
// counted per key across all its connections and sessions. The first entry that lists the key
// (or lists no keys) applies; a key no entry covers has no guardrails.
struct Guardrail {
    std::vector<std::string> keys;            // empty: every key
    std::optional<std::uint64_t> per_minute;  // requests_per_minute: in any 60 s; 1..10000
    std::optional<std::uint64_t> concurrent;  // concurrent: running at once; 1..1000
    std::optional<std::uint64_t> per_day;     // requests_per_day: per UTC day; 1..10^9
    std::string source;                       // "file:line:col"

    bool applies_to(const std::string& key) const;
};
constexpr std::uint64_t kMaxPerMinute = 10'000;
constexpr std::uint64_t kMaxConcurrent = 1'000;
constexpr std::uint64_t kMaxPerDay = 1'000'000'000;

struct Settings {
    AuditSink audit = AuditSink::kJournald;
    AuditFile audit_file;
    std::chrono::milliseconds timeout{60'000};  // per command unless the rule says; 1ms..24h
    std::uint64_t max_output = 1024 * 1024;     // bytes per stream; 1..1GiB
    std::map<std::string, std::string> env;     // the command's whole environment;
                                                // the loader puts default_environment()
                                                // here unless the policy sets env
    std::string sandbox = kBaselineSandbox;     // the sandbox of rules that name none
    LandlockSetting landlock = LandlockSetting::kAuto;
    std::uint64_t max_request = kMaxRequestLimit;  // bytes of one request (its text, or
                                                   // its words sent as argv); may only be
                                                   // lowered from the tokenizer's 64 KiB
    std::optional<std::uint64_t> max_words;        // words in one request, argv[0] included
    // What rules with redact: true replace: the built-in patterns, then the policy's own
    // (settings.redact_patterns, in order).
    std::shared_ptr<const RedactionPatterns> redaction = RedactionPatterns::builtin();
    // Tasks (`task start`): where their output is spooled (one directory per key and task),
    // how many may run at once per key, how long a finished task's output is kept.
    std::string task_spool = "/var/lib/bridle/tasks";          // absolute; must exist
    std::uint64_t task_max_running = 4;                        // per key; 1..1000
    std::chrono::milliseconds task_retention{24 * 3'600'000};  // 1s..365d
    // Guardrails per key; their counters live in the task spool (task_spool/UID/KEY/guard).
    std::vector<Guardrail> guardrails;
    // The entry that applies to `key`, or nullptr.
    const Guardrail* guardrail_for(const std::string& key) const;
};

struct Policy {
    Settings settings;
    std::map<std::string, SandboxProfile> sandboxes;  // by name; the loader always adds the
                                                      // built-in baseline unless redefined
    RuleList rules;                                   // in file order; first match wins
    std::vector<FileRule> file_rules;                 // `files:`, in file order; first match wins
    ApprovalSettings approvals;                       // `approvals:` (main file only)
    std::vector<std::string> files;                   // files it was loaded from, in order
    std::string given_path;  // --policy FILE as given, empty for the default: what a run_as
                             // rule's sudo call names, for every front end (sudoers lists it)
    std::string sha256;      // over the bytes of those files, in order
    std::string cache;       // what the loader found in the compiled policy cache: "" (none
                             // asked), "hit", "none", or "ignored: REASON" (BRIDLE_POLICY_CACHE)

    // The sandbox `rule` runs in: its own, else settings.sandbox. nullptr when that name is
    // not defined (the loader refuses such a policy; callers must deny, never run unconfined).
    const SandboxProfile* sandbox_for(const Rule& rule) const;

    // Whether a rule named `name` (Rule::name) allows `key`: a policy's own rule named `help`,
    // `task`, `approval` or a file verb wins over bridle's built-in request of that name.
    bool has_rule_for(std::string_view name, const std::string& key) const;

    // The whole environment `rule` runs with: settings.env, then the rule's env over it.
    std::map<std::string, std::string> environment_for(const Rule& rule) const;
};

// Default environment when the policy gives none: PATH, C.UTF-8 locale, HOME=/, a dumb
// terminal, `cat` as every pager (and secure-mode less/systemd pagers), no colours.
std::map<std::string, std::string> default_environment();

}  // namespace bridle::policy
