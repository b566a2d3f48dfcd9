// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or a reason, never half of each (C++20 has no std::expected).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bridle {

// Why something failed, where, in words an agent or an admin can act on.
struct Error {
    std::string message;   // what is wrong and, where possible, what to do instead
    std::string location;  // "path:line:col", "column N", or empty
    std::string full() const { return location.empty() ? message : location + ": " + message; }
};

struct Unit {};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

using Status = Result<Unit>;
inline Status ok_status() {
    return Unit{};
}

}  // namespace bridle
