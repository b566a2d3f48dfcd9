// SPDX-License-Identifier: Apache-2.0
// The reader of one policy file: yaml-cpp values as Fields, and PolicyReader, whose members are
// defined by concern in yaml_reader.cpp (the primitives, error collection), read_settings.cpp,
// read_sandbox.cpp, read_rules.cpp, read_value_specs.cpp, read_files.cpp and loader.cpp (the top
// level).
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy::read {

constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 30;  // max_output: 1GiB

// "file:line:col", or the file alone when the mark is null.
std::string location(const std::string& file, const YAML::Mark& mark);

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

// The entry for `key`, or nullptr.
const Entry* find(const Entries& entries, std::string_view key);

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

    // loader.cpp: the top level of one document.
    void read_document(std::string_view yaml, bool is_main, Policy& policy);
    void fail(const YAML::Mark& mark, std::string message);
    // Appends what fail() collected to `errors` in file order (the reader visits a mapping's
    // keys before their values, so it finds them out of order), then a note if some were cut.
    void report_to(std::vector<Error>& errors);

  private:
    // yaml_reader.cpp: one value of the expected shape, or a message at its mark.
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

    // loader.cpp
    bool read_version(const Field& field);
    // read_settings.cpp: settings, and the environment of settings or a rule.
    void read_settings(const Field& field, Policy& policy);
    void read_audit_file(const Field& field, AuditFile& audit_file);
    void read_redact_patterns(const Field& field, Settings& settings);
    void read_env(const Field& field, std::map<std::string, std::string>& env);
    // read_guardrails.cpp: settings.guardrails.
    void read_guardrails(const Field& field, Settings& settings);
    // read_sandbox.cpp: sandbox profiles, and the references to them by name.
    void read_sandboxes(const Field& field, Policy& policy);
    std::optional<SandboxProfile> read_sandbox(const std::string& name, const Field& field);
    std::optional<std::vector<SeccompProfile>> read_seccomp(const Field& field);
    std::optional<LandlockRules> read_landlock(const Field& field);
    std::optional<std::vector<std::string>> read_landlock_paths(const Field& field,
                                                                std::string_view what);
    bool read_limits(const Field& field, ResourceLimits& limits);
    std::optional<std::uint32_t> read_umask(const Field& field);
    // A sandbox name, which must be defined (sandboxes are read first): into `name`.
    void read_sandbox_reference(const Field& field, std::string_view what, std::string& name);
    // read_rules.cpp: a rule, its options and its arguments.
    std::optional<Rule> read_rule(const Field& field);
    void read_keys(const Field& field, std::vector<std::string>& keys);
    std::optional<std::string> user_name(const Field& field, std::string_view what);
    std::string read_id(const Field& field, const Entries& entries, std::string_view what,
                        std::string_view label);
    void read_pipeline_places(const Field& field, PipelinePlaces& places);
    void read_fixed_words(const Field& field, std::string_view what,
                          std::vector<std::string>& words);
    void read_options(const Field& field, Rule& rule);
    void read_option_value(const Field& field, Option& option);
    // params: named value specs, each to be used once in args as {param: NAME}.
    std::vector<Param> read_params(const Field& field);
    // args, in order: literals, {param: NAME} references and value specs.
    void read_args(const Field& field, Rule& rule, std::vector<Param>& params);
    std::optional<Arg> read_literal(const Field& field, const Rule& rule);
    // read_approvals.cpp: the top-level approvals section, and a rule's approval.
    void read_approvals(const Field& field, Policy& policy);
    std::optional<ApprovalSpec> read_approval_spec(const Field& field);
    void read_rule_approval(const Field& field, Rule& rule);
    // read_files.cpp: an entry of `files:` and its parts.
    std::optional<FileRule> read_file_rule(const Field& field);
    void read_file_access(const Field& field, FileRule& rule);
    std::optional<std::vector<std::string>> read_patterns(const Field& field,
                                                          std::string_view what);
    std::optional<std::uint32_t> read_mode(const Field& field, std::string_view what);
    // read_value_specs.cpp: what a value may be (regex, enum, int or path).
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

}  // namespace bridle::policy::read
