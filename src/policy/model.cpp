// SPDX-License-Identifier: Apache-2.0
// The policy model's own behaviour: synopses for help and denials, key checks, the default
// environment. bridle-policy(5) documents the synopsis notation; keep the two in step.
#include "policy/model.hpp"

#include <algorithm>
#include <string_view>

#include "common/text.hpp"

namespace bridle::policy {
namespace {

std::string upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

std::string describe_option(const Option& option) {
    std::string text = join(option.spellings, "|");
    if (!option.is_flag) text += " " + option.value.describe(option.placeholder());
    return option.required ? text : "[" + text + "]";
}

// A literal as the client must type it, so that a synopsis pasted back is accepted: words
// with spaces or shell characters in single quotes (a quote itself as '\'').
std::string quote_literal(const std::string& word) {
    const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
    });
    if (plain) return word;
    std::string quoted = "'";
    for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string describe_arg(const Arg& arg) {
    return arg.is_literal ? quote_literal(arg.literal) : arg.spec.describe(arg.name);
}

}  // namespace

std::string ValueSpec::describe(const std::string& name) const {
    switch (kind) {
        case Kind::kRegex:
            return upper(name);
        case Kind::kEnum:
            return "{" + join(choices, "|") + "}";
        case Kind::kInt:
            return std::to_string(min) + ".." + std::to_string(max);
        case Kind::kPath: {
            std::string where;  // stays empty when "/" is listed: it covers every other directory
            if (std::find(under.begin(), under.end(), "/") == under.end()) {
                where = under.size() == 1 ? under.front() : "{" + join(under, "|") + "}";
            }
            return upper(name) + ":" + where + "/...";
        }
        default:
            return upper(name);
    }
}

std::string Option::placeholder() const {
    for (const std::string& spelling : spellings) {
        if (spelling.size() > 2 && spelling.compare(0, 2, "--") == 0) return spelling.substr(2);
    }
    return "value";
}

bool Rule::allows_key(const std::string& key) const {
    return keys.empty() || std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool Guardrail::applies_to(const std::string& key) const {
    return keys.empty() || std::find(keys.begin(), keys.end(), key) != keys.end();
}

const Guardrail* Settings::guardrail_for(const std::string& key) const {
    for (const Guardrail& g : guardrails) {
        if (g.applies_to(key)) return &g;
    }
    return nullptr;
}

std::string Rule::synopsis() const {
    // Leading literals read as a subcommand ("systemctl status"), so options follow them;
    // the client may still type options anywhere before "--".
    std::vector<std::string> words{name};
    std::size_t next = 0;
    while (next < args.size() && args[next].is_literal)
        words.push_back(quote_literal(args[next++].literal));
    for (const Option& option : options) words.push_back(describe_option(option));
    if (end_of_options) words.emplace_back("[--]");
    for (; next < args.size(); ++next) words.push_back(describe_arg(args[next]));
    // What the client never types, marked as such (a rule with fixed words is still allowed
    // exactly as the part before the parentheses says).
    const auto quoted_words = [](const std::vector<std::string>& fixed) {
        std::vector<std::string> out;
        for (const std::string& word : fixed) out.push_back(quote_literal(word));
        return join(out, " ");
    };
    if (!fixed_before.empty())
        words.push_back("(bridle adds first: " + quoted_words(fixed_before) + ")");
    if (!fixed_after.empty())
        words.push_back("(bridle adds last: " + quoted_words(fixed_after) + ")");
    return join(words, " ");
}

const char* seccomp_profile_name(SeccompProfile profile) {
    switch (profile) {
        case SeccompProfile::kBaseline:
            return "baseline";
        case SeccompProfile::kNoNetwork:
            return "no-network";
        case SeccompProfile::kNoWrite:
            return "no-write";
        default:
            return "?";
    }
}

const char* namespace_mode_name(NamespaceMode mode) {
    switch (mode) {
        case NamespaceMode::kRequire:
            return "require";
        case NamespaceMode::kOff:
            return "off";
        case NamespaceMode::kPrefer:
        default:
            return "prefer";
    }
}

bool SandboxProfile::is_weaker_than_baseline() const {
    return !exec_once || namespaces == NamespaceMode::kOff ||
           std::find(seccomp.begin(), seccomp.end(), SeccompProfile::kBaseline) == seccomp.end();
}

SandboxProfile builtin_baseline_sandbox() {
    SandboxProfile profile;
    profile.name = kBaselineSandbox;
    profile.source = "built-in";
    return profile;
}

bool Policy::has_rule_for(std::string_view name, const std::string& key) const {
    const std::vector<std::size_t> named = rules.named(name);
    return std::any_of(named.begin(), named.end(),
                       [&](std::size_t i) { return rules[i].allows_key(key); });
}

std::map<std::string, std::string> Policy::environment_for(const Rule& rule) const {
    std::map<std::string, std::string> env = settings.env;
    for (const auto& [name, value] : rule.env) env[name] = value;
    return env;
}

const SandboxProfile* Policy::sandbox_for(const Rule& rule) const {
    const auto found = sandboxes.find(rule.sandbox.empty() ? settings.sandbox : rule.sandbox);
    return found == sandboxes.end() ? nullptr : &found->second;
}

std::map<std::string, std::string> default_environment() {
    return {
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
}

const char* place_name(Place place) {
    switch (place) {
        case Place::kAlone:
            return "alone";
        case Place::kFirst:
            return "first";
        case Place::kMiddle:
            return "middle";
        case Place::kLast:
            return "last";
        default:
            return "alone";  // -Werror=switch-default; every place is listed above
    }
}

bool PipelinePlaces::allows(Place place) const {
    switch (place) {
        case Place::kAlone:
            return alone;
        case Place::kFirst:
            return first;
        case Place::kMiddle:
            return middle;
        case Place::kLast:
            return last;
        default:
            return false;
    }
}

std::vector<std::string> PipelinePlaces::names() const {
    std::vector<std::string> out;
    for (const Place place : {Place::kAlone, Place::kFirst, Place::kMiddle, Place::kLast}) {
        if (allows(place)) out.emplace_back(place_name(place));
    }
    return out;
}

std::string PipelinePlaces::text() const {
    return join(names(), ", ");
}

}  // namespace bridle::policy
