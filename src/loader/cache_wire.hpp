// SPDX-License-Identifier: Apache-2.0
// The compiled policy's wire format, under cache_codec.cpp's structs: integers as LEB128
// varints, booleans and enums as small integers, strings and lists length-prefixed. Writer
// appends; Reader reads each value, keeps the first failure with its byte offset (failed(),
// error()), and bounds every count by the bytes left. Only cache_codec.cpp includes it.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridle::policy::cache::wire {

class Writer {
  public:
    std::string out;
    void u(std::uint64_t v) {
        do {
            const auto byte = static_cast<unsigned char>(v & 0x7f);
            v >>= 7;
            out.push_back(static_cast<char>(v != 0 ? byte | 0x80 : byte));
        } while (v != 0);
    }
    void i(std::int64_t v) { u(static_cast<std::uint64_t>(v)); }
    void b(bool v) { u(v ? 1 : 0); }
    void s(const std::string& v) {
        u(v.size());
        out += v;
    }
    void strings(const std::vector<std::string>& v) {
        u(v.size());
        for (const auto& x : v) s(x);
    }
    void map(const std::map<std::string, std::string>& v) {
        u(v.size());
        for (const auto& [k, x] : v) s(k), s(x);
    }
    template <class T>
    void opt(const std::optional<T>& v) {
        b(v.has_value());
        if (v) u(static_cast<std::uint64_t>(*v));
    }
};

class Reader {
  public:
    explicit Reader(std::string_view in, std::size_t pos = 0) : in_(in), pos_(pos) {}
    std::size_t pos() const { return pos_; }
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    bool at_end() const { return pos_ == in_.size(); }
    std::size_t left() const { return in_.size() - pos_; }
    void fail(const std::string& why) {
        if (error_.empty()) error_ = why + " at byte " + std::to_string(pos_);
    }

    // Most numbers take one byte (below 128): read here, inline at each call, which is most of
    // a load's work; the rest in u_longer.
    [[gnu::always_inline]] std::uint64_t u() {
        if (pos_ < in_.size() && static_cast<unsigned char>(in_[pos_]) < 0x80) {
            return static_cast<unsigned char>(in_[pos_++]);
        }
        return u_longer();
    }
    [[gnu::noinline]] std::uint64_t u_longer() {
        std::uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (pos_ >= in_.size()) {
                fail("truncated");
                return 0;
            }
            const auto byte = static_cast<unsigned char>(in_[pos_++]);
            if (shift == 63 && byte > 1) break;
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        fail("integer too long");
        return 0;
    }
    std::int64_t i() { return static_cast<std::int64_t>(u()); }
    [[gnu::always_inline]] bool b() { return below(2, "boolean") == 1; }
    // An enum's value: below `count`.
    [[gnu::always_inline]] std::uint64_t below(std::uint64_t count, const char* what) {
        const std::uint64_t v = u();
        if (v < count && !failed()) return v;
        if (v >= count) fail_bad(what, v);
        return 0;
    }
    // A count of items each at least one byte long: never more than the bytes left.
    [[gnu::always_inline]] std::size_t count() {
        const std::uint64_t n = u();
        if (n <= in_.size() - pos_ && !failed()) return static_cast<std::size_t>(n);
        if (n > in_.size() - pos_) fail_count(n);
        return 0;
    }
    // The failures, out of line.
    [[gnu::noinline]] void fail_bad(const char* what, std::uint64_t v) {
        fail(std::string("bad ") + what + " " + std::to_string(v));
    }
    [[gnu::noinline]] void fail_count(std::uint64_t n) {
        fail("count " + std::to_string(n) + " past the end");
    }
    std::string s() { return std::string(view()); }
    std::string_view view() {
        const std::size_t n = count();
        const std::string_view v = in_.substr(pos_, n);
        pos_ += n;
        return v;
    }
    std::vector<std::string> strings() {
        std::vector<std::string> v;
        strings(v);
        return v;
    }
    // Into what `v` holds: a rule read into the same Rule again allocates nothing new.
    void s(std::string& v) {
        const std::size_t n = count();
        v.assign(in_.substr(pos_, n));
        pos_ += n;
    }
    void strings(std::vector<std::string>& v) {
        list(v, [this](std::string& x) { s(x); });
    }
    // A list read into `v`, reusing its elements: grown one element at a time, so a count that
    // the bytes do not hold stops at the first bad byte instead of allocating for it.
    template <class T, class ReadOne>
    void list(std::vector<T>& v, ReadOne read_one) {
        const std::size_t n = count();
        std::size_t k = 0;
        for (; k < n && !failed(); ++k) {
            if (k == v.size()) v.emplace_back();
            read_one(v[k]);
        }
        v.resize(k);
    }
    std::map<std::string, std::string> map() {
        std::map<std::string, std::string> v;
        for (std::size_t n = count(); n > 0 && !failed(); --n) {
            std::string key = s();
            v[std::move(key)] = s();
        }
        return v;
    }
    template <class T>
    std::optional<T> opt() {
        if (!b()) return std::nullopt;
        const std::uint64_t v = u();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) fail("value too large");
        return static_cast<T>(v);
    }

  private:
    std::string_view in_;
    std::size_t pos_ = 0;
    std::string error_;
};

}  // namespace bridle::policy::cache::wire
