#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "common/error.hpp"

namespace shoal {

// Value-or-Error at module boundaries (std::expected needs -std=c++23 on g++ 12).
template <class T>
class [[nodiscard]] Result {
public:
    // Default state is an error, so that an unset Result never reads as success
    // (Asio's co_spawn with use_future needs a default constructor).
    Result() : v_(Error{ErrorCode::kInternal, "no result"}) {}
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    const Error& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace shoal
