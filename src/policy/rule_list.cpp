// SPDX-License-Identifier: Apache-2.0
// Policy::rules (rule_list.hpp). A list is in one of two states: it has a source, and its slots
// fill as rules are read; or it has none, and every slot is filled. Either way it indexes
// itself by name from the rules' heads. Any write leaves the second state and drops the index,
// so the index can never describe rules that changed.
#include "policy/rule_list.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "policy/model.hpp"

namespace bridle::policy {

RuleList::RuleList(std::initializer_list<Rule> rules) {
    *this = rules;
}

RuleList::RuleList(std::shared_ptr<const RuleSource> source)
    : slots_(source->size()), source_(std::move(source)) {}

RuleList::RuleList(const RuleList& other) : source_(other.source_) {
    slots_.reserve(other.slots_.size());
    for (const auto& slot : other.slots_) {
        slots_.push_back(slot ? std::make_unique<Rule>(*slot) : nullptr);
    }
}

RuleList& RuleList::operator=(const RuleList& other) {
    if (this != &other) *this = RuleList(other);
    return *this;
}

RuleList::~RuleList() = default;

const Rule& RuleList::get(std::size_t i) const {
    std::unique_ptr<Rule>& slot = slots_[i];  // _GLIBCXX_ASSERTIONS checks i
    if (!slot) slot = std::make_unique<Rule>(source_->decode(i));
    return *slot;
}

const Rule& RuleList::at(std::size_t i) const {
    if (i >= size()) throw std::out_of_range("RuleList::at " + std::to_string(i));
    return get(i);
}

Rule& RuleList::at(std::size_t i) {
    if (i >= size()) throw std::out_of_range("RuleList::at " + std::to_string(i));
    return own(i);
}

void RuleList::decode_all_and_drop_source() {
    if (!source_) return;
    for (std::size_t i = 0; i < slots_.size(); ++i) get(i);
    source_.reset();
}

Rule& RuleList::own(std::size_t i) {
    decode_all_and_drop_source();
    index_fresh_ = false;
    return *slots_[i];
}

std::vector<std::size_t> RuleList::named(std::string_view name) const {
    if (!index_fresh_) {
        index_.clear();
        index_.reserve(slots_.size());
        for (std::size_t i = 0; i < slots_.size(); ++i) index_.emplace_back(head(i).name, i);
        std::sort(index_.begin(), index_.end());
        index_fresh_ = true;
    }
    std::vector<std::size_t> found;
    auto it = std::lower_bound(index_.begin(), index_.end(), std::pair(name, std::size_t{0}));
    for (; it != index_.end() && it->first == name; ++it) found.push_back(it->second);
    return found;
}

RuleHead RuleList::head(std::size_t i) const {
    const Rule* rule = slots_[i].get();
    return rule != nullptr ? RuleHead{rule->id, rule->command, rule->name} : source_->head(i);
}

const Rule* RuleList::with_id(std::string_view id) const {
    for (std::size_t i = 0; i < size(); ++i) {
        if (head(i).id == id) return &get(i);
    }
    return nullptr;
}

std::size_t RuleList::decoded() const {
    return static_cast<std::size_t>(std::count_if(
        slots_.begin(), slots_.end(), [](const auto& slot) { return slot != nullptr; }));
}

void RuleList::push_back(Rule rule) {
    decode_all_and_drop_source();
    index_fresh_ = false;
    slots_.push_back(std::make_unique<Rule>(std::move(rule)));
}

void RuleList::reserve(std::size_t n) {
    slots_.reserve(n);
}

void RuleList::clear() {
    source_.reset();
    index_fresh_ = false;
    slots_.clear();
}

RuleList& RuleList::operator=(std::initializer_list<Rule> rules) {
    clear();
    for (const Rule& rule : rules) slots_.push_back(std::make_unique<Rule>(rule));
    return *this;
}

}  // namespace bridle::policy
