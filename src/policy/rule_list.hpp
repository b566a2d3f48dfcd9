// SPDX-License-Identifier: Apache-2.0
// Policy::rules: the rules in file order, and their index by name. Read like a std::vector;
// a list made from the compiled policy cache decodes each rule only when it is first read, so a
// request to a 10,000-rule policy decodes the rules for its program and no others.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace bridle::policy {

struct Rule;

// What identifies a rule, readable without decoding the rest of it: its id, command and name.
struct RuleHead {
    std::string_view id, command, name;
};

// Where a lazily decoded list's rules come from (loader/cache_codec.cpp). It checked every
// rule's bytes when it was made, so decode() cannot fail.
class RuleSource {
  public:
    virtual ~RuleSource() = default;
    virtual std::size_t size() const = 0;
    virtual Rule decode(std::size_t i) const = 0;
    virtual RuleHead head(std::size_t i) const = 0;
};

class RuleList {
    template <bool kConst>
    class Iterator;

  public:
    using value_type = Rule;
    using size_type = std::size_t;
    using iterator = Iterator<false>;
    using const_iterator = Iterator<true>;

    RuleList() = default;
    RuleList(std::initializer_list<Rule> rules);
    explicit RuleList(std::shared_ptr<const RuleSource> source);
    RuleList(const RuleList& other);
    RuleList& operator=(const RuleList& other);
    RuleList(RuleList&&) noexcept = default;
    RuleList& operator=(RuleList&&) noexcept = default;
    ~RuleList();

    std::size_t size() const { return slots_.size(); }
    bool empty() const { return slots_.empty(); }

    // Reading decodes the rule read, and only that one. A list is read by one thread at a time,
    // as a std::vector being written would be.
    const Rule& operator[](std::size_t i) const { return get(i); }
    const Rule& at(std::size_t i) const;
    const Rule& front() const { return get(0); }
    const Rule& back() const { return get(size() - 1); }
    const_iterator begin() const;
    const_iterator end() const;

    // The indices of the rules named `name`, in policy order: what decide() looks candidates up
    // by. Decodes nothing: the index is built from the rules' heads on first use.
    std::vector<std::size_t> named(std::string_view name) const;

    // Rule i's id, command and name, without decoding it: valid until the list is written.
    RuleHead head(std::size_t i) const;
    // The rule whose id is `id` (ids are unique), or nullptr. Decodes that rule only.
    const Rule* with_id(std::string_view id) const;

    // How many rules have been decoded so far (all of them when the list has no source).
    std::size_t decoded() const;

    // Writing decodes every rule first: the list is then an ordinary one, indexed anew.
    Rule& operator[](std::size_t i) { return own(i); }
    Rule& at(std::size_t i);
    Rule& front() { return own(0); }
    Rule& back() { return own(size() - 1); }
    iterator begin();
    iterator end();
    void push_back(Rule rule);
    void reserve(std::size_t n);
    void clear();
    RuleList& operator=(std::initializer_list<Rule> rules);

  private:
    const Rule& get(std::size_t i) const;
    Rule& own(std::size_t i);
    void decode_all_and_drop_source();

    mutable std::vector<std::unique_ptr<Rule>> slots_;  // null: not decoded yet
    std::shared_ptr<const RuleSource> source_;          // null: every slot is filled
    // (name, index), sorted, the names views of head(): rebuilt after any write.
    mutable std::vector<std::pair<std::string_view, std::size_t>> index_;
    mutable bool index_fresh_ = false;
};

// A random-access iterator over a list by index: dereferencing decodes the rule reached.
template <bool kConst>
class RuleList::Iterator {
    using List = std::conditional_t<kConst, const RuleList, RuleList>;

  public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Rule;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<kConst, const Rule*, Rule*>;
    using reference = std::conditional_t<kConst, const Rule&, Rule&>;

    Iterator() = default;
    Iterator(List* list, std::size_t i) : list_(list), i_(i) {}
    operator Iterator<true>() const { return {list_, i_}; }

    reference operator*() const { return (*list_)[i_]; }
    pointer operator->() const { return &(*list_)[i_]; }
    reference operator[](difference_type n) const { return *(*this + n); }
    Iterator& operator++() { return ++i_, *this; }
    Iterator operator++(int) { return {list_, i_++}; }
    Iterator& operator--() { return --i_, *this; }
    Iterator operator--(int) { return {list_, i_--}; }
    Iterator& operator+=(difference_type n) { return i_ += static_cast<std::size_t>(n), *this; }
    Iterator& operator-=(difference_type n) { return i_ -= static_cast<std::size_t>(n), *this; }
    friend Iterator operator+(Iterator it, difference_type n) { return it += n; }
    friend Iterator operator+(difference_type n, Iterator it) { return it += n; }
    friend Iterator operator-(Iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const Iterator& a, const Iterator& b) {
        return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const Iterator& a, const Iterator& b) { return a.i_ <=> b.i_; }

  private:
    List* list_ = nullptr;
    std::size_t i_ = 0;
};

inline RuleList::const_iterator RuleList::begin() const {
    return {this, 0};
}
inline RuleList::const_iterator RuleList::end() const {
    return {this, size()};
}
inline RuleList::iterator RuleList::begin() {
    return {this, 0};
}
inline RuleList::iterator RuleList::end() {
    return {this, size()};
}

}  // namespace bridle::policy
