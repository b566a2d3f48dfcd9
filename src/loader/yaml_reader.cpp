// SPDX-License-Identifier: Apache-2.0
// The reader's primitives (yaml_reader.hpp): a mapping, a list, a string, a number, a duration
// or a size out of a yaml-cpp node, each type error reported at its line and column, and the
// collection of those errors in file order.
#include "loader/yaml_reader.hpp"

#include <algorithm>

#include "loader/lexical.hpp"

namespace bridle::policy::read {
namespace {

constexpr std::size_t kMaxErrorsPerFile = 200;

}  // namespace

std::string location(const std::string& file, const YAML::Mark& mark) {
    if (mark.is_null()) return file;
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

const Entry* find(const Entries& entries, std::string_view key) {
    for (const Entry& entry : entries) {
        if (entry.key == key) return &entry;
    }
    return nullptr;
}

void PolicyReader::fail(const YAML::Mark& mark, std::string message) {
    // A file of garbage would otherwise bury the first, useful errors under thousands.
    if (found_.size() >= kMaxErrorsPerFile) {
        ++dropped_;
        return;
    }
    found_.emplace_back(mark, std::move(message));
}

void PolicyReader::report_to(std::vector<Error>& errors) {
    std::stable_sort(found_.begin(), found_.end(), [](const auto& a, const auto& b) {
        return a.first.line != b.first.line ? a.first.line < b.first.line
                                            : a.first.column < b.first.column;
    });
    for (auto& [mark, message] : found_)
        errors.push_back({std::move(message), location(file_, mark)});
    if (dropped_ > 0) {
        errors.push_back({"too many errors; " + std::to_string(dropped_) +
                              " more not shown: fix the ones above first",
                          file_});
    }
    found_.clear();
}

void PolicyReader::fail_type(const Field& field, std::string_view what, std::string_view expected) {
    std::string got;
    switch (field.node.Type()) {
        case YAML::NodeType::Map:
            got = "not a mapping";
            break;
        case YAML::NodeType::Sequence:
            got = "not a list";
            break;
        case YAML::NodeType::Scalar:
            got = "not " + quoted(field.node.Scalar());
            break;
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
        default:
            got = "but has no value";
            break;
    }
    fail(field.mark, std::string(what) + " must be " + std::string(expected) + ", " + got);
}

// The entries of a mapping in file order. yaml-cpp keeps a repeated key as a second entry
// (it never merges or drops one), so duplicates are found here and reported, not
// silently resolved (yaml-cpp issues #60, #651).
std::optional<Entries> PolicyReader::mapping(const Field& field, std::string_view what) {
    if (!field.node.IsMap()) {
        fail_type(field, what, "a mapping");
        return std::nullopt;
    }
    Entries entries;
    std::map<std::string, YAML::Mark> first_seen;
    for (YAML::const_iterator it = field.node.begin(); it != field.node.end(); ++it) {
        const YAML::Node key = it->first;  // copies: it-> points into a temporary proxy
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            fail(key.Mark(), "a key in " + std::string(what) + " must be a plain string");
            continue;
        }
        const auto [first, inserted] = first_seen.emplace(key.Scalar(), key.Mark());
        if (!inserted) {
            fail(key.Mark(), "duplicate key " + quoted(key.Scalar()) + " in " + std::string(what) +
                                 " (first at line " + std::to_string(first->second.line + 1) +
                                 ", column " + std::to_string(first->second.column + 1) + ")");
            continue;
        }
        const bool has_mark = !value.IsNull() && !value.Mark().is_null();
        entries.push_back(
            {key.Scalar(), key.Mark(), {value, has_mark ? value.Mark() : key.Mark()}});
    }
    return entries;
}

void PolicyReader::reject_unknown(const Entries& entries,
                                  std::initializer_list<std::string_view> allowed,
                                  std::string_view what) {
    for (const Entry& entry : entries) {
        if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
        fail(entry.key_mark, "unknown key " + quoted(entry.key) + " in " + std::string(what) +
                                 " (allowed: " + join(allowed) + ")");
    }
}

std::optional<std::vector<Field>> PolicyReader::list(const Field& field, std::string_view what) {
    if (!field.node.IsSequence()) {
        fail_type(field, what, "a list");
        return std::nullopt;
    }
    std::vector<Field> items;
    for (YAML::const_iterator it = field.node.begin(); it != field.node.end(); ++it) {
        const YAML::Node item = *it;
        const bool has_mark = !item.IsNull() && !item.Mark().is_null();
        items.push_back({item, has_mark ? item.Mark() : field.mark});
    }
    return items;
}

std::optional<std::string> PolicyReader::text(const Field& field, std::string_view what) {
    if (!field.node.IsScalar()) {
        fail_type(field, what, "a string");
        return std::nullopt;
    }
    const std::string& value = field.node.Scalar();
    if (std::optional<std::string> problem = text_problem(value)) {
        fail(field.mark, std::string(what) + " contains " + *problem);
        return std::nullopt;
    }
    return value;
}

// Only true and false: YAML 1.1's yes/no/on/off are refused, quoting does not matter.
std::optional<bool> PolicyReader::boolean(const Field& field, std::string_view what) {
    if (field.node.IsScalar() && field.node.Scalar() == "true") return true;
    if (field.node.IsScalar() && field.node.Scalar() == "false") return false;
    fail_type(field, what, "true or false");
    return std::nullopt;
}

std::optional<std::int64_t> PolicyReader::integer(const Field& field, std::string_view what) {
    std::optional<std::int64_t> value;
    if (field.node.IsScalar()) value = parse_integer(field.node.Scalar());
    if (!value) fail_type(field, what, "a decimal integer no larger than 2^53");
    return value;
}

std::optional<std::chrono::milliseconds> PolicyReader::duration(const Field& field,
                                                                std::string_view what) {
    static const std::map<std::string_view, std::uint64_t, std::less<>> kUnits = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
    const Quantity q = field.node.IsScalar() ? split_quantity(field.node.Scalar()) : Quantity{};
    const auto unit = kUnits.find(q.unit);
    if (!q.number || unit == kUnits.end()) {
        fail_type(field, what, "a duration: a whole number and a unit ms, s, m or h (500ms, 10s)");
        return std::nullopt;
    }
    constexpr std::uint64_t kMaxMs = 24 * 3'600'000;
    if (*q.number == 0 || *q.number > kMaxMs / unit->second) {
        fail(field.mark, std::string(what) + " must be between 1ms and 24h, not " +
                             quoted(field.node.Scalar()));
        return std::nullopt;
    }
    return std::chrono::milliseconds(*q.number * unit->second);
}

std::optional<std::uint64_t> PolicyReader::size(const Field& field, std::string_view what,
                                                std::uint64_t max_bytes) {
    static const std::map<std::string_view, std::uint64_t, std::less<>> kUnits = {
        {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024}};
    const Quantity q = field.node.IsScalar() ? split_quantity(field.node.Scalar()) : Quantity{};
    const auto unit = kUnits.find(q.unit);
    if (!q.number || unit == kUnits.end()) {
        fail_type(field, what, "a size: a whole number and a unit B, KiB, MiB or GiB (64KiB)");
        return std::nullopt;
    }
    if (*q.number == 0 || *q.number > max_bytes / unit->second) {
        fail(field.mark, std::string(what) + " must be between 1B and " +
                             std::to_string(max_bytes >> 30) + "GiB, not " +
                             quoted(field.node.Scalar()));
        return std::nullopt;
    }
    return *q.number * unit->second;
}

std::optional<std::string> PolicyReader::normal_path(const Field& field, std::string_view what) {
    std::optional<std::string> path = text(field, what);
    if (path && !is_normal_absolute_path(*path)) {
        fail(field.mark, std::string(what) + " must be an absolute path without ., .., // or " +
                             "a trailing /, not " + quoted(*path));
        return std::nullopt;
    }
    return path;
}

}  // namespace bridle::policy::read
