// A monotonically increasing count (Prometheus type "counter"), and a family of them.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/telemetry/family.hpp"

namespace apiproxy::telemetry {

class Counter {
 public:
  // Relaxed: a count needs no ordering with anything else, only atomicity.
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

using CounterFamily = Family<Counter>;

// # HELP, # TYPE counter, and one sample per series.
void write(TextWriter& out, const CounterFamily& family);

}  // namespace apiproxy::telemetry
