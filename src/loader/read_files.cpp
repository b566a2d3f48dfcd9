// SPDX-License-Identifier: Apache-2.0
// One entry of `files:` (bridle-policy(5), FILES): where the agent may read or write, and how
// a write is made. What refers to other entries (the validator, ids shared with rules) is
// checked once every file is read (loader.cpp, check_file_rules).
#include <algorithm>

#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {

std::optional<FileRule> PolicyReader::read_file_rule(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "a files entry");
    if (!entries) return std::nullopt;
    reject_unknown(*entries,
                   {"id",      "summary", "paths",     "under", "names", "except",   "access",
                    "keys",    "run_as",  "owner",     "group", "mode",  "modes",    "max_size",
                    "content", "create",  "validator", "then",  "diff",  "versions", "timeout"},
                   "a files entry");
    FileRule rule;
    rule.source = location(file_, field.mark);

    rule.id = read_id(field, *entries, "a files entry", "id");
    if (const Entry* summary = find(*entries, "summary")) {
        rule.summary = text(summary->value, "summary").value_or("");
    }

    // Where: exact paths, and directories with name patterns. Either may be left out, not both.
    const auto read_paths = [&](const char* key, bool exact, std::vector<std::string>& out) {
        const Entry* entry = find(*entries, key);
        if (entry == nullptr) return;
        const std::optional<std::vector<Field>> items = list(entry->value, key);
        if (!items) return;
        if (items->empty()) fail(entry->value.mark, std::string(key) + " may not be empty");
        for (const Field& item : *items) {
            std::optional<std::string> path = normal_path(item, std::string("a path in ") + key);
            if (!path) continue;
            if (std::find(out.begin(), out.end(), *path) != out.end()) {
                fail(item.mark, std::string(key) + " lists " + quoted(*path) + " twice");
            } else if (*path == "/" && exact) {
                fail(item.mark, "paths lists files, and / is a directory");
            } else {
                out.push_back(*path);
            }
        }
    };
    read_paths("paths", true, rule.exact);
    read_paths("under", false, rule.under);
    if (find(*entries, "paths") == nullptr && find(*entries, "under") == nullptr) {
        fail(field.mark, "a files entry needs paths (exact files), under (directories), or both");
    }
    if (const Entry* names = find(*entries, "names")) {
        if (find(*entries, "under") == nullptr) {
            fail(names->key_mark, "names applies to files found under a directory: add under");
        }
        rule.names = read_patterns(names->value, "names").value_or(std::vector<std::string>{});
        for (const std::string& name : rule.names) {
            if (name.find('/') != std::string::npos) {
                fail(names->value.mark,
                     "a pattern in names matches one file name, without /: " + quoted(name));
            }
        }
    }
    if (const Entry* except = find(*entries, "except")) {
        rule.except = read_patterns(except->value, "except").value_or(std::vector<std::string>{});
    }

    if (const Entry* access = find(*entries, "access")) {
        read_file_access(access->value, rule);
    } else {
        fail(field.mark, "a files entry needs access: [get], [put] or [get, put]");
    }
    if (const Entry* keys = find(*entries, "keys")) read_keys(keys->value, rule.keys);
    if (const Entry* run_as = find(*entries, "run_as")) {
        rule.run_as = user_name(run_as->value, "run_as").value_or("");
    }

    // How a put is made. These keys mean nothing to a rule that cannot write: refuse them there
    // rather than let a reader believe they do something.
    const bool writes = rule.put;
    for (const char* key : {"owner", "group", "mode", "modes", "max_size", "content", "create",
                            "validator", "then", "diff", "versions"}) {
        const Entry* entry = find(*entries, key);
        if (entry != nullptr && !writes && find(*entries, "access") != nullptr) {
            fail(entry->key_mark,
                 std::string(key) + " applies to writes: access does not list put");
        }
    }
    if (const Entry* owner = find(*entries, "owner")) {
        rule.owner = user_name(owner->value, "owner").value_or("");
    }
    if (const Entry* group = find(*entries, "group")) {
        rule.group = user_name(group->value, "group").value_or("");
    }
    if (const Entry* mode = find(*entries, "mode")) {
        rule.mode = read_mode(mode->value, "mode").value_or(rule.mode);
    }
    if (const Entry* modes = find(*entries, "modes")) {
        if (const std::optional<std::vector<Field>> items = list(modes->value, "modes")) {
            if (items->empty()) fail(modes->value.mark, "modes may not be empty; leave it out");
            for (const Field& item : *items) {
                const std::optional<std::uint32_t> m = read_mode(item, "a mode in modes");
                if (!m) continue;
                if (std::find(rule.modes.begin(), rule.modes.end(), *m) != rule.modes.end()) {
                    fail(item.mark, "modes lists " + octal_mode(*m) + " twice");
                } else {
                    rule.modes.push_back(*m);
                }
            }
        }
    }
    if (const Entry* max = find(*entries, "max_size")) {
        rule.max_size = size(max->value, "max_size", kMaxFileSize).value_or(rule.max_size);
    }
    if (const Entry* content = find(*entries, "content")) {
        if (const std::optional<std::string> type = text(content->value, "content")) {
            if (*type == "text") {
                rule.content = ContentType::kText;
            } else if (*type == "utf-8") {
                rule.content = ContentType::kUtf8;
            } else if (*type == "bytes") {
                rule.content = ContentType::kBytes;
            } else {
                fail(content->value.mark,
                     "unknown content " + quoted(*type) + ": use text, utf-8 or bytes");
            }
        }
    }
    if (const Entry* create = find(*entries, "create")) {
        rule.create = boolean(create->value, "create").value_or(false);
    }
    if (const Entry* validator = find(*entries, "validator")) {
        if (std::optional<std::string> id = text(validator->value, "validator")) {
            if (is_rule_id(*id)) {
                rule.validator = *id;
            } else {
                fail(validator->value.mark,
                     "validator must name a rule by its id, not " + quoted(*id));
            }
        }
    }
    if (const Entry* then = find(*entries, "then")) {
        if (const std::optional<std::vector<Field>> items = list(then->value, "then")) {
            if (items->empty()) fail(then->value.mark, "then may not be empty; leave it out");
            for (const Field& item : *items) {
                const std::optional<std::string> id = text(item, "a rule id in then");
                if (!id) continue;
                if (!is_rule_id(*id)) {
                    fail(item.mark, "then names rules by their ids, not " + quoted(*id));
                } else if (std::find(rule.then.begin(), rule.then.end(), *id) != rule.then.end()) {
                    fail(item.mark, "then lists " + quoted(*id) + " twice");
                } else {
                    rule.then.push_back(*id);
                }
            }
        }
    }
    if (const Entry* diff = find(*entries, "diff")) {
        rule.diff = boolean(diff->value, "diff").value_or(false);
        if (rule.diff && rule.content == ContentType::kBytes) {
            fail(diff->value.mark,
                 "diff needs text or utf-8 content: a diff of bytes means "
                 "nothing");
        }
    }
    if (const Entry* versions = find(*entries, "versions")) {
        if (const std::optional<std::int64_t> n = integer(versions->value, "versions")) {
            if (*n < 0 || *n > kMaxVersions) {
                fail(versions->value.mark,
                     "versions must be between 0 and " + std::to_string(kMaxVersions));
            } else {
                rule.versions = static_cast<std::uint32_t>(*n);
            }
        }
    }
    if (const Entry* timeout = find(*entries, "timeout")) {
        rule.timeout = duration(timeout->value, "timeout");
    }
    return rule;
}

// access: a non-empty list of get and put, each at most once.
void PolicyReader::read_file_access(const Field& field, FileRule& rule) {
    const std::optional<std::vector<Field>> items = list(field, "access");
    if (!items) return;
    if (items->empty()) fail(field.mark, "access must list get, put or both");
    for (const Field& item : *items) {
        const std::optional<std::string> verb = text(item, "an access");
        if (!verb) continue;
        bool* slot = *verb == "get" ? &rule.get : *verb == "put" ? &rule.put : nullptr;
        if (slot == nullptr) {
            fail(item.mark, "unknown access " + quoted(*verb) +
                                ": use get (read) or put (write; versions and restore come "
                                "with it)");
        } else if (*slot) {
            fail(item.mark, "access lists " + quoted(*verb) + " twice");
        } else {
            *slot = true;
        }
    }
}

// A non-empty list of fnmatch(3) patterns, each a valid policy text.
std::optional<std::vector<std::string>> PolicyReader::read_patterns(const Field& field,
                                                                    std::string_view what) {
    const std::optional<std::vector<Field>> items = list(field, what);
    if (!items) return std::nullopt;
    if (items->empty()) {
        fail(field.mark, std::string(what) + " may not be empty; leave it out");
        return std::nullopt;
    }
    std::vector<std::string> patterns;
    for (const Field& item : *items) {
        const std::optional<std::string> pattern = text(item, "a pattern");
        if (!pattern) continue;
        if (pattern->empty()) {
            fail(item.mark, "a pattern may not be empty");
        } else if (const std::optional<std::string> problem = text_problem(*pattern)) {
            fail(item.mark, "pattern " + quoted(*pattern) + ": " + *problem);
        } else {
            patterns.push_back(*pattern);
        }
    }
    return patterns;
}

// A file mode: octal digits as a string ("0644", "640"). No set-id or sticky bit, and never
// writable by others: bridle does not make files that any account may change.
std::optional<std::uint32_t> PolicyReader::read_mode(const Field& field, std::string_view what) {
    const std::optional<std::string> spelled = text(field, what);
    if (!spelled) return std::nullopt;
    const bool octal =
        spelled->size() >= 3 && spelled->size() <= 4 &&
        std::all_of(spelled->begin(), spelled->end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal) {
        fail(field.mark, std::string(what) +
                             " must be octal digits in quotes, such as '0644', not " +
                             quoted(*spelled));
        return std::nullopt;
    }
    const auto mode = static_cast<std::uint32_t>(std::stoul(*spelled, nullptr, 8));
    if (mode > 0777) {
        fail(field.mark, std::string(what) + " " + quoted(*spelled) +
                             " has a set-user-id, set-group-id or sticky bit: bridle writes none");
        return std::nullopt;
    }
    if ((mode & 0002) != 0) {
        fail(field.mark, std::string(what) + " " + quoted(*spelled) +
                             " lets every account write the file: bridle writes no such file");
        return std::nullopt;
    }
    return mode;
}

}  // namespace bridle::policy::read
