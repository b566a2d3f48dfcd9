// SPDX-License-Identifier: Apache-2.0
// YAML policy files -> Policy, schema version 1 as bridle-policy(5) states it. The only user
// of yaml-cpp: its exceptions stop here and become "file:line:col: message". Here: the files,
// in order, and each document's top level; read_*.cpp read its sections, lint.cpp warns.
#include "loader/loader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

#include "loader/compiled_load.hpp"
#include "loader/file_checks.hpp"
#include "loader/lexical.hpp"
#include "loader/lint.hpp"
#include "loader/policy_cache.hpp"
#include "loader/yaml_reader.hpp"
#include "policy/sha256.hpp"

namespace bridle::policy {
namespace read {
namespace {

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
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
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
    if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts))
        return std::nullopt;
    return starts.marks.size() > 1 ? starts.marks[1] : YAML::Mark();
}

}  // namespace

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
    reject_unknown(*entries, {"version", "settings", "sandboxes", "approvals", "rules", "files"},
                   "the top level");
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
    // Approval sets before the rules, which refer to them by name.
    if (const Entry* approvals = find(*entries, "approvals")) {
        if (is_main) {
            read_approvals(approvals->value, policy);
        } else {
            fail(approvals->key_mark, "approvals belong in the main policy file");
        }
    }
    const Entry* rules = find(*entries, "rules");
    const Entry* files = find(*entries, "files");
    if (rules == nullptr && files == nullptr) {
        fail(root.mark, "missing rules: (a list of rules, possibly empty)");
        return;
    }
    const auto read_list = [&](const Entry* entry, const char* what, auto read_one, auto& out) {
        if (entry == nullptr) return;
        if (std::optional<std::vector<Field>> items = list(entry->value, what)) {
            for (const Field& item : *items) {
                if (auto read = (this->*read_one)(item)) out.push_back(std::move(*read));
            }
        }
    };
    read_list(rules, "rules", &PolicyReader::read_rule, policy.rules);
    read_list(files, "files", &PolicyReader::read_file_rule, policy.file_rules);
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

}  // namespace read

namespace {

using read::PolicyReader;
using read::quoted;
using read::RegexPool;
using read::warn_about_files;
using read::warn_about_redaction;
using read::warn_about_sandboxes;

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

// Reports, at the later one, every rule or files entry whose id an earlier one already has:
// the target side of a run_as rule finds either by its id alone.
void reject_duplicate_ids(const Policy& policy, std::vector<Error>& errors) {
    std::map<std::string, std::string> first;  // id -> where
    const auto check = [&](const std::string& id, const std::string& source) {
        if (id.empty()) return;  // an invalid id, already reported
        const auto [it, inserted] = first.emplace(id, source);
        if (!inserted) {
            errors.push_back(
                {"duplicate rule id " + quoted(id) + ": first defined at " + it->second, source});
        }
    };
    for (const Rule& rule : policy.rules) check(rule.id, rule.source);
    for (const FileRule& rule : policy.file_rules) check(rule.id, rule.source);
}

// A files entry's `then` rules: rules of the policy that run alone as the same user and take
// no value from the client (bridle runs them as they are, after the write).
void check_then_rules(const Policy& policy, const FileRule& file, std::vector<Error>& errors) {
    for (const std::string& id : file.then) {
        const auto found = std::find_if(policy.rules.begin(), policy.rules.end(),
                                        [&](const Rule& rule) { return rule.id == id; });
        const std::string what = "then " + quoted(id) + " of " + quoted(file.id);
        if (found == policy.rules.end()) {
            errors.push_back({what + ": the policy has no rule with that id", file.source});
            continue;
        }
        const bool takes_values = std::any_of(found->args.begin(), found->args.end(),
                                              [](const Arg& arg) { return !arg.is_literal; }) ||
                                  std::any_of(found->options.begin(), found->options.end(),
                                              [](const Option& option) { return option.required; });
        if (takes_values) {
            errors.push_back(
                {what + ": the rule must take no value and no required option", file.source});
        } else if (found->run_as != file.run_as) {
            errors.push_back({what + ": the rule must run as the files entry does (" +
                                  (file.run_as.empty() ? "bridle's account" : file.run_as) + ")",
                              file.source});
        } else if (!found->pipeline.alone) {
            errors.push_back({what + ": the rule must be allowed alone", file.source});
        }
    }
}

// A files entry's validator: a rule of the policy that runs alone as the same user, whose one
// value from the client is a path (the staged file's, which bridle fills in).
void check_validators(const Policy& policy, std::vector<Error>& errors) {
    for (const FileRule& file : policy.file_rules) {
        check_then_rules(policy, file, errors);
        if (file.validator.empty()) continue;
        const auto found =
            std::find_if(policy.rules.begin(), policy.rules.end(),
                         [&](const Rule& rule) { return rule.id == file.validator; });
        const std::string what = "validator " + quoted(file.validator) + " of " + quoted(file.id);
        if (found == policy.rules.end()) {
            errors.push_back({what + ": the policy has no rule with that id", file.source});
            continue;
        }
        std::size_t values = 0, paths = 0;
        for (const Arg& arg : found->args) {
            if (arg.is_literal) continue;
            ++values;
            if (arg.spec.kind == ValueSpec::Kind::kPath && !arg.spec.glob) ++paths;
        }
        const bool required_option =
            std::any_of(found->options.begin(), found->options.end(),
                        [](const Option& option) { return option.required; });
        if (values != 1 || paths != 1 || required_option) {
            errors.push_back({what + ": the rule must take exactly one value, a path (the staged "
                                     "file), and no required option",
                              file.source});
        } else if (found->run_as != file.run_as) {
            errors.push_back({what + ": the rule runs as " +
                                  (found->run_as.empty() ? "bridle's account" : found->run_as) +
                                  ", the files entry as " +
                                  (file.run_as.empty() ? "bridle's account" : file.run_as) +
                                  ": they must be the same",
                              file.source});
        } else if (!found->pipeline.alone) {
            errors.push_back({what + ": the rule must be allowed alone", file.source});
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
    reject_duplicate_ids(policy, report.errors);
    check_validators(policy, report.errors);
    if (report.errors.size() > before) return report.errors[before];
    warn_about_sandboxes(policy, report.warnings);
    warn_about_redaction(policy, report.warnings);
    warn_about_files(policy, report.warnings);
    return policy;
}

Result<Policy> load_policy_files(const std::string& main_file, const std::string& fragment_dir,
                                 const LoadOptions& options, LoadReport& report) {
    const std::size_t before = report.errors.size();
    Result<OpenedPolicy> opened = open_policy(main_file, fragment_dir, options, report);
    if (!opened) return opened.error();
    if (opened.value().compiled) return std::move(*opened.value().compiled);
    const std::string cache_outcome = opened.value().cache_outcome;

    // No hit: the files' bytes, read again through the same descriptors. What is parsed, hashed
    // and keyed below is what is read now, whatever changed since the hash above.
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& [path, file] : opened.value().files) {
        Result<std::string> text = read_all(file);
        if (!text) return report.errors.emplace_back(text.error());
        files.emplace_back(path, std::move(text).value());
    }
    Sha256 hash;
    std::vector<std::pair<std::string, std::size_t>> lengths;
    for (const auto& [path, text] : files) {
        hash.update(text);
        lengths.emplace_back(path, text.size());
    }
    const std::string sha256 = hash.hex_digest();
    const std::string key = options.cache_dir.empty() ? "" : cache::key_of(lengths, sha256);

    Policy policy;
    try {
        policy.settings.env = default_environment();
        policy.sandboxes[kBaselineSandbox] = builtin_baseline_sandbox();
        RegexPool regexes;
        for (std::size_t i = 0; i < files.size(); ++i) {
            const auto& [path, text] = files[i];
            policy.files.push_back(path);
            // files[0] is the main file: had it not been read, the load would have stopped.
            parse_into(text, path, i == 0, regexes, options.compile_regexes, report.errors, policy);
        }
        reject_duplicate_ids(policy, report.errors);
        check_validators(policy, report.errors);
        policy.sha256 = sha256;
    } catch (const std::exception& e) {
        report.errors.push_back({std::string("cannot load the policy: ") + e.what(), main_file});
    }
    if (report.errors.size() > before) return report.errors[before];
    // The lint's warnings go into the cache with the policy: a hit repeats them.
    std::vector<Error> lint;
    if (policy.rules.empty() && policy.file_rules.empty()) {
        lint.push_back({"the policy has no rules: every request will be denied", ""});
    }
    warn_about_sandboxes(policy, lint);
    warn_about_redaction(policy, lint);
    warn_about_files(policy, lint);
    report.warnings.insert(report.warnings.end(), lint.begin(), lint.end());
    policy.cache = cache_outcome;
    if (options.write_cache && !options.cache_dir.empty()) {
        Status written = cache::write_cache(options.cache_dir, key, policy, lint);
        if (written) {
            report.cache_written = cache::file_for(options.cache_dir, key);
        } else {
            report.cache_not_written = written.error().full();
        }
    }
    return policy;
}

Result<Policy> load_policy(const std::string& explicit_file, const LoadOptions& options,
                           LoadReport& report) {
    const auto [main_file, fragment_dir] = policy_locations(explicit_file);
    Result<Policy> policy = load_policy_files(main_file, fragment_dir, options, report);
    if (policy && !explicit_file.empty()) policy.value().given_path = explicit_file;
    return policy;
}

}  // namespace bridle::policy
