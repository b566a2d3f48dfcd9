// SPDX-License-Identifier: Apache-2.0
// Value specs: what a parameter, an argument or an option's value may be (regex, enum, int or
// path, with the keys each allows). The matcher checks the client's values against them.
#include <algorithm>

#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {

std::optional<SpecFields> PolicyReader::read_value_spec(const Field& field, const Entries& entries,
                                                        SpecUse use) {
    if (const Entry* required = find(entries, "required"); required && use != SpecUse::kOption) {
        fail(required->key_mark,
             "required applies to options only; positional arguments are "
             "always required");
    }
    switch (use) {
        case SpecUse::kParam:
            reject_unknown(
                entries, {"regex", "enum", "int", "path", "required", "leading_dash", "max_length"},
                "a parameter");
            break;
        case SpecUse::kOption:
            reject_unknown(entries,
                           {"regex", "enum", "int", "path", "required", "attached", "max_length"},
                           "an option");
            break;
        case SpecUse::kArg:
            reject_unknown(
                entries,
                {"regex", "enum", "int", "path", "name", "required", "leading_dash", "max_length"},
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
    reject_unknown(
        *entries,
        {"under", "type", "links", "open", "names", "final_symlink", "max_size", "dots", "glob"},
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
                    if (pattern)
                        fail(item.mark,
                             "a pattern in names must be a non-empty file name pattern without /");
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
                fail(glob->value.mark,
                     "glob needs max: the most matches it may expand to (1 to 16)");
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

}  // namespace bridle::policy::read
