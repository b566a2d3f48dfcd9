// SPDX-License-Identifier: Apache-2.0
// One entry of rules: its id, command and name, keys, options, params and args, and the keys
// that tune how it runs. What a value may be is read by read_value_specs.cpp.
#include <algorithm>
#include <set>

#include "common/names.hpp"
#include "loader/lexical.hpp"
#include "loader/yaml_reader.hpp"

namespace bridle::policy::read {

std::optional<Rule> PolicyReader::read_rule(const Field& field) {
    const std::optional<Entries> entries = mapping(field, "a rule");
    if (!entries) return std::nullopt;
    reject_unknown(*entries, {"id",           "summary",       "command",
                              "name",         "keys",          "args",
                              "params",       "options",       "end_of_options",
                              "timeout",      "max_output",    "stdin",
                              "sandbox",      "run_as",        "capture",
                              "fixed_before", "fixed_after",   "bundle_flags",
                              "env",          "escape_output", "pipeline",
                              "redact",       "task",          "idle_timeout",
                              "approval"},
                   "a rule");
    Rule rule;
    rule.source = location(file_, field.mark);

    rule.id = read_id(field, *entries, "a rule", "rule id");
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

    if (const Entry* keys = find(*entries, "keys")) read_keys(keys->value, rule.keys);
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
    if (const Entry* redact = find(*entries, "redact")) {
        rule.redact = boolean(redact->value, "redact").value_or(false);
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
            fail(after->value.mark,
                 "fixed_after cannot be used with end_of_options: true (the "
                 "words would come after --); use fixed_before");
        }
    }
    // glob: only where one word becomes several operands, and never through sudo, whose
    // normal form is one word per argument.
    for (const Option& option : rule.options) {
        if (!option.is_flag && option.value.glob) {
            fail(field.mark, "option " + quoted(option.name()) +
                                 " has a path with glob, which "
                                 "only positional arguments may have");
        }
    }
    for (const Arg& arg : rule.args) {
        if (!arg.is_literal && arg.spec.glob && find(*entries, "run_as") != nullptr) {
            fail(field.mark, "argument " + quoted(arg.name) +
                                 " has a path with glob, which a "
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
    if (const Entry* task = find(*entries, "task")) {
        rule.task = boolean(task->value, "task").value_or(false);
    }
    if (const Entry* idle = find(*entries, "idle_timeout")) {
        rule.idle_timeout = duration(idle->value, "idle_timeout");
    }
    if (const Entry* stdin_entry = find(*entries, "stdin")) {
        rule.stdin_allowed = boolean(stdin_entry->value, "stdin").value_or(false);
    }
    if (const Entry* sandbox = find(*entries, "sandbox")) {
        read_sandbox_reference(sandbox->value, "sandbox", rule.sandbox);
    }
    if (const Entry* run_as = find(*entries, "run_as")) {
        rule.run_as = user_name(run_as->value, "run_as").value_or("");
    }
    if (const Entry* pipeline = find(*entries, "pipeline")) {
        read_pipeline_places(pipeline->value, rule.pipeline);
        if (rule.pipeline.in_pipeline() && !rule.run_as.empty()) {
            fail(pipeline->value.mark,
                 "a run_as rule may not be a pipeline stage: sudo's target side runs one command "
                 "on its own");
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
    if (const Entry* approval = find(*entries, "approval")) {
        read_rule_approval(approval->value, rule);
        // One request, one approval: never a stage of a pipeline nor a detached task.
        if (rule.pipeline.in_pipeline() || rule.task) {
            fail(approval->value.mark,
                 "a rule with approval may not be a pipeline stage nor a task: it runs only as a "
                 "request of its own, once approved");
        }
    }
    return rule;
}

// The `id` of a rule or a files entry (`what`: "a rule"), reported as `label` ("rule id") when
// it is not one; "" when missing or invalid (already reported).
std::string PolicyReader::read_id(const Field& field, const Entries& entries, std::string_view what,
                                  std::string_view label) {
    const Entry* id = find(entries, "id");
    if (id == nullptr) {
        fail(field.mark, std::string(what) + " needs an id");
        return "";
    }
    const std::optional<std::string> value = text(id->value, "id");
    if (!value) return "";
    if (is_rule_id(*value)) return *value;
    fail(id->value.mark, std::string(label) + " " + quoted(*value) +
                             " is not valid: use 1 to 64 of a-z 0-9 . _ -, starting with a "
                             "letter or digit");
    return "";
}

// A user (run_as) or group name: 1 to 32 of a-z 0-9 _ -, starting with a letter or _.
std::optional<std::string> PolicyReader::user_name(const Field& field, std::string_view what) {
    std::optional<std::string> name = text(field, what);
    if (!name) return std::nullopt;
    if (is_user_name(*name)) return name;
    fail(field.mark, std::string(what) + " " + quoted(*name) + " is not a valid " +
                         (what == "group" ? "group" : "user") +
                         " name: use 1 to 32 of a-z 0-9 _ -, starting with a letter or _");
    return std::nullopt;
}

// pipeline: a non-empty list of alone, first, middle and last, each at most once; the rule
// takes exactly the places listed.
void PolicyReader::read_pipeline_places(const Field& field, PipelinePlaces& places) {
    const std::optional<std::vector<Field>> items = list(field, "pipeline");
    if (!items) return;
    if (items->empty()) {
        fail(field.mark,
             "pipeline must list at least one of alone, first, middle, last; leave it out "
             "for a rule that runs only on its own");
        return;
    }
    places.alone = false;
    for (const Field& item : *items) {
        const std::optional<std::string> place = text(item, "a pipeline place");
        if (!place) continue;
        bool* slot = *place == "alone"    ? &places.alone
                     : *place == "first"  ? &places.first
                     : *place == "middle" ? &places.middle
                     : *place == "last"   ? &places.last
                                          : nullptr;
        if (slot == nullptr) {
            fail(item.mark,
                 "unknown pipeline place " + quoted(*place) + ": use alone, first, middle or last");
        } else if (*slot) {
            fail(item.mark, "pipeline lists " + quoted(*place) + " twice");
        } else {
            *slot = true;
        }
    }
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

void PolicyReader::read_keys(const Field& field, std::vector<std::string>& keys) {
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
        if (!bridle::is_key_name(*key)) {  // the one rule of --key and enroll (common/names.hpp)
            fail(item.mark, "key name " + quoted(*key) +
                                " is not valid: use letters, digits and . _ @ -, starting with a "
                                "letter or digit, at most " +
                                std::to_string(kMaxKeyName) + " bytes");
        } else if (std::find(keys.begin(), keys.end(), *key) != keys.end()) {
            fail(item.mark, "key " + quoted(*key) + " is listed twice");
        } else {
            keys.push_back(*key);
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

}  // namespace bridle::policy::read
