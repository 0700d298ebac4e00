#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace shoal::overlay {

// Identity of an agent in the overlay. A strong type so an id is never confused with an address.
// It carries its hash: views compare ids all the time, and unequal ids then differ at once.
class PeerId {
public:
    PeerId() = default;
    explicit PeerId(std::string value) : value_(std::move(value)), hash_(std::hash<std::string>{}(value_)) {}

    const std::string& str() const { return value_; }
    bool empty() const { return value_.empty(); }
    std::size_t Hash() const { return hash_; }

    friend bool operator==(const PeerId& a, const PeerId& b) { return a.hash_ == b.hash_ && a.value_ == b.value_; }
    friend std::strong_ordering operator<=>(const PeerId& a, const PeerId& b) { return a.value_ <=> b.value_; }
    friend std::ostream& operator<<(std::ostream& os, const PeerId& id) { return os << id.value_; }

private:
    std::string value_;
    std::size_t hash_ = std::hash<std::string>{}(std::string());
};

// One entry of a Cyclon view: a neighbour's id, where to reach it, and how many shuffle cycles
// ago its owner created this entry (the paper's "age").
struct PeerDescriptor {
    PeerId id;
    std::string address;
    std::uint32_t age = 0;

    friend bool operator==(const PeerDescriptor&, const PeerDescriptor&) = default;
};

}  // namespace shoal::overlay

template <>
struct std::hash<shoal::overlay::PeerId> {
    std::size_t operator()(const shoal::overlay::PeerId& id) const noexcept { return id.Hash(); }
};
