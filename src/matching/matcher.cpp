// SPDX-License-Identifier: Apache-2.0
// Matching: every token of the request must be consumed by one rule, or the request is denied.
// Here the decision: the candidate rules, first match wins, and a denial's reason and usages.
#include "matching/matcher.hpp"

#include <algorithm>
#include <cstddef>
#include <map>

#include "matching/attempt.hpp"
#include "matching/value_checks.hpp"

namespace bridle::matching {
namespace {

using detail::Attempt;
using detail::Mode;
using detail::q;
using detail::try_rule;
using policy::Rule;

std::string basename_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Remembers what the resolver said about each path during one decision, so that trying the
// deciding rule again to explain it sees exactly the file system the verdict was based on.
class MemoResolver final : public PathResolver {
  public:
    explicit MemoResolver(const PathResolver& inner) : inner_(inner) {}
    std::optional<Resolved> resolve(const std::string& path, std::string& why) const override {
        auto it = memo_.find(path);
        if (it == memo_.end()) {
            Entry entry;
            entry.resolved = inner_.resolve(path, entry.why);
            it = memo_.emplace(path, std::move(entry)).first;
        }
        if (!it->second.resolved) why = it->second.why;
        return it->second.resolved;
    }
    // Listed once per decision too: the verdict and its explanation see the same names.
    std::optional<std::vector<std::string>> list(const std::string& dir,
                                                 std::string& why) const override {
        auto it = lists_.find(dir);
        if (it == lists_.end()) {
            ListEntry entry;
            entry.names = inner_.list(dir, entry.why);
            it = lists_.emplace(dir, std::move(entry)).first;
        }
        if (!it->second.names) why = it->second.why;
        return it->second.names;
    }

  private:
    struct Entry {
        std::optional<Resolved> resolved;
        std::string why;
    };
    struct ListEntry {
        std::optional<std::vector<std::string>> names;
        std::string why;
    };
    const PathResolver& inner_;
    mutable std::map<std::string, Entry> memo_;
    mutable std::map<std::string, ListEntry> lists_;
};

}  // namespace

Decision decide(const policy::Policy& policy, const std::vector<std::string>& argv,
                const std::string& key, const PathResolver& resolver,
                const std::vector<bool>* globbed, policy::Place place) {
    Decision d;
    if (argv.empty() || argv[0].empty()) {
        d.reason = "empty command";
        return d;
    }
    const std::string& name = argv[0];

    std::vector<const Rule*> candidates;
    const Rule* elsewhere = nullptr;  // the first rule for the program that takes other places
    const auto consider = [&](const Rule& rule) {
        if (rule.name != name || !rule.allows_key(key)) return;
        if (rule.pipeline.allows(place)) {
            candidates.push_back(&rule);
        } else if (elsewhere == nullptr) {
            elsewhere = &rule;
        }
    };
    for (const std::size_t i : policy.rules.named(name)) consider(policy.rules[i]);

    if (candidates.empty() && elsewhere != nullptr) {
        d.reason =
            "rule " + elsewhere->id + " may not run " +
            (place == policy::Place::kAlone
                 ? std::string("on its own")
                 : std::string("as the ") + policy::place_name(place) + " stage of a pipeline") +
            " (its pipeline: lists " + elsewhere->pipeline.text() + ")";
        d.nearest.push_back(elsewhere->synopsis());
        return d;
    }
    if (candidates.empty()) {
        // A path where a name belongs: point at the name the policy knows the program by.
        const bool is_path = name.find('/') != std::string::npos;
        if (is_path) {
            const std::string base = basename_of(name);
            for (std::size_t i = 0; i < policy.rules.size(); ++i) {
                if (d.nearest.size() == kMaxNearest) break;
                const policy::RuleHead head = policy.rules.head(i);  // decodes nothing
                if ((head.command == name || head.name == base) &&
                    policy.rules[i].allows_key(key)) {
                    d.nearest.push_back(policy.rules[i].synopsis());
                }
            }
        }
        if (is_path && !d.nearest.empty()) {
            d.reason = "type the program by its name, not a path: " + q(basename_of(name));
        } else if (name.find('=') != std::string::npos) {
            d.reason = "environment assignments are not accepted (" + q(name) +
                       "): the command's environment comes from the policy";
        } else {
            d.reason = "no rule allows the program " + q(name);
        }
        return d;
    }

    // Rules with approval first: a wider rule without approval (the shipped policy's) never
    // lets a request past a rule that asks for one. Otherwise policy order.
    std::stable_partition(candidates.begin(), candidates.end(),
                          [](const Rule* rule) { return rule->approval.has_value(); });

    // First match wins. Every candidate is tried for its verdict only; the one decide shows is
    // tried again in full (see Mode), over the same resolutions (MemoResolver).
    const MemoResolver memo(resolver);
    std::vector<std::size_t> consumed;
    consumed.reserve(candidates.size());
    std::size_t best = 0;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
        const Attempt attempt = try_rule(*candidates[c], argv, memo, Mode::kVerdict, globbed);
        if (attempt.matched) {
            Attempt full = try_rule(*candidates[c], argv, memo, Mode::kFull, globbed);
            if (!full.matched) break;  // cannot happen (same rule, same resolutions): deny
            d.verdict = Verdict::kAllow;
            d.rule = candidates[c];
            d.bindings = std::move(full.bindings);
            d.exec_argv = std::move(full.exec_argv);
            d.fd_paths = std::move(full.fd_paths);
            return d;
        }
        consumed.push_back(attempt.consumed);
        if (attempt.consumed > consumed[best]) best = c;  // the first that got furthest
    }
    // The reason of the rule that got furthest, tried again to put it into words.
    if (best < consumed.size())
        d.reason = try_rule(*candidates[best], argv, memo, Mode::kFull, globbed).why;
    if (d.reason.empty()) d.reason = "no rule for " + q(name) + " accepts these arguments";

    // Usages: every candidate when there are few; else the kMaxNearest that got furthest
    // (ties: the earlier rule), listed in policy order.
    std::vector<std::size_t> shown(candidates.size());
    for (std::size_t c = 0; c < shown.size(); ++c) shown[c] = c;
    if (shown.size() > kMaxNearest && consumed.size() == candidates.size()) {
        std::partial_sort(shown.begin(), shown.begin() + kMaxNearest, shown.end(),
                          [&](std::size_t x, std::size_t y) {
                              return consumed[x] != consumed[y] ? consumed[x] > consumed[y] : x < y;
                          });
        shown.resize(kMaxNearest);
        std::sort(shown.begin(), shown.end());
    }
    for (const std::size_t c : shown) d.nearest.push_back(candidates[c]->synopsis());
    return d;
}

std::vector<std::string> allowed_synopses(const policy::Policy& policy, const std::string& key) {
    std::vector<std::string> out;
    for (const Rule& rule : policy.rules) {
        if (rule.allows_key(key)) out.push_back(rule.synopsis());
    }
    return out;
}

}  // namespace bridle::matching
