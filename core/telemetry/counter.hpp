// A monotonically increasing count (Prometheus type "counter"), and a family of them; and
// its kin for amounts that are not whole numbers (money).
#pragma once

#include <atomic>
#include <cmath>
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

// A counter of a real amount. A counter never goes down, and one NaN or infinity would stay
// in it for the life of the process: only finite amounts above 0 are added.
class AmountCounter {
 public:
  void add(double amount) {
    if (std::isfinite(amount) && amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Token counts of one label set, both directions in one cell: a request records both with
// one lookup of its labels.
struct TokenCounters {
  Counter prompt;
  Counter completion;
};

using CounterFamily = Family<Counter>;
using AmountCounterFamily = Family<AmountCounter>;
using TokenCounterFamily = Family<TokenCounters>;

// # HELP, # TYPE counter, and one sample per series.
void write(TextWriter& out, const CounterFamily& family);
void write(TextWriter& out, const AmountCounterFamily& family);
// The same with two samples per series, told apart by a first label `direction` (prompt,
// completion) that is not among the family's label names.
void write(TextWriter& out, const TokenCounterFamily& family);

}  // namespace apiproxy::telemetry
