// SPDX-License-Identifier: Apache-2.0
// YAML policy files -> Policy, schema version 1 as bridle-policy(5) states it. The only user
// of yaml-cpp: its exceptions stop here and become "file:line:col: message".
#include "policy/loader.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "common/text.hpp"
#include "policy/file_checks.hpp"
#include "policy/sha256.hpp"

namespace bridle::policy {
namespace {

constexpr std::int64_t kMaxInteger = std::int64_t{1} << 53;
constexpr std::size_t kMaxErrorsPerFile = 200;
constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 30;         // max_output: 1GiB
constexpr std::uint64_t kMaxLimitSize = std::uint64_t{1} << 40;    // resource limits: 1024GiB

// ---- Lexical rules, shared by several keys --------------------------------------------------

struct CharClass {
    bool lower = false, upper = false, digit = false;
    std::string_view extra;
    bool has(char c) const {
        return (lower && c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') ||
               (digit && c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    }
};

// One character of `first`, then any number of `rest`, at most max_length in all.
bool is_word(std::string_view text, CharClass first, CharClass rest, std::size_t max_length) {
    if (text.empty() || text.size() > max_length || !first.has(text.front())) return false;
    return std::all_of(text.begin() + 1, text.end(), [&](char c) { return rest.has(c); });
}

constexpr std::size_t kMaxNameLength = 255;
bool is_rule_id(std::string_view s) {
    return is_word(s, {true, false, true, ""}, {true, false, true, "._-"}, 64);
}
bool is_program_name(std::string_view s) {
    return is_word(s, {true, true, true, ""}, {true, true, true, "._+-"}, kMaxNameLength);
}
bool is_key_name(std::string_view s) {
    return is_word(s, {true, true, true, ""}, {true, true, true, "._@-"}, kMaxNameLength);
}
// A Debian user name (adduser's NAME_REGEX, without the trailing $ of machine accounts).
bool is_user_name(std::string_view s) {
    return is_word(s, {true, false, false, "_"}, {true, false, true, "_-"}, 32);
}
bool is_binding_name(std::string_view s) {
    return is_word(s, {true, false, false, ""}, {true, false, true, "_"}, kMaxNameLength);
}
bool is_env_name(std::string_view s) {
    return is_word(s, {true, true, false, "_"}, {true, true, true, "_"}, kMaxNameLength);
}
bool is_short_option(std::string_view s) {
    return s.size() == 2 && s[0] == '-' && CharClass{true, true, true, ""}.has(s[1]);
}
bool is_long_option(std::string_view s) {
    return s.size() > 2 && s.substr(0, 2) == "--" &&
           is_word(s.substr(2), {true, true, true, ""}, {true, true, true, "-"}, kMaxNameLength);
}

// Every piece between separators, empty ones included: "a||b" -> {"a", "", "b"}.
std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> pieces;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(separator, start);
        pieces.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return pieces;
        start = end + 1;
    }
}

// Absolute and lexically normal: no empty, "." or ".." component, no trailing slash.
bool is_normal_absolute_path(std::string_view path) {
    if (path == "/") return true;
    if (path.empty() || path.front() != '/') return false;
    const std::vector<std::string_view> parts = split(path.substr(1), '/');
    return std::none_of(parts.begin(), parts.end(), [](std::string_view part) {
        return part.empty() || part == "." || part == "..";
    });
}

// What makes `text` unfit for a policy string, if anything: bad UTF-8 or a character that is
// invisible or controls the terminal.
std::optional<std::string> text_problem(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<CodePoint> cp = decode_utf8(text, i);
        if (!cp) return "invalid UTF-8 at byte " + std::to_string(i);
        if (std::optional<std::string> name = forbidden_character_name(cp->value)) return name;
        i += cp->length;
    }
    return std::nullopt;
}

// Decimal digits with an optional "-" (so that a negative bound gets its own message), no "+",
// no leading zeros; nullopt when malformed or beyond 2^53 either way.
std::optional<std::int64_t> parse_integer(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    if (text.empty() || text.size() > 16 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    if (value > kMaxInteger) return std::nullopt;
    return negative ? -value : value;
}

// "123unit" -> {123, "unit"}; the number is nullopt when it has no digits. Long digit runs
// saturate to UINT64_MAX so that callers report them as out of range.
struct Quantity {
    std::optional<std::uint64_t> number;
    std::string_view unit;
};
Quantity split_quantity(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    Quantity q{std::nullopt, text.substr(digits)};
    if (digits == 0) return q;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        if (value > 1'000'000'000'000'000ull) return {UINT64_MAX, q.unit};
        value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    q.number = value;
    return q;
}

std::string quoted(std::string_view text) {
    return "'" + escape_text(text, 80) + "'";
}

std::string join(std::initializer_list<std::string_view> words) {
    std::string out;
    for (const std::string_view word : words) {
        if (!out.empty()) out += ", ";
        out += word;
    }
    return out;
}

std::string location(const std::string& file, const YAML::Mark& mark) {
    if (mark.is_null()) return file;
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// ---- The reader -----------------------------------------------------------------------------

// A YAML value and where to point when it is wrong. A missing value (`key:`) has no useful
// mark of its own (yaml-cpp puts it on the next token), so it borrows its key's.
struct Field {
    YAML::Node node;
    YAML::Mark mark;
};

struct Entry {
    std::string key;
    YAML::Mark key_mark;
    Field value;
};
using Entries = std::vector<Entry>;

const Entry* find(const Entries& entries, std::string_view key) {
    for (const Entry& entry : entries) {
        if (entry.key == key) return &entry;
    }
    return nullptr;
}

enum class SpecUse { kParam, kOption, kArg };

// A value spec with the extra keys its use allows.
struct SpecFields {
    ValueSpec spec;
    bool required = false;            // kOption only
    bool attached = true;             // kOption only
    std::optional<std::string> name;  // kArg only
};

struct Param {
    std::string name;
    YAML::Mark mark;
    std::optional<ValueSpec> spec;  // nullopt when the spec had errors (already reported)
    int uses = 0;
};

// The distinct regexes of one load, by pattern: rules that share a pattern share its
// compilation (policy/regex.hpp).
using RegexPool = std::map<std::string, std::shared_ptr<const Regex>>;

class PolicyReader {
  public:
    // `compile`: compile each regex now and report the ones RE2 cannot (bridle check);
    // otherwise only their syntax is checked and the first request to reach one compiles it.
    PolicyReader(std::string file, RegexPool& regexes, bool compile)
        : file_(std::move(file)), regexes_(regexes), compile_(compile) {}

    void read_document(std::string_view yaml, bool is_main, Policy& policy);
    void fail(const YAML::Mark& mark, std::string message);
    // Appends what fail() collected to `errors` in file order (the reader visits a mapping's
    // keys before their values, so it finds them out of order), then a note if some were cut.
    void report_to(std::vector<Error>& errors);

  private:
    void fail_type(const Field& field, std::string_view what, std::string_view expected);

    std::optional<Entries> mapping(const Field& field, std::string_view what);
    void reject_unknown(const Entries& entries, std::initializer_list<std::string_view> allowed,
                        std::string_view what);
    std::optional<std::vector<Field>> list(const Field& field, std::string_view what);
    std::optional<std::string> text(const Field& field, std::string_view what);
    std::optional<bool> boolean(const Field& field, std::string_view what);
    std::optional<std::int64_t> integer(const Field& field, std::string_view what);
    std::optional<std::chrono::milliseconds> duration(const Field& field, std::string_view what);
    std::optional<std::uint64_t> size(const Field& field, std::string_view what,
                                      std::uint64_t max_bytes = kMaxSize);
    std::optional<std::string> normal_path(const Field& field, std::string_view what);

    bool read_version(const Field& field);
    void read_settings(const Field& field, Policy& policy);
    void read_sandboxes(const Field& field, Policy& policy);
    std::optional<SandboxProfile> read_sandbox(const std::string& name, const Field& field);
    std::optional<std::vector<SeccompProfile>> read_seccomp(const Field& field);
    std::optional<LandlockRules> read_landlock(const Field& field);
    std::optional<std::vector<std::string>> read_landlock_paths(const Field& field,
                                                                std::string_view what);
    bool read_limits(const Field& field, ResourceLimits& limits);
    std::optional<std::uint32_t> read_umask(const Field& field);
    void read_sandbox_reference(const Field& field, std::string_view what, std::string& name);
    void read_env(const Field& field, std::map<std::string, std::string>& env);
    void read_audit_file(const Field& field, AuditFile& audit_file);
    std::optional<Rule> read_rule(const Field& field);
    void read_keys(const Field& field, Rule& rule);
    void read_fixed_words(const Field& field, std::string_view what, std::vector<std::string>& words);
    void read_options(const Field& field, Rule& rule);
    void read_option_value(const Field& field, Option& option);
    std::vector<Param> read_params(const Field& field);
    void read_args(const Field& field, Rule& rule, std::vector<Param>& params);
    std::optional<Arg> read_literal(const Field& field, const Rule& rule);
    std::optional<SpecFields> read_value_spec(const Field& field, const Entries& entries,
                                              SpecUse use);
    bool read_regex(const Field& field, ValueSpec& spec);
    bool read_enum(const Field& field, ValueSpec& spec);
    bool read_int_range(const Field& field, ValueSpec& spec);
    bool read_path_spec(const Field& field, ValueSpec& spec);

    std::string file_;
    RegexPool& regexes_;
    bool compile_;
    const Policy* policy_ = nullptr;  // during read_document: the sandboxes defined so far
    std::vector<std::pair<YAML::Mark, std::string>> found_;
    std::size_t dropped_ = 0;
};

void PolicyReader::fail(const YAML::Mark& mark, std::string message) {
    // A file of garbage would otherwise bury the first, useful errors under thousands.
    if (found_.size() >= kMaxErrorsPerFile) {
        ++dropped_;
        return;
    }
    found_.emplace_back(mark, std::move(message));
}

void PolicyReader::report_to(std::vector<Error>& errors) {
    std::stable_sort(found_.begin(), found_.end(), [](const auto& a, const auto& b) {
        return a.first.line != b.first.line ? a.first.line < b.first.line
                                            : a.first.column < b.first.column;
    });
    for (auto& [mark, message] : found_)
        errors.push_back({std::move(message), location(file_, mark)});
    if (dropped_ > 0) {
        errors.push_back({"too many errors; " + std::to_string(dropped_) +
                              " more not shown: fix the ones above first",
                          file_});
    }
    found_.clear();
}

void PolicyReader::fail_type(const Field& field, std::string_view what, std::string_view expected) {
    std::string got;
    switch (field.node.Type()) {
        case YAML::NodeType::Map:
            got = "not a mapping";
            break;
        case YAML::NodeType::Sequence:
            got = "not a list";
            break;
        case YAML::NodeType::Scalar:
            got = "not " + quoted(field.node.Scalar());
            break;
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
        default:
            got = "but has no value";
            break;
    }
    fail(field.mark, std::string(what) + " must be " + std::string(expected) + ", " + got);
}

// The entries of a mapping in file order. yaml-cpp keeps a repeated key as a second entry
// (it never merges or drops one), so duplicates are found here and reported, not
// silently resolved (yaml-cpp issues #60, #651).
std::optional<Entries> PolicyReader::mapping(const Field& field, std::string_view what) {
    if (!field.node.IsMap()) {
        fail_type(field, what, "a mapping");
        return std::nullopt;
    }
    Entries entries;
    std::map<std::string, YAML::Mark> first_seen;
    for (YAML::const_iterator it = field.node.begin(); it != field.node.end(); ++it) {
        const YAML::Node key = it->first;  // copies: it-> points into a temporary proxy
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            fail(key.Mark(), "a key in " + std::string(what) + " must be a plain string");
            continue;
        }
        const auto [first, inserted] = first_seen.emplace(key.Scalar(), key.Mark());
        if (!inserted) {
            fail(key.Mark(), "duplicate key " + quoted(key.Scalar()) + " in " + std::string(what) +
                                 " (first at line " + std::to_string(first->second.line + 1) +
                                 ", column " + std::to_string(first->second.column + 1) + ")");
            continue;
        }
        const bool has_mark = !value.IsNull() && !value.Mark().is_null();
        entries.push_back(
            {key.Scalar(), key.Mark(), {value, has_mark ? value.Mark() : key.Mark()}});
    }
    return entries;
}

void PolicyReader::reject_unknown(const Entries& entries,
                                  std::initializer_list<std::string_view> allowed,
                                  std::string_view what) {
    for (const Entry& entry : entries) {
        if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
        fail(entry.key_mark, "unknown key " + quoted(entry.key) + " in " + std::string(what) +
                                 " (allowed: " + join(allowed) + ")");
    }
}

std::optional<std::vector<Field>> PolicyReader::list(const Field& field, std::string_view what) {
    if (!field.node.IsSequence()) {
        fail_type(field, what, "a list");
        return std::nullopt;
    }
    std::vector<Field> items;
    for (YAML::const_iterator it = field.node.begin(); it != field.node.end(); ++it) {
        const YAML::Node item = *it;
        const bool has_mark = !item.IsNull() && !item.Mark().is_null();
        items.push_back({item, has_mark ? item.Mark() : field.mark});
    }
    return items;
}

std::optional<std::string> PolicyReader::text(const Field& field, std::string_view what) {
    if (!field.node.IsScalar()) {
        fail_type(field, what, "a string");
        return std::nullopt;
    }
    const std::string& value = field.node.Scalar();
    if (std::optional<std::string> problem = text_problem(value)) {
        fail(field.mark, std::string(what) + " contains " + *problem);
        return std::nullopt;
    }
    return value;
}

// Only true and false: YAML 1.1's yes/no/on/off are refused, quoting does not matter.
std::optional<bool> PolicyReader::boolean(const Field& field, std::string_view what) {
    if (field.node.IsScalar() && field.node.Scalar() == "true") return true;
    if (field.node.IsScalar() && field.node.Scalar() == "false") return false;
    fail_type(field, what, "true or false");
    return std::nullopt;
}

std::optional<std::int64_t> PolicyReader::integer(const Field& field, std::string_view what) {
    std::optional<std::int64_t> value;
    if (field.node.IsScalar()) value = parse_integer(field.node.Scalar());
    if (!value) fail_type(field, what, "a decimal integer no larger than 2^53");
    return value;
}

std::optional<std::chrono::milliseconds> PolicyReader::duration(const Field& field,
                                                                std::string_view what) {
    static const std::map<std::string_view, std::uint64_t, std::less<>> kUnits = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
    const Quantity q = field.node.IsScalar() ? split_quantity(field.node.Scalar()) : Quantity{};
    const auto unit = kUnits.find(q.unit);
    if (!q.number || unit == kUnits.end()) {
        fail_type(field, what, "a duration: a whole number and a unit ms, s, m or h (500ms, 10s)");
        return std::nullopt;
    }
    constexpr std::uint64_t kMaxMs = 24 * 3'600'000;
    if (*q.number == 0 || *q.number > kMaxMs / unit->second) {
        fail(field.mark, std::string(what) + " must be between 1ms and 24h, not " +
                             quoted(field.node.Scalar()));
        return std::nullopt;
    }
    return std::chrono::milliseconds(*q.number * unit->second);
}

std::optional<std::uint64_t> PolicyReader::size(const Field& field, std::string_view what,
                                                std::uint64_t max_bytes) {
    static const std::map<std::string_view, std::uint64_t, std::less<>> kUnits = {
        {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024}};
    const Quantity q = field.node.IsScalar() ? split_quantity(field.node.Scalar()) : Quantity{};
    const auto unit = kUnits.find(q.unit);
    if (!q.number || unit == kUnits.end()) {
        fail_type(field, what, "a size: a whole number and a unit B, KiB, MiB or GiB (64KiB)");
        return std::nullopt;
    }
    if (*q.number == 0 || *q.number > max_bytes / unit->second) {
        fail(field.mark, std::string(what) + " must be between 1B and " +
                             std::to_string(max_bytes >> 30) + "GiB, not " +
                             quoted(field.node.Scalar()));
        return std::nullopt;
    }
    return *q.number * unit->second;
}

std::optional<std::string> PolicyReader::normal_path(const Field& field, std::string_view what) {
    std::optional<std::string> path = text(field, what);
    if (path && !is_normal_absolute_path(*path)) {
        fail(field.mark, std::string(what) + " must be an absolute path without ., .., // or " +
                             "a trailing /, not " + quoted(*path));
        return std::nullopt;
    }
    return path;
}

// ---- Document and settings -----------------------------------------------------------------

// Where a second YAML document starts, if there is one. yaml-cpp 0.7's LoadAll never returns
// on some inputs: it calls Parser::HandleNextDocument until that reports no more documents,
// and on a stream starting with a token the parser does not consume (",": jbeder/yaml-cpp#1040)
// that never happens. So the loader reads the first document with YAML::Load (one call) and
// asks the event parser about a second one, calling it at most twice.
class DocumentStarts final : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

std::optional<YAML::Mark> second_document(const std::string& text) {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts)) return std::nullopt;
    return starts.marks.size() > 1 ? starts.marks[1] : YAML::Mark();
}

void PolicyReader::read_document(std::string_view yaml, bool is_main, Policy& policy) {
    if (const std::size_t nul = yaml.find('\0'); nul != std::string_view::npos) {
        // yaml-cpp reads a NUL in unpredictable ways; refuse the file rather than guess.
        YAML::Mark mark;
        const std::string_view before = yaml.substr(0, nul);
        mark.line = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
        const std::size_t line_start = before.rfind('\n');
        mark.column =
            static_cast<int>(line_start == std::string_view::npos ? nul : nul - line_start - 1);
        fail(mark, "the file contains a NUL byte");
        return;
    }
    const std::string text(yaml);
    const YAML::Node document = YAML::Load(text);
    if (document.IsNull()) {
        fail(YAML::Mark(), "the policy is empty: it must be a mapping that starts with version: 1");
        return;
    }
    if (const std::optional<YAML::Mark> second = second_document(text)) {
        fail(*second, "a policy file holds one YAML document; remove this second one");
    }
    const Field root{document, document.Mark()};
    const std::optional<Entries> entries = mapping(root, "the top level");
    if (!entries) return;
    reject_unknown(*entries, {"version", "settings", "sandboxes", "rules"}, "the top level");
    policy_ = &policy;

    const Entry* version = find(*entries, "version");
    if (version == nullptr) {
        fail(root.mark, "missing version: 1 at the top level");
    } else if (!read_version(version->value)) {
        return;  // another schema: everything below would be noise
    }
    // Sandboxes before settings and rules, which refer to them by name.
    if (const Entry* sandboxes = find(*entries, "sandboxes")) {
        if (is_main) {
            read_sandboxes(sandboxes->value, policy);
        } else {
            fail(sandboxes->key_mark, "sandboxes belong in the main policy file");
        }
    }
    if (const Entry* settings = find(*entries, "settings")) {
        if (is_main) {
            read_settings(settings->value, policy);
        } else {
            fail(settings->key_mark, "settings belong in the main policy file");
        }
    }
    const Entry* rules = find(*entries, "rules");
    if (rules == nullptr) {
        fail(root.mark, "missing rules: (a list of rules, possibly empty)");
        return;
    }
    if (std::optional<std::vector<Field>> items = list(rules->value, "rules")) {
        for (const Field& item : *items) {
            if (std::optional<Rule> rule = read_rule(item)) {
                policy.rules.push_back(std::move(*rule));
            }
        }
    }
}

bool PolicyReader::read_version(const Field& field) {
    const std::optional<std::int64_t> version =
        field.node.IsScalar() ? parse_integer(field.node.Scalar()) : std::nullopt;
    if (!version) {
        fail_type(field, "version", "the integer 1");
        return true;
    }
    if (*version != 1) {
        fail(field.mark, "unsupported policy version " + std::to_string(*version) +
                             "; this bridle reads version 1");
        return false;
    }
    return true;
}

void PolicyReader::read_settings(const Field& field, Policy& policy) {
    Settings& settings = policy.settings;
    const std::optional<Entries> entries = mapping(field, "settings");
    if (!entries) return;
    reject_unknown(*entries, {"audit", "timeout", "max_output", "env", "sandbox", "landlock",
                              "audit_file", "max_request", "max_words"},
                   "settings");
    if (const Entry* audit = find(*entries, "audit")) {
        const std::optional<std::string> sink = text(audit->value, "audit");
        if (sink == "journald") {
            settings.audit = AuditSink::kJournald;
        } else if (sink == "file") {
            settings.audit = AuditSink::kFile;
        } else if (sink == "both") {
            settings.audit = AuditSink::kBoth;
        } else if (sink) {
            fail(audit->value.mark, "audit sink " + quoted(*sink) +
                                        " is not one of journald, file, both");
        }
    }
    if (const Entry* audit_file = find(*entries, "audit_file")) {
        read_audit_file(audit_file->value, settings.audit_file);
    }
    if (const Entry* timeout = find(*entries, "timeout")) {
        if (auto value = duration(timeout->value, "timeout")) settings.timeout = *value;
    }
    if (const Entry* max_output = find(*entries, "max_output")) {
        if (auto value = size(max_output->value, "max_output")) settings.max_output = *value;
    }
    if (const Entry* env = find(*entries, "env")) read_env(env->value, settings.env);
    if (const Entry* max_request = find(*entries, "max_request")) {
        // Only lower: the tokenizer refuses anything longer whatever the policy says.
        if (auto value = size(max_request->value, "settings.max_request")) {
            if (*value > kMaxRequestLimit) {
                fail(max_request->value.mark,
                     "settings.max_request may only lower the limit: at most 64KiB, not " +
                         quoted(max_request->value.node.Scalar()));
            } else {
                settings.max_request = *value;
            }
        }
    }
    if (const Entry* max_words = find(*entries, "max_words")) {
        const std::optional<std::int64_t> value = integer(max_words->value, "settings.max_words");
        if (value && (*value < 1 || static_cast<std::uint64_t>(*value) > kMaxWordsLimit)) {
            fail(max_words->value.mark, "settings.max_words must be between 1 and " +
                                            std::to_string(kMaxWordsLimit));
        } else if (value) {
            settings.max_words = static_cast<std::uint64_t>(*value);
        }
    }
    if (const Entry* sandbox = find(*entries, "sandbox")) {
        read_sandbox_reference(sandbox->value, "settings.sandbox", settings.sandbox);
    }
    if (const Entry* landlock = find(*entries, "landlock")) {
        const std::optional<std::string> value = text(landlock->value, "settings.landlock");
        if (value == "auto") {
            settings.landlock = LandlockSetting::kAuto;
        } else if (value == "off") {
            settings.landlock = LandlockSetting::kOff;
        } else if (value) {
            fail_type(landlock->value, "settings.landlock", "auto or off");
        }
    }
}

// settings.audit_file: {path, max_size, max_files}, each optional.
void PolicyReader::read_audit_file(const Field& field, AuditFile& audit_file) {
    const std::optional<Entries> entries = mapping(field, "settings.audit_file");
    if (!entries) return;
    reject_unknown(*entries, {"path", "max_size", "max_files"}, "settings.audit_file");
    if (const Entry* path = find(*entries, "path")) {
        std::optional<std::string> value = normal_path(path->value, "settings.audit_file.path");
        if (value == "/") {
            fail(path->value.mark, "settings.audit_file.path must name a file, not /");
        } else if (value) {
            audit_file.path = *value;
        }
    }
    if (const Entry* max_size = find(*entries, "max_size")) {
        if (auto value = size(max_size->value, "settings.audit_file.max_size")) {
            audit_file.max_size = *value;
        }
    }
    if (const Entry* max_files = find(*entries, "max_files")) {
        const std::optional<std::int64_t> value =
            integer(max_files->value, "settings.audit_file.max_files");
        if (value && (*value < 1 || *value > 1000)) {
            fail(max_files->value.mark, "settings.audit_file.max_files must be between 1 and 1000");
        } else if (value) {
            audit_file.max_files = static_cast<std::uint64_t>(*value);
        }
    }
}

void PolicyReader::read_env(const Field& field, std::map<std::string, std::string>& env) {
    const std::optional<Entries> entries = mapping(field, "env");
    if (!entries) return;
    env.clear();  // the policy's env is the whole environment, not additions to the default
    for (const Entry& entry : *entries) {
        if (!is_env_name(entry.key)) {
            fail(entry.key_mark, "environment variable name " + quoted(entry.key) +
                                     " is not valid: use letters, digits and _, not starting "
                                     "with a digit");
            continue;
        }
        if (entry.value.node.IsNull()) {
            fail(entry.value.mark,
                 "env " + entry.key + " has no value; write \"\" for an empty one");
            continue;
        }
        if (std::optional<std::string> value = text(entry.value, "env " + entry.key)) {
            env[entry.key] = *value;
        }
    }
}

// ---- Sandboxes ------------------------------------------------------------------------------

void PolicyReader::read_sandboxes(const Field& field, Policy& policy) {
    const std::optional<Entries> entries = mapping(field, "sandboxes");
    if (!entries) return;
    for (const Entry& entry : *entries) {
        if (!is_rule_id(entry.key)) {
            fail(entry.key_mark, "sandbox name " + quoted(entry.key) +
                                     " is not valid: use 1 to 64 of a-z 0-9 . _ -, starting "
                                     "with a letter or digit");
            continue;
        }
        // A profile with errors is still entered, so that rules naming it do not add an
        // "unknown sandbox" error to the one already reported (the policy is refused anyway).
        SandboxProfile profile = read_sandbox(entry.key, entry.value).value_or(SandboxProfile{});
        profile.name = entry.key;
        profile.source = location(file_, entry.key_mark);
        policy.sandboxes[entry.key] = std::move(profile);  // may replace the built-in baseline
    }
}

// Every key is optional: `name: {}` is the built-in baseline under another name.
std::optional<SandboxProfile> PolicyReader::read_sandbox(const std::string& name,
                                                         const Field& field) {
    if (field.node.IsNull()) {
        fail(field.mark, "sandbox " + quoted(name) + " has no value; write {} for the defaults");
        return std::nullopt;
    }
    const std::optional<Entries> entries = mapping(field, "a sandbox");
    if (!entries) return std::nullopt;
    reject_unknown(*entries, {"seccomp", "exec_once", "landlock", "limits", "umask", "namespaces"},
                   "a sandbox");
    SandboxProfile profile;
    profile.name = name;
    bool good = true;
    if (const Entry* seccomp = find(*entries, "seccomp")) {
        std::optional<std::vector<SeccompProfile>> profiles = read_seccomp(seccomp->value);
        good = good && profiles.has_value();
        if (profiles) profile.seccomp = std::move(*profiles);
    }
    if (const Entry* exec_once = find(*entries, "exec_once")) {
        const std::optional<bool> value = boolean(exec_once->value, "exec_once");
        good = good && value.has_value();
        profile.exec_once = value.value_or(true);
    }
    if (const Entry* landlock = find(*entries, "landlock")) {
        profile.landlock = read_landlock(landlock->value);
        good = good && profile.landlock.has_value();
    }
    if (const Entry* limits = find(*entries, "limits")) {
        good = read_limits(limits->value, profile.limits) && good;
    }
    if (const Entry* umask = find(*entries, "umask")) {
        profile.umask = read_umask(umask->value);
        good = good && profile.umask.has_value();
    }
    if (const Entry* namespaces = find(*entries, "namespaces")) {
        const std::optional<std::string> value = text(namespaces->value, "namespaces");
        static const std::map<std::string, NamespaceMode, std::less<>> kModes = {
            {"prefer", NamespaceMode::kPrefer},
            {"require", NamespaceMode::kRequire},
            {"off", NamespaceMode::kOff}};
        const auto known = value ? kModes.find(*value) : kModes.end();
        if (known != kModes.end()) {
            profile.namespaces = known->second;
        } else {
            if (value) fail_type(namespaces->value, "namespaces", "prefer, require or off");
            good = false;
        }
    }
    if (!good) return std::nullopt;
    return profile;
}

std::optional<std::vector<SeccompProfile>> PolicyReader::read_seccomp(const Field& field) {
    const std::optional<std::vector<Field>> items = list(field, "seccomp");
    if (!items) return std::nullopt;
    static const std::map<std::string, SeccompProfile, std::less<>> kProfiles = {
        {"baseline", SeccompProfile::kBaseline},
        {"no-network", SeccompProfile::kNoNetwork},
        {"no-write", SeccompProfile::kNoWrite}};
    std::vector<SeccompProfile> profiles;
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> name = text(item, "a seccomp profile");
        const auto known = name ? kProfiles.find(*name) : kProfiles.end();
        if (!name) {
            good = false;
        } else if (known == kProfiles.end()) {
            fail(item.mark, "unknown seccomp profile " + quoted(*name) +
                                " (built-in profiles: baseline, no-network, no-write)");
            good = false;
        } else if (std::find(profiles.begin(), profiles.end(), known->second) != profiles.end()) {
            fail(item.mark, "seccomp profile " + quoted(*name) + " is listed twice");
            good = false;
        } else {
            profiles.push_back(known->second);
        }
    }
    if (!good) return std::nullopt;
    return profiles;
}

std::optional<LandlockRules> PolicyReader::read_landlock(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "landlock");
    if (!entries) return std::nullopt;
    reject_unknown(*entries, {"mode", "read", "write", "execute"}, "landlock");
    LandlockRules rules;
    bool good = true;
    if (const Entry* mode = find(*entries, "mode")) {
        const std::optional<std::string> value = text(mode->value, "landlock mode");
        if (value == "prefer") {
            rules.mode = LandlockRules::Mode::kPrefer;
        } else if (value == "require") {
            rules.mode = LandlockRules::Mode::kRequire;
        } else {
            if (value) fail_type(mode->value, "landlock mode", "prefer or require");
            good = false;
        }
    }
    const std::pair<const char*, std::optional<std::vector<std::string>>*> classes[] = {
        {"read", &rules.read}, {"write", &rules.write}, {"execute", &rules.execute}};
    for (const auto& [key, paths] : classes) {
        if (const Entry* entry = find(*entries, key)) {
            *paths = read_landlock_paths(entry->value, key);
            good = good && paths->has_value();
        }
    }
    if (!find(*entries, "read") && !find(*entries, "write") && !find(*entries, "execute")) {
        fail(field.mark, "landlock must confine at least one of read, write or execute");
        good = false;
    }
    if (!good) return std::nullopt;
    return rules;
}

std::optional<std::vector<std::string>> PolicyReader::read_landlock_paths(const Field& field,
                                                                          std::string_view what) {
    const std::optional<std::vector<Field>> items = list(field, what);
    if (!items) return std::nullopt;
    std::vector<std::string> paths;
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> path = normal_path(item, "a path in landlock " +
                                                                      std::string(what));
        if (!path) {
            good = false;
        } else if (std::find(paths.begin(), paths.end(), *path) != paths.end()) {
            fail(item.mark, "path " + *path + " is listed twice");
            good = false;
        } else {
            paths.push_back(*path);
        }
    }
    if (!good) return std::nullopt;
    return paths;
}

bool PolicyReader::read_limits(const Field& field, ResourceLimits& limits) {
    const std::optional<Entries> entries = mapping(field, "limits");
    if (!entries) return false;
    reject_unknown(*entries, {"cpu", "address_space", "processes", "file_size", "open_files"},
                   "limits");
    bool good = true;
    if (const Entry* cpu = find(*entries, "cpu")) {
        // RLIMIT_CPU counts whole seconds: round up, so a limit never comes out stricter.
        if (const auto value = duration(cpu->value, "cpu")) {
            limits.cpu = std::chrono::ceil<std::chrono::seconds>(*value);
        } else {
            good = false;
        }
    }
    const std::pair<const char*, std::optional<std::uint64_t>*> sizes[] = {
        {"address_space", &limits.address_space}, {"file_size", &limits.file_size}};
    for (const auto& [key, target] : sizes) {
        if (const Entry* entry = find(*entries, key)) {
            *target = size(entry->value, key, kMaxLimitSize);
            good = good && target->has_value();
        }
    }
    // open_files: at least 16, as the child holds a few fds of its own while it sets up.
    const std::tuple<const char*, std::optional<std::uint64_t>*, std::int64_t, std::int64_t>
        counts[] = {{"processes", &limits.processes, 1, kMaxInteger},
                    {"open_files", &limits.open_files, 16, 1 << 20}};
    for (const auto& [key, target, min, max] : counts) {
        const Entry* entry = find(*entries, key);
        if (entry == nullptr) continue;
        const std::optional<std::int64_t> value = integer(entry->value, key);
        if (value && (*value < min || *value > max)) {
            fail(entry->value.mark, std::string(key) + " must be between " + std::to_string(min) +
                                        " and " + std::to_string(max) + ", not " +
                                        std::to_string(*value));
        } else if (value) {
            *target = static_cast<std::uint64_t>(*value);
            continue;
        }
        good = false;
    }
    return good;
}

// Three or four octal digits, as umask(1) prints them: "022", "0077".
std::optional<std::uint32_t> PolicyReader::read_umask(const Field& field) {
    const std::string value = field.node.IsScalar() ? field.node.Scalar() : "";
    std::uint32_t mask = 0;
    bool good = value.size() == 3 || value.size() == 4;
    for (const char c : value) {
        good = good && c >= '0' && c <= '7';
        mask = mask * 8 + static_cast<std::uint32_t>(c - '0');
    }
    if (!good || mask > 0777) {
        fail_type(field, "umask", "three or four octal digits such as \"0077\"");
        return std::nullopt;
    }
    return mask;
}

void PolicyReader::read_sandbox_reference(const Field& field, std::string_view what,
                                          std::string& name) {
    const std::optional<std::string> value = text(field, what);
    if (!value) return;
    if (policy_ != nullptr && policy_->sandboxes.count(*value) == 0) {
        std::string known;
        for (const auto& [defined, profile] : policy_->sandboxes) {
            known += (known.empty() ? "" : ", ") + defined;
        }
        fail(field.mark, "unknown sandbox " + quoted(*value) + " (defined: " + known +
                             "; sandboxes are defined under sandboxes: in the main file)");
        return;
    }
    name = *value;
}

// ---- Rules ----------------------------------------------------------------------------------

std::optional<Rule> PolicyReader::read_rule(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "a rule");
    if (!entries) return std::nullopt;
    reject_unknown(*entries,
                   {"id", "summary", "command", "name", "keys", "args", "params", "options",
                    "end_of_options", "timeout", "max_output", "stdin", "sandbox", "run_as",
                    "capture", "fixed_before", "fixed_after", "bundle_flags", "env",
                    "escape_output"},
                   "a rule");
    Rule rule;
    rule.source = location(file_, field.mark);

    if (const Entry* id = find(*entries, "id")) {
        if (std::optional<std::string> value = text(id->value, "id")) {
            if (is_rule_id(*value)) {
                rule.id = *value;
            } else {
                fail(id->value.mark, "rule id " + quoted(*value) +
                                         " is not valid: use 1 to 64 of a-z 0-9 . _ -, "
                                         "starting with a letter or digit");
            }
        }
    } else {
        fail(field.mark, "a rule needs an id");
    }
    if (const Entry* summary = find(*entries, "summary")) {
        rule.summary = text(summary->value, "summary").value_or("");
    }
    if (const Entry* command = find(*entries, "command")) {
        rule.command = normal_path(command->value, "command").value_or("");
        if (rule.command == "/") {
            fail(command->value.mark, "command must name a program, not /");
            rule.command.clear();
        }
    } else {
        fail(field.mark, "a rule needs a command (the absolute path bridle executes)");
    }

    if (const Entry* name = find(*entries, "name")) {
        if (std::optional<std::string> value = text(name->value, "name")) {
            if (is_program_name(*value)) {
                rule.name = *value;
            } else {
                fail(name->value.mark, "name " + quoted(*value) +
                                           " is not valid: use letters, digits and . _ + -, "
                                           "starting with a letter or digit");
            }
        }
    } else if (!rule.command.empty()) {
        const std::string base = rule.command.substr(rule.command.rfind('/') + 1);
        if (is_program_name(base)) {
            rule.name = base;
        } else {
            fail(find(*entries, "command")->value.mark,
                 "the program name " + quoted(base) +
                     " is not valid as what the client types; set name");
        }
    }

    if (const Entry* keys = find(*entries, "keys")) read_keys(keys->value, rule);
    // Options first: a literal argument may not look like one of them.
    if (const Entry* options = find(*entries, "options")) read_options(options->value, rule);
    std::vector<Param> params;
    if (const Entry* entry = find(*entries, "params")) params = read_params(entry->value);
    if (const Entry* args = find(*entries, "args")) read_args(args->value, rule, params);
    for (const Param& param : params) {
        if (param.uses == 0) {
            fail(param.mark, "parameter " + quoted(param.name) +
                                 " is never used: reference it in args as {param: " + param.name +
                                 "}");
        }
    }

    if (const Entry* end = find(*entries, "end_of_options")) {
        rule.end_of_options = boolean(end->value, "end_of_options").value_or(false);
    }
    if (const Entry* env = find(*entries, "env")) read_env(env->value, rule.env);
    if (const Entry* escape = find(*entries, "escape_output")) {
        rule.escape_output = boolean(escape->value, "escape_output").value_or(false);
    }
    if (const Entry* bundle = find(*entries, "bundle_flags")) {
        rule.bundle_flags = boolean(bundle->value, "bundle_flags").value_or(false);
    }
    if (const Entry* before = find(*entries, "fixed_before")) {
        read_fixed_words(before->value, "fixed_before", rule.fixed_before);
    }
    if (const Entry* after = find(*entries, "fixed_after")) {
        read_fixed_words(after->value, "fixed_after", rule.fixed_after);
        // After a client's "--" every word is an operand: a fixed option there would be read
        // as a file name, or worse, as whatever the program makes of it.
        if (rule.end_of_options) {
            fail(after->value.mark, "fixed_after cannot be used with end_of_options: true (the "
                                    "words would come after --); use fixed_before");
        }
    }
    // glob: only where one word becomes several operands, and never through sudo, whose
    // normal form is one word per argument.
    for (const Option& option : rule.options) {
        if (!option.is_flag && option.value.glob) {
            fail(field.mark, "option " + quoted(option.name()) + " has a path with glob, which "
                                 "only positional arguments may have");
        }
    }
    for (const Arg& arg : rule.args) {
        if (!arg.is_literal && arg.spec.glob && find(*entries, "run_as") != nullptr) {
            fail(field.mark, "argument " + quoted(arg.name) + " has a path with glob, which a "
                                 "run_as rule may not have");
        }
    }
    // A value that may begin with '-' is safe only after "--", which the client must type.
    for (const Arg& arg : rule.args) {
        if (!arg.is_literal && arg.spec.leading_dash_allowed && !rule.end_of_options) {
            fail(field.mark, "argument " + quoted(arg.name) +
                                 " has leading_dash: allow, which needs end_of_options: true");
        }
    }
    if (const Entry* timeout = find(*entries, "timeout")) {
        rule.timeout = duration(timeout->value, "timeout");
    }
    if (const Entry* max_output = find(*entries, "max_output")) {
        rule.max_output = size(max_output->value, "max_output");
    }
    if (const Entry* stdin_entry = find(*entries, "stdin")) {
        rule.stdin_allowed = boolean(stdin_entry->value, "stdin").value_or(false);
    }
    if (const Entry* sandbox = find(*entries, "sandbox")) {
        read_sandbox_reference(sandbox->value, "sandbox", rule.sandbox);
    }
    if (const Entry* run_as = find(*entries, "run_as")) {
        if (std::optional<std::string> user = text(run_as->value, "run_as")) {
            if (is_user_name(*user)) {
                rule.run_as = *user;
            } else {
                fail(run_as->value.mark, "run_as " + quoted(*user) +
                                             " is not a valid user name: use 1 to 32 of a-z 0-9 _ -, "
                                             "starting with a letter or _");
            }
        }
    }
    if (const Entry* capture = find(*entries, "capture")) {
        constexpr std::uint64_t kMaxCapture = 1024 * 1024;
        rule.capture = size(capture->value, "capture");
        if (rule.capture && *rule.capture > kMaxCapture) {
            fail(capture->value.mark, "capture must be at most 1MiB per stream, not " +
                                          quoted(capture->value.node.Scalar()));
            rule.capture.reset();
        }
    }
    return rule;
}

// fixed_before / fixed_after: a non-empty list of non-empty words, passed as they are.
void PolicyReader::read_fixed_words(const Field& field, std::string_view what,
                                    std::vector<std::string>& words) {
    const std::optional<std::vector<Field>> items = list(field, what);
    if (!items) return;
    if (items->empty()) {
        fail(field.mark, std::string(what) + " must list at least one word; leave it out for none");
        return;
    }
    for (const Field& item : *items) {
        const std::optional<std::string> word = text(item, "a word in " + std::string(what));
        if (!word) continue;
        if (word->empty()) {
            fail(item.mark, "a word in " + std::string(what) + " may not be empty");
        } else {
            words.push_back(*word);
        }
    }
}

void PolicyReader::read_keys(const Field& field, Rule& rule) {
    const std::optional<std::vector<Field>> items = list(field, "keys");
    if (!items) return;
    // An empty list would read as "every key" in the model: say so rather than fail open.
    if (items->empty()) {
        fail(field.mark, "keys must name at least one key; leave keys out to allow every key");
        return;
    }
    for (const Field& item : *items) {
        const std::optional<std::string> key = text(item, "a key name");
        if (!key) continue;
        if (!is_key_name(*key)) {
            fail(item.mark, "key name " + quoted(*key) +
                                " is not valid: use letters, digits and . _ @ -, starting with a "
                                "letter or digit");
        } else if (std::find(rule.keys.begin(), rule.keys.end(), *key) != rule.keys.end()) {
            fail(item.mark, "key " + quoted(*key) + " is listed twice");
        } else {
            rule.keys.push_back(*key);
        }
    }
}

void PolicyReader::read_options(const Field& field, Rule& rule) {
    const std::optional<Entries> entries = mapping(field, "options");
    if (!entries) return;
    std::set<std::string> spellings_seen;
    for (const Entry& entry : *entries) {
        Option option;
        for (const std::string_view piece : split(entry.key, '|')) {
            const std::string spelling(piece);
            if (!is_short_option(spelling) && !is_long_option(spelling)) {
                fail(entry.key_mark, "option spelling " + quoted(spelling) +
                                         " is not valid: write -X (one letter or digit) or "
                                         "--word, several joined with |");
            } else if (!spellings_seen.insert(spelling).second) {
                fail(entry.key_mark, "option " + spelling + " is given twice in this rule");
            } else {
                option.spellings.push_back(spelling);
            }
        }
        read_option_value(entry.value, option);
        if (!option.spellings.empty()) rule.options.push_back(std::move(option));
    }
}

void PolicyReader::read_option_value(const Field& field, Option& option) {
    if (!field.node.IsMap()) {
        if (field.node.IsScalar() && field.node.Scalar() == "flag") {
            option.is_flag = true;
        } else {
            fail_type(field, "an option", "flag or a value spec such as {regex: ...}");
        }
        return;
    }
    const std::optional<Entries> entries = mapping(field, "an option");
    if (!entries) return;
    if (const Entry* flag = find(*entries, "flag")) {
        reject_unknown(*entries, {"flag", "required"}, "a flag");
        const std::optional<bool> is_flag = boolean(flag->value, "flag");
        if (is_flag == false) {
            fail(flag->value.mark,
                 "flag: false has no meaning; an option that takes a value "
                 "needs a value spec (regex, enum, int or path)");
        }
        option.is_flag = true;
        if (const Entry* required = find(*entries, "required")) {
            option.required = boolean(required->value, "required").value_or(false);
        }
        return;
    }
    if (std::optional<SpecFields> spec = read_value_spec(field, *entries, SpecUse::kOption)) {
        option.value = std::move(spec->spec);
        option.required = spec->required;
        option.attached = spec->attached;
    }
}

std::vector<Param> PolicyReader::read_params(const Field& field) {
    std::vector<Param> params;
    const std::optional<Entries> entries = mapping(field, "params");
    if (!entries) return params;
    for (const Entry& entry : *entries) {
        if (!is_binding_name(entry.key)) {
            fail(entry.key_mark, "parameter name " + quoted(entry.key) +
                                     " is not valid: use a-z, 0-9 and _, starting with a letter");
            continue;
        }
        Param param{entry.key, entry.key_mark, std::nullopt, 0};
        if (const std::optional<Entries> spec_entries = mapping(entry.value, "a parameter")) {
            if (auto spec = read_value_spec(entry.value, *spec_entries, SpecUse::kParam)) {
                param.spec = std::move(spec->spec);
            }
        }
        params.push_back(std::move(param));
    }
    return params;
}

void PolicyReader::read_args(const Field& field, Rule& rule, std::vector<Param>& params) {
    const std::optional<std::vector<Field>> items = list(field, "args");
    if (!items) return;
    std::map<std::string, YAML::Mark> bindings;
    for (std::size_t position = 1; position <= items->size(); ++position) {
        const Field& item = (*items)[position - 1];
        if (item.node.IsScalar()) {
            if (std::optional<Arg> literal = read_literal(item, rule)) {
                rule.args.push_back(std::move(*literal));
            }
            continue;
        }
        if (!item.node.IsMap()) {
            fail_type(item, "an argument",
                      "a literal string or a mapping ({param: NAME} or a "
                      "value spec)");
            continue;
        }
        const std::optional<Entries> entries = mapping(item, "an argument");
        if (!entries) continue;
        Arg arg;
        arg.is_literal = false;
        if (const Entry* reference = find(*entries, "param")) {
            reject_unknown(*entries, {"param"}, "a parameter reference");
            const std::optional<std::string> name = text(reference->value, "param");
            if (!name) continue;
            const auto param = std::find_if(params.begin(), params.end(),
                                            [&](const Param& p) { return p.name == *name; });
            if (param == params.end()) {
                fail(reference->value.mark,
                     "parameter " + quoted(*name) + " is not defined in params");
                continue;
            }
            if (++param->uses > 1) {
                fail(reference->value.mark, "parameter " + quoted(*name) +
                                                " is used twice; each parameter is used exactly "
                                                "once");
                continue;
            }
            if (!param->spec) continue;  // its own errors are already reported
            arg.name = *name;
            arg.spec = *param->spec;
        } else {
            std::optional<SpecFields> spec = read_value_spec(item, *entries, SpecUse::kArg);
            if (!spec) continue;
            arg.name = spec->name.value_or("arg" + std::to_string(position));
            arg.spec = std::move(spec->spec);
        }
        const auto [first, inserted] = bindings.emplace(arg.name, item.mark);
        if (!inserted) {
            fail(item.mark, "binding name " + quoted(arg.name) + " is used twice in this rule");
            continue;
        }
        rule.args.push_back(std::move(arg));
    }
}

// A literal must not be something the matcher could read as an option of the same rule
// ("-n", "-n5", "--lines=5"), or "--", which only end_of_options controls.
std::optional<Arg> PolicyReader::read_literal(const Field& field, const Rule& rule) {
    const std::optional<std::string> literal = text(field, "a literal argument");
    if (!literal) return std::nullopt;
    if (literal->empty()) {
        fail(field.mark, "a literal argument must not be empty");
        return std::nullopt;
    }
    if (*literal == "--") {
        fail(field.mark,
             "-- cannot be a literal argument; set end_of_options: true to let the "
             "client type it");
        return std::nullopt;
    }
    for (const Option& option : rule.options) {
        for (const std::string& spelling : option.spellings) {
            const bool same = *literal == spelling;
            const bool attached = !option.is_flag && literal->size() > spelling.size() &&
                                  literal->compare(0, spelling.size(), spelling) == 0 &&
                                  (is_short_option(spelling) || (*literal)[spelling.size()] == '=');
            if (same || attached) {
                fail(field.mark, "literal argument " + quoted(*literal) +
                                     " would be read as option " + spelling + " of this rule");
                return std::nullopt;
            }
        }
    }
    Arg arg;
    arg.literal = *literal;
    return arg;
}

// ---- Value specs ----------------------------------------------------------------------------

std::optional<SpecFields> PolicyReader::read_value_spec(const Field& field, const Entries& entries,
                                                        SpecUse use) {
    if (const Entry* required = find(entries, "required"); required && use != SpecUse::kOption) {
        fail(required->key_mark,
             "required applies to options only; positional arguments are "
             "always required");
    }
    switch (use) {
        case SpecUse::kParam:
            reject_unknown(entries,
                           {"regex", "enum", "int", "path", "required", "leading_dash", "max_length"},
                           "a parameter");
            break;
        case SpecUse::kOption:
            reject_unknown(entries,
                           {"regex", "enum", "int", "path", "required", "attached", "max_length"},
                           "an option");
            break;
        case SpecUse::kArg:
            reject_unknown(entries,
                           {"regex", "enum", "int", "path", "name", "required", "leading_dash",
                            "max_length"},
                           "an argument");
            break;
        default:
            break;
    }
    const Entry* kind = nullptr;
    for (const Entry& entry : entries) {
        if (entry.key != "regex" && entry.key != "enum" && entry.key != "int" &&
            entry.key != "path") {
            continue;
        }
        if (kind != nullptr) {
            fail(entry.key_mark,
                 "a value spec takes exactly one of regex, enum, int or path; "
                 "this one has both " +
                     kind->key + " and " + entry.key);
            return std::nullopt;
        }
        kind = &entry;
    }
    if (kind == nullptr) {
        fail(field.mark, "a value spec needs one of regex, enum, int or path");
        return std::nullopt;
    }
    SpecFields result;
    bool good = false;
    if (kind->key == "regex") {
        good = read_regex(kind->value, result.spec);
    } else if (kind->key == "enum") {
        good = read_enum(kind->value, result.spec);
    } else if (kind->key == "int") {
        good = read_int_range(kind->value, result.spec);
    } else {
        good = read_path_spec(kind->value, result.spec);
    }
    if (const Entry* required = find(entries, "required"); required && use == SpecUse::kOption) {
        const std::optional<bool> value = boolean(required->value, "required");
        good = good && value.has_value();
        result.required = value.value_or(false);
    }
    if (const Entry* max_length = find(entries, "max_length")) {
        const std::optional<std::int64_t> value = integer(max_length->value, "max_length");
        if (value && (*value < 1 || static_cast<std::uint64_t>(*value) > kMaxRequestLimit)) {
            fail(max_length->value.mark, "max_length must be between 1 and " +
                                             std::to_string(kMaxRequestLimit) + " (bytes)");
            good = false;
        } else if (value) {
            result.spec.max_length = static_cast<std::uint64_t>(*value);
        } else {
            good = false;
        }
    }
    if (const Entry* attached = find(entries, "attached"); attached && use == SpecUse::kOption) {
        const std::optional<bool> value = boolean(attached->value, "attached");
        good = good && value.has_value();
        result.attached = value.value_or(true);
    }
    if (const Entry* dash = find(entries, "leading_dash"); dash && use != SpecUse::kOption) {
        const std::optional<std::string> value = text(dash->value, "leading_dash");
        if (value == "allow") {
            result.spec.leading_dash_allowed = true;
        } else if (value != "refuse") {
            if (value) fail_type(dash->value, "leading_dash", "allow or refuse");
            good = false;
        }
    }
    if (const Entry* name = find(entries, "name"); name && use == SpecUse::kArg) {
        const std::optional<std::string> value = text(name->value, "name");
        if (value && !is_binding_name(*value)) {
            fail(name->value.mark, "binding name " + quoted(*value) +
                                       " is not valid: use a-z, 0-9 and _, starting with a letter");
        }
        good = good && value && is_binding_name(*value);
        result.name = value;
    }
    if (!good) return std::nullopt;
    return result;
}

bool PolicyReader::read_regex(const Field& field, ValueSpec& spec) {
    const std::optional<std::string> source = text(field, "regex");
    if (!source) return false;
    if (source->empty()) {
        fail(field.mark, "regex must not be empty");
        return false;
    }
    std::shared_ptr<const Regex>& regex = regexes_[*source];
    std::string error;
    if (!regex) regex = Regex::parse(*source, error);
    if (regex && compile_) error = regex->compile_error();
    if (!error.empty()) {
        fail(field.mark, "invalid regex " + quoted(*source) + ": " + error);
        return false;
    }
    spec.kind = ValueSpec::Kind::kRegex;
    spec.regex_source = *source;
    spec.regex = regex;
    return true;
}

bool PolicyReader::read_enum(const Field& field, ValueSpec& spec) {
    const std::optional<std::vector<Field>> items = list(field, "enum");
    if (!items) return false;
    if (items->empty()) {
        fail(field.mark, "enum needs at least one choice");
        return false;
    }
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> choice = text(item, "an enum choice");
        if (!choice) {
            good = false;
        } else if (choice->empty()) {
            fail(item.mark, "an enum choice must not be empty");
            good = false;
        } else if (choice->front() == '-') {
            fail(item.mark, "enum choice " + quoted(*choice) +
                                " begins with -, and bridle never accepts a value that does");
            good = false;
        } else if (std::find(spec.choices.begin(), spec.choices.end(), *choice) !=
                   spec.choices.end()) {
            fail(item.mark, "enum choice " + quoted(*choice) + " is listed twice");
            good = false;
        } else {
            spec.choices.push_back(*choice);
        }
    }
    spec.kind = ValueSpec::Kind::kEnum;
    return good;
}

bool PolicyReader::read_int_range(const Field& field, ValueSpec& spec) {
    const std::optional<std::vector<Field>> items = list(field, "int");
    if (!items) return false;
    if (items->size() != 2) {
        fail(field.mark, "int must be a list of two integers [MIN, MAX]");
        return false;
    }
    const std::optional<std::int64_t> min = integer((*items)[0], "the minimum");
    const std::optional<std::int64_t> max = integer((*items)[1], "the maximum");
    if (!min || !max) return false;
    if (*min < 0) {
        fail((*items)[0].mark, "the minimum must not be negative");
        return false;
    }
    if (*min > *max) {
        fail(field.mark, "the minimum " + std::to_string(*min) + " is larger than the maximum " +
                             std::to_string(*max));
        return false;
    }
    spec.kind = ValueSpec::Kind::kInt;
    spec.min = *min;
    spec.max = *max;
    return true;
}

bool PolicyReader::read_path_spec(const Field& field, ValueSpec& spec) {
    const std::optional<Entries> entries = mapping(field, "path");
    if (!entries) return false;
    reject_unknown(*entries,
                   {"under", "type", "links", "open", "names", "final_symlink", "max_size", "dots",
                    "glob"},
                   "path");
    spec.kind = ValueSpec::Kind::kPath;
    bool good = true;
    const Entry* under = find(*entries, "under");
    if (under == nullptr) {
        fail(field.mark, "path needs under: a list of directories the path must lie in");
        good = false;
    } else if (std::optional<std::vector<Field>> dirs = list(under->value, "under")) {
        if (dirs->empty()) {
            fail(under->value.mark, "under must list at least one directory");
            good = false;
        }
        for (const Field& dir : *dirs) {
            const std::optional<std::string> path = normal_path(dir, "a directory in under");
            if (!path) {
                good = false;
            } else if (std::find(spec.under.begin(), spec.under.end(), *path) != spec.under.end()) {
                fail(dir.mark, "directory " + *path + " is listed twice");
                good = false;
            } else {
                spec.under.push_back(*path);
            }
        }
    } else {
        good = false;
    }
    if (const Entry* type = find(*entries, "type")) {
        const std::optional<std::string> value = text(type->value, "type");
        if (value == "file") {
            spec.path_type = ValueSpec::PathType::kFile;
        } else if (value == "directory") {
            spec.path_type = ValueSpec::PathType::kDirectory;
        } else if (value == "any") {
            spec.path_type = ValueSpec::PathType::kAny;
        } else {
            if (value) fail_type(type->value, "type", "file, directory or any");
            good = false;
        }
    }
    if (const Entry* links = find(*entries, "links")) {
        const std::optional<std::string> value = text(links->value, "links");
        if (value == "allow") {
            spec.hard_links_allowed = true;
        } else if (value != "refuse") {
            if (value) fail_type(links->value, "links", "allow or refuse");
            good = false;
        }
    }
    if (const Entry* names = find(*entries, "names")) {
        const std::optional<std::vector<Field>> patterns = list(names->value, "names");
        if (!patterns || patterns->empty()) {
            if (patterns) fail(names->value.mark, "names must list at least one pattern");
            good = false;
        } else {
            for (const Field& item : *patterns) {
                const std::optional<std::string> pattern = text(item, "a pattern in names");
                // One component: a '/' could never match, and an empty pattern matches nothing.
                if (!pattern || pattern->empty() || pattern->find('/') != std::string::npos) {
                    if (pattern) fail(item.mark, "a pattern in names must be a non-empty file name pattern without /");
                    good = false;
                } else {
                    spec.names.push_back(*pattern);
                }
            }
        }
    }
    if (const Entry* glob = find(*entries, "glob")) {
        if (const std::optional<Entries> fields = mapping(glob->value, "glob")) {
            reject_unknown(*fields, {"max", "hidden"}, "glob");
            ValueSpec::Glob settings;
            const Entry* max = find(*fields, "max");
            const std::optional<std::int64_t> count =
                max != nullptr ? integer(max->value, "glob.max") : std::nullopt;
            if (max == nullptr) {
                fail(glob->value.mark, "glob needs max: the most matches it may expand to (1 to 16)");
                good = false;
            } else if (!count || *count < 1 || *count > 16) {
                if (count) fail(max->value.mark, "glob.max must be between 1 and 16");
                good = false;
            } else {
                settings.max = static_cast<std::uint64_t>(*count);
            }
            if (const Entry* hidden = find(*fields, "hidden")) {
                const std::optional<bool> value = boolean(hidden->value, "glob.hidden");
                good = good && value.has_value();
                settings.hidden = value.value_or(false);
            }
            spec.glob = settings;
        } else {
            good = false;
        }
    }
    if (const Entry* final_symlink = find(*entries, "final_symlink")) {
        const std::optional<std::string> value = text(final_symlink->value, "final_symlink");
        if (value == "refuse") {
            spec.final_symlink_refused = true;
        } else if (value != "follow") {
            if (value) fail_type(final_symlink->value, "final_symlink", "follow or refuse");
            good = false;
        }
    }
    if (const Entry* max_size = find(*entries, "max_size")) {
        spec.max_size = size(max_size->value, "max_size");
        good = good && spec.max_size.has_value();
    }
    if (const Entry* dots = find(*entries, "dots")) {
        const std::optional<std::string> value = text(dots->value, "dots");
        if (value == "refuse") {
            spec.dot_components_refused = true;
        } else if (value != "resolve") {
            if (value) fail_type(dots->value, "dots", "resolve or refuse");
            good = false;
        }
    }
    if (const Entry* open = find(*entries, "open")) {
        const std::optional<std::string> value = text(open->value, "open");
        if (value == "fd") {
            spec.open_fd = true;
            // /dev/fd/N stands for one opened file; a directory would be listed under that
            // name, and "any" could be a device or a FIFO.
            if (spec.path_type != ValueSpec::PathType::kFile) {
                fail(open->value.mark, "open: fd needs type: file");
                good = false;
            }
        } else if (value != "name") {
            if (value) fail_type(open->value, "open", "fd or name");
            good = false;
        }
    }
    return good;
}

// ---- Files ----------------------------------------------------------------------------------

// Parses one file into `policy` (settings only from the main file; rules appended) and
// reports every problem. Never throws.
void parse_into(std::string_view yaml, const std::string& name, bool is_main, RegexPool& regexes,
                bool compile_regexes, std::vector<Error>& errors, Policy& policy) {
    PolicyReader reader(name, regexes, compile_regexes);
    try {
        reader.read_document(yaml, is_main, policy);
    } catch (const YAML::Exception& e) {
        reader.fail(e.mark, e.msg);
    } catch (const std::exception& e) {
        reader.fail(YAML::Mark::null_mark(), std::string("cannot read the policy: ") + e.what());
    }
    reader.report_to(errors);
}

// Reports, at the later rule, every rule whose id an earlier one already has.
void reject_duplicate_ids(const std::vector<Rule>& rules, std::vector<Error>& errors) {
    std::map<std::string, const Rule*> first;
    for (const Rule& rule : rules) {
        if (rule.id.empty()) continue;  // an invalid id, already reported
        const auto [it, inserted] = first.emplace(rule.id, &rule);
        if (!inserted) {
            errors.push_back({"duplicate rule id " + quoted(rule.id) + ": first defined at " +
                                  it->second->source,
                              rule.source});
        }
    }
}

// The fragments in `dir` in byte order: names ending in .yaml, hidden names skipped (editors
// put lock files and swap files there). A missing directory has no fragments.
std::vector<std::string> fragment_files(const std::string& dir, const LoadOptions& options,
                                        LoadReport& report) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return {};
    Status trusted = check_trusted_directory(dir, options.require_safe_ownership, report.warnings);
    if (!trusted) {
        report.errors.push_back(trusted.error());
        return {};
    }
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
        report.errors.push_back({"cannot list " + dir + ": " + std::strerror(errno), ""});
        return {};
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name.front() == '.' || name.size() <= 5 || name.substr(name.size() - 5) != ".yaml") {
            continue;
        }
        names.emplace_back(name);
    }
    ::closedir(stream);
    std::sort(names.begin(), names.end());  // std::char_traits<char> compares as unsigned bytes
    std::vector<std::string> paths;
    for (const std::string& name : names) paths.push_back(dir + "/" + name);
    return paths;
}

// What `bridle check` should point out about sandboxes: profiles weaker than the built-in
// baseline (the only way to run a command less confined), and Landlock execute sets that do
// not cover a rule's program (it could not start; the request fails with status 126).
void warn_about_sandboxes(const Policy& policy, std::vector<Error>& warnings) {
    for (const auto& [name, profile] : policy.sandboxes) {
        if (!profile.is_weaker_than_baseline()) continue;
        std::string rules;
        for (const Rule& rule : policy.rules) {
            if (policy.sandbox_for(rule) == &profile) rules += (rules.empty() ? "" : ", ") + rule.id;
        }
        std::string what;
        if (std::find(profile.seccomp.begin(), profile.seccomp.end(), SeccompProfile::kBaseline) ==
            profile.seccomp.end()) {
            what = "without the baseline seccomp profile";
        }
        if (!profile.exec_once) {
            what += std::string(what.empty() ? "" : " and ") +
                    "without exec-once (the command may start other programs)";
        }
        if (profile.namespaces == NamespaceMode::kOff) {
            what += std::string(what.empty() ? "" : " and ") +
                    "without their own PID and IPC namespaces (the command can signal and "
                    "re-limit every process of its account, bridle's included)";
        }
        warnings.push_back({"sandbox " + quoted(name) + " runs commands " + what +
                                (rules.empty() ? "; no rule uses it" : "; used by " + rules),
                            profile.source});
    }
    for (const Rule& rule : policy.rules) {
        const SandboxProfile* profile = policy.sandbox_for(rule);
        if (profile == nullptr || !profile->landlock || !profile->landlock->execute) continue;
        const std::vector<std::string>& dirs = *profile->landlock->execute;
        const bool covered = std::any_of(dirs.begin(), dirs.end(), [&](const std::string& dir) {
            return dir == "/" || rule.command == dir ||
                   rule.command.compare(0, dir.size() + 1, dir + "/") == 0;
        });
        if (!covered) {
            warnings.push_back({"rule " + quoted(rule.id) + " runs " + rule.command +
                                    ", which the landlock execute paths of sandbox " +
                                    quoted(profile->name) + " do not cover: it cannot start",
                                rule.source});
        }
    }
}

}  // namespace

Result<Policy> parse_policy_text(std::string_view yaml, const std::string& name, bool is_main,
                                 LoadReport& report) {
    const std::size_t before = report.errors.size();
    Policy policy;
    policy.settings.env = default_environment();
    policy.sandboxes[kBaselineSandbox] = builtin_baseline_sandbox();
    policy.files = {name};
    policy.sha256 = sha256_hex(yaml);
    RegexPool regexes;
    parse_into(yaml, name, is_main, regexes, true, report.errors, policy);
    reject_duplicate_ids(policy.rules, report.errors);
    if (report.errors.size() > before) return report.errors[before];
    warn_about_sandboxes(policy, report.warnings);
    index_rules(policy);
    return policy;
}

Result<Policy> load_policy_files(const std::string& main_file, const std::string& fragment_dir,
                                 const LoadOptions& options, LoadReport& report) {
    const std::size_t before = report.errors.size();
    Policy policy;
    try {
        policy.settings.env = default_environment();
        policy.sandboxes[kBaselineSandbox] = builtin_baseline_sandbox();
        Sha256 hash;
        RegexPool regexes;
        const auto load_one = [&](const std::string& path, bool is_main) {
            Result<std::string> text =
                read_trusted_file(path, options.require_safe_ownership, report.warnings);
            if (!text) {
                report.errors.push_back(text.error());
                return;
            }
            hash.update(text.value());
            policy.files.push_back(path);
            parse_into(text.value(), path, is_main, regexes, options.compile_regexes,
                       report.errors, policy);
        };
        load_one(main_file, true);
        if (!fragment_dir.empty()) {
            for (const std::string& path : fragment_files(fragment_dir, options, report)) {
                load_one(path, false);
            }
        }
        reject_duplicate_ids(policy.rules, report.errors);
        policy.sha256 = hash.hex_digest();
    } catch (const std::exception& e) {
        report.errors.push_back({std::string("cannot load the policy: ") + e.what(), main_file});
    }
    if (report.errors.size() > before) return report.errors[before];
    if (policy.rules.empty()) {
        report.warnings.push_back({"the policy has no rules: every request will be denied", ""});
    }
    warn_about_sandboxes(policy, report.warnings);
    index_rules(policy);
    return policy;
}

Result<Policy> load_policy(const std::string& explicit_file, const LoadOptions& options,
                           LoadReport& report) {
    if (!explicit_file.empty()) return load_policy_files(explicit_file, "", options, report);
    return load_policy_files(kDefaultPolicyFile, kDefaultPolicyDir, options, report);
}

}  // namespace bridle::policy
