#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace shoal::sim {

// Virtual time in microseconds.
using SimTime = std::int64_t;

// Discrete-event queue: earliest time first, ties in insertion order, so a run depends only on
// its seed and never on heap internals.
template <class Event>
class EventQueue {
public:
    void Push(SimTime at, Event event) {
        heap_.push_back(Entry{at, next_seq_++, std::move(event)});
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }

    bool Empty() const { return heap_.empty(); }
    std::size_t Size() const { return heap_.size(); }
    // Only when !Empty().
    SimTime NextTime() const { return heap_.front().at; }

    // Only when !Empty().
    std::pair<SimTime, Event> Pop() {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        Entry top = std::move(heap_.back());
        heap_.pop_back();
        return {top.at, std::move(top.event)};
    }

private:
    struct Entry {
        SimTime at;
        std::uint64_t seq;
        Event event;
    };
    // std::*_heap builds a max-heap; "later" as "less" puts the earliest entry on top.
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
    };

    std::vector<Entry> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace shoal::sim
