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
                    "max_request", "max_words"},
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
    if (const Entry* max_words = find(*entries, "max_words")) {
        const std::optional<std::int64_t> value = integer(max_words->value, "settings.max_words");
        if (value && (*value < 1 || static_cast<std::uint64_t>(*value) > kMaxWordsLimit)) {
            fail(max_words->value.mark,
                 "settings.max_words must be between 1 and " + std::to_string(kMaxWordsLimit));
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

}  // namespace bridle::policy::read
