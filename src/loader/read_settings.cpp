// SPDX-License-Identifier: Apache-2.0
// The settings of the main policy file (audit and its file, timeout and size limits, the default
// sandbox, landlock), and the environment, which settings and rules both set.
#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {

void PolicyReader::read_settings(const Field& field, Policy& policy) {
    Settings& settings = policy.settings;
    const std::optional<Entries> entries = mapping(field, "settings");
    if (!entries) return;
    reject_unknown(*entries,
                   {"audit", "timeout", "max_output", "env", "sandbox", "landlock", "audit_file",
                    "max_request", "max_words", "redact_patterns", "task_spool", "task_max_running",
                    "task_retention", "guardrails"},
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
            fail(audit->value.mark,
                 "audit sink " + quoted(*sink) + " is not one of journald, file, both");
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
    if (const Entry* spool = find(*entries, "task_spool")) {
        const std::optional<std::string> path = text(spool->value, "settings.task_spool");
        if (path && (path->empty() || path->front() != '/')) {
            fail(spool->value.mark, "settings.task_spool must be an absolute path");
        } else if (path) {
            settings.task_spool = *path;
        }
    }
    if (const Entry* cap = find(*entries, "task_max_running")) {
        const std::optional<std::int64_t> value = integer(cap->value, "settings.task_max_running");
        if (value && (*value < 1 || *value > 1000)) {
            fail(cap->value.mark, "settings.task_max_running must be between 1 and 1000");
        } else if (value) {
            settings.task_max_running = static_cast<std::uint64_t>(*value);
        }
    }
    if (const Entry* retention = find(*entries, "task_retention")) {
        if (auto value = duration(retention->value, "settings.task_retention")) {
            settings.task_retention = *value;
        }
    }
    if (const Entry* max_words = find(*entries, "max_words")) {
        const std::optional<std::int64_t> value = integer(max_words->value, "settings.max_words");
        if (value && (*value < 1 || static_cast<std::uint64_t>(*value) > kMaxWordsLimit)) {
            fail(max_words->value.mark,
                 "settings.max_words must be between 1 and " + std::to_string(kMaxWordsLimit));
        } else if (value) {
            settings.max_words = static_cast<std::uint64_t>(*value);
        }
    }
    if (const Entry* guardrails = find(*entries, "guardrails")) {
        read_guardrails(guardrails->value, settings);
    }
    if (const Entry* patterns = find(*entries, "redact_patterns")) {
        read_redact_patterns(patterns->value, settings);
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

// settings.redact_patterns: regexes searched for, after the built-in ones, in the output of
// rules with redact: true. Each must parse and may not use named groups (the first capturing
// group is the secret); `bridle check` compiles them, alone and together, and refuses one
// that matches the empty string.
void PolicyReader::read_redact_patterns(const Field& field, Settings& settings) {
    const std::optional<std::vector<Field>> items = list(field, "settings.redact_patterns");
    if (!items) return;
    std::vector<std::string> own;
    bool good = true;
    for (const Field& item : *items) {
        const std::optional<std::string> source = text(item, "a redact pattern");
        if (!source) {
            good = false;
            continue;
        }
        std::string error;
        if (source->empty()) {
            error = "must not be empty";
        } else if (source->find("(?P<") != std::string::npos ||
                   source->find("(?<") != std::string::npos) {
            error =
                "may not name a group: the first capturing group is what is replaced; "
                "use (...) or (?:...)";
        } else if (const std::shared_ptr<const Regex> regex = Regex::parse(*source, error)) {
            if (compile_) error = regex->compile_error();
            if (error.empty() && compile_ && regex->full_match("")) {
                error = "matches the empty string";
            }
        }
        if (!error.empty()) {
            fail(item.mark, "invalid redact pattern " + quoted(*source) + ": " + error);
            good = false;
            continue;
        }
        own.push_back(*source);
    }
    if (!good || own.empty()) return;
    settings.redaction = std::make_shared<const RedactionPatterns>(std::move(own));
    if (compile_ && !settings.redaction->compile_error().empty()) {
        fail(field.mark, settings.redaction->compile_error());
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

}  // namespace bridle::policy::read
